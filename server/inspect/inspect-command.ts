import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureError, CaptureErrorCode } from '../../protocol/capture/index.js';
import { TracyStreamReader } from '../../protocol/tracy/index.js';
import { fileKind } from '../capture/view-command.js';
import { importChromeTraceFile } from '../export/chrome-import.js';
import { formatBytes, formatCount, formatElapsed, ProgressLine, type ProgressStream } from '../progress-line.js';
import { BufferedOutput, type OutputStream } from './buffered-output.js';
import { type CsvWriter, MessageCsvWriter, PlotCsvWriter, ZoneCsvWriter } from './csv-writers.js';
import { type DecodeOutcome, decodeFile } from './decode-file.js';
import { buildReport } from './inspect-report.js';
import { NameLookup } from './name-lookup.js';
import { StreamSummary } from './stream-summary.js';
import { formatSummary } from './summary-text.js';

export type { OutputStream } from './buffered-output.js';

export const INSPECT_USAGE = `Usage: zonescope inspect FILE [--json | --csv zones|messages|plots] [--quiet]

Decodes a recorded Tracy stream (*.client.bin: the bytes an app sent to the profiler, from the
handshake status byte and the welcome message on), a capture (.zscap, recognised by its
magic) or a Chrome Trace Event JSON file (.json or gzip, imported as \`zonescope view\` and the
viewer's drop do, then decoded like a capture) and prints a readable summary: program, host, duration, threads, top source locations by
total time, frames, plots, messages, locks, errors.

Options:
  --json            print one JSON object: protocolVersion, program, pid, appInfo, threads,
                    zones (one entry per source location: name, file, line, count, open,
                    totalNs, minNs, maxNs), frames (default set = ""), plots, messages, memory,
                    locks, zoneExtras, items, bytes, errors
  --csv zones       one row per ended zone, like Tracy's csvexport -u:
                    name,src_file,src_line,ns_since_start,exec_time_ns,thread,value
                    (thread = the app's thread id, value = the zone's text and value)
  --csv messages    MessageName,total_ns (like csvexport -m)
  --csv plots       name,ns_since_start,value
  --quiet           no progress line (it is drawn on stderr after a second, on a terminal only)
  -h, --help        this text

For a .zscap, --json adds "capture": formatVersion, source, sessionId, remote, note,
wallClockStartMs, frames, and cutBytes (bytes after the last complete frame; 0 for a whole file).

CSV fields are quoted (RFC 4180) when they contain a comma, a quote or a line break.
With --csv, problems with the stream are written to stderr.

Exit status:
  0  the stream decoded cleanly
  1  the stream is truncated or broken (or has zone anomalies): everything decoded before the
     problem is still printed, and the problem (what, where) is listed under errors
  2  usage error, or FILE cannot be read (also a capture of a newer format version)
`;

type Mode = 'summary' | 'json' | 'zones' | 'messages' | 'plots';
const CSV_KINDS = ['zones', 'messages', 'plots'] as const;

interface ParsedArgs {
  file: string;
  mode: Mode;
  quiet: boolean;
}

/**
 * `zonescope inspect`: decodes FILE and writes the summary, JSON or CSV to `stdout`.
 * @returns the exit status (0 clean, 1 stream errors, 2 usage or file error); never throws for
 *   bad input
 */
export async function runInspect(args: string[], stdout: OutputStream, stderr: OutputStream): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    stdout.write(INSPECT_USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    stderr.write(`zonescope inspect: ${parsed}\n\n${INSPECT_USAGE}`);
    return 2;
  }
  const { file, mode, quiet } = parsed;
  try {
    const s = await stat(file);
    if (!s.isFile()) {
      stderr.write(`zonescope inspect: ${file} is not a file\n`);
      return 2;
    }
  } catch (err) {
    stderr.write(`zonescope inspect: cannot read ${file}: ${describeFsError(err)}\n`);
    return 2;
  }

  const summary = new StreamSummary();
  let writer: CsvWriter | null = null;
  const reader = new TracyStreamReader(summary, { onFrame: () => writer?.onFrame() });
  const names = new NameLookup(reader.decoder);
  const output = new BufferedOutput(stdout);
  if (mode === 'zones') {
    const w = new ZoneCsvWriter(output, names);
    summary.zoneSink = w;
    writer = w;
  } else if (mode === 'messages') {
    const w = new MessageCsvWriter(output, names);
    summary.messageSink = w;
    writer = w;
  } else if (mode === 'plots') {
    const w = new PlotCsvWriter(output, names);
    summary.plotSink = w;
    writer = w;
  }

  // Chrome JSON: imported into a capture first (in a temporary file), as view and the viewer do
  let source = file;
  let importDir: string | null = null;
  if ((await fileKind(file).catch(() => null)) === 'chrome') {
    try {
      const imported = await importChromeTraceFile(file);
      for (const w of imported.stats.warnings) stderr.write(`zonescope inspect: ${file}: ${w}\n`);
      importDir = await mkdtemp(join(tmpdir(), 'zonescope-inspect-'));
      source = join(importDir, 'import.zscap');
      await writeFile(source, imported.capture);
    } catch (err) {
      if (importDir !== null) await rm(importDir, { recursive: true, force: true });
      const code = (err as { code?: unknown }).code;
      stderr.write(`zonescope inspect: ${file}: ${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}\n`);
      return 1;
    }
  }

  let outcome: DecodeOutcome;
  let fileSize = 0;
  let readBytes = 0;
  try {
    fileSize = (await stat(source)).size;
  } catch {
    // reported by decodeFile below
  }
  const t0 = Date.now();
  // Only on a terminal: inspect's stderr carries the stream's problems for scripts (--csv).
  const progress = new ProgressLine(
    stderr as ProgressStream,
    () => `inspect: ${formatBytes(readBytes)} of ${formatBytes(fileSize)} (${fileSize > 0 ? Math.floor((readBytes / fileSize) * 100) : 100}%), ${formatCount(summary.zonesBegun)} zones, ${formatElapsed(Date.now() - t0)}`,
    { quiet: quiet || (stderr as ProgressStream).isTTY !== true },
  ).start();
  try {
    outcome = await decodeFile(source, reader, {
      onChunk: (n) => {
        readBytes = n;
      },
      afterChunk: async () => {
        await output.drained();
        if (output.failure !== null) throw output.failure;
      },
    });
  } catch (err) {
    if (output.failure !== null && err === output.failure) {
      // The reader of our output went away (`inspect ... | head`): stop quietly, like a pipe.
      return (err as NodeJS.ErrnoException).code === 'EPIPE' ? 0 : 1;
    }
    stderr.write(`zonescope inspect: cannot read ${file}: ${describeFsError(err)}\n`);
    return 2;
  } finally {
    progress.stop();
    if (importDir !== null) await rm(importDir, { recursive: true, force: true });
  }
  if (outcome.error instanceof CaptureError && outcome.error.code === CaptureErrorCode.NewerVersion) {
    stderr.write(`zonescope inspect: ${file}: ${outcome.error.message}\n`);
    return 2;
  }

  const { report, details } = buildReport(summary, reader, names, outcome);
  if (writer !== null) {
    writer.finish();
    for (const e of report.errors) stderr.write(`zonescope inspect: ${file}: ${e}\n`);
  } else if (mode === 'json') {
    output.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    output.write(formatSummary(file, report, details));
  }
  output.flush();
  await output.drained();
  return report.errors.length > 0 ? 1 : 0;
}

function parseArgs(args: string[]): ParsedArgs | string {
  let file: string | null = null;
  let mode: Mode = 'summary';
  let quiet = false;
  let modeFlag: string | null = null;
  const setMode = (next: Mode, flag: string): string | null => {
    if (modeFlag !== null) return `${modeFlag} and ${flag} cannot be combined`;
    mode = next;
    modeFlag = flag;
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let problem: string | null = null;
    if (arg === '--json') {
      problem = setMode('json', arg);
    } else if (arg === '--quiet') {
      quiet = true;
    } else if (arg === '--csv' || arg.startsWith('--csv=')) {
      const kind = arg === '--csv' ? args[++i] : arg.slice('--csv='.length);
      if (kind === undefined) return `--csv needs one of ${CSV_KINDS.join(', ')}`;
      if (!(CSV_KINDS as readonly string[]).includes(kind)) return `--csv ${kind}: expected one of ${CSV_KINDS.join(', ')}`;
      problem = setMode(kind as Mode, `--csv ${kind}`);
    } else if (arg.startsWith('-') && arg !== '-') {
      return `unknown option ${arg}`;
    } else if (file !== null) {
      return `one FILE expected, got ${file} and ${arg}`;
    } else {
      file = arg;
    }
    if (problem !== null) return problem;
  }
  if (file === null) return 'missing FILE';
  return { file, mode, quiet };
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'no such file';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(err);
}
