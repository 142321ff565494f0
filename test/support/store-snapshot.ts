/**
 * What a session's store holds, as comparable text: zones per thread and depth (start, end,
 * source location by its texts, text/name/value/colour), thread names, frames, plots (samples
 * and PlotConfig), messages and app info; optionally only what a range export must keep (zones
 * that intersect [t0, t1], marks, samples and messages in it). Ids are not compared (a
 * re-encoded stream interns them anew), only what they resolve to.
 */
import { frameSetName, plotsByName } from '../../server/query/series-query.js';
import type { SessionStore } from '../../server/store/session-store.js';

export interface StoreSnapshot {
  /** "tid name" per thread with something in the snapshot */
  threads: string[];
  /** "tid/depth" -> one line per zone */
  zones: Map<string, string[]>;
  frames: string[];
  plots: string[];
  messages: string[];
  appInfo: string[];
  zoneCount: number;
}

export function storeSnapshot(store: SessionStore, t0 = -Infinity, t1 = Infinity): StoreSnapshot {
  const strings = store.names.strings;
  const s = store.srclocs;
  const srcKey = (i: number): string => {
    const fn = s.functionName(i, strings);
    return `${s.name[i] ?? ''}|${fn}|${s.fileName(i, strings)}|${s.line[i]}|${s.color[i]}`;
  };
  const zones = new Map<string, string[]>();
  const threadIds = new Set<number>();
  let zoneCount = 0;
  for (const t of store.threadList()) {
    t.depths.forEach((cols, d) => {
      const rows: string[] = [];
      for (let r = cols.firstRow; r < cols.count; r++) {
        const seg = cols.segmentOf(r);
        if (!seg) continue;
        const slot = r & 16383;
        const start = seg.startAt(slot);
        const end = seg.endAt(slot);
        if (end < t0 || start > t1) continue;
        const x = seg.extraAt(slot);
        const extra = x ? `${JSON.stringify(x.text)}|${JSON.stringify(x.name)}|${x.color}|${x.valueHi < 0 ? '-' : `${x.valueHi}:${x.valueLo}`}` : '';
        rows.push(`${start},${end},${srcKey(seg.srcloc[slot]!)},${extra}`);
      }
      if (rows.length > 0) {
        zones.set(`${t.id}/${d}`, rows);
        threadIds.add(t.id);
        zoneCount += rows.length;
      }
    });
    for (let d = 0; d < t.openCount; d++) if (t.openStart[d]! <= t1) throw new Error('storeSnapshot: open zones are not compared');
  }
  const messages = store.messages.inRange(t0, t1, (ptr) => strings.get(ptr)).map((m) => {
    threadIds.add(m.thread);
    return `${m.timeNs}|${m.thread}|${m.color}|${m.metadata}|${JSON.stringify(m.text)}`;
  });
  const frames: string[] = [];
  for (const set of store.frames.values()) {
    const items: string[] = [];
    if (set.continuous) set.marks.forEachInRange(t0, t1, (ns) => items.push(String(ns)));
    else set.spans.forEachInRange(-Infinity, t1, (a, b) => (b >= t0 ? items.push(`${a}-${b}`) : undefined));
    if (items.length > 0) frames.push(`${JSON.stringify(frameSetName(store, set))} ${set.continuous ? 'continuous' : 'start/end'}: ${items.join(' ')}`);
  }
  frames.sort();
  const plots: string[] = [];
  for (const p of plotsByName(store)) {
    const samples: [number, number][] = [];
    for (const track of p.tracks) track.series.forEachInRange(t0, t1, (ns, v) => samples.push([ns, v]));
    samples.sort((a, b) => a[0] - b[0]);
    if (samples.length > 0) plots.push(`${JSON.stringify(p.name)} format ${p.format} step ${p.step} fill ${p.fill} color ${p.color}: ${samples.map((x) => `${x[0]}=${x[1]}`).join(' ')}`);
  }
  plots.sort();
  const threads = [...threadIds].sort((a, b) => a - b).map((id) => `${id} ${JSON.stringify(store.names.threads.get(id) ?? null)}`);
  return { threads, zones, frames, plots, messages, appInfo: [...store.appInfoTexts], zoneCount };
}

/** Throws an Error naming the first difference (vitest's diff of 200 000 lines is no help). */
export function expectSameSnapshot(actual: StoreSnapshot, expected: StoreSnapshot): void {
  const problems: string[] = [];
  const compare = (what: string, a: readonly string[], e: readonly string[]) => {
    const n = Math.max(a.length, e.length);
    for (let i = 0; i < n; i++) {
      if (a[i] !== e[i]) {
        problems.push(`${what}: ${a.length} vs ${e.length} rows; first difference at row ${i}:\n  actual   ${a[i]?.slice(0, 300)}\n  expected ${e[i]?.slice(0, 300)}`);
        return;
      }
    }
  };
  compare('threads', actual.threads, expected.threads);
  compare('zone tracks', [...actual.zones.keys()].sort(), [...expected.zones.keys()].sort());
  for (const [key, rows] of expected.zones) compare(`zones ${key}`, actual.zones.get(key) ?? [], rows);
  compare('frames', actual.frames, expected.frames);
  compare('plots', actual.plots, expected.plots);
  compare('messages', actual.messages, expected.messages);
  compare('app info', actual.appInfo, expected.appInfo);
  if (problems.length > 0) throw new Error(`the stores differ:\n${problems.join('\n')}`);
}
