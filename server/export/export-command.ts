import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaptureError } from '../../protocol/capture/index.js';
import { formatBytes, formatCount, formatElapsed, ProgressLine, type ProgressStream } from '../progress-line.js';
import { CaptureExportError, exportCaptureFileToChrome, type CaptureExportProgress, type CaptureFileExportResult } from './capture-to-chrome.js';
import { writeFile } from 'node:fs/promises';
import type { StackFlameKind } from '../../protocol/view/types.js';
import { loadFileSession } from '../capture/load-file.js';
import { findPool } from '../query/pools.js';
import type { StackTotalsOptions } from '../query/stack-query.js';
import { SessionRegistry } from '../session/session-registry.js';
import { sessionPprof } from './session-pprof.js';

export const EXPORT_USAGE = `Usage: zonescope export FILE --format chrome [-o OUT.json] [--gzip] [--quiet]
       zonescope export FILE --format pprof [--kind cpu|inuse|alloc] [--pool NAME] [-o OUT.pb.gz]

Writes a capture (FILE.zscap, or a recorded Tracy stream *.client.bin) as Chrome Trace Event
JSON, which Perfetto UI, chrome://tracing, speedscope and Tracy's import-chrome open. The file
is read twice (names first, then events) and written as it is read, so memory stays bounded
whatever the capture's size.

With --format pprof it writes the capture's callstacks as a gzipped pprof profile.proto, which
go tool pprof, Pyroscope, Grafana and speedscope open: the CPU samples (--kind cpu, the
default), the allocations still alive at the end (inuse) or every allocation (alloc) of one
memory pool. The capture is loaded into memory for this (at most 1 GiB of store).

Options:
  --format FORMAT   chrome (the default) or pprof
  --kind KIND       pprof only: cpu, inuse or alloc (default cpu)
  --pool NAME       pprof inuse/alloc only: the memory pool ('default' for the unnamed one;
                    default: the unnamed pool, or the only one)
  -o, --output OUT  the output file (default: FILE with .json instead of its extension);
                    "-" writes to stdout
  --gzip            gzip the output (implied by an OUT ending in .gz)
  --quiet           no progress lines and no summary; problems are still reported
  -h, --help        this text

Progress goes to stderr about once a second after the first second: bytes read, zones, rate.

Exit status:
  0  exported
  1  the capture is truncated or broken: everything before the problem was exported, and the
     problem is printed (and kept in the output's otherData)
  2  usage error, FILE cannot be read or is not a capture, or OUT cannot be written
`;

interface ExportArgs {
  file: string;
  out: string;
  gzip: boolean;
  quiet: boolean;
  format: 'chrome' | 'pprof';
  kind: StackFlameKind;
  pool: string | undefined;
}

/** The part of a Writable the command writes to (stdout, stderr or a test's collector). */
export interface CommandStream extends ProgressStream {
  write(text: string | Uint8Array): unknown;
}

/**
 * `zonescope export`: FILE -> Chrome Trace Event JSON.
 * @returns the exit status (0 done, 1 capture truncated/broken, 2 usage or I/O problem); never throws
 */
export async function runExport(args: string[], stdout: NodeJS.WritableStream, stderr: CommandStream): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    stdout.write(EXPORT_USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    stderr.write(`zonescope export: ${parsed}\n\n${EXPORT_USAGE}`);
    return 2;
  }
  const { file, out, gzip, quiet } = parsed;
  if (parsed.format === 'pprof') return exportPprof(parsed, stdout, stderr);
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw Object.assign(new Error('is not a file'), { code: 'EISDIR' });
    size = s.size;
  } catch (err) {
    stderr.write(`zonescope export: cannot read ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  if (out !== '-' && resolve(out) === resolve(file)) {
    stderr.write(`zonescope export: the output ${out} is the input file\n`);
    return 2;
  }

  const t0 = performance.now();
  let last: CaptureExportProgress | null = null;
  const progress = new ProgressLine(stderr, () => progressText(last, size, performance.now() - t0), { quiet }).start();
  let result: CaptureFileExportResult;
  try {
    result = await exportCaptureFileToChrome(file, out === '-' ? stdout : out, {
      gzip,
      progressMs: 250,
      onProgress: (p) => {
        last = p;
      },
    });
  } catch (err) {
    progress.stop();
    const e = err as NodeJS.ErrnoException;
    if (err instanceof CaptureError || err instanceof CaptureExportError) stderr.write(`zonescope export: ${file}: ${e.message}\n`);
    else if (e.code === 'EPIPE') return 0; // the reader of stdout went away (`... -o - | head`)
    else stderr.write(`zonescope export: ${e.path === undefined ? '' : `${e.path}: `}${e.message}\n`);
    return 2;
  }
  progress.stop();
  const elapsedMs = performance.now() - t0;
  const problems: string[] = [];
  if (result.error !== null) problems.push(`the capture is broken at offset ${result.error.offset} (${result.error.code}: ${result.error.message}); exported what came before`);
  if (result.truncation !== null) problems.push(`${result.truncation}; exported what came before`);
  for (const p of problems) stderr.write(`zonescope export: ${file}: ${p}\n`);
  if (!quiet) {
    const notes: string[] = [];
    if (result.openZones > 0) notes.push(`${formatCount(result.openZones)} zones never ended (left out)`);
    if (result.orphanZones > 0) notes.push(`${formatCount(result.orphanZones)} zones inside them left out`);
    const where = out === '-' ? 'stdout' : out;
    stderr.write(
      `zonescope export: wrote ${where}: ${formatCount(result.events)} events (${formatCount(result.zones)} zones, ${formatCount(result.frames)} frames, ` +
        `${formatCount(result.plotSamples)} plot samples, ${formatCount(result.messages)} messages), ${formatBytes(result.bytesWritten)}${gzip ? ' gzip' : ''} ` +
        `in ${(elapsedMs / 1000).toFixed(1)} s, peak RSS ${formatBytes(process.resourceUsage().maxRSS * 1024)}${notes.length > 0 ? `; ${notes.join(', ')}` : ''}\n`,
    );
  }
  return problems.length > 0 ? 1 : 0;
}

function progressText(p: CaptureExportProgress | null, size: number, elapsedMs: number): string {
  if (p === null) return `export: starting, ${formatElapsed(elapsedMs)}`;
  const pct = size > 0 ? Math.floor((p.bytesRead / size) * 100) : 100;
  const what = p.pass === 1 ? 'names' : 'events';
  const rate = p.pass === 2 && elapsedMs > 0 ? `, ${formatCount((p.zones / elapsedMs) * 1000)} zones/s` : '';
  return `export: pass ${p.pass}/2 (${what}) ${formatBytes(p.bytesRead)} of ${formatBytes(size)} (${pct}%), ${formatCount(p.zones)} zones${rate}, ${formatElapsed(elapsedMs)}`;
}

function parseArgs(args: string[]): ExportArgs | string {
  let file: string | null = null;
  let out: string | null = null;
  let gzip = false;
  let quiet = false;
  let format: 'chrome' | 'pprof' = 'chrome';
  let kind: StackFlameKind | null = null;
  let pool: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--format' || arg.startsWith('--format=')) {
      const f = arg === '--format' ? args[++i] : arg.slice('--format='.length);
      if (f === undefined) return '--format needs a value (chrome or pprof)';
      if (f !== 'chrome' && f !== 'pprof') return `unknown format '${f}' (chrome or pprof)`;
      format = f;
    } else if (arg === '--kind' || arg.startsWith('--kind=')) {
      const k = arg === '--kind' ? args[++i] : arg.slice('--kind='.length);
      if (k !== 'cpu' && k !== 'inuse' && k !== 'alloc') return `--kind ${k ?? ''}: cpu, inuse or alloc`;
      kind = k;
    } else if (arg === '--pool' || arg.startsWith('--pool=')) {
      pool = arg === '--pool' ? args[++i] : arg.slice('--pool='.length);
      if (pool === undefined) return '--pool needs a name';
    } else if (arg === '-o' || arg === '--output') {
      const v = args[++i];
      if (v === undefined) return `${arg} needs a file name`;
      out = v;
    } else if (arg.startsWith('--output=')) {
      out = arg.slice('--output='.length);
    } else if (arg === '--gzip') {
      gzip = true;
    } else if (arg === '--quiet' || arg === '-q') {
      quiet = true;
    } else if (arg.startsWith('-') && arg !== '-') {
      return `unknown option ${arg}`;
    } else if (file !== null) {
      return `one FILE expected, got ${file} and ${arg}`;
    } else {
      file = arg;
    }
  }
  if (file === null) return 'missing FILE';
  if (format === 'chrome' && (kind !== null || pool !== undefined)) return '--kind and --pool go with --format pprof';
  if (kind === 'cpu' && pool !== undefined) return '--pool goes with --kind inuse or alloc';
  const base = file.replace(/\.(zscap|bin|tracy|json|gz)$/i, '').replace(/\.client$/i, '');
  if (out === null) out = format === 'pprof' ? `${base}.${kind ?? 'cpu'}.pb.gz` : `${base}.json${gzip ? '.gz' : ''}`;
  if (out.endsWith('.gz')) gzip = true;
  return { file, out, gzip, quiet, format, kind: kind ?? 'cpu', pool };
}

/** `export --format pprof`: the capture loaded into a store, its stack totals as profile.proto. */
async function exportPprof(o: ExportArgs, stdout: NodeJS.WritableStream, stderr: CommandStream): Promise<number> {
  const registry = new SessionRegistry({ memoryBytes: 2 ** 30 });
  const warn = (line: string) => stderr.write(`zonescope export: ${line}\n`);
  try {
    const s = await loadFileSession(registry, o.file, warn, 'exporting');
    if (typeof s === 'string') return (warn(s), 2);
    const options: StackTotalsOptions = { kind: o.kind, t0: 0, t1: s.store.lastNs };
    if (o.kind !== 'cpu') {
      const pool = findPool(s.store, o.pool);
      if (typeof pool === 'string') return (warn(`${o.file}: ${pool}`), 2);
      options.pool = pool;
    }
    const profile = await sessionPprof(s, options);
    if (o.out === '-') stdout.write(profile.bytes);
    else await writeFile(o.out, profile.bytes);
    if (!o.quiet) {
      const what = o.kind === 'cpu' ? `${formatCount(profile.count)} samples` : `${formatCount(profile.count)} allocations, ${formatBytes(profile.value)}`;
      const without = profile.withoutStack.count > 0 ? `; ${formatCount(profile.withoutStack.count)} without a callstack left out` : '';
      stderr.write(`zonescope export: wrote ${o.out === '-' ? 'stdout' : o.out}: pprof ${o.kind}, ${formatCount(profile.stacks)} stacks, ${what}${without}\n`);
      if (profile.stacks === 0) stderr.write(`zonescope export: ${o.file} has no ${o.kind === 'cpu' ? 'CPU samples' : 'allocations'} with callstacks: the profile is empty\n`);
    }
    return 0;
  } catch (err) {
    warn(`${(err as Error).message}`);
    return 2;
  } finally {
    registry.stopAll();
  }
}
