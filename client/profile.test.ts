/**
 * profile: { cpu, heap } end to end in-process: a hot function and a leak run with V8's profilers
 * on, the stream goes over an in-memory pair to the SDK test receiver (protocol/'s
 * TracyStreamReader), whose decoder asks for every new frame with ServerQueryCallstackFrame as
 * Tracy's receiver does, and the stacks, resolved from the app's answers, name the hot and the
 * leaking function.
 *
 * The callstack items are also read by a small scanner of the decoded frames (written from
 * tracy-protocol.md 4.1 and 4.10), independent of the decoder.
 */
import { describe, expect, it } from 'vitest';
import { NullVisitor, QueueType as Q, QUEUE_ITEM_SIZE, ServerQuery, TracyStreamReader } from '../protocol/tracy/index.js';
import { memoryClient } from '../test/support/sdk-receiver.js';
import { FRAME_BASE } from './callstacks.js';
import { HEAP_POOL, resolveProfileSettings, startProfiling } from './profile.js';

/** What the scanner found: stacks of samples and allocations, frees, frame answers. */
interface Scan {
  samples: { thread: number; stack: number[] }[];
  allocs: Map<number, { size: number; stack: number[]; pool: number }>;
  frees: number;
  frames: Map<number, { fn: string; file: string; line: number }>;
}

const utf8 = new TextDecoder();

/** Walks decompressed frames item by item, keeping staged strings and payloads like a receiver. */
class ScanningReader extends TracyStreamReader {
  readonly scan: Scan = { samples: [], allocs: new Map(), frees: 0, frames: new Map() };
  private single = '';
  private second = '';
  private payload: number[] = [];
  private serial: number[] = [];
  private pool = 0;
  private framePtr = 0;

  override frameRead(items: Uint8Array, start: number, end: number, frameStart: number): void {
    super.frameRead(items, start, end, frameStart);
    const v = new DataView(items.buffer, items.byteOffset);
    const u64 = (at: number) => v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
    let p = start;
    while (p < end) {
      const t = items[p]!;
      if (t >= 119) {
        const big = t === 126 || t === 129 || t === 130;
        const len = big ? v.getUint32(p + 9, true) : v.getUint16(p + 9, true);
        const data = p + (big ? 13 : 11);
        if (t === Q.CallstackPayload) {
          this.payload = [];
          for (let i = 0; i < len; i += 8) this.payload.push(u64(data + i));
        }
        p = data + len;
        continue;
      }
      if (t >= 112 && t <= 115) {
        const long = t <= 113;
        const len = long ? v.getUint16(p + 1, true) + 256 : items[p + 1]!;
        const at = p + (long ? 3 : 2);
        const text = utf8.decode(items.subarray(at, at + len));
        if (t === 112 || t === 114) this.single = text;
        else this.second = text;
        p = at + len;
        continue;
      }
      const s = this.scan;
      switch (t) {
        case Q.CallstackSample:
        case Q.CallstackSample32:
        case Q.CallstackSample16:
          s.samples.push({ thread: v.getUint32(p + 1, true), stack: this.payload });
          break;
        case Q.CallstackSerial:
          this.serial = this.payload;
          break;
        case Q.MemNamePayload:
          this.pool = u64(p + 1);
          break;
        case Q.MemAllocCallstackNamed:
          s.allocs.set(u64(p + 13), { size: v.getUint32(p + 21, true) + v.getUint16(p + 25, true) * 2 ** 32, stack: this.serial, pool: this.pool });
          break;
        case Q.MemFreeNamed:
          if (s.allocs.delete(u64(p + 13))) s.frees++;
          break;
        case Q.CallstackFrameSize:
          this.framePtr = u64(p + 1);
          break;
        case Q.CallstackFrame:
          s.frames.set(this.framePtr, { fn: this.single, file: this.second, line: v.getUint32(p + 1, true) });
          break;
      }
      p += QUEUE_ITEM_SIZE[t]!;
    }
  }
}

function scanStream(bytes: number[]): ScanningReader {
  const r = new ScanningReader(new NullVisitor());
  r.push(Uint8Array.from(bytes));
  return r;
}

/** The leak: kept for the whole test, so its samples stay live. */
const leaked: number[][] = [];

function leakingFunction(): void {
  for (let i = 0; i < 200; i++) leaked.push(new Array<number>(256).fill(i));
}

function hotFunction(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) for (let i = 0; i < 200000; i++) x = (x * 31 + i) % 1000003;
  return x;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 5));

describe('profile: V8 CPU and heap samples as Tracy callstacks', () => {
  it('streams samples and allocations that decode item by item, answers every frame query, and names the hot and the leaking function', async () => {
    const { client, receiver } = await memoryClient();
    const stop = startProfiling(client, { cpu: true, heap: true, cpuChunkMs: 50, heapPollMs: 50, heapIntervalBytes: 4096 })!;
    for (let round = 0; round < 10; round++) {
      hotFunction(30);
      leakingFunction();
      await tick();
    }
    await stop();
    client.flushNow();
    await tick();
    // The receiver's decoder asks for every new payload address itself, as Tracy's does.
    client.plot('nudge', 1); // a frame, after which the receiver sends its queries
    await client.close();
    const sent = scanStream(receiver.bytes).scan;
    const addresses = new Set<number>();
    for (const s of sent.samples) for (const a of s.stack) addresses.add(a);
    for (const a of sent.allocs.values()) for (const x of a.stack) addresses.add(x);
    const table = receiver.reader.decoder.callstacks;
    // every sampled or allocating address is known and answered (free stacks add a few more)
    for (const a of addresses) expect(table.resolved(`0x${a.toString(16)}`), `0x${a.toString(16)}`).toBeTruthy();
    expect(table.addressCount).toBeGreaterThanOrEqual(addresses.size);
    expect(table.unresolved).toBe(0);

    expect(receiver.error).toBeNull();
    const hist = receiver.reader.decoder.histogram;
    expect(hist[Q.CallstackPayload]).toBeGreaterThan(0);
    expect(hist[Q.CallstackSample]! + hist[Q.CallstackSample16]! + hist[Q.CallstackSample32]!).toBeGreaterThan(0);
    expect(hist[Q.MemAllocCallstackNamed]).toBeGreaterThan(0);
    expect(hist[Q.CallstackFrameSize]).toBe(table.addressCount);
    expect(receiver.outstanding).toBe(0);

    const all = scanStream(receiver.bytes).scan;
    for (const a of addresses) expect(all.frames.has(a)).toBe(true);
    expect(all.samples.every((s) => s.thread === client.thread.tid)).toBe(true);
    expect(client.stats.profileSamples).toBe(all.samples.length + all.allocs.size + all.frees);

    // CPU: the most frequent innermost function among samples is the hot one.
    const innermost = new Map<string, number>();
    for (const s of all.samples) {
      const fn = all.frames.get(s.stack[0]!)!.fn;
      innermost.set(fn, (innermost.get(fn) ?? 0) + 1);
    }
    const top = [...innermost].sort((a, b) => b[1] - a[1])[0]!;
    expect(top[0]).toBe('hotFunction');
    const hot = all.frames.get(all.samples.find((s) => all.frames.get(s.stack[0]!)!.fn === 'hotFunction')!.stack[0]!)!;
    expect(hot.file).toMatch(/profile\.test\.ts$/);
    expect(hot.line).toBeGreaterThan(0);

    // Heap: the live stack with the most bytes contains the leaking function, in the named pool.
    const pool = [...all.allocs.values()][0]!.pool;
    expect(receiver.reader.decoder.names.strings.get(pool)).toBe(HEAP_POOL);
    const bytesByStack = new Map<string, { bytes: number; stack: number[] }>();
    for (const a of all.allocs.values()) {
      const key = a.stack.join(',');
      const e = bytesByStack.get(key) ?? { bytes: 0, stack: a.stack };
      e.bytes += a.size;
      bytesByStack.set(key, e);
    }
    const largest = [...bytesByStack.values()].sort((a, b) => b.bytes - a.bytes)[0]!;
    expect(largest.stack.map((a) => all.frames.get(a)!.fn)).toContain('leakingFunction');
    expect(leaked.length).toBe(2000);
  });

  it('answers a frame query for an address it never sent with a placeholder frame, not a missing reply', async () => {
    const { client, receiver } = await memoryClient();
    startProfiling(client, { heap: true, heapPollMs: 1000 });
    receiver.query(ServerQuery.CallstackFrame, FRAME_BASE + 999_999);
    client.plot('nudge', 1);
    await client.close();
    expect(receiver.error).toBeNull();
    expect(receiver.outstanding).toBe(0);
    expect(scanStream(receiver.bytes).scan.frames.get(FRAME_BASE + 999_999)).toEqual({ fn: '<unknown>', file: '', line: 0 });
  });

  it('rejects settings out of range with a TypeError naming the option', () => {
    expect(() => resolveProfileSettings({ cpu: true, cpuIntervalUs: 10 })).toThrow(new TypeError('profile.cpuIntervalUs must be an integer in [100, 100000], not 10'));
    expect(() => resolveProfileSettings({ heap: true, maxHeapSamples: 0 })).toThrow(/profile\.maxHeapSamples/);
  });
});
