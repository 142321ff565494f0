import type { Context } from 'hono';
import { CaptureError, CaptureReader, isCaptureMagic, type CaptureHeader } from '../../protocol/capture/index.js';
import { ChromeJsonError } from '../export/chrome-json-scan.js';
import { decodeChromeBytes, importChromeTraceText, type ChromeImportStats } from '../export/chrome-import.js';
import type { Session, SessionTransport } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { sessionSummary } from './session-view.js';

/** Largest Chrome JSON upload (bytes, gzip or not: the JSON text must fit in memory at once). */
export const IMPORT_JSON_MAX_BYTES = 256 * 1024 * 1024;

type UploadKind = 'zscap' | 'client-stream' | 'chrome';

/**
 * POST /api/sessions/import[?name=FILE]: the request body is a capture, which becomes an ended
 * session (source 'import') listed like any other:
 * - a .zscap (or a raw Tracy client stream, *.client.bin): streamed into the session as the
 *   body arrives, any size (the body is read only as fast as the session decodes it; the store
 *   is bounded by the server's memory budget like any session's);
 * - Chrome Trace Event JSON, plain or gzip, up to IMPORT_JSON_MAX_BYTES: imported into a
 *   capture (server/export/chrome-import.ts), which is then loaded.
 * The kind is told by the first bytes. The name (query `name`, else header `x-file-name`) is
 * the session's remote and the import's fallback app name.
 *
 * 201 `{ id, name, format, session, stats?, warnings }` once the session has ended (everything
 * decoded); 400 for malformed JSON (`line`, `column`, `byteOffset`) or a file that is not a
 * capture, 413 for JSON over the limit, 415 for anything else.
 */
export async function importResponse(c: Context, registry: SessionRegistry): Promise<Response> {
  const name = (c.req.query('name') ?? c.req.header('x-file-name') ?? 'upload').slice(0, 200) || 'upload';
  const body = c.req.raw.body;
  if (body === null) return fail(c, 400, 'ZS_IMPORT_EMPTY', 'the request has no body: send a .zscap or a Chrome trace JSON file');
  const reader = body.getReader();
  const first = await readAtLeast(reader, 8);
  if (first.length === 0) return fail(c, 400, 'ZS_IMPORT_EMPTY', 'the request body is empty: send a .zscap or a Chrome trace JSON file');
  const kind = uploadKind(first);
  if (kind === null) {
    await reader.cancel();
    return fail(c, 415, 'ZS_IMPORT_UNKNOWN_FORMAT', `${name} is neither a capture (.zscap), a recorded Tracy stream nor Chrome trace JSON (it starts with 0x${hex(first.subarray(0, 8))})`);
  }

  if (kind === 'chrome') {
    const parts: Uint8Array[] = [first];
    let size = first.length;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > IMPORT_JSON_MAX_BYTES) {
        await reader.cancel();
        return fail(c, 413, 'ZS_IMPORT_TOO_LARGE', `Chrome trace upload over ${IMPORT_JSON_MAX_BYTES} bytes: export it to a .zscap with zonescope, or split it`);
      }
      parts.push(value);
    }
    let stats: ChromeImportStats;
    let capture: Uint8Array;
    try {
      const result = await importChromeTraceText(decodeChromeBytes(Buffer.concat(parts)), name);
      stats = result.stats;
      capture = result.capture;
    } catch (err) {
      if (err instanceof ChromeJsonError) {
        return c.json({ error: `${name}: ${err.message}`, code: err.code, line: err.line, column: err.column, byteOffset: err.byteOffset }, 400);
      }
      if (err instanceof RangeError) return fail(c, 413, 'ZS_IMPORT_TOO_LARGE', `${name}: ${err.message}`);
      throw err;
    }
    const session = await loadCapture(registry, name, single(capture), true);
    if (session instanceof CaptureError) throw session; // our own capture: cannot happen
    return c.json({ id: session.id, name, format: kind, session: sessionSummary(session), stats, warnings: stats.warnings }, 201);
  }

  const session = await loadCapture(registry, name, rest(first, reader), kind === 'zscap');
  if (session instanceof CaptureError) return fail(c, 400, session.code, `${name}: ${session.message}`);
  const warnings: string[] = [];
  if (session.error) warnings.push(`${session.error.code}: ${session.error.message}`);
  if (session.truncation) warnings.push(`the capture is cut: ${session.truncation}`);
  return c.json({ id: session.id, name, format: kind, session: sessionSummary(session), warnings }, 201);
}

function fail(c: Context, status: 400 | 413 | 415, code: string, error: string): Response {
  return c.json({ error, code }, status);
}

function uploadKind(b: Uint8Array): UploadKind | null {
  if (isCaptureMagic(b)) return 'zscap';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'chrome'; // gzip: Chrome JSON is what we accept compressed
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3; // UTF-8 byte order mark
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  if (b[i] === 0x7b || b[i] === 0x5b) return 'chrome'; // '{' or '['
  if (b[0] === 1 && b.length > 1) return 'client-stream'; // the handshake's Welcome status byte
  return null;
}

/**
 * Loads capture bytes into a new session (source 'import') through the normal Session: the
 * bytes are the app's side of the conversation and the transport ignores what the session
 * sends, because the answers to its queries are in the stream already. The session's
 * backpressure paces the reading (`pause`/`resume` hold the next chunk back).
 * @returns the session once it has ended, or the CaptureError that kept it from starting (not a
 *   capture, newer version, bad header: no session is created then)
 */
async function loadCapture(registry: SessionRegistry, name: string, chunks: AsyncIterable<Uint8Array>, zscap: boolean): Promise<Session | CaptureError> {
  let session: Session | null = null;
  let paused = false;
  let wake: (() => void) | null = null;
  let closed = false;
  const transport: SessionTransport = {
    write: () => {},
    close: () => {
      closed = true;
      wake?.();
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      wake?.();
    },
  };
  const start = (header: CaptureHeader | null): Session => {
    const s = registry.create(transport, 'import', name, header ? { startedAt: header.wallClockStartMs } : {});
    s.start(); // the handshake goes nowhere: the conversation is already recorded
    return s;
  };
  const capture = zscap
    ? new CaptureReader((bytes) => {
        session ??= start(capture!.header);
        session.receive(bytes);
      })
    : null;
  try {
    for await (const chunk of chunks) {
      if (capture !== null) capture.push(chunk);
      else (session ??= start(null)).receive(chunk);
      while (paused && !closed) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      if (closed) break;
    }
  } catch (err) {
    if (!(err instanceof CaptureError)) {
      (session as Session | null)?.connectionClosed(); // the upload broke off: keep what arrived
      throw err;
    }
    if (session === null) return err;
    // a bad frame after a good head: the session keeps what came before, and says why
    (session as Session).error ??= { code: err.code, message: err.message, offset: err.offset, queueType: -1 };
  }
  if (capture !== null) {
    capture.end();
    const cut = capture.partialFrame();
    if (session !== null && cut.length > 0) (session as Session).receive(cut); // the session then says where the stream stopped
  }
  if (session === null) return new CaptureError('ZS_CAPTURE_BAD_HEADER', 'the capture ends inside its head', 0);
  const s: Session = session;
  const ended = new Promise<void>((resolve) => {
    if (s.ended) return resolve();
    const off = registry.subscribe((e) => {
      if (e.type === 'ended' && e.session === s) {
        off();
        resolve();
      }
    });
  });
  s.connectionClosed();
  await ended;
  return s;
}

async function readAtLeast(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < n) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

async function* rest(first: Uint8Array, reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  // in steps, so the session's slices interleave with the server's other work
  for (let p = 0; p < bytes.length; p += 256 * 1024) yield bytes.subarray(p, Math.min(bytes.length, p + 256 * 1024));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
