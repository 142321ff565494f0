/**
 * A live viewer for the benchmarks: a `ws` client on /api/live (msgpack, server/http/live-hub.ts)
 * that follows the first session listed that is not in `skip` and timestamps every 'update' it
 * receives, so a bench can tell whether the hub kept its ~30 updates/s while a stream was taken in.
 */
import { decode, encode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import { epochMs } from './bench-util.js';

export interface LiveViewer {
  /** epochMs() when the subscribe was sent; NaN until the session was listed. */
  subscribedAt(): number;
  /** epochMs() of each 'update' received, in order. */
  readonly updates: number[];
  close(): Promise<void>;
}

/** Follow-mode viewport: the last 2 s of app time at 1000 px, as a viewer tab would ask. */
const SPAN_NS = 2e9;
const PX = 1000;

/**
 * Opens ws://127.0.0.1:`httpPort`/api/live; subscribes (follow) to the first listed session whose
 * id is not in `skip`, as soon as a 'sessions' message lists one. Resolves once the socket is open;
 * rejects on a connection error or an 'error' message from the hub.
 */
export function openLiveViewer(httpPort: number, skip: ReadonlySet<string>): Promise<LiveViewer> {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/live`);
  const updates: number[] = [];
  let subscribedAt = NaN;
  let failure: Error | null = null;
  ws.on('error', (err) => (failure ??= err));
  ws.on('message', (data: Buffer) => {
    const at = epochMs();
    const msg = decode(data) as { type: string; sessions?: { id: string }[]; code?: string; error?: string };
    if (msg.type === 'update') updates.push(at);
    else if (msg.type === 'sessions' && Number.isNaN(subscribedAt)) {
      const target = msg.sessions?.find((s) => !skip.has(s.id));
      if (!target) return;
      subscribedAt = epochMs();
      ws.send(encode({ type: 'subscribe', session: target.id, follow: true, span: SPAN_NS, px: PX }));
    } else if (msg.type === 'error') failure ??= new Error(`live viewer: ${msg.code} ${msg.error}`);
  });
  const viewer: LiveViewer = {
    subscribedAt: () => subscribedAt,
    updates,
    close: () =>
      new Promise<void>((done, fail) => {
        if (ws.readyState === WebSocket.CLOSED) return failure ? fail(failure) : done();
        ws.once('close', () => (failure ? fail(failure) : done()));
        ws.close();
      }),
  };
  return new Promise((done, fail) => {
    ws.once('open', () => done(viewer));
    ws.once('error', fail);
  });
}

/** Updates received in [from, to] (epoch ms): their rate per second and the gaps between consecutive ones. */
export function updateCadence(updates: readonly number[], from: number, to: number): { count: number; perS: number; gaps: number[] } {
  const inside = updates.filter((t) => t >= from && t <= to);
  const gaps = inside.slice(1).map((t, i) => t - inside[i]!);
  return { count: inside.length, perS: (inside.length / (to - from)) * 1000, gaps };
}
