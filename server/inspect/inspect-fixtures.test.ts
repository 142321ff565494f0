/**
 * `zonescope inspect` against the real Tracy recordings in ../shared/fixtures/tracy: the JSON
 * must agree with the app's own truth file, the CSVs with Tracy's csvexport row for row.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CollectingStream, FIXTURE_NAMES, FIXTURES_PRESENT, fixture, parseCsv, parseCsvexportMessages, parseCsvexportPlots, parseCsvexportStats, parseCsvexportZones, readTruth, type FixtureTruth } from '../../test/support/inspect-fixtures.js';
import type { OutputStream } from './buffered-output.js';
import { runInspect } from './inspect-command.js';
import type { InspectReport } from './inspect-report.js';


interface Decoded {
  client: { welcome: { pid: string; programName: string }; lz4BytesInclHeaders: number; decompressedBytes: number; items: number };
}

/** Messages Tracy itself adds (source = Tracy), per the fixtures' README. */
const TRACY_OWN_MESSAGES: Record<string, number> = { 'small-default': 3 };

async function run(args: string[], out: OutputStream = new CollectingStream()): Promise<{ code: number; out: OutputStream; err: string }> {
  const err = new CollectingStream();
  const code = await runInspect(args, out, err);
  return { code, out, err: err.text };
}

async function csv(name: string, kind: string): Promise<string[][]> {
  const { code, out, err } = await run([fixture(`${name}.client.bin`), '--csv', kind]);
  expect(err).toBe('');
  expect(code).toBe(0);
  return parseCsv((out as CollectingStream).text);
}

function sumBy<T>(items: T[], key: (t: T) => string, value: (t: T) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + value(item);
  return out;
}

function sorted<T>(items: T[]): T[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** Plot values: csvexport prints %f (6 decimals), we print the exact double. */
function expectPlotsEqual(ours: { name: string; timeNs: number; value: number }[], theirs: { name: string; timeNs: number; value: number }[]): void {
  const order = (a: { name: string; timeNs: number; value: number }, b: typeof a): number =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.timeNs - b.timeNs || a.value - b.value;
  ours.sort(order);
  theirs.sort(order);
  expect(ours.length).toBe(theirs.length);
  let bad = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    if (a.name !== b.name || a.timeNs !== b.timeNs || !(Math.abs(a.value - b.value) <= 5e-7 + Math.abs(b.value) * 1e-15)) {
      if (bad++ < 5) expect({ ...a }).toEqual({ ...b });
    }
  }
  expect(bad).toBe(0);
}

describe.skipIf(!FIXTURES_PRESENT)('zonescope inspect agrees with the real Tracy recordings', () => {
  if (!FIXTURES_PRESENT) console.log('skipping: ../shared/fixtures/tracy is absent');

  describe.each(FIXTURE_NAMES)('%s', (name) => {
    const truth = (): FixtureTruth => readTruth(name);
    let cached: InspectReport | null = null;
    const report = async (): Promise<InspectReport> => {
      if (cached === null) {
        const { code, out, err } = await run([fixture(`${name}.client.bin`), '--json']);
        expect(err).toBe('');
        expect(code).toBe(0);
        cached = JSON.parse((out as CollectingStream).text) as InspectReport;
      }
      return cached;
    };

    it('--json agrees with the truth file', async () => {
      const r = await report();
      const t = truth();
      const decoded = JSON.parse(readFileSync(fixture(`${name}.decoded.json`), 'utf8')) as Decoded;
      expect(r.errors).toEqual([]);
      expect(r.protocolVersion).toBe(82);
      expect(r.program).toBe(decoded.client.welcome.programName);
      expect(r.pid).toBe(Number(decoded.client.welcome.pid));
      expect(r.appInfo).toHaveLength(1);

      expect(sumBy(r.zones, (z) => z.name, (z) => z.count)).toEqual(t.zones_by_name);
      expect(r.zones.reduce((s, z) => s + z.count, 0)).toBe(t.zones_total);
      expect(r.zones.reduce((s, z) => s + z.open, 0)).toBe(t.zones_open_at_exit);
      // GoTracy-style zones: one source location per call, so one entry per call.
      const perCall = r.zones.filter((z) => z.name === 'GoStyleZone');
      expect(perCall).toHaveLength(t.gotracy_per_call_srclocs);
      for (const z of perCall) expect(z.count).toBe(1);

      // Threads with zones are the app's; a thread with only messages is listed too (with the
      // default client, Tracy's own "Tracy Symbol Worker" sends one), the truth file omits it.
      const withZones = r.threads.filter((th) => th.zones > 0);
      expect(sorted(withZones.map((th) => ({ name: th.name, zones: th.zones })))).toEqual(sorted(t.threads.map((th) => ({ name: th.name, zones: th.zones }))));
      expect(r.threads.filter((th) => th.zones === 0).map((th) => th.name)).toEqual(name === 'small-default' ? ['Tracy Symbol Worker'] : []);
      for (const th of r.threads) expect(th.id).toBeGreaterThan(0);
      expect(Object.fromEntries(r.frames.map((f) => [f.name === '' ? '<default>' : f.name, f.count]))).toEqual(t.frames);
      expect(Object.fromEntries(r.plots.map((p) => [p.name, p.count]))).toEqual(t.plots);
      expect(r.messages).toBe(t.messages_total + (TRACY_OWN_MESSAGES[name] ?? 0));
      expect(r.zoneExtras).toEqual({ text: t.zone_text_count, value: t.zone_value_count, name: t.zone_name_overrides.count, color: t.zone_color_count });
      expect(Object.fromEntries(r.locks.map((l) => [l.name, l.obtains]))).toEqual(t.lock_acquisitions);
      const named = (m: Record<string, number>): number => Object.values(m).reduce((s, v) => s + v, 0);
      expect(r.memory).toEqual({ allocs: t.memory.alloc_unnamed + named(t.memory.alloc_named), frees: t.memory.free_unnamed + named(t.memory.free_named) });

      expect(r.items).toBe(decoded.client.items);
      expect(r.bytes).toEqual({ compressed: decoded.client.lz4BytesInclHeaders, decompressed: decoded.client.decompressedBytes });
    });

    it('--json zones equal csvexport per source location (count, total, min, max)', async () => {
      const r = await report();
      const theirs = parseCsvexportStats(readFileSync(fixture(`${name}.zones.csv`), 'utf8'));
      // csvexport omits locations whose total time is 0.
      const ours = r.zones
        .filter((z) => z.totalNs > 0)
        .map((z) => ({ name: z.name, file: z.file, line: z.line, totalNs: z.totalNs, count: z.count, minNs: z.minNs, maxNs: z.maxNs }));
      expect(sorted(ours)).toEqual(sorted(theirs));
    });

    it('--csv messages equals csvexport -m after sorting', async () => {
      const rows = await csv(name, 'messages');
      expect(rows[0]).toEqual(['MessageName', 'total_ns']);
      const ours = rows.slice(1).map(([text, time]) => ({ text: text!, timeNs: Number(time) }));
      const theirs = parseCsvexportMessages(readFileSync(fixture(`${name}.messages.csv`), 'utf8'));
      expect(sorted(ours)).toEqual(sorted(theirs));
      if (name !== 'stress') expect(ours.length).toBeGreaterThan(0);
    });

    it('--csv plots equals csvexport -u -p plot rows (without Tracy\'s internal "Frame" plots)', async () => {
      const rows = await csv(name, 'plots');
      expect(rows[0]).toEqual(['name', 'ns_since_start', 'value']);
      const ours = rows.slice(1).map(([plot, time, value]) => ({ name: plot!, timeNs: Number(time), value: Number(value) }));
      const file = name === 'stress' ? 'stress.plots.csv' : `${name}.zones-unwrapped-plots.csv`;
      const theirs = parseCsvexportPlots(readFileSync(fixture(file), 'utf8'));
      expect(theirs.length).toBeGreaterThan(0);
      expectPlotsEqual(ours, theirs);
    });

    if (name === 'stress') {
      it('--csv zones aggregates to csvexport per source location (6,010,000 rows, streamed)', async () => {
        const agg = new Map<string, { count: number; totalNs: number; minNs: number; maxNs: number }>();
        let rest = '';
        let header: string | null = null;
        let quoted = false;
        const consume = (line: string): void => {
          if (header === null) {
            header = line;
            return;
          }
          if (line.includes('"')) quoted = true;
          const c = line.split(',');
          const key = `${c[0]},${c[1]},${c[2]}`;
          const d = Number(c[4]);
          const a = agg.get(key);
          if (a === undefined) agg.set(key, { count: 1, totalNs: d, minNs: d, maxNs: d });
          else {
            a.count++;
            a.totalNs += d;
            if (d < a.minNs) a.minNs = d;
            if (d > a.maxNs) a.maxNs = d;
          }
        };
        const aggregating: OutputStream = {
          write(chunk: string): boolean {
            const text = rest + chunk;
            let start = 0;
            for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
              consume(text.slice(start, nl));
              start = nl + 1;
            }
            rest = text.slice(start);
            return true;
          },
          once(): unknown {
            return undefined;
          },
        };
        const { code, err } = await run([fixture('stress.client.bin'), '--csv', 'zones'], aggregating);
        expect(err).toBe('');
        expect(code).toBe(0);
        expect(rest).toBe('');
        expect(quoted).toBe(false);
        expect(header).toBe('name,src_file,src_line,ns_since_start,exec_time_ns,thread,value');
        const theirs = parseCsvexportStats(readFileSync(fixture('stress.zones.csv'), 'utf8'));
        const ours = [...agg].map(([key, a]) => {
          const [zone, file, line] = key.split(',');
          return { name: zone!, file: file!, line: Number(line), totalNs: a.totalNs, count: a.count, minNs: a.minNs, maxNs: a.maxNs };
        });
        expect(sorted(ours)).toEqual(sorted(theirs));
      });
    } else {
      it('--csv zones equals csvexport -u row for row after sorting (thread ids mapped, text and value checked)', async () => {
        const rows = await csv(name, 'zones');
        expect(rows[0]).toEqual(['name', 'src_file', 'src_line', 'ns_since_start', 'exec_time_ns', 'thread', 'value']);
        const ours = rows.slice(1).map((c) => ({
          name: c[0]!,
          file: c[1]!,
          line: Number(c[2]),
          startNs: Number(c[3]),
          durationNs: Number(c[4]),
          thread: Number(c[5]),
          value: c[6]!,
        }));
        const theirs = parseCsvexportZones(readFileSync(fixture(`${name}.zones-unwrapped.csv`), 'utf8'));
        const key = (z: { name: string; file: string; line: number; startNs: number; durationNs: number }): string =>
          `${z.name},${z.file},${z.line},${z.startNs},${z.durationNs}`;
        expect(ours.map(key).sort()).toEqual(theirs.map(key).sort());

        // csvexport numbers threads its own way: the mapping must be one-to-one.
        const theirThread = new Map(theirs.map((z) => [`${key(z)}`, z.thread]));
        const mapping = new Map<number, number>();
        let inconsistent = 0;
        for (const z of ours) {
          const t = theirThread.get(key(z))!;
          if (!mapping.has(z.thread)) mapping.set(z.thread, t);
          if (mapping.get(z.thread) !== t) inconsistent++;
        }
        expect(inconsistent).toBe(0);
        expect(new Set(mapping.values()).size).toBe(mapping.size);

        // Text and value: csvexport does not reset its value column between the zones of one
        // source location, so a zone without text shows the previous zone's; replay that.
        const bySrcloc = new Map<string, typeof ours>();
        for (const z of ours) {
          const k = `${z.name},${z.file},${z.line}`;
          const list = bySrcloc.get(k);
          if (list === undefined) bySrcloc.set(k, [z]);
          else list.push(z);
        }
        const expected = new Map<string, string>();
        for (const zones of bySrcloc.values()) {
          let carried = '';
          for (const z of zones.sort((a, b) => a.startNs - b.startNs)) {
            if (z.value !== '') carried = z.value;
            expected.set(key(z), carried);
          }
        }
        const differ = theirs.filter((z) => z.value !== expected.get(key(z)));
        expect(differ.slice(0, 5).map((z) => [key(z), z.value, expected.get(key(z))])).toEqual([]);
        // The app's ZoneText + ZoneValue pairs, e.g. "iter=7\n7 [0x7]".
        const t = truth();
        expect(ours.filter((z) => /^iter=(\d+)\n\1 \[0x[0-9a-f]+\]$/.test(z.value)).length).toBe(t.zones_by_name.TextZone);
      });
    }
  });
});
