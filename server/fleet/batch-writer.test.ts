import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter, RejectedBatch, type BatchTarget } from './batch-writer.js';

/** A target whose availability the test switches, recording what it accepted. */
class SwitchTarget implements BatchTarget {
  readonly name = 'test.table';
  up = true;
  refuse = false;
  accepted: string[] = [];
  attempts = 0;
  async send(body: Buffer): Promise<void> {
    this.attempts++;
    if (this.refuse) throw new RejectedBatch('400: bad row');
    if (!this.up) throw new Error('connect ECONNREFUSED');
    this.accepted.push(body.toString('utf8'));
  }
  lines(): string[] {
    return this.accepted.join('').split('\n').filter(Boolean);
  }
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'zs-batch-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => `row ${from + i}\n`).join('');

describe('BatchWriter', () => {
  it('seals batches at maxBatchBytes and on flush, and delivers every row once, in order', async () => {
    const t = new SwitchTarget();
    const w = new BatchWriter(t, { maxBatchBytes: 64, flushMs: 60_000 });
    for (let i = 0; i < 50; i += 5) w.add(rows(i, 5), 5);
    expect(await w.flush()).toBe(true);
    expect(t.lines()).toEqual(Array.from({ length: 50 }, (_, i) => `row ${i}`));
    expect(t.accepted.length).toBeGreaterThan(1);
    expect(w.counters).toMatchObject({ queuedRows: 50, writtenRows: 50, droppedRows: 0, failedRows: 0, bufferedBytes: 0 });
  });

  it('retries while the target is down, then sends everything once it is back', async () => {
    const t = new SwitchTarget();
    t.up = false;
    const w = new BatchWriter(t, { maxBatchBytes: 32, backoffMinMs: 1, backoffMaxMs: 4 });
    w.add(rows(0, 10), 10);
    // wait until a few sends have failed (events: the counter moving), then bring the target back
    await expect.poll(() => w.counters.retriedSends, { interval: 2 }).toBeGreaterThanOrEqual(3);
    expect(w.counters.lastError).toMatch(/ECONNREFUSED/);
    t.up = true;
    expect(await w.flush()).toBe(true);
    expect(t.lines()).toEqual(Array.from({ length: 10 }, (_, i) => `row ${i}`));
    expect(w.counters.writtenRows).toBe(10);
    expect(w.counters.lastError).toBeNull();
  });

  it('spills to the spool past its memory, and a new writer sends what an earlier one left there', async () => {
    const spool = tempDir();
    const t = new SwitchTarget();
    t.up = false;
    const w = new BatchWriter(t, { maxBatchBytes: 40, maxBufferedBytes: 100, spoolDir: spool, backoffMinMs: 60_000 });
    for (let i = 0; i < 40; i += 4) w.add(rows(i, 4), 4);
    expect(w.counters.spilledRows).toBeGreaterThan(0);
    expect(w.counters.droppedRows).toBe(0);
    expect(w.counters.bufferedBytes).toBeLessThanOrEqual(100 + 40);
    await w.close(10); // target down: memory batches go to the spool too
    const files = readdirSync(join(spool, 'test.table'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.endsWith('.batch'))).toBe(true);

    const t2 = new SwitchTarget();
    const w2 = new BatchWriter(t2, { spoolDir: spool });
    expect(await w2.flush()).toBe(true);
    expect(t2.lines().sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))).toEqual(Array.from({ length: 40 }, (_, i) => `row ${i}`));
    expect(readdirSync(join(spool, 'test.table'))).toEqual([]);
  });

  it('without a spool, a full buffer drops rows and counts them; hasRoom says so first', async () => {
    const t = new SwitchTarget();
    t.up = false;
    const w = new BatchWriter(t, { maxBatchBytes: 40, maxBufferedBytes: 80, backoffMinMs: 60_000 });
    expect(w.hasRoom()).toBe(true);
    for (let i = 0; i < 40; i += 4) w.add(rows(i, 4), 4);
    expect(w.hasRoom()).toBe(false);
    expect(w.counters.droppedRows).toBeGreaterThan(0);
    expect(w.counters.bufferedBytes).toBeLessThanOrEqual(80 + 40);
    await w.close(1);
  });

  it('a batch the target refuses is counted failed and not retried', async () => {
    const t = new SwitchTarget();
    t.refuse = true;
    const w = new BatchWriter(t, { backoffMinMs: 1 });
    w.add(rows(0, 3), 3);
    expect(await w.flush()).toBe(true);
    expect(t.attempts).toBe(1);
    expect(w.counters).toMatchObject({ failedRows: 3, writtenRows: 0, retriedSends: 0 });
  });

  it('keeps `concurrency` sends in flight, and a failed one goes back to the front: every row once', async () => {
    let inFlight = 0;
    let most = 0;
    let failNext = 2;
    const accepted: string[] = [];
    const target: BatchTarget = {
      name: 'test.concurrent',
      send: async (body) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        if (failNext-- > 0) throw new Error('ECONNRESET');
        accepted.push(body.toString('utf8'));
      },
    };
    const w = new BatchWriter(target, { maxBatchBytes: 30, concurrency: 2, backoffMinMs: 1 });
    for (let i = 0; i < 60; i += 3) w.add(rows(i, 3), 3);
    expect(await w.flush()).toBe(true);
    expect(most).toBe(2);
    expect(w.counters.retriedSends).toBe(2);
    const lines = accepted.join('').split('\n').filter(Boolean);
    expect(lines.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))).toEqual(Array.from({ length: 60 }, (_, i) => `row ${i}`));
    expect(w.counters).toMatchObject({ writtenRows: 60, droppedRows: 0, bufferedBytes: 0 });
  });
});
