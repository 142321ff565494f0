import { debuglog, format } from 'node:util';

const debug = debuglog('zonescope');
let sink: ((line: string) => void) | null = null;

/**
 * Server log: lines go to the sink set by the CLI (stderr), and always to
 * NODE_DEBUG=zonescope. Library use and tests stay quiet unless they ask.
 */
export function log(fmt: string, ...args: unknown[]): void {
  if (sink) sink(format(fmt, ...args));
  else debug(fmt, ...args);
}

export function setLogSink(fn: ((line: string) => void) | null): void {
  sink = fn;
}
