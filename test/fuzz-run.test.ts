import { describe, expect, it } from 'vitest';
import { ProtocolError, ProtocolErrorCode } from '../protocol/tracy/index.js';
import { SessionRegistry } from '../server/session/session-registry.js';
import { runFuzz } from '../fuzz/fuzz.js';
import { endOf, IN_PROCESS_WEIGHTS } from '../fuzz/in-process.js';
import { loadInputs, recordingsPresent } from '../fuzz/inputs.js';
import { judgeSession, judgeThrown } from '../fuzz/judge.js';
import { mutateStream } from '../fuzz/mutate.js';
import { Prng, streamSeed } from '../fuzz/prng.js';

/*
 * `npm run fuzz` in small: the same entry with a few hundred streams, so the suite runs the
 * fuzzer's whole path (mutations, in-process sessions, the real server over TCP, WebSocket and
 * import, the control sessions) and keeps the result at 0 crashes and 0 hangs. The default run
 * (100,000 + 1,000 streams) is the command's; its figures are in docs/RELIABILITY.md.
 */

const PRESENT = recordingsPresent();
if (!PRESENT) console.warn('fuzz-run.test: skipping: small.client.bin not found in test/fixtures/tracy or ../shared/fixtures/tracy');

describe.skipIf(!PRESENT)('npm run fuzz, small', () => {
  it('decodes 300 mutated streams in process and 20 over sockets with no crash, no hang and intact control sessions', async () => {
    const report = await runFuzz({ seed: 7, count: 300, socketCount: 20, batch: 10, timeS: 120 });
    const failures = report.stats.failures.map((f) => `${f.what} in ${f.stream}`).join('\n');
    expect(failures).toBe('');
    expect(report.stats.crashes).toBe(0);
    expect(report.stats.hangs).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.stats.inProcess).toBe(300);
    expect(report.stats.socketStreams).toBe(20);
    expect(report.stats.stoppedBy).toBeNull();
    expect(report.stats.controlsRun).toBe(2);
    expect(report.stats.controlsPassed).toBe(2);
    // the mutations really damage the streams: several kinds of coded errors, and clean ends too
    const codes = [...report.stats.codes.keys()];
    expect(codes).toContain(ProtocolErrorCode.BadLz4Block);
    expect(codes.filter((c) => c.startsWith('ZS_')).length).toBeGreaterThanOrEqual(5);
    expect(codes).toContain('terminated');
    expect(report.memory.rssBytes).toBeGreaterThan(0);
    expect(report.summary).toMatch(/^fuzz: seed 7; 300 streams in-process, 20 over sockets .*0 crashes, 0 hangs; controls 2\/2 intact; evicted \d+ MB in process, \d+ MB in the server; codes: .*peak RSS \d+ MiB/);
  });

  it('makes the same streams from the same seed and stream index, and different ones from another seed', () => {
    const inputs = loadInputs();
    const make = (seed: number, i: number) => mutateStream(new Prng(streamSeed(seed, 0, i)), inputs, IN_PROCESS_WEIGHTS);
    for (let i = 0; i < 50; i++) {
      const a = make(3, i);
      const b = make(3, i);
      expect(b.mutations).toEqual(a.mutations);
      expect(Buffer.compare(b.bytes, a.bytes)).toBe(0);
    }
    const labels = (seed: number) => Array.from({ length: 50 }, (_, i) => make(seed, i).mutations.join('+')).join('\n');
    expect(labels(4)).not.toBe(labels(3));
  });
});

describe.skipIf(!PRESENT)('the fuzzer judges', () => {
  it('counts a coded ProtocolError as expected and an uncoded exception as a crash', () => {
    expect(judgeThrown(new ProtocolError(ProtocolErrorCode.BadFrameSize, 'frame size 0', 1171), 'push')).toEqual({ type: 'ok', key: 'ZS_PROTOCOL_BAD_FRAME_SIZE' });
    const crash = judgeThrown(new TypeError("Cannot read properties of undefined (reading 'x')"), 'push');
    expect(crash.type).toBe('crash');
    expect(crash.type === 'crash' && crash.what).toBe("push threw TypeError: Cannot read properties of undefined (reading 'x')");
  });

  it('counts a session that ended with ZS_SESSION_INTERNAL (an exception from its store) as a crash', async () => {
    const registry = new SessionRegistry();
    const session = registry.create({ write() {}, close() {}, pause() {}, resume() {} }, 'fuzz', 'test');
    // a fault put into the real store: what a bug in it would look like to the session
    session.store.zoneBegin = () => {
      throw new TypeError('store bug');
    };
    session.start();
    session.receive(loadInputs().recordings[0]!.bytes);
    session.connectionClosed();
    await endOf(registry, session);
    expect(session.endReason).toBe('store-error');
    const outcome = judgeSession(session);
    expect(outcome.type).toBe('crash');
    expect(outcome.type === 'crash' && outcome.what).toMatch(/^session ended store-error with uncoded error ZS_SESSION_INTERNAL: store bug/);
  });
});
