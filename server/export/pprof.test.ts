import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { encodePprof, type PprofInput, type PprofStack, type StackFrame } from './pprof.js';

function frame(fn: string, address: string, more: Partial<StackFrame> = {}): StackFrame {
  return { function: fn, file: `src/${fn}.cpp`, line: 10, image: 'app', address, inlined: false, ...more };
}

/** The profile as plain values: ids resolved, strings looked up, numbers as numbers. */
function decode(gz: Uint8Array) {
  const p = Profile.decode(gunzipSync(gz));
  const str = (i: number | bigint) => {
    const s = p.stringTable.strings[Number(i)];
    if (s === undefined) throw new Error(`string ${i} out of the table`);
    return s;
  };
  const byId = <T extends { id: number | bigint }>(list: T[], kind: string) => {
    const m = new Map<number, T>();
    list.forEach((x, k) => {
      expect(Number(x.id), `${kind} ids are 1-based indexes`).toBe(k + 1);
      m.set(Number(x.id), x);
    });
    return m;
  };
  const functions = byId(p.function, 'function');
  const mappings = byId(p.mapping, 'mapping');
  const locations = byId(p.location, 'location');
  const fn = (id: number | bigint) => {
    const f = functions.get(Number(id));
    if (f === undefined) throw new Error(`function ${id} missing`);
    return { name: str(f.name), systemName: str(f.systemName), file: str(f.filename) };
  };
  const loc = (id: number | bigint) => {
    const l = locations.get(Number(id));
    if (l === undefined) throw new Error(`location ${id} missing`);
    const m = Number(l.mappingId) === 0 ? null : mappings.get(Number(l.mappingId));
    if (m === undefined) throw new Error(`mapping ${l.mappingId} missing`);
    return {
      id: Number(l.id),
      address: BigInt(l.address),
      image: m === null ? null : str(m.filename),
      lines: l.line.map((line) => ({ ...fn(line.functionId), line: Number(line.line) })),
    };
  };
  return {
    raw: p,
    sampleTypes: p.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`),
    periodType: p.periodType === undefined ? null : `${str(p.periodType.type)}/${str(p.periodType.unit)}`,
    period: Number(p.period),
    timeNanos: BigInt(p.timeNanos),
    durationNanos: Number(p.durationNanos),
    comments: p.comment.map(str),
    samples: p.sample.map((s) => ({ locations: s.locationId.map(Number), values: s.value.map(Number) })),
    loc,
    functions: p.function.map((f) => fn(f.id)),
    mappings: p.mapping.map((m) => ({
      file: str(m.filename), start: Number(m.memoryStart), limit: Number(m.memoryLimit),
      flags: [m.hasFunctions, m.hasFilenames, m.hasLineNumbers, m.hasInlineFrames],
    })),
    locationCount: p.location.length,
  };
}

function input(kind: PprofInput['kind'], stacks: PprofStack[], more: Partial<PprofInput> = {}): PprofInput {
  return { kind, stacks, timeNs: 0, durationNs: 0, periodNs: 0, ...more };
}

describe('encodePprof', () => {
  it('writes a gzip stream', () => {
    const gz = encodePprof(input('cpu', []));
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(decode(gz).samples).toEqual([]);
  });

  it('gives a cpu profile samples/count and cpu/nanoseconds = samples * period, with its times and comments', () => {
    const main = frame('main', '0x401000');
    const stacks = [
      { frames: [frame('hotLoop', '0x401200'), main], count: 70, value: 1 },
      { frames: [frame('other', '0x401300'), main], count: 30, value: 1 },
    ];
    const p = decode(encodePprof(input('cpu', stacks, {
      timeNs: 1_733_570_000_123_456_789, durationNs: 2_500_000_000, periodNs: 1_000_000, comments: ['app: demo', 'range: all'],
    })));
    expect(p.sampleTypes).toEqual(['samples/count', 'cpu/nanoseconds']);
    expect(p.periodType).toBe('cpu/nanoseconds');
    expect(p.period).toBe(1_000_000);
    // unset: readers show the last sample type (see pprof.ts on speedscope)
    expect(p.raw.defaultSampleType).toBe(0);
    // the double nearest the input, exactly (it is past 2^53)
    expect(p.timeNanos).toBe(BigInt(1_733_570_000_123_456_789));
    expect(p.durationNanos).toBe(2_500_000_000);
    expect(p.comments).toEqual(['app: demo', 'range: all']);
    expect(p.samples.map((s) => s.values)).toEqual([[70, 70_000_000], [30, 30_000_000]]);
    expect(p.samples.map((s) => s.locations.map((id) => p.loc(id).lines[0]!.name))).toEqual([['hotLoop', 'main'], ['other', 'main']]);
  });

  it('takes the cpu value as given when the period is unknown', () => {
    const p = decode(encodePprof(input('cpu', [{ frames: [frame('f', '0x10')], count: 3, value: 4_500 }])));
    expect(p.samples[0]!.values).toEqual([3, 4_500]);
    expect(p.period).toBe(0);
    expect(p.periodType).toBe('cpu/nanoseconds');
  });

  it.each([
    ['inuse', ['inuse_objects/count', 'inuse_space/bytes']],
    ['alloc', ['alloc_objects/count', 'alloc_space/bytes']],
  ] as const)('gives a %s profile objects/count and space/bytes, period space/bytes 0', (kind, types) => {
    const p = decode(encodePprof(input(kind, [{ frames: [frame('leakHere', '0x20')], count: 80, value: 26_640 }], { periodNs: 5 })));
    expect(p.sampleTypes).toEqual(types);
    expect(p.raw.defaultSampleType).toBe(0);
    expect(p.periodType).toBe('space/bytes');
    expect(p.period).toBe(0);
    expect(p.samples).toEqual([{ locations: [1], values: [80, 26_640] }]);
  });

  it('writes every location, line, function and mapping; stacks sharing addresses share locations', () => {
    const a = frame('alloc', '0x7f0000001000', { image: 'libc.so.6', file: 'malloc.c', line: 3000 });
    const w = frame('work', '0x401500', { line: 42 });
    const w2 = frame('work', '0x401580', { line: 57 });
    const m = frame('main', '0x401000', { line: 7 });
    const stacks = [
      { frames: [a, w, m], count: 2, value: 64 },
      { frames: [a, w2, m], count: 1, value: 16 },
      { frames: [w, m], count: 5, value: 500 },
    ];
    const p = decode(encodePprof(input('alloc', stacks)));
    expect(p.samples).toEqual([
      { locations: [1, 2, 3], values: [2, 64] },
      { locations: [1, 4, 3], values: [1, 16] },
      { locations: [2, 3], values: [5, 500] },
    ]);
    expect(p.locationCount).toBe(4);
    expect([1, 2, 3, 4].map(p.loc)).toEqual([
      { id: 1, address: 0x7f0000001000n, image: 'libc.so.6', lines: [{ name: 'alloc', systemName: 'alloc', file: 'malloc.c', line: 3000 }] },
      { id: 2, address: 0x401500n, image: 'app', lines: [{ name: 'work', systemName: 'work', file: 'src/work.cpp', line: 42 }] },
      { id: 3, address: 0x401000n, image: 'app', lines: [{ name: 'main', systemName: 'main', file: 'src/main.cpp', line: 7 }] },
      { id: 4, address: 0x401580n, image: 'app', lines: [{ name: 'work', systemName: 'work', file: 'src/work.cpp', line: 57 }] },
    ]);
    // one function per (name, file): both addresses in work() share it
    expect(p.functions).toEqual([
      { name: 'alloc', systemName: 'alloc', file: 'malloc.c' },
      { name: 'work', systemName: 'work', file: 'src/work.cpp' },
      { name: 'main', systemName: 'main', file: 'src/main.cpp' },
    ]);
    // one mapping per image, the main binary first, claiming symbols so pprof does not look for the binaries
    expect(p.mappings).toEqual([
      { file: 'app', start: 0, limit: 0, flags: [true, true, true, true] },
      { file: 'libc.so.6', start: 0, limit: 0, flags: [true, true, true, true] },
    ]);
    expect(p.raw.location.map((l) => Number(l.mappingId))).toEqual([2, 1, 1, 1]);
  });

  it('puts the frames inlined at one address in one location, innermost first and the caller last', () => {
    const addr = '0x402000';
    const stacks = [{
      frames: [
        frame('std::vector::push_back', addr, { inlined: true, file: 'vector', line: 1200 }),
        frame('Grid::add', addr, { inlined: true, file: 'grid.h', line: 30 }),
        frame('simulate', addr, { line: 88 }),
        frame('main', '0x401000', { line: 5 }),
      ],
      count: 1, value: 0,
    }, {
      // the same address again: the same location, not a second one
      frames: [frame('std::vector::push_back', addr, { inlined: true, file: 'vector', line: 1200 }),
        frame('Grid::add', addr, { inlined: true, file: 'grid.h', line: 30 }), frame('simulate', addr, { line: 88 })],
      count: 4, value: 0,
    }];
    const p = decode(encodePprof(input('cpu', stacks)));
    expect(p.samples.map((s) => s.locations)).toEqual([[1, 2], [1]]);
    expect(p.loc(1)).toEqual({
      id: 1, address: 0x402000n, image: 'app', lines: [
        { name: 'std::vector::push_back', systemName: 'std::vector::push_back', file: 'vector', line: 1200 },
        { name: 'Grid::add', systemName: 'Grid::add', file: 'grid.h', line: 30 },
        { name: 'simulate', systemName: 'simulate', file: 'src/simulate.cpp', line: 88 },
      ],
    });
    expect(p.loc(2).lines.map((l) => l.name)).toEqual(['main']);
  });

  it('keeps recursion at one address as repeated locations, not inlined lines', () => {
    const r = frame('recurse', '0x403000');
    const p = decode(encodePprof(input('cpu', [{ frames: [r, r, r, frame('main', '0x401000')], count: 1, value: 0 }])));
    expect(p.samples[0]!.locations).toEqual([1, 1, 1, 2]);
    expect(p.loc(1).lines).toHaveLength(1);
  });

  it('ends an inlined run where the address changes, whatever the flag says', () => {
    const p = decode(encodePprof(input('cpu', [{ frames: [frame('a', '0x10', { inlined: true }), frame('b', '0x20')], count: 1, value: 0 }])));
    expect(p.samples[0]!.locations).toEqual([1, 2]);
    expect(p.loc(1).lines.map((l) => l.name)).toEqual(['a']);
  });

  it('names a frame without a function by its address and gives a frame without an image no mapping', () => {
    const p = decode(encodePprof(input('cpu', [{ frames: [frame('', '0xdeadbeef', { image: '', file: '', line: 0 })], count: 1, value: 0 }])));
    expect(p.loc(1)).toEqual({ id: 1, address: 0xdeadbeefn, image: null, lines: [{ name: '0xdeadbeef', systemName: '0xdeadbeef', file: '', line: 0 }] });
    expect(p.mappings).toEqual([]);
  });

  it('puts the first image that is not a shared library or a pseudo image in mapping 1', () => {
    const images = ['libc.so.6', '[vdso]', '<kernel>', 'libz.so', 'libfoo.dylib', 'KERNEL32.DLL', 'demo.exe', 'libm.so.6'];
    const frames = images.map((image, k) => frame(`f${k}`, `0x${(k + 1).toString(16)}0`, { image }));
    const p = decode(encodePprof(input('cpu', [{ frames, count: 1, value: 0 }])));
    expect(p.mappings.map((m) => m.file)).toEqual(['demo.exe', '[vdso]', '<kernel>', 'libz.so', 'libfoo.dylib', 'KERNEL32.DLL', 'libc.so.6', 'libm.so.6']);
    expect(p.samples[0]!.locations.map((id) => p.loc(id).image)).toEqual(images);
  });

  it('keeps u64 addresses exact past 2^53', () => {
    const p = decode(encodePprof(input('cpu', [{ frames: [frame('k', '0xffffffff81000123')], count: 1, value: 0 }])));
    expect(p.loc(1).address).toBe(0xffffffff81000123n);
  });

  it('gives frames without a hex address address 0 and one location per distinct frame', () => {
    const stacks = [{ frames: [frame('x', ''), frame('y', ''), frame('x', '')], count: 1, value: 0 },
      { frames: [frame('y', 'bogus')], count: 1, value: 0 }];
    const p = decode(encodePprof(input('cpu', stacks)));
    expect(p.samples.map((s) => s.locations)).toEqual([[1, 2, 1], [3]]);
    expect([1, 2, 3].map((id) => [p.loc(id).address, p.loc(id).lines[0]!.name])).toEqual([[0n, 'x'], [0n, 'y'], [0n, 'y']]);
  });

  it('rounds values to integers, writes NaN and infinities as 0 and clamps to the int64 range', () => {
    const f = [frame('f', '0x10')];
    const p = decode(encodePprof(input('inuse', [
      { frames: f, count: 2.6, value: 100.4 }, { frames: f, count: Number.NaN, value: Number.POSITIVE_INFINITY },
      { frames: f, count: 1, value: 1e300 }, { frames: f, count: 1, value: 2 ** 60 },
    ])));
    expect(p.samples.map((s) => s.values)).toEqual([[3, 100], [0, 0], [1, 2 ** 63 - 1024], [1, 2 ** 60]]);
    expect(BigInt(p.raw.sample[2]!.value[1]!)).toBe(2n ** 63n - 1024n);
  });

  it('reads the stacks from any iterable, once', () => {
    let reads = 0;
    function* gen(): Generator<PprofStack> {
      reads++;
      yield { frames: [frame('f', '0x10')], count: 1, value: 8 };
      yield { frames: [frame('g', '0x20')], count: 2, value: 16 };
    }
    const p = decode(encodePprof(input('alloc', [], { stacks: gen() })));
    expect(reads).toBe(1);
    expect(p.samples.map((s) => s.values)).toEqual([[1, 8], [2, 16]]);
  });

  it('refuses an unknown kind with a TypeError naming it', () => {
    expect(() => encodePprof(input('wall' as PprofInput['kind'], []))).toThrow(new TypeError('unknown pprof kind "wall" (cpu, inuse or alloc)'));
  });

  it('encodes 100,000 stacks of 16 frames (131,070 addresses) within seconds and decodes them back', () => {
    // A call tree 16 deep that doubles at each level: stacks share their outer frames as real ones do.
    const n = 100_000;
    const depth = 16;
    const frames = new Map<number, StackFrame>();
    const at = (d: number, k: number) => {
      const key = d * 1_000_000 + k;
      let f = frames.get(key);
      if (f === undefined) {
        f = frame(`fn_${d}_${k % 997}`, `0x${(0x7f0000000000 + key * 16).toString(16)}`, { line: k % 500, image: `lib${d % 5}.so` });
        frames.set(key, f);
      }
      return f;
    };
    const stacks: PprofStack[] = [];
    for (let s = 0; s < n; s++) {
      const st: StackFrame[] = [];
      for (let d = depth - 1; d >= 0; d--) st.push(at(d, Math.floor((s * Math.min(n, 2 ** (d + 1))) / n)));
      stacks.push({ frames: st, count: 1 + (s % 13), value: 0 });
    }
    const t0 = performance.now();
    const gz = encodePprof(input('cpu', stacks, { periodNs: 1_000_000 }));
    const ms = performance.now() - t0;
    // About 0.4 s alone on this machine (commit message); the bound only catches a
    // quadratic slip on a shared, loaded runner.
    expect(ms).toBeLessThan(10_000);
    const p = Profile.decode(gunzipSync(gz));
    expect(p.sample).toHaveLength(n);
    expect(p.location).toHaveLength(frames.size);
    expect(p.sample.every((s) => s.locationId.length === depth)).toBe(true);
    const last = p.sample[n - 1]!;
    expect(last.value.map(Number)).toEqual([1 + ((n - 1) % 13), (1 + ((n - 1) % 13)) * 1_000_000]);
  });
});
