/**
 * `zonescope/client` for Node.js: connect() dials Zonescope (TCP ingest, or its WebSocket
 * ingest with `url`); listen() waits for a receiver like a Tracy client (Tracy's profiler,
 * `zonescope serve --connect/--discover`). In a worker thread, connect() joins the main
 * thread's session. See docs/client.md.
 */
import type { Socket } from 'node:net';
import { isMainThread, threadId } from 'node:worker_threads';
import WebSocket from 'ws';
import { Client } from './client.js';
import { Listener } from './listener.js';
import { closeOnExit, nodeContextStore, nodePlatform } from './node-platform.js';
import { resolveConnectOptions, resolveListenOptions, type ResolvedClientOptions } from './options.js';
import { dialTcp } from './tcp-transport.js';
import type { ClientTransport } from './transport.js';
import type { ConnectOptions, ListeningClient, ListenOptions, TracyClient } from './types.js';
import type { PlatformInfo } from './welcome.js';
import { startRuntimeMetrics } from './runtime-metrics.js';
import { joinMainThread } from './worker-client.js';
import { WorkerHub } from './worker-hub.js';
import { HELLO_CHANNEL, hrOriginNs } from './worker-protocol.js';
import { webSocketTransport, type WebSocketLike } from './websocket-transport.js';

export type * from './types.js';
export { ClientError, ClientErrorCode } from './transport.js';
export { nowNs } from './clock.js';
export { startRuntimeMetrics, type RuntimeMetricsOptions } from './runtime-metrics.js';

/**
 * Connects to a receiver and resolves once the welcome was sent.
 * Default: TCP 127.0.0.1:8087 (Zonescope's ingest). `url` (ws://...) uses the WebSocket ingest.
 * @throws TypeError for contradictory or out-of-range options
 * @throws ClientError ZS_CLIENT_CONNECT (refused, unreachable), ZS_CLIENT_TIMEOUT,
 *   ZS_CLIENT_BAD_HANDSHAKE, ZS_CLIENT_PROTOCOL_MISMATCH, ZS_CLIENT_CLOSED
 */
export async function connect(options: ConnectOptions = {}): Promise<TracyClient> {
  const platform = nodePlatform();
  const o = resolveConnectOptions(options, platform.defaultAppName, null);
  if (!isMainThread && o.joinMainThread) {
    const via = { threadId, hello: HELLO_CHANNEL, origin: hrOriginNs(), schedule: (fn: () => void) => setImmediate(fn) };
    const joined = await joinMainThread(o, nodeContextStore(), o.joinTimeoutMs, via);
    if (joined !== null) {
      if (o.exitHandlers) closeOnExit(joined);
      withRuntimeMetrics(joined, options.runtimeMetrics);
      return joined;
    }
  }
  const client = newClient(Client, o, platform);
  const transport = o.url !== null ? openWebSocket(o.url, o.token) : dialTcp(o.host, o.port);
  const conv = client.attach(transport, o.connectTimeoutMs);
  try {
    await conv.ready;
  } catch (err) {
    client.abort();
    throw err;
  }
  withRuntimeMetrics(client, options.runtimeMetrics);
  return client;
}

/**
 * For code shared with browsers (where a Web Worker joins with connect({ join: joinKey(tracy) })):
 * Node.js worker threads join the main thread's session by themselves, and connect() ignores
 * `join`, so any client's key is this constant.
 */
export function joinKey(_tracy: TracyClient): string {
  return 'zonescope:client:node';
}

/** Starts runtimeMetrics sampling when asked, and stops it when the client closes. */
function withRuntimeMetrics(client: TracyClient, setting: ConnectOptions['runtimeMetrics']): void {
  if (!setting) return;
  const stop = startRuntimeMetrics(client, setting === true ? {} : setting);
  if (client instanceof Client) client.addCloseHook(stop);
}

/**
 * Listens for a receiver (events are held from now on, up to bufferBytes, and the first
 * receiver gets them all). Resolves once listening.
 * @throws TypeError for bad options; the listen error (EADDRINUSE...) when the port is taken
 */
export async function listen(options: ListenOptions = {}): Promise<ListeningClient> {
  const platform = nodePlatform();
  const o = resolveListenOptions(options, platform.defaultAppName);
  const client = newClient(ListeningNodeClient, o, platform);
  const listener = new Listener(client, { host: o.host, port: o.port, broadcast: o.broadcast }, platform.pid);
  try {
    client.listenPort = await listener.start();
  } catch (err) {
    client.abort();
    throw err;
  }
  client.connected = listener.connected;
  withRuntimeMetrics(client, options.runtimeMetrics);
  // Like Tracy's client, it keeps answering NotAvailable after its session, until close().
  client.addCloseHook(() => listener.stop());
  return client;
}

class ListeningNodeClient extends Client implements ListeningClient {
  listenPort = 0;
  connected: Promise<void> = new Promise(() => {});
}

function newClient<C extends Client>(Kind: new (config: ConstructorParameters<typeof Client>[0]) => C, o: ResolvedClientOptions, platform: PlatformInfo): C {
  const client = new Kind({
    appName: o.appName,
    platform,
    store: nodeContextStore(),
    bufferBytes: o.bufferBytes,
    flushIntervalMs: o.flushIntervalMs,
    closeTimeoutMs: o.closeTimeoutMs,
    captureSourceLocations: o.captureSourceLocations,
    compress: o.compress,
    schedule: (fn) => setImmediate(fn),
  });
  if (isMainThread) new WorkerHub(client, Math.min(1000, o.closeTimeoutMs));
  if (o.exitHandlers) closeOnExit(client);
  return client;
}

/**
 * Node 20 has no global WebSocket: the `ws` package has the same browser-style API (and, unlike
 * a browser's, can send the token as a header, which stays out of URLs and logs).
 */
function openWebSocket(url: string, token: string | null): ClientTransport {
  const ws = new WebSocket(url, token !== null ? { headers: { authorization: `Bearer ${token}` } } : {});
  return webSocketTransport(ws as unknown as WebSocketLike, url, (on) => {
    const socket = (ws as unknown as { _socket?: Socket | null })._socket;
    if (on) socket?.ref();
    else socket?.unref();
  });
}
