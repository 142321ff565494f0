/**
 * `npm run bench -- fleet-write`: the stress recording (6.01 M zones) through `serve --clickhouse`
 * into a real, local clickhouse-server (bench/clickhouse-process.ts), in process, three rounds:
 *
 * - intake: the server's connection to the session's end, with and without --clickhouse
 *   (interleaved), to show writing does not slow ingest;
 * - written: zones/s from the connection until every zone is in ClickHouse (fleet.flush()), and
 *   the rate after the intake (the catch-up);
 * - ClickHouse's CPU seconds for the round (from /proc), which bounds the rate on this machine.
 *   Each round writes a new database, dropped after it (no background merges left running).
 *
 * Target (issue 15): >= 2 M zones/s written, intake not slower than without --clickhouse.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../server/serve.js';
import { checkTarget } from './bench-util.js';
import { clickHouseSkipReason, startLocalClickHouse } from './clickhouse-process.js';
import { listenAsTracyClient } from './tracy-peer.js';

const ROUNDS = 3;

function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One stress stream into a fresh in-process server; with `clickhouse`, until every zone is written. */
async function round(stress: Uint8Array, clickhouse?: string): Promise<{ intakeMs: number; totalMs: number; zones: number; written: number }> {
  const peer = await listenAsTracyClient(stress, 1);
  const t0 = performance.now();
  const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, memoryBytes: 4 * 2 ** 30, connect: [{ host: '127.0.0.1', port: peer.port }], ...(clickhouse && { clickhouse }) });
  try {
    const endedAt = await new Promise<number>((resolve) => {
      const off = server.registry.subscribe((e) => {
        if (e.type === 'ended' && e.session.welcome) {
          off();
          resolve(performance.now());
        }
      });
    });
    const zones = server.registry.list()[0]?.store.zonesEnded ?? 0;
    if (!clickhouse) return { intakeMs: endedAt - t0, totalMs: endedAt - t0, zones, written: 0 };
    if (!(await server.fleet.flush(600_000))) throw new Error('not every zone was written within 10 min');
    const written = server.fleet.clickhouse!.sink.writers.zones.counters.writtenRows;
    return { intakeMs: endedAt - t0, totalMs: performance.now() - t0, zones, written };
  } finally {
    await server.close();
    await peer.close();
  }
}

export async function runFleetWriteBench(fixturesDir: string | null): Promise<void> {
  const skip = clickHouseSkipReason();
  if (fixturesDir === null) {
    console.log('fleet-write: skipped (no ../shared/fixtures/tracy: the stress recording)');
    return;
  }
  const path = join(fixturesDir, 'stress.client.bin');
  let stress: Uint8Array;
  try {
    stress = readFileSync(path);
  } catch {
    console.log(`fleet-write: skipped (no ${path})`);
    return;
  }
  if (skip) {
    console.log(`fleet-write: skipped (${skip})`);
    return;
  }
  const ch = await startLocalClickHouse();
  try {
    const without: number[] = [];
    const withCh: number[] = [];
    const rates: number[] = [];
    const catchUp: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      without.push((await round(stress)).intakeMs);
      const cpu0 = cpuSeconds(ch.pid);
      const r = await round(stress, ch.url(`zs_write_bench_${i}`));
      const cpu = cpuSeconds(ch.pid) - cpu0;
      // the next round must not share the machine with this one's background merges
      await fetch(`${ch.httpUrl}/`, { method: 'POST', body: `DROP DATABASE zs_write_bench_${i}` });
      if (r.written !== r.zones) throw new Error(`${r.written} zones written of ${r.zones}`);
      withCh.push(r.intakeMs);
      rates.push(r.zones / (r.totalMs / 1000));
      catchUp.push(r.zones / ((r.totalMs - r.intakeMs) / 1000));
      console.log(
        `round ${i + 1}: intake ${without[i]!.toFixed(0)} ms without, ${r.intakeMs.toFixed(0)} ms with --clickhouse; ` +
          `${r.written.toLocaleString('en')} zones written in ${(r.totalMs / 1000).toFixed(1)} s from the connection ` +
          `(${(rates[i]! / 1e3).toFixed(0)} k zones/s; ClickHouse ${cpu.toFixed(1)} CPU s, ${((cpu * 1e6) / r.zones).toFixed(2)} us a zone)`,
      );
    }
    const rate = median(rates);
    console.log(`median: intake ${median(without).toFixed(0)} ms without, ${median(withCh).toFixed(0)} ms with; written ${(rate / 1e3).toFixed(0)} k zones/s end to end, ${(median(catchUp) / 1e3).toFixed(0)} k zones/s after the intake`);
    checkTarget('fleet-write', 'zones/s written into ClickHouse from the stress stream (end to end)', `${(rate / 1e6).toFixed(2)} M`, '>= 2 M', rate >= 2e6);
    checkTarget('fleet-write', 'stress intake with --clickhouse vs without (median)', `${median(withCh).toFixed(0)} vs ${median(without).toFixed(0)} ms`, 'not slower (within 10 %)', median(withCh) <= median(without) * 1.1);
  } finally {
    await ch.stop();
  }
}
