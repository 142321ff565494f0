/**
 * A synthetic Tracy app for integration tests: dials the TCP ingest port (like our SDK), waits
 * for the server's 12-byte handshake, sends the welcome, then streams whatever a producer
 * writes into a QueueWriter, frame by frame, with real backpressure (socket.write's return
 * value and 'drain'), and answers the server's queries the way tracy-protocol.md 3.3 requires
 * (one counted reply each, SourceLocation replies in order). Nothing is held in memory beyond
 * the frame being written: a stream of any length can be produced as it is sent.
 */
import { connect, type Socket } from 'node:net';
import {
  HANDSHAKE_SIZE,
  PROTOCOL_VERSION,
  QueueType,
  SERVER_QUERY_PACKET_SIZE,
  ServerQuery,
  SHIBBOLETH,
  TracyStreamWriter,
  type QueueWriter,
  type WelcomeMessage,
} from '../../protocol/tracy/index.js';

/** The names an app answers queries with: strings, source locations, threads, plots, frames. */
export class SyntheticNames {
  readonly strings = new Map<number, string>();
  readonly srclocs = new Map<number, { name: number; fn: number; file: number; line: number; rgb: number }>();
  readonly threads = new Map<number, string>();
  readonly plots = new Map<number, string>();
  readonly frames = new Map<number, string>();
  private nextString = 0x10_0000;

  /** Interns a string; returns its id (a fake pointer). */
  string(text: string): number {
    for (const [id, t] of this.strings) if (t === text) return id;
    const id = this.nextString++;
    this.strings.set(id, text);
    return id;
  }

  /** Declares static source location `id` (a fake pointer, non-zero). */
  srcloc(id: number, name: string, fn = `fn_${name}`, file = 'synthetic.cpp', line = 1, rgb = 0): number {
    this.srclocs.set(id, { name: this.string(name), fn: this.string(fn), file: this.string(file), line, rgb });
    return id;
  }
}

export function syntheticWelcome(programName: string, extra: Partial<WelcomeMessage> = {}): WelcomeMessage {
  return {
    timerMul: 1,
    initBegin: 0n,
    initEnd: 0n,
    resolution: 1n,
    epoch: 1_700_000_000n,
    exectime: 0n,
    pid: 4242n,
    samplingPeriod: 0n,
    flags: 0,
    cpuArch: 0,
    cpuManufacturer: '',
    cpuId: 0,
    programName,
    hostInfo: 'synthetic test client',
    ...extra,
  };
}

export interface SyntheticClientOptions {
  port: number;
  host?: string;
  welcome: WelcomeMessage;
  names: SyntheticNames;
  /**
   * Writes the next batch of items into `queue` (synchronously, whole item groups) and says
   * whether more will follow. Called again after backpressure cleared and queries were answered.
   * May return a promise (to pace the stream).
   */
  produce(queue: QueueWriter, batch: number): boolean | Promise<boolean>;
  /** Close the open frame after every batch (live tests: every batch goes out at once). */
  flushEachBatch?: boolean;
  /** false: literal-only LZ4 blocks (cheaper to make); default true. */
  compress?: boolean;
  /** End with a Terminate frame (default true); false closes the socket after the last batch. */
  terminate?: boolean;
  /** Called with each chunk as it is handed to the socket. */
  onChunk?(chunk: Uint8Array, atMs: number): void;
}

export interface SyntheticResult {
  bytesSent: number;
  frames: number;
  batches: number;
  /** Query packets received, by type. */
  queries: number[];
  /** The server sent ServerQueryTerminate. */
  terminated: boolean;
  /** Times the producer waited for 'drain'. */
  drains: number;
}

/** Runs one synthetic app over TCP; resolves when the connection is closed. */
export function runSyntheticClient(o: SyntheticClientOptions): Promise<SyntheticResult> {
  const socket: Socket = connect(o.port, o.host ?? '127.0.0.1');
  socket.setNoDelay(true);
  const result: SyntheticResult = { bytesSent: 0, frames: 0, batches: 0, queries: [], terminated: false, drains: 0 };
  let needDrain = false;
  let closed = false;
  const writer = new TracyStreamWriter(
    (chunk) => {
      if (closed || socket.destroyed) return;
      result.bytesSent += chunk.length;
      if (!socket.write(chunk)) needDrain = true;
      o.onChunk?.(chunk, performance.now());
    },
    { compress: o.compress ?? true },
  );
  const queue = writer.queue;

  let received: Buffer = Buffer.alloc(0);
  let handshakeDone = false;
  let producing = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const answer = (type: number, ptr: number): void => {
    const names = o.names;
    switch (type) {
      case ServerQuery.String:
        queue.stringData(QueueType.StringData, ptr, names.strings.get(ptr) ?? '');
        break;
      case ServerQuery.ThreadString:
        queue.threadName(ptr, names.threads.get(ptr) ?? `thread ${ptr}`);
        break;
      case ServerQuery.SourceLocation: {
        const s = names.srclocs.get(ptr);
        if (s) queue.sourceLocation(s.name, s.fn, s.file, s.line, s.rgb);
        else queue.sourceLocation(0, names.string('?'), names.string('?'), 0, 0);
        break;
      }
      case ServerQuery.PlotName:
        queue.stringData(QueueType.PlotName, ptr, names.plots.get(ptr) ?? `plot ${ptr}`);
        break;
      case ServerQuery.FrameName:
        queue.stringData(QueueType.FrameName, ptr, names.frames.get(ptr) ?? `frame ${ptr}`);
        break;
      case ServerQuery.SourceCode:
        queue.ackSourceCodeNotAvailable(ptr);
        break;
      case ServerQuery.SymbolCode:
        queue.ackSymbolCodeNotAvailable();
        break;
      case ServerQuery.ExternalName:
        queue.stringData(QueueType.ExternalThreadName, ptr, '');
        queue.stringData(QueueType.ExternalName, ptr, '');
        break;
      case ServerQuery.Disconnect:
        break;
      default:
        queue.ackServerQueryNoop();
    }
  };

  return new Promise((resolve, reject) => {
    const finish = () => {
      if (closed) return;
      closed = true;
      result.frames = writer.frames;
      poke();
      resolve(result);
    };
    socket.on('data', (d: Buffer) => {
      received = received.length === 0 ? d : Buffer.concat([received, d]);
      if (!handshakeDone) {
        if (received.length < HANDSHAKE_SIZE) return;
        for (let i = 0; i < SHIBBOLETH.length; i++) {
          if (received[i] !== SHIBBOLETH[i]) {
            socket.destroy();
            reject(new Error(`bad shibboleth byte ${i}`));
            return;
          }
        }
        if (received.readUInt32LE(8) !== PROTOCOL_VERSION) {
          socket.destroy();
          reject(new Error(`server speaks protocol ${received.readUInt32LE(8)}`));
          return;
        }
        received = received.subarray(HANDSHAKE_SIZE);
        handshakeDone = true;
        writer.welcome(o.welcome);
        void produceLoop();
      }
      let p = 0;
      let answered = 0;
      for (; p + SERVER_QUERY_PACKET_SIZE <= received.length; p += SERVER_QUERY_PACKET_SIZE) {
        const type = received[p]!;
        result.queries.push(type);
        if (type === ServerQuery.Terminate) {
          result.terminated = true;
          socket.end();
          break;
        }
        const ptr = received.readUInt32LE(p + 1) + received.readUInt32LE(p + 5) * 2 ** 32;
        answer(type, ptr);
        answered++;
      }
      received = received.subarray(p);
      if (answered > 0) writer.flush();
    });
    socket.on('drain', poke);
    socket.on('close', finish);
    socket.on('error', () => {
      // 'close' follows
    });

    const produceLoop = async () => {
      if (producing) return;
      producing = true;
      try {
        let more = true;
        while (more && !closed) {
          more = await o.produce(queue, result.batches++);
          if (o.flushEachBatch) writer.flush();
          // A real app's sender runs beside its other work: let the event loop (and the
          // server, which shares this process in tests) run between batches.
          await new Promise((r) => setImmediate(r));
          if (needDrain && !closed) {
            result.drains++;
            await new Promise<void>((r) => {
              wake = r;
              if (!socket.writableNeedDrain) poke();
            });
            needDrain = false;
          }
        }
        if (closed) return;
        if (o.terminate === false) {
          writer.flush();
          socket.end();
        } else writer.terminate();
        result.frames = writer.frames;
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    };
  });
}
