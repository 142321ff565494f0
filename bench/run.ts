/**
 * `npm run bench`: every benchmark, printed as plain figures. Record them in
 * docs/PERFORMANCE.md with the machine line printed first.
 * Select with arguments, e.g. `npm run bench -- decode` or `npm run bench -- store lod`.
 *
 *   decode  the decoder alone on stress, medium x10 and the synthetic 10 M-zone stream
 *   store   decode + SessionStore in process: zones/s and bytes per stored zone
 *   ingest  end to end into `zonescope serve` in a child process (TCP ingest, --connect)
 *   lod     the viewport query on the 10 M-zone store at 2000 px
 *   sdk     the client SDK: ns per zoneBegin+zoneEnd pair beside clock reads and perf_hooks,
 *           and the sustained zones/s into `zonescope serve` in a child process
 *   captures  .zscap load/re-encode, Chrome JSON export/import: zones/s and bytes per zone
 *   viewer  the viewer in Chromium: first timeline and frame times panning/zooming a 10 M-zone
 *           session, live latency zone end -> drawn at ~1 M zones/s
 *   fleet-write  the stress stream through serve --clickhouse into a local clickhouse-server:
 *           zones/s written, intake with and without
 *   fleet-views  the stress session opened from ClickHouse and answered from SQL beside the
 *           ring store: viewport, details, statistics, flame graph, search, messages latency
 *   fleet   fleetZones/fleetApps latency over 100 M zones generated in a local clickhouse-server
 *           (ZONESCOPE_BENCH_FLEET_ZONES sets the count; skipped without clickhouse-server)
 *   queries GET /api/sessions latency and server RSS while heavy/hostile queries (search
 *           limit=1e9, zones nsPerPx=0, flame, stats...) run on the 6 M-zone stress session
 *
 * ZONESCOPE_FIXTURES overrides where the real recordings are read from;
 * ZONESCOPE_BENCH_ZONES the synthetic stream's size (default 10000000).
 */
import { machineLine, printTargetChecks, tracyFixturesDir } from './bench-util.js';
import { runCaptureBench } from './capture-bench.js';
import { runFleetBench } from './fleet-bench.js';
import { runFleetViewsBench } from './fleet-views-bench.js';
import { runFleetWriteBench } from './fleet-write-bench.js';
import { runDecodeBench } from './decoder-bench.js';
import { runIngestBench } from './ingest-bench.js';
import { runLodBench } from './lod-bench.js';
import { runQueryBench } from './query-bench.js';
import { runSdkBench } from './sdk-bench.js';
import { runStoreBench } from './store-bench.js';
import { runViewerBench } from './viewer-bench.js';

const BENCHES = ['decode', 'store', 'ingest', 'lod', 'sdk', 'captures', 'viewer', 'queries', 'fleet', 'fleet-write', 'fleet-views'] as const;

const only = new Set(process.argv.slice(2));
for (const name of only) {
  if (!(BENCHES as readonly string[]).includes(name)) {
    console.error(`unknown benchmark '${name}'; choose from: ${BENCHES.join(', ')}`);
    process.exit(2);
  }
}
const want = (name: string) => only.size === 0 || only.has(name);

console.log(`machine: ${machineLine()}`);
console.log(`command: npm run bench${only.size ? ' -- ' + [...only].join(' ') : ''}\n`);

const fixtures = tracyFixturesDir();
const started = performance.now();
const section = (name: string) => console.log(`\n== ${name} ==`);

if (want('decode')) {
  section('decode');
  runDecodeBench(fixtures);
}
if (want('store')) {
  section('store');
  runStoreBench(fixtures);
}
if (want('ingest')) {
  section('ingest');
  await runIngestBench(fixtures);
}
if (want('lod')) {
  section('lod');
  runLodBench();
}
if (want('sdk')) {
  section('sdk');
  await runSdkBench();
}
if (want('captures')) {
  section('captures');
  await runCaptureBench();
}
if (want('viewer')) {
  section('viewer');
  await runViewerBench();
}
if (want('queries')) {
  section('queries');
  await runQueryBench(fixtures);
}
if (want('fleet')) {
  section('fleet');
  await runFleetBench();
}
if (want('fleet-write')) {
  section('fleet-write');
  await runFleetWriteBench(fixtures);
}
if (want('fleet-views')) {
  section('fleet-views');
  await runFleetViewsBench(fixtures);
}
printTargetChecks();
console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
