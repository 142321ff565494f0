import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from either bench/*.ts (vitest) or dist/bench/*.js (npm run bench). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** ../shared/fixtures/tracy beside the checkout, or ZONESCOPE_FIXTURES; null when absent. */
export function tracyFixturesDir(): string | null {
  const dir = process.env.ZONESCOPE_FIXTURES ?? resolve(repoRoot(), '../shared/fixtures/tracy');
  return existsSync(dir) ? dir : null;
}

export function machineLine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times after `warmup` runs; returns the median wall time in ms. */
export function timeRuns(runs: number, warmup: number, fn: () => void): number {
  return timeRunsStats(runs, warmup, fn).median;
}

/**
 * As timeRuns, with the fastest run too (the least disturbed by other processes) and the first
 * warm-up run (`cold`: the JIT has not optimised the decoder yet; it takes two or three passes
 * over a stream of millions of items before the measured runs are steady).
 */
export function timeRunsStats(runs: number, warmup: number, fn: () => void): { median: number; min: number; cold: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  let cold = NaN;
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    fn();
    if (i === 0) cold = performance.now() - t0;
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc?.();
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return { median: median(times), min: Math.min(...times), cold };
}

export function fmtRate(count: number, ms: number): string {
  const perS = (count / ms) * 1000;
  return perS >= 1e6 ? `${(perS / 1e6).toFixed(1)} M/s` : `${(perS / 1e3).toFixed(1)} k/s`;
}

export function fmtMBs(bytes: number, ms: number): string {
  return `${((bytes / ms) * 1000 / 1e6).toFixed(0)} MB/s`;
}

/** Calls the collector if node runs with --expose-gc (npm run bench does); twice, so finalised objects go too. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** JS heap plus ArrayBuffer backing stores (where typed-array columns live), in bytes. */
export function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Wall-clock milliseconds since the epoch: Date.now(), the clock the server stamps sessions
 * with (performance.timeOrigin + now() can drift from it by milliseconds over a long run).
 */
export function epochMs(): number {
  return Date.now();
}

/** One figure measured against its target, listed at the end of `npm run bench`. */
export interface TargetCheck {
  bench: string;
  what: string;
  value: string;
  target: string;
  met: boolean;
}

export const targetChecks: TargetCheck[] = [];

export function checkTarget(bench: string, what: string, value: string, target: string, met: boolean): void {
  targetChecks.push({ bench, what, value, target, met });
}

export function printTargetChecks(): void {
  if (targetChecks.length === 0) return;
  console.log('\ntargets:');
  for (const c of targetChecks) {
    console.log(`  [${c.met ? 'met' : 'NOT MET'}] ${c.bench}: ${c.what} = ${c.value} (target ${c.target})`);
  }
}
