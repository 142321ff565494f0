/**
 * A hostile page in real Chromium: served by a second HTTP server on 127.0.0.1 (another port,
 * so another origin), it tries to read Zonescope's sessions with fetch, to import a trace with
 * a no-cors text/plain fetch and with a form POST, to delete a session, and to open both
 * WebSockets. Everything is refused (by the server, which counts the refusals, or by the
 * browser for want of CORS headers) and the server's sessions are unchanged. The viewer, from
 * Zonescope's own origin, still connects.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../server/serve.js';
import { browserSkipReason, launchChromium, newPage, screenshot } from './support/browser.js';
import { rawRequest } from './support/raw-http.js';
import { waitFor } from './support/server-api.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`security-browser: skipped: ${skipReason}`);

const TRACE = JSON.stringify({ traceEvents: [{ name: 'injected', ph: 'X', ts: 0, dur: 5, pid: 1, tid: 1 }] });

/** The hostile page: each attack reports what the page could see. */
const HOSTILE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>hostile</title></head><body>
<iframe name="sink" id="sink"></iframe>
<script>
const TRACE = ${JSON.stringify(TRACE)};
async function tryFetch(url, init) {
  try {
    const res = await fetch(url, init);
    if (res.type === 'opaque') return 'opaque';
    return 'read ' + res.status + ' ' + (await res.text()).slice(0, 200);
  } catch (e) {
    return 'blocked';
  }
}
function tryWebSocket(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const seen = [];
    // had it opened, close it at once so the attack reports instead of hanging
    ws.onopen = () => { seen.push('open'); ws.close(); };
    ws.onmessage = () => seen.push('message');
    ws.onerror = () => seen.push('error');
    ws.onclose = () => resolve(seen.join(','));
  });
}
function tryForm(action) {
  return new Promise((resolve) => {
    const sink = document.getElementById('sink');
    sink.onload = () => resolve('submitted');
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = action;
    form.enctype = 'text/plain';
    form.target = 'sink';
    const field = document.createElement('input');
    field.name = TRACE.slice(0, -2);
    field.value = TRACE.slice(-2);
    form.append(field);
    document.body.append(form);
    form.submit();
  });
}
window.attack = async (http, ws, victim) => ({
  read: await tryFetch(http + '/api/sessions'),
  readCredentialed: await tryFetch(http + '/api/sessions', { credentials: 'include' }),
  importNoCors: await tryFetch(http + '/api/sessions/import?name=evil.json', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: TRACE }),
  deleteCors: await tryFetch(http + '/api/sessions/' + victim, { method: 'DELETE' }),
  form: await tryForm(http + '/api/sessions/import?name=form.json'),
  live: await tryWebSocket(ws + '/api/live'),
  ingest: await tryWebSocket(ws + '/ingest'),
});
</script></body></html>`;

describe.skipIf(skipReason !== null)('a page from another origin in Chromium', () => {
  let server: ServerHandle;
  let hostile: Server;
  let hostilePort: number;
  let browser: Browser;
  let victim: string;

  beforeAll(async () => {
    server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null });
    const res = await rawRequest({ port: server.httpPort, method: 'POST', path: '/api/sessions/import?name=victim.json', body: TRACE });
    expect(res.status).toBe(201);
    victim = res.json.id;
    hostile = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOSTILE_PAGE));
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', () => r()));
    hostilePort = (hostile.address() as AddressInfo).port;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => hostile?.close(r));
    await server?.close();
  });

  it('cannot read, import, delete or open a WebSocket, and the sessions are unchanged', async () => {
    const before = server.registry.list().map((s) => s.id);
    const refusedBefore = server.security.refusals.count('origin');
    const { page, errors } = await newPage(browser);
    await page.goto(`http://127.0.0.1:${hostilePort}/`);
    const zs = `127.0.0.1:${server.httpPort}`;
    const seen = await page.evaluate(
      ([http, ws, id]) => (window as unknown as { attack: (h: string, w: string, v: string) => Promise<Record<string, string>> }).attack(http!, ws!, id!),
      [`http://${zs}`, `ws://${zs}`, victim],
    );
    await screenshot(page, 'security-hostile-page');
    expect(seen).toEqual({
      read: 'blocked', // 200 on the wire, but no CORS header: the page cannot read it
      readCredentialed: 'blocked',
      importNoCors: 'opaque', // sent (a simple request) and refused by the server, see below
      deleteCors: 'blocked', // the preflight finds no CORS header: the DELETE is never sent
      form: 'submitted', // sent and refused by the server
      live: 'error', // refused before the upgrade: never opened, no message
      ingest: 'error',
    });
    // the server refused the two imports and the two handshakes itself, for their Origin
    await waitFor('4 origin refusals', () => server.security.refusals.count('origin') === refusedBefore + 4);
    expect(server.registry.list().map((s) => s.id)).toEqual(before);
    expect(server.http.live.viewerCount).toBe(0);
  });

  it('leaves the viewer working from its own origin', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await page.waitForFunction(() => (window as unknown as { __zs?: { app: { connected: boolean } } }).__zs?.app.connected === true);
    expect(server.http.live.viewerCount).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });
});
