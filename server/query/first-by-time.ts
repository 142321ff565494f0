/**
 * The first `limit` items by time among any number offered, in bounded memory: items are kept
 * in arrival order until there are 2 x limit, then sorted by (time, arrival) and cut to `limit`;
 * from then on anything at or after the latest kept time is refused at once. The result is what
 * a stable sort of everything by time, cut to `limit`, would give (equal times: arrival order).
 * Cost: O(n log limit) over n offers, memory 2 x limit items.
 */
export class FirstByTime<T> {
  private items: { item: T; time: number; seq: number }[] = [];
  private seq = 0;
  /** items at or after this time cannot be among the first `limit` */
  private cutoff = Infinity;

  constructor(
    readonly limit: number,
    private readonly timeOf: (item: T) => number,
  ) {}

  /** False when an item at `time` would be dropped anyway (saves making it). */
  wants(time: number): boolean {
    return this.limit > 0 && time < this.cutoff;
  }

  add(item: T): void {
    const time = this.timeOf(item);
    if (!this.wants(time)) return;
    this.items.push({ item, time, seq: this.seq++ });
    if (this.items.length >= 2 * this.limit) this.prune();
  }

  /** The first `limit` items by (time, arrival). */
  sorted(): T[] {
    this.prune();
    return this.items.map((x) => x.item);
  }

  private prune(): void {
    this.items.sort((a, b) => a.time - b.time || a.seq - b.seq);
    if (this.items.length >= this.limit) {
      this.items.length = this.limit;
      if (this.limit > 0) this.cutoff = this.items[this.limit - 1]!.time;
    }
  }
}
