/**
 * Hostile and careless connections (issue 10, rows 1, 2 and the welcome row): connect-and-close
 * floods over TCP and /ingest never push a real session out of the list, connections that never
 * answer the handshake are closed after the handshake timeout and never listed, a silent live
 * app is closed after the idle timeout, the connection limits refuse at once, and a welcome with
 * an unusable clock ends the session handshake-rejected with a coded error. Everything is
 * counted in /metrics.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeWelcome, HANDSHAKE_SIZE, type WelcomeMessage } from '../protocol/tracy/index.js';
import { startServer, type ServeOptions, type ServerHandle } from '../server/serve.js';
import { FIXTURES_PRESENT, fixture } from './support/inspect-fixtures.js';
import { parseExposition, sampleOf } from './support/prometheus-text.js';
import { getJson, waitFor, waitNewSession, waitSessionEnded, type Json } from './support/server-api.js';
import { syntheticWelcome } from './support/synthetic-client.js';
import { dialRecordedClient } from './support/tracy-replay.js';

/** A raw TCP peer: what it received, and promises for the server's handshake and the close. */
interface Peer {
  socket: Socket;
  received: () => number;
  handshake: Promise<void>;
  closed: Promise<void>;
}

function dial(port: number, localAddress = '127.0.0.1'): Peer {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let received = 0;
  let gotHandshake: () => void = () => {};
  const handshake = new Promise<void>((r) => (gotHandshake = r));
  socket.on('data', (d: Buffer) => {
    received += d.length;
    if (received >= HANDSHAKE_SIZE) gotHandshake();
  });
  socket.on('error', () => {
    // 'close' follows (a refused connection is reset)
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, received: () => received, handshake, closed };
}

/** The status byte and a WelcomeMessage, as an app answers the handshake. */
function welcomeBytes(w: WelcomeMessage): Uint8Array {
  const out = new Uint8Array(1 + 1170);
  out[0] = 1;
  out.set(encodeWelcome(w), 1);
  return out;
}

async function metrics(server: ServerHandle) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  return parseExposition(await res.text());
}

const local = (o: ServeOptions = {}) => startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, ...o });

describe('connections', () => {
  let server: ServerHandle | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it.skipIf(!FIXTURES_PRESENT)('keeps a real session listed through 210 TCP and 205 /ingest connect-and-close cycles and 210 empty sessions', async () => {
    const srv = (server = await local());
    const small = readFileSync(fixture('small.client.bin'));
    await dialRecordedClient(srv.ingestPort!, small);
    const id = await waitNewSession(srv, 0);
    const real = await waitSessionEnded(srv, id);
    expect(real.zones).toBe(3371);

    for (let i = 0; i < 210; i++) {
      const peer = dial(srv.ingestPort!);
      await peer.handshake;
      peer.socket.end();
      await peer.closed;
    }
    for (let i = 0; i < 205; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.httpPort}/ingest`);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => ws.close());
        ws.once('close', () => resolve());
        ws.once('error', reject);
      });
    }
    // and sessions that answer the handshake, then close without a frame: listed, ended, empty
    for (let i = 0; i < 210; i++) {
      const peer = dial(srv.ingestPort!);
      await peer.handshake;
      peer.socket.end(welcomeBytes(syntheticWelcome(`empty-${i}`)));
      await peer.closed;
    }
    const registry = srv.registry;
    await waitFor('every cycle to be counted', () => (registry.gate.rejectedByReason.get('handshake-closed') ?? 0) === 415 && registry.gate.openConnections === 0 && registry.list().every((s) => s.ended));

    const list: Json[] = await getJson(srv, '/api/sessions');
    expect(list.some((s) => s.id === id)).toBe(true);
    expect(list.length).toBe(200); // the keep rule: 200 ended sessions, the empty ones went first
    const again = await getJson(srv, `/api/sessions/${id}`);
    expect(again.zones).toBe(3371);
    const families = await metrics(srv);
    expect(sampleOf(families, 'zonescope_connections_rejected_total', { reason: 'handshake-closed' }).value).toBe(415);
    expect(sampleOf(families, 'zonescope_sessions_dropped_total', { reason: 'empty' }).value).toBe(11);
    expect(sampleOf(families, 'zonescope_sessions_ended_total', { reason: 'disconnected' }).value).toBe(210);
  });

  it('closes 300 connections that never answer the handshake after the timeout, and never lists them', async () => {
    const srv = (server = await local({ handshakeTimeoutMs: 200, maxConnections: 1000, maxConnectionsPerAddress: 1000 }));
    let listedEvents = 0;
    srv.registry.subscribe((e) => {
      if (e.type === 'listed') listedEvents++;
    });
    const peers = Array.from({ length: 300 }, () => dial(srv.ingestPort!));
    await Promise.all(peers.map((p) => p.handshake));
    expect(await getJson(srv, '/api/sessions')).toEqual([]);
    await Promise.all(peers.map((p) => p.closed));
    await waitFor('the gate to see every connection closed', () => srv.registry.gate.openConnections === 0);
    expect(srv.registry.pendingCount).toBe(0);
    expect(listedEvents).toBe(0);
    expect(await getJson(srv, '/api/sessions')).toEqual([]);
    const families = await metrics(srv);
    expect(sampleOf(families, 'zonescope_connections_rejected_total', { reason: 'handshake-timeout' }).value).toBe(300);
    expect(sampleOf(families, 'zonescope_sessions_pending').value).toBe(0);
    expect(sampleOf(families, 'zonescope_sessions').value).toBe(0);
  });

  it('closes a live app that sends nothing for the idle timeout, listed with endReason idle-timeout', async () => {
    const srv = (server = await local({ idleTimeoutMs: 200 }));
    const peer = dial(srv.ingestPort!);
    await peer.handshake;
    peer.socket.write(welcomeBytes(syntheticWelcome('quiet-app')));
    await peer.closed;
    const id = await waitNewSession(srv, 0);
    const d = await waitSessionEnded(srv, id);
    expect(d.endReason).toBe('idle-timeout');
    expect(d.app).toBe('quiet-app');
    const families = await metrics(srv);
    expect(sampleOf(families, 'zonescope_sessions_ended_total', { reason: 'idle-timeout' }).value).toBe(1);
  });

  it('refuses connections over the total and per-address limits at once, over TCP and /ingest, and admits again once one closes', async () => {
    const srv = (server = await local({ handshakeTimeoutMs: 0, maxConnections: 3, maxConnectionsPerAddress: 2 }));
    const a1 = dial(srv.ingestPort!);
    const a2 = dial(srv.ingestPort!);
    await Promise.all([a1.handshake, a2.handshake]);
    const a3 = dial(srv.ingestPort!);
    await a3.closed;
    expect(a3.received()).toBe(0);
    const b1 = dial(srv.ingestPort!, '127.0.0.2');
    await b1.handshake;
    const b2 = dial(srv.ingestPort!, '127.0.0.2');
    await b2.closed;
    expect(b2.received()).toBe(0);

    const ws = new WebSocket(`ws://127.0.0.1:${srv.httpPort}/ingest`);
    const refused = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => {});
    });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ code: 'ZS_INGEST_TOO_MANY_CONNECTIONS', error: '3 ingest connections are open, the limit is 3 (--max-connections)' });

    a1.socket.destroy();
    await waitFor('the closed connection to leave the count', () => srv.registry.gate.openConnections === 2);
    const a4 = dial(srv.ingestPort!);
    await a4.handshake;
    const families = await metrics(srv);
    expect(sampleOf(families, 'zonescope_connections_rejected_total', { reason: 'max-connections-per-address' }).value).toBe(1);
    expect(sampleOf(families, 'zonescope_connections_rejected_total', { reason: 'max-connections' }).value).toBe(2);
    expect(sampleOf(families, 'zonescope_ingest_connections').value).toBe(3);
    for (const p of [a2, b1, a4]) p.socket.destroy();
  });

  const badWelcomes: [string, Partial<WelcomeMessage>, string][] = [
    ['timerMul NaN', { timerMul: NaN }, 'WelcomeMessage timerMul NaN is not a finite number of ns per tick in [0.001, 1000000]'],
    ['timerMul Infinity', { timerMul: Infinity }, 'WelcomeMessage timerMul Infinity is not a finite number of ns per tick in [0.001, 1000000]'],
    ['timerMul 1e300', { timerMul: 1e300 }, 'WelcomeMessage timerMul 1e+300 is not a finite number of ns per tick in [0.001, 1000000]'],
    ['initBegin at the i64 minimum', { initBegin: -(2n ** 63n) }, 'WelcomeMessage initBegin -9223372036854775808 is not within +-2^62 ticks'],
    ['initBegin at the i64 maximum', { initBegin: 2n ** 63n - 1n }, 'WelcomeMessage initBegin 9223372036854775807 is not within +-2^62 ticks'],
  ];
  for (const [what, fields, message] of badWelcomes) {
    it(`ends a session whose welcome has ${what} handshake-rejected with ZS_PROTOCOL_BAD_WELCOME`, async () => {
      const srv = (server = await local());
      const peer = dial(srv.ingestPort!);
      await peer.handshake;
      peer.socket.write(welcomeBytes(syntheticWelcome('bad-clock', fields)));
      await peer.closed;
      const id = await waitNewSession(srv, 0);
      const d = await waitSessionEnded(srv, id);
      expect(d.endReason).toBe('handshake-rejected');
      expect(d.error.code).toBe('ZS_PROTOCOL_BAD_WELCOME');
      expect(d.error.message).toBe(message);
      expect(d.zones).toBe(0);
    });
  }
});
