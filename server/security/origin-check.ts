/**
 * Where a request comes from, as the browser says: the Origin header (sent on every WebSocket
 * handshake and every cross-origin or state-changing request), or failing that Sec-Fetch-Site.
 *
 * - `none`: no Origin and no cross-site Sec-Fetch-Site: a non-browser client (curl, the SDK,
 *   Prometheus) or a navigation the user typed;
 * - `same`: the Origin is this server as the request addressed it (scheme by TLS, the Host
 *   header's host and port);
 * - `allowed`: an origin given with `--allow-origin`;
 * - `foreign`: anything else, `null` included (sandboxed frames, file: pages, some redirects).
 */
export type OriginKind = 'none' | 'same' | 'allowed' | 'foreign';

export class OriginPolicy {
  private readonly allowed: Set<string>;

  /**
   * @param allowOrigins origins from `--allow-origin`, e.g. `http://localhost:5173`
   * @throws TypeError for an entry that is not scheme://host[:port] (no path, no `*`)
   */
  constructor(allowOrigins: readonly string[] = []) {
    this.allowed = new Set(allowOrigins.map(normalizeAllowedOrigin));
  }

  get allowList(): readonly string[] {
    return [...this.allowed];
  }

  /**
   * @param origin the Origin header, if any
   * @param secFetchSite the Sec-Fetch-Site header, if any (used only when Origin is absent)
   * @param host the request's Host header
   * @param tls whether the request came over TLS (the same origin is then https)
   */
  classify(origin: string | undefined, secFetchSite: string | undefined, host: string | undefined, tls: boolean): OriginKind {
    if (origin === undefined) {
      // Browsers send Origin on every POST and WebSocket; this covers one that did not.
      return secFetchSite === 'cross-site' || secFetchSite === 'same-site' ? 'foreign' : 'none';
    }
    const o = parseOrigin(origin);
    if (o === null) return 'foreign';
    if (host !== undefined && o === parseOrigin(`${tls ? 'https' : 'http'}://${host}`)) return 'same';
    return this.allowed.has(o) ? 'allowed' : 'foreign';
  }
}

/** scheme://host[:port] normalised by the URL parser (lower case, default port dropped), or null. */
function parseOrigin(text: string): string | null {
  if (text === 'null' || !/^https?:\/\/[^/?#\s]+$/i.test(text)) return null;
  try {
    const u = new URL(text);
    if (u.username !== '' || u.password !== '') return null;
    return u.origin;
  } catch {
    return null;
  }
}

function normalizeAllowedOrigin(text: string): string {
  const o = parseOrigin(text.trim().replace(/\/$/, ''));
  if (o === null) throw new TypeError(`--allow-origin takes an origin like http://localhost:5173 (scheme, host, optional port; no path), not ${JSON.stringify(text)}`);
  return o;
}
