/**
 * The fuzzer's seeds: real recordings (`*.client.bin`: the bytes a Tracy app sent, from its
 * handshake status byte on), cut into their head and frames so mutations can work on whole
 * frames, and small Chrome Trace Event files written by other tools.
 *
 * Where they are read from, first found wins (as the tests find them):
 *   $ZONESCOPE_FIXTURES, test/fixtures/tracy/, ../shared/fixtures/tracy/  (recordings)
 *   test/fixtures/chrome-trace-event/, ../shared/fixtures/chrome-trace-event/,
 *   ../shared/fixtures/tracy/chrome/  (Chrome JSON, files up to CHROME_MAX_BYTES)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCaptureHead, ZSCAP_VERSION } from '../protocol/capture/index.js';
import {
  decodeWelcome,
  decompressBlock,
  LZ4_HISTORY_SIZE,
  ON_DEMAND_PAYLOAD_SIZE,
  TARGET_FRAME_SIZE,
  WELCOME_SIZE,
  WelcomeFlag,
} from '../protocol/tracy/index.js';

/**
 * The recordings mutated. `small` is required (it is also the socket phase's control stream);
 * the others are used when found (a checkout may carry only the small ones in test/fixtures).
 */
export const RECORDING_NAMES = ['small', 'small-default', 'small-ondemand', 'medium'] as const;
/** Larger Chrome files cost tens of ms per import: the small ones cover the parser as well. */
export const CHROME_MAX_BYTES = 32 * 1024;

export interface Recording {
  name: string;
  /** The whole client stream. */
  bytes: Uint8Array;
  /** Status byte + WelcomeMessage (+ OnDemandPayloadMessage): the bytes before the first frame. */
  head: Uint8Array;
  /** Every frame, `u32 LE size + LZ4 block`, as views of `bytes`. */
  frames: Uint8Array[];
  /** Each frame's decompressed queue items (for mutations inside items). */
  items: Uint8Array[];
  /** The .zscap head (magic, length, msgpack header) of a capture of this stream. */
  captureHead: Uint8Array;
}

export interface ChromeFile {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzInputs {
  recordings: Recording[];
  chrome: ChromeFile[];
  /** Where the recordings were found. */
  recordingDir: string;
}

/** The repository root, from fuzz/*.ts (vitest) or dist/fuzz/*.js (npm run fuzz). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('fuzz: no package.json above the fuzzer');
    dir = up;
  }
  return dir;
}

function firstDirWith(candidates: (string | undefined)[], file: string): string | null {
  for (const dir of candidates) if (dir !== undefined && existsSync(join(dir, file))) return dir;
  return null;
}

/** The folders searched for recordings, first found wins. */
function tracyDirs(): (string | undefined)[] {
  const root = repoRoot();
  return [process.env.ZONESCOPE_FIXTURES, join(root, 'test/fixtures/tracy'), resolve(root, '../shared/fixtures/tracy')];
}

/** True when the required recording (small.client.bin) can be found. */
export function recordingsPresent(): boolean {
  return firstDirWith(tracyDirs(), 'small.client.bin') !== null;
}

/**
 * Reads the recordings (each from the first folder that has it) and the small Chrome files.
 * @throws Error naming the folders searched when small.client.bin is missing
 */
export function loadInputs(): FuzzInputs {
  const root = repoRoot();
  const dirs = tracyDirs();
  const recordings: Recording[] = [];
  let recordingDir = '';
  for (const name of RECORDING_NAMES) {
    const file = `${name}.client.bin`;
    const dir = firstDirWith(dirs, file);
    if (dir === null) {
      if (name === 'small') throw new Error(`fuzz: ${file} not found in ${dirs.filter(Boolean).join(', ')}`);
      continue;
    }
    if (name === 'small') recordingDir = dir;
    recordings.push(splitRecording(name, new Uint8Array(readFileSync(join(dir, file)))));
  }
  const chromeDirs = [join(root, 'test/fixtures/chrome-trace-event'), resolve(root, '../shared/fixtures/chrome-trace-event'), resolve(root, '../shared/fixtures/tracy/chrome')];
  const chrome: ChromeFile[] = [];
  const seen = new Set<string>();
  for (const dir of chromeDirs) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (!entry.endsWith('.json') || seen.has(entry) || entry.endsWith('.result.json') || statSync(path).size > CHROME_MAX_BYTES) continue;
      seen.add(entry);
      chrome.push({ name: entry, bytes: new Uint8Array(readFileSync(path)) });
    }
  }
  return { recordings, chrome, recordingDir };
}

/** Offset of the first frame: status byte + welcome (+ on-demand payload when flagged). */
export function headLength(stream: Uint8Array): number {
  const flags = stream[1 + 64] ?? 0;
  return 1 + WELCOME_SIZE + ((flags & WelcomeFlag.OnDemand) !== 0 ? ON_DEMAND_PAYLOAD_SIZE : 0);
}

/**
 * Cuts a recording into head and frames and decompresses every frame once (in order: blocks
 * reach back into the 64 KiB of output before them).
 * @throws Error when the recording is not a whole, valid stream
 */
export function splitRecording(name: string, bytes: Uint8Array): Recording {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = headLength(bytes);
  const frames: Uint8Array[] = [];
  const items: Uint8Array[] = [];
  const window = new Uint8Array(LZ4_HISTORY_SIZE + 8 * TARGET_FRAME_SIZE);
  let pos = 0;
  let history = 0;
  let p = first;
  while (p + 4 <= bytes.length) {
    const size = view.getUint32(p, true);
    if (p + 4 + size > bytes.length) throw new Error(`fuzz: ${name}: frame at ${p} runs past the end`);
    if (pos + TARGET_FRAME_SIZE > window.length) {
      window.copyWithin(0, pos - history, pos);
      pos = history;
    }
    const end = decompressBlock(bytes, p + 4, size, window, pos, pos + TARGET_FRAME_SIZE, pos - history);
    if (end < 0) throw new Error(`fuzz: ${name}: frame at ${p} does not decompress (${end})`);
    frames.push(bytes.subarray(p, p + 4 + size));
    items.push(window.slice(pos, end));
    history = Math.min(LZ4_HISTORY_SIZE, history + end - pos);
    pos = end;
    p += 4 + size;
  }
  if (p !== bytes.length) throw new Error(`fuzz: ${name}: ${bytes.length - p} bytes after the last frame`);
  const head = bytes.slice(0, first);
  return { name, bytes, head, frames, items, captureHead: captureHeadOf(head) };
}

/**
 * The .zscap head the spool would write for a stream starting with `head` (status byte,
 * welcome, optional on-demand payload); the frames follow it unchanged.
 * @throws TypeError from encodeCaptureHead when the head's welcome flags and length disagree
 */
export function captureHeadOf(head: Uint8Array): Uint8Array {
  const welcome = head.slice(1, 1 + WELCOME_SIZE);
  const w = decodeWelcome(welcome);
  const onDemand = (w.flags & WelcomeFlag.OnDemand) !== 0 ? head.slice(1 + WELCOME_SIZE, 1 + WELCOME_SIZE + ON_DEMAND_PAYLOAD_SIZE) : null;
  return encodeCaptureHead({
    formatVersion: ZSCAP_VERSION,
    app: w.programName,
    pid: Number(w.pid),
    hostInfo: w.hostInfo,
    wallClockStartMs: 1_780_000_000_000,
    welcome,
    onDemand,
    source: 'fuzz',
  });
}
