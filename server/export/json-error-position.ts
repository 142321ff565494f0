/** Where JSON that JSON.parse rejected goes wrong, for error messages with a position. */

/** JSON's structural and whitespace characters (UTF-16 code units), shared with chrome-json-scan.ts. */
export const SP = 0x20;
export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;

/** "'x'", "the end of the file"... for messages. */
export function describeAt(text: string, i: number): string {
  if (i >= text.length) return 'the end of the file';
  const cp = text.codePointAt(i)!;
  if (cp < 0x20 || cp === 0x7f) return `control character U+${cp.toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${String.fromCodePoint(cp)}'`;
}

/**
 * The first JSON error in `s` (RFC 8259): its offset and what was expected there. Only called
 * on text JSON.parse rejected, so speed does not matter; recursion depth is bounded by the
 * bracket depth of one event.
 */
export function findJsonError(s: string): { offset: number; message: string } {
  let i = 0;
  const n = s.length;
  class Bad {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const ws = () => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c !== SP && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
  };
  const str = () => {
    const open = i;
    i++;
    for (;;) {
      if (i >= n) throw new Bad(open, 'unterminated string');
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return;
      }
      if (c < 0x20) throw new Bad(i, `${describeAt(s, i)} inside a string (write it as an escape such as \\n or \\u00XX)`);
      if (c === BACKSLASH) {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) throw new Bad(i, 'bad \\u escape: it needs four hex digits');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Bad(i, `bad escape \\${e ?? ''} in a string`);
        i += 2;
        continue;
      }
      i++;
    }
  };
  const value = (depth: number): void => {
    ws();
    if (i >= n) throw new Bad(i, 'expected a value, found the end of the event');
    const c = s.charCodeAt(i);
    if (c === QUOTE) return str();
    if (c === LBRACE || c === LBRACKET) {
      if (depth > 512) throw new Bad(i, 'nested more than 512 levels deep');
      const close = c === LBRACE ? RBRACE : RBRACKET;
      const what = c === LBRACE ? "'}'" : "']'";
      i++;
      ws();
      if (s.charCodeAt(i) === close) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (c === LBRACE) {
          if (s.charCodeAt(i) !== QUOTE) throw new Bad(i, `expected a property name in double quotes, found ${describeAt(s, i)}`);
          str();
          ws();
          if (s.charCodeAt(i) !== COLON) throw new Bad(i, `expected ':' after a property name, found ${describeAt(s, i)}`);
          i++;
        }
        value(depth + 1);
        ws();
        const d = s.charCodeAt(i);
        if (d === COMMA) {
          i++;
          ws();
          if (s.charCodeAt(i) === close) throw new Bad(i, `trailing comma before ${what}`);
          continue;
        }
        if (d === close) {
          i++;
          return;
        }
        throw new Bad(i, `expected ',' or ${what}, found ${describeAt(s, i)}`);
      }
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i, i + 400));
    if (m === null || m[0].length === 0) throw new Bad(i, `expected a value, found ${describeAt(s, i)}`);
    i += m[0].length;
    const next = s.charCodeAt(i);
    if (i < n && !(next === COMMA || next === RBRACE || next === RBRACKET || next === SP || next === LF || next === CR || next === TAB)) {
      throw new Bad(i, `unexpected ${describeAt(s, i)} after ${JSON.stringify(m[0])}`);
    }
  };
  try {
    value(0);
    ws();
    if (i < n) return { offset: i, message: `unexpected ${describeAt(s, i)} after the value` };
    return { offset: 0, message: 'invalid JSON' };
  } catch (err) {
    if (err instanceof Bad) return { offset: err.offset, message: err.message };
    throw err;
  }
}
