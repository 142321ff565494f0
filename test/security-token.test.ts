/**
 * The token a server bound off loopback requires (here 0.0.0.0, reached through 127.0.0.1: the
 * rule follows the bind, not the Host, so loopback clients need it too, as with Jupyter): every
 * API call, WebSocket and /metrics scrape without it gets 401; a wrong token of the same length
 * too; the right one as a bearer header, a cookie or ?token= gets in. The viewer's page trades
 * ?token= for an HttpOnly cookie, and the SDK's connect({ url, token }) streams a session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ClientError } from '../client/node.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { rawRequest, tryWebSocket } from './support/raw-http.js';
import { waitFor } from './support/server-api.js';

/** The same length as the token, one character different: only a real comparison tells them apart. */
function sameLengthWrong(token: string): string {
  return (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
}

describe('a server bound to 0.0.0.0 (a generated token)', () => {
  let server: ServerHandle;
  let port: number;
  let token: string;
  beforeAll(async () => {
    server = await startServer({ http: { host: '0.0.0.0', port: 0 }, ingest: null });
    port = server.httpPort;
    token = server.security.token!;
  });
  afterAll(() => server.close());

  it('generated a token because the bind is reachable from other hosts', () => {
    expect(server.security).toMatchObject({ httpExposed: true, tokenGenerated: true });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers 401 without a token on the API, the page, /metrics and both WebSockets, even from loopback', async () => {
    const before = server.security.refusals.count('token');
    for (const path of ['/api/sessions', '/', '/metrics', '/assets/x.js']) {
      const res = await rawRequest({ port, path });
      expect(res.status, path).toBe(401);
      expect(res.json, path).toEqual({ code: 'ZS_HTTP_TOKEN_REQUIRED', error: expect.stringMatching(/this server needs its token: open the URL with \?token= printed at startup, or send Authorization: Bearer TOKEN/) });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="zonescope"');
    }
    for (const path of ['/api/live', '/ingest']) {
      expect(await tryWebSocket(port, path), path).toMatchObject({ opened: false, status: 401, json: { code: 'ZS_HTTP_TOKEN_REQUIRED' } });
    }
    expect(server.registry.list()).toEqual([]);
    expect(server.security.refusals.count('token')).toBe(before + 6);
  });

  it('answers 401 to a wrong token of the same length, wherever it is presented', async () => {
    const wrong = sameLengthWrong(token);
    expect(wrong.length).toBe(token.length);
    for (const r of [
      { path: '/api/sessions', headers: { Authorization: `Bearer ${wrong}` } },
      { path: '/metrics', headers: { Authorization: `Bearer ${wrong}` } },
      { path: '/api/sessions', headers: { Cookie: `zonescope_token_${port}=${wrong}` } },
      { path: `/api/sessions?token=${wrong}` },
      { path: `/?token=${wrong}` },
    ]) {
      const res = await rawRequest({ port, ...r });
      expect(res.status, r.path).toBe(401);
      expect(res.json.code).toBe('ZS_HTTP_TOKEN_INVALID');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await tryWebSocket(port, '/api/live', { Authorization: `Bearer ${wrong}` })).toMatchObject({ opened: false, status: 401, json: { code: 'ZS_HTTP_TOKEN_INVALID' } });
  });

  it('answers 200 with the token as a bearer header: API, page and the Prometheus scrape', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    expect((await rawRequest({ port, path: '/api/sessions', headers: auth })).json).toEqual([]);
    expect((await rawRequest({ port, path: '/', headers: auth })).status).toBe(200);
    const metrics = await rawRequest({ port, path: '/metrics', headers: auth });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^zonescope_refused_total\{reason="token"\} [1-9]/m);
    expect((await tryWebSocket(port, '/api/live', auth, { waitMessage: true })).opened).toBe(true);
  });

  it('trades ?token= on the page for an HttpOnly SameSite=Strict cookie and a redirect without it', async () => {
    const res = await rawRequest({ port, path: `/?session=3&token=${token}&t0=5` });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/?session=3&t0=5');
    expect(res.headers['set-cookie']).toEqual([`zonescope_token_${port}=${token}; Path=/; HttpOnly; SameSite=Strict`]);
    expect(res.headers['cache-control']).toBe('no-store');
    // what the browser then sends: the cookie, on fetches and on the WebSocket handshake
    const cookie = { Cookie: `other=1; zonescope_token_${port}=${token}` };
    expect((await rawRequest({ port, path: '/?session=3&t0=5', headers: cookie })).status).toBe(200);
    expect((await rawRequest({ port, path: '/api/sessions', headers: cookie })).status).toBe(200);
    expect((await tryWebSocket(port, '/api/live', { ...cookie, Origin: `http://127.0.0.1:${port}` })).opened).toBe(true);
    // a cookie for another server on this host (another port) does not count
    expect((await rawRequest({ port, path: '/api/sessions', headers: { Cookie: `zonescope_token_${port + 1}=${token}` } })).status).toBe(401);
  });

  it('still checks Origin with the right token: a foreign page cannot use the cookie to change data', async () => {
    const res = await rawRequest({ port, method: 'POST', path: '/api/sessions/import', headers: { Origin: 'http://evil.example', Cookie: `zonescope_token_${port}=${token}` }, body: '{"traceEvents":[]}' });
    expect(res.status).toBe(403);
    expect(res.json.code).toBe('ZS_HTTP_ORIGIN_FORBIDDEN');
  });

  it('lets the SDK stream a session over the ingest WebSocket with connect({ url, token })', async () => {
    const tracy = await connect({ url: `ws://127.0.0.1:${port}/ingest`, token, appName: 'with-token', exitHandlers: false });
    const zone = tracy.zoneBegin('work');
    tracy.zoneEnd(zone);
    await tracy.close();
    const session = await waitFor('the session to end', () => server.registry.list().find((s) => s.welcome?.programName === 'with-token' && s.state === 'ended'));
    expect(session.store.zonesEnded).toBe(1);
  });

  it('accepts the token as ?token= on the ingest WebSocket (what the browser SDK sends)', async () => {
    expect((await tryWebSocket(port, `/ingest?token=${token}`, {})).opened).toBe(true);
  });

  it('fails the SDK connect without the token with ZS_CLIENT_CONNECT naming the 401', async () => {
    const err = await connect({ url: `ws://127.0.0.1:${port}/ingest`, appName: 'no-token', exitHandlers: false, connectTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('ZS_CLIENT_CONNECT');
    expect((err as ClientError).message).toMatch(/the connection failed before the handshake: .*401/);
    expect(server.registry.list().some((s) => s.welcome?.programName === 'no-token')).toBe(false);
  });

  it('refuses a token for TCP in the SDK: Tracy\'s protocol has no credentials', async () => {
    await expect(connect({ port: 8087, token })).rejects.toThrow(TypeError);
    await expect(connect({ port: 8087, token })).rejects.toThrow(/token is for the WebSocket ingest \(url\); TCP ingest has no credentials/);
  });
});

describe('tokens chosen by the user', () => {
  it('requires a --token given on loopback too, and keeps it', async () => {
    const token = '0123456789abcdef0123';
    const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, security: { token } });
    try {
      expect(server.security).toMatchObject({ token, tokenGenerated: false, httpExposed: false });
      expect((await rawRequest({ port: server.httpPort, path: '/api/sessions' })).status).toBe(401);
      expect((await rawRequest({ port: server.httpPort, path: '/api/sessions', headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('needs none off loopback with noToken, but still checks Host and Origin', async () => {
    const server = await startServer({ http: { host: '0.0.0.0', port: 0 }, ingest: null, security: { noToken: true } });
    try {
      expect(server.security.token).toBeNull();
      const port = server.httpPort;
      expect((await rawRequest({ port, path: '/api/sessions' })).status).toBe(200);
      expect((await rawRequest({ port, path: '/api/sessions', headers: { Host: 'evil.example' } })).status).toBe(403);
      expect((await tryWebSocket(port, '/api/live', { Origin: 'http://evil.example' })).opened).toBe(false);
    } finally {
      await server.close();
    }
  });
});
