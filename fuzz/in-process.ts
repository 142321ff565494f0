/**
 * The in-process half: each mutated stream goes through the path a real session uses, in this
 * process, with no sockets:
 *   client stream  -> SessionRegistry.create + Session.receive (in 1..n chunks) + connectionClosed
 *   .zscap         -> loadCaptureBytes (CaptureReader -> Session), as a capture loads
 *   Chrome JSON    -> importChromeTrace -> loadCaptureBytes, as POST /api/sessions/import does
 * Most streams share one registry with a small memory budget (evictions and the trim of ended
 * sessions happen all the time); one in four gets a registry of its own (a fresh 1 GiB budget).
 */
import { loadCaptureBytes } from '../server/capture/capture-session.js';
import { decodeChromeBytes, importChromeTrace } from '../server/export/chrome-import.js';
import type { Session, SessionTransport } from '../server/session/session.js';
import { SessionRegistry } from '../server/session/session-registry.js';
import type { FuzzInputs } from './inputs.js';
import { judgeSession, judgeThrown, reproduceStack } from './judge.js';
import { deliveryCuts } from './mutate-bytes.js';
import { describe, mutateStream, type BaseWeights, type MutatedStream } from './mutate.js';
import { Prng, streamSeed } from './prng.js';
import type { FuzzStats, MemoryPeaks, Outcome } from './stats.js';

export interface InProcessOptions {
  seed: number;
  /** Index of the first stream (to replay one: --start I --count 1). */
  start: number;
  count: number;
  /** performance.now() after which no new stream starts. */
  deadlineMs: number;
  /** A stream not done within this many ms is a hang. */
  hangMs: number;
  /** Budget of the shared registry, bytes. */
  sharedBudgetBytes: number;
  /** Ended sessions the shared registry keeps (the server keeps 200; fewer keep RSS down). */
  sharedMaxEnded: number;
}

/** Mostly small recordings, some medium prefixes and captures, a few Chrome files. */
export const IN_PROCESS_WEIGHTS: BaseWeights = { client: 45, mediumPrefix: 12, mediumWhole: 0.03, zscap: 35, chrome: 8 };

/** The phase number mixed into stream seeds. */
export const IN_PROCESS_PHASE = 0;

const NULL_TRANSPORT: SessionTransport = { write() {}, close() {}, pause() {}, resume() {} };

export interface Hooks {
  /** Before each stream (the watchdog's beat). */
  beforeStream?(label: string): void;
  /** Every few hundred streams. */
  progress?(done: number): void;
}

/** Runs `o.count` streams (or until the deadline) and counts them into `stats`. */
export async function fuzzInProcess(inputs: FuzzInputs, o: InProcessOptions, stats: FuzzStats, memory: MemoryPeaks, hooks: Hooks = {}): Promise<void> {
  const shared = new SessionRegistry({ memoryBytes: o.sharedBudgetBytes, maxEndedSessions: o.sharedMaxEnded });
  let lastYield = performance.now();
  for (let i = o.start; i < o.start + o.count; i++) {
    if (performance.now() > o.deadlineMs) {
      stats.stoppedBy = 'time';
      break;
    }
    const rng = new Prng(streamSeed(o.seed, IN_PROCESS_PHASE, i));
    const m = mutateStream(rng, inputs, IN_PROCESS_WEIGHTS);
    const label = `in-process stream ${i}: ${describe(m)}`;
    hooks.beforeStream?.(label);
    const registry = rng.chance(0.25) ? new SessionRegistry() : shared;
    const started = performance.now();
    let outcome = await runStream(registry, m, rng, o.hangMs, label);
    const ms = performance.now() - started;
    if (outcome.type === 'ok' && ms > o.hangMs) outcome = { type: 'hang', what: `took ${ms.toFixed(0)} ms (limit ${o.hangMs} ms)` };
    if (outcome.type === 'crash' && outcome.stack === undefined) outcome.stack = reproduceStack(m.kind, m.bytes) ?? '(not reproduced outside the Session)';
    stats.inProcess++;
    stats.record(label, outcome, ms, m.bytes.length);
    if ((i & 63) === 63) {
      memory.sample();
      shared.list(); // what GET /api/sessions does: drops sessions whose zones were all evicted
      hooks.progress?.(i + 1 - o.start);
    }
    // let timers (memory samples, the watchdog's beat) and GC finalizers run
    if (performance.now() - lastYield > 20) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  memory.sample();
  stats.evictedInProcess += shared.budget.evictedBytes;
}

async function runStream(registry: SessionRegistry, m: MutatedStream, rng: Prng, hangMs: number, label: string): Promise<Outcome> {
  if (m.kind === 'client') return runClientStream(registry, m, rng, hangMs, label);
  let capture = m.bytes;
  if (m.kind === 'chrome') {
    try {
      capture = importChromeTrace(decodeChromeBytes(m.bytes), m.base).capture;
    } catch (err) {
      return judgeThrown(err, 'importChromeTrace');
    }
  }
  const chunkSize = rng.chance(0.3) ? 2 ** rng.range(8, 16) : undefined;
  let loaded;
  try {
    loaded = loadCaptureBytes(registry, capture, label.slice(0, 80), { source: m.kind === 'chrome' ? 'import' : 'capture', ...(chunkSize ? { chunkSize } : {}) });
  } catch (err) {
    return judgeThrown(err, 'loadCaptureBytes');
  }
  const result = await withTimeout(loaded.done, hangMs);
  if (result === TIMEOUT) {
    loaded.session.stop();
    return { type: 'hang', what: `capture load not done after ${hangMs} ms (session ${loaded.session.state})` };
  }
  if (result.error !== null) {
    const thrown = judgeThrown(result.error, 'the capture read');
    if (thrown.type !== 'ok') return thrown;
  }
  return judgeSession(loaded.session);
}

async function runClientStream(registry: SessionRegistry, m: MutatedStream, rng: Prng, hangMs: number, label: string): Promise<Outcome> {
  let session: Session;
  try {
    session = registry.create(NULL_TRANSPORT, 'fuzz', label.slice(0, 80));
    session.start();
    let from = 0;
    for (const cut of deliveryCuts(rng, m.bytes.length)) {
      session.receive(m.bytes.subarray(from, cut));
      from = cut;
    }
    // now and then the user deletes the session while it decodes (DELETE /api/sessions/:id)
    if (rng.chance(0.02)) registry.delete(session.id);
    else session.connectionClosed();
  } catch (err) {
    return judgeThrown(err, 'Session.receive/connectionClosed');
  }
  if (!session.ended) {
    const ended = await withTimeout(endOf(registry, session), hangMs);
    if (ended === TIMEOUT) {
      const outcome = judgeSession(session);
      session.stop();
      return outcome;
    }
  }
  return judgeSession(session);
}

/** Resolves when `session` has ended. */
export function endOf(registry: SessionRegistry, session: Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.ended) return resolve();
    const off = registry.subscribe((e) => {
      if (e.type === 'ended' && e.session === session) {
        off();
        resolve();
      }
    });
  });
}

export const TIMEOUT: unique symbol = Symbol('timeout');

/** `promise`'s value, or TIMEOUT after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
