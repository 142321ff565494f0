/**
 * Callstacks in the viewer, in real Chromium, on the real recording of a client built with
 * callstack support (callstacks.client.bin, played through --connect: pattern CS1, every
 * CS1_deep zone, message and allocation carries a depth-8 callstack; 80 allocations of 333 B
 * leak from cs1_leak_here; no CPU samples). What the page shows is checked against the REST
 * API (GET /callstacks/:cs, /stack-flame, /memory?frame) and the recording's truth.json:
 * - a click on a CS1_deep zone shows its frames innermost first (cs1_deep, cs1_L8, ...);
 * - a clicked message shows its frames; Memory "By stack" names cs1_leak_here;
 * - the Profile panel's memory flame graph (in use at the session's end, unnamed pool) draws,
 *   its heaviest chain runs through cs1_leak_here, a click lists that frame's allocations;
 * - the CPU kind says there are no CPU samples in this session.
 * Screenshots: test-artifacts/viewer/callstack-*.png.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../server/serve.js';
import { browserSkipReason, screenshot } from './support/browser.js';
import { tracyFixturePath } from './support/fixture-paths.js';
import { startRecordedViewer, type RecordedViewer } from './support/recorded-viewer.js';
import { getJson, type Json } from './support/server-api.js';
import { getAllZones } from './support/zone-pages.js';

const RECORDING = tracyFixturePath('callstacks.client.bin');
const skipReason = !existsSync(RECORDING) ? `${RECORDING} is absent` : browserSkipReason();
if (skipReason) console.warn(`viewer-callstacks: skipped: ${skipReason}`);

/** The unnamed pool's memory-usage plot, as the Memory panel and the Profile panel name it. */
const UNNAMED_POOL = 'Memory usage';

/** The frames a `.callstack` block inside `scope` shows, once it has loaded. */
async function shownFrames(page: Page, scope: string): Promise<{ function: string; file: string; line: number; inlined: boolean; tag: boolean; title: string }[]> {
  await page.locator(`${scope} .callstack[data-state="ready"]`).first().waitFor({ timeout: 15_000 });
  return page.locator(`${scope} .callstack[data-state="ready"] li.cs-frame`).evaluateAll((els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      return { function: d.function!, file: d.file!, line: Number(d.line), inlined: d.inlined === '1', tag: e.querySelector('.cs-tag') !== null, title: (e as HTMLElement).title };
    }),
  );
}

describe.skipIf(skipReason !== null)('callstacks in the viewer', () => {
  const truth = JSON.parse(readFileSync(tracyFixturePath('callstacks.truth.json'), 'utf8'));
  let viewer: RecordedViewer;
  let server: ServerHandle;
  let page: Page;
  let errors: string[];
  let id: string;

  beforeAll(async () => {
    viewer = await startRecordedViewer(readFileSync(RECORDING), { width: 1600, height: 1000, dpr: 1 });
    ({ server, page, errors, id } = viewer);
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
  });

  const base = () => `http://127.0.0.1:${server.httpPort}/?session=${id}`;

  it("shows a clicked CS1_deep zone's frames innermost first, inlined ones tagged, the image on hover", async () => {
    const srclocs: Json[] = await getJson(server, `/api/sessions/${id}/srclocs`);
    const deep = srclocs.findIndex((s) => s.name === 'CS1_deep');
    expect(deep).toBeGreaterThanOrEqual(0);
    // the first CS1_deep zone of the main thread
    const zones = await getAllZones(server, id);
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    const main = threads.find((t) => t.name === 'Main thread')!.id;
    const t = zones.threads.find((x: Json) => x.thread === main);
    let zone: { depth: number; row: number; startNs: number; endNs: number } | null = null;
    for (const d of t.depths) {
      const i = (d.srcloc as number[]).indexOf(deep);
      if (i >= 0 && (!zone || d.startNs[i] < zone.startNs)) zone = { depth: d.depth, row: d.row[i], startNs: d.startNs[i], endNs: d.endNs[i] };
    }
    expect(zone).not.toBeNull();
    const z = zone!;
    const rest = await getJson(server, `/api/sessions/${id}/zone?thread=${main}&depth=${z.depth}&row=${z.row}`);
    expect(rest.callstack).toBeGreaterThan(0);
    const cs = await getJson(server, `/api/sessions/${id}/callstacks/${rest.callstack}`);

    // the zone fills the middle half of the view; click its middle
    const dur = z.endNs - z.startNs;
    await page.goto(`${base()}&t0=${Math.round(z.startNs - dur / 2)}&t1=${Math.round(z.endNs + dur / 2)}`);
    await page.waitForFunction(() => {
      const zs = (window as unknown as { __zs: Json }).__zs;
      return zs?.app?.data && zs.app.srclocs.length > 0 && zs.timeline.draws > 0 && zs.timeline.visibleItems().length > 0;
    }, undefined, { timeout: 20_000 });
    const g = await page.evaluate(({ z, thread }) => {
      const tl = (window as unknown as { __zs: Json }).__zs.timeline;
      return { x: (tl.timeToX(z.startNs) + tl.timeToX(z.endNs)) / 2, y: tl.zoneY(thread, z.depth) as number | null };
    }, { z, thread: main });
    expect(g.y).not.toBeNull();
    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    await page.mouse.click(box.x + g.x, box.y + g.y!);
    await expect.poll(() => page.locator('#panel-details [data-field="name"]').textContent(), { timeout: 15_000 }).toBe('CS1_deep');
    expect(Number(await page.locator('#panel-details [data-field="callstack"]').getAttribute('data-callstack'))).toBe(rest.callstack);

    const frames = await shownFrames(page, '#panel-details');
    // what GET /callstacks answers, in its order (innermost first), each inlined frame tagged
    expect(frames.map((f) => [f.function, f.file, f.line, f.inlined])).toEqual(cs.frames.map((f: Json) => [f.function, f.file, f.line, f.inlined]));
    for (const f of frames) expect(f.tag).toBe(f.inlined);
    // one frame per return address when the inlined ones are set aside: the app's functions, innermost first
    expect(frames.filter((f) => !f.inlined).map((f) => f.function)).toEqual(truth.callstacks.zone.CS1_deep);
    expect(frames.findIndex((f) => f.function === 'cs1_deep')).toBeLessThan(frames.findIndex((f) => f.function === 'cs1_L8'));
    // Tracy's own frames before cs1_deep were inlined into it
    const before = frames.slice(0, frames.findIndex((f) => f.function === 'cs1_deep'));
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((f) => f.inlined)).toBe(true);
    expect(frames.find((f) => f.function === 'cs1_deep')!.title).toContain('bin/fixture_cs');
    expect(await page.locator('#panel-details li.cs-frame[data-function="cs1_L8"] .cs-loc').textContent()).toMatch(/fixture_cs\.cpp:\d+$/);
    await screenshot(page, 'callstack-zone-details');
    expect(errors).toEqual([]);
  });

  it("shows a clicked message's frames, and Memory 'By stack' names cs1_leak_here for what is alive at the end", async () => {
    await page.goto(base());
    await page.locator('#tab-messages').click();
    const row = page.locator('#panel-messages tr[data-message]:not([data-callstack="0"])').first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    const frames = await shownFrames(page, '#panel-messages');
    expect(frames.filter((f) => !f.inlined).map((f) => f.function)).toEqual(truth.callstacks.message);

    await page.locator('#tab-memory').click();
    await page.locator('#panel-memory[data-state="ready"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#panel-memory').getAttribute('data-pool')).toBe(UNNAMED_POOL);
    await page.locator('#panel-memory button[data-view="stack"]').click();
    const groups = await page.locator('#panel-memory tr.stack-group').evaluateAll((els) => els.map((e) => ({ ...(e as HTMLElement).dataset })));
    expect(groups.map((g) => [g.top, Number(g.count), Number(g.bytes)])).toEqual([['cs1_leak_here', truth.memory.leaks.count, truth.memory.leaks.bytes]]);
    await page.locator('#panel-memory tr.stack-group').first().click();
    const leak = await shownFrames(page, '#panel-memory');
    expect(leak.filter((f) => !f.inlined).map((f) => f.function)).toEqual(truth.callstacks.leak);
    await screenshot(page, 'callstack-memory-by-stack');
    expect(errors).toEqual([]);
  });

  it("draws the memory in use at the session's end as a flame graph whose heaviest chain runs through cs1_leak_here", async () => {
    await page.goto(base());
    await page.locator('#tab-profile').click();
    await page.locator('#panel-profile button[data-kind="inuse"]').click();
    await page.locator('#panel-profile[data-state="ready"][data-kind="inuse"] .flame-node[data-node="0"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#panel-profile').getAttribute('data-pool')).toBe(UNNAMED_POOL);
    const rest = await getJson(server, `/api/sessions/${id}/stack-flame?kind=inuse&pool=${encodeURIComponent(UNNAMED_POOL)}`);
    expect(rest.total).toBe(truth.memory.leaks.bytes);
    expect(Number(await page.locator('#panel-profile').getAttribute('data-total'))).toBe(rest.total);

    // from the root, always into the widest child drawn
    const drawn = await page.locator('#panel-profile .flame-node').evaluateAll((els) =>
      els.map((e) => {
        const d = (e as HTMLElement).dataset;
        return { id: Number(d.node), parent: Number(d.parent), name: d.name!, value: Number(d.value), width: (e as HTMLElement).getBoundingClientRect().width };
      }),
    );
    expect(drawn.length).toBe(rest.nodes.length);
    const chain: string[] = [];
    for (let at = drawn.find((n) => n.id === 0); at; ) {
      chain.push(at.name);
      const kids = drawn.filter((n) => n.parent === at!.id && n.id !== at!.id);
      at = kids.sort((a, b) => b.width - a.width)[0];
    }
    // the leaks are all that is alive: the chain ends at the function that leaked
    expect(chain[chain.length - 1]).toBe('cs1_leak_here');
    expect(chain.indexOf('cs1_deep')).toBeLessThan(chain.indexOf('cs1_leak_here'));
    const leakNode = drawn.find((n) => n.name === 'cs1_leak_here')!;
    expect(leakNode.value).toBe(truth.memory.leaks.bytes);
    await screenshot(page, 'callstack-profile-inuse');

    // a click zooms into the frame and lists its allocations, as GET /memory?frame answers
    await page.locator('#panel-profile .flame-node[data-name="cs1_leak_here"]').click();
    await page.locator('#panel-profile .profile-allocs[data-state="ready"]').waitFor({ timeout: 15_000 });
    const mem = await getJson(server, `/api/sessions/${id}/memory?pool=${encodeURIComponent(UNNAMED_POOL)}&frame=cs1_leak_here&limit=1000`);
    const rows = await page.locator('#panel-profile .profile-allocs .memory-table tbody tr').evaluateAll((els) => els.map((e) => ({ address: Number((e as HTMLElement).dataset.address), size: Number((e as HTMLElement).dataset.size) })));
    expect(rows.length).toBe(truth.memory.leaks.count);
    expect(rows.every((r) => r.size === 333)).toBe(true);
    expect(rows.map((r) => r.address).sort((a, b) => a - b)).toEqual(mem.allocations.map((a: Json) => a.address).sort((a: number, b: number) => a - b));
    expect(await page.locator('#panel-profile .flame-crumbs .crumb[aria-current="true"]').textContent()).toBe('cs1_leak_here');
    const href = await page.locator('#profile-pprof').getAttribute('href');
    expect(href).toBe(`/api/sessions/${id}/pprof?kind=inuse&pool=${encodeURIComponent(UNNAMED_POOL)}`);
    // the link downloads the same profile, gzipped profile.proto
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.locator('#profile-pprof').click()]);
    const gz = readFileSync((await download.path())!);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    const direct = await fetch(`http://127.0.0.1:${server.httpPort}${href}`);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(Buffer.from(await direct.arrayBuffer()).equals(gz)).toBe(true);
    await screenshot(page, 'callstack-profile-zoomed');
    // the leaking function is in no zone's stack: no zone list
    await expect.poll(() => page.locator('#panel-profile .profile-zones').getAttribute('data-frame')).toBe('cs1_leak_here');
    expect(await page.locator('#panel-profile .profile-zones').getAttribute('data-total')).toBe('0');
    expect(await page.locator('#panel-profile .profile-zones').isHidden()).toBe(true);
    // cs1_L5 is in every CS1_deep zone's stack: its click lists them, as GET /search?frame answers, and a row jumps to the zone
    await page.locator('#panel-profile .flame-crumbs .crumb[data-crumb="0"]').click();
    await page.locator('#panel-profile .flame-node[data-name="cs1_L5"]').first().click();
    await expect.poll(() => page.locator('#panel-profile .profile-zones').getAttribute('data-frame')).toBe('cs1_L5');
    const byFrame = await getJson(server, `/api/sessions/${id}/search?frame=cs1_L5&limit=50`);
    expect(byFrame.total).toBe(truth.zones_with_callstack);
    expect(await page.locator('#panel-profile .profile-zones').getAttribute('data-total')).toBe(String(byFrame.total));
    const starts = await page.locator('#panel-profile .profile-zones tbody tr').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.startNs)));
    expect(starts).toEqual(byFrame.matches.map((m: { startNs: number }) => m.startNs));
    await screenshot(page, 'callstack-profile-zones');
    // the breadcrumb goes back to the whole graph
    await page.locator('#panel-profile .flame-crumbs .crumb[data-crumb="0"]').click();
    await expect.poll(() => page.locator('#panel-profile .profile-allocs').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#panel-profile .profile-zones').isHidden()).toBe(true);
    // Allocated: a frame lists every allocation made with it in its stack, freed or not (GET /memory?made=1)
    await page.locator('#panel-profile button[data-kind="alloc"]').click();
    await page.locator('#panel-profile[data-state="ready"][data-kind="alloc"] .flame-node[data-name="cs1_alloc_here"]').first().click();
    await page.locator('#panel-profile .profile-allocs[data-state="ready"][data-frame="cs1_alloc_here"]').waitFor({ timeout: 15_000 });
    const made = await getJson(server, `/api/sessions/${id}/memory?pool=${encodeURIComponent(UNNAMED_POOL)}&t0=0&made=1&frame=cs1_alloc_here&limit=1`);
    expect(made.active.count).toBe(truth.memory.unnamed.allocs - truth.memory.leaks.count);
    expect(Number(await page.locator('#panel-profile .profile-allocs-summary').getAttribute('data-count'))).toBe(made.active.count);
    expect(errors).toEqual([]);
  });

  it('says the session has no CPU samples for the CPU kind', async () => {
    await page.goto(base());
    await page.locator('#tab-profile').click();
    await page.locator('#panel-profile button[data-kind="cpu"]').click();
    await page.locator('#panel-profile[data-state="empty"][data-kind="cpu"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#panel-profile .panel-status').textContent()).toMatch(/^No CPU samples in this session\./);
    expect(await page.locator('#panel-profile .flame-node').count()).toBe(0);
    const rest = await getJson(server, `/api/sessions/${id}/stack-flame?kind=cpu`);
    expect(rest.count).toBe(0);
    await screenshot(page, 'callstack-profile-cpu-empty');
    expect(errors).toEqual([]);
  });
});
