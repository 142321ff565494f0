import { describe, expect, it } from 'vitest';
import { RecordingVisitor } from '../../test/support/tracy-streams.js';
import { HandshakeStatus, SERVER_QUERY_PACKET_SIZE, WELCOME_SIZE } from '../tracy/constants.js';
import { concatChunks } from '../tracy/frame-encoder.js';
import { decodeWelcome } from '../tracy/handshake.js';
import type { QueueDecoder } from '../tracy/queue-decoder.js';
import { QueueType as Q, ServerQuery } from '../tracy/queue-types.js';
import { TracyStreamReader } from '../tracy/stream-reader.js';
import { CaptureStreamBuilder, type BuilderOptions } from './stream-builder.js';

const WELCOME = { app: 'builder-test', pid: 4321, hostInfo: 'OS: test\nCPU: none', epochS: 1_780_000_000, resolutionNs: 7 };

/** The query a keyed reply answers. */
const QUERY_OF_REPLY: Record<number, number> = {
  [Q.StringData]: ServerQuery.String,
  [Q.ThreadName]: ServerQuery.ThreadString,
  [Q.PlotName]: ServerQuery.PlotName,
  [Q.FrameName]: ServerQuery.FrameName,
};

/**
 * Records what the decoder reports and holds the stream to Tracy's reply rules while it walks:
 * every keyed reply answers a query the receiver had already queued (Tracy asserts on a reply
 * nobody asked for), nothing is answered twice, SourceLocation replies never outnumber their
 * queries; `unanswered()` lists what was asked and never answered.
 */
class StrictReplies extends RecordingVisitor {
  decoder!: QueueDecoder;
  readonly problems: string[] = [];
  private readonly asked = new Set<string>();
  private readonly answered = new Set<string>();
  private srclocAsked = 0;
  private srclocAnswered = 0;
  private readonly packets = new Uint8Array(SERVER_QUERY_PACKET_SIZE * 4096);

  private collect(): void {
    const v = new DataView(this.packets.buffer);
    for (;;) {
      const n = this.decoder.queries.drainInto(this.packets, 0, 4096);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const at = i * SERVER_QUERY_PACKET_SIZE;
        const type = v.getUint8(at);
        const ptr = v.getUint32(at + 5, true) * 2 ** 32 + v.getUint32(at + 1, true);
        if (type === ServerQuery.SourceLocation) this.srclocAsked++;
        else this.asked.add(`${type}:${ptr}`);
      }
    }
  }

  override stringData(type: number, ptr: number, bytes: Uint8Array, start: number, length: number): void {
    super.stringData(type, ptr, bytes, start, length);
    this.collect();
    const key = `${QUERY_OF_REPLY[type]}:${ptr}`;
    if (!this.asked.has(key)) this.problems.push(`reply type ${type} for ${ptr} before the receiver asked`);
    if (this.answered.has(key)) this.problems.push(`second reply type ${type} for ${ptr}`);
    this.answered.add(key);
  }

  override sourceLocation(srcloc: number): void {
    super.sourceLocation(srcloc);
    this.collect();
    this.srclocAnswered++;
    if (this.srclocAnswered > this.srclocAsked) this.problems.push(`SourceLocation reply ${this.srclocAnswered} but ${this.srclocAsked} queries`);
  }

  unanswered(): string[] {
    this.collect();
    const out = [...this.asked].filter((k) => !this.answered.has(k));
    if (this.srclocAsked !== this.srclocAnswered) out.push(`${this.srclocAsked} SourceLocation queries, ${this.srclocAnswered} replies`);
    return out;
  }
}

interface Decoded {
  stream: Uint8Array;
  chunks: Uint8Array[];
  reader: TracyStreamReader;
  visitor: StrictReplies;
  /** the visitor's log without the reply bookkeeping events */
  events: string[];
}

function build(write: (b: CaptureStreamBuilder) => void, options: BuilderOptions = {}, chunkSize = 0): Decoded {
  const chunks: Uint8Array[] = [];
  const b = new CaptureStreamBuilder(WELCOME, (c) => chunks.push(c), options);
  write(b);
  b.finish();
  const stream = concatChunks(chunks);
  const visitor = new StrictReplies(true);
  const reader = new TracyStreamReader(visitor);
  visitor.decoder = reader.decoder;
  if (chunkSize <= 0) reader.push(stream);
  else for (let p = 0; p < stream.length; p += chunkSize) reader.push(stream, p, Math.min(stream.length, p + chunkSize));
  const events = visitor.log!.filter((e) => !e.startsWith('threadContext(') && !e.startsWith('stringData(') && !e.startsWith('sourceLocation('));
  return { stream, chunks, reader, visitor, events };
}

/** Checks what every built stream must be: complete, Terminate, every query answered once, in order. */
function expectSelfContained(d: Decoded): void {
  expect(d.reader.truncation()).toBeNull();
  expect(d.reader.decoder.terminated).toBe(true);
  expect(d.visitor.problems).toEqual([]);
  expect(d.visitor.unanswered()).toEqual([]);
}

/** A small session touching every call. */
function sample(b: CaptureStreamBuilder): void {
  b.threadName(1, 'Main thread');
  b.appInfo('built by a test');
  const outer = b.srcloc('Outer', 'main', 'app.cpp', 10, 0x112233);
  const inner = b.srcloc('', 'work', 'app.cpp', 20, 0); // unnamed: shown with its function
  const other = b.srcloc('Other', 'worker', 'worker.cpp', 5, 0);
  b.plotConfig('fps', 0, true, false, 0xff8000);
  b.zoneBegin(1, 1000, outer);
  b.zoneText(1, 'first');
  b.zoneText(1, 'second');
  b.zoneValue(1, 42);
  b.zoneColor(1, 0xabcdef);
  b.zoneBegin(1, 1500, inner);
  b.zoneName(1, 'renamed');
  b.zoneEnd(1, 2500);
  b.message(1, 2600, 'hello', -1);
  b.message(1, 2700, 'coloured', 0x00ff00, 0x40);
  b.plot('fps', 2800, 59.5);
  b.zoneEnd(1, 100_000);
  // thread 2 is named only after its first zone; thread 3 never
  b.zoneBegin(2, 500, other);
  b.threadName(2, 'Worker');
  b.zoneBegin(2, 600, inner);
  b.zoneEnd(2, 700);
  b.zoneEnd(2, 10_000_000_000); // a 64-bit delta
  b.message(3, 800, 'from an unnamed thread', -1);
  b.frameMark('', 0);
  b.frameMark('', 16_000_000);
  b.frameStart('Load', 100);
  b.frameEnd('Load', 900);
  b.frameMark('Render', 1200);
  b.plot('fps', 16_000_000, 60);
  b.plot('mem', 1300, 1.25e9);
}

/** String ids in order of interning: 1-7 the source-location texts, 8 fps, 9 Load, 10 Render, 11 mem. */
const SAMPLE_EVENTS = [
  'appInfo(0, "built by a test")',
  'plotConfig(8, 0, true, false, 16744448)',
  'zoneBegin(1, 1000, 0)',
  'zoneText(1, "first")',
  'zoneText(1, "second")',
  'zoneValue(1, 42, 0)',
  'zoneColor(1, 11259375)',
  'zoneBegin(1, 1500, 1)',
  'zoneName(1, "renamed")',
  'zoneEnd(1, 2500)',
  'message(1, 2600, "hello", -1, 32)',
  'message(1, 2700, "coloured", 65280, 64)',
  'plot(8, 2800, 59.5)',
  'zoneEnd(1, 100000)',
  'zoneBegin(2, 500, 2)',
  'zoneBegin(2, 600, 1)',
  'zoneEnd(2, 700)',
  'zoneEnd(2, 10000000000)',
  'message(3, 800, "from an unnamed thread", -1, 32)',
  'frameMark(0, 0, 0)',
  'frameMark(0, 0, 16000000)',
  'frameMark(1, 9, 100)',
  'frameMark(2, 9, 900)',
  'frameMark(0, 10, 1200)',
  'plot(8, 16000000, 60)',
  'plot(11, 1300, 1250000000)',
  'terminate()',
];

describe('CaptureStreamBuilder', () => {
  it('starts with the Welcome status and a welcome in nanosecond ticks from zero', () => {
    const d = build(() => {});
    expect(d.chunks[0]!.length).toBe(1 + WELCOME_SIZE);
    expect(d.chunks[0]![0]).toBe(HandshakeStatus.Welcome);
    const w = decodeWelcome(d.chunks[0]!, 1);
    expect(w).toMatchObject({ timerMul: 1, initBegin: 0n, initEnd: 0n, resolution: 7n, epoch: 1_780_000_000n, exectime: 0n, pid: 4321n, flags: 0 });
    expect(w.programName).toBe('builder-test');
    expect(w.hostInfo).toBe('OS: test\nCPU: none');
    // an empty session is still a whole stream: the Terminate frame of Tracy's client
    expect(Array.from(d.chunks[1]!)).toEqual([0x02, 0x00, 0x00, 0x00, 0x10, 0x49]);
    expectSelfContained(d);
  });

  it('decodes to exactly the events it was given, at the nanoseconds it was given', () => {
    const d = build(sample);
    expectSelfContained(d);
    expect(d.events).toEqual(SAMPLE_EVENTS);
  });

  it('answers every query inside the stream, once, after the item that makes the receiver ask', () => {
    const d = build(sample);
    const dec = d.reader.decoder;
    expect(d.visitor.problems).toEqual([]);
    expect(d.visitor.unanswered()).toEqual([]);
    // names as the receiver resolves them
    expect(Object.fromEntries(dec.names.threads)).toEqual({ 1: 'Main thread', 2: 'Worker', 3: '' });
    expect([...dec.names.plots.values()]).toEqual(['fps', 'mem']);
    expect([...dec.names.frames.values()]).toEqual(['Load', 'Render']);
    const s = dec.srclocs;
    const strings = dec.names.strings;
    expect([0, 1, 2].map((i) => [s.displayName(i, strings), s.functionName(i, strings), s.fileName(i, strings), s.line[i], s.color[i]])).toEqual([
      ['Outer', 'main', 'app.cpp', 10, 0x112233],
      ['work', 'work', 'app.cpp', 20, 0],
      ['Other', 'worker', 'worker.cpp', 5, 0],
    ]);
    expect(s.namePtr[1]).toBe(0); // unnamed
    // replies: 3 source locations, 6 texts (app.cpp, main, Outer, work, worker.cpp, worker,
    // Other: 'app.cpp' once), 3 thread names, 2 plot names, 2 frame names
    expect(dec.repliesCounted).toBe(3 + 7 + 3 + 2 + 2);
  });

  it('decodes the same whether the stream arrives at once or in small pieces', () => {
    const whole = build(sample);
    for (const size of [1, 7, 1171, 4096]) {
      const pieces = build(sample, {}, size);
      expect(pieces.visitor.digest).toBe(whole.visitor.digest);
    }
  });

  it('writes the same events with literal blocks and with small frames', () => {
    const whole = build(sample);
    const literal = build(sample, { compress: false, maxFrameSize: 64 });
    expectSelfContained(literal);
    expect(literal.reader.frames).toBeGreaterThan(10);
    expect(literal.visitor.digest).toBe(whole.visitor.digest);
  });

  it('keeps large times and every delta form exact, and rounds fractional nanoseconds', () => {
    const times = [0, 65535, 65536 + 3, 2 ** 32 + 2 ** 16 - 1, 2 ** 32 + 2 ** 16, 2 ** 50 + 12345];
    const d = build((b) => {
      const s = b.srcloc('z', 'f', 'x.ts', 1, 0);
      let t = 0;
      for (const dt of times) {
        b.zoneBegin(7, (t += dt), s);
        b.zoneEnd(7, (t += dt));
      }
      b.message(7, 1e15 + 0.4, 'late', -1);
      b.plot('p', 1234.6, 1);
    });
    expectSelfContained(d);
    let t = 0;
    const expected: string[] = [];
    for (const dt of times) {
      expected.push(`zoneBegin(7, ${(t += dt)}, 0)`, `zoneEnd(7, ${(t += dt)})`);
    }
    expected.push('message(7, 1000000000000000, "late", -1, 32)', 'plot(4, 1235, 1)', 'terminate()');
    expect(d.events).toEqual(expected);
  });

  it('sends a zone text longer than one staged string in pieces the receiver joins back', () => {
    const line = 'x'.repeat(30_000);
    const text = [line, line, line, 'end'].join('\n');
    const d = build((b) => {
      b.zoneBegin(1, 10, b.srcloc('long', 'f', 'x.ts', 1, 0));
      b.zoneText(1, text);
      b.zoneEnd(1, 20);
    });
    expectSelfContained(d);
    const texts = d.events.filter((e) => e.startsWith('zoneText(')).map((e) => JSON.parse(e.slice('zoneText(1, '.length, -1)) as string);
    expect(texts.length).toBe(2);
    expect(texts.join('\n')).toBe(text);
  });

  it('interns source locations and texts: same values, same id; one reply per id', () => {
    const chunks: Uint8Array[] = [];
    const b = new CaptureStreamBuilder(WELCOME, (c) => chunks.push(c));
    const a = b.srcloc('n', 'f', 'file', 1, 0);
    expect(b.srcloc('n', 'f', 'file', 1, 0)).toBe(a);
    expect(b.srcloc('n', 'f', 'file', 2, 0)).not.toBe(a);
    expect(b.srcloc('n', 'f', 'file', 1, 0x010203)).not.toBe(a);
  });

  it('ends zones left open at finish at their thread\'s latest time, and counts them', () => {
    let builder!: CaptureStreamBuilder;
    const d = build((b) => {
      builder = b;
      const s = b.srcloc('open', 'f', 'x.ts', 1, 0);
      b.zoneBegin(1, 100, s);
      b.zoneBegin(1, 200, s);
      b.zoneEnd(1, 300);
      b.zoneBegin(1, 400, s);
    });
    expectSelfContained(d);
    expect(builder.zonesEndedAtFinish).toBe(2);
    expect(d.events.slice(-3)).toEqual(['zoneEnd(1, 400)', 'zoneEnd(1, 400)', 'terminate()']);
  });

  it('counts and skips plot points that are not finite', () => {
    let builder!: CaptureStreamBuilder;
    const d = build((b) => {
      builder = b;
      b.plot('never', 10, NaN);
      b.plot('p', 20, Infinity);
      b.plot('p', 30, 1);
    });
    expectSelfContained(d);
    expect(builder.droppedNonFinite).toBe(2);
    expect(d.events).toEqual(['plot(1, 30, 1)', 'terminate()']);
    expect([...d.reader.decoder.names.plots.values()]).toEqual(['p']);
  });

  it('throws for calls a receiver would fail on, and after finish', () => {
    const b = new CaptureStreamBuilder(WELCOME, () => {});
    const s = b.srcloc('a', 'f', 'x.ts', 1, 0);
    expect(() => b.zoneEnd(1, 10)).toThrow(new RangeError('zoneEnd on thread 1, which has no open zone'));
    expect(() => b.zoneText(1, 't')).toThrow(RangeError);
    expect(() => b.zoneValue(1, 1)).toThrow(RangeError);
    expect(() => b.zoneBegin(1, 10, 12345)).toThrow(/not a source location id/);
    expect(() => b.zoneBegin(-1, 10, s)).toThrow(/thread id -1 is not a u32/);
    expect(() => b.zoneBegin(1, NaN, s)).toThrow(/time NaN ns/);
    expect(() => b.frameEnd('F', 10)).toThrow(new RangeError('frameEnd on frame set "F", which has no frame open'));
    b.frameStart('F', 10);
    expect(() => b.frameStart('F', 20)).toThrow(/has a frame open/);
    expect(() => b.frameMark('F', 30)).toThrow(TypeError);
    b.frameMark('', 5);
    expect(() => b.frameStart('', 6)).toThrow(/default frame set, which has continuous/);
    b.finish();
    b.finish();
    expect(() => b.plot('p', 1, 1)).toThrow(/finished/);
  });
});
