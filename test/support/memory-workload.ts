/**
 * A synthetic app with memory events whose every allocation is known in advance (the memory
 * window tests' truth): two threads, allocations made inside known zones, a named pool, frees,
 * leaks (never freed). `memoryModel()` is the list of allocations with the zone each was made
 * in; `writeMemoryWorkload()` writes the same as Tracy queue items (for a server), and
 * `feedMemoryWorkload()` calls a store's visitor methods directly (source locations 0, 1, 2 =
 * Tick, LoadAsset, Job).
 */
import type { QueueWriter, TracyVisitor } from '../../protocol/tracy/index.js';
import type { SyntheticNames } from './synthetic-client.js';

export const MAIN = 1;
export const WORKER = 2;
/** Iterations; each is PERIOD_NS long. */
export const ITERATIONS = 400;
export const PERIOD_NS = 1_000_000;
/** Named pool (TracyAllocN): its name. */
export const ARENA = 'frame arena';

export interface ModelAlloc {
  thread: number;
  /** '' = the default pool */
  pool: string;
  address: number;
  size: number;
  allocNs: number;
  /** Infinity: never freed (a leak); discarded ones end at the discard */
  freeNs: number;
  /** how it ends: the app freed it, the pool was discarded, or never */
  end: 'free' | 'discard' | 'leak';
  /** the name of the innermost zone around allocNs */
  zone: string | null;
}

/** One event of the workload, for either kind of sink. */
interface Sink {
  zoneBegin(thread: number, t: number, src: 'tick' | 'load' | 'job'): void;
  zoneEnd(thread: number, t: number): void;
  memAlloc(thread: number, t: number, ptr: number, size: number, named: boolean): void;
  memFree(thread: number, t: number, ptr: number, named: boolean): void;
}

interface Ev {
  t: number;
  seq: number;
  write(s: Sink): void;
}

const SRC = { tick: 0x5001, load: 0x5002, job: 0x5003 };

/** Declares the workload's source locations, thread names and pool name. */
export function declareMemoryNames(names: SyntheticNames): void {
  names.srcloc(SRC.tick, 'Tick');
  names.srcloc(SRC.load, 'LoadAsset');
  names.srcloc(SRC.job, 'Job');
  names.threads.set(MAIN, 'main');
  names.threads.set(WORKER, 'worker');
  names.string(ARENA);
}

/**
 * Per iteration i (base = i * PERIOD_NS):
 * - main: Tick [base, base+800us] containing LoadAsset [base+100us, base+400us]; in LoadAsset an
 *   allocation of 64 * (1 + i % 5) bytes at base+150us, freed 3 periods later at +500us, except
 *   every 10th (a leak); in Tick (outside LoadAsset) 1000 bytes at base+500us freed at base+700us;
 *   between iterations (no zone open) 24 bytes at base+900us, freed at base+950us;
 * - worker: Job [base+200us, base+600us] with 4096 bytes in the named pool at base+250us, freed
 *   at base+580us, except in the last 5 iterations.
 * Frees that would come after the last iteration never happen: those allocations leak too.
 */
export function memoryModel(): ModelAlloc[] {
  const out: ModelAlloc[] = [];
  let next = 0x7f00_0000_0000;
  const addr = () => (next += 0x40);
  for (let i = 0; i < ITERATIONS; i++) {
    const base = i * PERIOD_NS;
    const leak = i % 10 === 9;
    out.push({ thread: MAIN, pool: '', address: addr(), size: 64 * (1 + (i % 5)), allocNs: base + 150_000, freeNs: leak ? Infinity : base + 3 * PERIOD_NS + 500_000, end: leak ? 'leak' : 'free', zone: 'LoadAsset' });
    out.push({ thread: MAIN, pool: '', address: addr(), size: 1000, allocNs: base + 500_000, freeNs: base + 700_000, end: 'free', zone: 'Tick' });
    out.push({ thread: MAIN, pool: '', address: addr(), size: 24, allocNs: base + 900_000, freeNs: base + 950_000, end: 'free', zone: null });
    const arenaLeak = i >= ITERATIONS - 5;
    out.push({ thread: WORKER, pool: ARENA, address: addr(), size: 4096, allocNs: base + 250_000, freeNs: arenaLeak ? Infinity : base + 580_000, end: arenaLeak ? 'leak' : 'free', zone: 'Job' });
  }
  // frees past the end of the workload do not happen: those allocations are leaks too
  const endNs = ITERATIONS * PERIOD_NS;
  for (const a of out) {
    if (a.freeNs !== Infinity && a.freeNs > endNs) {
      a.freeNs = Infinity;
      a.end = 'leak';
    }
  }
  return out;
}

/** The allocations of `pool` alive at t (alloc <= t < free), in allocation order. */
export function aliveAt(model: ModelAlloc[], pool: string, t: number): ModelAlloc[] {
  return model.filter((a) => a.pool === pool && a.allocNs <= t && a.freeNs > t).sort((x, y) => x.allocNs - y.allocNs);
}

function events(): Ev[] {
  const evs: Ev[] = [];
  let seq = 0;
  const at = (t: number, write: (s: Sink) => void) => evs.push({ t, seq: seq++, write });
  for (let i = 0; i < ITERATIONS; i++) {
    const base = i * PERIOD_NS;
    at(base, (w) => w.zoneBegin(MAIN, base, 'tick'));
    at(base + 100_000, (w) => w.zoneBegin(MAIN, base + 100_000, 'load'));
    at(base + 400_000, (w) => w.zoneEnd(MAIN, base + 400_000));
    at(base + 800_000, (w) => w.zoneEnd(MAIN, base + 800_000));
    at(base + 200_000, (w) => w.zoneBegin(WORKER, base + 200_000, 'job'));
    at(base + 600_000, (w) => w.zoneEnd(WORKER, base + 600_000));
  }
  for (const a of memoryModel()) {
    at(a.allocNs, (w) => w.memAlloc(a.thread, a.allocNs, a.address, a.size, a.pool !== ''));
    if (a.end === 'free') at(a.freeNs, (w) => w.memFree(a.thread, a.freeNs, a.address, a.pool !== ''));
  }
  evs.sort((x, y) => x.t - y.t || x.seq - y.seq);
  return evs;
}

/** Writes the workload into `q` in time order (zones per thread, memory events on the serial queue). */
export function writeMemoryWorkload(q: QueueWriter, names: SyntheticNames): void {
  const poolPtr = names.string(ARENA);
  const ptr = { tick: SRC.tick, load: SRC.load, job: SRC.job };
  const sink: Sink = {
    zoneBegin: (th, t, src) => q.zoneBegin(th, t, ptr[src]),
    zoneEnd: (th, t) => q.zoneEnd(th, t),
    memAlloc: (th, t, p, size, named) => q.memAlloc(th, t, p, size, named ? poolPtr : 0),
    memFree: (th, t, p, named) => q.memFree(th, t, p, named ? poolPtr : 0),
  };
  for (const e of events()) e.write(sink);
}

/** Source location indices feedMemoryWorkload uses. */
export const SRCLOC_INDEX = { Tick: 0, LoadAsset: 1, Job: 2 } as const;

/** Feeds the workload to a visitor (a SessionStore) directly; the named pool's pointer is `poolPtr`. */
export function feedMemoryWorkload(v: TracyVisitor, poolPtr: number): void {
  const idx = { tick: SRCLOC_INDEX.Tick, load: SRCLOC_INDEX.LoadAsset, job: SRCLOC_INDEX.Job };
  const sink: Sink = {
    zoneBegin: (th, t, src) => v.zoneBegin(th, t, idx[src]),
    zoneEnd: (th, t) => v.zoneEnd(th, t),
    memAlloc: (th, t, p, size, named) => v.memAlloc(th, t, p, size, named ? poolPtr : 0),
    memFree: (th, t, p, named) => v.memFree(th, t, p, named ? poolPtr : 0),
  };
  for (const e of events()) e.write(sink);
}
