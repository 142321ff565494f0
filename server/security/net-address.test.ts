import { describe, expect, it } from 'vitest';
import { CidrList, isLoopbackHost, isWildcardHost, sameHost } from './net-address.js';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('counts %s as loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '192.168.1.5', '128.0.0.1', 'evil.example', 'localhost.evil.example', '127.0.0.1.evil.example', 'ip6-localhost', ''])('does not count %s', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('isWildcardHost and sameHost', () => {
  it('knows the wildcard addresses of both families', () => {
    expect(['0.0.0.0', '::', '[::]', '0:0::0', ''].map(isWildcardHost)).toEqual([true, true, true, true, true]);
    expect(['127.0.0.1', '::1', 'example.com'].map(isWildcardHost)).toEqual([false, false, false]);
  });

  it('compares addresses as addresses and names case-insensitively', () => {
    expect(sameHost('[::1]', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(sameHost('10.0.0.1', '::ffff:10.0.0.1')).toBe(true);
    expect(sameHost('Box.Lan', 'box.lan')).toBe(true);
    expect(sameHost('10.0.0.1', '10.0.0.2')).toBe(false);
    expect(sameHost('box.lan', '10.0.0.1')).toBe(false);
  });
});

describe('CidrList', () => {
  it('matches IPv4 and IPv6 ranges, single hosts, and IPv4 peers seen on a dual-stack socket', () => {
    const list = new CidrList(['192.168.1.0/24', '10.1.2.3', 'fd00::/8']);
    expect(list.has('192.168.1.77')).toBe(true);
    expect(list.has('::ffff:192.168.1.77')).toBe(true);
    expect(list.has('192.168.2.1')).toBe(false);
    expect(list.has('10.1.2.3')).toBe(true);
    expect(list.has('10.1.2.4')).toBe(false);
    expect(list.has('fd12::1')).toBe(true);
    expect(list.has('fe80::1')).toBe(false);
    expect(list.has('127.0.0.1')).toBe(false);
    expect(list.has(undefined)).toBe(false);
  });

  it.each([
    ['a name', 'example.com/24', /not an address or CIDR range: example.com\/24/],
    ['a prefix too long for IPv4', '10.0.0.0/33', /prefix \/33 is too long for 10.0.0.0 \(at most \/32\)/],
    ['garbage', '1.2.3', /not an address or CIDR range/],
  ])('rejects %s with a TypeError that says what', (_what, range, message) => {
    expect(() => new CidrList([range])).toThrow(TypeError);
    expect(() => new CidrList([range])).toThrow(message);
  });
});
