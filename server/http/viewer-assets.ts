import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { INDEX_HTML } from './index-page.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Where the built viewer is: dist/viewer, next to dist/server when running the compiled server,
 * or under the package root when running from source (tests). null when it was not built.
 */
export function findViewerDir(): string | null {
  // From source (server/http/*.ts) ../../viewer/ is the viewer's source, whose index.html
  // loads main.ts: only a folder with the built assets/ counts.
  const candidates = [new URL('../../dist/viewer/', import.meta.url), new URL('../../viewer/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'))) return dir;
  }
  return null;
}

/**
 * Serves the viewer bundle at / (index.html) and its files (/assets/...). Assets have hashed
 * names: each is read once and kept (the bundle is a few hundred KiB); index.html is read on
 * every request, so a rebuilt viewer is served without a restart. Without a built viewer, / shows the plain session
 * list and says how to build it.
 */
export function mountViewer(app: Hono, dir: string | null = findViewerDir()): void {
  if (dir === null) {
    app.get('/', (c) => c.html(INDEX_HTML));
    return;
  }
  const cache = new Map<string, { body: Buffer; type: string }>();
  const load = (rel: string) => {
    // index.html is read each time (a rebuild replaces the hashed asset names it points at)
    let hit = rel === 'index.html' ? undefined : cache.get(rel);
    if (hit) return hit;
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep) || !existsSync(file) || !statSync(file).isFile()) return null;
    hit = { body: readFileSync(file), type: TYPES[extname(file)] ?? 'application/octet-stream' };
    if (rel !== 'index.html') cache.set(rel, hit);
    return hit;
  };
  const send = (rel: string, immutable: boolean) => {
    const f = load(rel);
    if (!f) return null;
    const headers: Record<string, string> = { 'content-type': f.type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' };
    return new Response(f.body as unknown as BodyInit, { headers });
  };
  app.get('/', () => send('index.html', false) ?? new Response('viewer index.html missing', { status: 500 }));
  app.get('/assets/*', (c) => send(c.req.path.slice(1), true) ?? c.json({ error: `no file ${c.req.path}`, code: 'ZS_HTTP_NOT_FOUND' }, 404));
  app.get('/favicon.ico', () => send('favicon.svg', true) ?? new Response(null, { status: 204 }));
}
