import { encode } from '@msgpack/msgpack';
import type { Context } from 'hono';

/**
 * Responses are JSON by default and msgpack when asked (`?format=msgpack` or
 * `Accept: application/msgpack`). In msgpack, typed arrays travel as their bytes (bin), as
 * the viewer stream does; in JSON they become arrays of numbers.
 */
export function wantsMsgpack(c: Context): boolean {
  return c.req.query('format') === 'msgpack' || (c.req.header('accept') ?? '').includes('application/msgpack');
}

export function respond(c: Context, body: unknown, status = 200): Response {
  if (wantsMsgpack(c)) {
    const bytes = encode(toMsgpack(body), { ignoreUndefined: true });
    return new Response(bytes, { status, headers: { 'content-type': 'application/msgpack' } });
  }
  return new Response(JSON.stringify(body, jsonReplacer), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Typed arrays -> Uint8Array views of their bytes (little-endian, as on every platform we run). */
export function toMsgpack(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(toMsgpack);
  if (typeof value === 'bigint') return Number(value);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toMsgpack(v);
    return out;
  }
  return value;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses an optional numeric query parameter; throws HttpError 400 when present and invalid. */
export function numberParam(c: Context, name: string, fallback: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new HttpError(400, 'ZS_HTTP_BAD_PARAM', `query parameter ${name}=${raw} is not a number`);
  return n;
}

/** Bytes per chunk of a streamed answer (streamedResponse): the socket takes one chunk at a time. */
const STREAM_CHUNK_BYTES = 64 * 1024;
/** Containers with more entries than this are written entry by entry; smaller ones in one go. */
const WHOLE_CONTAINER = 32;
/** Numbers of a typed array per piece of JSON. */
const TYPED_PIECE = 8192;

/**
 * As respond(), but the body is produced chunk by chunk as the client reads it (a pull stream
 * holding one chunk of STREAM_CHUNK_BYTES), with a turn of the event loop before each chunk: a
 * large answer (100,000 zones, 50,000 flame nodes) neither blocks the server while it is
 * encoded nor sits in memory twice. Same bytes as respond() would send.
 */
export function streamedResponse(c: Context, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const msgpack = wantsMsgpack(c);
  const pieces = msgpack ? msgpackPieces(body) : jsonPieces(body);
  const utf8 = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        const parts: Uint8Array[] = [];
        let size = 0;
        while (size < STREAM_CHUNK_BYTES) {
          const next = pieces.next();
          if (next.done) break;
          const bytes = typeof next.value === 'string' ? utf8.encode(next.value) : next.value;
          parts.push(bytes);
          size += bytes.length;
        }
        if (size > 0) controller.enqueue(concatBytes(parts, size));
        if (size < STREAM_CHUNK_BYTES) controller.close();
      },
      cancel() {
        pieces.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  const type = msgpack ? 'application/msgpack' : 'application/json; charset=utf-8';
  return new Response(stream as unknown as BodyInit, { status, headers: { 'content-type': type, ...headers } });
}

function concatBytes(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/** Small enough to encode in one go: a primitive, or a container of at most WHOLE_CONTAINER primitives (one level of such arrays allowed in objects). */
function isSmall(value: unknown, nested = false): boolean {
  if (isPrimitive(value)) return true;
  if (ArrayBuffer.isView(value)) return (value as unknown as ArrayLike<number>).length <= WHOLE_CONTAINER;
  if (Array.isArray(value)) return value.length <= WHOLE_CONTAINER && value.every(isPrimitive);
  if (nested || !isPlainObject(value)) return false;
  let n = 0;
  for (const k in value) {
    if (++n > WHOLE_CONTAINER || !isSmall(value[k], true)) return false;
  }
  return true;
}

/** JSON.stringify(value, jsonReplacer) in pieces (large arrays, objects and typed arrays split up). */
function* jsonPieces(value: unknown): Generator<string, void, undefined> {
  if (isSmall(value)) return yield JSON.stringify(value, jsonReplacer) ?? 'null';
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as { length: number; subarray(a: number, b: number): ArrayLike<number> };
    yield '[';
    for (let i = 0; i < arr.length; i += TYPED_PIECE) {
      const sub = arr.subarray(i, Math.min(arr.length, i + TYPED_PIECE)) as unknown as ArrayLike<number> & { join(sep: string): string };
      // join writes numbers as JSON does, without an array of boxed numbers; NaN and
      // Infinity must become null as in JSON.stringify
      let finite = true;
      for (let k = 0; k < sub.length && finite; k++) finite = Number.isFinite(sub[k]);
      const piece = finite ? sub.join(',') : JSON.stringify(Array.from(sub), jsonReplacer).slice(1, -1);
      yield (i > 0 ? ',' : '') + piece;
    }
    return yield ']';
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      // as JSON.stringify: undefined (and functions) in an array become null
      const v: unknown = value[i];
      if (v === undefined || typeof v === 'function') yield 'null';
      else yield* jsonPieces(v);
    }
    return yield ']';
  }
  if (isPlainObject(value) && typeof value.toJSON !== 'function') {
    yield '{';
    let first = true;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      yield `${first ? '' : ','}${JSON.stringify(k)}:`;
      first = false;
      yield* jsonPieces(v);
    }
    return yield '}';
  }
  yield JSON.stringify(value, jsonReplacer) ?? 'null';
}

/** encode(toMsgpack(value), { ignoreUndefined: true }) in pieces (large arrays and objects split up). */
function* msgpackPieces(value: unknown): Generator<Uint8Array, void, undefined> {
  if (Array.isArray(value) && !isSmall(value)) {
    yield containerHeader(value.length, 0x90, 0xdc, 0xdd);
    for (const v of value) yield* msgpackPieces(v);
    return;
  }
  if (isPlainObject(value) && !isSmall(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    yield containerHeader(entries.length, 0x80, 0xde, 0xdf);
    for (const [k, v] of entries) {
      yield encode(k);
      yield* msgpackPieces(v);
    }
    return;
  }
  // typed arrays travel as one bin: a copy of bytes, no per-element work
  yield encode(toMsgpack(value), { ignoreUndefined: true });
}

/** A msgpack array or map header: fix form below 16 entries, then 16- and 32-bit counts. */
function containerHeader(n: number, fix: number, b16: number, b32: number): Uint8Array {
  if (n < 16) return Uint8Array.of(fix | n);
  if (n < 0x10000) return Uint8Array.of(b16, n >>> 8, n & 0xff);
  return Uint8Array.of(b32, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
