/**
 * `zonescope/client` for Node.js: connect() dials Zonescope (TCP ingest, or its WebSocket
 * ingest with `url`); listen() waits for a receiver like a Tracy client (Tracy's profiler,
 * `zonescope serve --connect/--discover`). In a worker thread, connect() joins the main
 * thread's session. See docs/client.md.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { isMainThread, threadId } from 'node:worker_threads';
import WebSocket from 'ws';
import { Listener } from '../net/listener.js';
import { socketTransport } from '../net/socket-transport.js';
import { Client } from './client.js';
import { attachWithRetry } from './connect-retry.js';
import { closeWhenTaken, exitWaitOf } from './exit-wait.js';
import { closeOnExit, nodeContextStore, nodePlatform } from './node-platform.js';
import { resolveConnectOptions, resolveListenOptions, type ResolvedClientOptions } from './options.js';
import { ReceiverWait } from './receiver-wait.js';
import type { ClientTransport } from './transport.js';
import type { ConnectOptions, ListeningClient, ListenOptions, TracyClient } from './types.js';
import type { PlatformInfo } from './welcome.js';
import { startRuntimeMetrics } from './runtime-metrics.js';
import { resolveProfileSettings, startProfiling } from './profile.js';
import { joinMainThread } from './worker-client.js';
import { WorkerHub } from './worker-hub.js';
import { HELLO_CHANNEL, hrOriginNs } from './worker-protocol.js';
import { webSocketTransport, type WebSocketLike } from './websocket-transport.js';

export type * from './types.js';
export { ClientError, ClientErrorCode } from './transport.js';
export { nowNs } from './clock.js';
export { startRuntimeMetrics, type RuntimeMetricsOptions } from './runtime-metrics.js';
export { startProfiling, HEAP_POOL } from './profile.js';

/**
 * Connects to a receiver and resolves once the welcome was sent.
 * Default: TCP 127.0.0.1:8087 (Zonescope's ingest). `url` (ws://...) uses the WebSocket ingest.
 * @throws TypeError for contradictory or out-of-range options
 * With `retry`, a receiver that is not up yet is dialed again with backoff until
 * retry.timeoutMs (the process stays up meanwhile).
 * @throws ClientError ZS_CLIENT_CONNECT (refused, unreachable), ZS_CLIENT_TIMEOUT,
 *   ZS_CLIENT_BAD_HANDSHAKE, ZS_CLIENT_PROTOCOL_MISMATCH, ZS_CLIENT_CLOSED; with `retry`,
 *   ZS_CLIENT_NO_RECEIVER when it gave up (the last failure is its cause)
 */
export async function connect(options: ConnectOptions = {}): Promise<TracyClient> {
  const platform = nodePlatform();
  const o = resolveConnectOptions(options, platform.defaultAppName, null);
  if (options.profile !== undefined) resolveProfileSettings(options.profile);
  if (!isMainThread && o.joinMainThread) {
    const via = { threadId, hello: HELLO_CHANNEL, origin: hrOriginNs(), schedule: (fn: () => void) => setImmediate(fn) };
    const joined = await joinMainThread(o, nodeContextStore(), o.joinTimeoutMs, via);
    if (joined !== null) {
      if (o.exitHandlers) closeOnExit(joined);
      withRuntimeMetrics(joined, options.runtimeMetrics);
      if (options.profile?.cpu === true || options.profile?.heap === true) {
        process.emitWarning('zonescope: profile is for the main thread only (its client answers the frame queries); ignored in this worker', { code: 'ZS_CLIENT_PROFILE_WORKER' });
      }
      return joined;
    }
  }
  const client = newClient(Client, o, platform);
  const dial = (): ClientTransport => (o.url !== null ? openWebSocket(o.url, o.token) : socketTransport(netConnect({ host: o.host, port: o.port })));
  try {
    if (o.retry === null) await client.attach(dial(), o.connectTimeoutMs).ready;
    else await attachWithRetry(client, dial, o.connectTimeoutMs, o.retry, o.url ?? `${o.host}:${o.port}`);
  } catch (err) {
    client.abort();
    throw err;
  }
  withRuntimeMetrics(client, options.runtimeMetrics);
  withProfile(client, options.profile);
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

/** Starts the profilers when asked; their last samples go out before Terminate (a close hook). */
function withProfile(client: Client, setting: ConnectOptions['profile']): void {
  if (setting === undefined) return;
  const stop = startProfiling(client, setting);
  if (stop === null) return;
  client.addCloseHook(stop);
  void client.closed.then(stop);
}

/**
 * Listens for a receiver (events are held from now on, up to bufferBytes, and the first
 * receiver gets them all). Resolves once listening. `await tracy.connected` (or
 * `waitForReceiver({ timeoutMs })`) keeps the process up until a receiver comes; otherwise the
 * app exits when its work is done, unless waitAtExit / ZONESCOPE_NO_EXIT=1 holds it at exit.
 * @throws TypeError for bad options; the listen error (EADDRINUSE...) when the port is taken
 */
export async function listen(options: ListenOptions = {}): Promise<ListeningClient> {
  const platform = nodePlatform();
  const o = resolveListenOptions(options, platform.defaultAppName);
  if (options.profile !== undefined) resolveProfileSettings(options.profile);
  const client = newClient(ListeningNodeClient, o, platform);
  const listener = new Listener(client, { host: o.host, port: o.port, broadcast: o.broadcast }, platform.pid);
  try {
    client.listenPort = await listener.start();
  } catch (err) {
    client.abort();
    throw err;
  }
  const wait = new ReceiverWait((on) => listener.keepAlive(on));
  client.receiverWait = wait;
  void listener.connected.then(() => wait.onConnected());
  void client.closed.then(() => wait.onClosed());
  withRuntimeMetrics(client, options.runtimeMetrics);
  withProfile(client, options.profile);
  // Like Tracy's client, it keeps answering NotAvailable after its session, until close().
  client.addCloseHook(() => listener.stop());
  return client;
}

class ListeningNodeClient extends Client implements ListeningClient {
  listenPort = 0;
  receiverWait: ReceiverWait | null = null;

  get connected(): Promise<void> {
    return this.receiverWait!.connected;
  }

  waitForReceiver(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.receiverWait!.wait(options.timeoutMs);
  }
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
  if (o.exitHandlers) {
    const [waitMs, why] = exitWaitOf(o.waitAtExit, process.env.ZONESCOPE_NO_EXIT);
    if (waitMs > 0) {
      let atExit: Promise<void> | null = null;
      closeOnExit({
        close: () => client.close(),
        flushSync: () => client.flushSync(),
        closed: client.closed,
        closeAtExit: () => (atExit ??= closeWhenTaken(client, waitMs, why, (line) => process.stderr.write(line))),
      });
    } else {
      closeOnExit(client);
    }
  }
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
