import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Characters a token may have: they pass unescaped in a URL query, a cookie and a header. */
const TOKEN_RE = /^[A-Za-z0-9._~-]{16,256}$/;

/** Tokens looked at per request at most (header, cookies and query together). */
const MAX_PRESENTED = 8;

/** A new token: 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Checks a token given with --token or ZONESCOPE_TOKEN.
 * @throws TypeError when it is shorter than 16 or longer than 256 characters, or has characters
 *   other than letters, digits and `._~-`
 */
export function checkToken(token: string, from: string): string {
  if (!TOKEN_RE.test(token)) {
    throw new TypeError(`${from} must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ - (e.g. the output of \`openssl rand -hex 32\`), got ${token.length} characters`);
  }
  return token;
}

/**
 * Compares a presented token with the server's in constant time: both are hashed first, so
 * neither the content nor the length of the secret leaks through the comparison's timing.
 */
export function tokenMatches(presented: string, secret: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * The token cookie's name. It carries the port because cookies are per host, not per port: two
 * servers on one machine keep one cookie each.
 */
export function tokenCookieName(port: number): string {
  return `zonescope_token_${port}`;
}

/** The Set-Cookie value: HttpOnly (no script reads it), SameSite=Strict, Secure under TLS. */
export function tokenCookie(port: number, token: string, secure: boolean): string {
  return `${tokenCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * Every token the request presents: `Authorization: Bearer T`, the cookie, and `?token=T` (the
 * only way a browser WebSocket can carry one). The request is let in when any of them matches.
 */
export function presentedTokens(headers: IncomingHttpHeaders, query: URLSearchParams, port: number): string[] {
  const out: string[] = [];
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) out.push(m[1]!);
  }
  const cookie = headers.cookie;
  if (cookie !== undefined) {
    const name = tokenCookieName(port) + '=';
    for (const part of cookie.split(';')) {
      const p = part.trim();
      if (p.startsWith(name)) out.push(p.slice(name.length));
    }
  }
  for (const q of query.getAll('token')) out.push(q);
  // each candidate costs a hash: a header stuffed with cookies cannot make that unbounded
  return out.length > MAX_PRESENTED ? out.slice(0, MAX_PRESENTED) : out;
}
