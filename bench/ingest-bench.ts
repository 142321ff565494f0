/**
 * `ingest`: end to end over loopback TCP into `zonescope serve` running in a child process.
 * - the synthetic 10 M-zone stream dialed into the TCP ingest port (as our SDK does);
 * - the real stress recording played by a fake Tracy client that the server dials (`--connect`).
 * Time runs from the first stream byte the client writes (right after the server's handshake)
 * to the session's endedAt as GET /api/sessions reports it: the server decoded and stored
 * everything, and the app's Terminate plus every query answer were seen. Beside it: the
 * in-process decoder alone (and decode + store, when `store` ran) on the same bytes.
 */
import { checkTarget, fmtMBs, fmtRate, median } from './bench-util.js';
import { benchDecodeStream, decodeFiguresByName, loadFixture, TRACY_CAPTURE, type DecodeFigures } from './decoder-bench.js';
import { fetchRetrying, startServerProcess, waitForEndedSession, type ServerProcess, type SessionSummary } from './server-process.js';
import { runStressIngestBench } from './ingest-stress-bench.js';
import { storeFiguresByName } from './store-bench.js';
import { syntheticStream } from './synthetic-stream.js';
import { dialIngest, listenAsTracyClient, type PeerResult } from './tracy-peer.js';

const WARMUP = 1;
const RUNS = 5;
const SESSION_TIMEOUT_MS = 180_000;

export interface IngestRun {
  session: SessionSummary;
  peer: PeerResult;
  /** first byte written -> session endedAt (server clock), ms */
  ms: number;
}

export interface IngestFigures {
  name: string;
  path: string;
  runs: IngestRun[];
  /** the first session of the fresh server process (cold JIT), not in the median */
  cold: IngestRun;
  medianMs: number;
}

function runOf(session: SessionSummary, peer: PeerResult, expectedZones: number): IngestRun {
  if (session.endReason !== 'terminated' || session.zones !== expectedZones) {
    throw new Error(
      `session ${session.id} ended '${session.endReason}' with ${session.zones} zones (expected 'terminated', ${expectedZones})` +
        (session.error ? `: ${session.error.code} ${session.error.message}` : ''),
    );
  }
  return { session, peer, ms: session.endedAt! - peer.firstByteAt };
}

/** Plays the stream into the TCP ingest port WARMUP + RUNS times, one session after the other. */
async function ingestOverTcp(name: string, stream: Uint8Array, zones: number): Promise<IngestFigures & { server: ServerProcess; lastId: string }> {
  const server = await startServerProcess([]);
  const seen = new Set<string>();
  const all: IngestRun[] = [];
  let lastId = '';
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const peer = dialIngest(server.ingestPort!, stream);
      const session = await waitForEndedSession(server, seen, SESSION_TIMEOUT_MS);
      seen.add(session.id);
      all.push(runOf(session, await peer, zones));
      lastId = session.id;
      // keep the last session for the REST query below; free the others
      if (i < WARMUP + RUNS - 1) await server.del(`/api/sessions/${session.id}`);
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  const runs = all.slice(WARMUP);
  return { name, path: 'TCP ingest', runs, cold: all[0]!, medianMs: median(runs.map((r) => r.ms)), server, lastId };
}

/** A fake Tracy client serves WARMUP + RUNS connections; the server dials it and re-dials after each session. */
async function ingestOverConnect(name: string, stream: Uint8Array, zones: number): Promise<IngestFigures> {
  const client = await listenAsTracyClient(stream, WARMUP + RUNS);
  const server = await startServerProcess(['--connect', `127.0.0.1:${client.port}`]);
  const seen = new Set<string>();
  const all: IngestRun[] = [];
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const session = await waitForEndedSession(server, seen, SESSION_TIMEOUT_MS);
      seen.add(session.id);
      all.push(runOf(session, await client.results[i]!, zones));
      await server.del(`/api/sessions/${session.id}`);
    }
  } finally {
    await server.stop();
    await client.close();
  }
  const runs = all.slice(WARMUP);
  return { name, path: '--connect (server dials a fake Tracy client)', runs, cold: all[0]!, medianMs: median(runs.map((r) => r.ms)) };
}

function decoderFigures(name: string, stream: Uint8Array): DecodeFigures {
  return decodeFiguresByName.get(name) ?? benchDecodeStream(name, stream, 3, 1, 1);
}

export function printIngestFigures(f: IngestFigures, decode: DecodeFigures): void {
  const s = f.runs[0]!.session;
  const line = (label: string, ms: number) =>
    `  ${label.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${fmtRate(s.zones, ms)} zones, ` +
    `${fmtMBs(s.decompressedBytes, ms)} decompressed, ${fmtMBs(s.bytes, ms)} on the wire`;
  console.log(
    `ingest ${f.name} via ${f.path}: ${(s.zones / 1e6).toFixed(2)} M zones, ${(s.bytes / 1e6).toFixed(1)} MB on the wire, ` +
      `${(s.decompressedBytes / 1e6).toFixed(1)} MB decompressed; ${f.runs.length} runs after ${WARMUP} warm-up session`,
  );
  console.log(line('end to end (median)', f.medianMs) + `  [runs: ${f.runs.map((r) => r.ms.toFixed(0)).join(', ')} ms]`);
  console.log(line('end to end, first session (cold)', f.cold.ms));
  const clientView = median(f.runs.map((r) => r.peer.terminateAt - r.peer.firstByteAt));
  console.log(line("client's view: first byte -> Terminate", clientView));
  console.log(
    `  ${'stream fully written by the client'.padEnd(40)} ${median(f.runs.map((r) => r.peer.lastByteAt - r.peer.firstByteAt)).toFixed(0).padStart(6)} ms after its first byte`,
  );
  console.log(line('decoder alone, in process', decode.fullMs));
  const stored = storeFiguresByName.get(f.name);
  if (stored) console.log(line('decode + store, in process', stored.ms));
}

function checkIngestTarget(f: IngestFigures): void {
  const s = f.runs[0]!.session;
  const zonesPerS = (s.zones / f.medianMs) * 1000;
  const mbs = (s.decompressedBytes / f.medianMs) * 1000 / 1e6;
  const what = `ingest ${f.name.split(' (')[0]} via ${f.path.split(' (')[0]}`;
  checkTarget(what, 'zones/s end to end', `${(zonesPerS / 1e6).toFixed(2)} M`, `>= ${(TRACY_CAPTURE.zonesPerS / 1e6).toFixed(2)} M (Tracy capture)`, zonesPerS >= TRACY_CAPTURE.zonesPerS);
  checkTarget(what, 'decompressed MB/s end to end', mbs.toFixed(1), `>= ${TRACY_CAPTURE.decompressedMBs.toFixed(1)}`, mbs >= TRACY_CAPTURE.decompressedMBs);
}

/** GET /zones?px=2000 over the whole synthetic session: the LOD query plus HTTP and encoding. */
async function restZones(server: ServerProcess, id: string): Promise<void> {
  for (const format of ['msgpack', 'json']) {
    const path = `/api/sessions/${id}/zones?px=2000${format === 'msgpack' ? '&format=msgpack' : ''}`;
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const res = await fetchRetrying(`http://127.0.0.1:${server.httpPort}${path}`);
      bytes = (await res.arrayBuffer()).byteLength;
      if (i >= 3) times.push(performance.now() - t0);
    }
    console.log(`  GET /zones?px=2000 full range (${format.padEnd(7)}): median ${median(times).toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
  }
}

/** `ingest`: the synthetic stream over TCP ingest, and stress over --connect (when present). */
export async function runIngestBench(fixtures: string | null): Promise<void> {
  const s = syntheticStream();
  const tcp = await ingestOverTcp(s.name, s.stream, s.zones);
  try {
    printIngestFigures(tcp, decoderFigures(s.name, s.stream));
    checkIngestTarget(tcp);
    await restZones(tcp.server, tcp.lastId);
  } finally {
    await tcp.server.stop();
  }
  if (!fixtures) {
    console.log('ingest: ../shared/fixtures/tracy is absent, stress over --connect is skipped');
    return;
  }
  const name = 'stress.client.bin (real Tracy client)';
  const stress = loadFixture(fixtures, 'stress.client.bin');
  const f = await ingestOverConnect(name, stress, 6_010_000);
  printIngestFigures(f, decoderFigures(name, stress));
  checkIngestTarget(f);
  await runStressIngestBench(stress);
}
