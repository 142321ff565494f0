/**
 * `decode`: the decoder alone (TracyStreamReader with a visitor that only counts), on the real
 * stress and medium recordings and on the synthetic 10 M-zone stream; beside it LZ4 alone
 * (FrameInflater with a sink that does nothing: the reader's path, the WebAssembly decoder)
 * and, for comparison, the JS decompressBlock with the same window scheme.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decompressBlock,
  FrameInflater,
  LZ4_HISTORY_SIZE,
  NullVisitor,
  ON_DEMAND_PAYLOAD_SIZE,
  QueueType,
  TARGET_FRAME_SIZE,
  TracyStreamReader,
  WELCOME_SIZE,
  WelcomeFlag,
} from '../protocol/tracy/index.js';
import { checkTarget, fmtMBs, fmtRate, timeRunsStats } from './bench-util.js';
import { checkSyntheticDecode, syntheticStream } from './synthetic-stream.js';

/**
 * Tracy's own `capture` taking in the stress replay on this kind of machine, connect until
 * it closed the socket (../shared/fixtures/tracy/capture-benchmark.json, stress_3_runs_O2:
 * 12,052,651 items, 6,010,000 zones, 84.9 MB decompressed in 0.543 s).
 */
export const TRACY_CAPTURE = { itemsPerS: 22.2e6, zonesPerS: 11.07e6, decompressedMBs: 156.4 };

/** Counts zones the way a consumer would see them, so the visitor calls are not optimised away. */
export class CountingVisitor extends NullVisitor {
  zones = 0;
  lastNs = 0;
  override zoneBegin(_thread: number, timeNs: number, _srcloc: number): void {
    this.zones++;
    this.lastNs = timeNs;
  }
  override zoneEnd(_thread: number, timeNs: number): void {
    this.lastNs = timeNs;
  }
}

export interface DecodeFigures {
  name: string;
  runs: number;
  compressedBytes: number;
  items: number;
  zones: number;
  decompressedBytes: number;
  /** medians of the runs; lz4 = FrameInflater (WebAssembly decoder), lz4Js = decompressBlock */
  lz4Ms: number;
  lz4JsMs: number;
  fullMs: number;
  /** fastest runs */
  lz4MinMs: number;
  lz4JsMinMs: number;
  fullMinMs: number;
  /** the first warm-up pass: the JIT not yet settled */
  fullColdMs: number;
  /** share of zone begin/end items in the 16-bit compact form (ZoneBegin16, ZoneEnd16) */
  zone16Share: number;
}

/** LZ4 only, the reader's path: FrameInflater (WebAssembly decoder) with a sink that does nothing. */
function lz4Only(stream: Uint8Array): number {
  const inflater = new FrameInflater({ welcomeRead() {}, frameRead() {} });
  inflater.push(stream);
  if (inflater.lz4Decoder !== 'wasm') throw new Error(`LZ4 alone: FrameInflater uses the ${inflater.lz4Decoder} decoder (${FrameInflater.lz4Fallback})`);
  inflater.release();
  return inflater.decompressedBytes;
}

/** LZ4 only with the JS decoder: split frames and decompress with the same window scheme, no item walk. */
function lz4OnlyJs(stream: Uint8Array): number {
  const window = new Uint8Array(LZ4_HISTORY_SIZE + 4 * TARGET_FRAME_SIZE);
  const flags = stream[1 + 64]!;
  let p = 1 + WELCOME_SIZE + (flags & WelcomeFlag.OnDemand ? ON_DEMAND_PAYLOAD_SIZE : 0);
  let write = 0;
  let history = 0;
  let total = 0;
  while (p + 4 <= stream.length) {
    const size = (stream[p]! | (stream[p + 1]! << 8) | (stream[p + 2]! << 16) | (stream[p + 3]! << 24)) >>> 0;
    p += 4;
    if (write + TARGET_FRAME_SIZE > window.length) {
      window.copyWithin(0, write - history, write);
      write = history;
    }
    const end = decompressBlock(stream, p, size, window, write, write + TARGET_FRAME_SIZE, write - history);
    if (end < 0) throw new Error(`bad block at ${p}`);
    total += end - write;
    history = Math.min(LZ4_HISTORY_SIZE, history + end - write);
    write = end;
    p += size;
  }
  return total;
}

/** Figures of the streams decoded so far in this process, by name (the ingest bench shows them). */
export const decodeFiguresByName = new Map<string, DecodeFigures>();

/**
 * Decodes `stream` (repeated `repeat` times per run) with a counting visitor, then walks it
 * with LZ4 alone; medians of `runs` runs after `warmup`. `check` sees every finished decode.
 */
/** Share of zone begins/ends sent in the 16-bit form, from a decoder's histogram. */
function compactShare(h: Float64Array): number {
  const n16 = h[QueueType.ZoneBegin16]! + h[QueueType.ZoneEnd16]! + h[QueueType.ZoneBeginCallstack16]!;
  const n32 = h[QueueType.ZoneBegin32]! + h[QueueType.ZoneEnd32]! + h[QueueType.ZoneBeginCallstack32]!;
  const n64 = h[QueueType.ZoneBegin]! + h[QueueType.ZoneEnd]! + h[QueueType.ZoneBeginCallstack]!;
  const all = n16 + n32 + n64;
  return all > 0 ? n16 / all : 0;
}

export function benchDecodeStream(
  name: string,
  stream: Uint8Array,
  runs: number,
  repeat = 1,
  warmup = 3,
  check?: (reader: TracyStreamReader, visitor: CountingVisitor) => void,
): DecodeFigures {
  let items = 0;
  let zones = 0;
  let decompressed = 0;
  let zone16Share = 0;
  const full = () => {
    for (let k = 0; k < repeat; k++) {
      const visitor = new CountingVisitor();
      const reader = new TracyStreamReader(visitor);
      reader.push(stream);
      items = reader.decoder.items;
      zones = visitor.zones;
      decompressed = reader.decompressedBytes;
      zone16Share = compactShare(reader.decoder.histogram);
      check?.(reader, visitor);
    }
  };
  const fullTimes = timeRunsStats(runs, warmup, full);
  const lz4Times = timeRunsStats(runs, warmup, () => {
    for (let k = 0; k < repeat; k++) lz4Only(stream);
  });
  const lz4JsTimes = timeRunsStats(runs, warmup, () => {
    for (let k = 0; k < repeat; k++) lz4OnlyJs(stream);
  });
  const figures: DecodeFigures = {
    name,
    runs,
    compressedBytes: stream.length * repeat,
    items: items * repeat,
    zones: zones * repeat,
    decompressedBytes: decompressed * repeat,
    lz4Ms: lz4Times.median,
    lz4JsMs: lz4JsTimes.median,
    fullMs: fullTimes.median,
    lz4MinMs: lz4Times.min,
    lz4JsMinMs: lz4JsTimes.min,
    fullMinMs: fullTimes.min,
    fullColdMs: fullTimes.cold,
    zone16Share,
  };
  decodeFiguresByName.set(name, figures);
  return figures;
}

export function printDecodeFigures(f: DecodeFigures): void {
  console.log(
    `decode ${f.name}: ${(f.items / 1e6).toFixed(2)} M items, ${(f.zones / 1e6).toFixed(2)} M zones, ` +
      `${(f.decompressedBytes / 1e6).toFixed(1)} MB decompressed\n` +
      `  compressed ${(f.compressedBytes / 1e6).toFixed(1)} MB (ratio ${(f.decompressedBytes / f.compressedBytes).toFixed(2)}), ` +
      `${(f.zone16Share * 100).toFixed(1)}% of zone items in the 16-bit form; medians of ${f.runs} runs (fastest run in brackets)\n` +
      `  LZ4 alone:   ${f.lz4Ms.toFixed(0).padStart(5)} ms  ${fmtMBs(f.decompressedBytes, f.lz4Ms)} decompressed  [${f.lz4MinMs.toFixed(0)} ms]  (FrameInflater, WebAssembly decoder)\n` +
      `  LZ4 JS:      ${f.lz4JsMs.toFixed(0).padStart(5)} ms  ${fmtMBs(f.decompressedBytes, f.lz4JsMs)} decompressed  [${f.lz4JsMinMs.toFixed(0)} ms]  (decompressBlock, the fallback)\n` +
      `  LZ4 + items: ${f.fullMs.toFixed(0).padStart(5)} ms  ${fmtRate(f.items, f.fullMs)} items, ${fmtRate(f.zones, f.fullMs)} zones, ` +
      `${fmtMBs(f.decompressedBytes, f.fullMs)} decompressed  [${f.fullMinMs.toFixed(0)} ms: ${fmtRate(f.zones, f.fullMinMs)} zones]\n` +
      `  cold first pass (before the JIT settles): ${f.fullColdMs.toFixed(0)} ms  ${fmtRate(f.items, f.fullColdMs)} items, ${fmtRate(f.zones, f.fullColdMs)} zones`,
  );
}

export function loadFixture(dir: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, name)));
}

/** Checks LZ4 + items against Tracy's capture (the anchor is a target: at least as fast). */
export function checkDecodeTargets(f: DecodeFigures): void {
  const perS = (n: number) => (n / f.fullMs) * 1000;
  const items = perS(f.items);
  const zones = perS(f.zones);
  const mbs = perS(f.decompressedBytes) / 1e6;
  const what = `decode ${f.name.split(' (')[0]}`;
  // same precision for the figure and the anchor, so "not met" never prints two equal numbers
  checkTarget(what, 'items/s', `${(items / 1e6).toFixed(2)} M`, `>= ${(TRACY_CAPTURE.itemsPerS / 1e6).toFixed(2)} M (Tracy capture)`, items >= TRACY_CAPTURE.itemsPerS);
  checkTarget(what, 'zones/s', `${(zones / 1e6).toFixed(2)} M`, `>= ${(TRACY_CAPTURE.zonesPerS / 1e6).toFixed(2)} M`, zones >= TRACY_CAPTURE.zonesPerS);
  checkTarget(what, 'decompressed MB/s', mbs.toFixed(1), `>= ${TRACY_CAPTURE.decompressedMBs.toFixed(1)}`, mbs >= TRACY_CAPTURE.decompressedMBs);
}

/** `decode`: the real recordings (when present) and the synthetic 10 M-zone stream. */
export function runDecodeBench(fixtures: string | null): void {
  if (!fixtures) {
    console.log('decode: ../shared/fixtures/tracy is absent, the fixture benchmarks are skipped');
  } else {
    const stress = benchDecodeStream('stress.client.bin (real Tracy client)', loadFixture(fixtures, 'stress.client.bin'), 5);
    printDecodeFigures(stress);
    checkDecodeTargets(stress);
    printDecodeFigures(benchDecodeStream('medium.client.bin x10 (real Tracy client)', loadFixture(fixtures, 'medium.client.bin'), 3, 10, 1));
  }
  const s = syntheticStream();
  const f = benchDecodeStream(s.name, s.stream, 5, 1, 3, (reader, visitor) => checkSyntheticDecode(s, reader, visitor.zones));
  printDecodeFigures(f);
  checkDecodeTargets(f);
}
