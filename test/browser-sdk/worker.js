/**
 * The Web Worker of page.js: joins the page's session with the key the page sent (its own
 * thread, "physics worker"), and answers with what it measured. The page's close() collects its
 * last events.
 */
import { connect } from './zonescope-client.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function spin(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

self.onmessage = async (event) => {
  const { ingest, key, steps, sleepMs } = event.data;
  try {
    const tracy = await connect({ url: ingest, join: key, joinTimeoutMs: 10_000 });
    tracy.setThreadName('physics worker');
    for (let i = 0; i < steps; i++) {
      tracy.zone('physics step', () => spin(0.05));
      tracy.plot('worker step', i);
    }
    tracy.message('worker done', 0x00ff00);
    let awaitedMs = 0;
    await tracy.zone('worker async', async () => {
      const t0 = performance.now();
      await sleep(sleepMs);
      awaitedMs = performance.now() - t0;
    });
    self.postMessage({ awaitedMs, state: tracy.state, workers: tracy.stats.workers, dropped: tracy.stats.dropped });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
