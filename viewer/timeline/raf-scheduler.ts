/**
 * One requestAnimationFrame scheduler with dirty flags (Perfetto's raf_scheduler): callers mark
 * what changed; the next animation frame runs the callback once with every flag marked since the
 * last run. Marking twice in a frame costs nothing extra.
 */
export class RafScheduler {
  private flags = 0;
  private pending = 0;

  constructor(private readonly run: (flags: number) => void) {}

  /** Marks `flags` dirty and makes sure a frame is coming. */
  mark(flags: number): void {
    this.flags |= flags;
    if (this.pending === 0) this.pending = requestAnimationFrame(this.tick);
  }

  /** Runs now what is marked (for callers that need the result synchronously). */
  flush(): void {
    if (this.pending !== 0) cancelAnimationFrame(this.pending);
    this.tick();
  }

  private readonly tick = (): void => {
    this.pending = 0;
    const f = this.flags;
    this.flags = 0;
    if (f !== 0) this.run(f);
  };
}
