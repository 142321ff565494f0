/**
 * An instrumented workload with known counts, and the check that exactly it arrived at a
 * Zonescope server (through its REST API), whatever the transport.
 */
import { expect } from 'vitest';
import type { TracyClient } from '../../client/types.js';
import type { ServerHandle } from '../../server/serve.js';
import { getJson, waitFor, type Json } from './server-api.js';

export const ITERATIONS = 40;
export const REQUESTS = 8;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/** The GoTracy example from the issue, in a loop, plus concurrent async requests. */
export async function runWorkload(tracy: TracyClient): Promise<void> {
  tracy.setThreadName('checkout main');
  tracy.appInfo('build 42');
  tracy.plotConfig('heap', { format: 'memory', step: true, fill: false, color: 0x00ff00 });
  for (let i = 0; i < ITERATIONS; i++) {
    tracy.frameMarkStart('Calculating sin(x)');
    const z = tracy.zoneBegin('Calculating Sin', 0xf0f0f0);
    tracy.zoneValue(z, i);
    tracy.zoneText(z, `Sleep ${i}`);
    for (let k = 0; k < 3; k++) tracy.zone('inner step', () => spin(20));
    tracy.zoneEnd(z);
    tracy.frameMarkEnd('Calculating sin(x)');
    tracy.plot('sin(x)', Math.sin(i));
    tracy.plotInt('heap', 1000 + i);
    if (i % 8 === 0) tracy.message(`Sin(x) = ${Math.sin(i).toFixed(2)}`, i % 16 === 0 ? 0xff0f0f : undefined);
    tracy.frameMark();
    if (i % 10 === 0) await sleep(1);
  }
  await Promise.all(
    Array.from({ length: REQUESTS }, (_, k) =>
      tracy.zone('handle request', async (z) => {
        tracy.zoneText(z, `request ${k}`);
        await sleep(2 + (k % 3));
        tracy.zone('db query', () => spin(10));
        await sleep(1);
      }),
    ),
  );
}

/**
 * Waits for session `id` to end and checks that the workload arrived exactly.
 * @param asyncContext false for the browser entry: zones begun after an `await` land on the main track
 */
export async function expectWorkloadArrived(server: ServerHandle, id: string, app: string, asyncContext = true): Promise<Json> {
  const d = await waitFor(`session ${id} to end`, async () => {
    const s = await getJson(server, `/api/sessions/${id}`);
    return s.state === 'ended' ? s : undefined;
  });
  expect(d).toMatchObject({ app, endReason: 'terminated', error: null, truncation: null });
  expect(d.welcome).toMatchObject({ timerMul: 1, flags: 0, programName: app });
  expect(d.appInfo).toEqual(['build 42']);
  expect(d.messages).toBe(ITERATIONS / 8);

  const frames = Object.fromEntries(d.frames.map((f: Json) => [f.name || 'Frame', [f.count, f.continuous]]));
  expect(frames).toEqual({ Frame: [ITERATIONS, true], 'Calculating sin(x)': [ITERATIONS, false] });
  const plots = Object.fromEntries(d.plots.map((p: Json) => [p.name, [p.count, p.format]]));
  expect(plots).toEqual({ 'sin(x)': [ITERATIONS, 0], heap: [ITERATIONS, 1] });

  const stats: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
  expect(Object.fromEntries(stats.map((s) => [s.name, s.count]))).toEqual({
    'Calculating Sin': ITERATIONS,
    'inner step': 3 * ITERATIONS,
    'handle request': REQUESTS,
    'db query': REQUESTS,
  });
  const sin = stats.find((s) => s.name === 'Calculating Sin')!;
  expect(sin.color).toBe(0xf0f0f0);
  expect(sin.file).toMatch(/sdk-workload\.ts$/);

  const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
  expect(threads.every((t) => t.open === 0 && t.unmatchedEnds === 0)).toBe(true);
  const main = threads.find((t) => t.id === 1)!;
  expect(main).toMatchObject({ name: 'checkout main', zones: 4 * ITERATIONS + (asyncContext ? 0 : REQUESTS), depth: 2 });
  const lanes = threads.filter((t) => t.id !== 1);
  expect(lanes.length).toBeGreaterThan(0);
  expect(lanes.length).toBeLessThanOrEqual(REQUESTS);
  for (const lane of lanes) expect(lane.name).toMatch(/^checkout main async \d+$/);

  // zone text and value arrive on the zone they were set for
  const zones: Json = await getJson(server, `/api/sessions/${id}/zones?nsPerPx=0&threads=1`);
  const depth0 = zones.threads[0].depths.find((x: Json) => x.depth === 0);
  const details: Json[] = await Promise.all([0, ITERATIONS - 1].map((row) => getJson(server, `/api/sessions/${id}/zone?thread=1&depth=0&row=${depth0.row[row]}`)));
  expect(details.map((z) => [z.name, z.text, z.value])).toEqual([
    ['Calculating Sin', 'Sleep 0', '0'],
    ['Calculating Sin', `Sleep ${ITERATIONS - 1}`, String(ITERATIONS - 1)],
  ]);
  expect(details[0].children).toBe(3);
  return d;
}
