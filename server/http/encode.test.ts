/**
 * A streamed answer carries exactly the bytes respond() would send, in JSON and in msgpack,
 * for large and nested bodies (typed arrays, long arrays, undefined and non-finite values).
 */
import { decode } from '@msgpack/msgpack';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { respond, streamedResponse } from './encode.js';

function bodyOf(n: number): unknown {
  const start = new Float64Array(n).map((_, i) => (i === 40_000 ? NaN : i === 50_000 ? -Infinity : i * 1.5 - 7));
  const rows = new Int32Array(n).map((_, i) => -i);
  return {
    t0: 0,
    nsPerPx: NaN,
    skipped: undefined,
    big: 2n ** 40n,
    threads: [{ thread: 1, name: null, depths: [{ depth: 0, startNs: start, row: rows }], open: [] }],
    nodes: Array.from({ length: n % 1000 }, (_, i) => ({ id: i, children: [i + 1, i + 2], name: `n${i}`, gone: undefined, inf: -Infinity })),
    list: Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? undefined : i)),
  };
}

describe('streamedResponse', () => {
  const app = new Hono();
  app.get('/whole/:n', (c) => respond(c, bodyOf(Number(c.req.param('n')))));
  app.get('/streamed/:n', (c) => streamedResponse(c, bodyOf(Number(c.req.param('n')))));

  for (const n of [0, 5, 33, 70_001]) {
    it(`sends the same JSON as respond() for ${n} rows`, async () => {
      const whole = await (await app.request(`/whole/${n}`)).text();
      const streamed = await app.request(`/streamed/${n}`);
      expect(streamed.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await streamed.text()).toBe(whole);
    });

    it(`sends the same msgpack as respond() for ${n} rows`, async () => {
      const whole = new Uint8Array(await (await app.request(`/whole/${n}?format=msgpack`)).arrayBuffer());
      const streamed = await app.request(`/streamed/${n}?format=msgpack`);
      expect(streamed.headers.get('content-type')).toBe('application/msgpack');
      const bytes = new Uint8Array(await streamed.arrayBuffer());
      expect(decode(bytes)).toMatchObject({ t0: 0, list: expect.any(Array) });
      expect(Buffer.compare(bytes, whole)).toBe(0);
    });
  }
});
