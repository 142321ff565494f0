import { describe, expect, it } from 'vitest';
import { BudgetAccount, MemoryBudget } from './memory-budget.js';
import { MESSAGE_ROWS, MESSAGE_SEGMENT_OBJECT_BYTES, MessageLog } from './message-log.js';

const noStrings = () => undefined;

describe('MessageLog', () => {
  it('returns messages in [t0, t1] in time order, resolving literal texts, with the callstack given to each', () => {
    const log = new MessageLog(new BudgetAccount(new MemoryBudget(2 ** 30)));
    log.add(30, 1, -1, 0x00, 'third');
    log.add(10, 2, 0xff0000, 0x31, 'first');
    log.setLastCallstack(5); // 'first' went before 'third': the id follows it there
    log.add(20, 1, -1, 0x00, null, 0x1234);
    log.add(40, 1, -1, 0x00, 'fourth');
    const strings = new Map([[0x1234, 'second (literal)']]);
    const got = log.inRange(10, 30, (ptr) => strings.get(ptr));
    expect(got).toEqual([
      { timeNs: 10, thread: 2, color: 0xff0000, metadata: 0x31, text: 'first', callstack: 5 },
      { timeNs: 20, thread: 1, color: -1, metadata: 0, text: 'second (literal)', callstack: 0 },
      { timeNs: 30, thread: 1, color: -1, metadata: 0, text: 'third', callstack: 0 },
    ]);
    expect(log.inRange(0, 100, noStrings, 2).map((m) => m.timeNs)).toEqual([10, 20]);
    expect(log.total).toBe(4);
  });

  it('keeps time order and the limit right when late messages land in a later segment', () => {
    const log = new MessageLog(new BudgetAccount(new MemoryBudget(2 ** 30)));
    // two threads flushing in turns: every batch of B is older than the end of A's batch
    const sent: number[] = [];
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < 1000; i++) sent.push(batch * 10_000 + i * 10); // thread A
      for (let i = 0; i < 1000; i++) sent.push(batch * 10_000 + i * 10 + 5); // thread B, late
    }
    sent.forEach((t, i) => log.add(t, t % 10 === 5 ? 2 : 1, -1, 0, `m${i}`));
    expect(log.segments.length).toBe(Math.ceil(sent.length / MESSAGE_ROWS));
    const sorted = [...sent].sort((a, b) => a - b);
    expect(log.inRange(-Infinity, Infinity, noStrings).map((m) => m.timeNs)).toEqual(sorted);
    // the first 10 of a range that spans a segment boundary
    const t0 = 2 * 10_000;
    const firstTen = log.inRange(t0, Infinity, noStrings, 10).map((m) => m.timeNs);
    expect(firstTen).toEqual(sorted.filter((t) => t >= t0).slice(0, 10));
  });

  it('evicts whole segments and remembers the time before which messages are gone', () => {
    const budget = new MemoryBudget(3 * (MESSAGE_ROWS * (45 + 2) + MESSAGE_SEGMENT_OBJECT_BYTES) + 10_000); // rows + 2 bytes of text each
    const account = new BudgetAccount(budget);
    const log = new MessageLog(account);
    for (let i = 0; i < 4 * MESSAGE_ROWS; i++) log.add(i, 1, -1, 0, 'x');
    expect(log.segments.length).toBe(3);
    expect(log.evictedBeforeNs).toBe(MESSAGE_ROWS - 1);
    expect(log.inRange(-Infinity, Infinity, noStrings)[0]!.timeNs).toBe(MESSAGE_ROWS);
    expect(account.bytes).toBe(log.segments.reduce((n, s) => n + s.bytes, 0));
    log.release();
    expect(budget.used).toBe(0);
  });
});
