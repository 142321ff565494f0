import { cliOptions, parseCommandArgs } from '../cli-options.js';
import { compareSides, selectCompareRows } from '../query/compare-table.js';
import { parseSize } from '../serve.js';
import type { Session } from '../session/session.js';
import { SessionRegistry } from '../session/session-registry.js';
import { COMPARE_SORT_KEYS, isCompareSortKey } from '../../protocol/view/compare-sort.js';
import type { CompareRow } from '../../protocol/view/compare-types.js';
import { loadFileSession } from './load-file.js';

export const COMPARE_HELP = `Usage: zonescope compare A B [--json] [--fail-above PERCENT] [--zones NAME,...]
                         [--sort KEY] [--memory SIZE]

Compares two captures per zone name: A is the baseline, B the capture compared with it (pprof's
-diff_base). A and B are captures (.zscap), recorded Tracy streams (*.client.bin) or Chrome
Trace Event JSON files (.json, or gzip), told apart by their content. A zone's name is its
ZoneName override when it has one, else its source location's name.

Prints per name present in both: count, median (p50) and p99 of A and B and the change of p50
and p99 ((B - A) / A, in %), then the names found on one side only.

Options:
  --json              one JSON object instead: a, b (file, app, zones), failAbovePct, failed
                      (the names and figures past it), rows (per name: a, b and change of count,
                      totalNs, meanNs, medianNs, p99Ns; null on a side without the name)
  --fail-above PCT    exit with status 1 when the p50 or the p99 of any compared zone grew by
                      more than PCT percent from A to B (a CI regression gate)
  --zones NAME,...    compare and check only these zone names (repeatable); a name found in
                      neither capture is a usage error (a typo would otherwise pass silently)
  --sort KEY          row order (default median-pct): name, or FIGURE-SIDE with FIGURE count,
                      total, mean, median or p99 and SIDE a, b, change or pct; descending
                      (name: ascending)
  --memory SIZE       memory budget for both captures' stores (default 1GiB); a capture that
                      does not fit loses its oldest zones, and says so on stderr
  -h, --help          this text

median: the middle duration (the mean of the two middle ones for an even count); p99: the
ceil(0.99 x count)-th shortest (nearest rank). Both exact, as in the statistics panel.

Exit status:
  0  compared, and nothing grew past --fail-above (or it was not given)
  1  some zone's p50 or p99 grew past --fail-above
  2  usage error, a file that cannot be read or is not a capture, or a --zones name in neither
`;

export interface CompareArgs {
  a: string;
  b: string;
  json: boolean;
  failAbovePct: number | null;
  zones: string[] | null;
  sort: string;
  memoryBytes: number;
}

export function parseCompareArgs(args: string[]): CompareArgs | 'help' {
  const files: string[] = [];
  let json = false;
  let failAbovePct: number | null = null;
  let zones: string[] | null = null;
  let sort = 'median-pct';
  let memoryBytes = 2 ** 30;
  for (const { arg, flag, value } of cliOptions(args)) {
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--json':
        json = true;
        break;
      case '--fail-above': {
        const v = value();
        const n = Number(v.replace(/%$/, ''));
        if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new TypeError(`--fail-above ${v}: a percentage >= 0 expected (e.g. 10)`);
        failAbovePct = n;
        break;
      }
      case '--zones':
        zones = [...(zones ?? []), ...value().split(',').map((z) => z.trim()).filter((z) => z !== '')];
        break;
      case '--sort':
        sort = value();
        if (!isCompareSortKey(sort)) throw new TypeError(`--sort ${sort}: one of ${COMPARE_SORT_KEYS.join(', ')}`);
        break;
      case '--memory':
        memoryBytes = parseSize(value());
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new TypeError(`unknown option ${arg}`);
        files.push(arg);
    }
  }
  if (files.length !== 2) throw new TypeError(`two files expected (A, the baseline, then B), got ${files.length}`);
  return { a: files[0]!, b: files[1]!, json, failAbovePct, zones, sort, memoryBytes };
}


/** "12.3 us": durations for the table (the JSON has exact ns). */
export function formatNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)} ns`;
  if (abs < 1e6) return `${(ns / 1e3).toFixed(abs < 1e4 ? 2 : 1)} us`;
  if (abs < 1e9) return `${(ns / 1e6).toFixed(abs < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

export function formatPct(pct: number | null): string {
  if (pct === null) return 'new';
  const s = Math.abs(pct) >= 100 ? pct.toFixed(0) : pct.toFixed(1);
  return `${pct > 0 ? '+' : ''}${s}%`;
}

interface Failure {
  name: string;
  figure: 'p50' | 'p99';
  aNs: number;
  bNs: number;
  /** null: A was 0 ns and B is not */
  pct: number | null;
}

/** The figures of `rows` past `pct` (a null percentage, growth from 0 ns, counts as past any). */
export function failuresOf(rows: readonly CompareRow[], pct: number): Failure[] {
  const out: Failure[] = [];
  for (const r of rows) {
    if (!r.a || !r.b || !r.change) continue;
    for (const [figure, key] of [['p50', 'medianNs'], ['p99', 'p99Ns']] as const) {
      const c = r.change[key].pct;
      if (c === null || c > pct) out.push({ name: r.name, figure, aNs: r.a[key], bNs: r.b[key], pct: c });
    }
  }
  return out;
}

function table(rows: readonly CompareRow[]): string {
  const head = ['name', 'count A', 'count B', 'p50 A', 'p50 B', 'p50 change', 'p99 A', 'p99 B', 'p99 change'];
  const lines = rows.map((r) => [r.name, r.a!.count.toLocaleString('en-US'), r.b!.count.toLocaleString('en-US'), formatNs(r.a!.medianNs), formatNs(r.b!.medianNs), formatPct(r.change!.medianNs.pct), formatNs(r.a!.p99Ns), formatNs(r.b!.p99Ns), formatPct(r.change!.p99Ns.pct)]);
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

/**
 * `zonescope compare A B`: per zone name, A's and B's p50 and p99 and their change.
 * @returns the exit status (0 compared, 1 a zone grew past --fail-above, 2 usage or unreadable input); never throws for bad input
 */
export async function runCompare(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const run = parseCommandArgs('compare', COMPARE_HELP, parseCompareArgs, args, out, err);
  if ('status' in run) return run.status;
  const o = run.args;
  const registry = new SessionRegistry({ memoryBytes: o.memoryBytes });
  const warn = (line: string) => err.write(`zonescope compare: ${line}\n`);
  try {
    const sa = await loadFileSession(registry, o.a, warn, 'comparing');
    if (typeof sa === 'string') return (warn(sa), 2);
    const sb = await loadFileSession(registry, o.b, warn, 'comparing');
    if (typeof sb === 'string') return (warn(sb), 2);
    const result = compareSides({ store: sa.store, range: {} }, { store: sb.store, range: {} });
    let rows = selectCompareRows(result.rows, { sort: o.sort }).rows;
    if (o.zones !== null) {
      const wanted = new Set(o.zones);
      const missing = o.zones.filter((z) => !rows.some((r) => r.name === z));
      if (missing.length > 0) return (warn(`--zones: ${missing.map((z) => JSON.stringify(z)).join(', ')} in neither capture`), 2);
      rows = rows.filter((r) => wanted.has(r.name));
    }
    const both = rows.filter((r) => r.change !== null);
    const failed = o.failAbovePct === null ? [] : failuresOf(both, o.failAbovePct);
    if (o.json) {
      const side = (file: string, s: Session, n: { zones: number; droppedZones: number }) => ({ file, app: s.welcome?.programName ?? null, zones: n.zones, droppedZones: n.droppedZones });
      out.write(`${JSON.stringify({ a: side(o.a, sa, result.a), b: side(o.b, sb, result.b), failAbovePct: o.failAbovePct, failed, rows }, null, 2)}\n`);
    } else {
      out.write(`A (baseline): ${o.a}: ${result.a.zones.toLocaleString('en-US')} zones\nB:            ${o.b}: ${result.b.zones.toLocaleString('en-US')} zones\n\n`);
      out.write(both.length > 0 ? `${table(both)}\n` : 'no zone name is in both captures\n');
      const onlyA = rows.filter((r) => r.b === null).map((r) => r.name);
      const onlyB = rows.filter((r) => r.a === null).map((r) => r.name);
      if (onlyA.length) out.write(`\nonly in A: ${onlyA.join(', ')}\n`);
      if (onlyB.length) out.write(`\nonly in B: ${onlyB.join(', ')}\n`);
      if (o.failAbovePct !== null) {
        out.write(
          failed.length === 0
            ? `\nok: no p50 or p99 grew by more than ${o.failAbovePct}%\n`
            : `\nFAIL: ${failed.length} figure${failed.length > 1 ? 's' : ''} grew by more than ${o.failAbovePct}%:\n${failed.map((f) => `  ${f.name} ${f.figure} ${formatNs(f.aNs)} -> ${formatNs(f.bNs)} (${formatPct(f.pct)})`).join('\n')}\n`,
        );
      }
    }
    return failed.length > 0 ? 1 : 0;
  } finally {
    registry.stopAll();
  }
}
