import type { Context } from 'hono';
import { createGunzip } from 'node:zlib';
import { CaptureError, CaptureReader, isCaptureMagic, type CaptureHeader } from '../../protocol/capture/index.js';
import { ChromeJsonError } from '../export/chrome-json-scan.js';
import { chromeTextOf, importChromeTraceText, type ChromeImportStats } from '../export/chrome-import.js';
import { ChromeImportLimitError } from '../export/chrome-import-model.js';
import type { Session } from '../session/session.js';
import { recordedTransport, sessionEnded, type SessionRegistry } from '../session/session-registry.js';
import { sessionSummary } from './session-view.js';

/**
 * Largest Chrome JSON upload (bytes of JSON: after gunzip for a gzip upload, whose compressed
 * size does not matter). The JSON text must fit in memory at once; a gzip upload is inflated
 * as it streams in and refused as soon as its output passes this, so a small "gzip bomb"
 * never allocates more than this.
 */
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
 * decoded); 400 for malformed JSON or JSON nested too deep (`line`, `column`, `byteOffset`), a
 * broken gzip stream or a file that is not a capture; 413 ZS_IMPORT_TOO_LARGE for JSON over the
 * limit (decompressed); 422 for a trace past an import limit (ZS_CHROME_TOO_MANY_THREADS,
 * ZS_CHROME_TOO_MANY_SOURCE_LOCATIONS, with `limit` and `event`), refused before any session
 * is created; 415 for anything else.
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
    const body = await readJsonUpload(first, reader, IMPORT_JSON_MAX_BYTES);
    if (body === 'too-large') {
      const what = isGzip(first) ? 'once decompressed' : '';
      return fail(c, 413, 'ZS_IMPORT_TOO_LARGE', `${name}: Chrome trace over the ${IMPORT_JSON_MAX_BYTES / 2 ** 20} MiB upload limit${what ? ` ${what}` : ''}: export it to a .zscap with zonescope, or split it`);
    }
    if (body instanceof Error) return fail(c, 400, 'ZS_IMPORT_BAD_GZIP', `${name}: the gzip stream is broken: ${body.message}`);
    let stats: ChromeImportStats;
    let capture: Uint8Array;
    try {
      const result = await importChromeTraceText(chromeTextOf(body), name);
      stats = result.stats;
      capture = result.capture;
    } catch (err) {
      if (err instanceof ChromeJsonError) {
        return c.json({ error: `${name}: ${err.message}`, code: err.code, line: err.line, column: err.column, byteOffset: err.byteOffset }, 400);
      }
      if (err instanceof ChromeImportLimitError) return c.json({ error: `${name}: ${err.message}`, code: err.code, limit: err.limit, event: err.event }, 422);
      throw err;
    }
    const session = await loadCapture(registry, name, single(capture), true);
    if (session instanceof CaptureError) throw session; // our own capture: cannot happen
    const warnings = [...stats.warnings];
    if (session.error) warnings.push(`${session.error.code}: ${session.error.message}`); // the limits above should make this impossible
    return c.json({ id: session.id, name, format: kind, session: sessionSummary(session), stats, warnings }, 201);
  }

  const session = await loadCapture(registry, name, rest(first, reader), kind === 'zscap');
  if (session instanceof CaptureError) return fail(c, 400, session.code, `${name}: ${session.message}`);
  const warnings: string[] = [];
  if (session.error) warnings.push(`${session.error.code}: ${session.error.message}`);
  if (session.truncation) warnings.push(`the capture is cut: ${session.truncation}`);
  return c.json({ id: session.id, name, format: kind, session: sessionSummary(session), warnings }, 201);
}

function fail(c: Context, status: 400 | 413 | 415 | 422, code: string, error: string): Response {
  return c.json({ error, code }, status);
}

const isGzip = (b: Uint8Array) => b[0] === 0x1f && b[1] === 0x8b;

/**
 * The JSON bytes of a Chrome trace upload, whose first bytes are `first`: the body as it is, or
 * gunzipped as it streams in (node:zlib, with backpressure) when it starts with the gzip magic.
 * Stops reading (and inflating) as soon as the JSON passes `maxBytes`.
 * @returns the bytes; 'too-large' past maxBytes; the zlib error for a broken gzip stream
 */
async function readJsonUpload(first: Uint8Array, reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number): Promise<Buffer | 'too-large' | Error> {
  const parts: Uint8Array[] = [];
  let size = 0;
  if (!isGzip(first)) {
    for (let chunk: Uint8Array | undefined = first; chunk !== undefined; chunk = (await reader.read()).value) {
      size += chunk.length;
      if (size > maxBytes) {
        await discardRest(reader);
        return 'too-large';
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts);
  }
  const gunzip = createGunzip();
  let problem: 'too-large' | Error | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const settle = () => {
    finished = true;
    wake?.();
  };
  gunzip.on('data', (out: Buffer) => {
    size += out.length;
    if (size > maxBytes) {
      problem ??= 'too-large';
      gunzip.destroy(); // no more inflating: what a bomb would expand to is never made
      return;
    }
    parts.push(out);
  });
  gunzip.on('error', (err) => {
    problem ??= err;
    settle();
  });
  gunzip.on('end', settle);
  gunzip.on('close', settle);
  gunzip.on('drain', () => wake?.());
  const until = (ready: () => boolean) => (ready() ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve)).then(() => (wake = null)));
  for (let chunk: Uint8Array | undefined = first; chunk !== undefined && problem === null && !finished; ) {
    if (!gunzip.write(chunk)) await until(() => finished || !gunzip.writableNeedDrain);
    if (problem !== null || finished) break;
    const next = await reader.read();
    chunk = next.value;
    if (next.done) gunzip.end();
  }
  while (!finished) await until(() => finished);
  if (problem !== null) {
    parts.length = 0;
    await discardRest(reader);
    return problem;
  }
  return Buffer.concat(parts);
}

/** Bytes of a refused upload still read (and dropped) so the client gets the answer, not a reset. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads and drops the rest of a refused request body, up to DISCARD_MAX_BYTES: a client that is
 * still sending when the answer comes would otherwise see its connection reset before it reads
 * the 4xx. Past that, the body is cancelled (the connection closes).
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let dropped = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.length;
      if (dropped > DISCARD_MAX_BYTES) break;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing to answer
  }
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
  const { transport, flowing, ...feed } = recordedTransport();
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
      await flowing();
      if (feed.closed) break;
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
  const ended = sessionEnded(registry, s);
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
