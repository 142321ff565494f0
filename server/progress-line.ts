/** Where progress goes: stderr, or a test's collector. `isTTY` decides between redraw and lines. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Print nothing (--quiet). */
  quiet?: boolean;
  /** Milliseconds before the first line: commands faster than this print none (default 1000). */
  delayMs?: number;
  /** Milliseconds between lines (default 1000). */
  intervalMs?: number;
}

/**
 * The progress line of a long command (capture, view, inspect), on stderr: about once a
 * second, starting after the first second so quick runs stay silent. On a terminal the line
 * is redrawn in place; otherwise (a pipe, a log file, a test) each update is a line of its own.
 * The timer is unref'd: it never keeps the process alive.
 */
export class ProgressLine {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drawn = false;
  private readonly quiet: boolean;
  private readonly delayMs: number;
  private readonly intervalMs: number;

  /** @param render the current line, without a newline */
  constructor(
    private readonly stream: ProgressStream,
    private readonly render: () => string,
    options: ProgressOptions = {},
  ) {
    this.quiet = options.quiet ?? false;
    this.delayMs = options.delayMs ?? 1000;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  start(): this {
    if (this.quiet || this.timer !== null) return this;
    const tick = () => {
      this.draw(this.render());
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref?.();
    };
    this.timer = setTimeout(tick, this.delayMs);
    this.timer.unref?.();
    return this;
  }

  /** Stops updating; on a terminal, ends the redrawn line (with `last` drawn in its place, if given). */
  stop(last?: string): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.quiet) return;
    if (last !== undefined) this.draw(last);
    if (this.drawn && this.stream.isTTY) this.stream.write('\n');
    this.drawn = false;
  }

  private draw(line: string): void {
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
    this.drawn = true;
  }
}

/** 1536 -> "1.5 KiB", 3e6 -> "2.9 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** 65_000 ms -> "1:05", 3_725_000 -> "1:02:05". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (x: number) => String(x).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
