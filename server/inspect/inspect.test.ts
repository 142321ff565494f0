import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tracyFixturePath } from '../../test/support/fixture-paths.js';
import {
  CollectingStream,
  FIXTURES_PRESENT,
  fixture,
  parseCsv,
  parseCsvexportZones,
} from '../../test/support/inspect-fixtures.js';
import type { OutputStream } from './buffered-output.js';
import { csvField } from './csv-writers.js';
import { INSPECT_USAGE, runInspect } from './inspect-command.js';
import type { InspectReport } from './inspect-report.js';

async function inspect(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new CollectingStream();
  const err = new CollectingStream();
  const code = await runInspect(args, out, err);
  return { code, out: out.text, err: err.text };
}

async function inspectJson(file: string): Promise<{ code: number; report: InspectReport }> {
  const { code, out } = await inspect(file, '--json');
  return { code, report: JSON.parse(out) as InspectReport };
}

const tmp = mkdtempSync(join(tmpdir(), 'zonescope-inspect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tmpFile(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

function totalZones(report: InspectReport): number {
  return report.zones.reduce((sum, z) => sum + z.count, 0);
}

describe('zonescope inspect: arguments and files', () => {
  it('prints its usage, with the exit codes, for --help and exits 0', async () => {
    const { code, out } = await inspect('--help');
    expect(code).toBe(0);
    expect(out).toBe(INSPECT_USAGE);
    expect(out).toMatch(/Exit status:\n {2}0 .*\n {2}1 .*truncated or broken/s);
  });

  it.each([
    [[], /missing FILE/],
    [['a.bin', 'b.bin'], /one FILE expected/],
    [['a.bin', '--yaml'], /unknown option --yaml/],
    [['a.bin', '--csv'], /--csv needs one of zones, messages, plots/],
    [['a.bin', '--csv', 'frames'], /--csv frames: expected one of/],
    [['a.bin', '--json', '--csv', 'zones'], /--json and --csv zones cannot be combined/],
  ])('rejects %j with exit code 2 and says why', async (args, message) => {
    const { code, out, err } = await inspect(...args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err).toContain('Usage: zonescope inspect');
  });

  it('exits 2 with a clear message when FILE does not exist', async () => {
    const missing = join(tmp, 'no-such.client.bin');
    const { code, out, err } = await inspect(missing, '--json');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(`zonescope inspect: cannot read ${missing}: no such file\n`);
  });

  it('exits 2 when FILE is a directory', async () => {
    const { code, err } = await inspect(tmp);
    expect(code).toBe(2);
    expect(err).toContain('is not a file');
  });

  it('reports an empty file as an empty stream (exit 1) and still prints a JSON object', async () => {
    const { code, report } = await inspectJson(tmpFile('empty.client.bin', new Uint8Array(0)));
    expect(code).toBe(1);
    expect(report.errors).toEqual(['ZS_PROTOCOL_TRUNCATED: the stream is empty']);
    expect(report.program).toBeNull();
    expect(report.zones).toEqual([]);
  });

  it('reports a stream that does not start with the Welcome status byte', async () => {
    const { code, report } = await inspectJson(tmpFile('bad-status.client.bin', Uint8Array.of(3, 0, 0)));
    expect(code).toBe(1);
    expect(report.errors[0]).toMatch(/^ZS_PROTOCOL_HANDSHAKE_REJECTED: .*NotAvailable \(3\).*\(stream offset 0\)/);
  });

  it('quotes CSV fields only when they hold a comma, a quote or a line break', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('iter=1\n1 [0x1]')).toBe('"iter=1\n1 [0x1]"');
  });
});

/** Offsets of the frames of a recording without on-demand payload: [start, compressed size]. */
function frameOffsets(bytes: Uint8Array): [number, number][] {
  const frames: [number, number][] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = 1 + 1170; p + 4 <= bytes.length; ) {
    const size = view.getUint32(p, true);
    frames.push([p, size]);
    p += 4 + size;
  }
  return frames;
}

describe.skipIf(!FIXTURES_PRESENT)('zonescope inspect: streams that end early or break', () => {
  if (!FIXTURES_PRESENT) console.log('skipping: ../shared/fixtures/tracy is absent');
  const small = FIXTURES_PRESENT ? new Uint8Array(readFileSync(fixture('small.client.bin'))) : new Uint8Array(0);
  const frames = frameOffsets(small);
  // A large frame about two thirds into the recording: zones before it, zones after it.
  const [cutFrame, cutSize] = frames.filter(([start, size]) => start > small.length / 2 && size > 200)[0] ?? [0, 0];

  it('reports a stream cut mid-frame (what and where) and keeps the zones decoded before it', async () => {
    const cut = tmpFile('small-cut.client.bin', small.subarray(0, cutFrame + 4 + (cutSize >> 1)));
    const { code, report } = await inspectJson(cut);
    expect(code).toBe(1);
    expect(report.errors).toEqual([
      `ZS_PROTOCOL_TRUNCATED: the stream ended inside the frame at offset ${cutFrame} (${cutSize >> 1} of ${cutSize} bytes)`,
    ]);
    expect(report.program).toBe('fixture_app');
    const zones = totalZones(report);
    expect(zones).toBeGreaterThan(0);
    expect(zones).toBeLessThan(3371);

    // Exactly the zones of the frames before the cut: the same as a stream ending at that frame.
    const boundary = tmpFile('small-boundary.client.bin', small.subarray(0, cutFrame));
    const atBoundary = await inspectJson(boundary);
    expect(atBoundary.code).toBe(1);
    expect(atBoundary.report.errors).toEqual([
      `ZS_PROTOCOL_TRUNCATED: the stream ended at offset ${cutFrame} on a frame boundary without the app's Terminate item (recording cut short?)`,
    ]);
    expect(atBoundary.report.zones).toEqual(report.zones);
    expect(atBoundary.report.threads).toEqual(report.threads);
  });

  it('still writes the CSV rows of the zones decoded before the cut, and the problem to stderr', async () => {
    const cut = tmpFile('small-cut-csv.client.bin', small.subarray(0, cutFrame + 4 + (cutSize >> 1)));
    const { code, out, err } = await inspect(cut, '--csv', 'zones');
    expect(code).toBe(1);
    expect(err).toContain(`ZS_PROTOCOL_TRUNCATED: the stream ended inside the frame at offset ${cutFrame}`);
    const rows = parseCsv(out).slice(1);
    expect(rows.length).toBeGreaterThan(0);
    const truth = parseCsvexportZones(readFileSync(fixture('small.zones-unwrapped.csv'), 'utf8'));
    const known = new Set(truth.map((z) => `${z.name},${z.file},${z.line},${z.startNs},${z.durationNs}`));
    const goStyle = new Set(truth.filter((z) => z.name === 'GoStyleZone').map((z) => `${z.startNs},${z.durationNs}`));
    let unnamed = 0;
    for (const row of rows) {
      if (row[0]!.startsWith('<srcloc 0x')) {
        // A GoTracy-style location queried just before the cut: its reply never came.
        unnamed++;
        expect(goStyle.has(`${row[3]},${row[4]}`)).toBe(true);
      } else {
        expect(known.has(row.slice(0, 5).join(','))).toBe(true);
      }
    }
    expect(unnamed).toBeLessThan(rows.length / 100);
  });

  it('reports a bad frame size with its code and offset and keeps what came before', async () => {
    const broken = small.slice();
    new DataView(broken.buffer).setUint32(cutFrame, 0xffffffff, true);
    const { code, report } = await inspectJson(tmpFile('small-bad-size.client.bin', broken));
    expect(code).toBe(1);
    expect(report.errors).toEqual([
      `ZS_PROTOCOL_BAD_FRAME_SIZE: frame size 4294967295 is outside 1..263188 (LZ4Size) (stream offset ${cutFrame}); decoding stopped there`,
    ]);
    const boundary = await inspectJson(tmpFile('small-boundary-2.client.bin', small.subarray(0, cutFrame)));
    expect(report.zones).toEqual(boundary.report.zones);
  });

  it('reports a corrupt LZ4 block and lists the error in the readable summary', async () => {
    const broken = small.slice();
    broken.fill(0xff, cutFrame + 4, cutFrame + 4 + 64);
    const { code, out } = await inspect(tmpFile('small-bad-lz4.client.bin', broken));
    expect(code).toBe(1);
    expect(out).toMatch(/Errors \(1\); everything above was decoded before the stream broke off:\n {2}ZS_PROTOCOL_(BAD_LZ4_BLOCK|UNKNOWN_QUEUE_TYPE|ITEM_SPANS_FRAME|BAD_LENGTH|BAD_STATE): /);
    expect(out).toContain('Program      fixture_app');
  });
});

describe.skipIf(!FIXTURES_PRESENT)('zonescope inspect: output', () => {
  it('prints a readable summary of the small recording', async () => {
    const { code, out, err } = await inspect(fixture('small.client.bin'));
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('Program      fixture_app  pid 14947  Tracy protocol 82');
    expect(out).toContain('Host         OS: Linux');
    expect(out).toContain('ended by the app (Terminate)');
    expect(out).toMatch(/Threads \(4\)\n.*id +name +zones\n +14947 +Main thread +1,871\n/);
    expect(out).toContain('Zones: 3,371 begun, 0 open at the end, 38 source locations');
    expect(out).toMatch(/Top 20 source locations by total time:\n.*\n +50\.10 ms +1 +50\.10 ms .* Long +fixture\/fixture_app\.cpp:200\n/);
    expect(out).toMatch(/<default> +200\n +load +50\n +physics +100\n/);
    expect(out).toMatch(/plot_mem +100 +1,052,672 +1,863,680\n/);
    expect(out).toContain('Messages     162 (160 info, 1 warning, 1 error)');
    expect(out).toContain('Memory       200 allocs, 200 frees (32,700 bytes allocated)');
    expect(out).toContain('Locks        SharedLock: 400 obtains');
    expect(out).toContain('Errors       none');
  });

  it('waits for a full output stream to drain and still writes everything', async () => {
    const chunks: string[] = [];
    let drainWaits = 0;
    const slow: OutputStream = {
      write(chunk: string): boolean {
        chunks.push(chunk);
        return false;
      },
      once(_event: 'drain', listener: () => void): unknown {
        drainWaits++;
        setImmediate(listener);
        return undefined;
      },
    };
    const code = await runInspect([fixture('medium.client.bin'), '--csv', 'messages'], slow, new CollectingStream());
    expect(code).toBe(0);
    expect(drainWaits).toBeGreaterThan(1);
    expect(parseCsv(chunks.join('')).length).toBe(1 + 9602);
  });

  it('stops quietly when the reader of its output goes away (EPIPE)', async () => {
    let onError: ((err: Error) => void) | null = null;
    const closing: OutputStream = {
      write(): boolean {
        const fail = onError;
        if (fail !== null) setImmediate(() => fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
        return false;
      },
      once(): unknown {
        return undefined;
      },
      on(_event: 'error', listener: (err: Error) => void): unknown {
        onError = listener;
        return undefined;
      },
    };
    const err = new CollectingStream();
    expect(await runInspect([fixture('medium.client.bin'), '--csv', 'zones'], closing, err)).toBe(0);
    expect(err.text).toBe('');
  });
});

describe('inspect on Chrome Trace Event JSON', () => {
  it('imports the file as view and the viewer do, and summarises it: zones per name as Tracy\'s import-chrome + csvexport count them', async () => {
    const { code, report } = await inspectJson(tracyFixturePath('chrome/basic.json'));
    expect(code).toBe(0);
    const counts: Record<string, number> = {};
    for (const z of report.zones) counts[z.name] = (counts[z.name] ?? 0) + z.count;
    const csv = readFileSync(tracyFixturePath('chrome/basic.zones.csv'), 'utf8').trim().split('\n').slice(1);
    const want: Record<string, number> = {};
    for (const line of csv) {
      const f = line.split(',');
      want[f[0]!] = (want[f[0]!] ?? 0) + Number(f[5]);
    }
    expect(counts).toEqual(want);
    const text = await inspect(tracyFixturePath('chrome/basic.json'));
    expect(text.out).toContain('Chrome Trace Event JSON imported from basic.json');
  });

  it('says where a broken JSON file breaks, with exit status 1', async () => {
    const { code, err } = await inspect(tmpFile('broken.json', new TextEncoder().encode('{"traceEvents":[{"ph":"X",,"ts":1}]}')));
    expect(code).toBe(1);
    expect(err).toMatch(/^zonescope inspect: .*broken\.json: ZS_CHROME_JSON_\w+: .*line 1/);
  });
});
