/**
 * The public surface of `zonescope/client`: the GoTracy API in TypeScript naming, its options and
 * its statistics. Node.js (`client/node.ts`) and browsers (`client/browser.ts`) export the same
 * `connect` and the same TracyClient; `listen` works in Node.js only.
 */

/** How PlotConfig shows a plot's values. */
export type PlotFormatName = 'number' | 'memory' | 'percentage' | 'watt';

export interface PlotConfigOptions {
  /** Default 'number'. 'memory' shows bytes, 'percentage' a percent sign. */
  format?: PlotFormatName;
  /** Draw steps instead of lines between points. Default false. */
  step?: boolean;
  /** Fill the area under the line. Default true (Tracy's default). */
  fill?: boolean;
  /** 0xRRGGBB; 0 (default) = the receiver's colour. */
  color?: number;
}

/** Where the connection is: waiting for a receiver, streaming, sending Terminate, or done. */
export type ClientState = 'waiting' | 'connected' | 'closing' | 'closed';

/** Counters of what the client did and did not send. Every drop is counted here. */
export interface ClientStats {
  /** Events not recorded: the buffer was full (`bufferBytes`) or the session was over. */
  dropped: number;
  /** Plot values not sent because they were NaN or infinite (Tracy would desync, P10). */
  droppedNonFinite: number;
  /** Zones still open at close(), ended there so the receiver can finish (P21). */
  zonesEndedAtClose: number;
  /** Zones ended because an enclosing zone on the same track ended first. */
  zonesEndedEarly: number;
  /** zoneEnd/zoneText/... for a zone that is not open (ended twice, or ended early). */
  unknownZoneIds: number;
  /** frameMarkEnd without a frameMarkStart of the same name on this thread (not sent). */
  unmatchedFrameEnds: number;
  /** Bytes held: queue items not yet framed plus frames not yet sent. */
  bufferedBytes: number;
  /** Bytes handed to the transport (status byte and welcome included). */
  sentBytes: number;
  /** LZ4 frames handed to the transport. */
  frames: number;
  /** Query packets answered. */
  queries: number;
  /** Worker threads whose events join this session (main thread only). */
  workers: number;
  /** `profile`: CPU samples sent (CallstackSample items) and live heap samples sent as allocations. */
  profileSamples: number;
  /** `profile`: CPU or heap samples not sent (over the per-interval cap, the buffer full, the session over). */
  profileDropped: number;
}

/**
 * connect({ profile }) / listen({ profile }): V8's profilers streamed as Tracy callstacks (Node.js
 * main thread only; docs/client.md "Profiling"). Both default off.
 */
export interface ProfileSettings {
  /** CPU samples (node:inspector Profiler) as CallstackSample items. */
  cpu?: boolean;
  /** V8's sampling heap profiler as allocations with callstacks in the pool "V8 heap (sampled)". */
  heap?: boolean;
  /** CPU sampling interval, us. Default 1000; 100..100000. */
  cpuIntervalUs?: number;
  /** Mean bytes between heap samples. Default 524288 (Go's MemProfileRate; V8's own is 32768); 1024..2^30. */
  heapIntervalBytes?: number;
  /** How often CPU samples are taken out of V8 and sent, ms (each stops and restarts V8's profiler). Default 1000; 20..10000. */
  cpuChunkMs?: number;
  /** How often the heap samples are compared with the last poll's, ms. Default 2000; 50..60000. */
  heapPollMs?: number;
  /** Most live heap samples tracked (new ones past it are dropped, counted). Default 100000; 1..10^6. */
  maxHeapSamples?: number;
}

/**
 * A profiling session. Times are taken when a method is called; ids are small integers.
 * Methods are meant to be called on the object (`tracy.zoneBegin(...)`), not detached.
 */
export interface TracyClient {
  /** The program name sent in the welcome (`appName`). */
  readonly appName: string;
  readonly state: ClientState;
  /** A snapshot of the counters. */
  readonly stats: ClientStats;
  /** Resolves when the session ends (after close(), or when the receiver or network ends it). */
  readonly closed: Promise<void>;

  /** Names the calling thread (the main thread is "main", workers "worker N"). Call it early: the receiver asks once. */
  setThreadName(name: string): void;
  /**
   * A source location for zoneBegin: interned once per (name, colour), with the caller's file,
   * line and function. Passing the result to zoneBegin skips the name lookup.
   */
  sourceLocation(name: string, color?: number): number;
  /**
   * Begins a zone on the calling thread (or on the async zone it runs in).
   * @param name a zone name, or a sourceLocation() result
   * @param color 0xRRGGBB, 0 = default; part of the source location
   * @returns the zone's id, for zoneEnd, zoneText, zoneName, zoneValue and zoneColor
   */
  zoneBegin(name: string | number, color?: number): number;
  /** Ends zone `zone`; zones begun inside it that are still open end with it (stats.zonesEndedEarly). */
  zoneEnd(zone: number): void;
  /** Appends text to the zone (a second call adds a line). */
  zoneText(zone: number, text: string): void;
  /** Overrides the zone's displayed name. */
  zoneName(zone: number, name: string): void;
  /** Attaches an integer (0..2^53, negatives as u64 two's complement). */
  zoneValue(zone: number, value: number): void;
  /** Colours this zone only: 0xRRGGBB. */
  zoneColor(zone: number, color: number): void;
  /**
   * Runs `fn` inside a zone. A sync function's zone nests on the current thread. An `async`
   * function's zone gets an async track ("main async N") for as long as it runs, and zones begun
   * inside it (also after `await`, in Node.js) nest under it there. See docs/client.md.
   */
  zone<T>(name: string, fn: (zone: number) => T, color?: number): T;
  /** As zone(), for a plain function that returns a promise (timed until it settles). */
  zoneAsync<T>(name: string, fn: (zone: number) => PromiseLike<T>, color?: number): Promise<T>;

  /** A continuous frame mark: ends the previous frame of the set and starts the next. No name = the default "Frame" set. */
  frameMark(name?: string): void;
  /** Starts a frame of the discontinuous set `name`. */
  frameMarkStart(name: string): void;
  /** Ends the frame of set `name` that frameMarkStart began on this thread. */
  frameMarkEnd(name: string): void;

  /** A message on the calling thread's track; color 0xRRGGBB, 0 or none = uncoloured. */
  message(text: string, color?: number): void;
  /** Text for the capture's information panel (Tracy's TracyAppInfo). */
  appInfo(text: string): void;

  /** A plot point, as a double. NaN and infinities are counted (stats.droppedNonFinite), not sent. */
  plot(name: string, value: number): void;
  /** A plot point, as an f32 (PlotFloat). */
  plotFloat(name: string, value: number): void;
  /** A plot point, as an i64 (PlotInt; truncated, exact below 2^53). */
  plotInt(name: string, value: number): void;
  /** How the receiver draws plot `name`. */
  plotConfig(name: string, options: PlotConfigOptions): void;

  /**
   * Ends the session: ends open zones (stats.zonesEndedAtClose), sends everything, sends
   * Terminate and answers queries until the receiver says it is done (or closeTimeoutMs).
   * Events after close() are dropped. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Options shared by every transport. */
export interface ClientOptions {
  /** Program name in the welcome and in broadcasts (63 bytes at most). Default: the script's name. */
  appName?: string;
  /**
   * Node.js only: sample memory (rss, heapTotal, heapUsed, external, arrayBuffers, V8 heap
   * spaces) and event-loop delay as plots every 100 ms, and show GC pauses as zones on a "GC" thread
   * (docs/client-runtime.md). true, or options. Default off.
   */
  runtimeMetrics?: boolean | RuntimeMetricsSettings;
  /** Node.js main thread only: stream V8's CPU and/or sampling heap profiler as Tracy callstacks. Default off. */
  profile?: ProfileSettings;
  /** Most bytes held while the receiver is slow or not there yet; beyond it events are dropped. Default 64 MiB, at least 1 MiB. */
  bufferBytes?: number;
  /** How often held events are framed and sent, ms. Default 10. */
  flushIntervalMs?: number;
  /** How long close() waits for the receiver to finish, ms. Default 5000. */
  closeTimeoutMs?: number;
  /** Record the file, line and function of the first call per source location (one stack capture each). Default true. */
  captureSourceLocations?: boolean;
  /** LZ4-compress frames (false: literal-only blocks, byte-predictable). Default true. */
  compress?: boolean;
  /** Close on 'beforeExit' (Node.js) / 'pagehide' (browsers) and flush what can be flushed on 'exit'; browsers also send what is held on 'visibilitychange' to hidden. Default true. */
  exitHandlers?: boolean;
  /**
   * Node.js, with exitHandlers: at 'beforeExit', first wait up to this many ms for a receiver to
   * connect and take everything recorded, saying so once on stderr, then close (like Tracy's
   * TRACY_NO_EXIT). 0 (default): close at once; Infinity: no limit. The environment variable
   * ZONESCOPE_NO_EXIT=1 overrides it with Infinity. At most 2^31 - 1 ms otherwise.
   */
  waitAtExit?: number;
}

/** connect({ retry }): an attempt failed and another follows after `delayMs`. */
export interface RetryEvent {
  /** 1 for the first attempt. */
  attempt: number;
  /** ms until the next attempt. */
  delayMs: number;
  /** Why this attempt failed (ZS_CLIENT_CONNECT: refused, unreachable; ZS_CLIENT_TIMEOUT; ZS_CLIENT_CLOSED). */
  error: Error & { code: string };
}

/** How connect() retries a receiver that is not up yet. */
export interface RetryOptions {
  /** Give up after this many ms from the first attempt (ZS_CLIENT_NO_RECEIVER). Default 30000; at most 2^31 - 1. */
  timeoutMs?: number;
  /** Wait before the second attempt, ms; doubled after each failure. Default 100; 1..60000. */
  initialDelayMs?: number;
  /** Longest wait between attempts, ms. Default 2000 (or initialDelayMs if larger); up to 60000. */
  maxDelayMs?: number;
  /** Called after each failed attempt that will be retried; throwing from it stops retrying (connect rejects with that error). */
  onRetry?: (event: RetryEvent) => void;
}

/** connect(): dial a receiver (Zonescope's TCP ingest, or its WebSocket ingest with `url`). */
export interface ConnectOptions extends ClientOptions {
  /** TCP ingest host. Default 127.0.0.1. Not with `url`. */
  host?: string;
  /** TCP ingest port. Default 8087. Not with `url`. */
  port?: number;
  /** WebSocket ingest, e.g. ws://127.0.0.1:8088/ingest. Browsers default to that URL. */
  url?: string;
  /**
   * The server's token (`zonescope serve --token`, or the one it printed), for the WebSocket
   * ingest of a server that requires one (any server bound off loopback). Node.js sends it as
   * `Authorization: Bearer TOKEN`; browsers, which cannot set WebSocket headers, as `?token=`.
   * Not with TCP (host/port): Tracy's protocol has no credentials. Default: none.
   */
  token?: string;
  /** How long to wait for the connection and the receiver's handshake, ms. Default 10000 (per attempt with `retry`). */
  connectTimeoutMs?: number;
  /**
   * Keep dialing a receiver that is not up yet (refused, unreachable, closed or silent before the
   * handshake, a 5xx WebSocket upgrade) with backoff, until retry.timeoutMs; then connect()
   * rejects with ZS_CLIENT_NO_RECEIVER. true: the defaults. Default off (one attempt).
   */
  retry?: boolean | RetryOptions;
  /**
   * In a worker thread: join the main thread's session (true, default) or dial a session of
   * its own (false). Ignored on the main thread.
   */
  joinMainThread?: boolean;
  /** How long a worker waits for the main thread's client before dialing on its own, ms. Default 1000. */
  joinTimeoutMs?: number;
  /**
   * Browsers: a key from joinKey(tracy) on the page; this context (a Web Worker) becomes a
   * thread of that page's session instead of a session of its own (see docs/client.md, "In the
   * browser"). Node.js ignores it: worker threads join the main thread's session by themselves.
   * Default: none.
   */
  join?: string;
}

/** UDP presence broadcasts of listen mode (tracy-protocol.md 1.2). */
export interface BroadcastOptions {
  /** Destination port. Default 8086. */
  port?: number;
  /** Destination address. Default 127.255.255.255 when listening on loopback, else 255.255.255.255. */
  address?: string;
}

/** listen(): wait for a receiver (Tracy's profiler or capture, `zonescope serve --connect/--discover`). */
export interface ListenOptions extends ClientOptions {
  /** Interface to listen on. Default 127.0.0.1 (use 0.0.0.0 or :: to be reachable from other hosts). */
  host?: string;
  /** TCP port. Default: the first free of 8086..8105, as Tracy's client. 0 = any free port. */
  port?: number;
  /** Announce the app by UDP while it waits: true, or where to send. Default off. */
  broadcast?: boolean | BroadcastOptions;
}

/** A client in listen mode also says where it listens. */
export interface ListeningClient extends TracyClient {
  /** The TCP port it listens on. */
  readonly listenPort: number;
  /**
   * Resolves when a receiver has connected and the welcome was sent; rejects with
   * ZS_CLIENT_CLOSED when the client closes first. Awaiting it (or any then/catch on it) keeps
   * the Node.js process alive until then: the listening socket is referenced while anyone waits.
   */
  readonly connected: Promise<void>;
  /**
   * As `connected`, with a time limit: resolves when a receiver is connected (at once if one
   * already was), rejects with ZS_CLIENT_NO_RECEIVER after `timeoutMs` (default: no limit) or
   * ZS_CLIENT_CLOSED when the client closes first. Keeps the process alive while it waits.
   * @throws TypeError (synchronously) for a timeoutMs outside (0, 2^31 - 1] other than Infinity
   */
  waitForReceiver(options?: { timeoutMs?: number }): Promise<void>;
}

/** Options of runtimeMetrics (Node.js; client/runtime-metrics.ts). */
export interface RuntimeMetricsSettings {
  /** Sampling period of the memory and event-loop delay plots, ms. Default 100; 10..60000. */
  intervalMs?: number;
  /** Prepended to every plot name. Default "" on the main thread, "worker N " in worker N. */
  plotPrefix?: string;
  /** The memory plots (process.memoryUsage(), V8 heap spaces, derived; docs/client-runtime.md). Default true. */
  memory?: boolean;
  /** With memory: the per-heap-space plots and the V8 totals (available, malloced). Default true. */
  heapSpaces?: boolean;
  /** The event-loop delay plot. Default true. */
  eventLoopDelay?: boolean;
  /** GC pauses as zones. Default true. Needs a client made by the SDK (else only plots). */
  gc?: boolean;
  /** Name of the GC thread. Default "GC" ("GC worker N" in worker N). */
  gcThreadName?: string;
}
