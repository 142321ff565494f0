/**
 * Whether the SDK's hot functions run as TurboFan code after the `sdk` bench's rounds (a
 * deoptimised zoneBegin would time V8's interpreter, not the SDK). Uses V8's
 * %GetOptimizationStatus, enabled here at run time (bench only, never in the SDK).
 */
import v8 from 'node:v8';
import { nowNs } from '../client/clock.js';
import { Recorder } from '../client/recorder.js';
import { QueueWriter } from '../protocol/tracy/queue-writer.js';

/** Bits of V8's OptimizationStatus (src/runtime/runtime.h, V8 11.x). */
const OPTIMIZED = 1 << 4;
const TURBOFANNED = 1 << 6;
const MAYBE_DEOPTED = 1 << 3;
const IS_LAZY = 1 << 18;

type AnyFn = (...args: never[]) => unknown;

let statusOf: ((f: AnyFn) => number) | null = null;

function status(f: AnyFn): number {
  if (statusOf === null) {
    v8.setFlagsFromString('--allow-natives-syntax');
    statusOf = new Function('f', 'return %GetOptimizationStatus(f)') as (f: AnyFn) => number;
  }
  return statusOf(f);
}

function describe(s: number): string {
  if ((s & OPTIMIZED) !== 0 && (s & TURBOFANNED) !== 0) return 'yes';
  if ((s & IS_LAZY) !== 0) return 'never compiled';
  return `no${(s & MAYBE_DEOPTED) !== 0 ? ' (deoptimised)' : ''}`;
}

/**
 * One line: each hot function and whether it is TurboFan code now. The SDK's own functions may
 * show "no" when V8 inlined them into every caller (the bench loops then carry them: see those).
 */
export function optimizationReport(loops: Record<string, AnyFn>): string {
  const r = Recorder.prototype as unknown as Record<string, AnyFn>;
  const w = QueueWriter.prototype as unknown as Record<string, AnyFn>;
  const fns: Record<string, AnyFn> = {
    ...loops,
    'Recorder.zoneBegin': r.zoneBegin!,
    'Recorder.zoneEnd': r.zoneEnd!,
    'QueueWriter.zoneBegin': w.zoneBegin!,
    'QueueWriter.zoneEnd': w.zoneEnd!,
    nowNs,
  };
  return Object.entries(fns)
    .map(([name, f]) => `${name} ${describe(status(f))}`)
    .join(', ');
}
