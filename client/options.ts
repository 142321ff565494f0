import { resolveRetry, type ResolvedRetry } from './connect-retry.js';
import { MAX_TIMER_MS } from './receiver-wait.js';
import type { BroadcastOptions, ClientOptions, ConnectOptions, ListenOptions } from './types.js';

export const DEFAULT_INGEST_HOST = '127.0.0.1';
export const DEFAULT_INGEST_PORT = 8087;
export const DEFAULT_WS_URL = 'ws://127.0.0.1:8088/ingest';
export const DEFAULT_BROADCAST_PORT = 8086;

/** Options every transport shares, defaults applied and validated. */
export interface ResolvedClientOptions {
  appName: string;
  bufferBytes: number;
  flushIntervalMs: number;
  closeTimeoutMs: number;
  captureSourceLocations: boolean;
  compress: boolean;
  exitHandlers: boolean;
  /** ms, 0 = none, Infinity = no limit (before ZONESCOPE_NO_EXIT, which node.ts applies) */
  waitAtExit: number;
}

const MIB = 1024 * 1024;

/**
 * Applies the documented defaults and checks ranges once.
 * @throws TypeError naming the option that is out of range
 */
export function resolveClientOptions(o: ClientOptions, defaultAppName: string): ResolvedClientOptions {
  const bufferBytes = o.bufferBytes ?? 64 * MIB;
  if (!Number.isInteger(bufferBytes) || bufferBytes < MIB || bufferBytes > 2 ** 31) {
    throw new TypeError(`bufferBytes must be an integer from 1 MiB to 2 GiB, not ${bufferBytes}`);
  }
  const flushIntervalMs = o.flushIntervalMs ?? 10;
  if (!(flushIntervalMs > 0 && flushIntervalMs <= 60_000)) throw new TypeError(`flushIntervalMs must be in (0, 60000], not ${flushIntervalMs}`);
  const closeTimeoutMs = o.closeTimeoutMs ?? 5000;
  if (!(closeTimeoutMs >= 0)) throw new TypeError(`closeTimeoutMs must be >= 0, not ${closeTimeoutMs}`);
  const waitAtExit = o.waitAtExit ?? 0;
  if (waitAtExit !== Infinity && !(Number.isFinite(waitAtExit) && waitAtExit >= 0 && waitAtExit <= MAX_TIMER_MS)) {
    throw new TypeError(`waitAtExit must be in [0, ${MAX_TIMER_MS}] ms or Infinity, not ${waitAtExit}`);
  }
  const appName = o.appName ?? defaultAppName;
  if (typeof appName !== 'string') throw new TypeError('appName must be a string');
  return {
    appName,
    bufferBytes,
    flushIntervalMs,
    closeTimeoutMs,
    captureSourceLocations: o.captureSourceLocations ?? true,
    compress: o.compress ?? true,
    exitHandlers: o.exitHandlers ?? true,
    waitAtExit,
  };
}

export interface ResolvedConnectOptions extends ResolvedClientOptions {
  /** WebSocket URL, or null for TCP */
  url: string | null;
  /** the server's token for the WebSocket ingest, or null */
  token: string | null;
  host: string;
  port: number;
  connectTimeoutMs: number;
  joinMainThread: boolean;
  joinTimeoutMs: number;
  /** null: one attempt */
  retry: ResolvedRetry | null;
}

/**
 * @param defaultUrl browsers have no TCP: their default is the WebSocket ingest
 * @throws TypeError for url together with host/port, or a bad port
 */
export function resolveConnectOptions(o: ConnectOptions, defaultAppName: string, defaultUrl: string | null): ResolvedConnectOptions {
  if (o.url !== undefined && (o.host !== undefined || o.port !== undefined)) {
    throw new TypeError('connect: url (WebSocket) and host/port (TCP) are contradictory; give one');
  }
  const url = o.url ?? (o.host === undefined && o.port === undefined ? defaultUrl : null);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) throw new TypeError('token must be a non-empty string');
  if (o.token !== undefined && url === null) throw new TypeError('connect: token is for the WebSocket ingest (url); TCP ingest has no credentials (the server limits it with --ingest-allow)');
  const port = o.port ?? DEFAULT_INGEST_PORT;
  checkPort('port', port, false);
  const connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
  if (!(connectTimeoutMs > 0)) throw new TypeError(`connectTimeoutMs must be > 0, not ${connectTimeoutMs}`);
  return {
    ...resolveClientOptions(o, defaultAppName),
    url,
    token: o.token ?? null,
    host: o.host ?? DEFAULT_INGEST_HOST,
    port,
    connectTimeoutMs,
    joinMainThread: o.joinMainThread ?? true,
    joinTimeoutMs: o.joinTimeoutMs ?? 1000,
    retry: resolveRetry(o.retry),
  };
}

/**
 * The URL a browser WebSocket dials: `url` with `?token=` added (a browser cannot set headers on
 * a WebSocket handshake; the server accepts the token in the query too).
 */
export function urlWithToken(url: string, token: string | null): string {
  if (token === null) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

export interface ResolvedListenOptions extends ResolvedClientOptions {
  host: string;
  /** null: search 8086..8105 */
  port: number | null;
  broadcast: { address: string; port: number } | null;
}

/** @throws TypeError for a bad port or broadcast option */
export function resolveListenOptions(o: ListenOptions, defaultAppName: string): ResolvedListenOptions {
  const host = o.host ?? '127.0.0.1';
  if (o.port !== undefined) checkPort('port', o.port, true);
  let broadcast: ResolvedListenOptions['broadcast'] = null;
  if (o.broadcast !== undefined && o.broadcast !== false) {
    const b: BroadcastOptions = o.broadcast === true ? {} : o.broadcast;
    const port = b.port ?? DEFAULT_BROADCAST_PORT;
    checkPort('broadcast.port', port, false);
    const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
    broadcast = { address: b.address ?? (loopback ? '127.255.255.255' : '255.255.255.255'), port };
  }
  return { ...resolveClientOptions(o, defaultAppName), host, port: o.port ?? null, broadcast };
}

function checkPort(name: string, port: number, zeroOk: boolean): void {
  if (!Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) {
    throw new TypeError(`${name} must be an integer from ${zeroOk ? 0 : 1} to 65535, not ${port}`);
  }
}
