/**
 * Our pprof files as Go's own tool reads them: `go tool pprof` from Debian's golang-go (.ci/run
 * installs it), run on profiles with known stacks. Its `-top` must give each function the flat
 * and cumulative values we encoded, for every sample type of cpu, inuse and alloc profiles; its
 * `-raw` dump must list our samples and our locations' lines, inlined frames innermost first;
 * and it must not try to symbolize the addresses (the mappings claim symbols). Skipped, with a
 * message, only when `go` is not installed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GO_PRESENT, goPprof, goPprofDir as dir, top } from './support/go-pprof.js';
import { encodePprof, type PprofInput, type PprofStack, type StackFrame } from '../server/export/pprof.js';

if (!GO_PRESENT) console.warn('pprof-go-interop: `go` is not installed (Debian: apt-get install golang-go); the go tool pprof checks are skipped');

interface RawDump { types: string; samples: { values: number[]; locations: number[] }[]; lines: Map<number, string[]> }

/** `-raw`: the sample type line, the samples (values: location ids) and each location's "function file:line" lines. */
async function raw(file: string): Promise<RawDump> {
  const { stdout } = await goPprof(['-raw', file]);
  const lines = stdout.split('\n');
  const s = lines.indexOf('Samples:');
  const l = lines.indexOf('Locations');
  const m = lines.indexOf('Mappings');
  expect([s, l, m].every((i) => i >= 0), `not a -raw dump:\n${stdout}`).toBe(true);
  const samples = lines.slice(s + 2, l).map((line) => {
    const x = /^\s*([\d\s]+):([\d\s]*)$/.exec(line);
    if (x === null) throw new Error(`unexpected -raw sample ${JSON.stringify(line)}`);
    const nums = (t: string) => t.trim().split(/\s+/).filter((v) => v !== '').map(Number);
    return { values: nums(x[1]!), locations: nums(x[2]!) };
  });
  const locs = new Map<number, string[]>();
  let current: string[] = [];
  for (const line of lines.slice(l + 1, m)) {
    const head = /^\s*(\d+): 0x[0-9a-f]+ M=\d+ (\S+ \S+) s=\d+$/.exec(line);
    const more = /^\s+(\S+ \S+) s=\d+$/.exec(line);
    if (head !== null) {
      current = [head[2]!];
      locs.set(Number(head[1]), current);
    } else if (more !== null) {
      current.push(more[1]!);
    } else {
      throw new Error(`unexpected -raw location ${JSON.stringify(line)}`);
    }
  }
  return { types: lines[s + 1]!.trim(), samples, lines: locs };
}

function frame(fn: string, address: string, line: number, more: Partial<StackFrame> = {}): StackFrame {
  return { function: fn, file: `src/${fn}.cpp`, line, image: 'demo', address, inlined: false, ...more };
}

let files = 0;
function write(input: PprofInput): string {
  const file = join(dir, `p${files++}.pb.gz`);
  writeFileSync(file, encodePprof(input));
  return file;
}

/** What -raw should list for a stack: each frame as "function file:line", grouped per location. */
function rawStack(dump: RawDump, locations: number[]): string[] {
  return locations.flatMap((id) => dump.lines.get(id) ?? [`missing location ${id}`]);
}

const start = frame('__libc_start_main', '0x7f3a12029d90', 0, { image: 'libc.so.6', file: '' });
const main = frame('main', '0x401000', 40);

describe('go tool pprof reads our profiles', () => {
  // hotLoop has 70 samples and other 30, both under run() called from main().
  const cpuStacks: PprofStack[] = [
    { frames: [frame('hotLoop', '0x401200', 12), frame('run', '0x401110', 25), main, start], count: 70, value: 0 },
    { frames: [frame('other', '0x401300', 7), frame('run', '0x401120', 26), main, start], count: 30, value: 0 },
  ];
  // leakHere (inlined into grow) holds 26640 bytes in 80 objects; fine() 300 bytes in 3.
  const memStacks: PprofStack[] = [
    { frames: [frame('leakHere', '0x401400', 99, { inlined: true, file: 'src/leak.h' }), frame('grow', '0x401400', 60), main, start], count: 80, value: 26_640 },
    { frames: [frame('fine', '0x401500', 5), main, start], count: 3, value: 300 },
  ];

  it.skipIf(!GO_PRESENT)('gives cpu flat and cumulative samples and nanoseconds per function, with the header we wrote', async () => {
    const file = write({
      kind: 'cpu', stacks: cpuStacks, timeNs: 1_733_570_000_000_000_000, durationNs: 2_000_000_000, periodNs: 1_000_000,
      comments: ['zonescope session 7'],
    });
    const samples = await top(file, 'samples', null);
    expect(samples.stderr).toBe('');
    expect(samples.header).toMatch(/^File: demo$/m);
    expect(samples.header).toMatch(/^Type: samples$/m);
    expect(samples.header).toMatch(/^Duration: 2s\b/m);
    expect(samples.header).toMatch(/^zonescope session 7$/m);
    expect(Object.fromEntries(samples.rows)).toEqual({
      hotLoop: { flat: 70, cum: 70 },
      other: { flat: 30, cum: 30 },
      run: { flat: 0, cum: 100 },
      main: { flat: 0, cum: 100 },
      __libc_start_main: { flat: 0, cum: 100 },
    });
    // cpu is the last sample type, so pprof shows it unless told otherwise
    const cpu = await top(file, null, 'ns');
    expect(cpu.header).toMatch(/^Type: cpu$/m);
    expect(Object.fromEntries(cpu.rows)).toEqual({
      hotLoop: { flat: 70_000_000, cum: 70_000_000 },
      other: { flat: 30_000_000, cum: 30_000_000 },
      run: { flat: 0, cum: 100_000_000 },
      main: { flat: 0, cum: 100_000_000 },
      __libc_start_main: { flat: 0, cum: 100_000_000 },
    });
  });

  it.skipIf(!GO_PRESENT)('lists our cpu samples and locations in -raw', async () => {
    const dump = await raw(write({ kind: 'cpu', stacks: cpuStacks, timeNs: 0, durationNs: 0, periodNs: 1_000_000 }));
    expect(dump.types).toBe('samples/count cpu/nanoseconds');
    expect(dump.samples.map((s) => s.values)).toEqual([[70, 70_000_000], [30, 30_000_000]]);
    expect(dump.samples.map((s) => rawStack(dump, s.locations))).toEqual([
      ['hotLoop src/hotLoop.cpp:12', 'run src/run.cpp:25', 'main src/main.cpp:40', '__libc_start_main :0'],
      ['other src/other.cpp:7', 'run src/run.cpp:26', 'main src/main.cpp:40', '__libc_start_main :0'],
    ]);
  });

  it.skipIf(!GO_PRESENT).each([
    ['inuse', 'inuse_objects', 'inuse_space'],
    ['alloc', 'alloc_objects', 'alloc_space'],
  ] as const)('gives %s objects and bytes per function, inlined leakHere holding 26640 B in 80 objects', async (kind, objects, space) => {
    const file = write({ kind, stacks: memStacks, timeNs: 1_733_570_000_000_000_000, durationNs: 5_000_000_000, periodNs: 0 });
    const count = await top(file, objects, null);
    expect(count.stderr).toBe('');
    expect(count.header).toMatch(new RegExp(`^Type: ${objects}$`, 'm'));
    expect(Object.fromEntries(count.rows)).toEqual({
      'leakHere (inline)': { flat: 80, cum: 80 },
      fine: { flat: 3, cum: 3 },
      grow: { flat: 0, cum: 80 },
      main: { flat: 0, cum: 83 },
      __libc_start_main: { flat: 0, cum: 83 },
    });
    const bytes = await top(file, null, 'B');
    expect(bytes.header).toMatch(new RegExp(`^Type: ${space}$`, 'm'));
    expect(Object.fromEntries(bytes.rows)).toEqual({
      'leakHere (inline)': { flat: 26_640, cum: 26_640 },
      fine: { flat: 300, cum: 300 },
      grow: { flat: 0, cum: 26_640 },
      main: { flat: 0, cum: 26_940 },
      __libc_start_main: { flat: 0, cum: 26_940 },
    });
    const dump = await raw(file);
    expect(dump.types).toBe(`${objects}/count ${space}/bytes`);
    expect(dump.samples.map((s) => s.values)).toEqual([[80, 26_640], [3, 300]]);
    expect(dump.samples.map((s) => rawStack(dump, s.locations))).toEqual([
      ['leakHere src/leak.h:99', 'grow src/grow.cpp:60', 'main src/main.cpp:40', '__libc_start_main :0'],
      ['fine src/fine.cpp:5', 'main src/main.cpp:40', '__libc_start_main :0'],
    ]);
    // leakHere and grow are one location: one return address, the inlined frame first
    expect(dump.lines.get(dump.samples[0]!.locations[0]!)).toEqual(['leakHere src/leak.h:99', 'grow src/grow.cpp:60']);
  });
});
