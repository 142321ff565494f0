/**
 * A large app -> receiver stream made by our own encoder: the synthetic workload
 * (server/ingest/synthetic-workload.ts, shaped like the real stress recording) encoded into LZ4
 * frames, ending with Terminate, so a live session ends 'terminated' as soon as the last frame
 * is decoded.
 */
import { encodeClientStream, TracyStreamReader } from '../protocol/tracy/index.js';
import { syntheticWelcome, writeSyntheticWorkload, type WorkloadCounts } from '../server/ingest/synthetic-workload.js';

export interface SyntheticStream {
  name: string;
  stream: Uint8Array;
  /** Zones begun (every one ends). */
  zones: number;
  threads: number;
  frameMarks: number;
  plotPoints: number;
  /** Milliseconds of app time the stream covers. */
  appMs: number;
  generateMs: number;
}

/**
 * Builds the stream in memory: at least `targetZones` zones, in whole chunks of CHUNK_MS
 * milliseconds (so every thread has data up to the end; 10 M asked gives ~0.1% more), LZ4
 * frames of up to 256 KiB.
 */
export function makeSyntheticStream(targetZones: number, seed = 1): SyntheticStream {
  const t0 = performance.now();
  let counts: WorkloadCounts | null = null;
  const stream = encodeClientStream(syntheticWelcome(), (q) => (counts = writeSyntheticWorkload(q, targetZones, seed)));
  const c = counts!;
  return {
    name: `synthetic ${+(targetZones / 1e6).toFixed(2)} M zones (our encoder)`,
    stream,
    zones: c.zones,
    threads: c.threads,
    frameMarks: c.frameMarks,
    plotPoints: c.plotPoints,
    appMs: c.appMs,
    generateMs: performance.now() - t0,
  };
}

/**
 * Checks a finished decode of the synthetic stream: every zone seen, Terminate seen, and one
 * reply for every query (else a live session would wait for answers after Terminate).
 * @throws Error naming what does not match
 */
export function checkSyntheticDecode(s: SyntheticStream, reader: TracyStreamReader, zonesSeen: number): void {
  const d = reader.decoder;
  const problems: string[] = [];
  if (zonesSeen !== s.zones) problems.push(`${zonesSeen} zones decoded, ${s.zones} written`);
  if (!d.terminated) problems.push('no Terminate');
  if (d.queries.length !== d.repliesCounted) problems.push(`${d.queries.length} queries but ${d.repliesCounted} replies`);
  if (reader.truncation() !== null) problems.push(reader.truncation()!);
  if (problems.length > 0) throw new Error(`synthetic stream is wrong: ${problems.join('; ')}`);
}

let cached: SyntheticStream | null = null;

/** The 10 M-zone stream, made once per process and shared by every benchmark. */
export function syntheticStream(): SyntheticStream {
  if (cached === null) {
    const zones = Number(process.env.ZONESCOPE_BENCH_ZONES ?? 10_000_000);
    cached = makeSyntheticStream(zones);
    console.log(
      `(generated ${cached.name}: ${(cached.stream.length / 1e6).toFixed(1)} MB compressed, ` +
        `${cached.threads} threads, ${cached.appMs} ms of app time, in ${(cached.generateMs / 1000).toFixed(1)} s)`,
    );
  }
  return cached;
}
