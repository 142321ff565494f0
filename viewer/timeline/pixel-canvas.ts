/**
 * A CPU framebuffer for the timeline's base layer: backgrounds, grid, zone rows and message
 * ticks are written as 32-bit pixels and put on the canvas with one putImageData. A software
 * canvas rasterizes each fillRect for about a microsecond; a view of a dense trace needs tens of
 * thousands of them, while writing the same pixels here costs about a millisecond per megapixel
 * whatever the number of items. Labels, outlines and translucent overlays are drawn with the
 * canvas API on top of it.
 *
 * Pixels are ImageData's RGBA bytes read as little-endian uint32: 0xAABBGGRR.
 */
export class PixelCanvas {
  private img: ImageData | null = null;
  buf = new Uint32Array(0);
  /** size in device px */
  w = 0;
  h = 0;

  /**
   * Sizes the buffer to w x h (reallocating only on a size change). The pixels keep the last
   * frame's values: the caller paints every pixel it puts.
   */
  begin(ctx: CanvasRenderingContext2D, w: number, h: number): void {
    if (!this.img || this.img.width !== w || this.img.height !== h) {
      this.img = ctx.createImageData(w, h);
      this.buf = new Uint32Array(this.img.data.buffer);
      this.w = w;
      this.h = h;
    }
  }

  /** Fills [x0, x1) x [y0, y1) (device px, rounded, clipped). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: number): void {
    const w = this.w;
    const a = Math.max(0, Math.round(x0));
    const b = Math.min(w, Math.round(x1));
    const top = Math.max(0, Math.round(y0));
    const bottom = Math.min(this.h, Math.round(y1));
    if (b <= a) return;
    const buf = this.buf;
    for (let y = top; y < bottom; y++) {
      const row = y * w;
      if (b - a < 8) for (let x = a; x < b; x++) buf[row + x] = color;
      else buf.fill(color, row + a, row + b);
    }
  }

  /** Puts the buffer on the canvas (ignores transform and clip). */
  blit(ctx: CanvasRenderingContext2D): void {
    if (this.img) ctx.putImageData(this.img, 0, 0);
  }
}

/** 0xRRGGBB -> opaque 0xAABBGGRR pixel. */
export function pixelOf(rgb: number): number {
  return (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >>> 16) & 0xff)) >>> 0;
}

/** "#rrggbb" -> opaque pixel. */
export function pixelOfCss(css: string): number {
  return pixelOf(parseInt(css.slice(1), 16));
}
