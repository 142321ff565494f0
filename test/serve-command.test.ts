/**
 * `zonescope serve` as users run it: the built CLI (dist/), spawned as a child process. It
 * prints where it listens (the real port when asked for port 0), serves the viewer and
 * the API, shuts down cleanly on SIGTERM and warns about a bind reachable from other hosts.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLI, ROOT, spawnCli, waitOutput, type Spawned } from './support/capture-files.js';
import { runSyntheticClient, SyntheticNames, syntheticWelcome } from './support/synthetic-client.js';

const run = promisify(execFile);

/** `zonescope serve ARGS` from the built CLI. */
const serve = (args: string[]): Spawned => spawnCli(['serve', ...args]);

describe('zonescope serve (the built CLI)', () => {
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // Build dist/ from the current sources, as `npm ci` (prepare) and `npm start` do.
    await run(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT }).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`the build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? e.message}`);
    });
  }, 180_000);
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('prints its options with --help and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'serve', '--help']);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: zonescope serve \[options\]/);
    for (const option of ['--http HOST:PORT', '--ingest HOST:PORT', '--connect HOST[:PORT]', '--discover', '--memory SIZE', '--quiet']) expect(stdout).toContain(option);
  });

  it('rejects an unknown option with exit code 2 and the help text', async () => {
    const err = await run(process.execPath, [CLI, 'serve', '--bogus']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toContain('zonescope serve: unknown option --bogus');
  });

  it('serves the viewer and an empty session list on the port it prints, then stops cleanly on SIGTERM', async () => {
    const s = serve(['--http', '127.0.0.1:0', '--ingest', '127.0.0.1:0']);
    children.push(s.child);
    const [, port] = await waitOutput(s, /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\//);
    expect(Number(port)).toBeGreaterThan(0);
    const [, ingestPort] = await waitOutput(s, /TCP ingest for SDK apps on 127\.0\.0\.1:(\d+)/);
    expect(Number(ingestPort)).toBeGreaterThan(0);
    await waitOutput(s, /memory budget 1024 MiB/); // the lines may arrive in separate chunks

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>Zonescope</title>');
    // the built viewer (npm run build bundles it into dist/viewer) and its script
    const script = /<script type="module" crossorigin src="\.\/(assets\/[^"]+\.js)"><\/script>/.exec(html);
    expect(script, html).not.toBeNull();
    const js = await fetch(`http://127.0.0.1:${port}/${script![1]}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    const list = await fetch(`http://127.0.0.1:${port}/api/sessions`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
    expect(s.stderr()).not.toContain('WARNING');

    s.child.kill('SIGTERM');
    const { code, signal } = await s.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(s.stdout()).toContain('zonescope: shutting down');
    await expect(fetch(`http://127.0.0.1:${port}/api/sessions`)).rejects.toThrow();
  });

  it('on SIGTERM tells a connected app to stop, closes viewers and exits 0', async () => {
    const s = serve(['--http', '127.0.0.1:0', '--ingest', '127.0.0.1:0', '--quiet']);
    children.push(s.child);
    const [, port] = await waitOutput(s, /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\//);
    const [, ingestPort] = await waitOutput(s, /TCP ingest for SDK apps on 127\.0\.0\.1:(\d+)/);
    const names = new SyntheticNames();
    names.srcloc(0x10, 'Work');
    let zones = 0;
    const app = runSyntheticClient({
      port: Number(ingestPort),
      welcome: syntheticWelcome('long-running'),
      names,
      flushEachBatch: true,
      produce: async (q) => {
        q.zoneBegin(1, zones * 1000, 0x10);
        q.zoneEnd(1, zones * 1000 + 500);
        zones++;
        await new Promise((r) => setTimeout(r, 10));
        return true; // until the server says stop
      },
    });
    const viewer = new WebSocket(`ws://127.0.0.1:${port}/api/live`);
    const viewerClosed = new Promise<number>((r) => viewer.once('close', (code) => r(code)));
    await new Promise((r) => viewer.once('open', r));
    for (let i = 0; i < 200; i++) {
      const list = (await (await fetch(`http://127.0.0.1:${port}/api/sessions`)).json()) as { zones: number }[];
      if ((list[0]?.zones ?? 0) > 5) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const { code } = await s.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const result = await app;
    expect(result.terminated).toBe(true); // ServerQueryTerminate before the close
    expect(await viewerClosed).toBeGreaterThan(0);
    expect(s.stderr()).toBe(''); // --quiet
  });

  it('exits with code 1 and says why when the discovery port is taken, instead of hanging', async () => {
    const holder = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((r) => holder.bind(0, '0.0.0.0', () => r()));
    try {
      const s = serve(['--http', '127.0.0.1:0', '--ingest', '127.0.0.1:0', `--discover=${holder.address().port}`]);
      children.push(s.child);
      const { code } = await s.exited;
      expect(code).toBe(1);
      expect(s.stderr()).toMatch(/^zonescope: Error: bind EADDRINUSE/m);
    } finally {
      holder.close();
    }
  });

  it('warns when the HTTP server is bound to an address reachable from other hosts without a token', async () => {
    // with a token (the default off loopback) there is nothing to warn about: test/security-cli.test.ts
    const s = serve(['--http', '0.0.0.0:0', '--ingest', 'off', '--memory', '64MB', '--no-token']);
    children.push(s.child);
    const [, port] = await waitOutput(s, /viewer and API on http:\/\/0\.0\.0\.0:(\d+)\//);
    // the startup lines may arrive in separate chunks: wait for the last one
    await waitOutput(s, /memory budget 64 MiB/);
    expect(s.stdout()).not.toContain('TCP ingest');
    const warning = `zonescope: WARNING: 0.0.0.0:${port} is reachable from other hosts`;
    for (let i = 0; i < 200 && !s.stderr().includes(warning); i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.stderr()).toContain(warning);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});

describe('serve options for connections', () => {
  it('parses the handshake and idle timeouts as durations and the connection limits as counts', async () => {
    const { parseServeArgs } = await import('../server/serve-command.js');
    const parsed = parseServeArgs(['--handshake-timeout', '250ms', '--idle-timeout', '2m', '--max-connections', '10', '--max-connections-per-address=3']);
    expect(parsed).not.toBe('help');
    expect(parsed !== 'help' && parsed.options).toMatchObject({ handshakeTimeoutMs: 250, idleTimeoutMs: 120_000, maxConnections: 10, maxConnectionsPerAddress: 3 });
    const off = parseServeArgs(['--idle-timeout', '0', '--handshake-timeout', '5s']);
    expect(off !== 'help' && off.options).toMatchObject({ idleTimeoutMs: 0, handshakeTimeoutMs: 5000 });
  });

  it('rejects a bad duration or count with a TypeError naming it', async () => {
    const { parseServeArgs } = await import('../server/serve-command.js');
    expect(() => parseServeArgs(['--idle-timeout', 'soon'])).toThrow(new TypeError('not a duration: soon (e.g. 500ms, 5s, 2m)'));
    expect(() => parseServeArgs(['--max-connections', '0'])).toThrow(new TypeError('--max-connections needs a positive integer, not 0'));
    expect(() => parseServeArgs(['--max-connections-per-address', '1.5'])).toThrow(new TypeError('--max-connections-per-address needs a positive integer, not 1.5'));
  });
});
