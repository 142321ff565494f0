/**
 * GET /messages' query: the same list as MessageLog.inRange (time order, equal times in arrival
 * order, late messages sorted in), filtered by text, cut by the limit and by the text cap.
 */
import { describe, expect, it } from 'vitest';
import { BudgetAccount, MemoryBudget } from '../store/memory-budget.js';
import { MESSAGE_ROWS, MessageLog } from '../store/message-log.js';
import { MAX_MESSAGES_TEXT, MessageQuery, queryMessages } from './message-query.js';
import { runInSlices } from './query-slicer.js';

const noStrings = () => undefined;

/** Two threads flushing in turns, so later segments hold messages older than earlier ones' ends. */
function interleavedLog(): MessageLog {
  const log = new MessageLog(new BudgetAccount(new MemoryBudget(2 ** 30)));
  let n = 0;
  for (let batch = 0; batch < 6; batch++) {
    for (let i = 0; i < 1000; i++) log.add(batch * 10_000 + i * 10, 1, -1, 0, `a ${n++}`);
    for (let i = 0; i < 1000; i++) log.add(batch * 10_000 + i * 10 + 5, 2, -1, 0, `b ${n++}`);
  }
  log.add(30, 3, -1, 0, null, 0x99); // a literal: its text is a string the app sent apart
  return log;
}

describe('queryMessages', () => {
  it('lists what MessageLog.inRange lists, for any range and limit', () => {
    const log = interleavedLog();
    expect(log.segments.length).toBeGreaterThan(2);
    const strings = new Map([[0x99, 'literal text']]);
    const resolve = (p: number) => strings.get(p);
    for (const [t0, t1, limit] of [
      [-Infinity, Infinity, 100_000],
      [20_000, 40_000, 10],
      [25, 35, 5],
      [0, 59_995, 2500],
    ] as const) {
      const got = queryMessages(log, resolve, { t0, t1, limit });
      const want = log.inRange(t0, t1, resolve);
      expect(got.messages).toEqual(want.slice(0, limit));
      expect(got.truncated).toBe(want.length > limit);
    }
  });

  it('keeps only messages whose text contains q, in any case, sliced as at once', async () => {
    const log = interleavedLog();
    const want = log.inRange(-Infinity, Infinity, noStrings).filter((m) => m.text.includes('b 1'));
    const got = queryMessages(log, noStrings, { q: 'B 1', limit: 50 });
    expect(got.messages).toEqual(want.slice(0, 50));
    expect(got.truncated).toBe(true);
    const sliced = await runInSlices(new MessageQuery(log, noStrings, { q: 'B 1', limit: 50 }), { sliceUnits: 64 });
    expect(sliced).toEqual(got);
  });

  it('cuts the list before the text cap and says so', () => {
    const log = new MessageLog(new BudgetAccount(new MemoryBudget(2 ** 34)));
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 12; i++) log.add(i, 1, -1, 0, big);
    const got = queryMessages(log, noStrings, {});
    expect(got.messages.length).toBe(Math.floor(MAX_MESSAGES_TEXT / (big.length + 64)));
    expect(got.truncated).toBe(true);
  });

  it('does not see messages added while it runs', () => {
    const log = new MessageLog(new BudgetAccount(new MemoryBudget(2 ** 30)));
    for (let i = 0; i < MESSAGE_ROWS + 10; i++) log.add(i * 10, 1, -1, 0, `m${i}`);
    const query = new MessageQuery(log, noStrings, {});
    query.step(100);
    log.add(5, 1, -1, 0, 'late, inserted into the segment being filled');
    log.add(1e9, 1, -1, 0, 'new');
    while (!query.step(100));
    const got = query.result().messages;
    expect(got.length).toBe(MESSAGE_ROWS + 10);
    expect(got.map((m) => m.text)).toEqual(Array.from({ length: MESSAGE_ROWS + 10 }, (_, i) => `m${i}`));
  });
});
