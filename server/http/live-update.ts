import { PlotFormat } from '../../protocol/tracy/constants.js';
import { queryMessages } from '../query/message-query.js';
import { frameSetName, memoryPlotName, plotsByName, queryFrames, queryNamedPlot, querySeries } from '../query/series-query.js';
import { queryDepth } from '../query/zone-lod.js';
import { liveLocks } from './live-locks.js';
import type { Session } from '../session/session.js';
import { sessionSummary } from './session-view.js';

/** Default byte cap of one live update (its msgpack encoding): 2 MiB, about 75,000 zone items. */
export const LIVE_UPDATE_MAX_BYTES = 2 * 1024 * 1024;
/** Smallest cap accepted: the update's fixed part (summary, names of a few threads) must fit. */
export const LIVE_UPDATE_MIN_BYTES = 16 * 1024;
/** Widest viewport a viewer may claim (pixels): an 8K screen at 2x is 15,360. */
export const LIVE_MAX_PX = 16384;
/** Messages per update at most (the viewport's first ones; `messagesCut` says more exist). */
export const LIVE_MAX_MESSAGES = 5000;
/** Times the level of detail is coarsened (x4 each) before an update is cut to fit. */
const COARSEN_STEPS = 3;

/*
 * Upper bounds of the msgpack bytes of each part, so an update is cut BEFORE it is built past
 * the cap (typed arrays travel as bin: 5 bytes of header, then their bytes; a key and a small
 * value fit in 16 bytes; a string costs its UTF-8 length + 5).
 */
const ITEM_BYTES = 8 + 8 + 4 + 4 + 4; // start, end, srcloc, count, row
const DEPTH_BYTES = 160; // the depth's keys and 5 bin headers
const THREAD_BYTES = 160;
const OPEN_ZONE_BYTES = 64;
const FRAME_BYTES = 16;
const SAMPLE_BYTES = 16;
const SERIES_BYTES = 256;
const MESSAGE_BYTES = 64; // 5 keys, a float64, 3 small integers
/** The update's keys and the session summary (a few short strings and numbers). */
const FIXED_BYTES = 4096;
const strBytes = (s: string | null | undefined) => (s == null ? 1 : 5 + Buffer.byteLength(s, 'utf8'));

export interface LiveViewport {
  t0: number;
  t1: number;
  px: number;
  /** keep the newest data in view: the window is [lastNs - span, lastNs] */
  follow: boolean;
  span: number;
}

export interface BuiltUpdate {
  /** The update message (see protocol/view/types.ts LiveUpdate). */
  message: { type: 'update'; [key: string]: unknown };
  /** Upper bound of its encoded size, bytes (<= the cap). */
  boundBytes: number;
  /** The level of detail was made coarser than asked, or parts were left out, to fit the cap. */
  reduced: boolean;
}

/**
 * Milliseconds of building an update may take before it gives the event loop a turn: building
 * one for a viewport over millions of zones takes 5-15 ms, and the hub builds up to 30 a second
 * per viewer while a stream is taken in on the same thread; an HTTP request that came meanwhile
 * would wait for all of it. 2 ms: its slices share a turn with the decoder's (session.ts SLICE_MS).
 */
export const LIVE_BUILD_SLICE_MS = 2;

/**
 * The update a viewer gets for its viewport, at most `maxBytes` once encoded. When the
 * viewport at its level of detail does not fit, the level of detail is coarsened (nsPerPx x4,
 * up to 3 times: the update's `nsPerPx` says which was used); if it still does not fit, it is
 * cut: threads, depths, frames, plots and messages past the budget are left out and the
 * update's `cut` is 1. The cost is bounded by the cap too: every query is given the number of
 * items the remaining budget can hold.
 *
 * Built in slices of `sliceMs` (between one depth's query and the next, and between the parts),
 * with a turn of the event loop in between; a stream taken in meanwhile may add zones to the
 * depths not queried yet, which the update then shows up to its t1 (the newest ns when it began).
 */
export async function buildLiveUpdate(session: Session, v: LiveViewport, maxBytes: number, sliceMs = LIVE_BUILD_SLICE_MS): Promise<BuiltUpdate> {
  const store = session.store;
  let t0 = v.t0;
  let t1 = v.t1;
  if (v.follow) {
    t1 = store.lastNs;
    t0 = Math.max(0, t1 - v.span);
  }
  const px = Math.min(LIVE_MAX_PX, Math.max(1, v.px));
  let nsPerPx = Math.max(0, (t1 - t0) / px);
  const turn = sliceYielder(sliceMs);
  for (let step = 0; ; step++) {
    const built = await assemble(session, t0, t1, nsPerPx, maxBytes, step === COARSEN_STEPS, turn);
    if (built !== null) {
      built.reduced ||= step > 0;
      return built;
    }
    // nsPerPx 0 (an empty range) cannot coarsen: one nanosecond per pixel is the next level
    nsPerPx = nsPerPx > 0 ? nsPerPx * 4 : Math.max(1, (t1 - t0) / px);
  }
}

/** A function to await between steps: it gives the event loop a turn once `sliceMs` were spent since the last one. */
function sliceYielder(sliceMs: number): () => Promise<void> | null {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return null;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/** The update at `nsPerPx`; null when it does not fit and `cut` is false. */
async function assemble(session: Session, t0: number, t1: number, nsPerPx: number, maxBytes: number, cut: boolean, turn: () => Promise<void> | null): Promise<BuiltUpdate | null> {
  const store = session.store;
  // what the update shows is at least this version (later zones may be in it, up to t1)
  const version = store.version;
  const lastNs = store.lastNs;
  const summary = sessionSummary(session);
  let used = FIXED_BYTES + strBytes(JSON.stringify(summary));
  let full = false; // something was left out
  const room = () => maxBytes - used;

  const threads = [];
  for (const t of store.threadList()) {
    const head = THREAD_BYTES + strBytes(t.name);
    if (full || room() < head) {
      full = true;
      break;
    }
    used += head;
    // depth by depth, each asked for no more items than the remaining room holds
    const depths = [];
    for (const columns of t.depths) {
      if (columns.count === columns.firstRow) continue;
      const limit = Math.floor((room() - DEPTH_BYTES) / ITEM_BYTES);
      if (limit <= 0) {
        full = true;
        break;
      }
      await turn();
      const d = queryDepth(columns, t0, t1, nsPerPx, limit);
      if (d.startNs.length === 0) continue;
      if (d.startNs.length >= limit) full = true; // perhaps more: say it was cut
      used += DEPTH_BYTES + d.startNs.length * ITEM_BYTES;
      depths.push(d);
    }
    const open: { startNs: number; srcloc: number; depth: number }[] = [];
    for (let d = 0; d < t.openCount; d++) {
      const s = t.openStart[d]!;
      if (s > t1) continue;
      if (room() < OPEN_ZONE_BYTES) {
        full = true;
        break;
      }
      used += OPEN_ZONE_BYTES;
      open.push({ startNs: s, srcloc: t.openSrcloc[d]!, depth: d });
    }
    threads.push({ thread: t.id, depths, open, evictedBeforeNs: t.evictedBeforeNs, name: t.name });
    if (!cut && full) return null;
  }

  // lock zones, at the zones' level of detail (live-locks.ts)
  await turn();
  const lockPart = full ? { locks: [], full: true } : liveLocks(store, t0, t1, nsPerPx, room, (bytes) => (used += bytes));
  full ||= lockPart.full;
  if (!cut && full) return null;

  await turn();
  const frames = [];
  for (const f of store.frames.values()) {
    const name = frameSetName(store, f);
    const head = SERIES_BYTES + strBytes(name);
    const limit = Math.floor((room() - head) / FRAME_BYTES);
    if (full || limit <= 0) {
      full = true;
      break;
    }
    const w = queryFrames(f, t0, t1, Math.min(limit, 20_000));
    if (w.startNs.length >= limit) full = true;
    used += head + w.startNs.length * FRAME_BYTES;
    frames.push({ name, continuous: f.continuous, count: f.count, ...w });
  }
  if (!cut && full) return null;

  // plots: decimated to about two points a pixel (querySeries), so a series is bounded by px
  const plots = [];
  const series = [
    ...plotsByName(store).map((p) => () => ({ name: p.name, format: p.format, step: p.step, fill: p.fill, color: p.color, count: p.count, min: p.min, max: p.max, ...queryNamedPlot(p, t0, t1, nsPerPx, true) })),
    ...[...store.memory.values()].map((m) => () => ({
      name: memoryPlotName(store, m.namePtr),
      format: PlotFormat.Memory,
      step: true,
      fill: true,
      color: 0,
      count: m.usage.total,
      min: m.usage.min,
      max: m.usage.max,
      memory: true,
      ...querySeries(m.usage, t0, t1, nsPerPx, true),
    })),
  ];
  for (const query of series) {
    await turn();
    if (full || room() < SERIES_BYTES) {
      full = true;
      break;
    }
    const p = query();
    const bytes = SERIES_BYTES + strBytes(p.name) + p.timeNs.length * SAMPLE_BYTES;
    if (bytes > room()) {
      full = true;
      break;
    }
    used += bytes;
    plots.push(p);
  }
  if (!cut && full) return null;

  await turn();
  const strings = store.names.strings;
  // the first messages by time, keeping only LIVE_MAX_MESSAGES + 1 even when late messages came out of order
  const found = queryMessages(store.messages, (ptr) => strings.get(ptr), { t0, t1, limit: LIVE_MAX_MESSAGES + 1 }).messages;
  let messagesCut = found.length > LIVE_MAX_MESSAGES ? 1 : 0;
  let n = 0;
  for (; n < Math.min(found.length, LIVE_MAX_MESSAGES); n++) {
    const bytes = MESSAGE_BYTES + strBytes(found[n]!.text);
    if (bytes > room()) {
      messagesCut = 1;
      full = true;
      break;
    }
    used += bytes;
  }
  if (!cut && full) return null;
  found.length = n;

  return {
    message: {
      type: 'update',
      session: session.id,
      version,
      lastNs,
      t0,
      t1,
      nsPerPx,
      summary,
      threads,
      frames,
      plots,
      messages: found,
      messagesCut,
      cut: full ? 1 : 0,
      locks: lockPart.locks,
    },
    boundBytes: used,
    reduced: full,
  };
}

/**
 * buildLiveUpdate for a ClickHouse session (session.sqlViews): frames and plots from its store
 * as for any session, its zones (at the viewport's level of detail, grouped by pixel in SQL)
 * and messages from ClickHouse, within the same byte cap: the zones get what the rest leaves,
 * and when more items exist than fit, the update says `cut`.
 */
export async function buildSqlLiveUpdate(session: Session, v: LiveViewport, maxBytes: number): Promise<BuiltUpdate> {
  const sql = session.sqlViews!;
  const lastNs = Math.max(sql.lastNs, session.store.lastNs);
  let t0 = v.t0;
  let t1 = v.t1;
  if (v.follow) {
    t1 = lastNs;
    t0 = Math.max(0, t1 - v.span);
  }
  const built = await buildLiveUpdate(session, { ...v, t0, t1, follow: false }, maxBytes);
  const m = built.message as unknown as Record<string, unknown> & { nsPerPx: number; messages: unknown[] };
  let used = built.boundBytes;
  const found = await sql.messages({ t0, t1, q: '', limit: LIVE_MAX_MESSAGES });
  let n = 0;
  for (; n < found.messages.length; n++) {
    const bytes = MESSAGE_BYTES + strBytes(found.messages[n]!.text);
    if (used + bytes > maxBytes) break;
    used += bytes;
  }
  m.messages = found.messages.slice(0, n);
  m.messagesCut = found.truncated || n < found.messages.length ? 1 : 0;
  let cut = n < found.messages.length;
  // every thread's and depth's fixed part first, so the items alone are left to bound
  const room = maxBytes - used - sql.threads.reduce((b, t) => b + THREAD_BYTES + strBytes(t.name) + t.depth * DEPTH_BYTES, 0);
  const limit = Math.floor(room / ITEM_BYTES);
  if (limit > 0) {
    const page = await sql.zonePage({ t0, t1, nsPerPx: m.nsPerPx, limit });
    m.threads = page.threads;
    for (const t of page.threads) used += THREAD_BYTES + strBytes(t.name) + t.depths.reduce((b, d) => b + DEPTH_BYTES + d.startNs.length * ITEM_BYTES, 0);
    cut ||= page.cursor !== null;
  } else cut = true;
  m.lastNs = lastNs;
  if (cut) m.cut = 1;
  return { message: built.message, boundBytes: used, reduced: built.reduced || cut };
}
