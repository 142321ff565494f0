import type { Server } from 'node:net';
import { FrameInflater } from '../protocol/tracy/index.js';
import { CaptureSpool } from './capture/spool.js';
import { startFleet, type FleetHandle, type FleetOptions } from './fleet/fleet.js';
import { startHttpServer, type HttpServerHandle } from './http/http-server.js';
import { Discovery } from './ingest/discovery.js';
import { InflatePool } from './ingest/inflate-pool.js';
import { listenTcpIngest } from './ingest/tcp-ingest.js';
import { TracyDialer } from './ingest/tracy-dialer.js';
import { warmUpDecoder } from './ingest/warm-up.js';
import { log } from './log.js';
import { ingestAcceptor, resolveSecurity, type ResolvedSecurity, type SecurityOptions } from './security/security-options.js';
import { SessionRegistry } from './session/session-registry.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface ServeOptions {
  /** HTTP (viewer, API, /ingest, /api/live, /metrics); default 127.0.0.1:8088. Port 0 = any. */
  http?: HostPort;
  /** TCP ingest for SDK apps; default 127.0.0.1:8087; null = off. */
  ingest?: HostPort | null;
  /** Tracy clients to dial (and re-dial). */
  connect?: HostPort[];
  /** Listen for Tracy's UDP broadcasts on this port (8086) and dial every client; off when undefined. */
  discoverPort?: number;
  /** Memory budget of all sessions, bytes; default 1 GiB. */
  memoryBytes?: number;
  /** Spool every session to DIR/<id>.zscap and list the captures already there (server/capture/spool.ts); off when undefined. */
  dataDir?: string;
  /** /api/live viewers at once; the next are closed with 1013 (default 64, --max-viewers). */
  maxViewers?: number;
  /** Byte cap of one live update (default 2 MiB; for tests and embedders, no CLI option). */
  liveUpdateMaxBytes?: number;
  /** Host/Origin checks, token, TLS and the TCP ingest allow-list (docs/security.md); safe defaults when absent. */
  security?: SecurityOptions;
  /** ms a connection has to deliver a valid welcome; default 5000; 0 = no limit. */
  handshakeTimeoutMs?: number;
  /** ms of silence before a live app's connection is closed; default 60000; 0 = never. */
  idleTimeoutMs?: number;
  /** Ingest connections (TCP + /ingest) open at once; default 128. */
  maxConnections?: number;
  /** Ingest connections open at once from one address; default 64. */
  maxConnectionsPerAddress?: number;
  /**
   * Worker threads that decompress the apps' streams (docs/server.md, "Ingest pipeline");
   * default one per core beyond the first (1-4); 0 = decode on the main thread.
   */
  ingestWorkers?: number;
  /**
   * Warm the decoder up (server/ingest/warm-up.ts, ~100 ms) before listening or dialing, so
   * the first session runs as fast as later ones; default false (the CLI sets it).
   */
  warmUp?: boolean;
  /** --clickhouse URL: write every session to ClickHouse and list the sessions stored there (docs/fleet.md) */
  clickhouse?: string;
  /** --influx URL: write every plot sample to InfluxDB 1.x, measurement zonescope_plot (docs/fleet.md) */
  influx?: string;
  /** fleet sink settings for tests and embedders (server id, feed interval, batch limits) */
  fleet?: Omit<FleetOptions, 'clickhouse' | 'influx' | 'dataDir'>;
}

export interface ServerHandle {
  registry: SessionRegistry;
  http: HttpServerHandle;
  httpPort: number;
  ingest: Server | null;
  ingestPort: number | null;
  dialers: TracyDialer[];
  discovery: Discovery | null;
  spool: CaptureSpool | null;
  /** The fleet sinks (--clickhouse): their counters, flush and close. */
  fleet: FleetHandle;
  /** What guards the server: its token (null: none needed), TLS, refusal counters. */
  security: ResolvedSecurity;
  close(): Promise<void>;
}

export const DEFAULT_HTTP: HostPort = { host: '127.0.0.1', port: 8088 };
export const DEFAULT_INGEST: HostPort = { host: '127.0.0.1', port: 8087 };

/** Starts everything `zonescope serve` runs, in this process. */
export async function startServer(options: ServeOptions = {}): Promise<ServerHandle> {
  const httpAt = options.http ?? DEFAULT_HTTP;
  // first: bad or unsafe security options must fail before anything listens
  const security = resolveSecurity(httpAt.host, (options.ingest === undefined ? DEFAULT_INGEST : options.ingest)?.host ?? null, options.security);
  // started before any connection: a session does not wait for a thread to start
  const inflatePool = options.ingestWorkers === 0 ? null : InflatePool.start(options.ingestWorkers);
  // sessions inflate on this thread without workers: its LZ4 decoder, ready (or why not) now
  const lz4Fallback = inflatePool === null ? FrameInflater.prepareLz4() : null;
  if (lz4Fallback !== null) log('%s', lz4Fallback);
  if (options.warmUp) {
    const w = warmUpDecoder({ path: inflatePool === null ? 'main-thread' : 'inflate-worker' });
    log('decoder warmed up: %d synthetic zones in %d ms', w.zones, Math.round(w.ms));
  }
  const registry = new SessionRegistry({
    inflatePool,
    ...(options.memoryBytes !== undefined ? { memoryBytes: options.memoryBytes } : {}),
    ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
    ...(options.maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress: options.maxConnectionsPerAddress } : {}),
  });
  // before anything listens: new session ids must skip the captures already in DIR
  // a start that fails stops the ingest workers it started
  const failed = async (err: unknown): Promise<never> => {
    await inflatePool?.close();
    throw err;
  };
  const spool = options.dataDir !== undefined ? await CaptureSpool.open(options.dataDir).catch(failed) : null;
  spool?.attach(registry);
  const fleet = await startFleet(registry, { ...options.fleet, ...(options.clickhouse !== undefined && { clickhouse: options.clickhouse }), ...(options.influx !== undefined && { influx: options.influx }), ...(options.dataDir !== undefined && { dataDir: options.dataDir }) }).catch(failed);
  const liveOptions = { ...(options.maxViewers !== undefined && { maxViewers: options.maxViewers }), ...(options.liveUpdateMaxBytes !== undefined && { maxUpdateBytes: options.liveUpdateMaxBytes }) };
  const http = await startHttpServer(registry, httpAt.host, httpAt.port, security, liveOptions, fleet).catch(failed);
  let ingest: Server | null = null;
  try {
    const ingestAt = options.ingest === undefined ? DEFAULT_INGEST : options.ingest;
    if (ingestAt) ingest = await listenTcpIngest(registry, ingestAt.host, ingestAt.port, ingestAcceptor(security));
  } catch (err) {
    await http.close();
    await inflatePool?.close();
    throw err;
  }
  let discovery: Discovery | null = null;
  if (options.discoverPort !== undefined) {
    discovery = new Discovery(registry, options.discoverPort);
    try {
      await discovery.start();
    } catch (err) {
      // e.g. EADDRINUSE: release what is already listening, or the process would stay up
      discovery.stop();
      await new Promise<void>((done) => (ingest ? ingest.close(() => done()) : done()));
      await http.close();
      await inflatePool?.close();
      throw err;
    }
  }
  // Dial last, once nothing else can fail: a session must not start on a server that will not.
  const dialers = (options.connect ?? []).map((hp) => new TracyDialer(registry, { host: hp.host, port: hp.port }));
  for (const d of dialers) d.start();
  const ingestAddress = ingest?.address();
  return {
    registry,
    http,
    httpPort: http.port,
    ingest,
    ingestPort: ingestAddress && typeof ingestAddress === 'object' ? ingestAddress.port : null,
    dialers,
    discovery,
    spool,
    fleet,
    security,
    close: async () => {
      for (const d of dialers) d.stop();
      discovery?.stop();
      registry.stopAll();
      spool?.close();
      await fleet.close();
      await new Promise<void>((done) => (ingest ? ingest.close(() => done()) : done()));
      await http.close();
      await inflatePool?.close();
    },
  };
}

/** Parses HOST:PORT, HOST, :PORT or PORT (IPv6 as [::1]:PORT). */
export function parseHostPort(text: string, defaults: HostPort): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new TypeError(`not HOST[:PORT]: ${text}`);
  const host = m[1] ?? (m[2] || defaults.host);
  const port = m[3] !== undefined ? Number(m[3]) : /^\d+$/.test(text) ? Number(text) : defaults.port;
  const realHost = /^\d+$/.test(text) ? defaults.host : host;
  if (!(port >= 0 && port < 65536)) throw new TypeError(`port out of range in ${text}`);
  return { host: realHost, port };
}

/** Parses 64MB, 1GiB, 512k, 1e9 (bytes). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
  if (!m) throw new TypeError(`not a size: ${text} (e.g. 512MB, 1GiB)`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(Number(m[1]) * unit);
  if (!(bytes > 0)) throw new TypeError(`size must be positive: ${text}`);
  return bytes;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Parses a duration in ms: 250, 250ms, 5s, 2m; 0 is allowed (the callers read it as "off"). */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!m) throw new TypeError(`not a duration: ${text} (e.g. 500ms, 5s, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 'ms').toLowerCase() as 'ms' | 's' | 'm'];
  return Math.round(Number(m[1]) * unit);
}
