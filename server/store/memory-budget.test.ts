import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/support/tracy-streams.js';
import { BudgetAccount, BudgetError, MemoryBudget, type Evictable } from './memory-budget.js';

/** A segment of a fake track: reports its eviction to its account, like the real tracks. */
class FakeSegment implements Evictable {
  budgetSlot = -1;
  evicted = false;
  released = false;
  /** A track's tail, still receiving data. */
  tail = false;

  constructor(
    readonly account: BudgetAccount,
    readonly id: number,
    public bytes: number,
    private readonly log: FakeSegment[] = [],
  ) {}

  active(): boolean {
    return this.tail;
  }

  evict(): void {
    if (this.evicted) throw new Error(`segment ${this.id} evicted twice`);
    this.evicted = true;
    this.account.evicted(this.bytes);
    this.log.push(this);
  }

  /** Like a track's tail: only a registered segment is still written. */
  grow(delta: number): void {
    if (this.budgetSlot < 0) return;
    this.bytes += delta;
    this.account.resize(this, delta);
  }
}

/** The budget's internal FIFO, to check that it does not grow without bound. */
function queueLength(budget: MemoryBudget): number {
  return (budget as unknown as { queue: unknown[] }).queue.length;
}

describe('MemoryBudget', () => {
  it('passes over an old active tail while older full segments remain, and takes it last', () => {
    const budget = new MemoryBudget(1000);
    const account = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    const quiet = new FakeSegment(account, 0, 300, log);
    quiet.tail = true; // a quiet thread's only segment: registered first, holds its newest zones
    account.register(quiet);
    const busy = [1, 2, 3, 4, 5, 6].map((id) => new FakeSegment(account, id, 300, log));
    for (const seg of busy) account.register(seg);
    // the busy ones went oldest first; the quiet tail survived although it is the oldest
    expect(quiet.evicted).toBe(false);
    expect(log.map((s) => s.id)).toEqual([1, 2, 3, 4]);
    expect(budget.used).toBeLessThanOrEqual(1000);
    // once only active tails are left to take, the oldest of them goes
    for (const seg of busy) seg.tail = !seg.evicted;
    account.register(new FakeSegment(account, 7, 300, log));
    expect(quiet.evicted).toBe(true);
    expect(budget.used).toBeLessThanOrEqual(1000);
  });

  it('rejects a limit that is not a positive number of bytes', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new MemoryBudget(bad)).toThrow(TypeError);
    }
    expect(() => new MemoryBudget(0)).toThrow(/positive number of bytes, got 0/);
  });

  it('evicts the oldest segments first, whichever session they belong to', () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const b = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    const all: FakeSegment[] = [];
    for (let i = 0; i < 10; i++) {
      const seg = new FakeSegment(i % 3 === 0 ? b : a, i, 100, log);
      all.push(seg);
      seg.account.register(seg);
    }
    expect(budget.used).toBe(1000);
    expect(log).toEqual([]);
    // 250 more bytes: the three oldest (b, a, a) go, in registration order
    const big = new FakeSegment(a, 10, 250, log);
    a.register(big);
    expect(log.map((s) => s.id)).toEqual([0, 1, 2]);
    expect(budget.used).toBe(950);
    expect(budget.segments).toBe(8);
    expect(budget.evictedSegments).toBe(3);
    expect(budget.evictedBytes).toBe(300);
    expect(b.evictedBytes).toBe(100);
    expect(a.evictedBytes).toBe(200);
    expect(a.bytes + b.bytes).toBe(budget.used);
    expect(all.slice(3).every((s) => !s.evicted && s.budgetSlot >= 0)).toBe(true);
    expect(all.slice(0, 3).every((s) => s.budgetSlot === -1)).toBe(true);
  });

  it('never evicts the segment being written, even when it alone passes the limit', () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    const old = new FakeSegment(a, 0, 400, log);
    a.register(old);
    const huge = new FakeSegment(a, 1, 1500, log);
    a.register(huge);
    expect(log).toEqual([old]);
    expect(huge.evicted).toBe(false);
    expect(budget.used).toBe(1500);
    huge.grow(100);
    expect(huge.evicted).toBe(false);
    expect(budget.used).toBe(1600);
    expect(a.bytes).toBe(1600);
  });

  it('evicts younger segments when the oldest one grows past the limit', () => {
    // The oldest segment is a quiet track's tail, still being written; growing it must make
    // room by evicting the next oldest segments instead of leaving the budget overdrawn.
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const b = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    const tail = new FakeSegment(a, 0, 100, log);
    a.register(tail);
    const younger: FakeSegment[] = [];
    for (let i = 1; i <= 9; i++) {
      const seg = new FakeSegment(b, i, 100, log);
      younger.push(seg);
      b.register(seg);
    }
    expect(budget.used).toBe(1000);
    tail.grow(250);
    expect(tail.evicted).toBe(false);
    expect(log.map((s) => s.id)).toEqual([1, 2, 3]);
    expect(budget.used).toBe(1000 - 300 + 250);
    expect(budget.used).toBeLessThanOrEqual(budget.limit);
    // the kept segment is still the oldest: the next registration evicts it first
    const next = new FakeSegment(b, 10, 200, log);
    b.register(next);
    expect(log.map((s) => s.id)).toEqual([1, 2, 3, 0]);
    expect(budget.used).toBe(950 - 350 + 200);
    expect(a.bytes).toBe(0);
    expect(a.evictedBytes).toBe(350);
    expect(b.bytes).toBe(budget.used);
  });

  it('evicts segments to make room for bytes charged outside segments', () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    for (let i = 0; i < 10; i++) a.register(new FakeSegment(a, i, 100, log));
    a.charge(150);
    expect(log.map((s) => s.id)).toEqual([0, 1]);
    expect(budget.used).toBe(950);
    expect(a.bytes).toBe(950);
  });

  it('charges live decode buffers by evicting segments, up to a quarter of the limit, and takes them back', () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    for (let i = 0; i < 10; i++) a.register(new FakeSegment(a, i, 100, log));
    expect(budget.chargeBuffers(200)).toBe(true);
    expect(log.map((s) => s.id)).toEqual([0, 1]); // stored data made room
    expect(budget.used).toBe(1000);
    expect(budget.chargeBuffers(51)).toBe(false); // 251 > a quarter of 1000: nothing charged
    expect(budget.used).toBe(1000);
    expect(budget.bufferBytes).toBe(200);
    expect(budget.chargeBuffers(-200)).toBe(true);
    expect(budget.used).toBe(800);
    expect(budget.bufferBytes).toBe(0);
    expect(a.bytes).toBe(800); // never the session's store bytes
  });

  it('keeps every account equal to what its segments hold and lost, under random traffic', () => {
    const rand = mulberry32(7);
    const budget = new MemoryBudget(50_000);
    const accounts = [new BudgetAccount(budget), new BudgetAccount(budget)];
    const charged = [0, 0];
    const live: FakeSegment[][] = [[], []];
    const log: FakeSegment[] = [];
    const registered: FakeSegment[] = [];
    let lastWritten: FakeSegment | null = null;
    for (let step = 0; step < 20_000; step++) {
      const who = rand() < 0.5 ? 0 : 1;
      const account = accounts[who]!;
      const op = rand();
      let written: FakeSegment | null = null;
      if (op < 0.4 || live[who]!.length === 0) {
        const seg = new FakeSegment(account, step, 64 + Math.floor(rand() * 4000), log);
        live[who]!.push(seg);
        registered.push(seg);
        account.register(seg);
        written = seg;
      } else if (op < 0.85) {
        // the newest segment of the account grows (a track's tail)
        const seg = live[who]![live[who]!.length - 1]!;
        seg.grow(1 + Math.floor(rand() * 2000));
        if (!seg.evicted && !seg.released) written = seg;
      } else if (op < 0.95) {
        const delta = Math.floor(rand() * 100);
        try {
          account.charge(delta);
          charged[who]! += delta;
        } catch (err) {
          // tables past half the budget, or that do not fit even with every segment gone, are
          // refused and not counted
          expect(err).toBeInstanceOf(BudgetError);
          expect(account.tableBytes + delta > budget.limit / 2 || budget.segments === 0).toBe(true);
        }
      } else {
        // a session deletes a segment
        const list = live[who]!.filter((s) => !s.evicted && !s.released);
        const seg = list[Math.floor(rand() * list.length)];
        if (seg) {
          seg.released = true;
          account.release(seg);
        }
      }
      if (written !== null) lastWritten = written;
      // never above the limit, unless the last segment written alone (plus charges) is
      if (budget.used > budget.limit) {
        expect(budget.segments).toBeLessThanOrEqual(1);
        const held = lastWritten !== null && !lastWritten.evicted && !lastWritten.released ? lastWritten.bytes : 0;
        expect(budget.used).toBe(held + charged[0]! + charged[1]!);
      }
      if (step % 500 === 0 || step === 19_999) {
        for (let i = 0; i < 2; i++) {
          const held = live[i]!.filter((s) => !s.evicted && !s.released);
          const lost = live[i]!.filter((s) => s.evicted);
          expect(accounts[i]!.bytes).toBe(held.reduce((n, s) => n + s.bytes, 0) + charged[i]!);
          expect(accounts[i]!.evictedBytes).toBe(lost.reduce((n, s) => n + s.bytes, 0));
        }
        expect(budget.used).toBe(accounts[0]!.bytes + accounts[1]!.bytes);
        expect(budget.evictedBytes).toBe(accounts[0]!.evictedBytes + accounts[1]!.evictedBytes);
        expect(budget.segments).toBe(registered.filter((s) => !s.evicted && !s.released).length);
      }
    }
    // eviction order is registration order (released segments are skipped)
    const order = registered.filter((s) => s.evicted).map((s) => s.id);
    expect(order).toEqual(log.map((s) => s.id).slice().sort((x, y) => x - y));
    expect(log.length).toBeGreaterThan(1000);
  });

  it('refuses a charge that would not fit even with every segment evicted, leaving the budget within its limit', () => {
    const budget = new MemoryBudget(1000);
    const [a, b, c] = [new BudgetAccount(budget), new BudgetAccount(budget), new BudgetAccount(budget)];
    a.register(new FakeSegment(a, 0, 300));
    a.charge(400);
    b.charge(200);
    let err: unknown = null;
    try {
      c.charge(450);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BudgetError);
    expect((err as BudgetError).code).toBe('ZS_STORE_BUDGET');
    expect((err as BudgetError).message).toBe(
      "the sessions' tables (strings, source locations, live allocations) need more than the memory budget of 1000 bytes, with every segment evicted",
    );
    // the segment made way for it, but the refused bytes were not counted
    expect(budget.segments).toBe(0);
    expect(budget.used).toBe(600);
    expect(c.bytes).toBe(0);
    expect(budget.peakUsed).toBeLessThanOrEqual(budget.limit);
  });

  it("refuses a charge that would give one session's tables more than half the budget", () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    a.charge(500);
    expect(() => a.charge(1)).toThrow(
      new BudgetError("this session's tables (strings, source locations, live allocations) need 501 bytes, more than half the memory budget of 1000 bytes"),
    );
    expect(a.tableBytes).toBe(500);
    expect(budget.used).toBe(500);
  });

  it('ignores growth reported for a segment that is no longer registered', () => {
    const budget = new MemoryBudget(1000);
    const a = new BudgetAccount(budget);
    const seg = new FakeSegment(a, 0, 100);
    a.register(seg);
    a.release(seg);
    a.resize(seg, 500);
    expect(a.bytes).toBe(0);
    expect(budget.used).toBe(0);
  });

  it('gives back the bytes of released segments and, on close, of charges', () => {
    const budget = new MemoryBudget(10_000);
    const a = new BudgetAccount(budget);
    const b = new BudgetAccount(budget);
    const segs = [new FakeSegment(a, 0, 1000), new FakeSegment(a, 1, 2000), new FakeSegment(b, 2, 3000)];
    for (const s of segs) s.account.register(s);
    a.charge(500);
    b.charge(70);
    expect(budget.used).toBe(6570);
    a.release(segs[0]!);
    expect(a.bytes).toBe(2500);
    expect(budget.used).toBe(5570);
    a.release(segs[0]!); // twice: nothing more
    expect(budget.used).toBe(5570);
    a.release(segs[1]!);
    expect(a.bytes).toBe(500);
    a.close();
    expect(a.bytes).toBe(0);
    expect(a.evictedBytes).toBe(0);
    expect(budget.used).toBe(3070);
    expect(budget.evictedBytes).toBe(0);
    expect(budget.evictedSegments).toBe(0);
    expect(budget.segments).toBe(1);
    b.release(segs[2]!);
    b.close();
    expect(budget.used).toBe(0);
    expect(budget.segments).toBe(0);
  });

  it('keeps evicting oldest-first and releasing correctly across many queue compactions', () => {
    const budget = new MemoryBudget(100 * 100);
    const a = new BudgetAccount(budget);
    const b = new BudgetAccount(budget);
    const log: FakeSegment[] = [];
    const segs: FakeSegment[] = [];
    let overdrawn = 0;
    for (let i = 0; i < 50_000; i++) {
      const seg = new FakeSegment(i % 2 ? a : b, i, 100, log);
      segs.push(seg);
      seg.account.register(seg);
      if (i % 7 === 3) {
        // release one of the live segments: its slot must still be right after compactions
        const victim = segs[i - 50]!;
        if (victim && !victim.evicted && !victim.released) {
          victim.released = true;
          victim.account.release(victim);
        }
      }
      if (budget.used > budget.limit) overdrawn++;
    }
    expect(overdrawn).toBe(0);
    const evicted = segs.filter((s) => s.evicted).map((s) => s.id);
    expect(log.map((s) => s.id)).toEqual(evicted);
    const held = segs.filter((s) => !s.evicted && !s.released);
    expect(budget.segments).toBe(held.length);
    expect(budget.used).toBe(held.length * 100);
    expect(held.length).toBe(100);
    // what is left is the youngest segments that were not released
    const notReleased = segs.filter((s) => !s.released);
    expect(held).toEqual(notReleased.slice(notReleased.length - held.length));
    expect(queueLength(budget)).toBeLessThan(3000);
    for (const s of held) s.account.release(s);
    expect(budget.used).toBe(0);
    expect(budget.segments).toBe(0);
  });

  it('does not keep the slots of released segments forever when nothing is evicted', () => {
    // sessions come and go under a budget they never fill
    const budget = new MemoryBudget(2 ** 40);
    for (let session = 0; session < 200; session++) {
      const account = new BudgetAccount(budget);
      const segs: FakeSegment[] = [];
      for (let i = 0; i < 100; i++) {
        const seg = new FakeSegment(account, i, 1000);
        segs.push(seg);
        account.register(seg);
      }
      for (const s of segs) account.release(s);
      account.close();
    }
    expect(budget.used).toBe(0);
    expect(budget.segments).toBe(0);
    expect(queueLength(budget)).toBeLessThan(5000);
    // still works after all that compaction
    const account = new BudgetAccount(budget);
    const seg = new FakeSegment(account, 0, 10);
    account.register(seg);
    expect(budget.segments).toBe(1);
    account.release(seg);
    expect(budget.used).toBe(0);
  });
});
