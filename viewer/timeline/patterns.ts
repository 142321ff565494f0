/**
 * Hatch patterns for canvas overlays: time ranges whose data was evicted. Made once per device
 * pixel ratio from a small tile. (Merged runs of zones are striped in the framebuffer, see
 * zone-painter.ts.)
 */
export interface Hatches {
  evicted: CanvasPattern;
}

function hatch(ctx: CanvasRenderingContext2D, dpr: number, bg: string, fg: string, sizeCss: number, lineCss: number): CanvasPattern {
  const s = Math.max(2, Math.round(sizeCss * dpr));
  const tile = document.createElement('canvas');
  tile.width = s;
  tile.height = s;
  const t = tile.getContext('2d')!;
  t.fillStyle = bg;
  t.fillRect(0, 0, s, s);
  t.strokeStyle = fg;
  t.lineWidth = lineCss * dpr;
  t.beginPath();
  // three segments of the same 45 degree line family, so the tile repeats seamlessly
  t.moveTo(-s / 2, s / 2);
  t.lineTo(s / 2, -s / 2);
  t.moveTo(0, s);
  t.lineTo(s, 0);
  t.moveTo(s / 2, s * 1.5);
  t.lineTo(s * 1.5, s / 2);
  t.stroke();
  const p = ctx.createPattern(tile, 'repeat');
  if (!p) throw new Error('canvas pattern unavailable');
  return p;
}

export function makeHatches(ctx: CanvasRenderingContext2D, dpr: number): Hatches {
  return {
    evicted: hatch(ctx, dpr, 'rgba(120, 40, 40, 0.25)', 'rgba(230, 90, 90, 0.35)', 10, 1),
  };
}
