import { decode, encode } from '@msgpack/msgpack';
import type { WebSocket } from 'ws';
import type { SessionRegistry } from '../session/session-registry.js';
import { PlotFormat } from '../../protocol/tracy/constants.js';
import { frameSetName, memoryPlotName, plotsByName, queryFrames, queryNamedPlot, querySeries } from '../query/series-query.js';
import { queryThreadZones } from '../query/zone-lod.js';
import { toMsgpack } from './encode.js';
import { sessionList, sessionSummary } from './session-view.js';

/** Updates per second at most, per viewer. */
const RATE_HZ = 30;
/** A viewer with more than this unsent is skipped this turn; its next update coalesces. */
const MAX_BUFFERED = 1 << 20;
/** Messages per update at most (the viewport's first ones; `messagesCut` says more exist). */
const MAX_MESSAGES = 5000;

interface Viewer {
  ws: WebSocket;
  session: string | null;
  t0: number;
  t1: number;
  px: number;
  /** keep the newest data in view: the window is [lastNs - span, lastNs] */
  follow: boolean;
  span: number;
  sentVersion: number;
  sentSessions: number;
  skipped: number;
}

/**
 * The viewer WebSocket (/api/live): msgpack both ways. A viewer subscribes to a session and a
 * viewport; at most 30 times a second it gets what changed in its viewport (zones at its level
 * of detail, frames, plots) with numeric columns as typed-array bytes. Slow viewers are
 * skipped until their socket drains, so the server never queues without bound.
 *
 * viewer -> server: { type: 'subscribe', session, t0?, t1?, px?, follow?, span? }
 *                   { type: 'viewport', t0, t1, px, follow?, span? }   { type: 'unsubscribe' }
 * server -> viewer: { type: 'sessions', sessions } (on connect and on change)
 *                   { type: 'update', session, version, lastNs, t0, t1, nsPerPx, threads, frames, plots, messages, messagesCut, summary }
 * (types: protocol/view/types.ts)
 *                   { type: 'error', error, code }
 */
export class LiveHub {
  private readonly viewers = new Set<Viewer>();
  private sessionsVersion = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: SessionRegistry) {
    this.unsubscribe = registry.subscribe(() => this.sessionsVersion++);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Per viewer: its session, bytes queued on its socket and the updates skipped because of them. */
  viewerStats(): { session: string | null; bufferedAmount: number; skipped: number }[] {
    return [...this.viewers].map((v) => ({ session: v.session, bufferedAmount: v.ws.bufferedAmount, skipped: v.skipped }));
  }

  attach(ws: WebSocket): void {
    const viewer: Viewer = { ws, session: null, t0: 0, t1: 0, px: 1000, follow: true, span: 1e9, sentVersion: -1, sentSessions: -1, skipped: 0 };
    this.viewers.add(viewer);
    ws.on('message', (data, isBinary) => this.onMessage(viewer, data as Buffer, isBinary));
    ws.on('close', () => this.viewers.delete(viewer));
    ws.on('error', () => this.viewers.delete(viewer));
    this.sendSessions(viewer);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), 1000 / RATE_HZ);
      this.timer.unref?.();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe();
    for (const v of this.viewers) v.ws.close();
    this.viewers.clear();
  }

  private onMessage(viewer: Viewer, data: Buffer, isBinary: boolean): void {
    let msg: Record<string, unknown>;
    try {
      msg = (isBinary ? decode(data) : JSON.parse(data.toString('utf8'))) as Record<string, unknown>;
    } catch {
      this.send(viewer, { type: 'error', code: 'ZS_LIVE_BAD_MESSAGE', error: 'message is neither msgpack nor JSON' });
      return;
    }
    const num = (k: string, fallback: number) => (typeof msg[k] === 'number' && Number.isFinite(msg[k]) ? (msg[k] as number) : fallback);
    if (msg.type === 'subscribe') {
      viewer.session = String(msg.session ?? '');
      if (!this.registry.get(viewer.session)) {
        this.send(viewer, { type: 'error', code: 'ZS_LIVE_NO_SESSION', error: `no session ${viewer.session}` });
        viewer.session = null;
        return;
      }
    }
    switch (msg.type) {
      case 'subscribe': // a subscription carries a viewport
      case 'viewport':
        viewer.t0 = num('t0', viewer.t0);
        viewer.t1 = num('t1', viewer.t1);
        viewer.px = Math.max(1, num('px', viewer.px));
        viewer.follow = typeof msg.follow === 'boolean' ? msg.follow : viewer.follow;
        viewer.span = num('span', viewer.follow ? viewer.span : viewer.t1 - viewer.t0);
        viewer.sentVersion = -1;
        this.pushUpdate(viewer);
        break;
      case 'unsubscribe':
        viewer.session = null;
        break;
      default:
        this.send(viewer, { type: 'error', code: 'ZS_LIVE_BAD_MESSAGE', error: `unknown message type ${String(msg.type)}` });
    }
  }

  private tick(): void {
    for (const viewer of this.viewers) {
      if (viewer.ws.bufferedAmount > MAX_BUFFERED) {
        viewer.skipped++;
        continue;
      }
      if (viewer.sentSessions !== this.sessionsVersion) this.sendSessions(viewer);
      this.pushUpdate(viewer);
    }
  }

  private sendSessions(viewer: Viewer): void {
    viewer.sentSessions = this.sessionsVersion;
    this.send(viewer, { type: 'sessions', sessions: sessionList(this.registry) });
  }

  private pushUpdate(viewer: Viewer): void {
    if (viewer.session === null) return;
    // Every path here (the timer, and subscribe/viewport messages, which a viewer can send
    // without ever reading) respects the limit: the update is coalesced into the next tick's.
    if (viewer.ws.bufferedAmount > MAX_BUFFERED) {
      viewer.skipped++;
      return;
    }
    const session = this.registry.get(viewer.session);
    if (!session) {
      this.send(viewer, { type: 'error', code: 'ZS_LIVE_NO_SESSION', error: `session ${viewer.session} is gone` });
      viewer.session = null;
      return;
    }
    const store = session.store;
    if (store.version === viewer.sentVersion) return;
    viewer.sentVersion = store.version;
    let t0 = viewer.t0;
    let t1 = viewer.t1;
    if (viewer.follow) {
      t1 = store.lastNs;
      t0 = Math.max(0, t1 - viewer.span);
    }
    const nsPerPx = Math.max(0, (t1 - t0) / viewer.px);
    const threads = store.threadList().map((t) => ({ ...queryThreadZones(t, t0, t1, nsPerPx, 200_000), name: t.name }));
    const frames = [...store.frames.values()].map((f) => ({ name: frameSetName(store, f), continuous: f.continuous, count: f.count, ...queryFrames(f, t0, t1, 20_000) }));
    const plots = [
      ...plotsByName(store).map((p) => ({ name: p.name, format: p.format, step: p.step, fill: p.fill, color: p.color, count: p.count, min: p.min, max: p.max, ...queryNamedPlot(p, t0, t1, nsPerPx, true) })),
      ...[...store.memory.values()].map((m) => ({
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
    const strings = store.names.strings;
    const messages = store.messages.inRange(t0, t1, (ptr) => strings.get(ptr), MAX_MESSAGES + 1);
    const messagesCut = messages.length > MAX_MESSAGES ? 1 : 0;
    if (messagesCut) messages.length = MAX_MESSAGES;
    this.send(viewer, {
      type: 'update',
      session: session.id,
      version: store.version,
      lastNs: store.lastNs,
      t0,
      t1,
      nsPerPx,
      summary: sessionSummary(session),
      threads,
      frames,
      plots,
      messages,
      messagesCut,
    });
  }

  private send(viewer: Viewer, msg: { type: string; [key: string]: unknown }): void {
    if (viewer.ws.readyState !== 1) return;
    // Error replies cannot be coalesced: to a viewer that sends bad messages but does not read
    // them, they are counted as skipped instead of queued without bound.
    if (msg.type === 'error' && viewer.ws.bufferedAmount > MAX_BUFFERED) {
      viewer.skipped++;
      return;
    }
    viewer.ws.send(encode(toMsgpack(msg), { ignoreUndefined: true }), { binary: true });
  }
}
