/**
 * Test support for comparing captures: small synthetic .zscap files made with the protocol's
 * stream builder (protocol/capture), one thread, each zone name with its own durations, so a
 * test knows every figure a comparison must give.
 */
import { CaptureStreamBuilder } from '../../protocol/capture/stream-builder.js';
import { captureFromRecording } from './capture-files.js';

export interface SyntheticZones {
  name: string;
  /** zones of this name */
  count: number;
  /** duration of the i-th zone, ns (integer, at most 8000) */
  durNs(i: number): number;
}

/**
 * A capture with, per step i, a 'Frame' zone of 10 us holding one zone of each entry of `zones`
 * (while it has zones left) one after the other; all on thread 1 ("main").
 */
export function syntheticCapture(zones: readonly SyntheticZones[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const b = new CaptureStreamBuilder({ app: 'compare-test', pid: 1, hostInfo: 'test', epochS: 1_700_000_000 }, (c) => chunks.push(c.slice()), { compress: true });
  const frame = b.srcloc('Frame', 'frame', 'app.cpp', 1, 0);
  const locs = zones.map((z, i) => b.srcloc(z.name, z.name.toLowerCase(), 'app.cpp', 10 + i, 0));
  b.threadName(1, 'main');
  const steps = Math.max(0, ...zones.map((z) => z.count));
  const frameNs = 10_000 * Math.max(1, zones.length);
  for (let i = 0; i < steps; i++) {
    const t = 1000 + i * (frameNs + 1000);
    b.zoneBegin(1, t, frame);
    zones.forEach((z, k) => {
      if (i >= z.count) return;
      const at = t + 10 + k * 10_000;
      b.zoneBegin(1, at, locs[k]!);
      b.zoneEnd(1, at + z.durNs(i));
    });
    b.zoneEnd(1, t + frameNs);
  }
  b.finish();
  const stream = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    stream.set(c, at);
    at += c.length;
  }
  return captureFromRecording(stream).file;
}
