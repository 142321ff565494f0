/**
 * `zonescope/client` in browsers: the same API as in Node.js, over Zonescope's WebSocket ingest
 * (the page's global WebSocket; no Node.js built-ins here). Async zones get their own tracks,
 * but without AsyncLocalStorage a zone begun after an `await` cannot be attributed to the async
 * zone it runs in: it lands on the main track (see docs/client.md). listen() needs Node.js.
 */
import { Client } from './client.js';
import { DEFAULT_WS_URL, resolveConnectOptions, urlWithToken } from './options.js';
import { SyncContextStore, type AsyncZoneContext } from './tracks.js';
import type { ConnectOptions, ListeningClient, ListenOptions, TracyClient } from './types.js';
import type { PlatformInfo } from './welcome.js';
import { webSocketTransport, type WebSocketLike } from './websocket-transport.js';

export type * from './types.js';
export { ClientError, ClientErrorCode } from './transport.js';
export { nowNs } from './clock.js';

/**
 * Connects to Zonescope's WebSocket ingest (default ws://127.0.0.1:8088/ingest) and resolves
 * once the welcome was sent.
 * @throws TypeError for host/port (browsers have no TCP) or out-of-range options
 * @throws ClientError as in Node.js
 */
export async function connect(options: ConnectOptions = {}): Promise<TracyClient> {
  if (options.host !== undefined || options.port !== undefined) {
    throw new TypeError('connect: browsers reach Zonescope by WebSocket: give url (host/port are TCP, Node.js only)');
  }
  const platform = browserPlatform();
  const o = resolveConnectOptions(options, platform.defaultAppName, DEFAULT_WS_URL);
  const url = o.url ?? DEFAULT_WS_URL;
  const client = new Client({
    appName: o.appName,
    platform,
    store: new SyncContextStore<AsyncZoneContext>(),
    bufferBytes: o.bufferBytes,
    flushIntervalMs: o.flushIntervalMs,
    closeTimeoutMs: o.closeTimeoutMs,
    captureSourceLocations: o.captureSourceLocations,
    compress: o.compress,
    schedule: (fn) => setTimeout(fn, 0),
  });
  // errors name `url`, never the URL with the token
  const conv = client.attach(webSocketTransport(new WebSocket(urlWithToken(url, o.token)) as unknown as WebSocketLike, url), o.connectTimeoutMs);
  try {
    await conv.ready;
  } catch (err) {
    client.abort();
    throw err;
  }
  if (o.exitHandlers && typeof addEventListener === 'function') {
    // No event loop turn is guaranteed after 'pagehide': send what is held, with Terminate, now.
    addEventListener('pagehide', () => client.flushSync(), { once: true });
  }
  return client;
}

/** Listen mode needs a TCP server: Node.js only. */
export async function listen(_options: ListenOptions = {}): Promise<ListeningClient> {
  throw new TypeError('listen() needs Node.js (a TCP server); in browsers use connect({ url })');
}

function browserPlatform(): PlatformInfo {
  const nav = typeof navigator === 'object' ? navigator : null;
  const host = typeof location === 'object' ? location.host : '';
  const lines = [`Browser: ${nav?.userAgent ?? '?'}`, `Page: ${typeof location === 'object' ? location.href : '?'}`, `CPU cores: ${nav?.hardwareConcurrency ?? '?'}`, 'SDK: zonescope/client (browser)'];
  return { pid: 0, cpuArch: 0, hostInfo: lines.join('\n'), defaultAppName: host !== '' ? host : 'browser' };
}
