import { readFileSync } from 'node:fs';
import { cliOptions, parseCommandArgs } from './cli-options.js';
import { parseClickHouseUrl } from './fleet/clickhouse-connection.js';
import { parseInfluxUrl } from './fleet/influx-sink.js';
import { MAX_INFLATE_WORKERS } from './ingest/inflate-pool.js';
import { setLogSink } from './log.js';
import { DEFAULT_HTTP, DEFAULT_INGEST, parseDurationMs, parseHostPort, parseSize, startServer, type HostPort, type ServeOptions, type ServerHandle } from './serve.js';

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
  --clickhouse URL      also write every session (zones, frames, plots, messages) to ClickHouse,
                        e.g. http://127.0.0.1:8123/?database=zonescope, and list the sessions
                        stored there; batches that do not fit in memory spill to --data DIR
                        (docs/fleet.md)
  --influx URL          also write every plot sample (the SDK's runtime metrics too) to InfluxDB
                        1.x as measurement zonescope_plot, tags app, host, plot, session, e.g.
                        http://127.0.0.1:8086/?db=zonescope (database created if missing)
  --max-viewers N       live viewers (/api/live connections) at once (default 64); the next
                        are closed with WebSocket code 1013 and a reason naming this option
  --handshake-timeout D an app that sends no valid welcome within D is closed, never listed
                        (default 5s; 0 = no limit; D like 500ms, 5s, 2m)
  --idle-timeout D      a live app that sends nothing for D is closed (default 60s; 0 = never;
                        Tracy clients and the SDK send a keep-alive every 5 s when idle)
  --max-connections N   ingest connections (TCP + /ingest) open at once; more are refused
                        (default 128)
  --max-connections-per-address N
                        the same, from one remote address (default 64)
  --ingest-workers N    threads that decompress the apps' streams beside the one that walks
                        them and serves HTTP (default: one per core beyond the first, 1-4,
                        and 0 on one or two cores; 0 = everything on the main thread)
  --quiet               no log lines (errors only)
  -h, --help            this text

Security (docs/security.md):
  --allow-host NAME     also answer requests for Host NAME (besides localhost, 127.0.0.0/8, [::1]
                        and the --http address); repeatable; .example.com allows subdomains
  --allow-origin ORIGIN let web pages from ORIGIN (e.g. http://localhost:5173) POST, DELETE and
                        open the WebSockets; repeatable
  --token TOKEN         require TOKEN on every request (also ZONESCOPE_TOKEN); when --http is
                        not loopback a token is required anyway, generated and printed if not given
  --no-token            no token even when --http is reachable from other hosts (warned about)
  --ingest-allow CIDR   TCP ingest accepts only these peers (e.g. 192.168.1.0/24); repeatable;
                        required when --ingest is not loopback
  --tls-cert FILE       serve HTTPS/WSS with this PEM certificate (chain) ...
  --tls-key FILE        ... and this PEM private key
`;

export interface ParsedServe {
  options: ServeOptions;
  quiet: boolean;
  /** --tls-cert/--tls-key paths, read by runServe */
  tlsFiles?: { cert: string; key: string };
}

/** Parses serve's arguments (`env` for ZONESCOPE_TOKEN); throws TypeError naming the bad option. */
export function parseServeArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ParsedServe | 'help' {
  // a CLI server warms its decoder up before it connects to anything (server/ingest/warm-up.ts);
  // ZONESCOPE_NO_WARM_UP=1 skips it (for the ingest benchmark's comparison)
  const options: ServeOptions = { warmUp: process.env.ZONESCOPE_NO_WARM_UP !== '1' };
  let quiet = false;
  const security: NonNullable<ServeOptions['security']> = {};
  let tlsCert: string | undefined;
  let tlsKey: string | undefined;
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
      case '--clickhouse': {
        const url = value();
        parseClickHouseUrl(url);
        options.clickhouse = url;
        break;
      }
      case '--influx': {
        const url = value();
        parseInfluxUrl(url);
        options.influx = url;
        break;
      }
      case '--max-viewers': {
        const v = value();
        const n = Number(v);
        if (!(/^\d+$/.test(v) && Number.isSafeInteger(n) && n >= 1)) throw new TypeError(`--max-viewers needs a positive integer, got ${v}`);
        options.maxViewers = n;
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
      case '--ingest-workers': {
        const text = value();
        const n = Number(text);
        if (!/^\d+$/.test(text) || n > MAX_INFLATE_WORKERS) throw new TypeError(`--ingest-workers wants 0 to ${MAX_INFLATE_WORKERS}, not ${text}`);
        options.ingestWorkers = n;
        break;
      }
      case '--quiet':
        quiet = true;
        break;
      case '--allow-host':
        (security.allowHosts ??= []).push(value());
        break;
      case '--allow-origin':
        (security.allowOrigins ??= []).push(value());
        break;
      case '--token':
        security.token = value();
        break;
      case '--no-token':
        security.noToken = true;
        break;
      case '--ingest-allow':
        (security.ingestAllow ??= []).push(value());
        break;
      case '--tls-cert':
        tlsCert = value();
        break;
      case '--tls-key':
        tlsKey = value();
        break;
      default:
        throw new TypeError(`unknown option ${arg}`);
    }
  }
  // the flag wins over the environment: --no-token with ZONESCOPE_TOKEN set means no token
  if (security.token === undefined && !security.noToken && env.ZONESCOPE_TOKEN) security.token = env.ZONESCOPE_TOKEN;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new TypeError('--tls-cert and --tls-key go together');
  options.security = security;
  const parsed: ParsedServe = { options, quiet };
  if (tlsCert !== undefined && tlsKey !== undefined) parsed.tlsFiles = { cert: tlsCert, key: tlsKey };
  return parsed;
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
  if (parsed.tlsFiles) {
    try {
      options.security = { ...options.security, tls: { cert: readFileSync(parsed.tlsFiles.cert), key: readFileSync(parsed.tlsFiles.key) } };
    } catch (e) {
      err.write(`zonescope serve: cannot read the TLS certificate or key: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (!quiet) setLogSink((line) => err.write(`${new Date().toISOString()} ${line}\n`));
  let server: ServerHandle;
  try {
    server = await startServer(options);
  } catch (e) {
    // resolveSecurity's TypeErrors: a bad --allow-host/--token/..., or an unguarded --ingest
    if (!(e instanceof TypeError)) throw e;
    err.write(`zonescope serve: ${e.message}\n`);
    return 2;
  }
  const httpAt = options.http ?? DEFAULT_HTTP;
  const say = (line: string) => out.write(line + '\n');
  const sec = server.security;
  // a generated token is printed once, here, as a URL to open; a given one is never echoed
  const login = sec.tokenGenerated && sec.token !== null ? `?token=${sec.token}` : '';
  say(`zonescope: viewer and API on ${sec.tls ? 'https' : 'http'}://${fmt({ host: httpAt.host, port: server.httpPort })}/${login}  (live WebSocket /api/live, ingest WebSocket /ingest, metrics /metrics)`);
  if (sec.token !== null && !sec.tokenGenerated) say('zonescope: every request needs the token given with --token or ZONESCOPE_TOKEN (Authorization: Bearer, or open /?token= once)');
  if (server.ingest) say(`zonescope: TCP ingest for SDK apps on ${fmt({ host: (options.ingest ?? DEFAULT_INGEST).host, port: server.ingestPort! })}`);
  if (sec.ingestAllow && server.ingest) say(`zonescope: TCP ingest accepts connections from ${sec.ingestAllow.ranges.join(', ')} only`);
  for (const d of server.dialers) say(`zonescope: dialing Tracy client at ${fmt(d)} (re-dials when the app restarts)`);
  if (server.discovery) say(`zonescope: listening for Tracy broadcasts on UDP ${server.discovery.boundPort}`);
  if (server.spool) {
    const n = server.spool.size;
    say(`zonescope: spooling sessions to ${server.spool.dir}/<id>.zscap; ${n} stored capture${n === 1 ? '' : 's'} listed (loaded when opened)`);
    for (const p of server.spool.problems) err.write(`zonescope: ${server.spool.dir}: not listed: ${p}\n`);
  }
  say(`zonescope: memory budget ${(server.registry.budget.limit / 2 ** 20).toFixed(0)} MiB`);
  // The port actually bound (port 0 picks one), so the line names what is reachable.
  // (A TCP ingest off loopback cannot start without --ingest-allow: resolveSecurity.)
  const httpBound = { host: httpAt.host, port: server.httpPort };
  if (sec.httpExposed && sec.token === null) {
    err.write(`zonescope: WARNING: ${fmt(httpBound)} is reachable from other hosts and --no-token is set: anyone on the network can read, import and delete sessions; bind to 127.0.0.1 unless the network is trusted\n`);
  } else if (sec.httpExposed) {
    say(`zonescope: ${fmt(httpBound)} is reachable from other hosts: every request needs the token${sec.tls ? '' : '; without --tls-cert it travels in clear text (docs/security.md)'}`);
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
