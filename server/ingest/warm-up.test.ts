import { describe, expect, it } from 'vitest';
import { encodeClientStream, WELCOME_SIZE } from '../../protocol/tracy/index.js';
import { syntheticWelcome, writeSyntheticWorkload } from './synthetic-workload.js';
import { reclaimState } from '../store/array-pool.js';
import { WARM_UP_ZONES, warmUpDecoder, wireChunks } from './warm-up.js';

describe('decoder warm-up', () => {
  it.each(['main-thread', 'inflate-worker'] as const)('walks every zone of its synthetic workload, in two rounds, along the %s path', (path) => {
    const r = warmUpDecoder({ path });
    expect(r.zones).toBeGreaterThanOrEqual(2 * WARM_UP_ZONES);
    expect(r.zones).toBeLessThan(2 * WARM_UP_ZONES * 1.1);
    expect(r.ms).toBeGreaterThan(0);
  });

  it('returns its garbage with a full GC before it returns (the first session reuses that memory)', () => {
    const before = reclaimState().gcRuns;
    warmUpDecoder({ zones: 1000 });
    expect(reclaimState().gcRuns).toBe(before + 1);
    expect(reclaimState().allocatedSinceGc).toBe(0);
  });

  it('warms the zone-counting store of `zonescope capture` the same way', () => {
    const r = warmUpDecoder({ countZonesOnly: true });
    expect(r.zones).toBeGreaterThanOrEqual(2 * WARM_UP_ZONES);
  });

  it('hands the wire over in pieces that cut frame blocks and frame size headers, covering every byte once', () => {
    const wire = encodeClientStream(syntheticWelcome(), (q) => writeSyntheticWorkload(q, WARM_UP_ZONES, 1));
    const chunks = wireChunks(wire);
    expect(chunks[0]![0]).toBe(0);
    expect(chunks.at(-1)![1]).toBe(wire.length);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]![0]).toBe(chunks[i - 1]![1]);
    for (const [from, to] of chunks) expect(to - from).toBeGreaterThan(0);
    // the frames' headers, found independently: the cuts fall inside some of them and inside some blocks
    const v = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
    const headers: number[] = [];
    const blocks: [number, number][] = [];
    for (let at = 1 + WELCOME_SIZE; at < wire.length; at += 4 + v.getUint32(at, true)) {
      headers.push(at);
      blocks.push([at + 4, at + 4 + v.getUint32(at, true)]);
    }
    expect(headers.length).toBeGreaterThan(4);
    const cuts = chunks.slice(1).map(([from]) => from);
    expect(cuts.filter((c) => headers.some((h) => c > h && c < h + 4)).length).toBeGreaterThan(1);
    expect(cuts.filter((c) => blocks.some(([a, b]) => c > a && c < b)).length).toBeGreaterThan(1);
  });
});
