import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaptureError } from '../../protocol/capture/index.js';
import { formatBytes, formatCount, formatElapsed, ProgressLine, type ProgressStream } from '../progress-line.js';
import { CaptureExportError, exportCaptureFileToChrome, type CaptureExportProgress, type CaptureFileExportResult } from './capture-to-chrome.js';

export const EXPORT_USAGE = `Usage: zonescope export FILE --format chrome [-o OUT.json] [--gzip] [--quiet]

Writes a capture (FILE.zscap, or a recorded Tracy stream *.client.bin) as Chrome Trace Event
JSON, which Perfetto UI, chrome://tracing, speedscope and Tracy's import-chrome open. The file
is read twice (names first, then events) and written as it is read, so memory stays bounded
whatever the capture's size.

Options:
  --format chrome   the output format (the only one, and the default)
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
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--format' || arg.startsWith('--format=')) {
      const format = arg === '--format' ? args[++i] : arg.slice('--format='.length);
      if (format === undefined) return '--format needs a value (chrome)';
      if (format !== 'chrome') return `unknown format '${format}' (chrome is the only one)`;
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
  if (out === null) out = `${file.replace(/\.(zscap|bin|tracy)$/i, '').replace(/\.client$/i, '')}.json${gzip ? '.gz' : ''}`;
  if (out.endsWith('.gz')) gzip = true;
  return { file, out, gzip, quiet };
}
