import { isLoopback, parseHostPort } from '../serve.js';
import { CaptureReplay, type ReplayOptions, type ReplayResult } from './replay.js';

export const REPLAY_HELP = `Usage: zonescope replay FILE.zscap [--listen [HOST:]PORT] [--broadcast[=PORT]] [--once]

Plays a capture to one receiver the way the app that recorded it would: it waits like a Tracy
client, answers the receiver's handshake with the capture's welcome and streams its frames; the
receiver's queries are answered by the replies already in the capture. Receivers: zonescope
serve --connect HOST:PORT (or --discover with --broadcast), Tracy's profiler or capture tool.

Options:
  --listen [HOST:]PORT  where to wait (default 127.0.0.1, the first free port of 8086..8105;
                        port 0 picks any)
  --broadcast[=PORT]    announce the capture by UDP like a Tracy client (port 8086)
  --once                exit when the session is over (default: keep answering later
                        receivers NotAvailable, like a Tracy client, until Ctrl-C)
  -h, --help            this text
`;

export interface ParsedReplay {
  file: string;
  options: ReplayOptions;
  once: boolean;
}

/** Parses replay's arguments; throws TypeError naming the bad one. */
export function parseReplayArgs(args: string[]): ParsedReplay | 'help' {
  let file: string | null = null;
  let host = '127.0.0.1';
  let port: number | null = null;
  let broadcastPort: number | null = null;
  let once = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--listen': {
        const v = inline ?? args[++i];
        if (v === undefined) throw new TypeError('--listen needs [HOST:]PORT');
        const hp = parseHostPort(v, { host: '127.0.0.1', port: -1 });
        if (hp.port < 0) throw new TypeError(`--listen needs a port: ${v}`);
        host = hp.host;
        port = hp.port;
        break;
      }
      case '--broadcast':
        broadcastPort = inline !== undefined ? Number(inline) : 8086;
        if (!(Number.isInteger(broadcastPort) && broadcastPort > 0 && broadcastPort < 65536)) throw new TypeError(`bad --broadcast port: ${inline}`);
        break;
      case '--once':
        once = true;
        break;
      default:
        if (arg.startsWith('-')) throw new TypeError(`unknown option ${arg}`);
        if (file !== null) throw new TypeError(`one capture at a time: ${file} and ${arg}`);
        file = arg;
    }
  }
  if (file === null) throw new TypeError('no capture file given');
  const broadcast = broadcastPort === null ? null : { address: isLoopback(host) ? '127.255.255.255' : '255.255.255.255', port: broadcastPort };
  return { file, options: { host, port, broadcast }, once };
}

const fmtHost = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export async function runReplay(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let parsed: ParsedReplay | 'help';
  try {
    parsed = parseReplayArgs(args);
  } catch (e) {
    err.write(`zonescope replay: ${(e as Error).message}\n\n${REPLAY_HELP}`);
    return 2;
  }
  if (parsed === 'help') {
    out.write(REPLAY_HELP);
    return 0;
  }
  const say = (line: string) => out.write(`zonescope replay: ${line}\n`);
  let replay: CaptureReplay;
  try {
    replay = await CaptureReplay.open(parsed.file, parsed.options);
  } catch (e) {
    err.write(`zonescope replay: ${parsed.file}: ${(e as Error).message}\n`);
    return 1;
  }
  // The listening socket is unreferenced (net/'s Listener, as in the SDK): this keeps the process up.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const h = replay.header;
  say(`${parsed.file}: app ${JSON.stringify(h.app)} pid ${h.pid}, recorded via ${h.source}${h.note ? ` (${h.note})` : ''}`);
  const host = parsed.options.host ?? '127.0.0.1';
  say(`listening on ${fmtHost(host, replay.port)} like a Tracy client; connect a receiver, e.g. zonescope serve --connect ${fmtHost(host, replay.port)}`);
  if (!isLoopback(host)) err.write(`zonescope replay: WARNING: ${fmtHost(host, replay.port)} is reachable from other hosts\n`);
  replay.onConnected = () => say('a receiver connected: streaming the capture');

  const interrupted = new Promise<'interrupted'>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('interrupted'));
  });
  const first = await Promise.race([replay.done, interrupted]);
  let code = 0;
  if (first !== 'interrupted') {
    say(describe(first));
    if (!first.complete) code = 1;
    if (!parsed.once) {
      say('later receivers get NotAvailable; Ctrl-C to quit');
      await interrupted;
    }
  }
  replay.close();
  clearInterval(keepAlive);
  return code;
}

function describe(r: ReplayResult): string {
  const how =
    r.end === 'server-terminate' ? 'the receiver finished (ServerQueryTerminate)' : r.end === 'closed' ? 'the receiver closed the connection' : 'the connection was closed here';
  const parts = [`sent ${r.frames} frames (${r.bytes} bytes)${r.complete ? ', the whole capture' : ', not the whole capture'}`, `${r.queries} queries received`, how];
  if (!r.terminate) parts.push('the capture has no Terminate (the app vanished or the file was cut): closed after the last frame');
  if (r.cutBytes > 0) parts.push(`${r.cutBytes} bytes of a cut last frame not sent`);
  if (r.error !== null) parts.push(`reading stopped: ${r.error}`);
  return parts.join('; ');
}
