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
