import { describe, expect, it } from 'vitest';
import { parseServeArgs } from './serve-command.js';

describe('zonescope serve --max-viewers', () => {
  it('takes a positive integer, and leaves the default (64) when absent', () => {
    expect(parseServeArgs(['--max-viewers', '8'])).toMatchObject({ options: { maxViewers: 8 } });
    expect(parseServeArgs(['--max-viewers=200'])).toMatchObject({ options: { maxViewers: 200 } });
    expect(parseServeArgs([])).toMatchObject({ options: {} });
  });

  it('refuses 0, negative, fractional and non-numeric values with a TypeError naming the option', () => {
    for (const bad of ['0', '-1', '2.5', 'many', '']) {
      expect(() => parseServeArgs(['--max-viewers', bad]), bad).toThrow(new TypeError(`--max-viewers needs a positive integer, got ${bad}`));
    }
  });
});

describe('zonescope serve --influx', () => {
  it('takes an InfluxDB 1.x URL as given', () => {
    expect(parseServeArgs(['--influx', 'http://127.0.0.1:8086/?db=zs'])).toMatchObject({ options: { influx: 'http://127.0.0.1:8086/?db=zs' } });
  });

  it('refuses a URL it cannot use before anything starts, with a TypeError naming the option', () => {
    expect(() => parseServeArgs(['--influx', 'nope'])).toThrow(TypeError);
    expect(() => parseServeArgs(['--influx', 'http://h:8086/?db=a%20b'])).toThrow(/--influx: database "a b"/);
  });
});
