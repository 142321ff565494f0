/**
 * The socket half: the real server (startServer, HTTP and TCP ingest on 127.0.0.1, ephemeral
 * ports) in this process, and mutated streams sent to it as apps and users would, a few at a
 * time:
 *   tcp     dial the ingest port, wait for the 12-byte handshake, write the stream, half-close
 *   ws      the same through the /ingest WebSocket, one binary message per chunk
 *   import  POST /api/sessions/import with a mutated .zscap, Chrome JSON or client stream
 * A recorded client stream answers the server's queries by itself (the replies are in the
 * recording), so the client only writes, then reads until the server closes.
 *
 * Each batch runs beside a control: the unmutated small recording over TCP. After the batch the
 * server must answer GET /api/sessions, and the control must have ended 'terminated' with
 * exactly the zones of the recording: bad streams never harm another session.
 */
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { HANDSHAKE_SIZE } from '../protocol/tracy/index.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import type { Session } from '../server/session/session.js';
import type { FuzzInputs } from './inputs.js';
import { judgeSession } from './judge.js';
import { TIMEOUT, withTimeout } from './in-process.js';
import { deliveryCuts } from './mutate-bytes.js';
import { describe, mutateStream, type BaseWeights } from './mutate.js';
import { Prng, streamSeed } from './prng.js';
import type { FuzzStats, MemoryPeaks, Outcome } from './stats.js';

export interface SocketOptions {
  seed: number;
  start: number;
  count: number;
  deadlineMs: number;
  hangMs: number;
  /** Streams in flight at once (besides the control). */
  concurrency: number;
  /** Streams between two checks of the server and its control session. */
  batch: number;
  /** The server's --memory, bytes. */
  memoryBytes: number;
  /** Zones the control (the unmutated small recording) must end with. */
  controlZones: number;
}

export const SOCKET_PHASE = 1;
/** What apps send over TCP and WebSocket: client streams only. */
const INGEST_WEIGHTS: BaseWeights = { client: 80, mediumPrefix: 20, mediumWhole: 0.3, zscap: 0, chrome: 0 };
/** What users upload: captures mostly, Chrome JSON, recorded client streams. */
const IMPORT_WEIGHTS: BaseWeights = { client: 15, mediumPrefix: 5, mediumWhole: 0, zscap: 55, chrome: 25 };

/** Server sessions by remote address, matched with the client that caused them. */
class EndedSessions {
  private readonly waiting = new Map<string, (s: Session) => void>();
  private readonly ended = new Map<string, Session>();
  readonly off: () => void;

  constructor(server: ServerHandle) {
    this.off = server.registry.subscribe((e) => {
      if (e.type !== 'ended') return;
      const resolve = this.waiting.get(e.session.remote);
      if (resolve) {
        this.waiting.delete(e.session.remote);
        resolve(e.session);
      } else {
        this.ended.set(e.session.remote, e.session);
      }
    });
  }

  /** The session of `remote` once it has ended, or TIMEOUT. */
  wait(remote: string, ms: number): Promise<Session | typeof TIMEOUT> {
    const done = this.ended.get(remote);
    if (done) {
      this.ended.delete(remote);
      return Promise.resolve(done);
    }
    return withTimeout(new Promise<Session>((resolve) => this.waiting.set(remote, resolve)), ms).then((r) => {
      this.waiting.delete(remote);
      return r;
    });
  }

  /** Forgets sessions nobody asked for (e.g. a client that timed out before it knew its port). */
  clear(): void {
    this.ended.clear();
  }
}

interface Ctx {
  inputs: FuzzInputs;
  server: ServerHandle;
  sessions: EndedSessions;
  hangMs: number;
}

/** Runs the socket phase; counts into `stats`. */
export async function fuzzOverSockets(inputs: FuzzInputs, o: SocketOptions, stats: FuzzStats, memory: MemoryPeaks, beforeStream?: (label: string) => void): Promise<void> {
  const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, memoryBytes: o.memoryBytes });
  const ctx: Ctx = { inputs, server, sessions: new EndedSessions(server), hangMs: o.hangMs };
  const control = inputs.recordings.find((r) => r.name === 'small')!.bytes;
  try {
    for (let first = o.start; first < o.start + o.count; first += o.batch) {
      if (performance.now() > o.deadlineMs) {
        stats.stoppedBy = 'time';
        break;
      }
      const last = Math.min(o.start + o.count, first + o.batch);
      const controlDone = controlStream(ctx, control);
      let next = first;
      const worker = async () => {
        while (next < last) {
          const i = next++;
          await socketStream(ctx, o.seed, i, stats, beforeStream);
        }
      };
      await Promise.all(Array.from({ length: o.concurrency }, worker));
      await checkBatch(ctx, await controlDone, o, stats, `socket batch ${first}..${last - 1}`);
      ctx.sessions.clear();
      memory.sample();
    }
  } finally {
    stats.evictedServer += server.registry.budget.evictedBytes;
    ctx.sessions.off();
    await server.close();
  }
}

async function socketStream(ctx: Ctx, seed: number, i: number, stats: FuzzStats, beforeStream?: (label: string) => void): Promise<void> {
  const rng = new Prng(streamSeed(seed, SOCKET_PHASE, i));
  const path = (['tcp', 'ws', 'import'] as const)[rng.weighted([70, 20, 10])]!;
  const m = mutateStream(rng, ctx.inputs, path === 'import' ? IMPORT_WEIGHTS : INGEST_WEIGHTS);
  const label = `socket stream ${i} (${path}): ${describe(m)}`;
  beforeStream?.(label);
  const started = performance.now();
  let outcome: Outcome;
  if (path === 'import') {
    outcome = await importStream(ctx, m.bytes, `fuzz-${i}`);
  } else {
    const cuts = deliveryCuts(rng, m.bytes.length);
    const client = path === 'tcp' ? await tcpClient(ctx, m.bytes, cuts) : await wsClient(ctx, m.bytes, cuts);
    outcome = await serverOutcome(ctx, client);
  }
  stats.sockets.set(path, (stats.sockets.get(path) ?? 0) + 1);
  stats.record(label, outcome, performance.now() - started, m.bytes.length);
}

interface ClientResult {
  /** The server's view of the client's address ("127.0.0.1:port"), or null if it never connected. */
  remote: string | null;
  /** The server did not close the connection within the bound. */
  timedOut: boolean;
}

async function serverOutcome(ctx: Ctx, client: ClientResult): Promise<Outcome> {
  if (client.remote === null) return { type: 'hang', what: 'the client never connected' };
  const session = await ctx.sessions.wait(client.remote, ctx.hangMs);
  if (session === TIMEOUT) return { type: 'hang', what: `the server's session for ${client.remote} did not end within ${ctx.hangMs} ms of the close${client.timedOut ? ' (and the server never closed the connection)' : ''}` };
  if (client.timedOut) return { type: 'hang', what: `the server kept the connection open ${ctx.hangMs} ms after the stream` };
  return judgeSession(session);
}

/** Dials the TCP ingest port, writes `bytes` in chunks after the handshake, half-closes, reads to the end. */
function tcpClient(ctx: Ctx, bytes: Uint8Array, cuts: number[]): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = connect(ctx.server.ingestPort!, '127.0.0.1');
    let remote: string | null = null;
    let got = 0;
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ remote, timedOut: true });
    }, ctx.hangMs);
    socket.setNoDelay(true);
    socket.on('connect', () => (remote = `127.0.0.1:${socket.localPort}`));
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (sent || got < HANDSHAKE_SIZE) return;
      sent = true;
      let from = 0;
      for (const cut of cuts) {
        if (cut > from) socket.write(bytes.subarray(from, cut));
        from = cut;
      }
      socket.end();
    });
    socket.on('error', () => {
      // the server may close first (a protocol error): 'close' follows
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ remote, timedOut: false });
    });
  });
}

/** The same through the /ingest WebSocket: one binary message per chunk, then a close. */
function wsClient(ctx: Ctx, bytes: Uint8Array, cuts: number[]): Promise<ClientResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${ctx.server.httpPort}/ingest`);
    let remote: string | null = null;
    let got = 0;
    let sent = false;
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ remote, timedOut: true });
    }, ctx.hangMs);
    ws.on('upgrade', (res) => (remote = `127.0.0.1:${res.socket.localPort}`));
    ws.on('message', (data: Buffer) => {
      got += data.length;
      if (sent || got < HANDSHAKE_SIZE) return;
      sent = true;
      let from = 0;
      for (const cut of cuts) {
        if (cut > from) ws.send(bytes.subarray(from, cut), { binary: true });
        from = cut;
      }
      ws.close(1000);
    });
    ws.on('error', () => {
      // 'close' follows
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve({ remote, timedOut: false });
    });
  });
}

/** POST /api/sessions/import: 201 (the session's outcome), a coded 4xx, or a crash (5xx, no code). */
async function importStream(ctx: Ctx, bytes: Uint8Array, name: string): Promise<Outcome> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${ctx.server.httpPort}/api/sessions/import?name=${name}`, {
      method: 'POST',
      body: bytes as unknown as BodyInit,
      signal: AbortSignal.timeout(ctx.hangMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') return { type: 'hang', what: `POST /api/sessions/import not answered within ${ctx.hangMs} ms` };
    return { type: 'crash', what: `POST /api/sessions/import failed: ${e.name}: ${e.message}`, stack: e.stack ?? '' };
  }
  if (status === 201) {
    const session = await ctx.sessions.wait(name, ctx.hangMs);
    if (session === TIMEOUT) return { type: 'crash', what: `201 for ${name} but no such session ended` };
    return judgeSession(session);
  }
  let code: unknown;
  try {
    code = (JSON.parse(text) as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  if (status >= 500 || typeof code !== 'string' || !code.startsWith('ZS_')) {
    return { type: 'crash', what: `POST /api/sessions/import answered ${status}: ${text.slice(0, 300)}` };
  }
  return { type: 'ok', key: `${code} (HTTP ${status})` };
}

/** The control: the unmutated small recording over TCP; its session once ended (or the failure). */
async function controlStream(ctx: Ctx, bytes: Uint8Array): Promise<Session | string> {
  const client = await tcpClient(ctx, bytes, [bytes.length]);
  if (client.remote === null) return 'the control never connected';
  const session = await ctx.sessions.wait(client.remote, ctx.hangMs);
  if (session === TIMEOUT) return `the control's session did not end within ${ctx.hangMs} ms`;
  return session;
}

/** After a batch: the server answers the list, and the control decoded exactly. */
async function checkBatch(ctx: Ctx, control: Session | string, o: SocketOptions, stats: FuzzStats, label: string): Promise<void> {
  stats.controlsRun++;
  const base = `http://127.0.0.1:${ctx.server.httpPort}/api/sessions`;
  try {
    const list = await fetch(base, { signal: AbortSignal.timeout(ctx.hangMs) });
    if (list.status !== 200 || !Array.isArray(await list.json())) throw new Error(`GET /api/sessions answered ${list.status}`);
    if (typeof control === 'string') throw new Error(control);
    const res = await fetch(`${base}/${control.id}`, { signal: AbortSignal.timeout(ctx.hangMs) });
    const d = (await res.json()) as { zones?: number; endReason?: string; error?: unknown };
    if (res.status !== 200 || d.zones !== o.controlZones || d.endReason !== 'terminated' || d.error !== null) {
      throw new Error(`control session ${control.id}: status ${res.status}, ${d.zones} zones (expected ${o.controlZones}), ended ${d.endReason}, error ${JSON.stringify(d.error)}`);
    }
    stats.controlsPassed++;
  } catch (err) {
    const e = err as Error;
    const hang = e.name === 'TimeoutError';
    if (hang) stats.hangs++;
    else stats.crashes++;
    stats.fail(label, `${hang ? 'hang: the server did not answer' : 'harmed'}: ${e.message}`);
  }
}
