/**
 * The demo workload: what a newcomer runs to watch the viewer come alive. It dials a running
 * Zonescope (`npm start` in another terminal) and streams, until Ctrl-C or --seconds:
 *
 *   thread "main loop"   nested zones (Main Zone > Sub main zone > Calculating Sin), zone text
 *                        and values, the plots "sin(x)" and "cache size" (bytes), continuous
 *                        frames ("Frame") and start/end frames ("sin(x)"), coloured messages
 *   "main async N"       concurrent async requests (zones across `await`, on async tracks)
 *   "sensor 1", ...      worker threads (they join the main thread's session): zones with
 *                        values, a plot each, messages, a named frame set each
 *   "GC" + plots         runtime metrics: memory plots, event-loop delay, GC pauses as zones
 *   --leak               the requests keep their response bodies (Buffers) forever: external
 *                        memory and rss climb while the JS heap stays flat, the Memory lane's
 *                        answer to "why does RSS grow while the heap is flat?" (up to LEAK_CAP_BYTES)
 *   --profile            V8's CPU and sampled-heap profilers streamed as callstacks (connect's
 *                        `profile: { cpu: true, heap: true }`): the viewer's Profile panel, pprof
 *
 * It mirrors GoTracy's sine example (grzesl/gotracy main.go: "Main Zone" > "Sub main zone",
 * `sin` plot, frame "sin(x)", an "otherThread" with a TEST zone and coloured messages).
 *
 *   npm run demo -- [--host 127.0.0.1] [--port 8087] [--seconds N] [--workers 2] [--app NAME] [--leak] [--profile]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { connect, type TracyClient } from '../client/node.js';
import { startRuntimeMetrics } from '../client/runtime-metrics.js';

export interface DemoOptions {
  host: string;
  port: number;
  /** Infinity: until Ctrl-C */
  seconds: number;
  workers: number;
  appName: string;
  /** the requests leak their response bodies (external memory) */
  leak: boolean;
  /** V8's CPU and heap samples streamed as callstacks */
  profile: boolean;
}

interface SensorData {
  zonescopeDemoSensor: number;
}

const USAGE = 'usage: node dist/examples/demo.js [--host 127.0.0.1] [--port 8087] [--seconds N] [--workers 2] [--app NAME] [--leak] [--profile]';
/** --leak: each request's response body, retained forever (Buffer.alloc: zero-filled, so resident). */
export const LEAK_BODY_BYTES = 64 * 1024;
/** --leak stops growing here (a demo that runs until Ctrl-C must not eat the machine): 512 MiB. */
export const LEAK_CAP_BYTES = 512 * 2 ** 20;
const RED = 0xff0f0f;
const GREEN = 0x20c020;
const BLUE = 0x3080ff;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Busy work for about `ms`: the zones need something to time. */
function work(ms: number): number {
  const until = performance.now() + ms;
  let acc = 0;
  for (let i = 0; performance.now() < until; i++) acc += Math.sin(i);
  return acc;
}

/**
 * Parses the command line.
 * @throws TypeError naming the bad flag
 */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const o: DemoOptions = { host: '127.0.0.1', port: 8087, seconds: Infinity, workers: 2, appName: 'zonescope-demo', leak: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n)) throw new TypeError(`${flag} needs a number\n${USAGE}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--host':
        if (value === undefined) throw new TypeError(`--host needs a value\n${USAGE}`);
        o.host = value;
        i++;
        break;
      case '--port':
        o.port = number();
        if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new TypeError(`--port must be 1..65535, not ${o.port}`);
        break;
      case '--seconds':
        o.seconds = number();
        if (!(o.seconds > 0)) throw new TypeError(`--seconds must be > 0, not ${o.seconds}`);
        break;
      case '--workers':
        o.workers = number();
        if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 16) throw new TypeError(`--workers must be 0..16, not ${o.workers}`);
        break;
      case '--leak':
        o.leak = true;
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--app':
        if (value === undefined) throw new TypeError(`--app needs a value\n${USAGE}`);
        o.appName = value;
        i++;
        break;
      default:
        throw new TypeError(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return o;
}

/**
 * Runs the demo until `o.seconds` pass or `signal` aborts (Ctrl-C).
 * @returns the main client's stats after close()
 * @throws ClientError when the server cannot be reached
 */
export async function runDemo(o: DemoOptions, signal: AbortSignal): Promise<TracyClient['stats']> {
  const tracy = await connect({ appName: o.appName, host: o.host, port: o.port, ...(o.profile && { profile: { cpu: true, heap: true } }) });
  tracy.setThreadName('main loop');
  tracy.appInfo(`Zonescope demo: a sine workload with ${o.workers} worker thread(s)${o.leak ? ', leaking external memory (--leak)' : ''}`);
  tracy.appInfo(`Node.js ${process.version}, pid ${process.pid}`);
  const stopMetrics = startRuntimeMetrics(tracy);
  tracy.plotConfig('sin(x)', { format: 'number', fill: false, color: BLUE });
  tracy.plotConfig('cache size', { format: 'memory', step: true });
  // --leak: the "request log" that never forgets (Buffers live outside the JS heap)
  const responseLog: Buffer[] = [];
  let leakedBytes = 0;
  if (o.leak) {
    tracy.plotConfig('leaked response bodies', { format: 'memory', step: true, fill: false });
    tracy.message(`--leak: every request keeps its ${LEAK_BODY_BYTES / 1024} KiB response body, up to ${LEAK_CAP_BYTES / 2 ** 20} MiB`, RED);
  }

  const workerUrl = new URL(import.meta.url);
  const workers = Array.from({ length: o.workers }, (_, k) => new Worker(workerUrl, { workerData: { zonescopeDemoSensor: k + 1 } satisfies SensorData }));
  const exited = workers.map((w) => new Promise<void>((r) => w.once('exit', () => r())));
  for (const w of workers) w.on('error', (err) => tracy.message(`worker failed: ${String(err)}`, RED));

  const endAt = performance.now() + o.seconds * 1000;
  const cache: Float64Array[] = [];
  let cacheBytes = 0;
  const requests = new Set<Promise<void>>();
  for (let i = 0; !signal.aborted && performance.now() < endAt; i++) {
    const main = tracy.zoneBegin('Main Zone', 0xff00ff);
    work(0.3);
    const sub = tracy.zoneBegin('Sub main zone', 0xff00ff);
    tracy.zoneValue(sub, 100);
    tracy.zoneText(sub, 'This is important message...');
    tracy.frameMarkStart('sin(x)');
    for (let k = 0; k < 3; k++) {
      const calc = tracy.zoneBegin('Calculating Sin', 0xf0f0f0);
      const x = (i * 3 + k) / 10;
      tracy.zoneValue(calc, i * 3 + k);
      tracy.zoneText(calc, `x = ${x.toFixed(1)}`);
      work(0.2);
      tracy.plot('sin(x)', Math.sin(x));
      tracy.zoneEnd(calc);
    }
    tracy.frameMarkEnd('sin(x)');
    tracy.zoneEnd(sub);

    // A cache that grows and is evicted: real allocations, so the GC thread has work to show.
    tracy.zone('Update cache', () => {
      const entry = new Float64Array(4096 + (i % 7) * 1024);
      cache.push(entry);
      cacheBytes += entry.byteLength;
      if (cacheBytes > 8 * 2 ** 20) {
        tracy.message(`cache evicted ${(cacheBytes / 2 ** 20).toFixed(1)} MiB`, RED);
        cache.length = 0;
        cacheBytes = 0;
      }
      tracy.plot('cache size', cacheBytes);
    });
    tracy.zoneEnd(main);

    if (i % 25 === 0) tracy.message(`Loop ${i}`);
    if (i % 10 === 0) {
      // Concurrent requests: each async zone gets a "main async N" track while it runs.
      for (let r = 0; r < 3; r++) {
        const p: Promise<void> = tracy.zone(
          'handle request',
          async (z: number) => {
            tracy.zoneText(z, `request ${i}.${r}`);
            await sleep(3 + r * 4);
            tracy.zone('db query', () => work(0.2), 0x40a040);
            await sleep(2);
            tracy.zone('render', () => work(0.1));
            if (o.leak && leakedBytes < LEAK_CAP_BYTES) {
              responseLog.push(Buffer.alloc(LEAK_BODY_BYTES, i & 0xff));
              leakedBytes += LEAK_BODY_BYTES;
              tracy.plot('leaked response bodies', leakedBytes);
              if (leakedBytes % (32 * 2 ** 20) === 0) tracy.message(`leak: ${leakedBytes / 2 ** 20} MiB of response bodies retained`, RED);
              if (leakedBytes >= LEAK_CAP_BYTES) tracy.message(`leak: stopped growing at ${LEAK_CAP_BYTES / 2 ** 20} MiB (LEAK_CAP_BYTES)`, RED);
            }
          },
          0x30c0c0,
        );
        requests.add(p);
        void p.then(() => {
          requests.delete(p);
          if (r === 2 && i % 50 === 0) tracy.message(`request ${i}.${r} done`, GREEN);
        });
      }
    }
    tracy.frameMark();
    await sleep(4);
  }

  await Promise.all(requests);
  for (const w of workers) w.postMessage('stop');
  // Each sensor ends its loop, closes its client (its last events join ours) and exits.
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(exited), new Promise<void>((r) => (giveUp = setTimeout(r, 3000)))]);
  clearTimeout(giveUp);
  for (const w of workers) await w.terminate();
  stopMetrics();
  await tracy.close();
  return tracy.stats;
}

/** A worker thread: a sensor polled in a loop (GoTracy's otherThread), until the main thread says stop. */
async function runSensor(n: number): Promise<void> {
  let stop = false;
  parentPort?.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  parentPort?.unref(); // the loop's timers keep this thread alive; once it ends, the thread exits
  const tracy = await connect();
  tracy.setThreadName(`sensor ${n}`);
  let reading = 50;
  for (let i = 0; !stop; i++) {
    const z = tracy.zoneBegin('Read sensor', 0xf0f0fa);
    work(0.5 + n * 0.2);
    reading += Math.sin(i / 7 + n) * 3 + (Math.random() - 0.5) * 2;
    tracy.zoneValue(z, Math.max(0, Math.round(reading * 10)));
    tracy.zone('Filter', () => work(0.2));
    tracy.zoneEnd(z);
    tracy.plot(`sensor ${n}`, reading);
    if (i % 20 === 0) tracy.message(`sensor ${n}: reading ${reading.toFixed(1)}`);
    if (i % 50 === 25) tracy.message(`MESSAGE FROM sensor ${n}`, RED);
    tracy.frameMark(`sensor ${n}`);
    await sleep(10 + n * 5);
  }
  await tracy.close();
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let o: DemoOptions;
  try {
    o = parseDemoArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130); // a second Ctrl-C: stop now
    console.log('\nstopping (Ctrl-C again to quit at once)...');
    abort.abort();
  });
  const how = Number.isFinite(o.seconds) ? `for ${o.seconds} s` : 'until Ctrl-C';
  console.log(`zonescope demo: streaming to ${o.host}:${o.port} as "${o.appName}" with ${o.workers} worker thread(s), ${how}${o.leak ? ', leaking external memory' : ''}`);
  console.log('open the viewer (`npm start` serves it at http://127.0.0.1:8088/)');
  try {
    const stats = await runDemo(o, abort.signal);
    console.log(`done: ${stats.frames} frames, ${(stats.sentBytes / 1024).toFixed(0)} KiB sent, ${stats.dropped} events dropped`);
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    console.error(`zonescope demo: ${(err as Error).message}`);
    if (code === 'ZS_CLIENT_CONNECT') console.error(`is Zonescope running? start it with \`npm start\` (it takes SDK apps on ${o.host}:${o.port})`);
    return 1;
  }
}

const data = workerData as Partial<SensorData> | null;
if (!isMainThread && typeof data?.zonescopeDemoSensor === 'number') {
  await runSensor(data.zonescopeDemoSensor);
} else if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
