import type { CaptureStreamBuilder } from '../../protocol/capture/stream-builder.js';
import type { ChromeImportModel, ImportThread } from './chrome-import-model.js';

/** The counters writeZones adds to (ChromeImportStats' zone fields). */
export interface ZoneStats {
  zones: number;
  unmatchedEnds: number;
  unclosedBegins: number;
  clampedZones: number;
}

/** Zones on the thread (our exports' start/end frames on their "Frames" track are not zones). */
export function hasZones(t: ImportThread, ours: boolean): boolean {
  return t.xStart.length > 0 || t.beNs.length > (ours ? t.frameEvents.length : 0);
}

/**
 * Tracy thread ids for the (pid, tid) pairs, in order of first appearance: the tid itself when
 * it is a u32 no earlier pair took, else the next id above every tid kept.
 */
export function threadIds(threads: ImportThread[]): Map<ImportThread, number> {
  const ids = new Map<ImportThread, number>();
  const used = new Set<number>();
  const later: ImportThread[] = [];
  for (const t of threads) {
    if (t.tid >= 0 && t.tid <= 0xffffffff && !used.has(t.tid)) {
      ids.set(t, t.tid);
      used.add(t.tid);
    } else later.push(t);
  }
  let next = 0;
  for (const id of used) if (id >= next) next = id + 1;
  for (const t of later) {
    while (used.has(next) || next > 0xffffffff) next = next > 0xffffffff ? 0 : next + 1;
    ids.set(t, next);
    used.add(next);
  }
  return ids;
}

/** Indices of `ns` in ascending order, ties in index order (a stable sort); identity when already sorted. */
export function sortedOrder(ns: Float64Array): Int32Array | Uint32Array {
  const n = ns.length;
  const order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && ns[i]! < ns[i - 1]!) sorted = false;
  }
  if (!sorted) {
    const arr = Array.from(order);
    arr.sort((a, b) => ns[a]! - ns[b]! || a - b);
    order.set(arr);
  }
  return order;
}

/**
 * Writes one thread's zones to the builder in nesting order (see the file comment). `skip` holds
 * B/E list indices that are not zones (our exports' start/end frames).
 */
export function writeZones(
  b: CaptureStreamBuilder,
  model: ChromeImportModel,
  t: ImportThread,
  tid: number,
  rebase: number,
  ours: boolean,
  skip: Set<number> | null,
  stats: ZoneStats,
): void {
  const beNs = t.beNs.view();
  const beZone = t.beZone.view();
  const order = sortedOrder(beNs);
  // match B/E: an E ends the innermost open B; `endOf[i]` = the matching E's index, -1 never closed
  const endOf = new Int32Array(beNs.length).fill(-1);
  const unmatched = new Uint8Array(beNs.length);
  const stack: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (skip !== null && skip.has(i)) continue;
    if (beZone[i]! >= 0) stack.push(i);
    else {
      const open = stack.pop();
      if (open === undefined) {
        unmatched[i] = 1;
        stats.unmatchedEnds++;
      } else endOf[open] = i;
    }
  }
  stats.unclosedBegins += stack.length;

  const srclocs = new Map<number, number>();
  const begin = (zone: number, ns: number) => {
    const locIndex = model.zoneLoc.data[zone]!;
    let srcloc = srclocs.get(locIndex);
    if (srcloc === undefined) {
      const loc = model.locs[locIndex]!;
      srcloc = b.srcloc('', loc.name, loc.file, loc.line, 0);
      srclocs.set(locIndex, srcloc);
    }
    b.zoneBegin(tid, ns - rebase, srcloc);
    const args = model.zoneArgs.get(zone);
    if (args !== undefined) writeZoneArgs(b, tid, args, ours);
    stats.zones++;
  };

  if (t.xStart.length === 0) {
    // B/E only: the time-sorted sequence is already nested; leave out unclosed B and unmatched E
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (skip !== null && skip.has(i)) continue;
      if (beZone[i]! >= 0) {
        if (endOf[i]! >= 0) begin(beZone[i]!, beNs[i]!);
      } else if (unmatched[i] === 0) b.zoneEnd(tid, beNs[i]! - rebase);
    }
    return;
  }

  // X events (and matched B/E): sort by start, longer first, file order; nest with a stack
  const n0 = t.xStart.length;
  let n = n0;
  for (let i = 0; i < beNs.length; i++) if (beZone[i]! >= 0 && endOf[i]! >= 0) n++;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const zone = new Int32Array(n);
  const seq = new Int32Array(n);
  start.set(t.xStart.view());
  end.set(t.xEnd.view());
  zone.set(t.xZone.view());
  seq.set(t.xSeq.view());
  const beSeq = t.beSeq.view();
  let m = n0;
  for (let i = 0; i < beNs.length; i++) {
    const e = endOf[i]!;
    if (beZone[i]! < 0 || e < 0) continue;
    start[m] = beNs[i]!;
    end[m] = beNs[e]!;
    zone[m] = beZone[i]!;
    seq[m] = beSeq[i]!;
    m++;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, c) => start[a]! - start[c]! || end[c]! - end[a]! || seq[a]! - seq[c]!);
  const openEnd: number[] = [];
  for (const i of idx) {
    const s = start[i]!;
    let e = end[i]!;
    // close what ends before this starts (a zero-length zone at a parent's end stays inside it)
    while (openEnd.length > 0) {
      const top = openEnd[openEnd.length - 1]!;
      if (s < top || (s === top && e === s)) break;
      b.zoneEnd(tid, top - rebase);
      openEnd.pop();
    }
    const parentEnd = openEnd[openEnd.length - 1];
    if (parentEnd !== undefined && e > parentEnd) {
      e = parentEnd;
      stats.clampedZones++;
    }
    begin(zone[i]!, s);
    openEnd.push(e);
  }
  while (openEnd.length > 0) b.zoneEnd(tid, openEnd.pop()! - rebase);
}

/** Zone args: our exports' text/value/color restored; anything else a `key: value` text line. */
function writeZoneArgs(b: CaptureStreamBuilder, tid: number, args: unknown, ours: boolean): void {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(args as Record<string, unknown>)) {
    if (ours && key === 'text' && typeof value === 'string') b.zoneText(tid, value);
    else if (ours && key === 'value' && typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      if (value < 2 ** 53) b.zoneValue(tid, value);
      else b.zoneValueParts(tid, value % 2 ** 32, Math.min(0xffffffff, Math.floor(value / 2 ** 32)));
    } else if (ours && key === 'color' && typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value)) b.zoneColor(tid, parseInt(value.slice(1), 16));
    else lines.push(`${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  if (lines.length > 0) b.zoneText(tid, lines.join('\n'));
}

