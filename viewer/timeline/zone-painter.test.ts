import { describe, expect, it } from 'vitest';
import type { SourceLocationInfo, ThreadItems } from '../../protocol/view/types.js';
import type { DrawView } from './draw-view.js';
import { ROW_H, layoutTracks, rowTop } from './layout.js';
import { Palette } from './palette.js';
import { PixelCanvas, pixelOf, pixelOfCss } from './pixel-canvas.js';
import { TextMeasure } from './text-measure.js';
import { ZonePainter, type ZoneSource } from './zone-painter.js';

/** Just enough of a 2D context for the framebuffer and text measuring (node has no canvas). */
const fakeCtx = {
  createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
  measureText: (s: string) => ({ width: s.length * 6 }),
  font: '',
} as unknown as CanvasRenderingContext2D;

const srcloc = (i: number, color: number): SourceLocationInfo => ({ srcloc: i, name: `z${i}`, function: '', file: '', line: 0, color });
const RED = 0xff0000;
const GREEN = 0x00ff00;
const BG = pixelOfCss('#101010');

function setup(th: ThreadItems, t1 = 100) {
  const px = new PixelCanvas();
  px.begin(fakeCtx, 100, 60);
  px.buf.fill(BG);
  const palette = new Palette();
  palette.sync([srcloc(0, RED), srcloc(1, GREEN), srcloc(2, RED)]);
  const painter = new ZonePainter(palette, new TextMeasure(fakeCtx));
  const layout = layoutTracks([{ thread: th.thread, rows: 2 }], new Set(), 0);
  const track = layout.tracks[1]!;
  const v: DrawView = { ctx: fakeCtx, dpr: 1, wDev: 100, hDev: 60, t0: 0, t1, scale: 100 / t1, yOrigin: -track.top, clipTop: 0, clipBottom: 60, lastNs: 95, font: '11px sans-serif' };
  const src: ZoneSource = { srclocName: (s) => `z${s}`, highlight: -2, selected: null };
  painter.begin(px);
  painter.addThread(v, px, th, track, src);
  const y = Math.round(rowTop(track, 0) - track.top + ROW_H / 2);
  const at = (x: number, yy = y) => px.buf[yy * px.w + x];
  return { painter, at, y };
}

const f64 = (a: number[]) => Float64Array.from(a);
const i32 = (a: number[]) => Int32Array.from(a);

describe('ZonePainter rows', () => {
  const th: ThreadItems = {
    thread: 1,
    name: 't',
    depths: [
      {
        depth: 0,
        // a wide red zone; two tiny zones of different colours that touch (a mixed run);
        // a wide merged item of 5 zones
        startNs: f64([10, 40, 41.2, 60]),
        endNs: f64([30, 41, 41.8, 90]),
        srcloc: i32([0, 1, 0, -1]),
        count: i32([1, 1, 1, 5]),
        row: i32([0, 1, 2, -1]),
      },
    ],
    open: [],
    evictedBeforeNs: 0,
  };

  it('fills zones in their source location colour over the whole row, and leaves gaps alone', () => {
    const { at, y } = setup(th);
    expect(at(20)).toBe(pixelOf(RED));
    expect(at(20, y - 7)).toBe(pixelOf(RED));
    expect(at(35)).toBe(BG);
    expect(at(95)).toBe(BG);
  });

  it('draws merged items and runs of touching small zones of mixed colours as grey stripes', () => {
    const { at } = setup(th);
    const grey = new Set([pixelOfCss('#5b616b'), pixelOfCss('#7a818c')]);
    for (let x = 61; x < 89; x++) expect(grey.has(at(x)!)).toBe(true);
    expect(grey.has(at(40)!)).toBe(true);
    expect(grey.has(at(41)!)).toBe(true);
  });

  it('keeps the colour of a run of small zones that share it', () => {
    const same: ThreadItems = { ...th, depths: [{ depth: 0, startNs: f64([40, 41, 42]), endNs: f64([40.5, 41.5, 42.5]), srcloc: i32([0, 2, 0]), count: i32([1, 1, 1]), row: i32([0, 1, 2]) }] };
    const { at } = setup(same);
    // srclocs 0 and 2 are both red: one red run
    for (let x = 40; x < 42; x++) expect(at(x)).toBe(pixelOf(RED));
  });

  it('counts the items met and the latest end drawn', () => {
    const { painter } = setup(th);
    expect(painter.items).toBe(4);
    expect(painter.maxEndNs).toBe(90);
  });

  it('skips items outside the view', () => {
    const { painter, at } = setup(th, 25);
    // view [0, 25]: only the first zone, drawn to the right edge
    expect(painter.items).toBe(1);
    expect(at(99)).toBe(pixelOf(RED));
  });
});

describe('PixelCanvas', () => {
  it('clips rects to the buffer', () => {
    const px = new PixelCanvas();
    px.begin(fakeCtx, 10, 5);
    px.buf.fill(0);
    px.fillRect(-5, -5, 3, 2, 7);
    px.fillRect(8, 4, 20, 20, 9);
    expect(px.buf[0]).toBe(7);
    expect(px.buf[1 * 10 + 2]).toBe(7);
    expect(px.buf[2 * 10 + 0]).toBe(0);
    expect(px.buf[4 * 10 + 9]).toBe(9);
    expect(px.buf.filter((p) => p !== 0).length).toBe(6 + 2);
  });

  it('turns 0xRRGGBB into little-endian RGBA pixels', () => {
    const bytes = new Uint8Array(Uint32Array.of(pixelOf(0x123456)).buffer);
    expect([...bytes]).toEqual([0x12, 0x34, 0x56, 0xff]);
  });
});

describe('TextMeasure', () => {
  const m = new TextMeasure(fakeCtx);
  m.use('11px sans-serif');

  it('keeps a label that fits and cuts one that does not with an ellipsis', () => {
    expect(m.fit('Update', 36)).toBe('Update');
    expect(m.fit('Update', 30)).toBe('Upda\u2026');
    expect(m.fit('Update', 6)).toBeNull();
    expect(m.fit('Update', 18, 2)).toBe('Up\u2026');
    expect(m.fit('Update', 17, 2)).toBeNull();
  });
});
