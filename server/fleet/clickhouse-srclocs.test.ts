import { describe, expect, it } from 'vitest';
import { refusedPort } from '../../test/support/ports.js';
import { connectClickHouse } from './clickhouse-connection.js';
import { SQL_SRCLOCS_REREAD_MS, SqlSrclocs } from './clickhouse-srclocs.js';

describe('SqlSrclocs', () => {
  it('reads the table at most once per interval, so a key that stays unknown costs no statement per answer', async () => {
    const target = connectClickHouse(`http://127.0.0.1:${await refusedPort()}/?database=zs`);
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
