/**
 * Test support for `zonescope inspect`: locating the shared Tracy fixtures, collecting output,
 * and parsing both CSV dialects (ours is RFC 4180; csvexport's is unquoted, so a zone's
 * "text\nvalue" and multi-line message texts continue on following lines).
 * Only tests import this file (test/ is not part of the build). Reusable by other tests of
 * the real recordings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tracyFixturePath } from './fixture-paths.js';
import type { OutputStream } from '../../server/inspect/buffered-output.js';

/** True when the real recordings can be read (the repository's copies: test/support/fixture-paths.ts). */
export const FIXTURES_PRESENT = existsSync(tracyFixturePath('small.client.bin'));
export const FIXTURE_NAMES = ['small', 'medium', 'stress', 'small-default', 'small-ondemand'] as const;

/** The path of a Tracy fixture file (test/support/fixture-paths.ts says which copy). */
export function fixture(name: string): string {
  return tracyFixturePath(name);
}

/** An OutputStream that keeps everything written to it. */
export class CollectingStream implements OutputStream {
  readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  once(_event: 'drain', _listener: () => void): this {
    return this;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** Parses RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field: string;
    if (text.charCodeAt(i) === 0x22) {
      // Quoted: up to the closing quote ("" is a quote).
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw new Error(`unterminated quoted field at ${i}`);
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          value += '"';
          from = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      field = value;
    } else {
      let end = i;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 0x2c || c === 0x0a || c === 0x0d) break;
        end++;
      }
      field = text.slice(i, end);
      i = end;
    }
    row.push(field);
    if (text.charCodeAt(i) === 0x0d) i++;
    const c = text.charCodeAt(i);
    i++;
    if (c !== 0x2c) {
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

export interface CsvexportZone {
  name: string;
  file: string;
  line: number;
  startNs: number;
  durationNs: number;
  thread: number;
  value: string;
}

const UNWRAPPED_ROW = /^([^,]*),([^,]*),(\d+),(\d+),(\d+),(\d+),(.*)$/;
const PLOT_ROW = /^(.*),,,(-?\d+),,,(.*)$/;

/**
 * Reads `csvexport -u` (or `-u -p`) output: a line that does not start a zone row continues
 * the previous row's value (csvexport writes "text\nN [0xN]" unquoted). Plot rows of `-u -p`
 * (`name,,,time,,,value`) are skipped.
 */
export function parseCsvexportZones(text: string): CsvexportZone[] {
  const rows: CsvexportZone[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && i === lines.length - 1) break;
    const m = UNWRAPPED_ROW.exec(line);
    if (m !== null) {
      rows.push({ name: m[1]!, file: m[2]!, line: Number(m[3]), startNs: Number(m[4]), durationNs: Number(m[5]), thread: Number(m[6]), value: m[7]! });
    } else if (PLOT_ROW.test(line)) {
      continue;
    } else {
      const last = rows[rows.length - 1];
      if (last === undefined) throw new Error(`csvexport line ${i + 1} continues nothing: ${line}`);
      last.value += `\n${line}`;
    }
  }
  return rows;
}

/** Plot rows of `csvexport -u -p` without Tracy's internal "Frame" plots (memory, CPU). */
export function parseCsvexportPlots(text: string): { name: string; timeNs: number; value: number }[] {
  const out: { name: string; timeNs: number; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = PLOT_ROW.exec(line);
    if (m !== null && m[1] !== 'Frame') out.push({ name: m[1]!, timeNs: Number(m[2]), value: Number(m[3]) });
  }
  return out;
}

/** `csvexport -m`: "MessageName,total_ns"; a multi-line text continues until a line ends in ",N". */
export function parseCsvexportMessages(text: string): { text: string; timeNs: number }[] {
  const out: { text: string; timeNs: number }[] = [];
  const lines = text.split('\n');
  if (lines[0] !== 'MessageName,total_ns') return out; // "There are currently no messages!"
  let pending: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && i === lines.length - 1) break;
    const m = /^(.*),(\d+)$/.exec(line);
    if (m === null) {
      pending = pending === null ? line : `${pending}\n${line}`;
      continue;
    }
    out.push({ text: pending === null ? m[1]! : `${pending}\n${m[1]!}`, timeNs: Number(m[2]) });
    pending = null;
  }
  return out;
}

/** `csvexport` (no flags): one row per source location. */
export function parseCsvexportStats(text: string): { name: string; file: string; line: number; totalNs: number; count: number; minNs: number; maxNs: number }[] {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const c = l.split(',');
      return { name: c[0]!, file: c[1]!, line: Number(c[2]), totalNs: Number(c[3]), count: Number(c[5]), minNs: Number(c[7]), maxNs: Number(c[8]) };
    });
}

/** The keys of `NAME.truth.json` (the fixture app's own ground truth) that tests read. */
export interface FixtureTruth {
  zones_total: number;
  zones_by_name: Record<string, number>;
  gotracy_per_call_srclocs: number;
  zones_open_at_exit: number;
  zone_name_overrides: { count: number };
  zone_text_count: number;
  zone_value_count: number;
  zone_color_count: number;
  frames: Record<string, number>;
  plots: Record<string, number>;
  messages_total: number;
  lock_acquisitions: Record<string, number>;
  memory: { alloc_unnamed: number; free_unnamed: number; bytes_allocated_total: number; alloc_named: Record<string, number>; free_named: Record<string, number> };
  threads: { name: string; zones: number }[];
}

/** Reads `NAME.truth.json`. */
export function readTruth(name: string): FixtureTruth {
  return JSON.parse(readFileSync(fixture(`${name}.truth.json`), 'utf8')) as FixtureTruth;
}
