/**
 * The SDK's raw byte stream, as a receiver sees it on a real TCP connection: decoded with
 * protocol/tracy's TracyStreamReader, every item checked: the exact item types, every time
 * inside the window of the call that made it (so the T deltas, the compact forms and the
 * absolute times are right), the string transfers and the answer to every query.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowNs } from '../client/clock.js';
import { connect } from '../client/node.js';
import { QueueType as Q, QUEUE_TYPE_NAMES, ServerQuery, TracyStreamReader } from '../protocol/tracy/index.js';
import { FakeReceiver, SdkTrace } from './support/sdk-receiver.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let ingest: Server;
let port = 0;
const receivers: FakeReceiver[] = [];
const ended: Promise<void>[] = [];

beforeAll(async () => {
  ingest = createServer((socket) => {
    const receiver = new FakeReceiver((b) => socket.write(b), () => socket.end());
    receivers.push(receiver);
    ended.push(new Promise((r) => socket.on('close', () => r())));
    socket.on('data', (chunk) => receiver.receive(chunk));
    socket.on('error', () => {});
    receiver.start();
  });
  await new Promise<void>((r) => ingest.listen(0, '127.0.0.1', r));
  port = (ingest.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => ingest.close(() => r())));

/** [before, after] nowNs() around each call, per kind, in call order. */
type Windows = Record<string, [number, number][]>;

function timed(windows: Windows, kind: string, fn: () => void): void {
  const a = nowNs();
  fn();
  (windows[kind] ??= []).push([a, nowNs()]);
}

describe('the raw stream', () => {
  it('decodes item by item into exactly what was recorded, at the right times, and answers every query', async () => {
    const tracy = await connect({ appName: 'raw', port, exitHandlers: false });
    const receiver = receivers.at(-1)!;
    const w: Windows = {};
    for (let i = 0; i < 30; i++) {
      let z = 0;
      timed(w, 'begin', () => (z = tracy.zoneBegin(`zone ${i % 3}`)));
      tracy.zoneText(z, `text ${i}`);
      tracy.zoneValue(z, i);
      timed(w, 'plot', () => tracy.plot('p', i / 2));
      timed(w, 'message', () => tracy.message(`m${i}`, i % 2 ? 0x102030 : 0));
      if (i % 10 === 9) await sleep(2); // deltas of milliseconds: the 32-bit compact form
      timed(w, 'end', () => tracy.zoneEnd(z));
      timed(w, 'frame', () => tracy.frameMark(i % 2 ? 'odd' : undefined));
    }
    await tracy.zone('async', async () => {
      timed(w, 'plot', () => tracy.plot('p', -1));
      await sleep(1);
    });
    receiver.query(ServerQuery.String, 2 ** 40); // an id the SDK never made
    receiver.query(ServerQuery.SourceCode, 99);
    receiver.query(ServerQuery.ExternalName, 1234);
    await tracy.close();
    await ended.at(-1);

    const d = receiver.reader.decoder;
    const welcome = receiver.reader.welcome!;
    const initBegin = Number(welcome.initBegin);
    expect(receiver.error).toBeNull();
    expect(receiver.trace.errors).toEqual([]);
    expect(receiver.reader.truncation()).toBeNull();

    // Exactly these item types, nothing else.
    const h = (t: number) => d.histogram[t]!;
    const counts: Record<string, number> = {};
    d.histogram.forEach((n, t) => n > 0 && (counts[QUEUE_TYPE_NAMES[t]!] = n));
    expect(h(Q.ZoneBegin) + h(Q.ZoneBegin32) + h(Q.ZoneBegin16)).toBe(31);
    expect(h(Q.ZoneEnd) + h(Q.ZoneEnd32) + h(Q.ZoneEnd16)).toBe(31);
    expect(h(Q.ZoneEnd32)).toBeGreaterThanOrEqual(3);
    expect([h(Q.ZoneText), h(Q.ZoneValue), h(Q.PlotDataDouble), h(Q.Message), h(Q.MessageColor), h(Q.FrameMarkMsg)]).toEqual([30, 30, 31, 15, 15, 30]);
    expect(h(Q.SingleStringData8)).toBe(60); // zone texts and messages
    expect(h(Q.Terminate)).toBe(1);
    const names = ['StringData', 'ThreadName', 'PlotName', 'FrameName', 'SourceLocation', 'AckSourceCodeNotAvailable', 'ExternalName', 'ExternalThreadName'];
    const allowed = new Set(['ThreadContext', 'ZoneBegin', 'ZoneBegin32', 'ZoneBegin16', 'ZoneEnd', 'ZoneEnd32', 'ZoneEnd16', 'ZoneText', 'ZoneValue', 'PlotDataDouble', 'Message', 'MessageColor', 'FrameMarkMsg', 'SingleStringData8', 'Terminate', ...names]);
    expect(Object.keys(counts).filter((n) => !allowed.has(n))).toEqual([]);
    // one counted reply per query: 4 srclocs (3 names + async), their name/function/file
    // strings, 2 threads, 1 plot, 1 frame set, plus the three injected
    expect(h(Q.SourceLocation)).toBe(4);
    expect(h(Q.ThreadName)).toBe(2);
    expect([h(Q.PlotName), h(Q.FrameName), h(Q.AckSourceCodeNotAvailable), h(Q.ExternalName), h(Q.ExternalThreadName)]).toEqual([1, 1, 1, 1, 1]);
    expect(d.repliesCounted).toBe(receiver.queriesSent);
    expect(receiver.outstanding).toBe(0);
    expect(d.names.strings.get(2 ** 40)).toBe('');
    expect(d.names.threads.get(1)).toBe('main');
    expect(d.names.threads.get(65537)).toBe('main async 1');

    // Every time inside the window of the call that made it.
    const t = receiver.trace;
    const within = (kind: string, times: number[]) => {
      expect(times).toHaveLength(w[kind]!.length);
      times.forEach((ns, k) => {
        const [a, b] = w[kind]![k]!;
        expect(ns + initBegin, `${kind} #${k}`).toBeGreaterThanOrEqual(a);
        expect(ns + initBegin, `${kind} #${k}`).toBeLessThanOrEqual(b);
      });
    };
    const mainZones = [...t.zones].filter((z) => z.thread === 1).sort((a, b) => a.startNs - b.startNs);
    within('begin', mainZones.map((z) => z.startNs));
    within('end', mainZones.map((z) => z.endNs));
    within('plot', t.plots.map((p) => p.timeNs));
    within('message', t.messages.map((m) => m.timeNs));
    within('frame', t.frames.map((f) => f.timeNs));
    expect(mainZones.map((z) => [z.text, z.value])).toEqual(Array.from({ length: 30 }, (_, i) => [`text ${i}`, BigInt(i)]));
    expect(t.messages.map((m) => [m.text, m.rgb])).toEqual(Array.from({ length: 30 }, (_, i) => [`m${i}`, i % 2 ? 0x102030 : -1]));
    expect(t.frames.map((f) => (f.namePtr === 0 ? '' : d.names.frames.get(f.namePtr)))).toEqual(Array.from({ length: 30 }, (_, i) => (i % 2 ? 'odd' : '')));
    expect(t.plots.map((p) => p.value)).toEqual([...Array.from({ length: 30 }, (_, i) => i / 2), -1]);
    expect(mainZones.map((z) => receiver.srclocName(z.srcloc))).toEqual(Array.from({ length: 30 }, (_, i) => `zone ${i % 3}`));

    // The same bytes decode identically in one piece and in 7-byte chunks.
    const bytes = Uint8Array.from(receiver.bytes);
    const whole = new SdkTrace();
    new TracyStreamReader(whole).push(bytes);
    const pieces = new SdkTrace();
    const reader = new TracyStreamReader(pieces);
    for (let i = 0; i < bytes.length; i += 7) reader.push(bytes, i, Math.min(bytes.length, i + 7));
    expect(pieces.zones).toEqual(whole.zones);
    expect(whole.zones).toEqual(t.zones);
  });
});
