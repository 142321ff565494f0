/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for testing /metrics:
 *
 *   # HELP <name> <docstring>          docstring escapes: \\ and \n
 *   # TYPE <name> counter|gauge|histogram|summary|untyped
 *   <name>[{<label>="<value>",...}] <value> [<timestamp ms>]
 *                                      label value escapes: \\ \" \n
 *
 * It rejects what Prometheus would reject or silently mangle: bad names, unknown escapes,
 * unterminated label values, duplicate label names, a TYPE after the family's samples or twice,
 * a family split in two runs, duplicate series, a value that is not a float, and a missing
 * final newline.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs: number | null;
}

export interface Family {
  name: string;
  type: string;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN)$/;

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseValue(text: string, line: number): number {
  if (!FLOAT.test(text)) throw new ExpositionError(line, `not a float: ${JSON.stringify(text)}`);
  if (/^[+-]?[Ii]nf$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new ExpositionError(line, `bad escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` starting at `text[p] === '{'`; returns the labels and the index after '}'. */
function parseLabels(text: string, p: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  p++; // '{'
  for (;;) {
    if (text[p] === '}') return [labels, p + 1];
    const eq = text.indexOf('=', p);
    if (eq < 0) throw new ExpositionError(line, 'label without =');
    const name = text.slice(p, eq).trim();
    if (!LABEL_NAME.test(name)) throw new ExpositionError(line, `bad label name ${JSON.stringify(name)}`);
    if (name.startsWith('__')) throw new ExpositionError(line, `reserved label name ${name}`);
    if (Object.prototype.hasOwnProperty.call(labels, name)) throw new ExpositionError(line, `duplicate label ${name}`);
    p = eq + 1;
    if (text[p] !== '"') throw new ExpositionError(line, `label ${name}: value not quoted`);
    p++;
    let value = '';
    for (;;) {
      const c = text[p];
      if (c === undefined) throw new ExpositionError(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[p + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new ExpositionError(line, `label ${name}: bad escape \\${e ?? ''}`);
        p += 2;
        continue;
      }
      value += c;
      p++;
    }
    labels[name] = value;
    p++; // closing quote
    if (text[p] === ',') p++;
    else if (text[p] !== '}') throw new ExpositionError(line, `expected , or } after label ${name}`);
  }
}

/** Parses a whole exposition; throws ExpositionError naming the line. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError(0, 'the exposition does not end with a newline');
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  let current: string | null = null;
  const closed = new Set<string>();
  const typed = new Set<string>();
  const family = (name: string, line: number): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: null, samples: [] };
      families.set(name, f);
    }
    if (current !== name) {
      if (current !== null) closed.add(current);
      if (closed.has(name)) throw new ExpositionError(line, `family ${name} is split into two runs`);
      current = name;
    }
    return f;
  };
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name ${JSON.stringify(name)}`);
      const f = family(name, line);
      if (kind === 'HELP') {
        if (f.help !== null) throw new ExpositionError(line, `second HELP for ${name}`);
        f.help = unescapeHelp(rest, line);
      } else {
        if (f.samples.length > 0) throw new ExpositionError(line, `TYPE of ${name} after its samples`);
        if (typed.has(name)) throw new ExpositionError(line, `second TYPE for ${name}`);
        if (!TYPES.has(rest.trim())) throw new ExpositionError(line, `unknown type ${JSON.stringify(rest)}`);
        f.type = rest.trim();
        typed.add(name);
      }
      return;
    }
    const nameEnd = raw.search(/[{\s]/);
    if (nameEnd <= 0) throw new ExpositionError(line, `not a sample: ${JSON.stringify(raw)}`);
    const name = raw.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let p = nameEnd;
    if (raw[p] === '{') [labels, p] = parseLabels(raw, p, line);
    if (raw[p] !== ' ' && raw[p] !== '\t') throw new ExpositionError(line, 'no whitespace before the value');
    const fields = raw.slice(p).trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new ExpositionError(line, `expected value [timestamp], got ${JSON.stringify(raw.slice(p))}`);
    const value = parseValue(fields[0]!, line);
    let timestampMs: number | null = null;
    if (fields[1] !== undefined) {
      if (!/^-?\d+$/.test(fields[1])) throw new ExpositionError(line, `bad timestamp ${fields[1]}`);
      timestampMs = Number(fields[1]);
    }
    const key = `${name}{${Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seenSeries.has(key)) throw new ExpositionError(line, `duplicate series ${key}`);
    seenSeries.add(key);
    family(name, line).samples.push({ name, labels, value, timestampMs });
  });
  return families;
}

/** The one sample of `family` whose labels include `match`; throws if none or several. */
export function sampleOf(families: Map<string, Family>, family: string, match: Record<string, string> = {}): Sample {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family}`);
  const hits = f.samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${family} match ${JSON.stringify(match)}`);
  return hits[0]!;
}
