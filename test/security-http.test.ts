/**
 * The Host and Origin checks on a server bound to 127.0.0.1 with no configuration, tried the
 * way a hostile page or a DNS-rebinding name would (real sockets, headers as browsers send
 * them): foreign origins cannot open the WebSockets, post an import (even a "simple"
 * text/plain one) or delete; foreign Host names get nothing; same-origin and non-browser clients
 * work as before; --allow-origin and --allow-host open exactly what they name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '@msgpack/msgpack';
import { startServer, type ServerHandle } from '../server/serve.js';
import { rawRequest, tryWebSocket } from './support/raw-http.js';
import { getJson } from './support/server-api.js';

/** A valid Chrome trace: had the server accepted it, it would be a session. */
const TRACE = JSON.stringify({ traceEvents: [{ name: 'injected', ph: 'X', ts: 0, dur: 5, pid: 1, tid: 1 }] });
const EVIL = 'http://evil.example';

const refused = (server: ServerHandle, reason: 'host' | 'origin' | 'token' | 'ingest-cidr') => server.security.refusals.count(reason);

describe('a server on 127.0.0.1 with no configuration', () => {
  let server: ServerHandle;
  let port: number;
  let self: string;
  let kept: string;
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    port = server.httpPort;
    self = `http://127.0.0.1:${port}`;
    // a session that must survive the hostile requests (imported by a non-browser client)
    const res = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=kept.json', body: TRACE });
    expect(res.status).toBe(201);
    kept = res.json.id;
  });
  afterAll(() => server.close());

  it('refuses the viewer WebSocket to a foreign Origin before the upgrade, and sends it nothing', async () => {
    const before = refused(server, 'origin');
    const hs = await tryWebSocket(port, '/api/live', { Origin: EVIL });
    expect(hs).toMatchObject({ opened: false, status: 403, json: { code: 'ZS_HTTP_ORIGIN_FORBIDDEN' } });
    if (!hs.opened) expect(hs.json.error).toMatch(/requests from http:\/\/evil\.example may not open WebSockets here \(restart with --allow-origin ORIGIN/);
    expect(server.http.live.viewerCount).toBe(0);
    expect(refused(server, 'origin')).toBe(before + 1);
  });

  it('refuses the ingest WebSocket to a foreign Origin and to a null one: no session starts', async () => {
    const sessions = server.registry.list().length;
    for (const origin of [EVIL, 'null']) {
      const hs = await tryWebSocket(port, '/ingest', { Origin: origin });
      expect(hs, origin).toMatchObject({ opened: false, status: 403, json: { code: 'ZS_HTTP_ORIGIN_FORBIDDEN' } });
    }
    expect(server.registry.list().length).toBe(sessions);
  });

  it('opens the viewer WebSocket to the same origin (as the viewer does) and to clients without Origin', async () => {
    const cases: Record<string, string>[] = [{ Origin: self }, { Origin: `http://localhost:${port}`, Host: `localhost:${port}` }, {}];
    for (const headers of cases) {
      const hs = await tryWebSocket(port, '/api/live', headers, { waitMessage: true });
      expect(hs.opened, JSON.stringify(headers)).toBe(true);
      if (hs.opened) expect(decode(hs.firstMessage!)).toMatchObject({ type: 'sessions' });
    }
  });

  it('answers a foreign Host with 403 naming the flag that allows it, on GET and on the WebSocket upgrade', async () => {
    const before = refused(server, 'host');
    for (const path of ['/api/sessions', '/', '/metrics']) {
      const res = await rawRequest({ port, path, headers: { Host: `evil.example:${port}` } });
      expect(res.status, path).toBe(403);
      expect(res.json).toEqual({ code: 'ZS_HTTP_HOST_FORBIDDEN', error: expect.stringContaining('restart with --allow-host evil.example to allow it') });
      expect(res.text).not.toContain('kept.json');
    }
    const hs = await tryWebSocket(port, '/api/live', { Host: `evil.example:${port}` });
    expect(hs).toMatchObject({ opened: false, status: 403, json: { code: 'ZS_HTTP_HOST_FORBIDDEN' } });
    // an absolute request target cannot smuggle another host past the Host header
    const abs = await rawRequest({ port, path: `http://evil.example:${port}/api/sessions` });
    expect(abs.status).toBe(403);
    expect(refused(server, 'host')).toBe(before + 5);
  });

  it('answers loopback Host names, with or without port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `127.1.2.3:${port}`]) {
      expect((await rawRequest({ port, path: '/api/sessions', headers: { Host: host } })).status, host).toBe(200);
    }
  });

  it('refuses a cross-site text/plain import (a simple request, no preflight): 403 and nothing imported', async () => {
    const sessions = server.registry.list().length;
    const before = refused(server, 'origin');
    for (const headers of [
      { Origin: EVIL, 'Content-Type': 'text/plain' },
      { Origin: EVIL, 'Content-Type': 'application/x-www-form-urlencoded' },
      { Origin: EVIL, 'Content-Type': 'multipart/form-data; boundary=x' },
      { Origin: 'null', 'Content-Type': 'text/plain' },
      // a browser that sent no Origin still says where the request comes from
      { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain' },
      { 'Sec-Fetch-Site': 'same-site', 'Content-Type': 'text/plain' },
    ]) {
      const res = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=evil.json', headers, body: TRACE });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.json.code).toBe('ZS_HTTP_ORIGIN_FORBIDDEN');
      expect(res.json.error).toMatch(/may not change data here/);
    }
    expect(server.registry.list().length).toBe(sessions);
    expect(refused(server, 'origin')).toBe(before + 6);
  });

  it('imports the same body from the viewer (same origin) and from a script (no Origin)', async () => {
    const viewer = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=viewer.json', headers: { Origin: self, 'Sec-Fetch-Site': 'same-origin' }, body: TRACE });
    expect(viewer.status).toBe(201);
    const script = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=script.json', body: TRACE });
    expect(script.status).toBe(201);
    for (const id of [viewer.json.id, script.json.id]) expect((await rawRequest({ port, method: 'DELETE', path: `/api/sessions/${id}` })).status).toBe(200);
  });

  it('refuses a cross-site DELETE and PUT: the session stays listed', async () => {
    for (const method of ['DELETE', 'PUT']) {
      const res = await rawRequest({ port, method, path: `/api/sessions/${kept}`, headers: { Origin: EVIL } });
      expect(res.status, method).toBe(403);
      expect(res.json.code).toBe('ZS_HTTP_ORIGIN_FORBIDDEN');
    }
    expect((await getJson(server, '/api/sessions')).map((s: { id: string }) => s.id)).toContain(kept);
  });

  it('sends no CORS headers: a foreign page may send a GET but cannot read the answer, nor pass a preflight', async () => {
    const get = await rawRequest({ port, path: '/api/sessions', headers: { Origin: EVIL } });
    expect(get.status).toBe(200);
    expect(Object.keys(get.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const preflight = await rawRequest({ port, method: 'OPTIONS', path: `/api/sessions/${kept}`, headers: { Origin: EVIL, 'Access-Control-Request-Method': 'DELETE' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.status).not.toBe(204);
  });
});

describe('--allow-origin and --allow-host', () => {
  let server: ServerHandle;
  let port: number;
  const APP = 'http://localhost:5173';
  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, security: { allowOrigins: [APP], allowHosts: ['zonescope.test'] } });
    port = server.httpPort;
  });
  afterAll(() => server.close());

  it('lets an allowed origin import, open both WebSockets and read answers through CORS headers', async () => {
    const preflight = await rawRequest({ port, method: 'OPTIONS', path: '/api/sessions/import', headers: { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', vary: 'Origin' });
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    const post = await rawRequest({ port, method: 'POST', path: '/api/sessions/import?name=app.json', headers: { Origin: APP, 'Content-Type': 'application/json' }, body: TRACE });
    expect(post.status).toBe(201);
    expect(post.headers['access-control-allow-origin']).toBe(APP);
    expect((await tryWebSocket(port, '/api/live', { Origin: APP })).opened).toBe(true);
    expect((await tryWebSocket(port, '/ingest', { Origin: APP })).opened).toBe(true);
  });

  it('still refuses every other origin, including the allowed one on another port or scheme', async () => {
    for (const origin of [EVIL, 'http://localhost:5174', 'https://localhost:5173']) {
      const res = await rawRequest({ port, method: 'POST', path: '/api/sessions/import', headers: { Origin: origin }, body: TRACE });
      expect(res.status, origin).toBe(403);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('answers an allowed Host name and still refuses others', async () => {
    expect((await rawRequest({ port, path: '/api/sessions', headers: { Host: `zonescope.test:${port}` } })).status).toBe(200);
    expect((await rawRequest({ port, path: '/api/sessions', headers: { Host: `other.test:${port}` } })).status).toBe(403);
    const hs = await tryWebSocket(port, '/api/live', { Host: `zonescope.test:${port}`, Origin: `http://zonescope.test:${port}` });
    expect(hs.opened).toBe(true);
  });
});
