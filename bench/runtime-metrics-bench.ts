/**
 * What one memory sample of runtimeMetrics costs (client/memory-anatomy.ts): each Node/V8 call it
 * makes, in ns and in bytes allocated per call, and a whole MemorySampler.sample() into a real
 * client (listening on an ephemeral port with no receiver, so the points are held in its
 * queue: the write is measured, not the socket).
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/runtime-metrics-bench.js
 *
 * Figures: median of 7 rounds of 20,000 calls (ns per call), the fastest round beside it; bytes
 * per call from V8's used heap size across 1,000 calls after a full GC (no GC in between: the
 * young generation is larger than what 1,000 calls allocate).
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { listen } from '../client/node.js';
import { MemorySampler } from '../client/memory-anatomy.js';
import { machineLine, median } from './bench-util.js';

const CALLS = 20_000;
const ROUNDS = 7;

function nsPerCall(fn: () => unknown, calls = CALLS): { median: number; min: number } {
  for (let i = 0; i < 2_000; i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t0) / calls);
  }
  return { median: median(rounds), min: Math.min(...rounds) };
}

function bytesPerCall(fn: () => unknown, calls = 1_000): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return NaN;
  for (let i = 0; i < 100; i++) fn();
  gc();
  const before = getHeapStatistics().used_heap_size;
  for (let i = 0; i < calls; i++) fn();
  return (getHeapStatistics().used_heap_size - before) / calls;
}

function report(name: string, fn: () => unknown, calls?: number): void {
  const t = nsPerCall(fn, calls);
  const b = bytesPerCall(fn);
  console.log(`${name.padEnd(34)} ${t.median.toFixed(0).padStart(6)} ns/call (fastest round ${t.min.toFixed(0)})   ${Number.isNaN(b) ? '(run with --expose-gc for bytes)' : `${b.toFixed(0)} B/call allocated`}`);
}

console.log(`machine: ${machineLine()}`);
console.log('command: node --expose-gc dist/bench/runtime-metrics-bench.js\n');
report('process.memoryUsage()', () => process.memoryUsage());
report('v8.getHeapSpaceStatistics()', () => getHeapSpaceStatistics());
report('v8.getHeapStatistics()', () => getHeapStatistics());

// 64 MiB of buffer (the default) holds ~100 k samples of ~650 B: 20 k calls x 8 rounds stay under it
const tracy = await listen({ port: 0, appName: 'runtime-metrics-bench', exitHandlers: false });
const sampler = new MemorySampler(tracy, { prefix: '', heapSpaces: true });
const points = sampler.plotNames().length;
report(`MemorySampler.sample() (${points} plots)`, () => sampler.sample(), 10_000);
const spacesOff = new MemorySampler(tracy, { prefix: 'off ', heapSpaces: false });
report(`  heapSpaces: false (${spacesOff.plotNames().length} plots)`, () => spacesOff.sample(), 10_000);
console.log(`events dropped: ${tracy.stats.dropped} (0: every sample above was written)`);
await tracy.close();
