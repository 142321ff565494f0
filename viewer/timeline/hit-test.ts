import type { FrameSetItems, LiveUpdate, MessageItem, ZoneDetails } from '../../protocol/view/types.js';
import { formatCount, formatDuration, formatTimestamp } from '../format.js';
import { FRAME_BARS_H, FRAME_LANE_H, firstMessageAtOrAfter, hitInterval, lockLaneAt, onMessageLane, rowAt, trackAt, type Layout } from './layout.js';
import { frameSetTitle, laneSets, pickFrameSet } from './frames-painter.js';

/** What is under the pointer. Zones with count > 1 are merged runs (srcloc -1, row -1). */
export type Hit =
  | { kind: 'zone'; thread: number; depth: number; row: number; srcloc: number; count: number; startNs: number; endNs: number }
  | { kind: 'open'; thread: number; depth: number; srcloc: number; startNs: number; endNs: number }
  | { kind: 'frame'; set: FrameSetItems; index: number; startNs: number; endNs: number }
  | { kind: 'message'; message: MessageItem }
  | { kind: 'evicted'; thread: number; beforeNs: number }
  | LockHit;

/** A lock zone (count > 1: a merged run of acquisitions; open: waiting or holding now). */
export interface LockHit {
  kind: 'lock';
  lock: number;
  name: string;
  thread: number;
  startNs: number;
  endNs: number;
  waitNs: number;
  holdNs: number;
  contendedNs: number;
  count: number;
  shared: boolean;
  /** running: still waiting (holdNs 0) or holding */
  open: boolean;
  waiting: boolean;
}

/**
 * The item at content y `y` and time `t` (ns), with a tolerance of `tolNs` around t (a few
 * pixels, so one-pixel zones and message ticks can be pointed at). Pure: works on the update and
 * the layout only.
 */
export function hitTest(data: LiveUpdate, layout: Layout, y: number, t: number, tolNs: number, pickedFrames: string): Hit | null {
  const ti = trackAt(layout.tracks, y);
  if (ti < 0) return null;
  const track = layout.tracks[ti]!;
  if (track.kind === 'frames') return hitFrame(data.frames, pickedFrames, y - track.top, t, tolNs);
  const th = data.threads.find((x) => x.thread === track.thread);
  if (!th) return null;
  if (onMessageLane(track, y)) {
    const m = nearestMessage(data.messages, th.thread, t, tolNs);
    if (m) return { kind: 'message', message: m };
  }
  const lane = lockLaneAt(track, y);
  if (lane >= 0) return hitLock(data, track.locks[lane]!, th.thread, t, tolNs);
  const depth = track.collapsed ? 0 : rowAt(track, y);
  if (depth < 0) return null;
  for (const o of th.open) {
    if (o.depth === depth && t >= o.startNs - tolNs && t <= data.lastNs + tolNs) {
      return { kind: 'open', thread: th.thread, depth, srcloc: o.srcloc, startNs: o.startNs, endNs: data.lastNs };
    }
  }
  const d = th.depths.find((x) => x.depth === depth);
  if (d) {
    // an exact hit first, then the nearest within the tolerance
    let i = hitInterval(d.startNs, d.endNs, t, 0);
    if (i < 0) i = hitInterval(d.startNs, d.endNs, t, tolNs);
    if (i >= 0) {
      return { kind: 'zone', thread: th.thread, depth, row: d.row[i]!, srcloc: d.srcloc[i]!, count: d.count[i]!, startNs: d.startNs[i]!, endNs: d.endNs[i]! };
    }
  }
  if (t < th.evictedBeforeNs) return { kind: 'evicted', thread: th.thread, beforeNs: th.evictedBeforeNs };
  return null;
}

/** The lock zone of `thread` on lock `lock` at time t (exact, then within tolNs), or its open wait/hold. */
export function hitLock(data: LiveUpdate, lock: number, thread: number, t: number, tolNs: number): LockHit | null {
  const set = data.locks?.find((l) => l.id === lock);
  const items = set?.threads.find((x) => x.thread === thread);
  if (!set || !items) return null;
  let i = hitInterval(items.startNs, items.endNs, t, 0);
  if (i < 0 && !(items.open && t >= items.open.startNs)) i = hitInterval(items.startNs, items.endNs, t, tolNs);
  if (i >= 0) {
    return {
      kind: 'lock',
      lock,
      name: set.name,
      thread,
      startNs: items.startNs[i]!,
      endNs: items.endNs[i]!,
      waitNs: items.waitNs[i]!,
      holdNs: items.holdNs[i]!,
      contendedNs: items.contendedNs[i]!,
      count: items.count[i]!,
      shared: (items.flags[i]! & 1) !== 0,
      open: false,
      waiting: false,
    };
  }
  const o = items.open;
  if (o && t >= o.startNs - tolNs && t <= data.lastNs + tolNs) {
    const end = Math.max(data.lastNs, o.startNs);
    const obtain = o.obtainNs ?? end;
    return { kind: 'lock', lock, name: set.name, thread, startNs: o.startNs, endNs: end, waitNs: obtain - o.startNs, holdNs: end - obtain, contendedNs: o.contendedNs === null ? 0 : end - o.contendedNs, count: 1, shared: o.shared, open: true, waiting: o.obtainNs === null };
  }
  return null;
}

function hitFrame(frames: readonly FrameSetItems[], picked: string, rel: number, t: number, tolNs: number): Hit | null {
  const set = rel < FRAME_BARS_H ? pickFrameSet(frames, picked) : (laneSets(frames)[Math.floor((rel - FRAME_BARS_H) / FRAME_LANE_H)] ?? null);
  if (!set) return null;
  let best = -1;
  if (set.continuous) {
    best = hitInterval(set.startNs, set.endNs, t, 0);
    if (best < 0) best = hitInterval(set.startNs, set.endNs, t, tolNs);
  } else {
    // spans of a discontinuous set may nest: the shortest one around t
    for (let i = 0; i < set.startNs.length; i++) {
      const s = set.startNs[i]!;
      const e = set.endNs[i]!;
      if (s - tolNs <= t && t <= e + tolNs && (best < 0 || e - s < set.endNs[best]! - set.startNs[best]!)) best = i;
    }
  }
  return best < 0 ? null : { kind: 'frame', set, index: best, startNs: set.startNs[best]!, endNs: set.endNs[best]! };
}

/** The message of `thread` nearest to t within tolNs, in time-ordered `messages`. */
export function nearestMessage(messages: readonly MessageItem[], thread: number, t: number, tolNs: number): MessageItem | null {
  let best: MessageItem | null = null;
  for (let i = firstMessageAtOrAfter(messages, t - tolNs); i < messages.length; i++) {
    const m = messages[i]!;
    if (m.timeNs > t + tolNs) break;
    if (m.thread === thread && (!best || Math.abs(m.timeNs - t) < Math.abs(best.timeNs - t))) best = m;
  }
  return best;
}

/** Tooltip lines for a hit; `details` adds a zone's own name and text once loaded. */
export function tooltipLines(hit: Hit, srclocName: (s: number) => string, threadName: (t: number) => string, details?: ZoneDetails | null): string[] {
  switch (hit.kind) {
    case 'zone': {
      if (hit.count > 1 || hit.srcloc < 0) {
        return [`${formatCount(hit.count)} zones`, `span ${formatDuration(hit.endNs - hit.startNs)}`, `${threadName(hit.thread)}, depth ${hit.depth}`, 'click to zoom in'];
      }
      const lines = [details?.name ?? srclocName(hit.srcloc), formatDuration(hit.endNs - hit.startNs), `start ${formatTimestamp(hit.startNs)}`];
      if (details) {
        if (details.file) lines.push(`${details.function ? `${details.function}  ` : ''}${details.file}:${details.line}`);
        lines.push(`self ${formatDuration(details.selfNs)}`);
        if (details.text) lines.push(details.text);
      }
      return lines;
    }
    case 'open':
      return [`${srclocName(hit.srcloc)} (running)`, `running for ${formatDuration(hit.endNs - hit.startNs)}`, `start ${formatTimestamp(hit.startNs)}`];
    case 'frame': {
      const dur = hit.endNs - hit.startNs;
      // the frame's number in its set (from 1 since the session began), as Tracy's "Frame 1,234"
      const number = (hit.set.firstIndex ?? 0) > 0 ? ` ${formatCount(hit.set.firstIndex + hit.index)}` : '';
      const lines = [`${frameSetTitle(hit.set.name)}${number}`, formatDuration(dur)];
      if (hit.set.continuous && dur > 0) lines[1] += ` (${(1e9 / dur).toFixed(1)} FPS)`;
      lines.push(`start ${formatTimestamp(hit.startNs)}`, `${formatCount(hit.set.count)} frames in the set`);
      return lines;
    }
    case 'message':
      return [hit.message.text, `${threadName(hit.message.thread)} at ${formatTimestamp(hit.message.timeNs)}`];
    case 'evicted':
      return ['Evicted', `zones before ${formatTimestamp(hit.beforeNs)} were dropped (memory budget)`];
    case 'lock':
      return lockTooltip(hit, threadName);
  }
}

/** Tooltip of a lock zone: the lock, the thread, its wait, hold and contended times. */
export function lockTooltip(hit: LockHit, threadName: (t: number) => string): string[] {
  const mode = hit.shared ? ' (shared)' : '';
  if (hit.count > 1) {
    return [
      `${hit.name}: ${formatCount(hit.count)} acquisitions${mode}`,
      threadName(hit.thread),
      `wait ${formatDuration(hit.waitNs)} in all`,
      `hold ${formatDuration(hit.holdNs)} in all`,
      `contended ${formatDuration(hit.contendedNs)} in all`,
      'click to zoom in',
    ];
  }
  const lines = [`${hit.name}${mode}${hit.open ? (hit.waiting ? ' (waiting)' : ' (held)') : ''}`, threadName(hit.thread), `wait ${formatDuration(hit.waitNs)}`];
  if (!hit.waiting) lines.push(`hold ${formatDuration(hit.holdNs)}`);
  if (hit.contendedNs > 0) lines.push(`contended ${formatDuration(hit.contendedNs)} (another thread waited)`);
  lines.push(`start ${formatTimestamp(hit.startNs)}`);
  return lines;
}
