import { cliOptions, parseCommandArgs } from '../cli-options.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ZSCAP_VERSION } from '../../protocol/capture/index.js';
import { encodeHandshake, HANDSHAKE_STATUS_NAMES, HandshakeStatus } from '../../protocol/tracy/index.js';
import { InflatePool } from '../ingest/inflate-pool.js';
import { attachSocket, socketTransport } from '../ingest/socket-transport.js';
import { warmUpDecoder } from '../ingest/warm-up.js';
import { formatBytes, formatCount, formatElapsed, ProgressLine, type ProgressStream } from '../progress-line.js';
import { parseHostPort, parseSize, type HostPort } from '../serve.js';
import type { EndReason } from '../session/session.js';
import { SessionRegistry } from '../session/session-registry.js';
import { CaptureFileWriter } from './capture-file.js';
import { CaptureRecorder } from './capture-recorder.js';

export const CAPTURE_HELP = `Usage: zonescope capture --connect HOST[:PORT] -o FILE.zscap [options]

Headless capture, like Tracy's capture tool: dials a Tracy-instrumented app (Tracy clients
listen on 8086), speaks the receiver's side of the conversation and writes everything the app
sends to FILE as it arrives. Ends when the app terminates, after --seconds, or on Ctrl-C /
SIGTERM, always leaving a valid capture. A progress line (bytes, zones, rate, elapsed) goes to
stderr about once a second.

Options:
  --connect HOST[:PORT]  the app to capture (port default 8086)
  -o, --output FILE      the .zscap to write
  --seconds N            stop after N seconds (default: until the app ends)
  -f, --force            overwrite FILE if it exists
  --memory SIZE          memory for decoding (only the counts are kept; default 64MiB)
  --quiet                no progress or summary lines (errors only)
  -h, --help             this text

Exit status: 0 the capture was written (the app ended, or the capture was stopped);
1 nobody answered at HOST:PORT, the app refused the session, its stream was invalid or FILE
could not be written (a partial capture is kept); 2 usage error.
`;

export interface CaptureArgs {
  connect: HostPort;
  output: string;
  seconds: number | null;
  force: boolean;
  memoryBytes: number;
  quiet: boolean;
}

/** Parses capture's arguments; throws TypeError naming the bad option. */
export function parseCaptureArgs(args: string[]): CaptureArgs | 'help' {
  let connectTo: HostPort | null = null;
  let output: string | null = null;
  let seconds: number | null = null;
  let force = false;
  let quiet = false;
  let memoryBytes = 64 * 2 ** 20;
  for (const { arg, flag, value } of cliOptions(args)) {
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--connect':
        connectTo = parseHostPort(value(), { host: '127.0.0.1', port: 8086 });
        break;
      case '-o':
      case '--output':
        output = value();
        break;
      case '--seconds': {
        const v = value();
        seconds = Number(v);
        if (!(seconds > 0) || !Number.isFinite(seconds)) throw new TypeError(`--seconds needs a positive number, got ${v}`);
        break;
      }
      case '-f':
      case '--force':
        force = true;
        break;
      case '--memory':
        memoryBytes = parseSize(value());
        break;
      case '--quiet':
        quiet = true;
        break;
      default:
        throw new TypeError(`unknown option ${arg}`);
    }
  }
  if (connectTo === null) throw new TypeError('--connect HOST[:PORT] is required');
  if (output === null) throw new TypeError('-o FILE.zscap is required');
  return { connect: connectTo, output, seconds, force, memoryBytes, quiet };
}

/** Dials and reads the handshake answer; rejects with a message for a person. */
function dial(at: HostPort, timeoutMs: number): Promise<{ socket: Socket; first: Buffer }> {
  const where = `${at.host}:${at.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: at.host, port: at.port });
    socket.setNoDelay(true);
    const fail = (message: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail(`${where} did not answer the handshake within ${timeoutMs / 1000} s (is it a Tracy client?)`), timeoutMs);
    socket.once('connect', () => socket.write(encodeHandshake()));
    const onData = (chunk: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve({ socket, first: chunk });
    };
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') fail(`cannot connect to ${where}: nothing listens there (is the app running, built with Tracy enabled? Tracy clients listen on 8086, or the next free port up to 8105)`);
      else fail(`cannot connect to ${where}: ${err.message}`);
    };
    const onClose = () => fail(`${where} closed the connection without answering the handshake`);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * `zonescope capture`: writes one session of a Tracy client to a .zscap.
 * @returns the exit status (0 written, 1 failure, 2 usage)
 */
export async function runCapture(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream & ProgressStream): Promise<number> {
  const run = parseCommandArgs('capture', CAPTURE_HELP, parseCaptureArgs, args, out, err);
  if ('status' in run) return run.status;
  const parsed = run.args;
  const o = parsed;
  const say = (line: string) => {
    if (!o.quiet) err.write(`${line}\n`);
  };
  if (existsSync(o.output)) {
    if (!o.force) {
      err.write(`zonescope capture: ${o.output} exists; use --force to overwrite it\n`);
      return 2;
    }
    if (statSync(o.output).isDirectory()) {
      err.write(`zonescope capture: ${o.output} is a directory\n`);
      return 2;
    }
  }
  try {
    accessSync(dirname(o.output), constants.W_OK);
  } catch (e) {
    err.write(`zonescope capture: cannot write in ${dirname(o.output)}: ${(e as Error).message}\n`);
    return 2;
  }

  const where = `${o.connect.host}:${o.connect.port}`;
  // before dialing: the stream decompresses on a worker thread that is already up
  const inflatePool = InflatePool.start();
  if (process.env.ZONESCOPE_NO_WARM_UP !== '1') warmUpDecoder({ path: inflatePool === null ? 'main-thread' : 'inflate-worker', countZonesOnly: true });
  let socket: Socket;
  let first: Buffer;
  try {
    ({ socket, first } = await dial(o.connect, 5000));
  } catch (e) {
    err.write(`zonescope capture: ${(e as Error).message}\n`);
    void inflatePool?.close();
    return 1;
  }
  const status = first[0]!;
  if (status !== HandshakeStatus.Welcome) {
    socket.destroy();
    void inflatePool?.close();
    const why =
      status === HandshakeStatus.NotAvailable
        ? 'NotAvailable: it already served a profiler session (a Tracy client serves one, unless built with TRACY_ON_DEMAND)'
        : status === HandshakeStatus.ProtocolMismatch
          ? 'ProtocolMismatch: it speaks another Tracy protocol version than 82 (Tracy 0.14)'
          : (HANDSHAKE_STATUS_NAMES[status] ?? `status ${status}`);
    err.write(`zonescope capture: ${where} refused the session: ${why}\n`);
    return 1;
  }

  const registry = new SessionRegistry({ memoryBytes: o.memoryBytes, inflatePool });
  // the file is what a capture produces: its store only counts the zones (ZoneCountingStore)
  const session = registry.create(socketTransport(socket), 'connect', where, { countZonesOnly: true });
  let writeError: Error | null = null;
  let stoppedBy: string | null = null;
  const recorder = new CaptureRecorder(
    (head) => {
      const writer = CaptureFileWriter.create(
        o.output,
        {
          formatVersion: ZSCAP_VERSION,
          app: head.decoded.programName,
          pid: Number(head.decoded.pid),
          hostInfo: head.decoded.hostInfo,
          wallClockStartMs: session.startedAt,
          welcome: head.welcome,
          onDemand: head.onDemand,
          source: 'capture',
          remote: where,
        },
        { overwrite: o.force },
      );
      say(`zonescope capture: ${head.decoded.programName} (pid ${head.decoded.pid}) at ${where} -> ${o.output}`);
      return writer;
    },
    (e) => {
      writeError = e;
      // not from inside the session's receive(), which called the recorder
      setImmediate(() => session.stop('server-closed'));
    },
  );
  session.onBytes = (chunk) => recorder.write(chunk);

  const t0 = Date.now();
  let lastBytes = 0;
  let lastAt = t0;
  const fileBytes = () => recorder.writer?.bytes ?? 0;
  const progress = new ProgressLine(
    err,
    () => {
      const now = Date.now();
      const bytes = fileBytes();
      const rate = now > lastAt ? ((bytes - lastBytes) * 1000) / (now - lastAt) : 0;
      lastBytes = bytes;
      lastAt = now;
      return `capture: ${formatBytes(bytes)}, ${formatCount(session.store.zonesEnded)} zones, ${formatBytes(Math.round(rate))}/s, ${formatElapsed(now - t0)}`;
    },
    { quiet: o.quiet },
  );

  const ended = new Promise<EndReason>((resolve) => {
    registry.subscribe((e) => {
      if (e.type === 'ended' && e.session === session) resolve(session.endReason ?? 'disconnected');
    });
  });
  const stop = (why: string) => {
    if (stoppedBy !== null) return;
    stoppedBy = why;
    session.stop('server-closed');
  };
  const onSignal = (signal: NodeJS.Signals) => stop(signal === 'SIGINT' ? 'Ctrl-C' : signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = o.seconds !== null ? setTimeout(() => stop(`${o.seconds} s elapsed`), o.seconds * 1000) : null;

  attachSocket(socket, session);
  progress.start();
  session.receive(first);
  const reason = await ended;
  void inflatePool?.close();

  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  progress.stop();
  // A capture stopped on purpose ends on its last complete frame; a cut by the app (crash,
  // network) keeps the partial frame, which readers report as cut.
  recorder.close({ trimPartialFrame: stoppedBy !== null, sync: true });
  socket.destroy();

  const elapsed = formatElapsed(Date.now() - t0);
  const writer = recorder.writer;
  if (writer === null) {
    err.write(`zonescope capture: ${where} sent no complete welcome message; nothing was written\n`);
    return 1;
  }
  const failure = writeError ?? recorder.error;
  if (failure !== null) {
    err.write(`zonescope capture: writing ${o.output} failed: ${failure.message}; the file holds what was written before\n`);
    return 1;
  }
  const summary = `${formatBytes(writer.bytes)}, ${formatCount(writer.frames)} frames, ${formatCount(session.store.zonesEnded)} zones in ${elapsed}`;
  if (reason === 'protocol-error' || reason === 'store-error') {
    const e = session.error;
    err.write(`zonescope capture: the app's stream is invalid (${e?.code ?? reason}: ${e?.message ?? ''}); ${o.output} holds everything before it: ${summary}\n`);
    return 1;
  }
  const how = stoppedBy !== null ? `stopped: ${stoppedBy}` : reason === 'terminated' ? 'the app terminated' : `the app disconnected${session.truncation ? ` (${session.truncation})` : ''}`;
  say(`zonescope capture: wrote ${o.output}: ${summary} (${how})`);
  return 0;
}
