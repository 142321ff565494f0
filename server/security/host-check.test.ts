import { describe, expect, it } from 'vitest';
import { HostPolicy, hostOfHeader } from './host-check.js';

describe('hostOfHeader', () => {
  it('takes the host of host[:port], lower-cased, without brackets', () => {
    expect(hostOfHeader('Example.COM:8088')).toBe('example.com');
    expect(hostOfHeader('[::1]:8088')).toBe('::1');
    expect(hostOfHeader('127.0.0.1')).toBe('127.0.0.1');
  });

  it.each(['', 'a b', 'evil.example/x', 'user@evil.example', '[::1', 'host:port', '::1'])('refuses the malformed %j', (h) => {
    expect(hostOfHeader(h)).toBeNull();
  });
});

describe('HostPolicy', () => {
  it('answers loopback names and addresses on any port, and nothing else, when bound to 127.0.0.1', () => {
    const p = new HostPolicy('127.0.0.1');
    for (const h of ['localhost:8088', '127.0.0.1:8088', '127.9.9.9', '[::1]:1']) expect(p.allows(h), h).toBe(true);
    for (const h of ['evil.example', 'evil.example:8088', '192.168.1.5:8088', '0.0.0.0:8088', 'localhost.evil.example']) expect(p.allows(h), h).toBe(false);
    expect(p.allows(undefined)).toBe(false);
  });

  it('answers the bound address and the names given with --allow-host, exactly or as a .suffix', () => {
    const p = new HostPolicy('192.168.1.5', ['box.lan', '.corp.example', 'FD00::7']);
    for (const h of ['192.168.1.5:8088', 'BOX.lan:8088', 'a.corp.example', 'x.y.corp.example:1', '[fd00::7]:8088']) expect(p.allows(h), h).toBe(true);
    for (const h of ['192.168.1.6', 'corp.example', 'evilcorp.example', 'box.lan.evil']) expect(p.allows(h), h).toBe(false);
  });

  it('on a wildcard bind answers IP literals (no rebinding possible) but not unknown names', () => {
    const p = new HostPolicy('0.0.0.0');
    for (const h of ['0.0.0.0:8088', '10.1.2.3:8088', '[fe80::1]:8088', 'localhost']) expect(p.allows(h), h).toBe(true);
    expect(p.allows('evil.example:8088')).toBe(false);
  });

  it.each(['box.lan:8088', 'http://box.lan', '', 'a b', '.'])('rejects the --allow-host value %j with a TypeError', (h) => {
    expect(() => new HostPolicy('127.0.0.1', [h])).toThrow(/--allow-host takes a host name or address without port or scheme/);
  });
});
