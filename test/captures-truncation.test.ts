/**
 * A .zscap cut at any byte still opens, with exactly the data before the cut: 20 seeded random
 * offsets into a capture of a real recording, each read by `inspect` (which must agree with
 * inspecting the recording cut at the same stream offset) and loaded as a server session.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError } from '../protocol/capture/index.js';
import { readCaptureFile } from '../server/capture/capture-file.js';
import { loadCaptureSession } from '../server/capture/capture-session.js';
import { runInspect } from '../server/inspect/inspect-command.js';
import type { InspectReport } from '../server/inspect/inspect-report.js';
import { SessionRegistry } from '../server/session/session-registry.js';
import { captureFromRecording, clientHeadLength, frameEnds } from './support/capture-files.js';
import { mulberry32 } from './support/tracy-streams.js';
import { CollectingStream, FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';

if (!FIXTURES_PRESENT) console.warn('captures-truncation: ../shared/fixtures/tracy is absent; the real-recording tests are skipped');

const dir = mkdtempSync(join(tmpdir(), 'zonescope-cut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inspect(path: string): Promise<{ code: number; report: InspectReport }> {
  const out = new CollectingStream();
  const code = await runInspect([path, '--json'], out, new CollectingStream());
  return { code, report: JSON.parse(out.text) as InspectReport };
}

describe.skipIf(!FIXTURES_PRESENT)('a truncated .zscap', () => {
  const bin = FIXTURES_PRESENT ? new Uint8Array(readFileSync(fixture('medium.client.bin'))) : new Uint8Array(0);

  it('opens at 20 random cuts with exactly the data before each cut', async () => {
    const { file, headLength } = captureFromRecording(bin, { sessionId: '7' });
    const ends = frameEnds(bin);
    const clientHead = clientHeadLength(bin);
    const random = mulberry32(0x25ca9);
    const registry = new SessionRegistry();
    for (let i = 0; i < 20; i++) {
      const cut = headLength + Math.floor(random() * (file.length - headLength));
      const streamCut = clientHead + (cut - headLength); // the same place in the recording
      const complete = ends.filter((e) => e <= streamCut).length;
      const lastEnd = complete > 0 ? ends[complete - 1]! : clientHead;
      const what = `cut ${i} at file byte ${cut} of ${file.length} (stream ${streamCut}, after frame ${complete})`;

      const zscap = join(dir, `cut-${i}.zscap`);
      writeFileSync(zscap, file.subarray(0, cut));
      const recording = join(dir, `cut-${i}.client.bin`);
      writeFileSync(recording, bin.subarray(0, streamCut));

      // the reader: every complete frame, and how much was cut
      const read = await readCaptureFile(zscap, () => {});
      expect({ frames: read.frames, cutBytes: read.cutBytes }, what).toEqual({ frames: complete, cutBytes: streamCut - lastEnd });

      // inspect: the same as the recording cut at the same place (only the file offsets differ)
      const a = await inspect(zscap);
      const b = await inspect(recording);
      const { capture, errors: errorsA, ...restA } = a.report;
      const { errors: errorsB, ...restB } = b.report;
      expect(restA, what).toEqual(restB);
      expect(capture, what).toMatchObject({ frames: complete, cutBytes: streamCut - lastEnd, sessionId: '7' });
      expect(errorsA.length, what).toBe(errorsB.length);
      if (streamCut > lastEnd) expect(errorsA.join('\n'), what).toContain(`the capture file was cut ${streamCut - lastEnd} bytes after its last complete frame`);
      expect(a.code, what).toBe(1); // a cut capture is reported as truncated
      expect(a.report.zones.length, what).toBeGreaterThan(0);

      // and the server opens it as a session holding the zones before the cut
      const { session, done } = loadCaptureSession(registry, zscap);
      const { error } = await done;
      expect(error, what).toBeNull();
      const ended = a.report.zones.reduce((n, z) => n + z.count - z.open, 0);
      expect(session.store.zonesEnded, what).toBe(ended);
      expect(session.endReason, what).toBe('disconnected');
      if (streamCut > lastEnd) expect(session.truncation, what).toMatch(/the stream ended inside (the frame|a frame header)/);
      registry.delete(session.id);
    }
  }, 120_000);

  it('says clearly when the cut is inside the head, and when a file is not a capture', async () => {
    const { file, headLength } = captureFromRecording(bin);
    const inHead = join(dir, 'head.zscap');
    writeFileSync(inHead, file.subarray(0, headLength - 10));
    const read = await readCaptureFile(inHead, () => {});
    expect(read).toMatchObject({ header: null, frames: 0, cutBytes: headLength - 10 });
    const r = await inspect(inHead);
    expect(r.code).toBe(1);
    expect(r.report.errors).toEqual([`ZS_PROTOCOL_TRUNCATED: the capture ends inside its head (${headLength - 10} bytes)`]);

    const notCapture = join(dir, 'not.zscap');
    writeFileSync(notCapture, 'hello, world');
    await expect(readCaptureFile(notCapture, () => {})).rejects.toSatisfy((e: unknown) => e instanceof CaptureError && e.code === 'ZS_CAPTURE_NOT_A_CAPTURE');
  });
});
