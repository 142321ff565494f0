/**
 * The built package as users get it: `import('zonescope/client')` in plain `node` (no loader),
 * the browser entry free of Node built-ins, exit handling, and worker threads joining the main
 * thread's session, each in a separate plain-node process.
 *
 * It builds (`tsc -p tsconfig.build.json`) into its own package folder, test-artifacts/sdk-dist/pkg
 * (dist/ plus a package.json with the repository's name and `exports` map), and runs node there:
 * the self-reference `zonescope/client` resolves through the real exports map, and the build
 * never races another test that builds or runs the repository's dist/.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { getJson, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'test-artifacts', 'sdk-dist', 'pkg');
const ROOT_PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

let server: ServerHandle;

beforeAll(async () => {
  mkdirSync(PKG, { recursive: true });
  // Type errors elsewhere (work in progress) do not stop tsc from emitting: check the output.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(PKG, 'dist')], { cwd: ROOT }).catch(() => {});
  expect(existsSync(join(PKG, 'dist/client/node.js'))).toBe(true);
  writeFileSync(join(PKG, 'package.json'), JSON.stringify({ name: ROOT_PACKAGE.name, type: ROOT_PACKAGE.type, exports: ROOT_PACKAGE.exports }, null, 2));
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

/** Runs `node <args>` in the package folder; resolves with stdout (rejects with stderr). */
function node(args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: PKG, env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`node exited ${code}: ${err}`))));
    if (input !== undefined) child.stdin.end(input);
  });
}

describe('the built package', () => {
  it("imports as 'zonescope/client' in plain node and records a session", async () => {
    const before = server.registry.list().length;
    const code = `
      const { connect, listen, ClientError } = await import('zonescope/client');
      const tracy = await connect({ appName: 'plain-node', port: ${server.ingestPort} });
      tracy.setThreadName('main');
      const z = tracy.zoneBegin('Calculating Sin', 0xF0F0F0);
      tracy.zoneValue(z, 150); tracy.zoneText(z, 'Sleep 50');
      tracy.frameMarkStart('Calculating sin(x)'); tracy.frameMarkEnd('Calculating sin(x)');
      tracy.message('Sin(x) = 0.84', 0xFF0F0F);
      tracy.plot('sin(x)', 0.84);
      tracy.zoneEnd(z);
      tracy.frameMark();
      await tracy.zone('handle request', async () => { await new Promise((r) => setTimeout(r, 2)); });
      await tracy.close();
      console.log(JSON.stringify({ listen: typeof listen, ClientError: typeof ClientError, stats: tracy.stats, loaders: process.execArgv.filter((a) => a.startsWith('--') && /loader|import|require/.test(a)) }));
    `;
    const out = JSON.parse(await node(['--input-type=module', '-e', code]));
    expect(out).toMatchObject({ listen: 'function', ClientError: 'function', loaders: [] });
    expect(out.stats.dropped).toBe(0);
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'plain-node', endReason: 'terminated', messages: 1, zones: 2 });
  });

  it('has a browser entry (the "browser" export condition) that reaches no Node built-in and no `ws`', async () => {
    expect(ROOT_PACKAGE.exports['./client']).toEqual({ types: './dist/client/node.d.ts', browser: './dist/client/browser.js', default: './dist/client/node.js' });
    const seen = new Set<string>();
    const bad: string[] = [];
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else if (spec !== 'lz4js') bad.push(`${file.slice(PKG.length + 1)} imports ${spec}`);
      }
    };
    walk(join(PKG, 'dist/client/browser.js'));
    expect(seen.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
    const keys = await node(['--conditions=browser', '--input-type=module', '-e', "const m = await import('zonescope/client'); console.log(Object.keys(m).sort().join(','))"]);
    expect(keys.trim()).toBe('ClientError,ClientErrorCode,connect,joinKey,listen,nowNs');
  });

  it('closes the session on beforeExit when the app never calls close(), ending its open zones', async () => {
    const before = server.registry.list().length;
    const code = `
      const { connect } = await import('zonescope/client');
      const tracy = await connect({ appName: 'forgetful', port: ${server.ingestPort} });
      for (let i = 0; i < 100; i++) tracy.zone('work', () => {});
      tracy.zoneBegin('left open');
    `;
    await node(['--input-type=module', '-e', code]);
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'forgetful', endReason: 'terminated', error: null, zones: 101 });
  });

  it('sends what it holds when the process exits with process.exit() (best effort, synchronous)', async () => {
    const before = server.registry.list().length;
    const code = `
      const { connect } = await import('zonescope/client');
      const tracy = await connect({ appName: 'abrupt', port: ${server.ingestPort} });
      for (let i = 0; i < 100; i++) tracy.zone('work', () => {});
      process.exit(0);
    `;
    await node(['--input-type=module', '-e', code]);
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'abrupt', error: null, truncation: null, zones: 100 });
  });

  it('records worker threads as threads of the main session, on one time line', async () => {
    const before = server.registry.list().length;
    const script = join(PKG, 'workers.mjs');
    writeFileSync(
      script,
      `
      import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
      import { connect } from 'zonescope/client';
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      if (isMainThread) {
        const tracy = await connect({ appName: 'with-workers', port: Number(process.argv[2]) });
        tracy.setThreadName('main');
        const done = (w) => new Promise((r) => w.once('message', r));
        const workers = ['worker-a', 'worker-b'].map((name) => new Worker(new URL(import.meta.url), { workerData: { name } }));
        const exited = workers.map((w) => new Promise((r) => w.once('exit', r)));
        const stuck = new Worker(new URL(import.meta.url), { workerData: { name: 'worker-open' } });
        await Promise.all([...workers, stuck].map(done));
        for (let i = 0; i < 5; i++) tracy.zone('main work', () => {});
        await tracy.close();
        await Promise.all(exited);
        await stuck.terminate();
        console.log(JSON.stringify(tracy.stats));
      } else {
        const tracy = await connect();
        tracy.setThreadName(workerData.name);
        for (let i = 0; i < 20; i++) {
          const z = tracy.zoneBegin('worker job');
          tracy.zoneValue(z, i);
          tracy.zone('worker step', () => {});
          tracy.zoneEnd(z);
          tracy.plot('queue', i);
        }
        tracy.message('hello from ' + workerData.name);
        await Promise.all([1, 2].map(() => tracy.zone('worker async', async () => sleep(3))));
        await tracy.zoneAsync('worker async', () => sleep(1));
        if (workerData.name === 'worker-open') {
          tracy.zoneBegin('never ended');
          await sleep(50); // its last report reaches the main thread; it never closes
          parentPort.postMessage('ready');
          setInterval(() => {}, 1000); // still running when the main thread closes
        } else {
          await tracy.close();
          parentPort.postMessage('done');
        }
      }
      `,
    );
    const stats = JSON.parse(await node([script, String(server.ingestPort)]));
    expect(stats).toMatchObject({ workers: 3, dropped: 0, zonesEndedAtClose: 1 });
    const id = await waitNewSession(server, before);
    const d = await waitSessionEnded(server, id);
    expect(d).toMatchObject({ app: 'with-workers', endReason: 'terminated', error: null, messages: 3 });
    // each thread mints its own plot id; the server merges plots by name, as Tracy does
    expect(d.plots.map((p: Json) => [p.name, p.count])).toEqual([['queue', 60]]);
    const stats2: Json[] = await getJson(server, `/api/sessions/${id}/stats`);
    const counts: Record<string, number> = {};
    for (const s of stats2) counts[s.name] = (counts[s.name] ?? 0) + s.count; // one srcloc per thread and name
    expect(counts).toEqual({
      'worker job': 60,
      'worker step': 60,
      'worker async': 9,
      'main work': 5,
      'never ended': 1,
    });
    const threads: Json[] = await getJson(server, `/api/sessions/${id}/threads`);
    expect(threads.filter((t) => t.open !== 0 || t.unmatchedEnds !== 0)).toEqual([]);
    const named = threads.map((t) => t.name).sort();
    expect(named).toEqual(expect.arrayContaining(['main', 'worker-a', 'worker-b', 'worker-open', 'worker-a async 1', 'worker-b async 1', 'worker-open async 1']));
    // one time line: every thread's zones lie within the session
    for (const t of threads) {
      expect(t.firstNs).toBeGreaterThanOrEqual(0);
      expect(t.lastNs).toBeLessThanOrEqual(d.lastNs);
    }
    const main = threads.find((t) => t.name === 'main')!;
    const workerA = threads.find((t) => t.name === 'worker-a')!;
    // the workers finished before the main thread's zones began
    expect(workerA.lastNs).toBeLessThan(main.firstNs);
  }, 60_000);
});
