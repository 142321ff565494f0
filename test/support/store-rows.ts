/**
 * Test support: what a store holds as comparable rows, by what ids resolve to (a re-imported
 * capture interns its ids anew, and source locations come back with the zone name as their
 * function): zones with the name the statistics show, messages, frames, plot samples (memory
 * usage under the name the Chrome export gives it).
 */
import { frameSetName, memoryPlotName, plotsByName } from '../../server/query/series-query.js';
import type { SessionStore } from '../../server/store/session-store.js';
import { SEGMENT_MASK } from '../../server/store/zone-columns.js';

export interface ZoneRow {
  thread: number;
  depth: number;
  startNs: number;
  endNs: number;
  name: string;
  file: string;
  line: number;
  text: string | null;
  value: string | null;
  color: number;
}

/** Every stored zone, with the name the statistics show (ZoneName override, else the source location's). */
export function zonesOf(store: SessionStore): ZoneRow[] {
  const strings = store.names.strings;
  const out: ZoneRow[] = [];
  for (const t of store.threadList()) {
    t.depths.forEach((cols, depth) => {
      for (let r = cols.firstRow; r < cols.count; r++) {
        const seg = cols.segmentOf(r)!;
        const slot = r & SEGMENT_MASK;
        const src = seg.srcloc[slot]!;
        const x = seg.extraAt(slot);
        out.push({
          thread: t.id,
          depth,
          startNs: seg.startAt(slot),
          endNs: seg.endAt(slot),
          name: x?.name ?? store.srclocs.displayName(src, strings),
          file: store.srclocs.fileName(src, strings),
          line: store.srclocs.line[src] ?? 0,
          text: x?.text ?? null,
          value: x && x.valueHi >= 0 ? `${x.valueHi}:${x.valueLo}` : null,
          color: x?.color ?? -1,
        });
      }
    });
  }
  return out;
}

export const zoneKey = (z: ZoneRow) => `${z.thread}/${z.depth} ${z.startNs}-${z.endNs} ${JSON.stringify(z.name)} ${z.file}:${z.line} ${JSON.stringify(z.text)} ${z.value} ${z.color}`;

export function messagesOf(store: SessionStore): string[] {
  return store.messages.inRange(-Infinity, Infinity, (p) => store.names.strings.get(p)).map((m) => `${m.timeNs} ${m.thread} ${m.color} ${JSON.stringify(m.text)}`);
}

export function framesOf(store: SessionStore): string[] {
  const out: string[] = [];
  for (const set of store.frames.values()) {
    const items: string[] = [];
    if (set.continuous) set.marks.forEachInRange(-Infinity, Infinity, (ns) => items.push(String(ns)));
    else set.spans.forEachInRange(-Infinity, Infinity, (a, b) => items.push(`${a}-${b}`));
    out.push(`${JSON.stringify(frameSetName(store, set))} ${set.continuous ? 'marks' : 'spans'}: ${items.join(' ')}`);
  }
  return out.sort();
}

/** Plot samples by name; memory usage series under the name the export gives them. */
export function plotsOf(store: SessionStore): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of plotsByName(store)) {
    const rows: string[] = [];
    for (const t of p.tracks) t.series.forEachInRange(-Infinity, Infinity, (ns, v) => rows.push(`${ns}=${v}`));
    out.set(p.name, rows.sort().join(' '));
  }
  for (const m of store.memory.values()) {
    const rows: string[] = [];
    m.usage.forEachInRange(-Infinity, Infinity, (ns, v) => rows.push(`${ns}=${v}`));
    out.set(memoryPlotName(store, m.namePtr), rows.sort().join(' '));
  }
  return out;
}


/** Expects the same zones, messages, frames, plot samples, thread names and app info; reports the first differing zone. */
export function expectSameContents(got: SessionStore, want: SessionStore): void {
  const w = zonesOf(want).map(zoneKey).sort();
  const g = zonesOf(got).map(zoneKey).sort();
  if (g.length !== w.length) throw new Error(`${g.length} zones, expected ${w.length}`);
  for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) throw new Error(`zone ${i} differs:\n  got      ${g[i]}\n  expected ${w[i]}`);
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what} differ:\n  got      ${JSON.stringify(a).slice(0, 2000)}\n  expected ${JSON.stringify(b).slice(0, 2000)}`);
  };
  same('messages', messagesOf(got), messagesOf(want));
  same('frames', framesOf(got), framesOf(want));
  same('plots', [...plotsOf(got)].sort(), [...plotsOf(want)].sort());
  const names = (s: SessionStore) => s.threadList().map((t) => `${t.id} ${t.name}`);
  same('thread names', names(got), names(want));
  same('app info', got.appInfoTexts, want.appInfoTexts);
}
