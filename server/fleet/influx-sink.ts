import { log } from '../log.js';
import { BatchWriter, RejectedBatch, type BatchTarget, type BatchWriterCounters, type BatchWriterOptions } from './batch-writer.js';
import { absNs } from './clickhouse-sink.js';
import type { FeedSession, FeedSink } from './store-feed.js';

/** The measurement every plot sample is written to (tags app, host, plot, session; field value). */
export const INFLUX_MEASUREMENT = 'zonescope_plot';

/** ms one write or query may take before it is abandoned (and the batch retried). */
export const INFLUX_REQUEST_TIMEOUT_MS = 30_000;

/** An InfluxDB 1.x server and the database (and retention policy) the samples go to. */
export interface InfluxTarget {
  /** http(s)://host:port, no credentials */
  base: string;
  db: string;
  /** retention policy (`rp`); null: the database's default */
  rp: string | null;
  /** Basic authorization header from the URL's user:password, or null */
  authorization: string | null;
  /** the URL as given, without credentials (for logs) */
  display: string;
}

const DB_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Reads `http://[user:password@]host:port/?db=NAME[&rp=POLICY]` (default database `zonescope`).
 * @throws TypeError with what is wrong, before anything connects
 */
export function parseInfluxUrl(text: string): InfluxTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new TypeError(`--influx: not a URL: ${text} (e.g. http://127.0.0.1:8086/?db=zonescope)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`--influx: ${u.protocol} is not http: or https:`);
  const db = u.searchParams.get('db') ?? 'zonescope';
  if (!DB_NAME.test(db)) throw new TypeError(`--influx: database "${db}" is not a plain name ([A-Za-z0-9_.-], at most 64)`);
  const rp = u.searchParams.get('rp');
  if (rp !== null && !DB_NAME.test(rp)) throw new TypeError(`--influx: retention policy "${rp}" is not a plain name`);
  const user = decodeURIComponent(u.username);
  const authorization = user || u.password ? `Basic ${Buffer.from(`${user}:${decodeURIComponent(u.password)}`).toString('base64')}` : null;
  const base = `${u.protocol}//${u.host}`;
  return { base, db, rp, authorization, display: `${base}/?db=${db}${rp !== null ? `&rp=${rp}` : ''}` };
}

/**
 * A tag value as InfluxDB 1.x line protocol carries it. Commas, spaces and equals signs are
 * escaped with a backslash; a newline or carriage return becomes the two characters `\n` / `\r`
 * (a line ends a point). Other backslashes are literal in 1.x, except where its parser would
 * read them as an escape (checked against influxd 1.6): one before a comma, space or equals sign
 * is written doubled (stored doubled), and backslashes ending the value, which no escaping can
 * carry ("invalid tag format"), are dropped. An empty result means the tag must be left out.
 */
export function escapeTag(text: string): string {
  if (!/[,= \\\n\r]/.test(text)) return text;
  let s = text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\\+$/, '');
  s = s.replace(/\\(?=[,= ])/g, '\\\\');
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

/** A float field value; null for NaN and ±Infinity, which InfluxDB 1.x cannot store. */
export function fieldFloat(v: number): string | null {
  return Number.isFinite(v) ? String(v) : null;
}

/**
 * One plot sample as a line: `zonescope_plot,app=A,host=H,plot=P,session=S value=V T\n`, tags
 * in key order (what InfluxDB sorts them to), empty tags left out, T the absolute time in ns
 * since the epoch as an exact integer (session start `startSec` + `relNs`, past 2^53). Null for
 * a value InfluxDB cannot store.
 */
export function plotLine(s: Pick<FeedSession, 'app' | 'host' | 'key' | 'startSec'>, plot: string, relNs: number, value: number): string | null {
  const v = fieldFloat(value);
  if (v === null) return null;
  return `${seriesKey(s.app, s.host, plot, s.key)} value=${v} ${absNs(s.startSec, relNs)}\n`;
}

function seriesKey(app: string, host: string, plot: string, session: string): string {
  let key = INFLUX_MEASUREMENT;
  for (const [k, raw] of [['app', app], ['host', host], ['plot', plot], ['session', session]] as const) {
    const v = escapeTag(raw);
    if (v !== '') key += `,${k}=${v}`;
  }
  return key;
}

function headers(t: InfluxTarget, contentType: string): Record<string, string> {
  return { 'content-type': contentType, ...(t.authorization !== null && { authorization: t.authorization }) };
}

/** Runs an InfluxQL statement through POST /query; throws with InfluxDB's error text. */
export async function influxQuery(t: InfluxTarget, q: string): Promise<unknown> {
  const res = await fetch(`${t.base}/query`, {
    method: 'POST',
    headers: headers(t, 'application/x-www-form-urlencoded'),
    body: new URLSearchParams({ q, db: t.db }).toString(),
    signal: AbortSignal.timeout(INFLUX_REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`InfluxDB ${t.display}: ${q}: HTTP ${res.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { results?: { error?: string }[]; error?: string };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (error !== undefined) throw new Error(`InfluxDB ${t.display}: ${q}: ${error}`);
  return body;
}

/** CREATE DATABASE (a no-op when it exists). */
export async function createDatabase(t: InfluxTarget): Promise<void> {
  await influxQuery(t, `CREATE DATABASE "${t.db}"`);
}

/**
 * POST /write?db=&precision=ns[&rp=] of one batch of lines. 204: written. 404 (database not
 * found, e.g. dropped while we ran): retried after CREATE DATABASE. 408 and 429: retried.
 * Other 4xx (a line InfluxDB refused: a field type conflict, points past the retention
 * policy, bad credentials): a RejectedBatch, counted failed, not retried. 5xx, timeouts and
 * connection errors: retried with backoff by the BatchWriter.
 */
export class InfluxWriteTarget implements BatchTarget {
  readonly name = 'influx.zonescope_plot';
  private created: Promise<void> | null = null;

  constructor(readonly influx: InfluxTarget) {}

  ensureDatabase(): Promise<void> {
    this.created ??= createDatabase(this.influx).catch((err: unknown) => {
      this.created = null;
      throw err;
    });
    return this.created;
  }

  async send(body: Buffer): Promise<void> {
    await this.ensureDatabase();
    const t = this.influx;
    const url = `${t.base}/write?db=${encodeURIComponent(t.db)}&precision=ns${t.rp !== null ? `&rp=${encodeURIComponent(t.rp)}` : ''}`;
    const res = await fetch(url, { method: 'POST', headers: headers(t, 'text/plain; charset=utf-8'), body: body as Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(INFLUX_REQUEST_TIMEOUT_MS) });
    if (res.status === 204) {
      await res.arrayBuffer();
      return;
    }
    const text = (await res.text()).slice(0, 300);
    if (res.status === 404) {
      this.created = null;
      throw new Error(`InfluxDB ${t.display}: HTTP 404 ${text}`);
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new RejectedBatch(`InfluxDB ${t.display}: HTTP ${res.status} ${text}`);
    throw new Error(`InfluxDB ${t.display}: HTTP ${res.status} ${text}`);
  }
}

export interface InfluxSinkOptions {
  /** spool folder for batches that do not fit in memory (--data DIR/fleet-spool), or null */
  spoolDir: string | null;
  /** BatchWriter limits (tests make them small) */
  writer?: BatchWriterOptions;
}

/**
 * Writes every plot sample (the SDK's runtime metrics included) to InfluxDB 1.x as measurement
 * zonescope_plot: a FeedSink (plots only) turning samples into line protocol, through a
 * BatchWriter (batches, retry with backoff, spool, counters). The database is created before
 * the first write, and again after a 404.
 *
 * InfluxDB keys a point by measurement, tags and time: two samples of one plot in one session
 * at the same nanosecond are one point there (the later value wins), so count(value) counts
 * distinct sample times. Series: one per (app, host, plot, session), so InfluxDB's
 * max-series-per-database (default 1,000,000) bounds sessions x plots; retention is the
 * database's retention policy (`rp` in the URL, or CREATE RETENTION POLICY on the database).
 */
export class InfluxSink implements FeedSink {
  readonly name = 'influx';
  readonly writer: BatchWriter;
  readonly target: InfluxWriteTarget;
  /** samples InfluxDB cannot store (NaN, ±Infinity), not written */
  skippedSamples = 0;
  /** per session key: per plot name, the line's series key */
  private readonly keys = new Map<string, Map<string, string>>();

  constructor(
    readonly influx: InfluxTarget,
    options: InfluxSinkOptions,
  ) {
    this.target = new InfluxWriteTarget(influx);
    this.writer = new BatchWriter(this.target, { spoolDir: options.spoolDir, ...options.writer });
  }

  get counters(): BatchWriterCounters {
    return this.writer.counters;
  }

  hasRoom(): boolean {
    return this.writer.hasRoom();
  }

  plotSample(s: FeedSession, plot: string, timeNs: number, value: number): void {
    const v = fieldFloat(value);
    if (v === null) {
      this.skippedSamples++;
      return;
    }
    let plots = this.keys.get(s.key);
    if (!plots) this.keys.set(s.key, (plots = new Map()));
    let key = plots.get(plot);
    if (key === undefined) plots.set(plot, (key = seriesKey(s.app, s.host, plot, s.key)));
    this.writer.add(`${key} value=${v} ${absNs(s.startSec, timeNs)}\n`, 1);
  }

  sessionDone(s: FeedSession): void {
    this.keys.delete(s.key);
  }

  /** Resolves when everything queued so far is in InfluxDB (false: not within timeoutMs). */
  flush(timeoutMs = 30_000): Promise<boolean> {
    return this.writer.flush(timeoutMs);
  }

  async close(graceMs = 5000): Promise<void> {
    await this.writer.close(graceMs);
    const c = this.writer.counters;
    log('influx %s: %d plot samples queued, %d written, %d failed, %d dropped, %d skipped (NaN/Inf), %d retried sends', this.influx.display, c.queuedRows, c.writtenRows, c.failedRows, c.droppedRows, this.skippedSamples, c.retriedSends);
  }
}
