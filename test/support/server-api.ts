/**
 * Small helpers for integration tests that talk to a running server over real HTTP: JSON GETs
 * with the status checked, and polling until a condition holds (with a clear timeout error).
 */
import type { ServerHandle } from '../../server/serve.js';

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** GETs `path` and returns its JSON; throws (naming the path and body) unless the status is `status`. */
export async function getJson(server: ServerHandle | number, path: string, status = 200): Promise<Json> {
  const port = typeof server === 'number' ? server : server.httpPort;
  const url = `http://127.0.0.1:${port}${path}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    // A test that kept the event loop busy past the server's keep-alive timeout (5 s; the
    // server runs in this process) can hand fetch a pooled socket the server is closing: a GET
    // is safe to send again, once, on a new connection.
    if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
    res = await fetch(url);
  }
  const text = await res.text();
  if (res.status !== status) throw new Error(`GET ${path}: status ${res.status}, expected ${status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until session `id` is listed as ended and returns its details. */
export async function waitSessionEnded(server: ServerHandle, id: string, timeoutMs = 30_000): Promise<Json> {
  return waitFor(`session ${id} to end`, async () => {
    const d = await getJson(server, `/api/sessions/${id}`);
    return d.state === 'ended' ? d : undefined;
  }, timeoutMs);
}

/** Waits until the server lists more than `before` sessions; returns the id of the next one. */
export async function waitNewSession(server: ServerHandle, before: number, timeoutMs = 30_000): Promise<string> {
  return waitFor(`session #${before + 1}`, () => server.registry.list()[before]?.id, timeoutMs);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
