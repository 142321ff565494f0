import { afterEach, describe, expect, it } from 'vitest';
import { setLogSink } from '../log.js';
import { RefusalCounters } from './refusals.js';

describe('RefusalCounters', () => {
  afterEach(() => setLogSink(null));

  it('counts every refusal per reason but logs at most one line per reason every 10 s, with the count skipped', () => {
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    const r = new RefusalCounters();
    for (let i = 0; i < 5; i++) r.refuse('origin', `attempt ${i}`, 1000 + i);
    r.refuse('host', 'first host', 1005);
    expect(r.count('origin')).toBe(5);
    expect(r.count('host')).toBe(1);
    expect(r.count('token')).toBe(0);
    expect(lines).toEqual(['refused (origin): attempt 0', 'refused (host): first host']);
    r.refuse('origin', 'later', 11_000);
    expect(lines[2]).toBe('refused (origin): later (and 4 more since the last line)');
    r.refuse('origin', 'much later', 30_000);
    expect(lines[3]).toBe('refused (origin): much later');
  });
});
