/**
 * `zonescope compare A B` as CI runs it: the built CLI, spawned, on two synthetic captures made
 * with the protocol's stream builder (protocol/capture) where one zone got 50 % slower. The exit
 * status follows --fail-above on that zone's p50/p99 (1 past it, 0 below it, 0 when --zones
 * leaves it out), usage errors are 2, --json carries the figures, and a Chrome trace works as B.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, spawnCli } from './support/capture-files.js';
import { syntheticCapture } from './support/compare-captures.js';

const dir = mkdtempSync(join(tmpdir(), 'zonescope-compare-cli-'));
const path = (name: string) => join(dir, name);

/** 200 'Steady' zones of 1000..1199 ns and 200 'Hot' zones of hotNs..hotNs+199 ns (each in a 'Frame'), and one `extra` zone. */
function capture(hotNs: number, extra: string): Uint8Array {
  return syntheticCapture([
    { name: 'Steady', count: 200, durNs: (i) => 1000 + i },
    { name: 'Hot', count: 200, durNs: (i) => hotNs + i },
    { name: extra, count: 1, durNs: () => 100 },
  ]);
}

/** The same as capture(hotNs) but as Chrome Trace Event JSON (X events, microseconds). */
function chromeTrace(hotNs: number): string {
  const events: object[] = [];
  let t = 1000;
  for (let i = 0; i < 200; i++) {
    events.push({ name: 'Frame', ph: 'X', ts: t / 1000, dur: 4, pid: 1, tid: 1 });
    events.push({ name: 'Steady', ph: 'X', ts: (t + 10) / 1000, dur: (1000 + i) / 1000, pid: 1, tid: 1 });
    events.push({ name: 'Hot', ph: 'X', ts: (t + 2000) / 1000, dur: (hotNs + i) / 1000, pid: 1, tid: 1 });
    t += 10_000;
  }
  return JSON.stringify({ traceEvents: events });
}

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const s = spawnCli(['compare', ...args]);
  const { code } = await s.exited;
  return { code, out: s.stdout(), err: s.stderr() };
}

beforeAll(async () => {
  await ensureBuilt();
  writeFileSync(path('a.zscap'), capture(1000, 'OnlyInA'));
  writeFileSync(path('b.zscap'), capture(1500, 'OnlyInB'));
  writeFileSync(path('b.json'), chromeTrace(1500));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zonescope compare', () => {
  it('exits 1 when a zone grew past --fail-above, naming it and its p50 and p99', async () => {
    const r = await cli([path('a.zscap'), path('b.zscap'), '--fail-above', '20']);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Hot +200 +200 +1\.10 us +1\.60 us +\+45\.5%/m);
    expect(r.out).toMatch(/^Steady +200 +200 .* 0\.0%$/m);
    expect(r.out).toContain('only in A: OnlyInA');
    expect(r.out).toContain('only in B: OnlyInB');
    expect(r.out).toContain('FAIL: 2 figures grew by more than 20%:\n  Hot p50 1.10 us -> 1.60 us (+45.5%)\n  Hot p99 1.20 us -> 1.70 us (+41.8%)');
  });

  it('exits 0 when nothing grew past --fail-above, or when --zones leaves the slower zone out', async () => {
    const loose = await cli([path('a.zscap'), path('b.zscap'), '--fail-above', '50']);
    expect(loose.code).toBe(0);
    expect(loose.out).toContain('ok: no p50 or p99 grew by more than 50%');
    const steady = await cli([path('a.zscap'), path('b.zscap'), '--fail-above', '1', '--zones', 'Steady,Frame']);
    expect(steady.code).toBe(0);
    expect(steady.out).not.toMatch(/^Hot/m);
    // the comparison in the other direction: Hot got faster, which never fails
    expect((await cli([path('b.zscap'), path('a.zscap'), '--fail-above', '0'])).code).toBe(0);
  });

  it('prints the figures as JSON with --json', async () => {
    const r = await cli([path('a.zscap'), path('b.zscap'), '--json', '--fail-above', '20', '--zones', 'Hot']);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.out);
    expect(body.a).toMatchObject({ file: path('a.zscap'), app: 'compare-test', zones: 601 });
    expect(body.failAbovePct).toBe(20);
    expect(body.failed.map((f: { figure: string }) => f.figure)).toEqual(['p50', 'p99']);
    expect(body.rows).toEqual([
      {
        name: 'Hot',
        a: { count: 200, totalNs: 200 * 1000 + 19_900, meanNs: 1099.5, medianNs: 1099.5, p99Ns: 1197 },
        b: { count: 200, totalNs: 200 * 1500 + 19_900, meanNs: 1599.5, medianNs: 1599.5, p99Ns: 1697 },
        change: expect.objectContaining({ medianNs: { abs: 500, pct: (500 / 1099.5) * 100 }, count: { abs: 0, pct: 0 } }),
      },
    ]);
  });

  it('takes a Chrome trace as B through the import path', async () => {
    const r = await cli([path('a.zscap'), path('b.json'), '--fail-above', '20', '--zones', 'Hot,Steady']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Hot +200 +200 +1\.10 us +1\.60 us +\+45\.5%/m);
    expect(r.out).toMatch(/^Steady +200 +200 .* 0\.0%$/m);
  });

  it('exits 2 on usage errors: one file, a bad percentage, an unreadable file, a --zones name in neither capture', async () => {
    const one = await cli([path('a.zscap')]);
    expect(one.code).toBe(2);
    expect(one.err).toContain('zonescope compare: two files expected (A, the baseline, then B), got 1');
    const pct = await cli([path('a.zscap'), path('b.zscap'), '--fail-above', 'ten']);
    expect(pct.code).toBe(2);
    expect(pct.err).toContain('--fail-above ten: a percentage >= 0 expected');
    const missing = await cli([path('a.zscap'), path('nope.zscap')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`zonescope compare: cannot read ${path('nope.zscap')}`);
    const typo = await cli([path('a.zscap'), path('b.zscap'), '--zones', 'Hto']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('--zones: "Hto" in neither capture');
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: zonescope compare A B');
  });
});
