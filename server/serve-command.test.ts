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
