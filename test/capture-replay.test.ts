/**
 * `zonescope replay FILE --listen PORT` (the built CLI, spawned) -> `zonescope serve --connect`
 * (in process): the session the server records is the capture's content exactly, byte for byte
 * on the wire; later receivers get NotAvailable; a capture without Terminate ends like an app
 * that vanished. The captures are made from real recordings (head + the recording's frames)
 * and from the server's own .zscap export.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeWelcome, encodeHandshake } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { fixture, FIXTURES_PRESENT } from './support/inspect-fixtures.js';
import { getJson, waitFor, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { countPrefix, frameBoundaries } from './support/stream-truth.js';
import { expectSameSnapshot, storeSnapshot } from './support/store-snapshot.js';
import { decodeFixtureStore } from './support/fixture-store.js';
import { captureOfRecording, recordingHeadLength } from './support/recording-capture.js';
import { dialRecordedClient } from './support/tracy-replay.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** A build of its own, so it never races another test that builds or runs dist/. */
const OUT = join(ROOT, 'test-artifacts', 'capture-replay');
const CLI = join(OUT, 'dist', 'server', 'cli.js');

/** Writes the .zscap of `recording[0, end)` to OUT/NAME.zscap. */
function captureOf(recording: Uint8Array, name: string, end = recording.length): string {
  const path = join(OUT, `${name}.zscap`);
  writeFileSync(path, captureOfRecording(recording, end));
  return path;
}

interface Replayer {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function replay(file: string, extra: string[] = []): Promise<Replayer> {
  const child = spawn(process.execPath, [CLI, 'replay', file, '--listen', '127.0.0.1:0', ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const m = await waitFor(`the replay's listening line (stdout: ${out}, stderr: ${err})`, () => /listening on 127\.0\.0\.1:(\d+)/.exec(out) ?? (child.exitCode !== null ? Promise.reject(new Error(`exited ${child.exitCode}: ${err}`)) : undefined), 20_000);
  return { child, port: Number(m[1]), stdout: () => out, stderr: () => err, exited };
}

/** Dials the replay from a server in this process, as `zonescope serve --connect` does; waits for the session's end. */
async function receive(port: number): Promise<{ server: ServerHandle; id: string; details: Json }> {
  const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port }] });
  servers.push(server);
  const id = await waitNewSession(server, 0);
  const details = await waitSessionEnded(server, id, 120_000);
  return { server, id, details };
}

const children: ChildProcess[] = [];
const servers: ServerHandle[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  // Type errors elsewhere (work in progress) do not stop tsc from emitting: check the output.
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(OUT, 'dist')], { cwd: ROOT }).catch(() => {});
  expect(existsSync(CLI)).toBe(true);
}, 180_000);

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe.skipIf(!FIXTURES_PRESENT)('zonescope replay -> zonescope serve --connect', () => {
  for (const name of ['medium', 'small-ondemand'] as const) {
    // The query count is a timing check (every query the server sends before it ends the
    // session); on a loaded CI machine a retry absorbs a stray pause, a real regression fails all.
    it(`reproduces the ${name} capture exactly`, { retry: 2, timeout: 180_000 }, async () => {
      const recording = new Uint8Array(readFileSync(fixture(`${name}.client.bin`)));
      const r = await replay(captureOf(recording, name));
      const { server, id, details } = await receive(r.port);
      expect(details).toMatchObject({ state: 'ended', endReason: 'terminated', error: null, truncation: null });
      const session = server.registry.get(id)!;
      // byte for byte what the app sent, so everything decodes the same...
      expect(session.bytesReceived).toBe(recording.length);
      expect(session.welcome).toEqual(decodeWelcome(recording, 1));
      // ...and the store holds exactly the recording's content
      expectSameSnapshot(storeSnapshot(session.store), storeSnapshot(decodeFixtureStore(name)));
      expect(session.store.zonesEnded).toBe(decodeFixtureStore(name).zonesEnded);
      await waitFor('the replay to report the session', () => /sent (\d+) frames \((\d+) bytes\), the whole capture; (\d+) queries received; the receiver finished/.exec(r.stdout()));
      // as many query packets as Tracy's capture tool sent for the recording (its last one,
      // ServerQueryTerminate, is not counted as a query)
      const queries = (readFileSync(fixture(`${name}.server.bin`)).length - 12) / 13 - 1;
      expect(r.stdout()).toContain(`; ${queries} queries received;`);
    });
  }

  it('answers later receivers NotAvailable, then exits on SIGTERM', async () => {
    const recording = new Uint8Array(readFileSync(fixture('small.client.bin')));
    const r = await replay(captureOf(recording, 'small'));
    const { server } = await receive(r.port);
    // the server re-dials the finished "app" and is told NotAvailable, like a finished Tracy client
    await waitFor('the re-dial to be refused', () => /answered NotAvailable/.test(server.dialers[0]!.lastError ?? ''), 10_000);
    expect(server.registry.list().length).toBe(1);
    const status = await new Promise<number>((resolveStatus, reject) => {
      const socket = connect(r.port, '127.0.0.1', () => socket.write(encodeHandshake()));
      socket.once('data', (d) => {
        resolveStatus(d[0]!);
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(status).toBe(3);
    expect(r.stdout()).toContain('later receivers get NotAvailable');
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  }, 120_000);

  it('ends a capture without Terminate after its last complete frame, like an app that vanished', async () => {
    const recording = new Uint8Array(readFileSync(fixture('medium.client.bin')));
    const bounds = frameBoundaries(recording, recordingHeadLength(recording));
    const cutAt = bounds[Math.floor(bounds.length / 2)]! + 100; // inside a frame
    const lastWhole = bounds[Math.floor(bounds.length / 2)]!;
    const r = await replay(captureOf(recording, 'medium-cut', cutAt), ['--once']);
    const { server, id, details } = await receive(r.port);
    expect(details).toMatchObject({ endReason: 'disconnected', truncation: null, error: null });
    expect(server.registry.get(id)!.bytesReceived).toBe(lastWhole);
    const truth = countPrefix(recording, lastWhole);
    expect(details.zones).toBe(truth.zones);
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toContain('the capture has no Terminate');
    expect(r.stdout()).toContain('100 bytes of a cut last frame not sent');
  }, 120_000);

  it('replays the server\'s own .zscap export of a session into another server with the same content', async () => {
    const source = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
    servers.push(source);
    await dialRecordedClient(source.ingestPort!, readFileSync(fixture('medium.client.bin')), { chunkSize: 64 * 1024 });
    const sourceId = await waitNewSession(source, 0);
    await waitSessionEnded(source, sourceId);
    const res = await fetch(`http://127.0.0.1:${source.httpPort}/api/sessions/${sourceId}/export?format=zscap`);
    expect(res.status).toBe(200);
    const path = join(OUT, 'medium-export.zscap');
    writeFileSync(path, new Uint8Array(await res.arrayBuffer()));

    const r = await replay(path, ['--once']);
    const { server, id, details } = await receive(r.port);
    expect(details).toMatchObject({ endReason: 'terminated', error: null });
    expectSameSnapshot(storeSnapshot(server.registry.get(id)!.store), storeSnapshot(source.registry.get(sourceId)!.store));
    const list: Json[] = await getJson(server, '/api/sessions');
    expect(list[0].app).toBe('fixture_app');
    expect(await r.exited).toBe(0);
  }, 180_000);
});

describe('zonescope replay: usage', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [CLI, 'replay', ...args]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('prints its help, rejects a missing file with exit code 2 and a non-capture with 1', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: zonescope replay FILE\.zscap/);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('zonescope replay: no capture file given');
    const notCapture = join(OUT, 'not-a-capture.zscap');
    writeFileSync(notCapture, 'hello world, not a capture');
    const bad = await run([notCapture, '--listen', '127.0.0.1:0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a \.zscap capture/);
  });
});
