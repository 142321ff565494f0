/**
 * Rectangles grouped by style key, so a frame sets each fillStyle once (uPlot's setCtxStyle
 * cache, taken one step further). Keys are small non-negative integers (a source location index,
 * a colour slot); buffers are kept between frames and grow by doubling, so steady-state drawing
 * allocates nothing.
 */
export class RectBatch {
  /** x, y, w, h per rect, device px */
  private bufs: Float32Array[] = [];
  private lens: number[] = [];
  /** keys with at least one rect this frame, in first-use order */
  private used: number[] = [];
  private total = 0;

  /** rects added since the last flush */
  get size(): number {
    return this.total;
  }

  add(key: number, x: number, y: number, w: number, h: number): void {
    let buf = this.bufs[key];
    let len = this.lens[key] ?? 0;
    if (buf === undefined) {
      for (let k = this.bufs.length; k <= key; k++) {
        this.bufs.push(undefined as unknown as Float32Array);
        this.lens.push(0);
      }
      buf = this.bufs[key] = new Float32Array(32);
    }
    if (len === 0) this.used.push(key);
    if (len + 4 > buf.length) {
      const grown = new Float32Array(buf.length * 2);
      grown.set(buf);
      buf = this.bufs[key] = grown;
    }
    buf[len] = x;
    buf[len + 1] = y;
    buf[len + 2] = w;
    buf[len + 3] = h;
    this.lens[key] = len + 4;
    this.total++;
  }

  /** Fills every rect with its key's style, one fillStyle change per key, and empties the batch. */
  flush(ctx: CanvasRenderingContext2D, styleOf: (key: number) => string | CanvasPattern | CanvasGradient): void {
    for (let u = 0; u < this.used.length; u++) {
      const key = this.used[u]!;
      const buf = this.bufs[key]!;
      const len = this.lens[key]!;
      ctx.fillStyle = styleOf(key);
      for (let i = 0; i < len; i += 4) ctx.fillRect(buf[i]!, buf[i + 1]!, buf[i + 2]!, buf[i + 3]!);
      this.lens[key] = 0;
    }
    this.used.length = 0;
    this.total = 0;
  }

  /** Strokes every rect's outline (inset by half the line width) and empties the batch. */
  stroke(ctx: CanvasRenderingContext2D, styleOf: (key: number) => string, lineWidth: number): void {
    ctx.lineWidth = lineWidth;
    const h = lineWidth / 2;
    for (let u = 0; u < this.used.length; u++) {
      const key = this.used[u]!;
      const buf = this.bufs[key]!;
      const len = this.lens[key]!;
      ctx.strokeStyle = styleOf(key);
      ctx.beginPath();
      for (let i = 0; i < len; i += 4) ctx.rect(buf[i]! + h, buf[i + 1]! + h, Math.max(0, buf[i + 2]! - lineWidth), Math.max(0, buf[i + 3]! - lineWidth));
      ctx.stroke();
      this.lens[key] = 0;
    }
    this.used.length = 0;
    this.total = 0;
  }

  clear(): void {
    for (const key of this.used) this.lens[key] = 0;
    this.used.length = 0;
    this.total = 0;
  }
}
