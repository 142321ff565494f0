/**
 * What the recorder writes, decoded by protocol/tracy's reader over an in-memory pair: zone
 * nesting per track, modifiers on the right zone, async tracks, source locations, the counters.
 */
import { describe, expect, it } from 'vitest';
import { QueueType } from '../protocol/tracy/index.js';
import { memoryClient } from '../test/support/sdk-receiver.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('zones', () => {
  it('nests zones and applies text, value, name and colour to the zone they were called for', async () => {
    const { client, receiver } = await memoryClient();
    const outer = client.zoneBegin('outer', 0xf0f0f0);
    const inner = client.zoneBegin('inner');
    client.zoneText(inner, 'inner text');
    client.zoneValue(inner, 150);
    // outer is not innermost: Tracy would apply these to `inner`, so they wait for outer's end
    client.zoneText(outer, 'outer text');
    client.zoneText(outer, 'second line');
    client.zoneValue(outer, 2 ** 40 + 5);
    client.zoneName(outer, 'renamed outer');
    client.zoneColor(outer, 0x00ff00);
    client.zoneEnd(inner);
    client.zoneEnd(outer);
    await client.close();

    const t = receiver.trace;
    expect(t.errors).toEqual([]);
    const [i, o] = [receiver.zonesNamed('inner')[0]!, receiver.zonesNamed('outer')[0]!];
    expect(i).toMatchObject({ depth: 1, text: 'inner text', value: 150n, name: null, color: null });
    expect(o).toMatchObject({ depth: 0, text: 'outer text\nsecond line', value: 2n ** 40n + 5n, name: 'renamed outer', color: 0x00ff00 });
    expect(o.startNs).toBeLessThanOrEqual(i.startNs);
    expect(o.endNs).toBeGreaterThanOrEqual(i.endNs);
    expect(receiver.reader.decoder.srclocs.color[o.srcloc]).toBe(0xf0f0f0);
  });

  it('ends the zones still open inside a zone that ends (counted) and ignores their later ends (counted)', async () => {
    const { client, receiver } = await memoryClient();
    const a = client.zoneBegin('a');
    const b = client.zoneBegin('b');
    const c = client.zoneBegin('c');
    client.zoneEnd(a);
    client.zoneEnd(c);
    client.zoneEnd(b);
    client.zoneEnd(12345);
    client.zoneText(b, 'too late');
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zoneCounts()).toEqual({ a: 1, b: 1, c: 1 });
    expect(client.stats).toMatchObject({ zonesEndedEarly: 2, unknownZoneIds: 4, zonesEndedAtClose: 0 });
  });

  it('times a sync function in zone() on the calling thread, also when it throws', async () => {
    const { client, receiver } = await memoryClient();
    expect(client.zone('sync', (z) => z > 0 && 42)).toBe(42);
    expect(() =>
      client.zone('throws', () => {
        client.zone('nested', () => {});
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const p = client.zone('plain promise', () => Promise.resolve(7));
    await expect(p).resolves.toBe(7);
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zoneCounts()).toEqual({ sync: 1, throws: 1, nested: 1, 'plain promise': 1 });
    expect(new Set(receiver.trace.zones.map((z) => z.thread))).toEqual(new Set([1]));
    expect(receiver.zonesNamed('plain promise')[0]!.text).toContain('use an async function or zoneAsync');
  });

  it('interns one source location per name and colour, with the caller file, line and function', async () => {
    const { client, receiver } = await memoryClient();
    function handler() {
      for (let i = 0; i < 3; i++) client.zone('same', () => {});
    }
    handler();
    client.zone('same', () => {}, 0xff0000);
    const handle = client.sourceLocation('by handle');
    client.zoneEnd(client.zoneBegin(handle));
    await client.close();
    const d = receiver.reader.decoder;
    const srclocs = new Set(receiver.trace.zones.map((z) => z.srcloc));
    expect(srclocs.size).toBe(3);
    const first = receiver.zonesNamed('same')[0]!.srcloc;
    expect(d.srclocs.fileName(first, d.names.strings)).toMatch(/client\/recorder\.test\.ts$/);
    expect(d.srclocs.functionName(first, d.names.strings)).toBe('handler');
    expect(d.srclocs.line[first]).toBeGreaterThan(60);
  });
});

describe('the zone hot path', () => {
  it('stamps each begin and end in call order: siblings follow each other, children lie inside their parent', async () => {
    const { client, receiver } = await memoryClient();
    for (let i = 0; i < 500; i++) {
      const outer = client.zoneBegin('outer');
      client.zoneEnd(client.zoneBegin('inner'));
      client.zoneEnd(outer);
    }
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    const outers = receiver.zonesNamed('outer');
    const inners = receiver.zonesNamed('inner');
    expect([outers.length, inners.length]).toEqual([500, 500]);
    for (let i = 0; i < 500; i++) {
      const [o, n] = [outers[i]!, inners[i]!];
      expect(o.startNs).toBeLessThanOrEqual(n.startNs);
      expect(n.startNs).toBeLessThanOrEqual(n.endNs);
      expect(n.endNs).toBeLessThanOrEqual(o.endNs);
      expect(n.depth).toBe(1);
      if (i > 0) expect(outers[i - 1]!.endNs).toBeLessThanOrEqual(o.startNs);
    }
  });

  it('keeps one source location per (name, colour) when a loop uses more names than it remembers', async () => {
    const { client, receiver } = await memoryClient();
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let round = 0; round < 4; round++) {
      for (const name of names) {
        client.zoneEnd(client.zoneBegin(name));
        client.zoneEnd(client.zoneBegin(name, 0x102030));
        // a name built at run time is another string object with the same text
        client.zoneEnd(client.zoneBegin(['', name].join('')));
      }
    }
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    const d = receiver.reader.decoder;
    for (const name of names) {
      const zones = receiver.zonesNamed(name);
      expect(zones).toHaveLength(12);
      const plain = new Set(zones.filter((z) => d.srclocs.color[z.srcloc] === 0).map((z) => z.srcloc));
      const coloured = new Set(zones.filter((z) => d.srclocs.color[z.srcloc] === 0x102030).map((z) => z.srcloc));
      expect([plain.size, coloured.size]).toEqual([1, 1]);
    }
    expect(new Set(receiver.trace.zones.map((z) => z.srcloc)).size).toBe(12);
  });

  it('modifies and ends a zone of the thread itself while an async zone is open, and a lane zone from outside it', async () => {
    const { client, receiver } = await memoryClient();
    const frame = client.zoneBegin('frame');
    let workZone = 0;
    const work = client.zone('work', async (z) => {
      workZone = z;
      await sleep(2);
    });
    client.zoneText(frame, 'frame text');
    client.zoneText(workZone, 'set from outside');
    client.zoneEnd(frame);
    await work;
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zonesNamed('frame')[0]).toMatchObject({ thread: 1, text: 'frame text' });
    expect(receiver.zonesNamed('work')[0]).toMatchObject({ thread: 65537, text: 'set from outside' });
    expect(client.stats).toMatchObject({ unknownZoneIds: 0, zonesEndedEarly: 0 });
  });

  it('writes no modifier for zone ids that no begin returned (0, negative), also on an empty thread', async () => {
    const { client, receiver } = await memoryClient();
    client.zoneText(0, 'nothing open');
    client.zoneValue(-1, 5);
    const z = client.zoneBegin('open');
    client.zoneText(-z, 'negated');
    client.zoneEnd(z);
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zonesNamed('open')[0]!.text).toBeNull();
    expect(client.stats.unknownZoneIds).toBe(3);
  });
});

describe('frames, plots, messages', () => {
  it('sends frame marks, plots (config too), messages and app info, and counts what it cannot send', async () => {
    const { client, receiver } = await memoryClient();
    client.appInfo('build 42');
    client.plotConfig('heap', { format: 'memory', step: true, fill: false, color: 0x00ff00 });
    client.frameMark();
    client.frameMarkStart('job');
    client.frameMarkEnd('job');
    client.frameMarkEnd('never started');
    client.plot('sin(x)', 0.84);
    client.plotFloat('f', 1.5);
    client.plotInt('heap', 1024);
    client.plot('sin(x)', Number.NaN);
    client.message('plain');
    client.message('red', 0xff0f0f);
    expect(() => client.plotConfig('x', { format: 'bytes' as never })).toThrow(TypeError);
    await client.close();
    const t = receiver.trace;
    const names = receiver.reader.decoder.names;
    expect(t.frames.map((f) => [f.kind, f.namePtr === 0 ? '' : names.frames.get(f.namePtr)])).toEqual([
      [0, ''],
      [1, 'job'],
      [2, 'job'],
    ]);
    expect(t.plots.map((p) => [names.plots.get(p.namePtr), p.value])).toEqual([
      ['sin(x)', 0.84],
      ['f', 1.5],
      ['heap', 1024],
    ]);
    expect(t.plotConfigs).toEqual([{ namePtr: t.plots[2]!.namePtr, format: 1, step: true, fill: false, rgb: 0x00ff00 }]);
    expect(t.messages.map((m) => [m.text, m.rgb, m.thread])).toEqual([
      ['plain', -1, 1],
      ['red', 0xff0f0f, 1],
    ]);
    expect(t.appInfoTexts).toEqual(['build 42']);
    expect(client.stats).toMatchObject({ unmatchedFrameEnds: 1, droppedNonFinite: 1 });
    expect(receiver.reader.decoder.histogram[QueueType.PlotDataFloat]).toBe(1);
  });
});

describe('async zones', () => {
  it('gives concurrent async zones their own tracks, reused, and nests zones begun after await under them', async () => {
    const { client, receiver } = await memoryClient();
    client.setThreadName('svc');
    const chains = 12;
    await Promise.all(
      Array.from({ length: chains }, (_, k) =>
        client.zone('request', async (z) => {
          client.zoneText(z, `request ${k}`);
          await sleep(1 + (k % 4));
          client.zone('step', () => {});
          await client.zone('db', async () => {
            await sleep(2);
            client.message(`row ${k}`);
          });
          client.zone('step', () => {});
        }),
      ),
    );
    // a later wave reuses the free tracks
    await Promise.all([1, 2].map(() => client.zone('later', async () => sleep(1))));
    await client.close();

    const t = receiver.trace;
    expect(t.errors).toEqual([]);
    expect(receiver.zoneCounts()).toEqual({ request: chains, step: 2 * chains, db: chains, later: 2 });
    const lanes = new Set(t.zones.map((z) => z.thread));
    expect(lanes.size).toBe(chains);
    expect([...lanes].every((tid) => tid > 65536 && tid <= 65536 + chains)).toBe(true);
    expect(receiver.reader.decoder.names.threads.get(65537)).toBe('svc async 1');
    // every request holds its steps and its db zone, on its own track
    for (const r of receiver.zonesNamed('request')) {
      const inside = t.zones.filter((z) => z.thread === r.thread && z.startNs >= r.startNs && z.endNs <= r.endNs && z !== r);
      expect(inside.map((z) => [receiver.srclocName(z.srcloc), z.depth]).sort()).toEqual([
        ['db', 1],
        ['step', 1],
        ['step', 1],
      ]);
      expect(r.endNs - r.startNs).toBeGreaterThanOrEqual(2e6); // sleeps of >= 3 ms, timers run from the loop's cached time
    }
    expect(t.messages.every((m) => m.thread > 65536)).toBe(true);
    expect(receiver.zonesNamed('later').every((z) => z.thread <= 65538)).toBe(true);
  });

  it('ends a fire-and-forget inner async zone when its parent ends (counted); the rest stays well nested', async () => {
    const { client, receiver } = await memoryClient();
    let inner: Promise<void> | null = null;
    await client.zone('parent', async () => {
      inner = client.zone('detached', async () => {
        await sleep(5);
        client.zone('after parent', () => {});
      });
      await sleep(1);
    });
    await inner;
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.zoneCounts()).toEqual({ parent: 1, detached: 1, 'after parent': 1 });
    expect(client.stats.zonesEndedEarly).toBe(1);
    // the detached zone's later work lands on the thread itself
    expect(receiver.zonesNamed('after parent')[0]!.thread).toBe(1);
  });

  it('keeps the zones of the main track apart from async tracks', async () => {
    const { client, receiver } = await memoryClient();
    const frame = client.zoneBegin('frame');
    const work = client.zone('work', async () => {
      await sleep(2);
    });
    client.zone('sync after', () => {});
    client.zoneEnd(frame);
    await work;
    await client.close();
    expect(receiver.trace.errors).toEqual([]);
    const byName = (n: string) => receiver.zonesNamed(n)[0]!;
    expect(byName('frame').thread).toBe(1);
    expect(byName('sync after')).toMatchObject({ thread: 1, depth: 1 });
    expect(byName('work').thread).toBe(65537);
  });
});
