/**
 * buildLiveUpdate in slices: the same update whether it gives the event loop turns or not, and
 * turns given while it builds (live-update.ts: LIVE_BUILD_SLICE_MS).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES_PRESENT, fixture } from '../../test/support/inspect-fixtures.js';
import { SessionRegistry } from '../session/session-registry.js';
import type { Session } from '../session/session.js';
import { buildLiveUpdate, type LiveViewport } from './live-update.js';

async function medium(): Promise<Session> {
  const registry = new SessionRegistry();
  const session = registry.create({ write() {}, close() {}, pause() {}, resume() {} }, 'import', 'medium.client.bin');
  session.start();
  session.receive(readFileSync(fixture('medium.client.bin')));
  session.connectionClosed();
  while (!session.ended) await new Promise((r) => setImmediate(r));
  return session;
}

/** How many setImmediate turns passed while `build` ran. */
async function turnsDuring<T>(build: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const value = await build();
  done = true;
  return { value, turns };
}

describe.skipIf(!FIXTURES_PRESENT)('buildLiveUpdate', () => {
  it('builds the same update in slices, giving the event loop a turn between them', async () => {
    const session = await medium();
    expect(session.endReason).toBe('terminated');
    const whole: LiveViewport = { t0: 0, t1: session.store.lastNs, px: 1500, follow: false, span: 0 };
    const follow: LiveViewport = { t0: 0, t1: 0, px: 800, follow: true, span: session.store.lastNs / 3 };
    for (const v of [whole, follow]) {
      const once = await turnsDuring(() => buildLiveUpdate(session, v, 2 * 1024 * 1024, Infinity));
      const sliced = await turnsDuring(() => buildLiveUpdate(session, v, 2 * 1024 * 1024, 0));
      expect(once.turns).toBe(0);
      // a turn before every depth's query and every part after the zones
      const depths = session.store.threadList().reduce((n, t) => n + t.depths.filter((c) => c.count > c.firstRow).length, 0);
      expect(depths).toBeGreaterThan(3);
      expect(sliced.turns).toBeGreaterThanOrEqual(depths);
      expect(sliced.value).toEqual(once.value);
      expect((once.value.message.threads as unknown[]).length).toBeGreaterThan(0);
    }
  });

  it('says what it shows as of the version and last ns when it began, when zones arrive between its slices', async () => {
    const session = await medium();
    const store = session.store;
    const version = store.version;
    const lastNs = store.lastNs;
    const pending = buildLiveUpdate(session, { t0: 0, t1: lastNs, px: 1000, follow: true, span: lastNs }, 2 * 1024 * 1024, 0);
    // a zone ends on a new thread while the build is under way
    store.zoneBegin(999, lastNs + 10, 0);
    store.zoneEnd(999, lastNs + 20);
    store.version++; // as the session does once per decoded frame
    const built = await pending;
    expect(store.version).toBeGreaterThan(version);
    expect(built.message.version).toBe(version);
    expect(built.message.lastNs).toBe(lastNs);
    expect(built.message.t1).toBe(lastNs);
  });
});
