import { BlockList, isIP } from 'node:net';

/**
 * Address helpers shared by the Host check, the token rule and the TCP ingest allow-list.
 * Addresses are compared with node:net's BlockList, so `::1` and `0:0:0:0:0:0:0:1`, or
 * `127.0.0.1` and `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket), are the same.
 */

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped loopback (::ffff:127.0.0.0/104): a dual-stack socket reports IPv4 peers this way
LOOPBACK.addSubnet('::ffff:7f00:0', 104, 'ipv6');

/** `[::1]` -> `::1`; IPv6 zone ids (`fe80::1%eth0`) are dropped; other text is lower-cased. */
export function stripBrackets(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = h.indexOf('%');
  return (zone >= 0 && h.includes(':') ? h.slice(0, zone) : h).toLowerCase();
}

/** 4 or 6 for an IP literal (brackets allowed), else 0. */
export function ipVersion(host: string): 0 | 4 | 6 {
  return isIP(stripBrackets(host)) as 0 | 4 | 6;
}

/** Whether `address` (an IP literal) is in `list`, whichever family it is written in. */
export function listHas(list: BlockList, address: string): boolean {
  const a = stripBrackets(address);
  const v = isIP(a);
  if (v === 0) return false;
  return list.check(a, v === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Loopback: the name `localhost`, 127.0.0.0/8 and ::1 (and IPv4-mapped 127.x). Other names that
 * may resolve to loopback (`ip6-localhost`) do not count: the safe default is "not loopback".
 */
export function isLoopbackHost(host: string): boolean {
  const h = stripBrackets(host);
  return h === 'localhost' || listHas(LOOPBACK, h);
}

/** The wildcard addresses (every interface): 0.0.0.0, ::, or an empty host. */
export function isWildcardHost(host: string): boolean {
  const h = stripBrackets(host);
  if (h === '') return true;
  const v = isIP(h);
  if (v === 0) return false;
  const any = new BlockList();
  any.addAddress(v === 4 ? '0.0.0.0' : '::', v === 4 ? 'ipv4' : 'ipv6');
  return any.check(h, v === 4 ? 'ipv4' : 'ipv6');
}

/** Two host names or IP literals are the same host (IPs compared as addresses). */
export function sameHost(a: string, b: string): boolean {
  const x = stripBrackets(a);
  const y = stripBrackets(b);
  if (x === y) return true;
  const v = isIP(x);
  if (v === 0 || isIP(y) === 0) return false;
  const one = new BlockList();
  one.addAddress(x, v === 4 ? 'ipv4' : 'ipv6');
  return listHas(one, y);
}

/**
 * A list of CIDR ranges (`10.0.0.0/8`, `192.168.1.7`, `fd00::/8`, `::1`), for the TCP ingest
 * allow-list. An address without a prefix is a single host.
 */
export class CidrList {
  private readonly list = new BlockList();
  readonly ranges: readonly string[];

  /** @throws TypeError naming the entry that is not an address or CIDR range */
  constructor(ranges: readonly string[]) {
    for (const range of ranges) {
      const m = /^\[?([^\]/]+)\]?(?:\/(\d{1,3}))?$/.exec(range.trim());
      const addr = m ? stripBrackets(m[1]!) : '';
      const v = isIP(addr);
      if (!m || v === 0) throw new TypeError(`not an address or CIDR range: ${range} (e.g. 192.168.1.0/24, 10.1.2.3, fd00::/8)`);
      const bits = v === 4 ? 32 : 128;
      const prefix = m[2] !== undefined ? Number(m[2]) : bits;
      if (prefix > bits) throw new TypeError(`prefix /${prefix} is too long for ${addr} (at most /${bits})`);
      this.list.addSubnet(addr, prefix, v === 4 ? 'ipv4' : 'ipv6');
    }
    this.ranges = [...ranges];
  }

  /** Whether a peer address (as net.Socket#remoteAddress gives it) is in one of the ranges. */
  has(address: string | undefined): boolean {
    return address !== undefined && listHas(this.list, address);
  }
}
