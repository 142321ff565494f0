/**
 * The store fed by the real decoder with real Tracy recordings (../shared/fixtures/tracy) must
 * hold exactly what the app says it sent (NAME.truth.json, NAME.check.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TracyStreamReader } from '../../protocol/tracy/index.js';
import { FIXTURES_PRESENT, fixture, readTruth, type FixtureTruth } from '../../test/support/inspect-fixtures.js';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { readerForStore, SessionStore } from './session-store.js';

if (!FIXTURES_PRESENT) console.warn('session-store.test: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');


interface Check {
  checks: { detail?: { tracy_internal_messages?: number } | null }[];
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(fixture(name), 'utf8')) as T;
}

/** Decodes NAME.client.bin into a fresh store under its own budget. */
function decodeFixture(name: string, limit = 2 ** 40): { store: SessionStore; budget: MemoryBudget; reader: TracyStreamReader } {
  const budget = new MemoryBudget(limit);
  const store = new SessionStore(new BudgetAccount(budget));
  const reader = readerForStore(store);
  reader.push(new Uint8Array(readFileSync(fixture(`${name}.client.bin`))));
  expect(reader.error).toBeNull();
  expect(reader.truncation()).toBeNull();
  return { store, budget, reader };
}

describe.skipIf(!FIXTURES_PRESENT).each(['small', 'small-default', 'small-ondemand'])('SessionStore fed the %s recording', (name) => {
  const truth = FIXTURES_PRESENT ? readTruth(name) : (null as unknown as FixtureTruth);
  const { store, budget } = FIXTURES_PRESENT ? decodeFixture(name) : (null as unknown as ReturnType<typeof decodeFixture>);

  it('stores every zone, each under the thread that ran it', () => {
    expect(store.zonesBegun).toBe(truth.zones_total);
    expect(store.zonesEnded).toBe(truth.zones_total - truth.zones_open_at_exit);
    const byThread: Record<string, number> = {};
    for (const t of store.threadList()) {
      if (t.zonesBegun === 0) continue;
      expect(t.storedZones).toBe(t.zonesEnded);
      expect(t.openCount).toBe(0);
      expect(t.unmatchedEnds).toBe(0);
      byThread[t.name ?? `#${t.id}`] = t.storedZones;
    }
    expect(byThread).toEqual(Object.fromEntries(truth.threads.map((t) => [t.name, t.zones])));
  });

  it('attaches zone text, value and colour to as many zones as the app set them on', () => {
    let text = 0;
    let value = 0;
    let color = 0;
    for (const t of store.threads.values()) {
      for (const cols of t.depths) {
        for (const seg of cols.segments) {
          for (let slot = 0; seg && slot < seg.count; slot++) {
            const extra = seg.extraAt(slot);
            if (extra === null) continue;
            if (extra.text !== null) text++;
            if (extra.valueHi !== -1) value++;
            if (extra.color !== -1) color++;
          }
        }
      }
    }
    expect(text).toBe(truth.zone_text_count);
    expect(value).toBe(truth.zone_value_count);
    expect(color).toBe(truth.zone_color_count);
  });

  it('counts the frames of every frame set', () => {
    const frames: Record<string, number> = {};
    for (const set of store.frames.values()) {
      const setName = set.namePtr === 0 ? '<default>' : store.names.frames.get(set.namePtr) ?? store.names.strings.get(set.namePtr) ?? '?';
      frames[setName] = set.count;
      expect(set.unmatchedEnds).toBe(0);
      expect(set.continuous ? set.marks.stored : set.spans.stored).toBe(set.count);
    }
    expect(frames).toEqual(truth.frames);
  });

  it('stores every plot sample under the plot name', () => {
    const plots: Record<string, number> = {};
    for (const p of store.plots.values()) {
      plots[store.names.plots.get(p.namePtr) ?? '?'] = p.series.stored;
      expect(p.series.total).toBe(p.series.stored);
    }
    expect(plots).toEqual(truth.plots);
  });

  it('counts the allocations and frees of the default memory pool', () => {
    const pool = store.memory.get(0);
    expect(pool?.allocs).toBe(truth.memory.alloc_unnamed);
    expect(pool?.frees).toBe(truth.memory.free_unnamed);
    expect(pool?.unknownFrees).toBe(0);
    expect(pool?.live.size).toBe(truth.memory.alloc_unnamed - truth.memory.free_unnamed);
    expect(pool?.usage.stored).toBe(truth.memory.alloc_unnamed + truth.memory.free_unnamed);
  });

  it('counts lock obtains per lock name', () => {
    const obtains: Record<string, number> = {};
    for (const lock of store.locks.values()) {
      const lockName = lock.name ?? store.srclocs.displayName(lock.srcloc, store.names.strings);
      obtains[lockName] = (obtains[lockName] ?? 0) + lock.obtains;
    }
    expect(obtains).toEqual(truth.lock_acquisitions);
  });

  it("stores the app's messages and Tracy's own, with their texts", () => {
    const check = readJson<Check>(`${name}.check.json`);
    const tracyMessages = check.checks.reduce((n, c) => n + (c.detail?.tracy_internal_messages ?? 0), 0);
    const all = store.messages.inRange(-Infinity, Infinity, (ptr) => store.names.strings.get(ptr));
    expect(store.messages.total).toBe(truth.messages_total + tracyMessages);
    expect(all.length).toBe(store.messages.total);
    expect(all.filter((m) => (m.metadata & 0xf) === 0).length).toBe(truth.messages_total);
    expect(all.filter((m) => (m.metadata & 0xf) === 1).length).toBe(tracyMessages);
    // every text the app emitted is there, in emission order
    const emitted = readFileSync(fixture(`${name}.truth-messages.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as string);
    expect(all.filter((m) => (m.metadata & 0xf) === 0).map((m) => m.text)).toEqual(emitted);
  });

  it('accounts for exactly the bytes its segments hold', () => {
    let segmentBytes = 0;
    let segments = 0;
    const visit = (s: { bytes: number; budgetSlot: number }) => {
      expect(s.budgetSlot).toBeGreaterThanOrEqual(0);
      segmentBytes += s.bytes;
      segments++;
    };
    for (const t of store.threads.values()) for (const c of t.depths) for (const s of c.segments) if (s) visit(s);
    for (const f of store.frames.values()) [...f.marks.segments, ...f.spans.segments].forEach(visit);
    for (const p of store.plots.values()) p.series.segments.forEach(visit);
    for (const m of store.memory.values()) m.usage.segments.forEach(visit);
    for (const m of store.memory.values()) for (const s of m.records.segments) if (s) visit(s);
    store.messages.segments.forEach(visit);
    store.cpuUsage.segments.forEach(visit);
    for (const l of store.lockLog.locks.values()) for (const lt of l.threads.values()) for (const s of lt.columns.segments) if (s) visit(s);
    expect(budget.segments).toBe(segments);
    expect(budget.used).toBe(store.budget.bytes);
    expect(store.budget.bytes).toBeGreaterThan(segmentBytes); // plus strings, threads, locations
    store.release();
    expect(budget.used).toBe(0);
    expect(budget.segments).toBe(0);
    expect(budget.evictedBytes).toBe(0);
  });
});

describe.skipIf(!FIXTURES_PRESENT)('SessionStore fed the stress recording', () => {
  it('stores 6.01 million zones in at most 11 bytes each (start offsets of 4 bytes in nearly every segment)', () => {
    const truth = readTruth('stress');
    const { store, budget } = decodeFixture('stress');
    let zones = 0;
    for (const t of store.threads.values()) zones += t.storedZones;
    expect(zones).toBe(truth.zones_total);
    const perZone = budget.used / zones;
    console.log(`session-store.test: stress: ${zones} zones, store ${budget.used} bytes = ${perZone.toFixed(2)} bytes/zone`);
    expect(perZone).toBeLessThanOrEqual(11);
  });
});
