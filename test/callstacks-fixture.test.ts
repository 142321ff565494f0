/**
 * The callstacks recording (real Tracy client with callstacks on zones, allocations, frees and
 * messages) played into a running server through --connect: the server must ask exactly the
 * queries Tracy's capture asked (frame and symbol queries included, byte for byte), keep every
 * stack, and the API must give each stack the functions the app's ground truth lists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallstackInfo, StackFlameResult, StackFrame } from '../protocol/view/types.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { tracyFixturePath } from './support/fixture-paths.js';
import { listenRecordedClient, type RecordedClient, type ReplayResult } from './support/tracy-replay.js';

const PRESENT = existsSync(tracyFixturePath('callstacks.client.bin'));
if (!PRESENT) console.warn('callstacks-fixture: ../shared/fixtures/tracy/callstacks.* is absent; skipped');

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The containing function of each return address (the last frame of each address's group). */
function perAddress(frames: StackFrame[]): string[] {
  return frames.filter((f) => !f.inlined).map((f) => f.function);
}

describe.skipIf(!PRESENT)('callstacks recording through --connect', () => {
  let server: ServerHandle;
  let client: RecordedClient;
  let replay: ReplayResult;
  let id: string;
  const truth = PRESENT ? JSON.parse(readFileSync(tracyFixturePath('callstacks.truth.json'), 'utf8')) : null;

  async function api<T = Json>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  beforeAll(async () => {
    client = await listenRecordedClient(readFileSync(tracyFixturePath('callstacks.client.bin')), { chunkSize: 64 * 1024 });
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: client.port }] });
    replay = await client.done;
    for (;;) {
      const list: Json[] = await (await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions`)).json();
      if (list[0]?.state === 'ended') {
        id = list[0].id;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await client?.close();
  });

  it('sends the same queries as Tracy\'s capture, callstack-frame and symbol queries included, byte for byte', async () => {
    const want = readFileSync(tracyFixturePath('callstacks.server.bin'));
    expect(replay.received.length).toBe(want.length);
    expect(Buffer.compare(replay.received, want)).toBe(0);
    const details = await api('');
    expect(details.endReason).toBe('terminated');
    expect(details.zones).toBe(truth.zones_total);
    expect(details.callstacks).toEqual({ stacks: 7, payloads: 60_680, dropped: 0, addresses: 20, unresolved: 0, cpuSamples: 0 });
  });

  it('keeps the 7 distinct stacks, each with the functions the truth lists', async () => {
    const lists: string[][] = [];
    for (let cs = 1; ; cs++) {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/callstacks/${cs}`);
      if (res.status === 404) {
        expect((await res.json()).code).toBe('ZS_HTTP_NO_CALLSTACK');
        break;
      }
      const info = (await res.json()) as CallstackInfo;
      expect(info.id).toBe(cs);
      for (const f of info.frames) {
        expect(f.image).toBe('bin/fixture_cs');
        expect(f.address).toMatch(/^0x[0-9a-f]+$/);
      }
      lists.push(perAddress(info.frames));
    }
    // the zone's truth starts at cs1_deep (its first address is inside cs1_deep); the others at the allocating function
    const t = truth.callstacks;
    const expected = [t.zone.CS1_deep, t.alloc, t.alloc_named, t.free, t.free_named, t.message, t.leak];
    expect(lists.map((l) => l.join(' > ')).sort()).toEqual(expected.map((l: string[]) => l.join(' > ')).sort());
  });

  it('attaches the stacks to zones and messages: zone details and /messages carry the id', async () => {
    const found: Json = await api('/search?q=CS1_deep&limit=3');
    expect(found.total).toBe(truth.zones_by_name.CS1_deep);
    const m = found.matches[0];
    const zone: Json = await api(`/zone?thread=${m.thread}&depth=${m.depth}&row=${m.row}`);
    expect(zone.callstack).toBeGreaterThan(0);
    const info = await api<CallstackInfo>(`/callstacks/${zone.callstack}`);
    expect(perAddress(info.frames)).toEqual(truth.callstacks.zone.CS1_deep);
    // the first address expands to Tracy's inlined helpers, then cs1_deep
    expect(info.frames.slice(0, 4).map((f) => [f.function, f.inlined])).toEqual([
      ['Callstack', true],
      ['tracy::Profiler::SendCallstack(int)', true],
      ['tracy::ScopedZone::ScopedZone(tracy::SourceLocationData const*, int, bool)', true],
      ['cs1_deep', false],
    ]);
    expect(info.frames[3]!.file).toBe('./fixture/fixture_cs.cpp');
    expect(info.frames[3]!.line).toBeGreaterThan(0);
    // a CS1_plain zone has none
    const plain: Json = await api('/search?q=CS1_plain&limit=1');
    const p = plain.matches[0];
    expect((await api(`/zone?thread=${p.thread}&depth=${p.depth}&row=${p.row}`)).callstack).toBe(0);

    // the flame graph's frame filter on zones: every CS1_deep zone has cs1_L5 in its stack, no other zone has a stack
    const byFrame: Json = await api('/search?frame=cs1_L5&limit=5');
    expect(byFrame.total).toBe(truth.zones_with_callstack);
    expect(byFrame.srclocs.filter((l: Json) => l.count > 0).map((l: Json) => l.name)).toEqual(['CS1_deep']);
    expect((await api('/search?q=CS1_deep&frame=cs1_leak_here')).total).toBe(0);

    const messages: Json = await api('/messages?limit=10000');
    const withStack = messages.messages.filter((x: Json) => x.callstack > 0);
    expect(withStack.length).toBe(truth.messages_with_callstack);
    const ids = new Set(withStack.map((x: Json) => x.callstack));
    expect(ids.size).toBe(1);
    expect(perAddress((await api<CallstackInfo>(`/callstacks/${[...ids][0]}`)).frames)).toEqual(truth.callstacks.message);
  });

  it('groups the leaks by stack: one stack, named by the leaking function, with the right count and bytes', async () => {
    const leaks: Json = await api('/memory/leaks?pool=default');
    expect(leaks.active).toEqual({ count: truth.memory.leaks.count, bytes: truth.memory.leaks.bytes });
    expect(leaks.byStack).toHaveLength(1);
    expect(leaks.byStack[0]).toMatchObject({ count: truth.memory.leaks.count, bytes: truth.memory.leaks.bytes, top: truth.memory.leaks.function });
    expect(perAddress((await api<CallstackInfo>(`/callstacks/${leaks.byStack[0].callstack}`)).frames)).toEqual(truth.callstacks.leak);
    // every allocation listed carries its stack, and the freed ones their free's stack
    const at: Json = await api('/memory?pool=default&t0=0&limit=10000');
    const freed = at.allocations.find((a: Json) => a.freeNs !== null);
    if (freed) expect(perAddress((await api<CallstackInfo>(`/callstacks/${freed.freeCallstack}`)).frames)).toEqual(truth.callstacks.free);
    // the frame filter: allocations whose stack has cs1_leak_here are the leaks
    const filtered: Json = await api('/memory?pool=default&frame=cs1_leak_here');
    expect(filtered.active).toEqual({ count: truth.memory.leaks.count, bytes: truth.memory.leaks.bytes });
    // made=1: every allocation made in the range, freed or not: all of cs1_alloc_here's, none alive at the end
    const made: Json = await api('/memory?pool=default&t0=0&made=1&frame=cs1_alloc_here');
    expect(made.mode).toBe('made');
    expect(made.active).toEqual({ count: truth.memory.unnamed.allocs - truth.memory.leaks.count, bytes: truth.memory.unnamed.bytes_allocated - truth.memory.leaks.bytes });
    expect((await api('/memory?pool=default&t0=0&frame=cs1_alloc_here')).active.count).toBe(0);
  });

  it('draws memory flame graphs: in use at the end names the leak, allocated in the whole range sums every allocation', async () => {
    const inuse = await api<StackFlameResult>('/stack-flame?kind=inuse&pool=default');
    expect(inuse.unit).toBe('bytes');
    expect(inuse.total).toBe(truth.memory.leaks.bytes);
    expect(inuse.count).toBe(truth.memory.leaks.count);
    // follow the biggest child from the root (outermost caller) to the tip
    let node = inuse.nodes[0]!;
    while (node.children.length > 0) node = inuse.nodes[node.children[0]!]!;
    expect(node.name).toBe('cs1_leak_here');
    expect(node.self).toBe(truth.memory.leaks.bytes);

    const alloc = await api<StackFlameResult>('/stack-flame?kind=alloc&pool=default');
    expect(alloc.total).toBe(truth.memory.unnamed.bytes_allocated);
    expect(alloc.count).toBe(truth.memory.unnamed.allocs);
    const named = await api<StackFlameResult>('/stack-flame?kind=alloc&pool=cs-pool');
    expect(named.total).toBe(truth.memory['cs-pool'].bytes_allocated);
    // bottom-up: the root's children are the innermost app functions
    const bottomUp = await api<StackFlameResult>('/stack-flame?kind=alloc&pool=default&invert=1');
    const tips = bottomUp.nodes[0]!.children.map((c) => bottomUp.nodes[c]!.name).sort();
    expect(tips).toEqual(['cs1_alloc_here', 'cs1_leak_here']);
    expect(bottomUp.total).toBe(alloc.total);

    // no CPU samples in this recording: an empty profile, not an error
    const cpu = await api<StackFlameResult>('/stack-flame?kind=cpu');
    expect(cpu).toMatchObject({ unit: 'samples', total: 0, count: 0 });
    expect(cpu.nodes).toHaveLength(1);
  });

  it('answers bad requests with codes', async () => {
    const bad = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/stack-flame?kind=heap`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('ZS_HTTP_BAD_PARAM');
    const none = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/callstacks/abc`);
    expect(none.status).toBe(404);
    const pool = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/stack-flame?kind=inuse&pool=nope`);
    expect(pool.status).toBe(404);
  });
});
