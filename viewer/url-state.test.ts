import { describe, expect, it } from 'vitest';
import { readUrlState, writeUrlState } from './url-state.js';

describe('URL state', () => {
  it('round-trips a fixed view: session, t0 and t1', () => {
    const url = writeUrlState({ session: '7', follow: false, t0: 1_000, t1: 2_500_000_000 });
    expect(url).toBe('?session=7&t0=1000&t1=2500000000');
    expect(readUrlState(url)).toEqual({ session: '7', t0: 1_000, t1: 2_500_000_000, span: null, follow: null });
  });

  it('round-trips follow-live as follow=1 and the span of the view', () => {
    const url = writeUrlState({ session: '3', follow: true, t0: 4e9, t1: 5e9 });
    expect(readUrlState(url)).toEqual({ session: '3', t0: null, t1: null, span: 1e9, follow: true });
  });

  it('rounds fractional nanoseconds to whole ones', () => {
    const s = readUrlState(writeUrlState({ session: null, follow: false, t0: 10.4, t1: 20.6 }));
    expect([s.t0, s.t1]).toEqual([10, 21]);
  });

  it('leaves the session out when there is none', () => {
    const url = writeUrlState({ session: null, follow: true, t0: 0, t1: 1e9 });
    expect(url).not.toContain('session');
    expect(readUrlState(url).session).toBeNull();
  });

  it('escapes session ids with URL characters and reads them back', () => {
    const id = 'a b&c=d/é';
    expect(readUrlState(writeUrlState({ session: id, follow: false, t0: 0, t1: 1 })).session).toBe(id);
  });

  it('reads a query string with or without the leading ?', () => {
    expect(readUrlState('t0=5&t1=9')).toMatchObject({ t0: 5, t1: 9 });
    expect(readUrlState('?t0=5&t1=9')).toMatchObject({ t0: 5, t1: 9 });
  });

  it('reads nothing from an empty query string', () => {
    expect(readUrlState('')).toEqual({ session: null, t0: null, t1: null, span: null, follow: null });
  });

  it('ignores numbers that do not parse, are blank or are not finite', () => {
    expect(readUrlState('?t0=abc&t1=&span=Infinity')).toMatchObject({ t0: null, t1: null, span: null });
    expect(readUrlState('?t0=%20&t1=1e3x')).toMatchObject({ t0: null, t1: null });
  });

  it('ignores a span that is not positive', () => {
    expect(readUrlState('?span=0').span).toBeNull();
    expect(readUrlState('?span=-5').span).toBeNull();
    expect(readUrlState('?span=2.5e9').span).toBe(2.5e9);
  });

  it('reads follow as 1/true or 0/false and ignores anything else', () => {
    expect(readUrlState('?follow=1').follow).toBe(true);
    expect(readUrlState('?follow=true').follow).toBe(true);
    expect(readUrlState('?follow=0').follow).toBe(false);
    expect(readUrlState('?follow=false').follow).toBe(false);
    expect(readUrlState('?follow=yes').follow).toBeNull();
    expect(readUrlState('?follow=').follow).toBeNull();
  });

  it('treats an empty session as none', () => {
    expect(readUrlState('?session=').session).toBeNull();
  });
});

describe('writeUrlState with other parts\' keys', () => {
  it('adds the track list keys after the view, leaving out null ones and never overriding the view', () => {
    const url = writeUrlState({ session: 's1', follow: false, t0: 0, t1: 100 }, { hide: '3,5', pin: null, t0: '7' });
    const p = new URLSearchParams(url);
    expect(p.get('hide')).toBe('3,5');
    expect(p.has('pin')).toBe(false);
    expect(p.get('t0')).toBe('0');
    // the view still reads from a URL with the extra keys
    expect(readUrlState(url)).toMatchObject({ session: 's1', t0: 0, t1: 100 });
  });
});
