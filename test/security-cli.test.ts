/**
 * The security options of `zonescope serve` as users run it (the built CLI): bound to 0.0.0.0
 * it prints a ready-to-open URL with a generated token, which opens the viewer while requests
 * without it get 401; ZONESCOPE_TOKEN and --token are required and never echoed; --no-token
 * warns; an unguarded TCP ingest off loopback and bad values exit 2 naming the flag.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, spawnCli, waitOutput, type Spawned } from './support/capture-files.js';
import { rawRequest, tryWebSocket } from './support/raw-http.js';

const run = promisify(execFile);

describe('zonescope serve: security options (the built CLI)', () => {
  const children: ChildProcess[] = [];
  const serve = (args: string[], env?: NodeJS.ProcessEnv): Spawned => {
    const s = spawnCli(['serve', ...args], env);
    children.push(s.child);
    return s;
  };
  beforeAll(() => ensureBuilt(), 180_000);
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('bound to 0.0.0.0, prints the viewer URL with a generated token, which opens; without it 401', async () => {
    const s = serve(['--http', '0.0.0.0:0', '--ingest', 'off', '--quiet']);
    const [, port, token] = await waitOutput(s, /viewer and API on http:\/\/0\.0\.0\.0:(\d+)\/\?token=([A-Za-z0-9_-]{43}) /);
    await waitOutput(s, /reachable from other hosts: every request needs the token/);
    const p = Number(port);
    expect((await rawRequest({ port: p, path: '/api/sessions' })).status).toBe(401);
    expect((await rawRequest({ port: p, path: '/metrics' })).status).toBe(401);
    expect((await tryWebSocket(p, '/api/live')).opened).toBe(false);
    // the printed URL, as a browser opens it: Host 0.0.0.0 (the bound address) is answered
    const login = await rawRequest({ port: p, path: `/?token=${token}`, headers: { Host: `0.0.0.0:${p}` } });
    expect(login.status).toBe(302);
    const cookie = login.headers['set-cookie']![0]!.split(';')[0]!;
    const page = await rawRequest({ port: p, path: '/', headers: { Host: `0.0.0.0:${p}`, Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Zonescope</title>');
    expect((await rawRequest({ port: p, path: '/metrics', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    // the token appears once, in the startup line, never in the log
    expect(s.stdout().split(token!).length - 1).toBe(1);
    expect(s.stderr()).not.toContain(token!);
    expect(s.stderr()).not.toContain('WARNING');
  });

  it('requires ZONESCOPE_TOKEN when set, and does not print it', async () => {
    const token = 'env-token-0123456789';
    const s = serve(['--http', '127.0.0.1:0', '--ingest', 'off'], { ...process.env, ZONESCOPE_TOKEN: token });
    const [, port] = await waitOutput(s, /viewer and API on http:\/\/127\.0\.0\.1:(\d+)\/ /);
    await waitOutput(s, /every request needs the token given with --token or ZONESCOPE_TOKEN/);
    expect((await rawRequest({ port: Number(port), path: '/api/sessions' })).status).toBe(401);
    expect((await rawRequest({ port: Number(port), path: '/api/sessions', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(s.stdout() + s.stderr()).not.toContain(token);
  });

  it('warns with --no-token off loopback, and answers without a token', async () => {
    const s = serve(['--http', '0.0.0.0:0', '--ingest', 'off', '--no-token']);
    const [, port] = await waitOutput(s, /viewer and API on http:\/\/0\.0\.0\.0:(\d+)\/ /);
    for (let i = 0; i < 200 && !s.stderr().includes('WARNING'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.stderr()).toContain(`zonescope: WARNING: 0.0.0.0:${port} is reachable from other hosts and --no-token is set: anyone on the network can read, import and delete sessions`);
    expect((await rawRequest({ port: Number(port), path: '/api/sessions' })).status).toBe(200);
  });

  it.each([
    ['a TCP ingest off loopback without --ingest-allow', ['--ingest', '0.0.0.0:0'], /TCP ingest on 0\.0\.0\.0 is reachable from other hosts .*--ingest-allow CIDR/],
    ['--token with --no-token', ['--token', '0123456789abcdef', '--no-token'], /--token and --no-token are contradictory/],
    ['a short --token', ['--token', 'abc'], /--token must be 16 to 256 characters/],
    ['a bad --ingest-allow', ['--ingest-allow', 'lan'], /not an address or CIDR range: lan/],
    ['an --allow-origin with a path', ['--allow-origin', 'http://a.test/x'], /--allow-origin takes an origin like http:\/\/localhost:5173/],
    ['--tls-cert without --tls-key', ['--tls-cert', 'cert.pem'], /--tls-cert and --tls-key go together/],
    ['a missing certificate file', ['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], /cannot read the TLS certificate or key: ENOENT/],
  ])('exits 2 and says why for %s', async (_what, args, message) => {
    const err = await run(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0', ...args]).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(message);
  });

  it('lists the security options in --help', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'serve', '--help']);
    for (const o of ['--allow-host NAME', '--allow-origin ORIGIN', '--token TOKEN', '--no-token', '--ingest-allow CIDR', '--tls-cert FILE', '--tls-key FILE']) expect(stdout).toContain(o);
  });
});
