/**
 * TCP ingest off loopback needs --ingest-allow (Tracy's protocol has no credentials): a peer
 * outside the ranges is closed before the handshake and counted; one inside streams as before.
 * With --tls-cert/--tls-key the same server speaks HTTPS and WSS (a self-signed certificate made
 * with openssl for the test), and the token cookie is Secure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../client/node.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { rawRequest, tryWebSocket } from './support/raw-http.js';
import { waitFor } from './support/server-api.js';

/** Connects to TCP `port` on 127.0.0.1 and resolves, once the server closed it, with the bytes it sent. */
function bytesBeforeClose(port: number): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    const s = tcpConnect(port, '127.0.0.1');
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('error', () => {
      // a reset is a close too
    });
    s.on('close', () => resolve(n));
  });
}

describe('TCP ingest off loopback', () => {
  it('refuses to start without --ingest-allow, naming the flag', async () => {
    await expect(startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(TypeError);
    await expect(startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(/--ingest-allow CIDR/);
  });

  it('closes a connection from outside the ranges before the handshake, counts it, and starts no session', async () => {
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '0.0.0.0', port: 0 }, security: { ingestAllow: ['10.0.0.0/8', 'fd00::/8'] } });
    try {
      expect(await bytesBeforeClose(server.ingestPort!)).toBe(0);
      expect(await bytesBeforeClose(server.ingestPort!)).toBe(0);
      expect(server.registry.list()).toEqual([]);
      expect(server.security.refusals.count('ingest-cidr')).toBe(2);
      const metrics = await rawRequest({ port: server.httpPort, path: '/metrics' });
      expect(metrics.text).toMatch(/^zonescope_refused_total\{reason="ingest-cidr"\} 2$/m);
    } finally {
      await server.close();
    }
  });

  it('streams an SDK session from a peer inside the ranges', async () => {
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '0.0.0.0', port: 0 }, security: { ingestAllow: ['127.0.0.0/8'] } });
    try {
      const tracy = await connect({ port: server.ingestPort!, appName: 'allowed-peer', exitHandlers: false });
      tracy.zoneEnd(tracy.zoneBegin('work'));
      await tracy.close();
      const s = await waitFor('the session to end', () => server.registry.list().find((x) => x.state === 'ended'));
      expect(s.welcome?.programName).toBe('allowed-peer');
      expect(s.store.zonesEnded).toBe(1);
      expect(server.security.refusals.count('ingest-cidr')).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('applies --ingest-allow on a loopback bind too, exactly as given', async () => {
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 }, security: { ingestAllow: ['127.0.0.2/32'] } });
    try {
      expect(await bytesBeforeClose(server.ingestPort!)).toBe(0);
      expect(server.security.refusals.count('ingest-cidr')).toBe(1);
    } finally {
      await server.close();
    }
  });
});

let OPENSSL = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  OPENSSL = false;
}

describe.skipIf(!OPENSSL)('HTTPS and WSS with --tls-cert and --tls-key (self-signed, made by openssl)', () => {
  let dir: string;
  let tls: { cert: Buffer; key: Buffer };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zonescope-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the API and both WebSockets over TLS, checks Origin as https, and not plain HTTP', async () => {
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, security: { tls } });
    try {
      const port = server.httpPort;
      expect((await rawRequest({ port, path: '/api/sessions', tls: true })).json).toEqual([]);
      const self = `https://127.0.0.1:${port}`;
      const post = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=t.json', headers: { Origin: self }, body: JSON.stringify({ traceEvents: [{ name: 'a', ph: 'X', ts: 0, dur: 1, pid: 1, tid: 1 }] }), tls: true });
      expect(post.status).toBe(201);
      // the http:// origin of the same host and port is another origin
      const plainOrigin = await rawRequest({ port, method: 'DELETE', path: `/api/sessions/${post.json.id}`, headers: { Origin: `http://127.0.0.1:${port}` }, tls: true });
      expect(plainOrigin.status).toBe(403);
      expect((await tryWebSocket(port, '/api/live', { Origin: self }, { tls: true, waitMessage: true })).opened).toBe(true);
      expect((await tryWebSocket(port, '/ingest', {}, { tls: true })).opened).toBe(true);
      await expect(rawRequest({ port, path: '/api/sessions' })).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('sets the token cookie with Secure under TLS', async () => {
    const server = await startServer({ http: { host: '0.0.0.0', port: 0 }, ingest: null, security: { tls } });
    try {
      const port = server.httpPort;
      const token = server.security.token!;
      expect((await rawRequest({ port, path: '/api/sessions', tls: true })).status).toBe(401);
      const login = await rawRequest({ port, path: `/?token=${token}`, tls: true });
      expect(login.status).toBe(302);
      expect(login.headers['set-cookie']).toEqual([`zonescope_token_${port}=${token}; Path=/; HttpOnly; SameSite=Strict; Secure`]);
      expect((await tryWebSocket(port, '/api/live', { Authorization: `Bearer ${token}` }, { tls: true })).opened).toBe(true);
    } finally {
      await server.close();
    }
  });
});
