import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { log } from '../log.js';
import { forDatabase, MIGRATIONS, SCHEMA_TABLE, SCHEMA_VERSION } from './clickhouse-schema.js';

/** A ClickHouse server and the database Zonescope's tables are in. */
export interface ClickHouseTarget {
  client: ClickHouseClient;
  /** validated identifier ([A-Za-z_][A-Za-z0-9_]*) */
  database: string;
  /** the URL as given, without credentials (for logs and /metrics) */
  display: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Reads `http://[user:password@]host:port/?database=NAME` (default database `zonescope`).
 * @throws TypeError with what is wrong, before anything connects
 */
export function parseClickHouseUrl(text: string): { url: string; database: string; username?: string; password?: string; display: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new TypeError(`--clickhouse: not a URL: ${text} (e.g. http://127.0.0.1:8123/?database=zonescope)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`--clickhouse: ${u.protocol} is not http: or https:`);
  const database = u.searchParams.get('database') ?? 'zonescope';
  if (!IDENT.test(database)) throw new TypeError(`--clickhouse: database "${database}" is not a plain identifier`);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const base = `${u.protocol}//${u.host}`;
  return { url: base, database, ...(username !== undefined && { username }), ...(password !== undefined && { password }), display: `${base}/?database=${database}` };
}

/** A client for `text` (parseClickHouseUrl); nothing is sent until it is used. */
export function connectClickHouse(text: string, options: { requestTimeoutMs?: number } = {}): ClickHouseTarget {
  const p = parseClickHouseUrl(text);
  const client = createClient({
    url: p.url,
    ...(p.username !== undefined && { username: p.username }),
    ...(p.password !== undefined && { password: p.password }),
    request_timeout: options.requestTimeoutMs ?? 30_000,
    // 18.16 knows no newer settings the client would send by default
    clickhouse_settings: {},
    // failures reach our own log once per outage (batch-writer.ts), not a stack per request
    log: { level: ClickHouseLogLevel.OFF },
  });
  return { client, database: p.database, display: p.display };
}

/**
 * Creates the database and brings its tables to SCHEMA_VERSION, applying each missing
 * migration once, in order, and recording it in zs_schema. A database written by a newer
 * Zonescope (higher version) is refused: this build would misread it.
 * @returns the versions applied now (empty when already current)
 */
export async function migrate(target: ClickHouseTarget): Promise<number[]> {
  const { client, database } = target;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: forDatabase(SCHEMA_TABLE, database) });
  const rs = await client.query({ query: `SELECT max(version) AS v, count() AS n FROM ${database}.zs_schema`, format: 'JSONEachRow' });
  const [row] = (await rs.json()) as { v: number | string; n: number | string }[];
  const current = Number(row?.n ?? 0) > 0 ? Number(row?.v ?? 0) : 0;
  if (current > SCHEMA_VERSION) throw new Error(`ClickHouse ${target.display} has schema version ${current}; this Zonescope knows ${SCHEMA_VERSION}: upgrade Zonescope`);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    for (const s of m.statements) await client.command({ query: forDatabase(s, database) });
    await client.insert({ table: `${database}.zs_schema`, values: [{ version: m.version, what: m.what, applied: Math.floor(Date.now() / 1000) }], format: 'JSONEachRow' });
    log('clickhouse %s: schema version %d applied (%s)', target.display, m.version, m.what);
    applied.push(m.version);
  }
  return applied;
}

/**
 * A String literal for SQL. ClickHouse 18.16 has no query parameters ({name:Type} arrived in
 * 19.x: 18.16 answers "Unknown setting param_..."), so values are inlined, quoted here: every
 * backslash and quote escaped, control characters as escapes.
 */
export function sqlString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\0/g, '\\0')}'`;
}

/** An integer literal for SQL, checked: decimal digits only (Int64/UInt64 values beyond 2^53 are passed as strings or bigints). */
export function sqlInt(value: number | bigint | string): string {
  const text = typeof value === 'string' ? value : typeof value === 'bigint' ? value.toString() : Number.isSafeInteger(value) ? String(value) : '';
  if (!/^-?\d{1,20}$/.test(text)) throw new TypeError(`not an integer: ${String(value)}`);
  return text;
}
