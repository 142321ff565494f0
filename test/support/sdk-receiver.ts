/**
 * A Tracy receiver for SDK tests, written from the protocol doc and independent of server/: it
 * speaks first (handshake), decodes everything the app sends with protocol/tracy's
 * TracyStreamReader into a structured trace (zones per thread with their nesting checked,
 * frames, plots, messages), asks for every unknown id with query credit like Tracy's server,
 * can inject extra queries, and after Terminate (and every reply) sends ServerQueryTerminate.
 * It runs over an in-memory pair (no ports) or any byte transport (a TCP socket).
 */
import { encodeHandshake, NullVisitor, PROTOCOL_VERSION, SERVER_QUERY_PACKET_SIZE, ServerQuery, TracyStreamReader } from '../../protocol/tracy/index.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Client, type ClientConfig } from '../../client/client.js';
import type { AsyncZoneContext } from '../../client/tracks.js';
import type { ClientTransport } from '../../client/transport.js';

const utf8 = new TextDecoder();

export interface ZoneRecord {
  thread: number;
  srcloc: number;
  depth: number;
  startNs: number;
  endNs: number;
  text: string | null;
  name: string | null;
  value: bigint | null;
  color: number | null;
}

/** Every event of an SDK stream, in wire order, with per-thread zone nesting checked. */
export class SdkTrace extends NullVisitor {
  readonly zones: ZoneRecord[] = [];
  readonly open = new Map<number, ZoneRecord[]>();
  /** Nesting errors: ZoneEnd or a modifier with no open zone on the thread. */
  readonly errors: string[] = [];
  readonly frames: { kind: number; namePtr: number; timeNs: number }[] = [];
  readonly plots: { namePtr: number; timeNs: number; value: number }[] = [];
  readonly plotConfigs: { namePtr: number; format: number; step: boolean; fill: boolean; rgb: number }[] = [];
  readonly messages: { thread: number; timeNs: number; text: string; rgb: number }[] = [];
  readonly appInfoTexts: string[] = [];
  readonly threadContexts: number[] = [];
  /** Zone and plot times per thread, in wire order (they must not go backwards). */
  readonly lastNs = new Map<number, number>();
  terminated = false;

  override threadContext(thread: number): void {
    this.threadContexts.push(thread);
  }
  override zoneBegin(thread: number, timeNs: number, srcloc: number): void {
    const stack = this.stackOf(thread);
    this.tick(thread, timeNs);
    stack.push({ thread, srcloc, depth: stack.length, startNs: timeNs, endNs: -1, text: null, name: null, value: null, color: null });
  }
  override zoneEnd(thread: number, timeNs: number): void {
    const z = this.stackOf(thread).pop();
    this.tick(thread, timeNs);
    if (z === undefined) this.errors.push(`ZoneEnd with no open zone on thread ${thread} at ${timeNs}`);
    else this.zones.push({ ...z, endNs: timeNs });
  }
  override zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const z = this.top(thread, 'ZoneText');
    if (z) z.text = z.text === null ? text(bytes, start, length) : `${z.text}\n${text(bytes, start, length)}`;
  }
  override zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const z = this.top(thread, 'ZoneName');
    if (z) z.name = text(bytes, start, length);
  }
  override zoneValue(thread: number, lo: number, hi: number): void {
    const z = this.top(thread, 'ZoneValue');
    if (z) z.value = (BigInt(hi) << 32n) | BigInt(lo);
  }
  override zoneColor(thread: number, rgb: number): void {
    const z = this.top(thread, 'ZoneColor');
    if (z) z.color = rgb;
  }
  override frameMark(kind: number, namePtr: number, timeNs: number): void {
    this.frames.push({ kind, namePtr, timeNs });
  }
  override plot(namePtr: number, timeNs: number, value: number): void {
    this.plots.push({ namePtr, timeNs, value });
  }
  override plotConfig(namePtr: number, format: number, step: boolean, fill: boolean, rgb: number): void {
    this.plotConfigs.push({ namePtr, format, step, fill, rgb });
  }
  override message(thread: number, timeNs: number, bytes: Uint8Array, start: number, length: number, rgb: number): void {
    this.messages.push({ thread, timeNs, text: text(bytes, start, length), rgb });
  }
  override appInfo(_timeNs: number, bytes: Uint8Array, start: number, length: number): void {
    this.appInfoTexts.push(text(bytes, start, length));
  }
  override terminate(): void {
    this.terminated = true;
    for (const [thread, stack] of this.open) if (stack.length > 0) this.errors.push(`Terminate with ${stack.length} zones open on thread ${thread}`);
  }

  /** Zones still open on any thread. */
  get openCount(): number {
    let n = 0;
    for (const s of this.open.values()) n += s.length;
    return n;
  }

  private stackOf(thread: number): ZoneRecord[] {
    let s = this.open.get(thread);
    if (s === undefined) this.open.set(thread, (s = []));
    return s;
  }
  private top(thread: number, what: string): ZoneRecord | undefined {
    const s = this.stackOf(thread);
    if (s.length === 0) this.errors.push(`${what} with no open zone on thread ${thread}`);
    return s[s.length - 1];
  }
  private tick(thread: number, timeNs: number): void {
    const last = this.lastNs.get(thread) ?? -Infinity;
    if (timeNs < last) this.errors.push(`time goes back on thread ${thread}: ${timeNs} < ${last}`);
    this.lastNs.set(thread, timeNs);
  }
}

function text(bytes: Uint8Array, start: number, length: number): string {
  return utf8.decode(bytes.subarray(start, start + length));
}

export interface FakeReceiverOptions {
  /** protocol version in the handshake (default 82) */
  version?: number;
  /** query packets allowed in flight (Tracy: ~1000) */
  credit?: number;
  /** send ServerQueryTerminate once Terminate arrived and every query was answered (default true) */
  finish?: boolean;
  /** memoryPair: deliver the receiver's bytes one byte per microtask (split packets) */
  byteByByte?: boolean;
}

/**
 * The receiver's side of a conversation over `send`/`close`. Feed it the app's bytes with
 * receive(); it answers like Tracy's server (credit, prio queries first).
 */
export class FakeReceiver {
  readonly trace = new SdkTrace();
  readonly reader = new TracyStreamReader(this.trace, { onFrame: () => this.afterFrame() });
  /** the status byte when it was not Welcome (the app rejected the handshake) */
  status: number | null = null;
  /** every byte the app sent */
  readonly bytes: number[] = [];
  queriesSent = 0;
  terminateSent = false;
  closed = false;
  error: Error | null = null;
  private readonly credit: number;
  private readonly extra: Uint8Array[] = [];

  constructor(
    private readonly send: (bytes: Uint8Array) => void,
    private readonly closeConnection: () => void,
    private readonly options: FakeReceiverOptions = {},
  ) {
    this.credit = options.credit ?? 1000;
  }

  start(): void {
    this.send(encodeHandshake(this.options.version ?? PROTOCOL_VERSION));
  }

  receive(chunk: Uint8Array): void {
    for (const b of chunk) this.bytes.push(b);
    if (this.status === null && this.reader.bytes === 0 && chunk.length > 0 && chunk[0] !== 1) this.status = chunk[0]!;
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.error = err as Error;
    }
  }

  /**
   * Queues an extra query (sent after the next frame, counted against the credit like the rest).
   * Not SourceLocation: the decoder matches those replies to its own queries.
   */
  query(type: number, ptr: number, extra = 0): void {
    const p = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
    const v = new DataView(p.buffer);
    v.setUint8(0, type);
    v.setUint32(1, ptr >>> 0, true);
    v.setUint32(5, Math.floor(ptr / 2 ** 32), true);
    v.setUint32(9, extra, true);
    this.extra.push(p);
  }

  /** Replies still owed by the app. */
  get outstanding(): number {
    const d = this.reader.decoder;
    return d.queries.length + this.extra.length + (this.queriesSent - d.repliesCounted);
  }

  connectionClosed(): void {
    this.closed = true;
  }

  /** The display name of source location index `srcloc` (once its strings were answered). */
  srclocName(srcloc: number): string {
    const d = this.reader.decoder;
    return d.srclocs.displayName(srcloc, d.names.strings);
  }

  /** Ended zones whose source location is named `name`. */
  zonesNamed(name: string): ZoneRecord[] {
    return this.trace.zones.filter((z) => this.srclocName(z.srcloc) === name);
  }

  /** Per source location name, the number of ended zones. */
  zoneCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const z of this.trace.zones) {
      const n = this.srclocName(z.srcloc);
      out[n] = (out[n] ?? 0) + 1;
    }
    return out;
  }

  private afterFrame(): void {
    const d = this.reader.decoder;
    let room = this.credit - (this.queriesSent - d.repliesCounted);
    const out: Uint8Array[] = [];
    if (room > 0 && d.queries.length > 0) {
      const n = Math.min(room, d.queries.length);
      const buf = new Uint8Array(n * SERVER_QUERY_PACKET_SIZE);
      d.queries.drainInto(buf, 0, n);
      out.push(buf);
      room -= n;
      this.queriesSent += n;
    }
    while (room > 0 && this.extra.length > 0) {
      const packet = this.extra.shift()!;
      out.push(packet);
      // Terminate and Disconnect get no reply (and take no credit).
      if (packet[0] === ServerQuery.Terminate || packet[0] === ServerQuery.Disconnect) continue;
      room--;
      this.queriesSent++;
    }
    for (const packet of out) this.send(packet);
    if (d.terminated && this.outstanding === 0 && !this.terminateSent && this.options.finish !== false) {
      this.terminateSent = true;
      const p = new Uint8Array(SERVER_QUERY_PACKET_SIZE);
      p[0] = ServerQuery.Terminate;
      this.send(p);
      this.closeConnection();
    }
  }
}

/**
 * An in-memory connection: the client's ClientTransport and a FakeReceiver, each direction
 * delivered in a microtask (like a socket: never re-entrant).
 */
export function memoryPair(options: FakeReceiverOptions = {}): { transport: ClientTransport & { sent: number }; receiver: FakeReceiver } {
  let open = true;
  const transport: ClientTransport & { sent: number } = {
    sent: 0,
    write(bytes) {
      if (!open) return;
      const copy = bytes.slice();
      transport.sent += copy.length;
      queueMicrotask(() => receiver.receive(copy));
    },
    bufferedBytes: 0,
    close() {
      shut();
    },
    keepAlive() {},
    onData: null,
    onDrain: null,
    onClose: null,
  };
  const shut = () => {
    if (!open) return;
    open = false;
    queueMicrotask(() => {
      receiver.connectionClosed();
      const done = transport.onClose;
      transport.onClose = null;
      done?.(null);
    });
  };
  const receiver = new FakeReceiver(
    (bytes) => {
      const copy = bytes.slice();
      if (!open) return;
      if (options.byteByByte) for (let i = 0; i < copy.length; i++) queueMicrotask(() => transport.onData?.(copy.subarray(i, i + 1)));
      else queueMicrotask(() => transport.onData?.(copy));
    },
    shut,
    options,
  );
  queueMicrotask(() => receiver.start());
  return { transport, receiver };
}

export const TEST_PLATFORM = { pid: 4242, cpuArch: 2, hostInfo: 'OS: test\nRuntime: vitest', defaultAppName: 'unit' };

/** A main-thread Client with test defaults (AsyncLocalStorage, 5 ms flushes), not connected. */
export function testClient(config: Partial<ClientConfig> = {}): Client {
  return new Client({
    appName: 'unit-app',
    platform: TEST_PLATFORM,
    store: new AsyncLocalStorage<AsyncZoneContext>(),
    bufferBytes: 64 << 20,
    flushIntervalMs: 5,
    closeTimeoutMs: 3000,
    captureSourceLocations: true,
    compress: true,
    schedule: (fn) => setImmediate(fn),
    ...config,
  });
}

/** A testClient connected to a FakeReceiver over a memoryPair (the welcome was sent). */
export async function memoryClient(config: Partial<ClientConfig> = {}, pair: FakeReceiverOptions = {}) {
  const client = testClient(config);
  const { transport, receiver } = memoryPair(pair);
  await client.attach(transport, 2000).ready;
  return { client, receiver, transport };
}
