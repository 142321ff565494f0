#!/usr/bin/env node
import { runCapture } from './capture/capture-command.js';
import { runCompare } from './capture/compare-command.js';
import { runReplay } from './capture/replay-command.js';
import { runView } from './capture/view-command.js';
import { runExport } from './export/export-command.js';
import { runInspect } from './inspect/inspect-command.js';
import { runServe } from './serve-command.js';

const USAGE = `zonescope — a Tracy-compatible telemetry server

Usage:
  zonescope serve [options]          start the server (zonescope serve --help)
  zonescope inspect FILE [--json | --csv zones|messages|plots]
                                     decode a recorded Tracy stream (*.client.bin) or a capture
                                     (.zscap) and summarise it
  zonescope capture --connect HOST[:PORT] -o FILE.zscap [--seconds N]
                                     headless capture of a Tracy app (zonescope capture --help)
  zonescope view FILE                open a capture in the viewer (zonescope view --help)
  zonescope export FILE.zscap --format chrome -o OUT.json [--gzip]
  zonescope export FILE.zscap --format pprof [--kind cpu|inuse|alloc] [--pool NAME] -o OUT.pb.gz
                                     a capture as Chrome Trace Event JSON, or its callstacks
                                     as a pprof profile (zonescope export --help)
  zonescope replay FILE.zscap [--listen [HOST:]PORT] [--broadcast] [--once]
                                     wait like a Tracy client and play the capture to the
                                     receiver that connects (zonescope replay --help)
  zonescope compare A B [--json] [--fail-above PERCENT] [--zones NAME,...]
                                     compare two captures per zone name (p50/p99 change);
                                     exit status 1 past --fail-above (zonescope compare --help)
  zonescope --help                   this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'inspect':
      return runInspect(rest, process.stdout, process.stderr);
    case 'serve':
      return runServe(rest, process.stdout, process.stderr);
    case 'replay':
      return runReplay(rest, process.stdout, process.stderr);
    case 'capture':
      return runCapture(rest, process.stdout, process.stderr);
    case 'view':
      return runView(rest, process.stdout, process.stderr);
    case 'export':
      return runExport(rest, process.stdout, process.stderr);
    case 'compare':
      return runCompare(rest, process.stdout, process.stderr);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`zonescope: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`zonescope: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
