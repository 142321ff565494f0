/**
 * The InfluxDB sink's line protocol (escaping checked against what influxd 1.6 parses, exact ns
 * timestamps past 2^53) and its write requests against a scripted HTTP server on 127.0.0.1:
 * which answers are written, refused (counted, not retried) or retried. The real influxd
 * round trip is in test/influx-sink.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchWriter, RejectedBatch } from './batch-writer.js';
import { escapeTag, fieldFloat, InfluxWriteTarget, parseInfluxUrl, plotLine } from './influx-sink.js';

describe('escapeTag', () => {
  it.each([
    ['plain', 'rss', 'rss'],
    ['commas, spaces and equals signs', 'a,b c=d', 'a\\,b\\ c\\=d'],
    ['quotes (literal in tags)', 'q"uo\'te', 'q"uo\'te'],
    ['a backslash before an ordinary character (literal)', 'a\\b', 'a\\b'],
    ['a backslash before a special character (doubled, or the parser takes it as an escape)', 'a\\,b', 'a\\\\\\,b'],
    ['newlines and carriage returns as \\n and \\r', 'x\ny\r', 'x\\ny\\r'],
    ['trailing backslashes (not representable: dropped)', 'end\\\\', 'end'],
    ['unicode', 'unicodé✓ µs', 'unicodé✓\\ µs'],
    ['only a backslash (empty: the tag is left out)', '\\', ''],
  ])('escapes %s', (_what, text, want) => {
    expect(escapeTag(text)).toBe(want);
  });
});

describe('plotLine', () => {
  const s = { app: 'my app', host: 'box-1', key: 'abcd0123-7', startSec: 1_733_580_000 };

  it('writes tags in key order, the value as a float and the absolute time as exact integer nanoseconds', () => {
    // 1733580000 s + 1.5 s + 1 ns: 1733580001500000001 > 2^53, exact only as text
    expect(plotLine(s, 'heap used', 1_500_000_001, 42)).toBe('zonescope_plot,app=my\\ app,host=box-1,plot=heap\\ used,session=abcd0123-7 value=42 1733580001500000001\n');
    expect(plotLine(s, 'p', 0, -0.125)).toBe('zonescope_plot,app=my\\ app,host=box-1,plot=p,session=abcd0123-7 value=-0.125 1733580000000000000\n');
  });

  it('rounds fractional nanoseconds and carries into the seconds', () => {
    expect(plotLine(s, 'p', 999_999_999.6, 1)).toMatch(/ 1733580001000000000\n$/);
  });

  it('leaves empty tags out', () => {
    expect(plotLine({ ...s, host: '' }, 'p', 1, 1)).toBe('zonescope_plot,app=my\\ app,plot=p,session=abcd0123-7 value=1 1733580000000000001\n');
  });

  it('gives null for NaN and infinities, which InfluxDB 1.x cannot store', () => {
    expect(plotLine(s, 'p', 1, NaN)).toBeNull();
    expect(fieldFloat(Infinity)).toBeNull();
    expect(fieldFloat(-Infinity)).toBeNull();
    expect(fieldFloat(1e308)).toBe('1e+308');
  });
});

describe('parseInfluxUrl', () => {
  it('reads the database, retention policy and credentials, and keeps them out of the display form', () => {
    const t = parseInfluxUrl('http://me:s%3Acret@127.0.0.1:8086/?db=metrics&rp=week');
    expect(t).toEqual({ base: 'http://127.0.0.1:8086', db: 'metrics', rp: 'week', authorization: `Basic ${Buffer.from('me:s:cret').toString('base64')}`, display: 'http://127.0.0.1:8086/?db=metrics&rp=week' });
    expect(parseInfluxUrl('http://127.0.0.1:8086').db).toBe('zonescope');
  });

  it.each([
    ['not a URL', 'nope', /not a URL/],
    ['another scheme', 'udp://127.0.0.1:8089', /udp: is not http/],
    ['a database name with a quote', 'http://127.0.0.1:8086/?db=a"b', /not a plain name/],
  ])('refuses %s with a TypeError', (_what, url, message) => {
    expect(() => parseInfluxUrl(url)).toThrow(TypeError);
    expect(() => parseInfluxUrl(url)).toThrow(message);
  });
});

/** A scripted InfluxDB: /query answers CREATE DATABASE, /write answers with the next status of `writes` (then 204). */
class FakeInflux {
  server: Server;
  queries: string[] = [];
  writes: { url: string; body: string; authorization: string | undefined }[] = [];
  statuses: number[] = [];
  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<FakeInflux> {
    const fake = new FakeInflux(createServer());
    fake.server.on('request', (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/query') {
          fake.queries.push(new URLSearchParams(body).get('q')!);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
          return;
        }
        fake.writes.push({ url: req.url!, body, authorization: req.headers.authorization });
        const status = fake.statuses.shift() ?? 204;
        if (status === 204) res.writeHead(204).end();
        else res.writeHead(status, { 'content-type': 'application/json' }).end(`{"error":"scripted ${status}"}`);
      });
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('InfluxWriteTarget', () => {
  let fake: FakeInflux;
  afterEach(async () => {
    await fake?.close();
  });

  it('creates the database once, then POSTs each batch to /write with ns precision, the retention policy and credentials', async () => {
    fake = await FakeInflux.start();
    const target = new InfluxWriteTarget(parseInfluxUrl(`http://u:p@${fake.url.slice(7)}/?db=zs&rp=week`));
    await target.send(Buffer.from('m value=1 1\n'));
    await target.send(Buffer.from('m value=2 2\n'));
    expect(fake.queries).toEqual(['CREATE DATABASE "zs"']);
    expect(fake.writes.map((w) => [w.url, w.body, w.authorization])).toEqual([
      ['/write?db=zs&precision=ns&rp=week', 'm value=1 1\n', `Basic ${Buffer.from('u:p').toString('base64')}`],
      ['/write?db=zs&precision=ns&rp=week', 'm value=2 2\n', `Basic ${Buffer.from('u:p').toString('base64')}`],
    ]);
  });

  it.each([400, 401, 413])('refuses a batch answered %i with a RejectedBatch (not retried)', async (status) => {
    fake = await FakeInflux.start();
    fake.statuses = [status];
    const target = new InfluxWriteTarget(parseInfluxUrl(`${fake.url}/?db=zs`));
    await expect(target.send(Buffer.from('m value=1 1\n'))).rejects.toThrow(RejectedBatch);
  });

  it.each([500, 503, 429, 408])('fails a batch answered %i with a plain error (retried)', async (status) => {
    fake = await FakeInflux.start();
    fake.statuses = [status];
    const target = new InfluxWriteTarget(parseInfluxUrl(`${fake.url}/?db=zs`));
    const err = await target.send(Buffer.from('m value=1 1\n')).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RejectedBatch);
    expect((err as Error).message).toContain(`HTTP ${status}`);
  });

  it('creates the database again after a 404 (dropped while the server ran)', async () => {
    fake = await FakeInflux.start();
    fake.statuses = [404];
    const target = new InfluxWriteTarget(parseInfluxUrl(`${fake.url}/?db=zs`));
    await expect(target.send(Buffer.from('m value=1 1\n'))).rejects.toThrow(/HTTP 404/);
    await target.send(Buffer.from('m value=1 1\n'));
    expect(fake.queries).toEqual(['CREATE DATABASE "zs"', 'CREATE DATABASE "zs"']);
  });

  it('fails with a plain error when nothing listens (retried)', async () => {
    fake = await FakeInflux.start();
    const url = fake.url;
    await fake.close();
    const target = new InfluxWriteTarget(parseInfluxUrl(`${url}/?db=zs`));
    const err = await target.send(Buffer.from('m value=1 1\n')).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RejectedBatch);
  });

  it('through a BatchWriter: a 503 is retried until written, a 400 is counted failed and dropped', async () => {
    fake = await FakeInflux.start();
    fake.statuses = [503, 503, 204, 400];
    const writer = new BatchWriter(new InfluxWriteTarget(parseInfluxUrl(`${fake.url}/?db=zs`)), { backoffMinMs: 1, backoffMaxMs: 4, flushMs: 1 });
    writer.add('m value=1 1\nm value=2 2\n', 2);
    expect(await writer.flush(10_000)).toBe(true);
    writer.add('m value=3 3\n', 1);
    expect(await writer.flush(10_000)).toBe(true);
    writer.add('m value=4 4\n', 1);
    expect(await writer.flush(10_000)).toBe(true);
    expect(writer.counters).toMatchObject({ queuedRows: 4, writtenRows: 3, retriedSends: 2, failedRows: 1, droppedRows: 0 });
    expect(fake.writes.map((w) => w.body)).toEqual(['m value=1 1\nm value=2 2\n', 'm value=1 1\nm value=2 2\n', 'm value=1 1\nm value=2 2\n', 'm value=3 3\n', 'm value=4 4\n']);
    await writer.close();
  });
});
