/**
 * Zones with explicit times on a virtual thread, decoded by protocol/tracy's reader over an
 * in-memory pair: they nest on their own thread while the JS thread's zones stay where they
 * were, never overlap, and respect the buffer limit and the end of the session.
 */
import { describe, expect, it } from 'vitest';
import { memoryClient, testClient } from '../test/support/sdk-receiver.js';
import { nowNs } from './clock.js';
import { recorderOf, VirtualThread, virtualThreadId } from './virtual-thread.js';

describe('VirtualThread', () => {
  it('writes finished zones with their own times on thread (tid * 65536) while a JS zone is open', async () => {
    const { client, receiver } = await memoryClient();
    const rec = recorderOf(client)!;
    const gc = new VirtualThread(rec, client, 'GC');
    expect(gc.tid).toBe(65536);
    expect(virtualThreadId(rec)).toBe(65536);
    const srcloc = gc.sourceLocation('GC major', 'V8 garbage collector', 'v8', 0xe04030);

    const outer = client.zoneBegin('outer');
    const t = nowNs();
    expect(gc.zone(srcloc, t - 5_000_000, t - 4_000_000, 'forced')).toBe(true);
    client.zoneText(outer, 'still mine');
    const inner = client.zoneBegin('inner');
    client.zoneEnd(inner);
    client.zoneEnd(outer);
    await client.close();

    expect(receiver.trace.errors).toEqual([]);
    const [g] = receiver.zonesNamed('GC major');
    expect(g).toMatchObject({ thread: 65536, depth: 0, text: 'forced' });
    expect(g!.endNs - g!.startNs).toBe(1_000_000);
    expect(receiver.zonesNamed('outer')[0]).toMatchObject({ thread: 1, depth: 0, text: 'still mine' });
    expect(receiver.zonesNamed('inner')[0]).toMatchObject({ thread: 1, depth: 1 });
    expect(rec.ids.threadName(65536)).toBe('GC');
    expect(client.stats.dropped).toBe(0);
  });

  it('moves a zone that starts before the previous one ended to that end, so they never overlap', async () => {
    const { client, receiver } = await memoryClient();
    const gc = new VirtualThread(recorderOf(client)!, client, 'GC');
    const srcloc = gc.sourceLocation('GC minor', 'V8 garbage collector', 'v8', 0);
    const t = nowNs() - 10_000_000;
    gc.zone(srcloc, t, t + 2000);
    gc.zone(srcloc, t + 1000, t + 1500);
    gc.zone(srcloc, t + 1000, t + 4000);
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    const zones = receiver.zonesNamed('GC minor');
    const t0 = zones[0]!.startNs; // the receiver's times count from the session's start
    expect(zones.map((z) => [z.startNs - t0, z.endNs - t0, z.depth])).toEqual([
      [0, 2000, 0],
      [2000, 2000, 0],
      [2000, 4000, 0],
    ]);
  });

  it('drops zones (counted) once the buffer is full, and writes nothing after the session ended', async () => {
    const client = testClient({ bufferBytes: 1 << 20 });
    const rec = recorderOf(client)!;
    const gc = new VirtualThread(rec, client, 'GC');
    const srcloc = gc.sourceLocation('GC minor', 'V8 garbage collector', 'v8', 0);
    const t = nowNs();
    let written = 0;
    for (let i = 0; i < 200_000; i++) if (gc.zone(srcloc, t + i * 10, t + i * 10 + 5)) written++;
    expect(written).toBeGreaterThan(10_000);
    expect(client.stats.dropped).toBe(200_000 - written);
    expect(rec.w.length).toBeLessThanOrEqual(1 << 20);

    client.abort();
    const dropped = client.stats.dropped;
    const held = rec.w.length;
    expect(gc.zone(srcloc, t, t + 1)).toBe(false);
    expect(rec.w.length).toBe(held);
    expect(client.stats.dropped).toBe(dropped);
  });
});
