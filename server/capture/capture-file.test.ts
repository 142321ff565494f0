import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, ZSCAP_VERSION, type CaptureHeader } from '../../protocol/capture/index.js';
import { encodeClientStream, encodeOnDemandPayload, WELCOME_SIZE, WelcomeFlag, type WelcomeMessage } from '../../protocol/tracy/index.js';
import { CaptureFileWriter, readCaptureFile, readCaptureHead } from './capture-file.js';
import { CaptureRecorder, type RecordedHead } from './capture-recorder.js';

const dir = mkdtempSync(join(tmpdir(), 'zonescope-capture-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = () => join(dir, `${n++}.zscap`);

function welcome(flags = 0): WelcomeMessage {
  return {
    timerMul: 1, initBegin: 0n, initEnd: 0n, resolution: 1n, epoch: 1_700_000_000n, exectime: 0n, pid: 99n, samplingPeriod: 0n,
    flags, cpuArch: 0, cpuManufacturer: '', cpuId: 0, programName: 'unit', hostInfo: 'unit host',
  };
}

/** A client stream of a few frames (zones, a flush, more zones, Terminate). */
function clientStream(flags = 0): Uint8Array {
  return encodeClientStream(
    welcome(flags),
    (q) => {
      for (let i = 0; i < 300; i++) {
        q.zoneBegin(1, i * 10, 0x10);
        q.zoneEnd(1, i * 10 + 5);
      }
    },
    flags & WelcomeFlag.OnDemand ? { onDemand: { frames: 1n, currentTime: 0n } } : {},
  );
}

function header(w: Uint8Array, onDemand: Uint8Array | null = null): CaptureHeader {
  return { formatVersion: ZSCAP_VERSION, app: 'unit', pid: 99, hostInfo: 'unit host', wallClockStartMs: 1_700_000_000_000, welcome: w, onDemand, source: 'tcp', sessionId: '1' };
}

async function streamOf(file: string): Promise<{ bytes: Uint8Array; frames: number; cutBytes: number }> {
  const parts: Uint8Array[] = [];
  const r = await readCaptureFile(file, (b) => parts.push(b.slice()), { chunkSize: 333 });
  return { bytes: new Uint8Array(Buffer.concat(parts)), frames: r.frames, cutBytes: r.cutBytes };
}

describe('CaptureFileWriter', () => {
  it('writes a capture that reads back as the client stream, counting frames across any split', async () => {
    const bin = clientStream();
    const file = path();
    const w = CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE)));
    const body = bin.subarray(1 + WELCOME_SIZE);
    for (let p = 0; p < body.length; p += 7) w.append(body.subarray(p, p + 7));
    expect(w.completeBytes).toBe(w.bytes);
    w.close();
    expect(statSync(file).size).toBe(w.bytes);
    const back = await streamOf(file);
    expect(back.bytes).toEqual(bin);
    expect(back.frames).toBe(w.frames);
    expect(back.cutBytes).toBe(0);
    expect((await readCaptureHead(file)).header).toMatchObject({ app: 'unit', sessionId: '1', source: 'tcp' });
  });

  it('never overwrites a capture unless asked', () => {
    const bin = clientStream();
    const file = path();
    CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE))).close();
    expect(() => CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE)))).toThrow(/EEXIST/);
    CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE)), { overwrite: true }).close();
  });

  it('cuts a partial last frame on close when asked, and keeps it otherwise', async () => {
    const bin = clientStream();
    const body = bin.subarray(1 + WELCOME_SIZE);
    for (const trim of [true, false]) {
      const file = path();
      const w = CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE)));
      w.append(body.subarray(0, body.length - 3)); // inside the Terminate frame
      const cut = w.bytes - w.completeBytes;
      expect(cut).toBeGreaterThan(0);
      w.close({ trimPartialFrame: trim, sync: true });
      const back = await streamOf(file);
      expect(back.cutBytes).toBe(trim ? 0 : cut);
      expect(statSync(file).size).toBe(w.bytes);
      expect(back.frames).toBe(w.frames);
    }
  });
});

describe('readCaptureHead', () => {
  it('reads only the head, and says what is wrong with other files', async () => {
    const text = path();
    writeFileSync(text, 'not a capture at all');
    await expect(readCaptureHead(text)).rejects.toSatisfy((e: unknown) => e instanceof CaptureError && e.code === 'ZS_CAPTURE_NOT_A_CAPTURE');
    const short = path();
    writeFileSync(short, Buffer.from('ZSCAP\0\r\n\x10'));
    await expect(readCaptureHead(short)).rejects.toThrow(/ends inside its head \(9 bytes\)/);
  });
});

describe('CaptureRecorder', () => {
  it('creates the file once the welcome (and on-demand payload) arrived, whatever the chunking', async () => {
    for (const flags of [0, WelcomeFlag.OnDemand]) {
      const bin = clientStream(flags);
      for (const size of [1, 5, 1170, 1171, 1187, 4096]) {
        const file = path();
        let head: RecordedHead | null = null;
        const rec = new CaptureRecorder((h) => {
          head = h;
          return CaptureFileWriter.create(file, header(h.welcome, h.onDemand));
        });
        for (let p = 0; p < bin.length; p += size) rec.write(bin.subarray(p, p + size));
        rec.close();
        expect(head!.decoded.programName).toBe('unit');
        expect(head!.onDemand).toEqual(flags ? encodeOnDemandPayload({ frames: 1n, currentTime: 0n }) : null);
        expect((await streamOf(file)).bytes).toEqual(bin);
      }
    }
  });

  it('records nothing for a rejected handshake, and reports a write error once without throwing', () => {
    let created = 0;
    const rejected = new CaptureRecorder(() => {
      created++;
      throw new Error('not expected');
    });
    rejected.write(Uint8Array.of(3));
    rejected.write(new Uint8Array(2000));
    expect(created).toBe(0);

    const errors: Error[] = [];
    const bin = clientStream();
    const failing = new CaptureRecorder(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }, (e) => errors.push(e));
    failing.write(bin);
    failing.write(bin);
    expect(errors.map((e) => e.message)).toEqual(['ENOSPC: no space left on device']);
    expect(failing.error).toBe(errors[0]);
  });
});

it('reads a file written by the writer through readFileSync too (sanity: magic first)', () => {
  const bin = clientStream();
  const file = path();
  CaptureFileWriter.create(file, header(bin.slice(1, 1 + WELCOME_SIZE))).close();
  expect(readFileSync(file).subarray(0, 5).toString('latin1')).toBe('ZSCAP');
});
