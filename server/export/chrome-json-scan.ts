/**
 * Reads the events of a Chrome Trace Event JSON text one at a time, without building the whole
 * document: the top level (the array form `[ev, ev, ...]` or the object form
 * `{"traceEvents": [...], "otherData": {...}, ...}`) is scanned by hand, each event object is
 * cut out by bracket matching and handed to JSON.parse, so a trace of millions of events never
 * exists as one array of objects. Other top-level keys are skipped without parsing, except the
 * few an importer reads (`otherData`, `displayTimeUnit`).
 *
 * Tolerated, as Chrome's own trace viewer tolerates them: a byte order mark, an event array that
 * is never closed (a trace written by a process that died: Chrome's format allows a missing
 * `]`), a trailing comma after the last event, a last event cut off by the end of the file
 * (dropped, and said in `partial`), and elements of the event array that are not objects (null,
 * numbers...: handed on as they are, for the importer to skip and count). Anything else that is
 * not JSON throws a ChromeJsonError with the line, column and byte offset of the first bad
 * character, as does a value nested deeper than MAX_JSON_DEPTH.
 */

import { BACKSLASH, COLON, COMMA, CR, describeAt, findJsonError, LBRACE, LBRACKET, LF, QUOTE, RBRACE, RBRACKET, SP, TAB } from './json-error-position.js';

export const ChromeJsonErrorCode = {
  /** The text is not JSON where it should be (the message says what was expected). */
  Syntax: 'ZS_CHROME_JSON_SYNTAX',
  /** JSON, but not a trace: not an array nor an object with a `traceEvents` array. */
  NotATrace: 'ZS_CHROME_NOT_A_TRACE',
  Empty: 'ZS_CHROME_EMPTY',
  /** Arrays and objects nested deeper than MAX_JSON_DEPTH (a parser would overflow its stack). */
  TooDeep: 'ZS_CHROME_JSON_TOO_DEEP',
} as const;

/**
 * Deepest nesting of arrays and objects accepted in a value (an event, otherData...). Real
 * traces nest args a few levels; JSON.parse recurses per level and overflows V8's stack at
 * some thousands, so deeper values are refused with their position before they are parsed.
 */
export const MAX_JSON_DEPTH = 1000;

export class ChromeJsonError extends Error {
  override readonly name = 'ChromeJsonError';
  constructor(
    readonly code: string,
    message: string,
    /** UTF-16 offset in the text (-1 when the error is about the document as a whole) */
    readonly offset: number,
    /** 1-based line and column (columns count UTF-16 units), 0 when offset is -1 */
    readonly line: number,
    readonly column: number,
    /** UTF-8 byte offset in the file */
    readonly byteOffset: number,
  ) {
    super(message);
  }
}

export interface ChromeScanResult {
  form: 'array' | 'object';
  /** Event objects handed to onEvent. */
  events: number;
  /** null for a complete document, else what was missing at the end (the file was cut). */
  partial: string | null;
  /** The object form's `otherData` (parsed), else null. */
  otherData: unknown;
  /** The object form's `displayTimeUnit`, else null. */
  displayTimeUnit: unknown;
  /** Top-level keys of the object form, in order (for messages). */
  keys: string[];
}

/** Called per event with the parsed value and its UTF-16 offset in the text. */
export type ChromeEventSink = (event: unknown, offset: number) => void;

/** Keys of the object form that are parsed and returned; every other value is skipped. */
const KEPT_KEYS = new Set(['otherData', 'displayTimeUnit']);

/**
 * Scans `text` and calls `onEvent` for every element of the event array, in file order.
 * @throws ChromeJsonError (code, message with "line L, column C (byte B)") for malformed JSON,
 *   a document that is not a trace, or an empty text; errors thrown by onEvent propagate
 */
export function scanChromeJson(text: string, onEvent: ChromeEventSink): ChromeScanResult {
  const scanner = new ChromeJsonScanner(text);
  const it = scanner.events();
  for (;;) {
    const next = it.next();
    if (next.done) return next.value;
    onEvent(next.value, scanner.offset);
  }
}

/**
 * The pull form: `events()` yields each event (parsed) and returns the summary; `offset` is the
 * current event's UTF-16 offset. A caller can stop between events (to yield to the event loop).
 */
export class ChromeJsonScanner {
  /** Offset of the event just yielded. */
  offset = 0;
  private i = 0;
  private readonly n: number;
  private events_ = 0;
  private partial: string | null = null;

  constructor(private readonly text: string) {
    this.n = text.length;
  }

  /** UTF-16 units scanned so far (progress). */
  get position(): number {
    return this.i;
  }

  /** @throws ChromeJsonError as scanChromeJson */
  *events(): Generator<unknown, ChromeScanResult, void> {
    const t = this.text;
    if (t.charCodeAt(0) === 0xfeff) this.i = 1;
    this.skipWs();
    if (this.i >= this.n) throw documentError(ChromeJsonErrorCode.Empty, 'the file is empty: a Chrome trace is a JSON array of events or an object with a "traceEvents" array');
    const c = t.charCodeAt(this.i);
    if (c === LBRACKET) {
      yield* this.eventArray();
      if (this.partial === null) this.expectEnd();
      return { form: 'array', events: this.events_, partial: this.partial, otherData: null, displayTimeUnit: null, keys: [] };
    }
    if (c === LBRACE) return yield* this.objectForm();
    throw this.syntax(`expected '[' (an array of events) or '{' (an object with "traceEvents") at the start of a Chrome trace, found ${this.found()}`);
  }

  private *objectForm(): Generator<unknown, ChromeScanResult, void> {
    const t = this.text;
    const keys: string[] = [];
    let sawEvents = false;
    let otherData: unknown = null;
    let displayTimeUnit: unknown = null;
    this.i++; // '{'
    this.skipWs();
    if (t.charCodeAt(this.i) === RBRACE) this.i++;
    else {
      for (;;) {
        this.skipWs();
        if (this.i >= this.n) {
          if (sawEvents) {
            this.partial ??= 'the file ends before the closing }';
            break;
          }
          throw this.syntax('the file ends inside the top-level object');
        }
        if (t.charCodeAt(this.i) !== QUOTE) throw this.syntax(`expected a key in double quotes, found ${this.found()}`);
        const keyStart = this.i;
        const keyEnd = stringEnd(t, this.i);
        if (keyEnd < 0) throw this.syntax('unterminated string', keyStart);
        const key = parseSlice(t, keyStart, keyEnd) as string;
        keys.push(key);
        this.i = keyEnd;
        this.skipWs();
        if (t.charCodeAt(this.i) !== COLON) throw this.syntax(`expected ':' after the key ${JSON.stringify(key)}, found ${this.found()}`);
        this.i++;
        this.skipWs();
        if (key === 'traceEvents') {
          if (t.charCodeAt(this.i) !== LBRACKET) throw this.syntax(`"traceEvents" must be an array of events, found ${this.found()}`);
          sawEvents = true;
          yield* this.eventArray();
          if (this.partial !== null) break;
        } else {
          const start = this.i;
          const end = valueEnd(t, start);
          if (end < 0) {
            if (sawEvents) {
              this.partial = `the file ends inside the value of ${JSON.stringify(key)}`;
              break;
            }
            throw this.syntax(`the file ends inside the value of ${JSON.stringify(key)}`, start);
          }
          if (end === start) throw this.syntax(`expected a value for ${JSON.stringify(key)}, found ${this.found()}`);
          if (KEPT_KEYS.has(key)) {
            const value = parseSlice(t, start, end);
            if (key === 'otherData') otherData = value;
            else displayTimeUnit = value;
          }
          this.i = end;
        }
        this.skipWs();
        const c = t.charCodeAt(this.i);
        if (c === COMMA) {
          this.i++;
          continue;
        }
        if (c === RBRACE) {
          this.i++;
          break;
        }
        if (this.i >= this.n && sawEvents) {
          this.partial ??= 'the file ends before the closing }';
          break;
        }
        throw this.syntax(`expected ',' or '}' after the value of ${JSON.stringify(key)}, found ${this.found()}`);
      }
    }
    if (this.partial === null) this.expectEnd();
    if (!sawEvents) {
      const list = keys.length > 0 ? `its keys: ${keys.slice(0, 10).map((k) => JSON.stringify(k)).join(', ')}` : 'it is empty';
      throw documentError(ChromeJsonErrorCode.NotATrace, `not a Chrome trace: the top-level object has no "traceEvents" array (${list})`);
    }
    return { form: 'object', events: this.events_, partial: this.partial, otherData, displayTimeUnit, keys };
  }

  /** At '[': every element is yielded (events are objects; others are the importer's to skip). Sets `partial` when the file ends first. */
  private *eventArray(): Generator<unknown, void, void> {
    const t = this.text;
    this.i++; // '['
    let afterComma = false;
    for (;;) {
      this.skipWs();
      if (this.i >= this.n) {
        this.partial = this.events_ === 0 && !afterComma ? 'the event array is not closed' : 'the event array is not closed (the file ends after an event)';
        return;
      }
      let c = t.charCodeAt(this.i);
      if (c === RBRACKET) {
        // `[]`, or a trailing comma before ']' (not JSON, but traces written by hand have it)
        this.i++;
        return;
      }
      const start = this.i;
      const end = valueEnd(t, start);
      if (end === start) throw this.syntax(`expected an event object ('{') in the event array, found ${this.found()}`);
      if (end < 0) {
        const at = position(t, start);
        this.partial = `the last event (line ${at.line}, column ${at.column}) is cut off by the end of the file: dropped`;
        return;
      }
      const event = parseSlice(t, start, end);
      this.events_++;
      this.offset = start;
      this.i = end;
      yield event;
      this.skipWs();
      c = t.charCodeAt(this.i);
      if (c === COMMA) {
        this.i++;
        afterComma = true;
        continue;
      }
      if (c === RBRACKET) {
        this.i++;
        return;
      }
      if (this.i >= this.n) {
        this.partial = 'the event array is not closed';
        return;
      }
      throw this.syntax(`expected ',' or ']' after an event, found ${this.found()}`);
    }
  }

  private expectEnd(): void {
    this.skipWs();
    if (this.i < this.n) throw this.syntax(`unexpected ${this.found()} after the end of the trace`);
  }

  private skipWs(): void {
    const t = this.text;
    let i = this.i;
    while (i < this.n) {
      const c = t.charCodeAt(i);
      if (c !== SP && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
    this.i = i;
  }

  private found(): string {
    return describeAt(this.text, this.i);
  }

  private syntax(message: string, at = this.i): ChromeJsonError {
    return errorAt(this.text, ChromeJsonErrorCode.Syntax, message, at);
  }
}

/** Line and column (1-based, UTF-16 units) of offset `at`. */
export function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k >= 0 && k < at; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: at - lineStart + 1 };
}

function errorAt(text: string, code: string, message: string, at: number): ChromeJsonError {
  const { line, column } = position(text, at);
  const byteOffset = Buffer.byteLength(text.slice(0, at), 'utf8');
  return new ChromeJsonError(code, `malformed JSON at line ${line}, column ${column} (byte ${byteOffset}): ${message}`, at, line, column, byteOffset);
}

function documentError(code: string, message: string): ChromeJsonError {
  return new ChromeJsonError(code, message, -1, 0, 0, -1);
}

/**
 * The index just after the string that starts at the quote `i`, or -1 if the text ends first.
 * Escapes are only counted here (a quote preceded by an odd run of backslashes is escaped);
 * JSON.parse checks them.
 */
function stringEnd(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let k = q - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/**
 * The index just after the JSON value starting at `i` (object/array by bracket depth, string,
 * or a bare scalar up to the next delimiter), or -1 if the text ends inside it. Only the
 * extent is found; JSON.parse validates the slice.
 * @throws ChromeJsonError (TooDeep) at the bracket that opens level MAX_JSON_DEPTH + 1
 */
function valueEnd(text: string, i: number): number {
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c !== LBRACE && c !== LBRACKET) {
    let j = i;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === COMMA || d === RBRACE || d === RBRACKET || d === SP || d === LF || d === CR || d === TAB) break;
      j++;
    }
    return j;
  }
  let depth = 0;
  let j = i;
  while (j < n) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) {
      j = stringEnd(text, j);
      if (j < 0) return -1;
      continue;
    }
    if (d === LBRACE || d === LBRACKET) {
      if (++depth > MAX_JSON_DEPTH) {
        throw errorAt(text, ChromeJsonErrorCode.TooDeep, `arrays and objects nested more than ${MAX_JSON_DEPTH} deep`, j);
      }
    } else if (d === RBRACE || d === RBRACKET) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return -1;
}

/**
 * JSON.parse of `text[start, end)`. When it fails, a strict re-read of the slice finds the first
 * bad character (V8's messages do not always give a position), reported in file coordinates.
 */
function parseSlice(text: string, start: number, end: number): unknown {
  const slice = text.slice(start, end);
  try {
    return JSON.parse(slice);
  } catch {
    const bad = findJsonError(slice);
    throw errorAt(text, ChromeJsonErrorCode.Syntax, bad.message, start + bad.offset);
  }
}
