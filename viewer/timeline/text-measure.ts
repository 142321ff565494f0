/**
 * Text widths for labels, cached per string (measureText is the expensive part of a label), and
 * cutting a label with an ellipsis to a width. The cache is dropped when the font changes or it
 * grows past `limit` strings.
 */
export const ELLIPSIS = '\u2026';

export class TextMeasure {
  private readonly widths = new Map<string, number>();
  private font = '';

  constructor(
    private readonly ctx: CanvasRenderingContext2D,
    private readonly limit = 20_000,
  ) {}

  /** Sets the context's font (a canvas resize resets it) and drops the cache if it changed. */
  use(font: string): void {
    if (font !== this.font) {
      this.font = font;
      this.widths.clear();
    }
    this.ctx.font = font;
  }

  /** Width of `s` in the current font, device px. */
  width(s: string): number {
    let w = this.widths.get(s);
    if (w === undefined) {
      if (this.widths.size >= this.limit) this.widths.clear();
      w = this.ctx.measureText(s).width;
      this.widths.set(s, w);
    }
    return w;
  }

  /**
   * `s` if it fits in `maxW`, else its longest prefix + "…" that fits (at least `minChars`
   * characters before the ellipsis), else null.
   */
  fit(s: string, maxW: number, minChars = 1): string | null {
    if (maxW <= 0) return null;
    if (this.width(s) <= maxW) return s;
    let lo = minChars;
    let hi = s.length - 1;
    if (lo > hi || this.width(s.slice(0, lo) + ELLIPSIS) > maxW) return null;
    // the longest prefix length in [lo, hi] that fits
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.width(s.slice(0, mid) + ELLIPSIS) <= maxW) lo = mid;
      else hi = mid - 1;
    }
    return s.slice(0, lo) + ELLIPSIS;
  }
}
