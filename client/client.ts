import { HandshakeStatus, WELCOME_SIZE } from '../protocol/tracy/constants.js';
import { encodeWelcome } from '../protocol/tracy/handshake.js';
import { QueryReplies } from '../protocol/tracy/query-replies.js';
import { clockResolutionNs, nowNs } from './clock.js';
import { Conversation, type ConversationEnd, type ConversationHost } from './conversation.js';
import type { IdDef } from './ids.js';
import { Outbox } from './outbox.js';
import { Recorder } from './recorder.js';
import type { AsyncZoneContext, ContextStore } from './tracks.js';
import type { ClientTransport } from './transport.js';
import type { ClientState, ClientStats, TracyClient } from './types.js';
import { sdkWelcome, type PlatformInfo } from './welcome.js';

export interface ClientConfig {
  appName: string;
  platform: PlatformInfo;
  store: ContextStore<AsyncZoneContext>;
  bufferBytes: number;
  flushIntervalMs: number;
  closeTimeoutMs: number;
  captureSourceLocations: boolean;
  compress: boolean;
  /** Runs `fn` soon, after the current call stack (setImmediate, setTimeout 0). */
  schedule(fn: () => void): void;
}

/**
 * After this long without sending a byte, a streaming client sends a KeepAlive item, as Tracy's
 * client does after ~5 s idle: a receiver's idle timeout (Zonescope's --idle-timeout, 60 s by
 * default) then never closes a quiet but healthy app.
 */
export const KEEP_ALIVE_MS = 5000;

/** Work done before Terminate when the client closes (worker threads' last events, the listener). */
export type CloseHook = () => Promise<void> | void;

/**
 * The session of the main thread (or of a browser page): the Recorder's events, framed by an
 * Outbox, sent over one Conversation. Non-on-demand, like Tracy's default client: events are
 * held from creation until a receiver takes the session (listen mode waits for one), the first
 * receiver gets them all, and once that conversation ends the session is over. Framing happens
 * on a timer (flushIntervalMs) and, past 256 KiB, in a callback scheduled off the caller's path.
 */
export class Client extends Recorder implements TracyClient {
  readonly appName: string;
  readonly closed: Promise<void>;
  /** Unix seconds when the client started (the welcome's epoch; broadcasts count from it). */
  readonly epochS: number;
  /** Called after each flush (the worker hub releases deferred acknowledgements). */
  afterFlush: (() => void) | null = null;
  workerCount = 0;

  private status: ClientState = 'waiting';
  private readonly config: ClientConfig;
  private readonly outbox: Outbox;
  private readonly responder: QueryReplies;
  private readonly welcome: Uint8Array;
  private conversation: Conversation | null = null;
  private sessionTaken = false;
  private flushScheduled = false;
  private timer: ReturnType<typeof setInterval> | null;
  private closing: Promise<void> | null = null;
  /** outbox.sentBytes at the last check, and when it last moved (ms, performance.now()). */
  private lastSentBytes = -1;
  private lastSentMs = 0;
  private readonly closeHooks: CloseHook[] = [];
  private resolveClosed!: () => void;
  private readonly host: ConversationHost = {
    streaming: (transport) => this.onStreaming(transport),
    query: (type, ptr) => this.responder.answer(type, ptr),
    afterQueries: () => this.flushNow(),
    disconnect: () => void this.close(),
    drain: () => this.flushNow(),
  };

  constructor(config: ClientConfig) {
    super({ threadId: 0, store: config.store, bufferBytes: config.bufferBytes, captureSourceLocations: config.captureSourceLocations });
    this.config = config;
    this.appName = config.appName;
    this.outbox = new Outbox(this.w, config.compress);
    this.responder = new QueryReplies(this.w, this.ids);
    // initBegin a microsecond early: not later than any event, also a worker's (tracy-protocol.md 5.1).
    const clock = { initBeginNs: nowNs() - 1000, resolutionNs: clockResolutionNs(), epochS: Date.now() / 1000 };
    this.epochS = Math.floor(clock.epochS);
    this.welcome = new Uint8Array(1 + WELCOME_SIZE);
    this.welcome[0] = HandshakeStatus.Welcome;
    this.welcome.set(encodeWelcome(sdkWelcome(config.appName, config.platform, clock)), 1);
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    this.timer = setInterval(() => this.flushNow(), config.flushIntervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  get state(): ClientState {
    return this.status;
  }

  get stats(): ClientStats {
    return {
      ...this.recordingStats(),
      bufferedBytes: this.w.length + this.outbox.queuedBytes,
      sentBytes: this.outbox.sentBytes,
      frames: this.outbox.frames,
      queries: this.conversation?.queries ?? 0,
      workers: this.workerCount,
    };
  }

  /** True while no receiver has the session and it is not closing: listen mode may hand it one. */
  get canAttach(): boolean {
    return !this.sessionTaken && this.conversation === null && this.closing === null;
  }

  /**
   * Starts the conversation with a receiver over `transport` (it speaks first).
   * @returns the conversation; its `ready` rejects with a ClientError if the handshake fails,
   *   after which (listen mode) another transport may be attached
   * @throws Error when a receiver already has (or had) the session
   */
  attach(transport: ClientTransport, handshakeTimeoutMs: number): Conversation {
    if (!this.canAttach) throw new Error('this client already has a receiver (or is closing)');
    const conv = new Conversation(transport, this.host, handshakeTimeoutMs);
    this.conversation = conv;
    void conv.ended.then((reason) => this.onConversationEnded(conv, reason));
    return conv;
  }

  /**
   * Registers work for close(): before Terminate (in order, each bounded by closeTimeoutMs), or
   * at close() when the session had already ended.
   */
  addCloseHook(hook: CloseHook): void {
    this.closeHooks.push(hook);
  }

  /** Frames and sends what is held now. */
  flushNow(): void {
    const conv = this.conversation;
    if (conv !== null && conv.state === 'streaming') this.keepAliveIfIdle();
    this.outbox.pump();
    if (conv !== null && conv.state === 'streaming') this.outbox.drain(conv.transport);
    this.flushed(this.outbox.queuedBytes);
    this.afterFlush?.();
  }

  /**
   * A receiver is streaming and everything recorded so far was handed to it: nothing held, and
   * the transport's own buffer empty (Node.js: the kernel has it). The exit wait checks this.
   */
  get allSent(): boolean {
    const conv = this.conversation;
    return conv !== null && conv.state === 'streaming' && this.outbox.empty && conv.transport.bufferedBytes === 0;
  }

  /** True while the held frames are under the buffer limit (the worker hub acknowledges then). */
  get hasRoom(): boolean {
    return this.outbox.queuedBytes < this.config.bufferBytes;
  }

  /**
   * Splices a worker thread's frames into the stream (between whole frames of ours) and learns
   * its ids. Its frames start with a ThreadContext; ours restart with one after them.
   * @returns false when the session is over (the frames are dropped)
   */
  spliceWorkerFrames(defs: readonly IdDef[], frames: readonly Uint8Array[]): boolean {
    if (!this.accepting) return false;
    this.ids.applyDefs(defs);
    if (frames.length === 0) return true;
    this.outbox.append(frames);
    this.w.threadContext(this.thread.tid);
    this.flushNow();
    return true;
  }

  /** Ends a worker's zones still open at close (its last report), so the receiver can finish. */
  endWorkerZones(tid: number, depth: number): void {
    this.endForeignZones(tid, depth);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Best effort for process 'exit' (no more event loop turns): ends the zones, frames
   * everything with Terminate and writes it; sockets may still send it synchronously.
   */
  flushSync(): void {
    if (this.status === 'closed') return;
    const conv = this.conversation;
    this.endAllZones();
    this.stopAccepting();
    if (conv === null || conv.state !== 'streaming') return;
    this.outbox.pump();
    this.w.terminate();
    this.outbox.pump();
    this.outbox.drain(conv.transport);
  }

  /** Gives up a session that never started (a failed dial). */
  abort(): void {
    if (this.status === 'closed') return;
    this.conversation?.close();
    this.finish();
  }

  /** Writes a KeepAlive item when nothing was sent for KEEP_ALIVE_MS (checked on every flush tick). */
  private keepAliveIfIdle(): void {
    const now = performance.now();
    if (this.outbox.sentBytes !== this.lastSentBytes) {
      this.lastSentBytes = this.outbox.sentBytes;
      this.lastSentMs = now;
    } else if (now - this.lastSentMs >= KEEP_ALIVE_MS && this.accepting) {
      this.w.keepAlive();
      this.lastSentMs = now;
    }
  }

  protected override requestFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.config.schedule(() => {
      this.flushScheduled = false;
      this.flushNow();
    });
  }

  private onStreaming(transport: ClientTransport): void {
    this.sessionTaken = true;
    if (this.status === 'waiting') this.status = 'connected';
    this.outbox.sendFirst(transport, this.welcome);
    this.flushNow();
    transport.keepAlive(this.closing !== null);
  }

  private onConversationEnded(conv: Conversation, reason: ConversationEnd): void {
    if (conv !== this.conversation) return;
    if (reason === 'handshake-failed') {
      this.conversation = null;
      return;
    }
    // The receiver is gone or done: nothing sent from now on would arrive.
    this.stopAccepting();
    if (this.closing === null) this.finish();
  }

  private async shutdown(): Promise<void> {
    const limit = this.config.closeTimeoutMs;
    if (this.status === 'closed') {
      // The session ended on its own (the receiver left): still release what the hooks hold.
      for (const hook of this.closeHooks) await withTimeout(Promise.resolve().then(hook), limit);
      return;
    }
    this.status = 'closing';
    // A pending promise does not keep Node.js alive: this timer does, until the end of close().
    const keepAlive = setTimeout(() => {}, limit + 1000);
    try {
      for (const hook of this.closeHooks) await withTimeout(Promise.resolve().then(hook), limit);
      this.endAllZones();
      this.stopAccepting();
      let conv = this.conversation;
      if (conv !== null && conv.state === 'handshake') {
        await withTimeout(conv.ready.catch(() => {}), limit);
        conv = this.conversation;
      }
      if (conv !== null && conv.state === 'streaming') {
        conv.transport.keepAlive(true);
        // Everything, then Terminate in a frame of its own (tracy-protocol.md 1.7), then keep
        // answering queries until the receiver sends ServerQueryTerminate or closes.
        this.outbox.pump();
        this.w.terminate();
        this.flushNow();
        await withTimeout(conv.ended, limit);
        conv.close();
      }
    } finally {
      clearTimeout(keepAlive);
      this.finish();
    }
  }

  private finish(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.stopAccepting();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.resolveClosed();
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first (never rejects). */
export function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    (t as { unref?: () => void }).unref?.();
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
