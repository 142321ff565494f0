/**
 * Debian's `go tool pprof` (golang-go; .ci/run installs it) for the tests that read our pprof
 * files with Go's own tool: run with its caches in a temporary directory, and its -top table
 * parsed. GO_PRESENT is false (tests skip with a message) only where `go` is not installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

export const GO_PRESENT = (() => {
  const r = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
})();

const run = promisify(execFile);
export const goPprofDir = mkdtempSync(join(tmpdir(), 'zonescope-pprof-'));
process.on('exit', () => rmSync(goPprofDir, { recursive: true, force: true }));

/** go with its caches and pprof's files in the temporary directory, never in the user's home. */
export async function goPprof(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('go', ['tool', 'pprof', ...args], {
    cwd: goPprofDir,
    timeout: 60_000,
    maxBuffer: 16 << 20,
    env: {
      ...process.env,
      HOME: goPprofDir, GOCACHE: join(goPprofDir, 'gocache'), GOPATH: join(goPprofDir, 'gopath'), GOTOOLCHAIN: 'local',
      PPROF_TMPDIR: goPprofDir, PPROF_BINARY_PATH: goPprofDir,
    },
  });
}

export interface TopRow { flat: number; cum: number }

/** `-top` rows by function name (sampleIndex null: pprof's default); values in plain units (`-unit` picks ns or B, so no "kB" rounding). */
export async function top(file: string, sampleIndex: string | null, unit: string | null): Promise<{ rows: Map<string, TopRow>; header: string; stderr: string }> {
  const args = ['-top', '-nodecount=1000', '-nodefraction=0', '-edgefraction=0'];
  if (sampleIndex !== null) args.push(`-sample_index=${sampleIndex}`);
  if (unit !== null) args.push(`-unit=${unit}`);
  const { stdout, stderr } = await goPprof([...args, file]);
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(l));
  expect(at, `no -top table in:\n${stdout}`).toBeGreaterThan(0);
  const rows = new Map<string, TopRow>();
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') continue;
    const m = /^\s*(\S+)\s+[\d.]+%\s+[\d.]+%\s+(\S+)\s+[\d.]+%\s+(.+?)\s*$/.exec(line);
    if (m === null) throw new Error(`unexpected -top row ${JSON.stringify(line)}`);
    rows.set(m[3]!, { flat: plain(m[1]!), cum: plain(m[2]!) });
  }
  return { rows, header: lines.slice(0, at).join('\n'), stderr };
}

function plain(text: string): number {
  const m = /^(\d+)(ns|B)?$/.exec(text);
  if (m === null) throw new Error(`value ${JSON.stringify(text)} is not a plain integer`);
  return Number(m[1]);
}

