/**
 * Issue 10, row 11 (the export half): a session whose times a .zscap cannot encode (beyond
 * 2^53 ns; the issue got them from absurd welcome timers, here a sane welcome and one zone
 * 4e18 ns in) gets a 422 JSON error before any byte of the file, instead of a 200 whose body
 * breaks off with a RangeError. The Chrome export, which can write such times, is complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { waitNewSession, waitSessionEnded } from './support/server-api.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';

const FAR_NS = 4e18;

describe('GET /api/sessions/:id/export of a session with times out of range', () => {
  let server: ServerHandle;
  let id: string;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    const names = new SyntheticNames();
    names.srcloc(0x77, 'Work');
    names.threads.set(1, 'main');
    await runSyntheticClient({
      port: server.ingestPort!,
      welcome: syntheticWelcome('far-app'),
      names,
      produce: (q) => {
        q.zoneBegin(1, 1000, 0x77);
        q.zoneEnd(1, 2000);
        q.zoneBegin(1, FAR_NS, 0x77);
        q.zoneEnd(1, FAR_NS + 1e6);
        return false;
      },
    });
    id = await waitNewSession(server, 0);
    const ended = await waitSessionEnded(server, id);
    expect(ended).toMatchObject({ endReason: 'terminated', zones: 2 });
  });
  afterAll(() => server.close());

  it('answers 422 ZS_EXPORT_BAD_TIMES for format=zscap before the body, whole session or range', async () => {
    for (const q of ['format=zscap', 'format=zscap&t0=0&t1=5000']) {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/export?${q}`);
      expect(res.status, q).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await res.json();
      expect(body.code).toBe('ZS_EXPORT_BAD_TIMES');
      expect(body.error).toMatch(new RegExp(`^session ${id} cannot be exported as zscap: its (latest event|zone (start|end) on thread 1) is at 4\\d{18}(\\.\\d+)? ns \\(a \\.zscap holds integer nanoseconds within ±2\\^53\\)`));
    }
  });

  it('writes the Chrome export whole, since JSON holds such times', async () => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions/${id}/export?format=chrome`);
    expect(res.status).toBe(200);
    const trace = JSON.parse(await res.text());
    const begins = trace.traceEvents.filter((e: { ph: string; cat: string }) => e.ph === 'B' && e.cat === 'zone');
    expect(begins.map((z: { ts: number }) => z.ts)).toEqual([1.0005, FAR_NS / 1000]);
  });
});
