import { decode, encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError, decodeColumns } from './api.js';

/**
 * The server's msgpack: typed arrays travel as the bytes of their view (server/http/encode.ts
 * toMsgpack: `new Uint8Array(value.buffer, value.byteOffset, value.byteLength)`), so a decoded bin
 * is a Uint8Array into the message at whatever offset its header left it.
 */
function bin(ta: ArrayBufferView): Uint8Array {
  return new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength);
}

/**
 * Encodes `make(pad)` with pads of 0..15 bytes in front until the bin that `pick` finds in the
 * decoded message starts at an offset with the wanted remainder modulo `align`; returns that
 * decoded message (before decodeColumns).
 */
function decodedWithBinAt<T>(make: (pad: string) => unknown, pick: (decoded: T) => Uint8Array, align: number, remainder: number): T {
  for (let n = 0; n < 16; n++) {
    const decoded = decode(encode(make('p'.repeat(n)))) as T;
    if (pick(decoded).byteOffset % align === remainder) return decoded;
  }
  throw new Error(`no pad puts the bin at offset % ${align} = ${remainder}`);
}

/** Float64 values in a larger buffer, at a non-zero byteOffset, as the store's segments hold them. */
function f64View(values: number[]): Float64Array {
  const buf = new ArrayBuffer((values.length + 3) * 8);
  const view = new Float64Array(buf, 16, values.length);
  view.set(values);
  return view;
}

function i32View(values: number[]): Int32Array {
  const buf = new ArrayBuffer((values.length + 3) * 4);
  const view = new Int32Array(buf, 4, values.length);
  view.set(values);
  return view;
}

const TIMES = [0, 1.5, 1e9 + 0.25, 2 ** 53 - 1, -3];

describe('decodeColumns', () => {
  for (const remainder of [1, 3, 4, 7]) {
    it(`turns a float64 bin at an offset of 8n+${remainder} into a correct Float64Array`, () => {
      type Msg = { pad: string; timeNs: Uint8Array | Float64Array };
      const msg = decodedWithBinAt<Msg>((pad) => ({ pad, timeNs: bin(f64View(TIMES)) }), (d) => d.timeNs as Uint8Array, 8, remainder);
      expect(msg.timeNs).toBeInstanceOf(Uint8Array);
      const out = decodeColumns(msg);
      expect(out.timeNs).toBeInstanceOf(Float64Array);
      expect(Array.from(out.timeNs)).toEqual(TIMES);
    });
  }

  it('keeps a float64 bin that is already aligned as a view of the same bytes', () => {
    type Msg = { pad: string; value: Uint8Array | Float64Array };
    const msg = decodedWithBinAt<Msg>((pad) => ({ pad, value: bin(f64View(TIMES)) }), (d) => d.value as Uint8Array, 8, 0);
    const bytes = msg.value as Uint8Array;
    const out = decodeColumns(msg);
    expect(out.value).toBeInstanceOf(Float64Array);
    expect(out.value.buffer).toBe(bytes.buffer);
    expect(Array.from(out.value)).toEqual(TIMES);
  });

  for (const key of ['srcloc', 'count', 'row'] as const) {
    it(`turns an int32 bin under '${key}' at an unaligned offset into a correct Int32Array`, () => {
      const values = [0, -1, 2 ** 31 - 1, -(2 ** 31), 42];
      type Msg = Record<string, Uint8Array | Int32Array | string>;
      const msg = decodedWithBinAt<Msg>((pad) => ({ pad, [key]: bin(i32View(values)) }), (d) => d[key] as Uint8Array, 4, 1);
      const out = decodeColumns(msg);
      expect(out[key]).toBeInstanceOf(Int32Array);
      expect(Array.from(out[key] as Int32Array)).toEqual(values);
    });
  }

  it('turns the float64 keys startNs, endNs, timeNs and value into Float64Arrays', () => {
    const msg = decode(encode({ a: 'x', startNs: bin(f64View([1, 2])), endNs: bin(f64View([3, 4])), timeNs: bin(f64View([5])), value: bin(f64View([6.5])) })) as Record<string, unknown>;
    const out = decodeColumns(msg);
    for (const key of ['startNs', 'endNs', 'timeNs', 'value']) expect(out[key]).toBeInstanceOf(Float64Array);
    expect(Array.from(out.endNs as Float64Array)).toEqual([3, 4]);
    expect(Array.from(out.value as Float64Array)).toEqual([6.5]);
  });

  it('turns empty bins into empty typed arrays', () => {
    const out = decodeColumns(decode(encode({ timeNs: bin(new Float64Array(0)), srcloc: bin(new Int32Array(0)) })) as Record<string, unknown>);
    expect(out.timeNs).toEqual(new Float64Array(0));
    expect(out.srcloc).toEqual(new Int32Array(0));
  });

  it('leaves bins under other keys, numbers, strings, booleans and null untouched', () => {
    const raw = new Uint8Array([1, 2, 3]);
    const msg = decode(encode({ bytes: raw, count: 5, value: 1.5, row: null, name: 'timeNs', step: true, list: [1, 'a'] })) as Record<string, unknown>;
    const out = decodeColumns(msg);
    expect(out.bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.bytes as Uint8Array)).toEqual([1, 2, 3]);
    expect(out).toMatchObject({ count: 5, value: 1.5, row: null, name: 'timeNs', step: true, list: [1, 'a'] });
  });

  it('decodes columns nested in arrays of objects, as a live update holds them', () => {
    const update = {
      type: 'update',
      threads: [
        { id: 1, depths: [{ startNs: bin(f64View([10, 20])), endNs: bin(f64View([15, 25])), srcloc: bin(i32View([0, -1])), count: bin(i32View([1, 7])) }], open: [] },
        { id: 2, depths: [] },
      ],
      plots: [{ name: 'p', format: 1, count: 3, timeNs: bin(f64View([1, 2, 3])), value: bin(f64View([9, 8, 7])), memory: true }],
      nested: { deeper: { row: bin(i32View([3])) } },
    };
    type Update = {
      threads: Array<{ depths: Array<{ startNs: Float64Array; endNs: Float64Array; srcloc: Int32Array; count: Int32Array }> }>;
      plots: Array<{ name: string; count: number; timeNs: Float64Array; value: Float64Array; memory: boolean }>;
      nested: { deeper: { row: Int32Array } };
    };
    // a pad in front shifts every bin, so some of them land unaligned
    for (let n = 0; n < 8; n++) {
      const out = decodeColumns(decode(encode({ pad: 'p'.repeat(n), ...update })) as Update);
      const depth = out.threads[0]!.depths[0]!;
      expect(Array.from(depth.startNs)).toEqual([10, 20]);
      expect(Array.from(depth.endNs)).toEqual([15, 25]);
      expect(Array.from(depth.srcloc)).toEqual([0, -1]);
      expect(depth.count).toBeInstanceOf(Int32Array);
      expect(Array.from(depth.count)).toEqual([1, 7]);
      expect(out.threads[1]!.depths).toEqual([]);
      const plot = out.plots[0]!;
      expect(plot).toMatchObject({ name: 'p', count: 3, memory: true });
      expect(Array.from(plot.timeNs)).toEqual([1, 2, 3]);
      expect(Array.from(plot.value)).toEqual([9, 8, 7]);
      expect(Array.from(out.nested.deeper.row)).toEqual([3]);
    }
  });

  it('returns the same value it was given (in place), and passes scalars through', () => {
    const obj = { a: 1 };
    expect(decodeColumns(obj)).toBe(obj);
    expect(decodeColumns(5)).toBe(5);
    expect(decodeColumns(null)).toBeNull();
    expect(decodeColumns('x')).toBe('x');
  });
});

describe('the callstack and profile requests', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A fetch that answers JSON `bodies` in turn and records the URLs asked for. */
  function stubFetch(...answers: { status: number; body: unknown }[]): string[] {
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url);
      const a = answers.shift() ?? { status: 500, body: { error: 'no answer left', code: 'ZS_TEST' } };
      return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
    });
    return urls;
  }

  const frames = [{ function: 'cs1_deep', file: 'a.cpp', line: 3, image: 'bin/x', address: '0x10', inlined: false }];

  it('asks for a callstack once per session, and again after a failure', async () => {
    const urls = stubFetch({ status: 503, body: { error: 'busy', code: 'ZS_BUSY' } }, { status: 200, body: { id: 7, frames } }, { status: 200, body: { id: 7, frames } });
    const api = new Api('http://h');
    await expect(api.callstack('s1', 7)).rejects.toBeInstanceOf(ApiError);
    expect((await api.callstack('s1', 7)).frames).toEqual(frames);
    expect((await api.callstack('s1', 7)).frames).toEqual(frames);
    await api.callstack('s2', 7);
    expect(urls).toEqual(['http://h/api/sessions/s1/callstacks/7', 'http://h/api/sessions/s1/callstacks/7', 'http://h/api/sessions/s2/callstacks/7']);
  });

  it('asks for a stack flame graph with its kind, times, pool and direction, and links the same profile as pprof', async () => {
    const urls = stubFetch({ status: 200, body: { kind: 'inuse', nodes: [] } }, { status: 200, body: { kind: 'cpu', nodes: [] } });
    const api = new Api('');
    await api.stackFlame('s', { kind: 'inuse', t1: 5e9, pool: 'Memory usage: cs pool', invert: true });
    // a pool means nothing to CPU samples
    await api.stackFlame('s', { kind: 'cpu', t0: 1, t1: 2, pool: 'Memory usage', invert: false });
    expect(urls).toEqual(['/api/sessions/s/stack-flame?kind=inuse&t1=5000000000&pool=Memory%20usage%3A%20cs%20pool&invert=1', '/api/sessions/s/stack-flame?kind=cpu&t0=1&t1=2']);
    expect(api.pprofUrl('s', { kind: 'alloc', t0: 1, t1: 2, pool: 'Memory usage', invert: true })).toBe('/api/sessions/s/pprof?kind=alloc&t0=1&t1=2&pool=Memory%20usage');
  });

  it('filters the memory window by a frame', async () => {
    const urls = stubFetch({ status: 200, body: {} });
    await new Api('').memory('s', { pool: 'Memory usage', mode: 'at', t: 9, frame: 'cs1_leak_here', limit: 10 });
    expect(urls).toEqual(['/api/sessions/s/memory?pool=Memory%20usage&limit=10&frame=cs1_leak_here&t=9']);
  });
});
