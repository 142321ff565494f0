import { cliOptions, parseCommandArgs } from '../cli-options.js';
import { open, stat } from 'node:fs/promises';
import { CaptureError, isCaptureMagic } from '../../protocol/capture/index.js';
import { HandshakeStatus } from '../../protocol/tracy/index.js';
import { setLogSink } from '../log.js';
import { formatBytes, formatCount, formatElapsed, ProgressLine, type ProgressStream } from '../progress-line.js';
import { DEFAULT_HTTP, isLoopback, parseHostPort, parseSize, startServer, type HostPort, type ServerHandle } from '../serve.js';
import type { Session } from '../session/session.js';
import { importChromeTraceFile, type ChromeImportResult } from '../export/chrome-import.js';
import { readCaptureHead } from './capture-file.js';
import { loadCaptureBytes, loadCaptureSession, type LoadedCapture } from './capture-session.js';

export const VIEW_HELP = `Usage: zonescope view FILE [options]

Opens FILE in the viewer: starts the server (no ingest) with FILE loaded as a session and
prints the viewer's URL. FILE is a capture (.zscap), a recorded Tracy client stream
(*.client.bin) or a Chrome Trace Event JSON file (.json, or gzip-compressed), recognised by
its content. Runs until Ctrl-C / SIGTERM.

Options:
  --http HOST:PORT   where the viewer listens (default ${DEFAULT_HTTP.host}:${DEFAULT_HTTP.port}; when that
                     port is taken and --http was not given, a free port is used instead)
  --memory SIZE      memory budget of the session's store (default 1GiB)
  --quiet            no progress or log lines (errors only)
  -h, --help         this text
`;

export interface ViewArgs {
  file: string;
  http: HostPort | null;
  memoryBytes: number | undefined;
  quiet: boolean;
}

export function parseViewArgs(args: string[]): ViewArgs | 'help' {
  let file: string | null = null;
  let http: HostPort | null = null;
  let memoryBytes: number | undefined;
  let quiet = false;
  for (const { arg, flag, value } of cliOptions(args)) {
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--http':
        http = parseHostPort(value(), DEFAULT_HTTP);
        break;
      case '--memory':
        memoryBytes = parseSize(value());
        break;
      case '--quiet':
        quiet = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new TypeError(`unknown option ${arg}`);
        if (file !== null) throw new TypeError(`one FILE expected, got ${file} and ${arg}`);
        file = arg;
    }
  }
  if (file === null) throw new TypeError('missing FILE');
  return { file, http, memoryBytes, quiet };
}

export type FileKind = 'zscap' | 'client-stream' | 'chrome';

/** What FILE is, from its first bytes. */
export async function fileKind(path: string): Promise<FileKind | null> {
  const f = await open(path, 'r');
  try {
    const head = new Uint8Array(64);
    const { bytesRead } = await f.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (isCaptureMagic(bytes)) return 'zscap';
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'chrome'; // gzip: a compressed trace
    let i = 0;
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
    if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'chrome'; // '{' or '['
    if (bytes[0] === HandshakeStatus.Welcome && bytesRead > 1) return 'client-stream';
    return null;
  } finally {
    await f.close();
  }
}

/**
 * `zonescope view FILE`: the server with FILE loaded, until Ctrl-C / SIGTERM.
 * @returns the exit status (0 after a clean shutdown, 1 when FILE cannot be loaded or the port is taken, 2 usage)
 */
export async function runView(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream & ProgressStream): Promise<number> {
  const run = parseCommandArgs('view', VIEW_HELP, parseViewArgs, args, out, err);
  if ('status' in run) return run.status;
  const parsed = run.args;
  const o = parsed;
  let kind: FileKind | null;
  try {
    if (!(await stat(o.file)).isFile()) throw Object.assign(new Error('is not a file'), { code: 'EISDIR' });
    kind = await fileKind(o.file);
  } catch (e) {
    err.write(`zonescope view: cannot read ${o.file}: ${(e as Error).message}\n`);
    return 2;
  }
  if (kind === null) {
    err.write(`zonescope view: ${o.file} is neither a capture (.zscap), a Chrome trace (.json) nor a recorded Tracy stream (*.client.bin)\n`);
    return 2;
  }
  let startedAt: number | undefined;
  let imported: ChromeImportResult | null = null;
  if (kind === 'chrome') {
    const t0 = Date.now();
    let phase = 'reading';
    const progress = new ProgressLine(err, () => `view: importing ${o.file}: ${phase}, ${formatElapsed(Date.now() - t0)}`, { quiet: o.quiet }).start();
    try {
      imported = await importChromeTraceFile(o.file, {
        onProgress: (p) => {
          phase = p.phase === 'parse' ? `${Math.floor((p.done / Math.max(1, p.total)) * 100)}% parsed, ${formatCount(p.events)} events` : `building, ${formatCount(p.events)} events`;
        },
      });
    } catch (e) {
      progress.stop();
      const code = (e as { code?: unknown }).code;
      err.write(`zonescope view: ${o.file}: ${typeof code === 'string' && code.startsWith('ZS_') ? `${code}: ` : ''}${(e as Error).message}\n`);
      return 1;
    }
    progress.stop();
    for (const w of imported.stats.warnings) err.write(`zonescope view: ${o.file}: ${w}\n`);
    startedAt = imported.header.wallClockStartMs;
  }
  if (kind === 'zscap') {
    try {
      startedAt = (await readCaptureHead(o.file)).header.wallClockStartMs;
    } catch (e) {
      err.write(`zonescope view: ${o.file}: ${(e as Error).message}\n`);
      return e instanceof CaptureError ? 1 : 2;
    }
  }

  if (!o.quiet) setLogSink((line) => err.write(`${new Date().toISOString()} ${line}\n`));
  let server: ServerHandle;
  const httpAt = o.http ?? DEFAULT_HTTP;
  const base = { ingest: null, ...(o.memoryBytes !== undefined ? { memoryBytes: o.memoryBytes } : {}) };
  try {
    server = await startServer({ ...base, http: httpAt });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || o.http !== null) {
      err.write(`zonescope view: cannot listen on ${httpAt.host}:${httpAt.port}: ${(e as Error).message}\n`);
      return 1;
    }
    // the default port is taken (a `zonescope serve`?): any free port will do
    server = await startServer({ ...base, http: { host: httpAt.host, port: 0 } });
    if (!o.quiet) err.write(`zonescope view: ${httpAt.host}:${httpAt.port} is in use; using port ${server.httpPort}\n`);
  }
  // off loopback the server generated a token (docs/security.md): the printed URL carries it
  if (!isLoopback(httpAt.host)) err.write(`zonescope: ${httpAt.host}:${server.httpPort} is reachable from other hosts: every request needs the token in the URL below\n`);

  let fileSize = 0;
  try {
    fileSize = (await stat(o.file)).size;
  } catch {
    // reported by the load
  }
  let readBytes = 0;
  const t0 = Date.now();
  const loadOptions = {
    ...(startedAt !== undefined ? { startedAt } : {}),
    onChunk: (n: number) => {
      readBytes = n;
    },
  };
  let loaded: LoadedCapture;
  if (imported !== null) {
    fileSize = imported.capture.length;
    loaded = loadCaptureBytes(server.registry, imported.capture, o.file, { ...loadOptions, source: 'import' });
  } else {
    loaded = loadCaptureSession(server.registry, o.file, { ...loadOptions, format: kind === 'client-stream' ? 'client-stream' : 'zscap' });
  }
  const { session, done } = loaded;
  const host = httpAt.host.includes(':') ? `[${httpAt.host}]` : httpAt.host;
  out.write(`zonescope: viewing ${o.file} at http://${host}:${server.httpPort}/?session=${encodeURIComponent(session.id)}${server.security.token !== null ? `&token=${server.security.token}` : ''}\n`);
  const progress = new ProgressLine(
    err,
    () => `view: loading ${o.file}: ${formatBytes(readBytes)} of ${formatBytes(fileSize)} (${fileSize > 0 ? Math.floor((readBytes / fileSize) * 100) : 100}%), ${formatCount(session.store.zonesEnded)} zones, ${formatElapsed(Date.now() - t0)}`,
    { quiet: o.quiet },
  ).start();

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  void done.then(({ error }) => {
    progress.stop();
    if (stopping) return;
    if (error) err.write(`zonescope view: ${o.file}: ${error.message}; showing what was read before\n`);
    else if (!o.quiet) err.write(`zonescope view: loaded ${o.file}: ${describe(session)} in ${formatElapsed(Date.now() - t0)}\n`);
  });
  await stopped;
  out.write('zonescope: shutting down\n');
  return 0;
}

function describe(s: Session): string {
  const how = s.endReason === 'terminated' ? '' : s.error ? `; ${s.error.code}: ${s.error.message}` : s.truncation ? `; cut: ${s.truncation}` : '; no Terminate at the end';
  return `${s.welcome?.programName ?? '?'}, ${formatCount(s.store.zonesEnded)} zones on ${s.store.threads.size} threads${how}`;
}
