import type { SourceLocationInfo } from '../protocol/view/types.js';

/** 32-bit FNV-1a of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A stable, readable colour (0xRRGGBB) for a name without one: hue from its hash. */
export function colorFromName(name: string): number {
  const h = hashString(name);
  const hue = (h % 360) / 360;
  const sat = 0.45 + ((h >>> 9) % 20) / 100;
  const light = 0.55 + ((h >>> 17) % 12) / 100;
  return hslToRgb(hue, sat, light);
}

function hslToRgb(h: number, s: number, l: number): number {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const f = (t: number) => {
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  const r = Math.round(f(h + 1 / 3) * 255);
  const g = Math.round(f(h) * 255);
  const b = Math.round(f(h - 1 / 3) * 255);
  return (r << 16) | (g << 8) | b;
}

/** A source location's colour: its own (Tracy's 0xRRGGBB), else one from its name. */
export function srclocRgb(info: SourceLocationInfo | undefined, fallbackName = ''): number {
  if (info && info.color !== 0) return info.color & 0xffffff;
  return colorFromName(info?.name ?? fallbackName);
}

export function rgbCss(rgb: number): string {
  return `#${(rgb & 0xffffff).toString(16).padStart(6, '0')}`;
}

/** Relative luminance in 0..1 (to pick dark or light label text). */
export function luminance(rgb: number): number {
  const r = (rgb >>> 16) & 0xff;
  const g = (rgb >>> 8) & 0xff;
  const b = rgb & 0xff;
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** Label colour on a zone of colour `rgb`. */
export function textOn(rgb: number): string {
  return luminance(rgb) > 0.55 ? '#111' : '#fff';
}
