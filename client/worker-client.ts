import { FrameEncoder } from '../protocol/tracy/frame-encoder.js';
import { setClockOffsetNs } from './clock.js';
import type { ResolvedClientOptions } from './options.js';
import { Recorder } from './recorder.js';
import type { AsyncZoneContext, ContextStore, Track } from './tracks.js';
import type { ClientState, ClientStats, TracyClient } from './types.js';
import { unref } from './worker-hub.js';
import { workerChannelName, type ToMain, type ToWorker } from './worker-protocol.js';

/** Compressed bytes a worker may have sent and not had acknowledged; past it, it holds events. */
const MAX_IN_FLIGHT = 8 * 1024 * 1024;
const HELLO_RETRY_MS = 50;

/**
 * How a worker says hello: Node.js worker threads use their threadId and process.hrtime origin
 * on the process-wide HELLO_CHANNEL (node.ts); a browser's Web Worker uses a random id and its
 * performance.timeOrigin on the page's own hello channel (browser.ts), and the page assigns
 * the thread id in its welcome.
 */
export interface JoinVia {
  /** this thread's id (Node.js threadId; browsers: a random id that names its channel) */
  threadId: number;
  /** the BroadcastChannel the main thread listens on for hellos */
  hello: string;
  /** ns on a clock shared with the main thread at this thread's performance.now() origin */
  origin: bigint;
  /** runs `fn` soon, after the current call stack (setImmediate, setTimeout 0) */
  schedule(fn: () => void): void;
}

/**
 * A worker thread's client: a thread of the main thread's session (its own Tracy thread id,
 * name and async tracks), not a session of its own. It records into its own buffer, encodes
 * frames itself and posts them to the main thread (worker-protocol.ts).
 */
export class WorkerClient extends Recorder implements TracyClient {
  readonly closed: Promise<void>;
  private status: ClientState = 'connected';
  private readonly encoder: FrameEncoder;
  private inFlight = 0;
  private sentBytes = 0;
  private frames = 0;
  private flushScheduled = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private resolveClosed!: () => void;

  constructor(
    readonly appName: string,
    private readonly hub: number,
    private readonly channel: BroadcastChannel,
    options: ResolvedClientOptions,
    store: ContextStore<AsyncZoneContext>,
    threadId: number,
    private readonly schedule: (fn: () => void) => void,
  ) {
    super({ threadId, store, bufferBytes: options.bufferBytes, captureSourceLocations: options.captureSourceLocations, recordDefs: true });
    this.encoder = new FrameEncoder({ compress: options.compress });
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    channel.onmessage = (event: MessageEvent) => this.onMessage(event.data as ToWorker);
    this.timer = setInterval(() => this.flushNow(false), options.flushIntervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  get state(): ClientState {
    return this.status;
  }

  get stats(): ClientStats {
    return {
      ...this.recordingStats(),
      bufferedBytes: this.w.length,
      sentBytes: this.sentBytes,
      frames: this.frames,
      queries: 0,
      workers: 0,
    };
  }

  /** Ends this thread's open zones and sends its last events. The main thread's session goes on. */
  async close(): Promise<void> {
    this.flushSync();
  }

  /** close(), synchronously (posting a message needs no further event loop turn). */
  flushSync(): void {
    if (this.status === 'closed') return;
    this.endAllZones();
    this.flushNow(false, true);
    this.post({ type: 'bye', hub: this.hub, open: this.openReport() });
    this.finish();
  }

  protected override requestFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.schedule(() => {
      this.flushScheduled = false;
      this.flushNow(false);
    });
  }

  /**
   * Encodes what the buffer holds and posts it, unless too much is unacknowledged (then it
   * stays in the bounded buffer). After taking every frame the writer is reset, so the next
   * batch starts with a ThreadContext and fresh time references: each batch stands alone.
   */
  private flushNow(reply: boolean, force = false): void {
    if (this.status === 'closed' || (!force && !reply && this.inFlight >= MAX_IN_FLIGHT)) {
      this.flushed(0);
      return;
    }
    const frames: Uint8Array[] = [];
    let bytes = 0;
    for (let f = this.w.takeFrame(); f !== null; f = this.w.takeFrame()) {
      const frame = this.encoder.encode(f, 0, f.length);
      frames.push(frame);
      bytes += frame.length;
    }
    this.w.reset();
    this.flushed(0);
    const defs = this.ids.takeDefs();
    if (frames.length === 0 && defs.length === 0 && !reply) return;
    this.inFlight += bytes;
    this.sentBytes += bytes;
    this.frames += frames.length;
    this.post({ type: 'batch', hub: this.hub, defs, frames, bytes, open: this.openReport(), reply });
  }

  private onMessage(msg: ToWorker): void {
    if (msg?.hub !== this.hub) return;
    switch (msg.type) {
      case 'ack':
        this.inFlight = Math.max(0, this.inFlight - msg.bytes);
        break;
      case 'flush':
        this.flushNow(true);
        break;
      case 'ended':
        this.finish();
        break;
      default:
    }
  }

  /** tid, depth pairs of this thread's tracks with written zones open (the main thread ends them at its close). */
  private openReport(): number[] {
    const out: number[] = [];
    const add = (t: Track) => {
      let n = 0;
      for (const z of t.zones) if (z > 0) n++;
      if (n > 0) out.push(t.tid, n);
    };
    add(this.thread);
    for (const lane of this.lanes.lanes) add(lane);
    return out;
  }

  private post(msg: ToMain): void {
    try {
      this.channel.postMessage(msg);
    } catch {
      // the channel is closed: the session is over
    }
  }

  private finish(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.stopAccepting();
    clearInterval(this.timer);
    this.channel.close();
    this.resolveClosed();
  }
}

/**
 * Joins the main thread's session: says hello until the main thread's client answers.
 * @returns the worker's client, or null when no main-thread client answered within timeoutMs
 */
export async function joinMainThread(options: ResolvedClientOptions, store: ContextStore<AsyncZoneContext>, timeoutMs: number, via: JoinVia): Promise<WorkerClient | null> {
  const channel = new BroadcastChannel(workerChannelName(via.threadId));
  const hello = new BroadcastChannel(via.hello);
  const welcome = await new Promise<{ hub: number; offsetNs: number; threadId: number } | null>((resolve) => {
    const say = () => hello.postMessage({ type: 'hello', threadId: via.threadId, hrOrigin: via.origin });
    const retry = setInterval(say, HELLO_RETRY_MS);
    const timeout = setTimeout(() => done(null), timeoutMs);
    const done = (result: { hub: number; offsetNs: number; threadId: number } | null) => {
      clearInterval(retry);
      clearTimeout(timeout);
      channel.onmessage = null;
      resolve(result);
    };
    channel.onmessage = (event: MessageEvent) => {
      const msg = event.data as ToWorker;
      if (msg?.type === 'welcome') done({ hub: msg.hub, offsetNs: msg.offsetNs, threadId: msg.threadId ?? via.threadId });
    };
    say();
  });
  hello.close();
  if (welcome === null) {
    channel.close();
    return null;
  }
  setClockOffsetNs(welcome.offsetNs);
  unref(channel);
  return new WorkerClient(options.appName, welcome.hub, channel, options, store, welcome.threadId, via.schedule);
}
