/**
 * `zonescope/client` in browsers: the same API as in Node.js, over Zonescope's WebSocket ingest
 * (the page's global WebSocket; no Node.js built-ins here). Async zones get their own tracks,
 * but without AsyncLocalStorage a zone begun after an `await` cannot be attributed to the async
 * zone it runs in: it lands on the main track (see docs/client.md). listen() needs Node.js.
 * A Web Worker joins the page's session as a thread of its own: the page passes joinKey(tracy)
 * to it, and the worker calls connect({ join: key }).
 */
import { Client } from './client.js';
import { DEFAULT_WS_URL, resolveConnectOptions, urlWithToken } from './options.js';
import { SyncContextStore, type AsyncZoneContext } from './tracks.js';
import type { ConnectOptions, ListeningClient, ListenOptions, TracyClient } from './types.js';
import type { PlatformInfo } from './welcome.js';
import { webSocketTransport, type WebSocketLike } from './websocket-transport.js';
import { joinMainThread, type WorkerClient } from './worker-client.js';
import { WorkerHub } from './worker-hub.js';

export type * from './types.js';
export { ClientError, ClientErrorCode } from './transport.js';
export { nowNs } from './clock.js';

/** The hello channel of each page client's worker hub (see joinKey). */
const joinKeys = new WeakMap<TracyClient, string>();

/**
 * Connects to Zonescope's WebSocket ingest (default ws://127.0.0.1:8088/ingest) and resolves
 * once the welcome was sent. With `join` (a key from joinKey(tracy) on the page), joins that
 * page's session instead (a Web Worker), or dials `url` if the page does not answer within
 * `joinTimeoutMs` (default 1000).
 * @throws TypeError for host/port (browsers have no TCP), a bad `join`, or out-of-range options
 * @throws ClientError as in Node.js
 */
export async function connect(options: ConnectOptions = {}): Promise<TracyClient> {
  if (options.host !== undefined || options.port !== undefined) {
    throw new TypeError('connect: browsers reach Zonescope by WebSocket: give url (host/port are TCP, Node.js only)');
  }
  const platform = browserPlatform();
  const o = resolveConnectOptions(options, platform.defaultAppName, DEFAULT_WS_URL);
  if (options.join !== undefined) {
    const joined = await joinPage(options.join, o);
    if (joined !== null) return joined;
  }
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
  const hub = typeof BroadcastChannel === 'function' ? newHub(client, o.closeTimeoutMs) : null;
  if (hub !== null) joinKeys.set(client, hub.key);
  if (o.exitHandlers && typeof addEventListener === 'function') {
    // No event loop turn is guaranteed after 'pagehide': send what is held, with Terminate, now
    // (the zones workers last reported open are ended: they cannot be asked any more).
    const onPageHide = () => {
      hub?.hub.endNow();
      client.flushSync();
    };
    // A hidden page may be frozen or discarded without a 'pagehide' (mobile browsers): send
    // what is held now; the session goes on if the page comes back.
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') client.flushNow();
    };
    addEventListener('pagehide', onPageHide, { once: true });
    if (typeof document === 'object') document.addEventListener('visibilitychange', onVisibility);
    void client.closed.then(() => {
      removeEventListener('pagehide', onPageHide);
      if (typeof document === 'object') document.removeEventListener('visibilitychange', onVisibility);
    });
  }
  return client;
}

/**
 * The key a Web Worker passes to connect({ join }) to become a thread of this page's session
 * (send it with postMessage, or in the worker's URL or name).
 * @throws TypeError for a client not made by this entry's connect() on a page with BroadcastChannel
 */
export function joinKey(tracy: TracyClient): string {
  const key = joinKeys.get(tracy);
  if (key === undefined) throw new TypeError('joinKey: not a page client of zonescope/client (browser) with BroadcastChannel');
  return key;
}

const JOIN_PREFIX = 'zonescope:client:page:';

/**
 * Workers reach the page's hub on a BroadcastChannel named by a random key: BroadcastChannel
 * spans every same-origin context, other tabs too, so a shared name would let a worker join the
 * wrong tab's session.
 */
function newHub(client: Client, closeTimeoutMs: number): { hub: WorkerHub; key: string } {
  const key = `${JOIN_PREFIX}${randomId()}`;
  const hub = new WorkerHub(client, Math.min(1000, closeTimeoutMs), { hello: key, origin: timeOriginNs(), assignThreadIds: true });
  return { hub, key };
}

async function joinPage(key: string, o: ReturnType<typeof resolveConnectOptions>): Promise<WorkerClient | null> {
  if (typeof key !== 'string' || !key.startsWith(JOIN_PREFIX)) throw new TypeError('connect: join must be a key from joinKey(tracy) on the page');
  if (typeof BroadcastChannel !== 'function') return null;
  // A random id names the worker's channel until the page assigns its thread id.
  const via = { threadId: 2 ** 31 + Math.floor(Math.random() * 2 ** 40), hello: key, origin: timeOriginNs(), schedule: (fn: () => void) => void setTimeout(fn, 0) };
  return joinMainThread(o, new SyncContextStore<AsyncZoneContext>(), o.joinTimeoutMs, via);
}

/**
 * Each context's performance.now() counts from its own timeOrigin (ms since the Unix epoch, a
 * double: ~0.25 us steps today); the difference of two origins puts a worker on the page's time line.
 */
function timeOriginNs(): bigint {
  return BigInt(Math.round(performance.timeOrigin * 1e6));
}

function randomId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
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
