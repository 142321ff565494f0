import { describe, expect, it } from 'vitest';
import { resolveSecurity } from './security-options.js';

describe('resolveSecurity', () => {
  it('needs nothing on loopback: no token, every ingest peer', () => {
    const s = resolveSecurity('127.0.0.1', '127.0.0.1');
    expect(s).toMatchObject({ token: null, tokenGenerated: false, httpExposed: false, ingestAllow: null, tls: null });
  });

  it('generates a token when HTTP binds off loopback, and keeps a given one', () => {
    const gen = resolveSecurity('0.0.0.0', null);
    expect(gen.httpExposed).toBe(true);
    expect(gen.tokenGenerated).toBe(true);
    expect(gen.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const given = resolveSecurity('0.0.0.0', null, { token: 'a-token-of-20-chars!'.replace('!', 'x') });
    expect(given).toMatchObject({ token: 'a-token-of-20-charsx', tokenGenerated: false });
  });

  it('requires a given token on loopback too, and none with noToken off loopback', () => {
    expect(resolveSecurity('127.0.0.1', null, { token: '0123456789abcdef' }).token).toBe('0123456789abcdef');
    expect(resolveSecurity('0.0.0.0', null, { noToken: true })).toMatchObject({ token: null, tokenGenerated: false, httpExposed: true });
  });

  it('refuses a TCP ingest off loopback without --ingest-allow, naming the flag', () => {
    expect(() => resolveSecurity('127.0.0.1', '0.0.0.0')).toThrow(TypeError);
    expect(() => resolveSecurity('127.0.0.1', '0.0.0.0')).toThrow(/TCP ingest on 0\.0\.0\.0 is reachable from other hosts .*--ingest-allow CIDR/);
    expect(resolveSecurity('127.0.0.1', '0.0.0.0', { ingestAllow: ['10.0.0.0/8'] }).ingestAllow?.ranges).toEqual(['10.0.0.0/8']);
  });

  it.each([
    ['token with noToken', { token: '0123456789abcdef', noToken: true }, /--token and --no-token are contradictory/],
    ['a cert without key', { tls: { cert: 'x', key: '' } }, /TLS needs both a certificate \(--tls-cert\) and its key \(--tls-key\)/],
    ['a bad token', { token: 'short' }, /--token must be 16 to 256 characters/],
  ])('throws a TypeError for %s', (_what, options, message) => {
    expect(() => resolveSecurity('127.0.0.1', null, options)).toThrow(TypeError);
    expect(() => resolveSecurity('127.0.0.1', null, options)).toThrow(message);
  });
});
