/**
 * The monotonic clocks a Node.js 20 app can read without a native addon, for the `sdk` bench:
 * what one read costs (timed by the bench beside the zone pairs) and what each resolves.
 * Each `read` returns nanoseconds (ms for Date.now, which is listed only as the floor of a
 * JS-to-C++ call: it is the wall clock, not monotonic, and has 1 ms resolution).
 */
import { nowNs } from '../client/clock.js';

export interface ClockCandidate {
  name: string;
  /** Two reads per iteration, `n` iterations; returns something derived from the reads. */
  pairs(n: number): number;
  /** One read, in ns (the unit used for the resolution and monotonicity check). */
  readNs(): number;
  monotonic: boolean;
  note: string;
}

const perf = globalThis.performance;
const hrtime = process.hrtime;
const hrtimeBigint = process.hrtime.bigint;
const uptime = process.uptime;
const S0 = hrtime()[0];
const B0 = hrtimeBigint();

// One loop per clock (not a shared loop taking a function) so every call site stays monomorphic.
export const CLOCKS: ClockCandidate[] = [
  {
    name: "nowNs() (the SDK's: performance.now() via a cached object, rounded to ns)",
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += nowNs();
        acc -= nowNs();
      }
      return acc;
    },
    readNs: () => nowNs(),
    monotonic: true,
    note: 'allocates a HeapNumber per read (V8 fast-call result), plus a hasOwnProperty brand check',
  },
  {
    name: 'performance.now() through the global getter',
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += performance.now();
        acc -= performance.now();
      }
      return acc;
    },
    readNs: () => performance.now() * 1e6,
    monotonic: true,
    note: 'the global `performance` is a lazy getter in Node 20',
  },
  {
    name: 'process.hrtime() -> (s - s0) * 1e9 + ns',
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const a = hrtime();
        acc += (a[0] - S0) * 1e9 + a[1];
        const b = hrtime();
        acc -= (b[0] - S0) * 1e9 + b[1];
      }
      return acc;
    },
    readNs() {
      const a = hrtime();
      return (a[0] - S0) * 1e9 + a[1];
    },
    monotonic: true,
    note: 'allocates a 2-element array unless inlined; Node only',
  },
  {
    name: 'Number(process.hrtime.bigint() - b0)',
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += Number(hrtimeBigint() - B0);
        acc -= Number(hrtimeBigint() - B0);
      }
      return acc;
    },
    readNs: () => Number(hrtimeBigint() - B0),
    monotonic: true,
    note: 'allocates two BigInts per read; Node only',
  },
  {
    name: 'process.uptime() * 1e9',
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += uptime();
        acc -= uptime();
      }
      return acc;
    },
    readNs: () => uptime() * 1e9,
    monotonic: true,
    note: 'a plain (not fast) C++ call that also updates the loop time; Node only',
  },
  {
    name: 'Date.now() (wall clock: NOT monotonic, 1 ms)',
    pairs(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += Date.now();
        acc -= Date.now();
      }
      return acc;
    },
    readNs: () => Date.now() * 1e6,
    monotonic: false,
    note: 'rejected: steps with the system clock',
  },
];

export interface ClockResolution {
  /** smallest non-zero step between two consecutive reads, ns */
  minStepNs: number;
  /** consecutive reads that went backwards */
  backwards: number;
}

/** Reads `clock` `n` times back to back: its smallest non-zero step and any step backwards. */
export function clockResolution(clock: ClockCandidate, n = 200_000): ClockResolution {
  let best = Infinity;
  let backwards = 0;
  let last = clock.readNs();
  for (let i = 0; i < n; i++) {
    const t = clock.readNs();
    if (t < last) backwards++;
    else if (t > last && t - last < best) best = t - last;
    last = t;
  }
  return { minStepNs: best, backwards };
}
