import { ipVersion, isLoopbackHost, isWildcardHost, sameHost, stripBrackets } from './net-address.js';

/**
 * The Host check against DNS rebinding: a page on evil.example can make its own name resolve to
 * 127.0.0.1, and the browser then sends our server requests it considers same-origin with the
 * page, with `Host: evil.example`. Refusing Host names we do not know ends the attack.
 *
 * Allowed: loopback names and addresses (`localhost`, 127.0.0.0/8, `[::1]`), the address the
 * server is bound to, and the names given with `--allow-host` (exact, case-insensitive; a
 * leading dot, `.example.com`, allows its subdomains). On a wildcard bind (0.0.0.0, ::) any IP
 * literal is allowed too: the server is bound to every address of the machine, and a rebinding
 * attack needs a name (a literal cannot be made to point anywhere else).
 */
export class HostPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  /** decided once: the checks run on every request */
  private readonly wildcard: boolean;

  /**
   * @param boundHost the host of `--http` (an IP, a name, or a wildcard)
   * @param allowHosts names from `--allow-host`
   * @throws TypeError for an empty name or one with a port, a path or spaces
   */
  constructor(
    private readonly boundHost: string,
    allowHosts: readonly string[] = [],
  ) {
    this.wildcard = isWildcardHost(boundHost);
    for (const raw of allowHosts) {
      const name = raw.trim().toLowerCase();
      if (!/^\.?(?:\[[0-9a-f:.]+\]|[a-z0-9_.:-]+)$/.test(name) || name === '.' || (name.includes(':') && ipVersion(name) !== 6)) {
        throw new TypeError(`--allow-host takes a host name or address without port or scheme, not ${JSON.stringify(raw)}`);
      }
      if (name.startsWith('.')) this.suffixes.push(name);
      else this.exact.add(stripBrackets(name));
    }
  }

  /** Whether a request whose Host header is `hostHeader` may be answered. */
  allows(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const host = hostOfHeader(hostHeader);
    if (host === null) return false;
    if (isLoopbackHost(host) || sameHost(host, this.boundHost) || this.exact.has(host)) return true;
    if (this.wildcard && ipVersion(host) !== 0) return true;
    return this.suffixes.some((s) => host.endsWith(s));
  }
}

/**
 * The host part of a Host header (or of an absolute request target's authority), lower-case,
 * without port or brackets: `Example.com:8088` -> `example.com`, `[::1]:8088` -> `::1`.
 * null when it is not a well-formed `host[:port]`.
 */
export function hostOfHeader(header: string): string | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return null;
  return stripBrackets(m[1]!);
}
