/**
 * `captures`: the speed of every conversion captures go through, and their sizes, on a
 * synthetic capture of ZONES zones (our encoder; default 1 M: its Chrome JSON, ~250 MB, must
 * fit in one JavaScript string for the import).
 *
 * - .zscap import: the capture loaded as a session (SessionRegistry + loadCaptureBytes: the
 *   normal Session machinery, decoding in slices) until the session ended;
 * - .zscap export: the loaded session's store re-encoded into a .zscap (exportStoreToCapture);
 * - Chrome export: the .zscap to Chrome Trace Event JSON (captureToChrome, two passes), plain
 *   and through gzip (node:zlib, default level);
 * - Chrome import: that JSON text back into a .zscap (importChromeTrace).
 * Sizes in bytes per zone: the .zscap, the Chrome JSON plain and gzip.
 */
import { gzipSync } from 'node:zlib';
import { encodeCaptureHead, ZSCAP_VERSION } from '../protocol/capture/index.js';
import { WELCOME_SIZE } from '../protocol/tracy/index.js';
import { loadCaptureBytes } from '../server/capture/capture-session.js';
import { exportStoreToCapture } from '../server/capture/store-to-capture.js';
import { captureToChrome } from '../server/export/capture-to-chrome.js';
import { importChromeTrace } from '../server/export/chrome-import.js';
import { SessionRegistry } from '../server/session/session-registry.js';
import { collectGarbage } from './bench-util.js';
import { makeSyntheticStream } from './synthetic-stream.js';

const ZONES = Number(process.env.ZONESCOPE_BENCH_CAPTURE_ZONES ?? 1_000_000);

/** "2.71 M zones/s" */
const zonesPerS = (zones: number, ms: number) => `${((zones / ms) * 1000 / 1e6).toFixed(2)} M zones/s`;
const perZone = (bytes: number, zones: number) => (bytes / zones).toFixed(1);

export async function runCaptureBench(): Promise<void> {
  const s = makeSyntheticStream(ZONES);
  // The synthetic stream is what an app sends: status byte, welcome, frames. A capture holds
  // the welcome in its head and the frames after it.
  const welcome = s.stream.subarray(1, 1 + WELCOME_SIZE);
  const frames = s.stream.subarray(1 + WELCOME_SIZE);
  const head = encodeCaptureHead({ formatVersion: ZSCAP_VERSION, app: 'synthetic_app', pid: 4242, hostInfo: 'bench', wallClockStartMs: Date.now(), welcome, onDemand: null, source: 'tcp' });
  const zscap = new Uint8Array(head.length + frames.length);
  zscap.set(head, 0);
  zscap.set(frames, head.length);
  console.log(`captures: ${s.name}: ${(s.zones / 1e6).toFixed(2)} M zones, .zscap ${(zscap.length / 1e6).toFixed(1)} MB`);

  // .zscap -> session
  collectGarbage();
  const registry = new SessionRegistry({ memoryBytes: 4 * 2 ** 30 });
  let t0 = performance.now();
  const loaded = loadCaptureBytes(registry, zscap, 'bench.zscap');
  const done = await loaded.done;
  const loadMs = performance.now() - t0;
  const session = loaded.session;
  if (done.error || session.store.zonesEnded !== s.zones) throw new Error(`capture load: ${session.store.zonesEnded} of ${s.zones} zones (${done.error?.message ?? 'no error'})`);
  console.log(`captures: .zscap -> session (decode + store, in slices)  ${loadMs.toFixed(0)} ms  ${zonesPerS(s.zones, loadMs)}`);

  // session store -> .zscap
  collectGarbage();
  t0 = performance.now();
  let reBytes = 0;
  const re = exportStoreToCapture(session.store, { welcome: session.welcome, sessionId: session.id, wallClockStartMs: session.startedAt });
  for (let next = re.next(); !next.done; next = re.next()) reBytes += next.value.length;
  const reMs = performance.now() - t0;
  console.log(`captures: store -> .zscap (range export, whole session)  ${reMs.toFixed(0)} ms  ${zonesPerS(s.zones, reMs)}  ${perZone(reBytes, s.zones)} B/zone`);

  // .zscap -> Chrome JSON
  collectGarbage();
  t0 = performance.now();
  const parts: Uint8Array[] = [];
  let jsonBytes = 0;
  const chrome = captureToChrome(() => [zscap]);
  for (let next = await chrome.next(); !next.done; next = await chrome.next()) {
    parts.push(next.value);
    jsonBytes += next.value.length;
  }
  const chromeMs = performance.now() - t0;
  console.log(`captures: .zscap -> Chrome JSON (two passes, streamed)  ${chromeMs.toFixed(0)} ms  ${zonesPerS(s.zones, chromeMs)}  ${(jsonBytes / 1e6).toFixed(0)} MB`);
  const json = Buffer.concat(parts);
  parts.length = 0;
  t0 = performance.now();
  const gz = gzipSync(json);
  const gzMs = performance.now() - t0;
  console.log(`captures: gzip of the Chrome JSON (zlib level 6)  ${gzMs.toFixed(0)} ms  ${(gz.length / 1e6).toFixed(1)} MB`);

  // Chrome JSON -> .zscap
  const text = json.toString('utf8');
  collectGarbage();
  t0 = performance.now();
  const imported = importChromeTrace(text, 'bench.json');
  const importMs = performance.now() - t0;
  if (imported.stats.zones !== s.zones) throw new Error(`Chrome import: ${imported.stats.zones} of ${s.zones} zones`);
  console.log(`captures: Chrome JSON -> .zscap (import)  ${importMs.toFixed(0)} ms  ${zonesPerS(s.zones, importMs)}  (${imported.stats.events} events)`);

  console.log(
    `captures: bytes per zone: .zscap ${perZone(zscap.length, s.zones)} (as received), .zscap re-encoded ${perZone(reBytes, s.zones)}, ` +
      `Chrome JSON ${perZone(jsonBytes, s.zones)} plain / ${perZone(gz.length, s.zones)} gzip, imported .zscap ${perZone(imported.capture.length, s.zones)}`,
  );
  registry.delete(session.id);
}
