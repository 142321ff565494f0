/**
 * The capture commands as users run them: the built CLI (dist/), spawned.
 * - `serve --data DIR` killed with SIGKILL in the middle of a session: after a restart the
 *   capture is listed and holds every frame the server had received before the kill;
 * - `capture --connect` against a listening Tracy client writes a file equal in content to
 *   the recording, with progress lines on stderr (none with --quiet), and fails clearly when
 *   nobody listens;
 * - `view FILE` serves the capture.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runInspect } from '../server/inspect/inspect-command.js';
import type { InspectReport } from '../server/inspect/inspect-report.js';
import { captureFromRecording, clientHeadLength, ensureBuilt, frameEnds, spawnCli, waitOutput, type Spawned } from './support/capture-files.js';
import { CollectingStream, FIXTURES_PRESENT, fixture, readTruth } from './support/inspect-fixtures.js';
import { getJson, waitFor, type Json } from './support/server-api.js';
import { dialRecordedClient, listenRecordedClient } from './support/tracy-replay.js';

if (!FIXTURES_PRESENT) console.warn('captures-cli: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

const dir = mkdtempSync(join(tmpdir(), 'zonescope-cli-'));
const children: Spawned[] = [];
function cli(args: string[]): Spawned {
  const s = spawnCli(args);
  children.push(s);
  return s;
}

async function inspect(path: string): Promise<{ code: number; report: InspectReport; err: string }> {
  const out = new CollectingStream();
  const err = new CollectingStream();
  const code = await runInspect([path, '--json'], out, err);
  return { code, report: JSON.parse(out.text) as InspectReport, err: err.text };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);
afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!FIXTURES_PRESENT)('zonescope serve --data, killed with SIGKILL mid-session', () => {
  it('keeps every frame received before the kill, lists the capture after a restart and opens it', async () => {
    const medium = new Uint8Array(readFileSync(fixture('medium.client.bin')));
    const data = join(dir, 'spool');
    const first = cli(['serve', '--data', data, '--http', '127.0.0.1:0', '--ingest', '127.0.0.1:0', '--quiet']);
    const [, port] = await waitOutput(first, /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\//);
    const [, ingestPort] = await waitOutput(first, /TCP ingest for SDK apps on 127\.0\.0\.1:(\d+)/);
    await waitOutput(first, /memory budget/);
    // ~3 MB in 16 KiB chunks, 10 ms apart: about 2 s of streaming
    const replay = dialRecordedClient(Number(ingestPort), medium, { chunkSize: 16 * 1024, pauseMs: 10 });
    const before: Json = await waitFor('a third of the recording decoded', async () => {
      const list: Json[] = await getJson(Number(port), '/api/sessions');
      return list[0] && list[0].bytes > medium.length / 3 ? list[0] : undefined;
    });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await replay;
    expect(before.bytes).toBeLessThan(medium.length); // really mid-session
    // frames the server had decoded when it was last asked (the kill came later still)
    const decodedFrames = frameEnds(medium).filter((e) => e <= before.bytes).length;
    expect(decodedFrames).toBeGreaterThan(5);

    const file = join(data, `${before.id}.zscap`);
    const cut = await inspect(file);
    expect(cut.report.capture!.frames).toBeGreaterThanOrEqual(decodedFrames);
    expect(cut.report.errors.every((e) => e.startsWith('ZS_PROTOCOL_TRUNCATED')), cut.report.errors.join('\n')).toBe(true);
    // it inspects like the recording cut after the same frames
    const streamEnd = clientHeadLength(medium) + (frameEnds(medium)[cut.report.capture!.frames - 1]! - clientHeadLength(medium));
    const prefix = join(dir, 'prefix.client.bin');
    writeFileSync(prefix, medium.subarray(0, streamEnd));
    const { capture: _capture, errors: _e1, ...cutRest } = cut.report;
    const { errors: _e2, ...prefixRest } = (await inspect(prefix)).report;
    expect(cutRest).toEqual(prefixRest);

    const second = cli(['serve', '--data', data, '--http', '127.0.0.1:0', '--ingest', 'off', '--quiet']);
    const [, port2] = await waitOutput(second, /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\//);
    await waitOutput(second, /1 stored capture listed/);
    const list: Json[] = await getJson(Number(port2), '/api/sessions');
    expect(list.map((s) => [s.id, s.endReason])).toEqual([[before.id, 'stored']]);
    const details = await getJson(Number(port2), `/api/sessions/${before.id}`);
    expect(details).toMatchObject({ state: 'ended', endReason: 'disconnected', error: null });
    expect(details.zones).toBe(cut.report.zones.reduce((n, z) => n + z.count - z.open, 0));
    expect(details.zones).toBeGreaterThanOrEqual(before.zones);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 120_000);
});

describe.skipIf(!FIXTURES_PRESENT)('zonescope capture', () => {
  it('writes what a Tracy client sends, equal in content to the recording, with a progress line about once a second', async () => {
    const medium = readFileSync(fixture('medium.client.bin'));
    // ~3 MB in 32 KiB chunks, 25 ms apart: over 2 s, so progress lines appear
    const client = await listenRecordedClient(medium, { chunkSize: 32 * 1024, pauseMs: 25 });
    try {
      const out = join(dir, 'run.zscap');
      const run = cli(['capture', '--connect', `127.0.0.1:${client.port}`, '-o', out]);
      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(0);
      expect((await client.done).terminated).toBe(true);
      const stderr = run.stderr();
      expect(stderr).toMatch(/^zonescope capture: fixture_app \(pid \d+\) at 127\.0\.0\.1:\d+ -> .*run\.zscap$/m);
      const progress = stderr.split('\n').filter((l) => l.startsWith('capture: '));
      expect(progress.length, stderr).toBeGreaterThanOrEqual(1);
      for (const line of progress) expect(line).toMatch(/^capture: [\d.]+ (B|KiB|MiB), [\d,]+ zones, [\d.]+ (B|KiB|MiB)\/s, \d+:\d\d$/);
      expect(stderr).toMatch(/^zonescope capture: wrote .*run\.zscap: [\d.]+ MiB, [\d,]+ frames, [\d,]+ zones in \d+:\d\d \(the app terminated\)$/m);
      // its store counts the zones without keeping them (ZoneCountingStore): the count is exact
      const truth = readTruth('medium');
      const zones = Number(/, ([\d,]+) zones in /.exec(stderr)![1]!.replaceAll(',', ''));
      expect(zones).toBe(truth.zones_total - truth.zones_open_at_exit);
      expect(run.stdout()).toBe('');

      const ours = await inspect(out);
      const theirs = await inspect(fixture('medium.client.bin'));
      const { capture, ...rest } = ours.report;
      expect(rest).toEqual(theirs.report);
      expect(capture).toMatchObject({ source: 'capture', cutBytes: 0, remote: `127.0.0.1:${client.port}` });
      expect(ours.code).toBe(0);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('prints nothing with --quiet, stops after --seconds leaving a whole file, and refuses to overwrite', async () => {
    const medium = readFileSync(fixture('medium.client.bin'));
    // slow enough that --seconds 1.5 stops it in the middle
    const client = await listenRecordedClient(medium, { chunkSize: 16 * 1024, pauseMs: 40 });
    const out = join(dir, 'quiet.zscap');
    try {
      const run = cli(['capture', '--connect', `127.0.0.1:${client.port}`, '-o', out, '--seconds', '1.5', '--quiet']);
      const { code } = await run.exited;
      expect(code, run.stderr()).toBe(0);
      expect(run.stderr()).toBe('');
      const r = await inspect(out);
      // stopped between frames: nothing cut, just no Terminate at the end
      expect(r.report.capture!.cutBytes).toBe(0);
      expect(r.report.capture!.frames).toBeGreaterThan(0);
      expect(r.report.errors).toEqual([expect.stringMatching(/without the app's Terminate item/)]);
      expect((await client.done).terminated).toBe(true); // ServerQueryTerminate was sent
    } finally {
      await client.close();
    }
    const again = cli(['capture', '--connect', '127.0.0.1:1', '-o', out]);
    expect((await again.exited).code).toBe(2);
    expect(again.stderr()).toContain('quiet.zscap exists; use --force to overwrite it');
  }, 60_000);

  it('exits 1 with a clear message when nobody listens', async () => {
    const port = await closedPort();
    const run = cli(['capture', '--connect', `127.0.0.1:${port}`, '-o', join(dir, 'nobody.zscap')]);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toBe(`zonescope capture: cannot connect to 127.0.0.1:${port}: nothing listens there (is the app running, built with Tracy enabled? Tracy clients listen on 8086, or the next free port up to 8105)\n`);
  });

  it('rejects a missing -o with exit code 2 and the help text', async () => {
    const run = cli(['capture', '--connect', '127.0.0.1']);
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toContain('zonescope capture: -o FILE.zscap is required');
    expect(run.stderr()).toContain('Usage: zonescope capture --connect HOST[:PORT] -o FILE.zscap');
  });
});

describe.skipIf(!FIXTURES_PRESENT)('zonescope view', () => {
  it('serves a capture and prints the viewer URL', async () => {
    const { file } = captureFromRecording(new Uint8Array(readFileSync(fixture('medium.client.bin'))));
    const path = join(dir, 'view.zscap');
    writeFileSync(path, file);
    const run = cli(['view', path, '--http', '127.0.0.1:0']);
    const [, port, id] = await waitOutput(run, /viewing .*view\.zscap at http:\/\/127\.0\.0\.1:(\d+)\/\?session=(\S+)/);
    const truth = readTruth('medium');
    // listed at once as a capture; its app is known once the file's first frame (the welcome) is
    // decoded, which under load may come after the URL is printed: wait for it, not for luck
    const list: Json[] = await waitFor('the capture listed with its app', async () => {
      const l: Json[] = await getJson(Number(port), '/api/sessions');
      return l[0]?.app != null ? l : undefined;
    });
    expect(list.map((s) => [s.id, s.source, s.app])).toEqual([[id, 'capture', 'fixture_app']]);
    const ended: Json = await waitFor('the capture to load', async () => {
      const d = await getJson(Number(port), `/api/sessions/${id}`);
      return d.state === 'ended' ? d : undefined;
    });
    expect(ended).toMatchObject({ endReason: 'terminated', error: null, zones: truth.zones_total });
    const page = await fetch(`http://127.0.0.1:${port}/?session=${id}`);
    expect(page.status).toBe(200);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(run.stderr()).toMatch(/zonescope view: loaded .*view\.zscap: fixture_app, [\d,]+ zones on \d+ threads in \d+:\d\d/);
  }, 60_000);

  it('serves a Chrome trace, converted on the way', async () => {
    const run = cli(['view', fixture('chrome/basic.json'), '--http', '127.0.0.1:0', '--quiet']);
    const [, port, id] = await waitOutput(run, /viewing .*basic\.json at http:\/\/127\.0\.0\.1:(\d+)\/\?session=(\S+)/);
    const ended: Json = await waitFor('the trace to load', async () => {
      const d = await getJson(Number(port), `/api/sessions/${id}`);
      return d.state === 'ended' ? d : undefined;
    });
    // basic.zones-unwrapped.csv (Tracy's import-chrome, then csvexport) has six zones
    expect(ended).toMatchObject({ source: 'import', error: null, zones: 6 });
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  }, 60_000);

  it('says what it cannot open', async () => {
    const missing = cli(['view', join(dir, 'missing.zscap')]);
    expect((await missing.exited).code).toBe(2);
    expect(missing.stderr()).toMatch(/zonescope view: cannot read .*missing\.zscap/);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some text');
    const other = cli(['view', text]);
    expect((await other.exited).code).toBe(2);
    expect(other.stderr()).toContain('is neither a capture (.zscap), a Chrome trace (.json) nor a recorded Tracy stream');
  });
});
