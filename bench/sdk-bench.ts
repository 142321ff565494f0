/**
 * `sdk`: what instrumenting costs the application, with `zonescope serve` in a child process
 * receiving everything (bench/server-process.ts).
 *
 * 1. One zoneBegin + zoneEnd pair on the caller's thread, beside, in the same rounds: two reads
 *    of every monotonic clock Node 20 offers without an addon (bench/sdk-clocks.ts; the first is
 *    the SDK's nowNs(), the reads a pair makes) and performance.mark + performance.measure
 *    (perf_hooks) for the same work, marks and measures cleared every PERF_CLEAR pairs so the
 *    timeline buffer stays small (the clearing is part of the cost: an application has to do it
 *    too). A round runs SLICES slices of every kind in turn (20 k pairs, perf_hooks 2 k), the
 *    order rotating, so load from other processes on this shared machine lands on all kinds
 *    alike; ratios are taken within each round and the median of ROUNDS rounds is reported.
 *    Framing, LZ4 and sending happen later, off the caller's call (between rounds here; every
 *    round is sent and stored before the next starts, and none may be dropped). After the
 *    rounds, V8 says whether the hot functions are TurboFan code (bench/sdk-opt-status.ts).
 * 2. Sustained rate into a live server: a fresh client sends pairs flat out for SUSTAIN_MS, in
 *    batches with an event-loop turn between them (so its timer and flushes run, as in a real
 *    app), with no pacing of its own. Reported: zones/s from the first zone until the server
 *    ended the session (every zone decoded and stored, Terminate seen), and that the SDK's
 *    dropped counter stayed 0 and the server stored every zone.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { connect } from '../client/node.js';
import type { TracyClient } from '../client/types.js';
import { checkTarget, collectGarbage, fmtRate, median } from './bench-util.js';
import { CLOCKS, clockResolution } from './sdk-clocks.js';
import { optimizationReport } from './sdk-opt-status.js';
import { measureProfileOverhead } from './sdk-profile-bench.js';
import { startServerProcess, type ServerProcess, type SessionSummary } from './server-process.js';

const perf = globalThis.performance;

const ROUNDS = 5;
/** Pairs per slice: each kind runs a slice in turn, SLICES times a round (~2-4 ms a slice). */
const SLICE = 20_000;
const SLICES = 100;
const PERF_SLICE = 2_000;
const PERF_CLEAR = 8192;
const SUSTAIN_MS = 3000;
const SUSTAIN_BATCH = 10_000;
const SESSION_TIMEOUT_MS = 120_000;

/**
 * Targets (issue 13, restated after measuring): a pair within 1.3x of its own two clock reads and
 * under 150 ns; performance.mark + measure >= 5x a pair.
 */
const PAIR_NS = 150;
const PAIR_OVER_CLOCK = 1.3;
const PERF_OVER_PAIR = 5;

/** Results the loops return, kept so V8 cannot drop the calls. */
let sink = 0;

function pairsByName(tracy: TracyClient, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = tracy.zoneBegin('bench pair');
    tracy.zoneEnd(z);
  }
}

function pairsBySrcloc(tracy: TracyClient, srcloc: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = tracy.zoneBegin(srcloc);
    tracy.zoneEnd(z);
  }
}

let perfMarks = 0;
function perfHooksPairs(n: number): void {
  for (let i = 0; i < n; i++) {
    performance.mark('bench pair');
    performance.measure('bench pair', 'bench pair');
    if (++perfMarks === PERF_CLEAR) {
      perfMarks = 0;
      performance.clearMarks();
      performance.clearMeasures();
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the client sent everything it holds and the server stored `zones` zones of session `id` (or of the newest one). */
async function settle(tracy: TracyClient, server: ServerProcess, zones: number): Promise<SessionSummary> {
  const deadline = Date.now() + SESSION_TIMEOUT_MS;
  for (;;) {
    if (tracy.stats.bufferedBytes === 0) {
      const list = await server.get<SessionSummary[]>('/api/sessions');
      const s = list[list.length - 1];
      if (s !== undefined && s.zones >= zones) return s;
    }
    if (Date.now() > deadline) throw new Error(`the server did not store ${zones} zones within ${SESSION_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

/** ns per pair of each kind, one entry per counted round. */
interface PairFigures {
  byName: number[];
  bySrcloc: number[];
  /** per clock of CLOCKS, ns per two reads */
  clocks: number[][];
  perfHooks: number[];
  /** byName / CLOCKS[0] (the SDK's two reads), computed within each round */
  overClock: number[];
  /** perfHooks / byName, within each round */
  perfOver: number[];
}

/**
 * One round: every kind runs SLICES slices in turn (the order rotating), so a load swing on this
 * shared machine lands on all kinds alike instead of on whichever ran during it.
 * @returns ns per pair (two reads) of each kind: byName, bySrcloc, CLOCKS..., perf_hooks
 */
function pairRound(tracy: TracyClient, srcloc: number): number[] {
  const kinds: Array<{ n: number; run: (n: number) => void }> = [
    { n: SLICE, run: (n) => pairsByName(tracy, n) },
    { n: SLICE, run: (n) => pairsBySrcloc(tracy, srcloc, n) },
    ...CLOCKS.map((c) => ({ n: SLICE, run: (n: number) => void (sink += c.pairs(n)) })),
    { n: PERF_SLICE, run: perfHooksPairs },
  ];
  const ms = kinds.map(() => 0);
  for (let slice = 0; slice < SLICES; slice++) {
    for (let j = 0; j < kinds.length; j++) {
      const k = (slice + j) % kinds.length;
      const t0 = perf.now();
      kinds[k]!.run(kinds[k]!.n);
      ms[k]! += perf.now() - t0;
    }
  }
  return ms.map((m, k) => (m * 1e6) / (kinds[k]!.n * SLICES));
}

async function measurePairs(server: ServerProcess): Promise<PairFigures> {
  // Room for a whole round (4 M zones are ~56 MB of items) while it is being sent.
  const tracy = await connect({ appName: 'sdk-bench pairs', port: server.ingestPort!, bufferBytes: 256 * 2 ** 20, exitHandlers: false });
  const srcloc = tracy.sourceLocation('bench pair (srcloc)');
  const f: PairFigures = { byName: [], bySrcloc: [], clocks: CLOCKS.map(() => []), perfHooks: [], overClock: [], perfOver: [] };
  let zones = 0;
  // Round 0 warms the JIT up and grows the client's buffer; it is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    collectGarbage();
    const ns = pairRound(tracy, srcloc);
    zones += 2 * SLICE * SLICES;
    await settle(tracy, server, zones);
    performance.clearMarks();
    performance.clearMeasures();
    if (round === 0) continue;
    const [byName, bySrcloc, perfHooks] = [ns[0]!, ns[1]!, ns[ns.length - 1]!];
    f.byName.push(byName);
    f.bySrcloc.push(bySrcloc);
    CLOCKS.forEach((_, i) => f.clocks[i]!.push(ns[2 + i]!));
    f.perfHooks.push(perfHooks);
    f.overClock.push(byName / ns[2]!);
    f.perfOver.push(perfHooks / byName);
  }
  await tracy.close();
  if (tracy.stats.dropped !== 0) throw new Error(`the pair rounds dropped ${tracy.stats.dropped} events: the figures would time the drop path`);
  return f;
}

interface SustainFigures {
  zones: number;
  produceMs: number;
  endToEndMs: number;
  sentBytes: number;
  dropped: number;
  session: SessionSummary;
}

async function measureSustained(server: ServerProcess): Promise<SustainFigures> {
  const before = new Set((await server.get<SessionSummary[]>('/api/sessions')).map((s) => s.id));
  const tracy = await connect({ appName: 'sdk-bench sustained', port: server.ingestPort!, exitHandlers: false });
  tracy.setThreadName('producer');
  let zones = 0;
  const startEpochMs = Date.now();
  const t0 = performance.now();
  while (performance.now() - t0 < SUSTAIN_MS) {
    for (let i = 0; i < SUSTAIN_BATCH; i++) {
      const outer = tracy.zoneBegin('request');
      const inner = tracy.zoneBegin('step');
      tracy.zoneEnd(inner);
      tracy.zoneEnd(outer);
    }
    zones += 2 * SUSTAIN_BATCH;
    await nextTurn();
  }
  const produceMs = performance.now() - t0;
  await tracy.close();
  const deadline = Date.now() + SESSION_TIMEOUT_MS;
  let session: SessionSummary | undefined;
  for (;;) {
    session = (await server.get<SessionSummary[]>('/api/sessions')).find((s) => !before.has(s.id));
    if (session?.state === 'ended') break;
    if (Date.now() > deadline) throw new Error('the sustained session did not end');
    await sleep(20);
  }
  if (session.endReason !== 'terminated' || session.zones !== zones) {
    throw new Error(`sustained session ended '${session.endReason}' with ${session.zones} zones (expected 'terminated', ${zones}; the client dropped ${tracy.stats.dropped})`);
  }
  return { zones, produceMs, endToEndMs: session.endedAt! - startEpochMs, sentBytes: tracy.stats.sentBytes, dropped: tracy.stats.dropped, session };
}

const fmtNs = (ns: number) => `${ns.toFixed(1)} ns`;
const runs2 = (xs: number[]) => `[${xs.map((x) => x.toFixed(2)).join(', ')}]`;

export async function runSdkBench(): Promise<void> {
  const server = await startServerProcess([]);
  try {
    const f = await measurePairs(server);
    const m = { byName: median(f.byName), bySrcloc: median(f.bySrcloc), perfHooks: median(f.perfHooks), clock: median(f.clocks[0]!) };
    const overClock = median(f.overClock);
    const perfOver = median(f.perfOver);
    const runs = (xs: number[]) => `[rounds: ${xs.map((x) => x.toFixed(0)).join(', ')}]`;
    const line = (what: string, ns: number, xs: number[]) => console.log(`  ${what.padEnd(44)} ${fmtNs(ns).padStart(9)}  ${runs(xs)}`);
    console.log(
      `sdk: median ns per pair over ${ROUNDS} rounds of ${(SLICE * SLICES) / 1e6} M pairs (perf_hooks ${(PERF_SLICE * SLICES) / 1e3} k), ` +
        `each round ${SLICES} slices of every kind in turn`,
    );
    line('zoneBegin(name) + zoneEnd', m.byName, f.byName);
    line('zoneBegin(sourceLocation id) + zoneEnd', m.bySrcloc, f.bySrcloc);
    line('performance.mark + measure (perf_hooks)', m.perfHooks, f.perfHooks);
    console.log('  two reads of each clock (ns per read pair; smallest step seen; monotonic):');
    CLOCKS.forEach((c, i) => {
      const r = clockResolution(c);
      const step = Number.isFinite(r.minStepNs) ? `${r.minStepNs.toFixed(0)} ns` : 'none';
      console.log(`    ${fmtNs(median(f.clocks[i]!)).padStart(9)}  ${c.name}; step ${step}; backwards ${r.backwards}${c.monotonic ? '' : ' (wall clock)'}  ${runs(f.clocks[i]!)}`);
    });
    console.log(
      `  pair / its two clock reads (nowNs x2): ${overClock.toFixed(2)}x ${runs2(f.overClock)}; pair without the clock reads: ${fmtNs(m.byName - m.clock)}; ` +
        `perf_hooks / pair: ${perfOver.toFixed(1)}x ${runs2(f.perfOver)}`,
    );
    console.log(`  optimized (TurboFan): ${optimizationReport({ pairsByName, pairsBySrcloc })}`);
    checkTarget('sdk', 'zoneBegin+zoneEnd pair', fmtNs(m.byName), `< ${PAIR_NS} ns`, m.byName < PAIR_NS);
    checkTarget('sdk', 'pair / its two clock reads (nowNs() x2), median of rounds', `${overClock.toFixed(2)}x`, `<= ${PAIR_OVER_CLOCK}x`, overClock <= PAIR_OVER_CLOCK);
    checkTarget('sdk', 'perf_hooks mark+measure / pair, median of rounds', `${perfOver.toFixed(1)}x`, `>= ${PERF_OVER_PAIR}x`, perfOver >= PERF_OVER_PAIR);

    const s = await measureSustained(server);
    const rate = (s.zones / s.endToEndMs) * 1000;
    console.log(
      `sdk sustained: ${(s.zones / 1e6).toFixed(2)} M zones (request > step) sent flat out for ${s.produceMs.toFixed(0)} ms into the server: ` +
        `${fmtRate(s.zones, s.endToEndMs)} end to end (first zone -> session ended, ${s.endToEndMs.toFixed(0)} ms), ` +
        `${fmtRate(s.zones, s.produceMs)} while producing; ${(s.sentBytes / s.zones).toFixed(2)} bytes/zone on the wire; dropped ${s.dropped}; server stored ${s.session.zones}`,
    );
    checkTarget('sdk', 'sustained zones/s into a live server (dropped must be 0)', `${(rate / 1e6).toFixed(2)} M, dropped ${s.dropped}`, 'dropped = 0', s.dropped === 0 && s.session.zones === s.zones);

    await measureProfileOverhead(server);
  } finally {
    await server.stop();
  }
  if (sink === 42) console.log('(sink)');
}
