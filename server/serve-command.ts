import { cliOptions, parseCommandArgs } from './cli-options.js';
import { setLogSink } from './log.js';
import { DEFAULT_HTTP, DEFAULT_INGEST, isLoopback, parseDurationMs, parseHostPort, parseSize, startServer, type HostPort, type ServeOptions } from './serve.js';

export const SERVE_HELP = `Usage: zonescope serve [options]

Starts the server: the viewer and API over HTTP, TCP ingest for SDK apps, and (optionally)
dials Tracy-instrumented apps.

Options:
  --http HOST:PORT      viewer at /, API at /api/*, viewer WebSocket /api/live, ingest WebSocket
                        /ingest, Prometheus /metrics (default ${DEFAULT_HTTP.host}:${DEFAULT_HTTP.port})
  --ingest HOST:PORT    TCP ingest: apps using the SDK dial in (default ${DEFAULT_INGEST.host}:${DEFAULT_INGEST.port});
                        --ingest off disables it
  --connect HOST[:PORT] dial a Tracy client (Tracy apps listen on 8086); repeatable; re-dials
                        when the app restarts
  --discover[=PORT]     listen for Tracy clients' UDP broadcasts (port 8086) and dial each one
  --memory SIZE         memory budget of all sessions' stores, e.g. 512MB, 2GiB (default 1GiB);
                        the oldest data is evicted first and reported
  --data DIR            write every session to DIR/<id>.zscap as it arrives, and list the
                        captures already in DIR (loaded when first opened); default off
  --handshake-timeout D an app that sends no valid welcome within D is closed, never listed
                        (default 5s; 0 = no limit; D like 500ms, 5s, 2m)
  --idle-timeout D      a live app that sends nothing for D is closed (default 60s; 0 = never;
                        Tracy clients and the SDK send a keep-alive every 5 s when idle)
  --max-connections N   ingest connections (TCP + /ingest) open at once; more are refused
                        (default 128)
  --max-connections-per-address N
                        the same, from one remote address (default 64)
  --quiet               no log lines (errors only)
  -h, --help            this text
`;

export interface ParsedServe {
  options: ServeOptions;
  quiet: boolean;
}

/** Parses serve's arguments; throws TypeError naming the bad option. */
export function parseServeArgs(args: string[]): ParsedServe | 'help' {
  const options: ServeOptions = {};
  let quiet = false;
  for (const { arg, flag, inline, value } of cliOptions(args)) {
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--http':
        options.http = parseHostPort(value(), DEFAULT_HTTP);
        break;
      case '--ingest': {
        const v = value();
        options.ingest = v === 'off' ? null : parseHostPort(v, DEFAULT_INGEST);
        break;
      }
      case '--connect':
        (options.connect ??= []).push(parseHostPort(value(), { host: '127.0.0.1', port: 8086 }));
        break;
      case '--discover':
        options.discoverPort = inline !== undefined ? Number(inline) : 8086;
        if (!(options.discoverPort >= 0 && options.discoverPort < 65536)) throw new TypeError(`bad --discover port: ${inline}`);
        break;
      case '--memory':
        options.memoryBytes = parseSize(value());
        break;
      case '--data': {
        const dir = value();
        if (dir === '') throw new TypeError('--data needs a folder');
        options.dataDir = dir;
        break;
      }
      case '--handshake-timeout':
        options.handshakeTimeoutMs = parseDurationMs(value());
        break;
      case '--idle-timeout':
        options.idleTimeoutMs = parseDurationMs(value());
        break;
      case '--max-connections':
        options.maxConnections = positiveCount('--max-connections', value());
        break;
      case '--max-connections-per-address':
        options.maxConnectionsPerAddress = positiveCount('--max-connections-per-address', value());
        break;
      case '--quiet':
        quiet = true;
        break;
      default:
        throw new TypeError(`unknown option ${arg}`);
    }
  }
  return { options, quiet };
}

function positiveCount(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(n >= 1)) throw new TypeError(`${flag} needs a positive integer, not ${text}`);
  return n;
}

const fmt = (hp: HostPort) => (hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`);

export async function runServe(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const run = parseCommandArgs('serve', SERVE_HELP, parseServeArgs, args, out, err);
  if ('status' in run) return run.status;
  const parsed = run.args;
  const { options, quiet } = parsed;
  if (!quiet) setLogSink((line) => err.write(`${new Date().toISOString()} ${line}\n`));
  const server = await startServer(options);
  const httpAt = options.http ?? DEFAULT_HTTP;
  const say = (line: string) => out.write(line + '\n');
  say(`zonescope: viewer and API on http://${fmt({ host: httpAt.host, port: server.httpPort })}/  (live WebSocket /api/live, ingest WebSocket /ingest, metrics /metrics)`);
  if (server.ingest) say(`zonescope: TCP ingest for SDK apps on ${fmt({ host: (options.ingest ?? DEFAULT_INGEST).host, port: server.ingestPort! })}`);
  for (const d of server.dialers) say(`zonescope: dialing Tracy client at ${fmt(d)} (re-dials when the app restarts)`);
  if (server.discovery) say(`zonescope: listening for Tracy broadcasts on UDP ${server.discovery.boundPort}`);
  if (server.spool) {
    const n = server.spool.size;
    say(`zonescope: spooling sessions to ${server.spool.dir}/<id>.zscap; ${n} stored capture${n === 1 ? '' : 's'} listed (loaded when opened)`);
    for (const p of server.spool.problems) err.write(`zonescope: ${server.spool.dir}: not listed: ${p}\n`);
  }
  say(`zonescope: memory budget ${(server.registry.budget.limit / 2 ** 20).toFixed(0)} MiB`);
  // The ports actually bound (port 0 picks one), so the warning names what is reachable.
  const bound = [{ host: httpAt.host, port: server.httpPort }];
  if (server.ingest) bound.push({ host: (options.ingest ?? DEFAULT_INGEST).host, port: server.ingestPort! });
  for (const hp of bound) {
    if (!isLoopback(hp.host)) err.write(`zonescope: WARNING: ${fmt(hp)} is reachable from other hosts, and the server has no authentication; bind to 127.0.0.1 unless the network is trusted\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      say('zonescope: shutting down');
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
