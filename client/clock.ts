/**
 * The SDK's tick source: integer nanoseconds in a float64, so the welcome says timerMul 1.0
 * (tracy-protocol.md 5.1).
 *
 * Why performance.now(): every monotonic clock Node 20 offers without an addon was timed in the
 * `sdk` bench (bench/sdk-clocks.ts; docs/PERFORMANCE.md, 2026-12-07), all resolving ns:
 *
 *   nowNs() below                          85-95 ns per two reads   a boxed double (16 B) a read
 *   process.hrtime() -> s * 1e9 + ns        73-79 ns                 a new array a read
 *   Number(process.hrtime.bigint())        104-112 ns                two BigInts a read
 *   process.uptime()                       150-167 ns                a plain C++ call
 *
 * process.hrtime() alone is cheaper, but in a zone pair it saved only 4-7 ns while tripling the
 * garbage (scavenges), and it would need a second clock for browsers and a calibration against
 * the performance.now() origin that runtime metrics and worker threads use.
 *
 * performance.now() is monotonic and the same API in browsers and workers. In Node it reads uv_hrtime, the clock process.hrtime reads, counted from the thread's start; a
 * worker's reading therefore differs from the main thread's by a constant, which the worker
 * bridge measures once and adds here (setClockOffsetNs). Its millisecond double keeps ~0.01 ns of
 * precision after a year of uptime, and rounding makes the ticks integers. Browsers coarsen it
 * (5 us to 100 us) unless the page is cross-origin isolated.
 */

let offsetNs = 0;
/**
 * The Performance object, looked up once: in Node 20 the global `performance` is a lazy getter,
 * and going through it on every read cost ~20 ns of a ~80 ns clock read.
 */
const perf = globalThis.performance;

/** Now, in nanoseconds on this process's time line (an integer). */
export function nowNs(): number {
  return Math.round(perf.now() * 1e6) + offsetNs;
}

/** Puts this thread's clock on the main thread's time line (worker threads). */
export function setClockOffsetNs(ns: number): void {
  offsetNs = Math.round(ns);
}

/** The smallest step between two different readings, ns (at least 1): the welcome's resolution. */
export function clockResolutionNs(): number {
  let best = Infinity;
  let last = performance.now();
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    if (t > last && t - last < best) best = t - last;
    last = t;
  }
  return Number.isFinite(best) ? Math.max(1, Math.round(best * 1e6)) : 1;
}
