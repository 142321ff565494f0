/**
 * A .zscap made from a recording (`*.client.bin`, the bytes an app sent from its status byte
 * on): a head from its welcome (and on-demand payload), then its frames, as the spool writes
 * a session that arrived with exactly those bytes.
 */
import { encodeCaptureHead, ZSCAP_VERSION } from '../../protocol/capture/zscap.js';
import { decodeWelcome, ON_DEMAND_PAYLOAD_SIZE, WELCOME_SIZE, WelcomeFlag } from '../../protocol/tracy/index.js';

/** Where a recording's frames start: status byte + welcome (+ on-demand payload). */
export function recordingHeadLength(recording: Uint8Array): number {
  const flags = recording[1 + 64]!;
  return 1 + WELCOME_SIZE + ((flags & WelcomeFlag.OnDemand) !== 0 ? ON_DEMAND_PAYLOAD_SIZE : 0);
}

/** The .zscap bytes of `recording[0, end)` (end may cut a frame: a crash-cut capture). */
export function captureOfRecording(recording: Uint8Array, end = recording.length): Uint8Array {
  const welcome = recording.slice(1, 1 + WELCOME_SIZE);
  const w = decodeWelcome(welcome);
  const onDemand = (w.flags & WelcomeFlag.OnDemand) !== 0 ? recording.slice(1 + WELCOME_SIZE, 1 + WELCOME_SIZE + ON_DEMAND_PAYLOAD_SIZE) : null;
  const head = encodeCaptureHead({ formatVersion: ZSCAP_VERSION, app: w.programName, pid: Number(w.pid), hostInfo: w.hostInfo, wallClockStartMs: 1_780_000_000_000, welcome, onDemand, source: 'connect' });
  const frames = recording.subarray(recordingHeadLength(recording), end);
  const out = new Uint8Array(head.length + frames.length);
  out.set(head, 0);
  out.set(frames, head.length);
  return out;
}
