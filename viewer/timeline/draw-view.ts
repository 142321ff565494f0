/**
 * One draw's view, in device pixels: the painters share it. Times map to x as
 * `(ns - t0) * scale`; content y (see layout.ts) maps to device y as `yOrigin + y * dpr`.
 */
export interface DrawView {
  ctx: CanvasRenderingContext2D;
  dpr: number;
  /** canvas backing store size, device px */
  wDev: number;
  hDev: number;
  t0: number;
  t1: number;
  /** device px per ns */
  scale: number;
  /** device y of content y 0 (the first track's top, after vertical scrolling) */
  yOrigin: number;
  /** device y range where tracks are visible (below the ruler) */
  clipTop: number;
  clipBottom: number;
  /** the session's latest time, ns (open zones run to it) */
  lastNs: number;
  /** label font, device px */
  font: string;
}

/** Label font size, CSS px. */
export const FONT_PX = 11;
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', sans-serif";
