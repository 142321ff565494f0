/**
 * The page of test/sdk-browser.test.ts, as a user writes it: a module script importing the
 * bundled browser entry. What it emits is set by the query string (one source of truth: the
 * test), and it reports what it measured in window.__result.
 *
 *   ?ingest=ws://127.0.0.1:PORT/ingest&scenario=full&frames=N&requests=N&sleepMs=N&workerSteps=N
 *   ?ingest=...&scenario=pagehide&zones=N&exitHandlers=1|0&next=URL
 *   ?ingest=...&scenario=hidden&zones=N
 *   ?ingest=...&scenario=refused
 *   ?ingest=...&scenario=host&zones=N&exitHandlers=1|0   (the page of scenario "frame" in an iframe)
 */
import { connect, joinKey } from './zonescope-client.js';

const params = new URLSearchParams(location.search);
const ingest = params.get('ingest');
const num = (name) => Number(params.get(name));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
function spin(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Frames, plots, messages, async zones across await, a real fetch and a Web Worker thread. */
async function full() {
  const frames = num('frames');
  const requests = num('requests');
  const sleepMs = num('sleepMs');
  const tracy = await connect({ url: ingest, appName: 'browser-sdk-page' });
  tracy.setThreadName('page main');
  tracy.appInfo('browser-sdk test page');
  tracy.plotConfig('items', { format: 'number', step: true });

  for (let i = 0; i < frames; i++) {
    const z = tracy.zoneBegin('render', 0x3366ff);
    tracy.zoneValue(z, i);
    tracy.zone('layout', () => spin(0.2));
    tracy.zoneEnd(z);
    tracy.plot('frame index', i);
    tracy.plotInt('items', 3 * i);
    if (i % 5 === 0) tracy.message(`frame ${i}`, i % 10 === 0 ? 0xff0000 : undefined);
    tracy.frameMark();
    await nextFrame();
  }

  // Concurrent async zones: each gets an async track; 'prepare' (before the await) nests under
  // it, 'parse' (after it) lands on the page's own track: browsers have no AsyncLocalStorage.
  const awaitedMs = await Promise.all(
    Array.from({ length: requests }, (_, k) =>
      tracy.zone('fetch data', async (z) => {
        tracy.zoneText(z, `request ${k}`);
        tracy.zone('prepare', () => spin(0.1));
        const t0 = performance.now();
        await sleep(sleepMs + k);
        const t1 = performance.now();
        tracy.zone('parse', () => spin(0.1));
        return t1 - t0;
      }),
    ),
  );
  const config = await tracy.zone('load config', async () => (await fetch('./config.json')).json());

  // A Web Worker joins this session as a thread of its own.
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const workerDone = new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
  });
  const wait = tracy.zoneBegin('wait for worker');
  worker.postMessage({ ingest, key: joinKey(tracy), steps: num('workerSteps'), sleepMs });
  const fromWorker = await workerDone;
  tracy.zoneEnd(wait);
  await tracy.close();
  window.__result = { awaitedMs, config, worker: fromWorker, stats: tracy.stats };
}

/**
 * A final batch emitted synchronously, then the page navigates away at once: only the
 * 'pagehide' flush can send it (the flush timer is a minute away, and the batch is far below
 * the size that schedules a flush).
 */
async function pagehide() {
  const tracy = await connect({ url: ingest, appName: 'browser-sdk-pagehide', flushIntervalMs: 60_000, exitHandlers: params.get('exitHandlers') === '1' });
  finalBatch(tracy);
  window.__result = { stats: tracy.stats };
  location.href = params.get('next');
}

function finalBatch(tracy) {
  for (let i = 0; i < num('zones'); i++) {
    const z = tracy.zoneBegin('final batch');
    tracy.zoneValue(z, i);
    tracy.zoneEnd(z);
  }
  tracy.zoneBegin('left open');
  tracy.message('leaving');
}

/** connect() to a server that does not allow this page's origin: reports how it failed. */
async function refused() {
  try {
    await connect({ url: ingest, appName: 'browser-sdk-refused', connectTimeoutMs: 10_000 });
    window.__result = { connected: true };
  } catch (err) {
    window.__result = { name: err.name, code: err.code, message: err.message };
  }
}

/**
 * The page turns hidden (a headless page cannot be hidden for real: the test overrides
 * document.visibilityState and fires the event the browser would): what is held is sent now,
 * and the session goes on.
 */
async function hidden() {
  const tracy = await connect({ url: ingest, appName: 'browser-sdk-hidden', flushIntervalMs: 60_000 });
  for (let i = 0; i < num('zones'); i++) tracy.zoneEnd(tracy.zoneBegin('before hiding'));
  Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
  window.__result = { state: tracy.state, stats: tracy.stats };
}

/**
 * In an iframe of scenario "host": names the thread and uses every source location once (the
 * server asks for their names while the page lives), then waits for window.finalBatch(), which
 * the host calls right before it removes the frame, in the same task: the frame's 'pagehide'
 * runs inside remove(), so no timer of the SDK can send the batch first.
 */
async function frame() {
  const tracy = await connect({ url: ingest, appName: 'browser-sdk-frame', exitHandlers: params.get('exitHandlers') === '1' });
  tracy.setThreadName('frame main');
  tracy.zoneEnd(tracy.zoneBegin('final batch'));
  tracy.zoneEnd(tracy.zoneBegin('left open'));
  window.finalBatch = () => finalBatch(tracy);
  window.__result = { ready: true };
}

/** Hosts scenario "frame" in an iframe (same query otherwise). */
async function host() {
  const q = new URLSearchParams(location.search);
  q.set('scenario', 'frame');
  const f = document.createElement('iframe');
  f.src = `./index.html?${q}`;
  document.body.append(f);
  window.__result = { hosting: true };
}

const scenarios = { full, pagehide, hidden, frame, host, refused };
scenarios[params.get('scenario')]().catch((err) => {
  window.__result = { error: String(err?.stack ?? err) };
});
