/**
 * `npm run fuzz`: mutated real Tracy streams (and .zscap captures and Chrome JSON made from or
 * beside them) through the server's decode path, in process and over sockets. Prints the seed
 * first, every crash and hang with the stream that caused it, and one summary line last; exits
 * 1 on any crash or hang, 2 on bad usage or missing recordings.
 *
 *   npm run fuzz -- [--seed N] [--count N] [--socket-count N] [--time S] [--hang-ms MS]
 *                   [--start I] [--socket-start I] [--concurrency N] [--quiet]
 *
 * Replay one stream: `npm run fuzz -- --seed S --start I --count 1 --socket-count 0` (in
 * process) or `--socket-start I --socket-count 1 --count 0` (over sockets).
 */
import { machineLine } from '../bench/bench-util.js';
import { runFuzz, type FuzzOptions } from './fuzz.js';

const USAGE = 'usage: npm run fuzz -- [--seed N] [--count N] [--socket-count N] [--time SECONDS] [--hang-ms MS] [--start I] [--socket-start I] [--concurrency N] [--quiet]';

const NUMERIC: Record<string, keyof FuzzOptions> = {
  '--seed': 'seed',
  '--count': 'count',
  '--socket-count': 'socketCount',
  '--time': 'timeS',
  '--hang-ms': 'hangMs',
  '--start': 'start',
  '--socket-start': 'socketStart',
  '--concurrency': 'concurrency',
};

function parse(argv: string[]): { options: FuzzOptions; quiet: boolean } {
  const options: Record<string, number> = {};
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quiet') {
      quiet = true;
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = NUMERIC[flag];
    if (key === undefined) throw new TypeError(`unknown option ${arg}`);
    const text = inline ?? argv[++i];
    const value = Number(text);
    if (text === undefined || text === '' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) throw new TypeError(`${flag} needs a non-negative integer, got ${text ?? 'nothing'}`);
    if ((key === 'hangMs' || key === 'timeS' || key === 'concurrency') && value === 0) throw new TypeError(`${flag} must be positive`);
    options[key] = value;
  }
  return { options: options as FuzzOptions, quiet };
}

let parsed: ReturnType<typeof parse>;
try {
  parsed = parse(process.argv.slice(2));
} catch (err) {
  console.error(`fuzz: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const seed = parsed.options.seed ?? 1;
console.log(`fuzz: seed ${seed} (replay with --seed ${seed}); machine: ${machineLine()}`);
try {
  const report = await runFuzz({ ...parsed.options, seed, ...(parsed.quiet ? {} : { progress: (line: string) => console.error(line) }) });
  console.log(`inputs: ${report.inputs}; control: ${report.controlZones} zones`);
  for (const f of report.stats.failures) {
    console.log(`\n${f.what}\n  stream: ${f.stream}${f.stack ? `\n  ${f.stack.split('\n').join('\n  ')}` : ''}`);
  }
  const shown = report.stats.failures.length;
  const total = report.stats.crashes + report.stats.hangs;
  if (total > shown) console.log(`\n(${total - shown} more failures not shown)`);
  console.log(report.summary);
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  console.error(`fuzz: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 2;
}
