import { withTimeout, type Client } from './client.js';
import { HELLO_CHANNEL, hrOriginNs, workerChannelName, type HelloMessage, type ToMain, type ToWorker } from './worker-protocol.js';

interface JoinedWorker {
  /** the id its hello gave (names its channel) */
  threadId: number;
  /** the thread id assigned in the welcome (browsers), or undefined (Node.js: its own) */
  assigned: number | undefined;
  channel: BroadcastChannel;
  /** open zones per track at the last report: tid, depth, ... */
  open: number[];
  /** compressed bytes received but not acknowledged (held back while the main buffer is full) */
  unacked: number;
  /** resolves the wait for the answer to `flush` */
  replied: (() => void) | null;
}

/** Only the newest main-thread client answers workers' hellos (on the shared HELLO_CHANNEL). */
let activeHub: WorkerHub | null = null;

/**
 * Most thread ids a hub assigns: a thread's async tracks are (id + 1) * 65536 + lane, a u32.
 * Later workers get no welcome and dial sessions of their own (after their joinTimeoutMs).
 */
export const MAX_ASSIGNED_THREAD_ID = 65534;

/** Where a hub listens for hellos; the defaults are Node.js worker threads'. */
export interface WorkerHubOptions {
  /** hello channel: default HELLO_CHANNEL (process-wide); browsers use one per page client */
  hello?: string;
  /** ns at this thread's performance.now() origin, on the clock of the workers' hellos; default hrOriginNs() */
  origin?: bigint;
  /** assign worker thread ids 1, 2, ... in the welcome (browsers' workers have none); default false */
  assignThreadIds?: boolean;
}

/**
 * The main thread's side of worker threads (see worker-protocol.ts): answers hellos with the
 * clock offset, splices each batch into the client's stream, and acknowledges it while the
 * client's buffer has room; a worker stops sending past its in-flight limit, so a slow receiver
 * makes workers drop events in their own bounded buffers instead of queueing here. At close it
 * asks every worker for its last events, then ends the zones they still report open.
 */
export class WorkerHub {
  private readonly id = Math.floor(Math.random() * 2 ** 31) + 1;
  private readonly origin: bigint;
  private readonly hello: BroadcastChannel;
  private readonly shared: boolean;
  private readonly assignThreadIds: boolean;
  private lastThreadId = 0;
  private readonly workers = new Map<number, JoinedWorker>();
  private ended = false;

  constructor(
    private readonly client: Client,
    private readonly flushTimeoutMs: number,
    options: WorkerHubOptions = {},
  ) {
    this.origin = options.origin ?? hrOriginNs();
    this.hello = new BroadcastChannel(options.hello ?? HELLO_CHANNEL);
    this.shared = options.hello === undefined;
    this.assignThreadIds = options.assignThreadIds ?? false;
    if (this.shared) activeHub = this;
    this.hello.onmessage = (event: MessageEvent) => this.onHello(event.data as HelloMessage);
    unref(this.hello);
    client.afterFlush = () => this.releaseAcks();
    client.addCloseHook(() => this.finish());
    void client.closed.then(() => this.end());
  }

  private onHello(msg: HelloMessage): void {
    if (this.ended || (this.shared && activeHub !== this) || msg?.type !== 'hello') return;
    let w = this.workers.get(msg.threadId);
    if (w === undefined) {
      if (this.assignThreadIds && this.lastThreadId >= MAX_ASSIGNED_THREAD_ID) return;
      const channel = new BroadcastChannel(workerChannelName(msg.threadId));
      unref(channel);
      w = { threadId: msg.threadId, assigned: this.assignThreadIds ? ++this.lastThreadId : undefined, channel, open: [], unacked: 0, replied: null };
      const joined = w;
      channel.onmessage = (event: MessageEvent) => this.onWorkerMessage(joined, event.data as ToMain);
      this.workers.set(msg.threadId, w);
      this.client.workerCount++;
    }
    const offsetNs = Number(msg.hrOrigin - this.origin);
    this.post(w, w.assigned === undefined ? { type: 'welcome', hub: this.id, offsetNs } : { type: 'welcome', hub: this.id, offsetNs, threadId: w.assigned });
  }

  private onWorkerMessage(w: JoinedWorker, msg: ToMain): void {
    if (msg?.hub !== this.id || this.ended) return;
    w.open = msg.open;
    if (msg.type === 'batch') {
      this.client.spliceWorkerFrames(msg.defs, msg.frames);
      w.unacked += msg.bytes;
      this.releaseAcks();
      if (msg.reply) w.replied?.();
    } else {
      w.replied?.();
      w.channel.close();
      this.workers.delete(w.threadId);
    }
  }

  private releaseAcks(): void {
    if (!this.client.hasRoom) return;
    for (const w of this.workers.values()) {
      if (w.unacked === 0) continue;
      this.post(w, { type: 'ack', hub: this.id, bytes: w.unacked });
      w.unacked = 0;
    }
  }

  /** Close hook: each worker's last events, then its open zones ended (they cannot end later). */
  private async finish(): Promise<void> {
    if (this.ended) return;
    const waits: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      waits.push(new Promise<void>((resolve) => (w.replied = resolve)));
      this.post(w, { type: 'flush', hub: this.id });
    }
    // A worker busy in a long synchronous loop cannot answer: its last report stands.
    await withTimeout(Promise.all(waits), this.flushTimeoutMs);
    for (const w of this.workers.values()) {
      for (let i = 0; i + 1 < w.open.length; i += 2) this.client.endWorkerZones(w.open[i]!, w.open[i + 1]!);
      w.open = [];
    }
    this.end();
  }

  /**
   * For 'pagehide' (no event loop turn follows, workers cannot be asked): ends the zones each
   * worker last reported open, so the receiver can finish, and stops. The client's flushSync()
   * then sends them.
   */
  endNow(): void {
    if (this.ended) return;
    for (const w of this.workers.values()) {
      for (let i = 0; i + 1 < w.open.length; i += 2) this.client.endWorkerZones(w.open[i]!, w.open[i + 1]!);
      w.open = [];
    }
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (activeHub === this) activeHub = null;
    for (const w of this.workers.values()) {
      this.post(w, { type: 'ended', hub: this.id });
      w.channel.close();
    }
    this.workers.clear();
    this.hello.close();
  }

  private post(w: JoinedWorker, msg: ToWorker): void {
    w.channel.postMessage(msg);
  }
}

/** Node's BroadcastChannel can be unreferenced (it must not keep the process alive). */
export function unref(channel: BroadcastChannel): void {
  (channel as unknown as { unref?: () => void }).unref?.();
}
