/**
 * What a live update carries besides zones, checked against the REST API on a real Tracy
 * recording: the viewport's messages (the timeline draws them as ticks) and every plot with its
 * PlotConfig (step, fill, colour, format) plus the memory-usage series.
 */
import { decode, encode } from '@msgpack/msgpack';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitSessionEnded, type Json } from './support/server-api.js';
import { dialRecordedClient } from './support/tracy-replay.js';

if (!FIXTURES_PRESENT) console.warn('server-live-content: ../shared/fixtures/tracy is absent; skipped');

async function liveUpdate(server: ServerHandle, request: Json): Promise<Json> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`);
  const messages: Json[] = [];
  ws.on('message', (data: Buffer) => messages.push(decode(data)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(encode(request));
  try {
    return await waitFor('an update', () => messages.find((m) => m.type === 'update'));
  } finally {
    ws.terminate();
  }
}

describe.skipIf(!FIXTURES_PRESENT)('live updates of a recorded Tracy session', () => {
  let server: ServerHandle;
  let id: string;
  let lastNs: number;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    await dialRecordedClient(server.ingestPort!, readFileSync(fixture('medium.client.bin')));
    id = server.registry.list()[0]!.id;
    lastNs = (await waitSessionEnded(server, id)).lastNs;
  });
  afterAll(() => server.close());

  it("carries the viewport's messages in time order, the same as GET /messages", async () => {
    // a window in the middle of the session that holds some of its 9602 messages
    const t0 = Math.round(lastNs * 0.4);
    const t1 = Math.round(lastNs * 0.45);
    const update = await liveUpdate(server, { type: 'subscribe', session: id, follow: false, t0, t1, px: 1000 });
    const rest = await getJson(server, `/api/sessions/${id}/messages?t0=${t0}&t1=${t1}`);
    expect(rest.messages.length).toBeGreaterThan(10);
    expect(rest.messages.length).toBeLessThan(5000);
    expect(update.messagesCut).toBe(0);
    expect(update.messages).toEqual(rest.messages);
  });

  it('cuts the messages of a wide viewport at 5000 and says so', async () => {
    const update = await liveUpdate(server, { type: 'subscribe', session: id, follow: false, t0: 0, t1: lastNs, px: 1000 });
    expect(update.messages).toHaveLength(5000);
    expect(update.messagesCut).toBe(1);
    const rest = await getJson(server, `/api/sessions/${id}/messages?t0=0&t1=${lastNs}&limit=5000`);
    expect(update.messages).toEqual(rest.messages);
  });

  it('carries every plot with its configuration and the memory-usage series, as GET /plots does', async () => {
    const update = await liveUpdate(server, { type: 'subscribe', session: id, follow: false, t0: 0, t1: lastNs, px: 1000 });
    const rest = await getJson(server, `/api/sessions/${id}/plots?t0=0&t1=${lastNs}&px=1000&edges=1`);
    const pick = (p: Json) => ({ name: p.name, format: p.format, step: p.step, fill: p.fill, color: p.color, count: p.count, min: p.min, max: p.max, memory: p.memory ?? false });
    expect(update.plots.map(pick)).toEqual(rest.map(pick));
    expect(update.plots.some((p: Json) => p.memory === true)).toBe(true);
    for (const p of update.plots) {
      const restPlot = rest.find((r: Json) => r.name === p.name);
      const times = new Float64Array(new Uint8Array(p.timeNs).buffer);
      expect(Array.from(times)).toEqual(restPlot.timeNs);
    }
  });
});
