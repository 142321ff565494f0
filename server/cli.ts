#!/usr/bin/env node
import { runInspect } from './inspect/inspect-command.js';
import { runServe } from './serve-command.js';

const USAGE = `zonescope — a Tracy-compatible telemetry server

Usage:
  zonescope serve [options]          start the server (zonescope serve --help)
  zonescope inspect FILE [--json | --csv zones|messages|plots]
                                     decode a recorded Tracy stream (*.client.bin) and summarise it
  zonescope --help                   this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'inspect':
      return runInspect(rest, process.stdout, process.stderr);
    case 'serve':
      return runServe(rest, process.stdout, process.stderr);
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
