import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLICKHOUSE_MISSING, INFLUX_MISSING, PROMETHEUS_MISSING, startClickHouse, startInflux, startPrometheus,
} from './db-servers.js';

for (const reason of [CLICKHOUSE_MISSING, INFLUX_MISSING, PROMETHEUS_MISSING]) if (reason !== null) console.warn(`db-servers: ${reason}`);

describe('real database servers on random loopback ports', () => {
  it.skipIf(CLICKHOUSE_MISSING !== null)('starts clickhouse-server, answers SELECT 1, and stops it and removes its directory', async () => {
    const ch = (await startClickHouse())!;
    try {
      expect(ch.url).toBe(`http://127.0.0.1:${ch.httpPort}`);
      const res = await fetch(`${ch.url}/?query=${encodeURIComponent('SELECT 1')}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('1\n');
    } finally {
      await ch.stop();
    }
    expect(existsSync(ch.dir)).toBe(false);
    await expect(fetch(`${ch.url}/ping`)).rejects.toThrow();
  });

  it.skipIf(CLICKHOUSE_MISSING !== null)('restarts clickhouse-server on the same port with its data kept', async () => {
    const ch = (await startClickHouse())!;
    const sql = async (query: string): Promise<string> => {
      const res = await fetch(ch.url, { method: 'POST', body: query });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${text}`);
      return text;
    };
    try {
      await sql('CREATE TABLE default.t (x UInt64) ENGINE = MergeTree ORDER BY x');
      await sql('INSERT INTO default.t VALUES (1), (2), (3)');
      await ch.restart();
      expect(await sql('SELECT sum(x) FROM default.t')).toBe('6\n');
    } finally {
      await ch.stop();
    }
    expect(existsSync(ch.dir)).toBe(false);
    await expect(fetch(`${ch.url}/ping`)).rejects.toThrow();
  });

  it.skipIf(INFLUX_MISSING !== null)('starts influxd, creates a database, writes and reads a point, and stops it', async () => {
    const influx = (await startInflux())!;
    try {
      const q = (query: string): Promise<Response> => fetch(`${influx.url}/query`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q: query, db: 't' }),
      });
      expect((await q('CREATE DATABASE t')).status).toBe(200);
      const w = await fetch(`${influx.url}/write?db=t&precision=ns`, { method: 'POST', body: 'm,k=v value=1.5 1700000000000000001\n' });
      expect(w.status).toBe(204);
      const r = await (await q('SELECT value FROM m')).json() as { results: { series?: { values: unknown[][] }[] }[] };
      expect(r.results[0]!.series![0]!.values).toEqual([['2023-11-14T22:13:20.000000001Z', 1.5]]);
    } finally {
      await influx.stop();
    }
    expect(existsSync(influx.dir)).toBe(false);
  });

  it.skipIf(PROMETHEUS_MISSING !== null)('starts prometheus with a given config, answers a query, and stops it', async () => {
    const prom = (await startPrometheus('global:\n  scrape_interval: 1s\nscrape_configs: []\n'))!;
    try {
      const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('1+1')}`);
      const body = await res.json() as { status: string; data: { resultType: string; result: [number, string] } };
      expect(body.status).toBe('success');
      expect(body.data.result[1]).toBe('2');
      const cfg = await (await fetch(`${prom.url}/api/v1/status/config`)).json() as { data: { yaml: string } };
      expect(cfg.data.yaml).toContain('scrape_interval: 1s');
    } finally {
      await prom.stop();
    }
    expect(existsSync(prom.dir)).toBe(false);
  });
});
