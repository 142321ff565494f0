import { describe, expect, it } from 'vitest';
import { OriginPolicy } from './origin-check.js';

describe('OriginPolicy.classify', () => {
  const p = new OriginPolicy(['http://localhost:5173', 'https://Dash.Example/']);
  const host = '127.0.0.1:8088';

  it('says none for a client that sends no Origin and no cross-site Sec-Fetch-Site', () => {
    expect(p.classify(undefined, undefined, host, false)).toBe('none');
    expect(p.classify(undefined, 'same-origin', host, false)).toBe('none');
    expect(p.classify(undefined, 'none', host, false)).toBe('none');
  });

  it('says same for the origin the Host header names, with the scheme of the connection', () => {
    expect(p.classify('http://127.0.0.1:8088', undefined, host, false)).toBe('same');
    expect(p.classify('https://127.0.0.1:8088', undefined, host, true)).toBe('same');
    expect(p.classify('http://localhost:80', undefined, 'localhost', false)).toBe('same');
    expect(p.classify('https://127.0.0.1:8088', undefined, host, false)).toBe('foreign');
    expect(p.classify('http://127.0.0.1:8088', undefined, host, true)).toBe('foreign');
    expect(p.classify('http://127.0.0.1:9999', undefined, host, false)).toBe('foreign');
  });

  it('says allowed for --allow-origin entries, normalised', () => {
    expect(p.classify('http://localhost:5173', undefined, host, false)).toBe('allowed');
    expect(p.classify('https://dash.example', undefined, host, false)).toBe('allowed');
    expect(p.classify('https://dash.example:443', undefined, host, false)).toBe('allowed');
  });

  it('says foreign for other sites, null, malformed origins and cross-site fetches without Origin', () => {
    for (const o of ['http://evil.example', 'null', 'file://', 'http://a, http://b', 'http://localhost:5173/path', '']) expect(p.classify(o, undefined, host, false), o).toBe('foreign');
    expect(p.classify(undefined, 'cross-site', host, false)).toBe('foreign');
    expect(p.classify(undefined, 'same-site', host, false)).toBe('foreign');
  });

  it.each(['*', 'localhost:5173', 'http://localhost:5173/app', 'ftp://x'])('rejects the --allow-origin value %j with a TypeError', (o) => {
    expect(() => new OriginPolicy([o])).toThrow(TypeError);
    expect(() => new OriginPolicy([o])).toThrow(/--allow-origin takes an origin like http:\/\/localhost:5173/);
  });
});
