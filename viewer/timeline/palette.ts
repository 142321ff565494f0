import type { SourceLocationInfo } from '../../protocol/view/types.js';
import { rgbCss, srclocRgb, textOn } from '../colors.js';
import { pixelOf } from './pixel-canvas.js';

/** Colour slot of a source location not loaded yet (drawn neutral until its colour is known). */
export const UNKNOWN_SLOT = 0;
const UNKNOWN_RGB = 0x7d8593;

/**
 * Source location -> colour slot, and per slot its CSS colour, label colour and pixel. Source locations
 * with the same colour share a slot (GoTracy-style per-call locations are thousands of one
 * name), so the zone painter's batches are per colour, not per location. Rebuilt when the app's
 * srclocs array is replaced.
 */
export class Palette {
  /** slot per source location index */
  slots = new Int32Array(0);
  readonly css: string[] = [rgbCss(UNKNOWN_RGB)];
  readonly rgb: number[] = [UNKNOWN_RGB];
  readonly text: string[] = [textOn(UNKNOWN_RGB)];
  /** opaque framebuffer pixel (see pixel-canvas.ts) */
  readonly pixel: number[] = [pixelOf(UNKNOWN_RGB)];
  private readonly byRgb = new Map<number, number>([[UNKNOWN_RGB, UNKNOWN_SLOT]]);
  private source: readonly SourceLocationInfo[] | null = null;

  /** Follows `srclocs` (cheap when it is the same array as last time). */
  sync(srclocs: readonly SourceLocationInfo[]): void {
    if (srclocs === this.source) return;
    this.source = srclocs;
    const slots = new Int32Array(srclocs.length);
    for (let i = 0; i < srclocs.length; i++) slots[i] = this.slotFor(srclocRgb(srclocs[i]));
    this.slots = slots;
  }

  /** The slot of source location `srcloc` (UNKNOWN_SLOT when not loaded). */
  slotOf(srcloc: number): number {
    return srcloc >= 0 && srcloc < this.slots.length ? this.slots[srcloc]! : UNKNOWN_SLOT;
  }

  private slotFor(rgb: number): number {
    let slot = this.byRgb.get(rgb);
    if (slot === undefined) {
      slot = this.css.length;
      this.css.push(rgbCss(rgb));
      this.rgb.push(rgb);
      this.text.push(textOn(rgb));
      this.pixel.push(pixelOf(rgb));
      this.byRgb.set(rgb, slot);
    }
    return slot;
  }
}
