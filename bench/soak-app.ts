/**
 * SDK apps for `npm run soak` mix c, run as a child process (dist/bench/soak-app.js) so their
 * work does not share the soak driver's event loop:
 *
 *   node dist/bench/soak-app.js PORT COUNT SECONDS PREFIX
 *
 * Connects COUNT clients (client/ SDK, TCP ingest on 127.0.0.1:PORT) named PREFIX-0.., and
 * for SECONDS each records, every 10 ms, a frame with 20 nested zones, a plot sample and
 * sometimes a message, then closes them all and exits. Prints one line: clients, zones sent.
 */
import { connect } from '../client/node.js';
import type { TracyClient } from '../client/types.js';

const [portText, countText, secondsText, prefix = 'soak'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const seconds = Number(secondsText);
if (!(port > 0) || !(count > 0) || !(seconds > 0)) {
  console.error('usage: soak-app PORT COUNT SECONDS [PREFIX]');
  process.exit(2);
}

const clients: TracyClient[] = [];
for (let i = 0; i < count; i++) {
  clients.push(await connect({ port, appName: `${prefix}-${i}`, exitHandlers: false }));
}

let zones = 0;
let tick = 0;
const timer = setInterval(() => {
  tick++;
  for (const c of clients) {
    const outer = c.zoneBegin('frame');
    for (let k = 0; k < 19; k++) {
      const id = c.zoneBegin(k % 2 ? 'update' : 'render');
      c.zoneEnd(id);
    }
    c.zoneEnd(outer);
    zones += 20;
    c.plot('load', (tick % 100) / 100);
    if (tick % 50 === 0) c.message(`tick ${tick}`);
    c.frameMark();
  }
}, 10);

await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
await Promise.all(clients.map((c) => c.close()));
console.log(`soak-app ${prefix}: ${count} clients, ${zones} zones`);
