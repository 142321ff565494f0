import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectClickHouse } from './clickhouse-connection.js';
import { SQL_SRCLOCS_REREAD_MS, SqlSrclocs } from './clickhouse-srclocs.js';

/** A loopback port nothing listens on (taken, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('SqlSrclocs', () => {
  it('reads the table at most once per interval, so a key that stays unknown costs no statement per answer', async () => {
    const target = connectClickHouse(`http://127.0.0.1:${await closedPort()}/?database=zs`);
    // an hour: the two loads below always fall inside it
    const srclocs = new SqlSrclocs(target, 'session-key', 3_600_000);
    try {
      // the first read goes to ClickHouse (here: refused)
      await expect(srclocs.load()).rejects.toThrow();
      // within the interval no statement is sent: nothing to refuse
      await expect(srclocs.load()).resolves.toBeUndefined();
      expect(srclocs.indexOf('123')).toBe(-1);
      expect(SQL_SRCLOCS_REREAD_MS).toBeLessThan(60_000);
    } finally {
      await target.client.close();
    }
  });
});
