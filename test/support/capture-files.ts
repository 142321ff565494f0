/**
 * Test support for .zscap files: building a capture straight from a recorded client stream
 * (what the spool would write for it), the frame boundaries of a recording, spawning the built
 * CLI and waiting for its output.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeCaptureHead, ZSCAP_VERSION, type CaptureHeader } from '../../protocol/capture/index.js';
import { decodeWelcome, ON_DEMAND_PAYLOAD_SIZE, WELCOME_SIZE, WelcomeFlag } from '../../protocol/tracy/index.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = resolve(ROOT, 'dist/server/cli.js');

/** Length of a client stream's head: status byte, welcome, on-demand payload if flagged. */
export function clientHeadLength(bin: Uint8Array): number {
  return 1 + WELCOME_SIZE + (bin[1 + 64]! & WelcomeFlag.OnDemand ? ON_DEMAND_PAYLOAD_SIZE : 0);
}

/** Stream offsets where each complete frame of a recording ends. */
export function frameEnds(bin: Uint8Array): number[] {
  const ends: number[] = [];
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let p = clientHeadLength(bin);
  while (p + 4 <= bin.length) {
    const next = p + 4 + view.getUint32(p, true);
    if (next > bin.length) break;
    ends.push(next);
    p = next;
  }
  return ends;
}

/** The .zscap of a recorded client stream: head, then the recording's bytes after its head. */
export function captureFromRecording(bin: Uint8Array, extra: Partial<CaptureHeader> = {}): { file: Uint8Array; headLength: number } {
  const headLen = clientHeadLength(bin);
  const welcome = bin.slice(1, 1 + WELCOME_SIZE);
  const w = decodeWelcome(welcome);
  const head = encodeCaptureHead({
    formatVersion: ZSCAP_VERSION,
    app: w.programName,
    pid: Number(w.pid),
    hostInfo: w.hostInfo,
    wallClockStartMs: Number(w.epoch) * 1000,
    welcome,
    onDemand: headLen > 1 + WELCOME_SIZE ? bin.slice(1 + WELCOME_SIZE, headLen) : null,
    source: 'tcp',
    ...extra,
  });
  const file = new Uint8Array(head.length + bin.length - headLen);
  file.set(head, 0);
  file.set(bin.subarray(headLen), head.length);
  return { file, headLength: head.length };
}

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node dist/server/cli.js ARGS` (in `env`, default this process's), collecting its output. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until stdout matches `re`; fails with everything printed so far if the process exits first. */
export async function waitOutput(s: Spawned, re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(s.stdout());
    if (m) return m;
    if (s.child.exitCode !== null || Date.now() > until) {
      throw new Error(`no ${re} in the output (exit code ${s.child.exitCode}):\n--- stdout\n${s.stdout()}\n--- stderr\n${s.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ (tsc -p tsconfig.build.json) unless it is newer than every source file of
 * protocol/ and server/: `npm ci` builds it, and serve-command.test.ts builds it too; building
 * only when stale keeps two test files from writing dist/ at the same time.
 */
export async function ensureBuilt(): Promise<void> {
  const built = existsSync(CLI) ? statSync(CLI).mtimeMs : 0;
  const captureBuilt = existsSync(resolve(ROOT, 'dist/server/capture/capture-command.js'));
  if (captureBuilt && built >= Math.max(newestMtime(resolve(ROOT, 'server')), newestMtime(resolve(ROOT, 'protocol')))) return;
  await promisify(execFile)(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT }).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`the build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? e.message}`);
  });
}
