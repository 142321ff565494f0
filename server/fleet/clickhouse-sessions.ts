import { CaptureStreamBuilder } from '../../protocol/capture/stream-builder.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import { recordedTransport, sessionEnded, type SessionCatalog, type SessionRegistry, type StoredSession } from '../session/session-registry.js';
import { sqlString, type ClickHouseTarget } from './clickhouse-connection.js';
import { ClickHouseViews, unescapeTsv } from './clickhouse-views.js';

/** Sessions listed from ClickHouse at most (the newest first; docs/fleet.md). */
export const CLICKHOUSE_LIST_MAX = 1000;
/** ms between refreshes of the list (also refreshed after every open). */
export const CLICKHOUSE_LIST_REFRESH_MS = 5000;

interface Entry extends StoredSession {
  /** this server's run wrote it (its copy may still be in memory under its local id) */
  own: boolean;
  state: 'stored' | 'loaded' | 'forgotten';
  loading: Promise<void> | null;
}

interface SessionRow {
  session: string;
  server: string;
  app: string;
  host: string;
  pid: string;
  start_abs_ns: string;
  zones: string;
}

/**
 * Sessions stored in ClickHouse, by any server writing to the same database: listed with
 * source "clickhouse" (SessionCatalog), and opened on the first request for one. Its zones and
 * messages stay in ClickHouse: the session's viewport, level of detail, zone details,
 * statistics, flame graph, search and messages are answered from SQL (clickhouse-views.ts,
 * clickhouse-aggregates.ts) with the same API and result types as a live session's, whatever
 * the session's size. Its frames and plots, a few values a frame or a sample, are read into
 * the session's store through a Tracy stream built by CaptureStreamBuilder, as a capture's are.
 * Sessions this run of the server is writing are not listed twice (they are in memory under
 * their local ids).
 */
export class ClickHouseCatalog implements SessionCatalog {
  private entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** the last refresh failed with this, or null */
  lastError: string | null = null;

  constructor(
    private readonly target: ClickHouseTarget,
    private readonly ownServerId: string,
  ) {}

  private registry: SessionRegistry | null = null;

  /** Lists and loads through `registry`; refreshes the list now (waits for it) and then every few seconds. */
  async attach(registry: SessionRegistry): Promise<void> {
    this.registry = registry;
    registry.useCatalog(this);
    await this.refresh();
    const tick = () => {
      this.timer = setTimeout(() => void this.refresh().finally(tick), CLICKHOUSE_LIST_REFRESH_MS);
      this.timer.unref();
    };
    tick();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Reads the list of sessions from ClickHouse (never rejects: a failure keeps the last list and is logged once). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const { client, database } = this.target;
    try {
      const rs = await client.query({
        query: `SELECT session, argMax(server, version) AS server, argMax(app, version) AS app, argMax(host, version) AS host,
                  argMax(pid, version) AS pid, argMax(start_abs_ns, version) AS start_abs_ns, argMax(zones, version) AS zones
                FROM ${database}.sessions GROUP BY session ORDER BY start_abs_ns DESC, session LIMIT ${CLICKHOUSE_LIST_MAX}`,
        format: 'JSONEachRow',
      });
      const rows = (await rs.json()) as SessionRow[];
      const next = new Map<string, Entry>();
      for (const r of rows) {
        const old = this.entries.get(r.session);
        next.set(r.session, {
          id: r.session,
          app: r.app,
          pid: Number(r.pid),
          host: r.host,
          startedAt: Math.floor(Number(BigInt(r.start_abs_ns) / 1_000_000n)),
          path: `${this.target.display}#${r.session}`,
          fileBytes: 0,
          source: 'clickhouse',
          zones: Number(r.zones),
          own: r.server === this.ownServerId,
          state: old?.state ?? 'stored',
          loading: old?.loading ?? null,
        });
      }
      // an entry being loaded or forgotten stays, though the newest 1000 moved past it
      for (const [id, e] of this.entries) if (!next.has(id) && e.state !== 'stored') next.set(id, e);
      this.entries = next;
      if (this.lastError !== null) log('clickhouse %s: session list read again', this.target.display);
      this.lastError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (this.lastError === null) log('clickhouse %s: cannot list sessions: %s', this.target.display, message);
      this.lastError = message;
    }
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  stored(): StoredSession[] {
    // this run's own sessions are listed under their local ids while in memory; once dropped
    // from memory (trimmed, evicted) they are listed from ClickHouse like any other
    const prefix = `${this.ownServerId}-`;
    const inMemory = new Set(this.registry?.list().map((s) => prefix + s.id));
    const out: StoredSession[] = [];
    for (const e of this.entries.values()) if (e.state === 'stored' && !(e.own && inMemory.has(e.id))) out.push(e);
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  load(id: string, registry: SessionRegistry): Session | undefined {
    const e = this.entries.get(id);
    if (!e || e.state !== 'stored') return undefined;
    e.state = 'loaded';
    const { session, done } = openSession(registry, this.target, e);
    e.loading = done.finally(() => (e.loading = null));
    return session;
  }

  ready(id: string): Promise<void> {
    return this.entries.get(id)?.loading ?? Promise.resolve();
  }

  removed(id: string, forget: boolean): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    const wasStored = e.state === 'stored';
    e.state = forget ? 'forgotten' : 'stored';
    return wasStored;
  }
}

/**
 * Starts a session (source "clickhouse", id = the ClickHouse session key) answered from SQL
 * (session.sqlViews), its frames and plots fed to its store by a Tracy stream built from their
 * rows. The session's backpressure pauses the reading.
 */
function openSession(registry: SessionRegistry, target: ClickHouseTarget, e: Entry): { session: Session; done: Promise<void> } {
  const { transport, flowing, ...feed } = recordedTransport();
  const session = registry.create(transport, 'clickhouse', e.path, { id: e.id, startedAt: e.startedAt });
  const views = new ClickHouseViews(target, e.id);
  session.sqlViews = views;
  session.start();
  const started = performance.now();
  const done = (async () => {
    const pending: Uint8Array[] = [];
    const builder = new CaptureStreamBuilder({ app: e.app, pid: e.pid, hostInfo: e.host, epochS: Math.floor(e.startedAt / 1000) }, (c) => pending.push(c.slice()));
    const drain = async () => {
      for (const c of pending.splice(0)) {
        if (feed.closed) return;
        session.receive(c);
        await flowing();
      }
    };
    try {
      await views.open();
      await streamSeries(target, e.id, builder, drain);
      builder.finish();
      await drain();
    } catch (err) {
      log('clickhouse %s: session %s could not be read: %s', target.display, e.id, (err as Error).message);
      session.error ??= { code: 'ZS_CLICKHOUSE_READ', message: (err as Error).message, offset: -1, queueType: -1 };
    }
    const ended = sessionEnded(registry, session);
    session.connectionClosed();
    await ended;
    log('clickhouse %s: session %s opened: %d zones on %d threads, answered from SQL (%d ms)', target.display, e.id, views.zones, views.threads.length, Math.round(performance.now() - started));
  })();
  return { session, done };
}

/**
 * Reads a session's frames and plots, each query's answer streamed (the session's backpressure
 * pauses the stream, so memory stays bounded whatever the session's size), and writes them to
 * `b`. `drain` hands the built chunks to the session.
 */
async function streamSeries(target: ClickHouseTarget, key: string, b: CaptureStreamBuilder, drain: () => Promise<void>): Promise<void> {
  const { client, database } = target;
  const each = async (query: string, row: (f: string[]) => void) => {
    const rs = await client.query({ query: query.replaceAll('{key:String}', sqlString(key)), format: 'TabSeparated' });
    for await (const rows of rs.stream()) {
      for (const r of rows as { text: string }[]) row(r.text.split('\t').map(unescapeTsv));
      await drain();
    }
    await drain();
  };
  // frames: each frame's start is a mark; a set's last frame's end is its closing mark
  let frameSet: string | null = null;
  let frameEnd = 0;
  await each(`SELECT name, start_ns, duration_ns FROM ${database}.frames WHERE session = {key:String} ORDER BY name, start_ns`, ([name, start, dur]) => {
    if (name !== frameSet && frameSet !== null) b.frameMark(frameSet, frameEnd);
    frameSet = name!;
    b.frameMark(name!, Number(start));
    frameEnd = Number(start) + Number(dur);
  });
  if (frameSet !== null) b.frameMark(frameSet, frameEnd);
  await each(`SELECT plot, time_ns, value FROM ${database}.plots WHERE session = {key:String} ORDER BY plot, time_ns`, ([plot, time, value]) => b.plot(plot!, Number(time), Number(value)));
}
