import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { mountViewer } from './viewer-assets.js';

const dir = mkdtempSync(join(tmpdir(), 'zs-viewer-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./assets/index-abc.js"></script>');
writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(dir, 'assets', 'index-abc.css'), 'body{}');
writeFileSync(join(tmpdir(), 'zs-outside.js'), 'secret');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function appWith(viewerDir: string | null): Hono {
  const app = new Hono();
  mountViewer(app, viewerDir);
  return app;
}

describe('the viewer bundle served at /', () => {
  it('serves index.html at / without caching, so a rebuilt viewer is picked up', async () => {
    const res = await appWith(dir).request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('./assets/index-abc.js');
  });

  it('serves hashed assets with their content type and as immutable', async () => {
    const app = appWith(dir);
    const js = await app.request('/assets/index-abc.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    const css = await app.request('/assets/index-abc.css');
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('answers 404 for a missing asset and for a path that climbs out of the bundle', async () => {
    const app = appWith(dir);
    expect((await app.request('/assets/nope.js')).status).toBe(404);
    expect((await app.request('/assets/..%2F..%2Fzs-outside.js')).status).toBe(404);
    expect((await app.request('/assets/../../zs-outside.js')).status).not.toBe(200);
  });

  it('shows the plain session list and how to build the viewer when it was not built', async () => {
    const res = await appWith(null).request('/');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('The viewer is not built');
    expect(html).toContain('npm run build');
  });
});
