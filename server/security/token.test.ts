import { describe, expect, it } from 'vitest';
import { checkToken, generateToken, presentedTokens, tokenCookie, tokenMatches } from './token.js';

describe('tokens', () => {
  it('generates distinct URL-safe tokens of 43 characters that pass checkToken', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(checkToken(a, '--token')).toBe(a);
  });

  it('matches only the same token, whatever the lengths', () => {
    const t = 'abcdefghijklmnop0123';
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches('abcdefghijklmnop0124', t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
    expect(tokenMatches(t + 'x', t)).toBe(false);
  });

  it.each([
    ['too short', 'short'],
    ['a space', 'abcdefgh ijklmnopq'],
    ['a semicolon (it would break the cookie)', 'abcdefghijklmnop;q'],
  ])('rejects a --token with %s', (_what, token) => {
    expect(() => checkToken(token, '--token')).toThrow(TypeError);
    expect(() => checkToken(token, '--token')).toThrow(/--token must be 16 to 256 characters of A-Z a-z 0-9 \. _ ~ -/);
  });

  it('reads the bearer header, this port\'s cookie and ?token=, and ignores other ports\' cookies', () => {
    const q = new URLSearchParams('a=1&token=fromquery');
    const got = presentedTokens({ authorization: 'Bearer fromheader', cookie: 'x=1; zonescope_token_9000=other; zonescope_token_8088=fromcookie' }, q, 8088);
    expect(got).toEqual(['fromheader', 'fromcookie', 'fromquery']);
    expect(presentedTokens({ authorization: 'Basic abc' }, new URLSearchParams(), 8088)).toEqual([]);
  });

  it('looks at 8 presented tokens at most', () => {
    const cookie = Array.from({ length: 100 }, (_, i) => `zonescope_token_1=t${i}`).join('; ');
    expect(presentedTokens({ cookie }, new URLSearchParams(), 1)).toHaveLength(8);
  });

  it('sets an HttpOnly, SameSite=Strict cookie for the whole site, Secure under TLS', () => {
    expect(tokenCookie(8088, 'tok', false)).toBe('zonescope_token_8088=tok; Path=/; HttpOnly; SameSite=Strict');
    expect(tokenCookie(8088, 'tok', true)).toBe('zonescope_token_8088=tok; Path=/; HttpOnly; SameSite=Strict; Secure');
  });
});
