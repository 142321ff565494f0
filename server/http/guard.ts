import { getRequestListener } from '@hono/node-server';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { hostOfHeader } from '../security/host-check.js';
import type { OriginKind } from '../security/origin-check.js';
import type { RefusalReason } from '../security/refusals.js';
import type { ResolvedSecurity } from '../security/security-options.js';
import { presentedTokens, tokenCookie, tokenMatches } from '../security/token.js';

/** What the checks decided about one request or WebSocket handshake. */
type Verdict =
  | { kind: 'pass'; origin: OriginKind }
  | { kind: 'refuse'; status: 401 | 403; code: string; reason: RefusalReason; message: string; origin: OriginKind }
  | { kind: 'preflight' }
  | { kind: 'login'; location: string; cookie: string };

/** Methods that only read: everything else changes state and must come from an accepted origin. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The checks every HTTP request and WebSocket handshake passes before the app or the WebSocket
 * server sees it (docs/security.md): Host (DNS rebinding), Origin (other web pages), then the
 * token when one is required. Refusals are `{ error, code }` JSON with 403 or 401, counted in
 * /metrics by reason. A browser that opens `/?token=T` gets the token as an HttpOnly cookie and
 * is redirected to the same URL without it.
 */
export class RequestGuard {
  constructor(private readonly security: ResolvedSecurity) {}

  /**
   * For a plain HTTP request: true when the guard answered it (refused, redirected, or a CORS
   * preflight of an allowed origin); false when the app should, CORS headers added if needed.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const v = this.evaluate(req, false);
    const origin = req.headers.origin ?? '';
    switch (v.kind) {
      case 'pass':
        if (v.origin === 'allowed') setCorsHeaders(res, origin);
        return false;
      case 'preflight':
        setCorsHeaders(res, origin);
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE',
          'access-control-allow-headers': 'authorization, content-type, accept, x-file-name',
          'access-control-max-age': '600',
        });
        res.end();
        return true;
      case 'login':
        // no-store and no-referrer: the URL with the token must not linger anywhere
        res.writeHead(302, { location: v.location, 'set-cookie': v.cookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
        res.end();
        return true;
      case 'refuse': {
        if (v.origin === 'allowed') setCorsHeaders(res, origin);
        const body = errorBody(v);
        res.writeHead(v.status, refusalHeaders(v, body));
        res.end(req.method === 'HEAD' ? undefined : body);
        return true;
      }
    }
  }

  /**
   * For a WebSocket handshake, before the upgrade: true when it was refused (an HTTP response
   * was written on the raw socket, which then closes); false when it may be upgraded.
   */
  refuseUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const v = this.evaluate(req, true);
    if (v.kind === 'pass') return false;
    // a handshake is a GET: 'preflight' and 'login' cannot happen, but answer them as refused
    const r = v.kind === 'refuse' ? v : { status: 403 as const, code: 'ZS_HTTP_FORBIDDEN', message: 'not a WebSocket handshake', reason: 'origin' as const, origin: 'none' as const };
    const body = errorBody(r);
    const headers = Object.entries(refusalHeaders(r, body)).map(([k, value]) => `${k}: ${value}\r\n`).join('');
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\nconnection: close\r\n${headers}\r\n${body}`);
    return true;
  }

  private evaluate(req: IncomingMessage, upgrade: boolean): Verdict {
    const { refusals, hosts, origins, token } = this.security;
    const refuse = (status: 401 | 403, code: string, reason: RefusalReason, message: string, origin: OriginKind = 'none'): Verdict => {
      refusals.refuse(reason, `${req.method ?? '?'} ${pathOf(req.url)} from ${req.socket.remoteAddress ?? '?'}: ${code}`);
      return { kind: 'refuse', status, code, reason, message, origin };
    };

    // Host: the header, and the authority of an absolute-form target (which wins in some parsers)
    const host = req.headers.host;
    const target = req.url ?? '/';
    const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
    for (const h of absolute ? [host, absolute[1]!] : [host]) {
      if (!hosts.allows(h)) {
        const name = h === undefined ? null : hostOfHeader(h);
        return refuse(
          403,
          'ZS_HTTP_HOST_FORBIDDEN',
          'host',
          name === null
            ? 'the request has no valid Host header'
            : `Host ${JSON.stringify(name)} is not allowed: this server answers to loopback names, the address it is bound to and names given with --allow-host (restart with --allow-host ${name} to allow it)`,
        );
      }
    }

    const tls = (req.socket as TLSSocket).encrypted === true;
    const secFetchSite = req.headers['sec-fetch-site'];
    const origin = origins.classify(req.headers.origin, typeof secFetchSite === 'string' ? secFetchSite : undefined, host, tls);
    const method = req.method ?? 'GET';
    if (!upgrade && method === 'OPTIONS' && origin === 'allowed' && req.headers['access-control-request-method'] !== undefined) return { kind: 'preflight' };
    if (origin === 'foreign' && (upgrade || !SAFE_METHODS.has(method))) {
      const from = req.headers.origin ?? `a ${String(secFetchSite)} page`;
      return refuse(
        403,
        'ZS_HTTP_ORIGIN_FORBIDDEN',
        'origin',
        `requests from ${from} may not ${upgrade ? 'open WebSockets' : 'change data'} here (restart with --allow-origin ORIGIN to allow a web app's origin)`,
      );
    }

    if (token !== null) {
      const { path, query } = splitTarget(target);
      const port = req.socket.localPort ?? 0;
      const presented = presentedTokens(req.headers, query, port);
      if (!presented.some((t) => tokenMatches(t, token))) {
        return presented.length === 0
          ? refuse(401, 'ZS_HTTP_TOKEN_REQUIRED', 'token', 'this server needs its token: open the URL with ?token= printed at startup, or send Authorization: Bearer TOKEN', origin)
          : refuse(401, 'ZS_HTTP_TOKEN_INVALID', 'token', 'wrong token', origin);
      }
      // the viewer's page: trade ?token= for the cookie and drop it from the address bar
      const fromQuery = query.getAll('token').find((t) => tokenMatches(t, token));
      if (!upgrade && (method === 'GET' || method === 'HEAD') && path === '/' && fromQuery !== undefined) {
        query.delete('token');
        const rest = query.toString();
        return { kind: 'login', location: rest ? `/?${rest}` : '/', cookie: tokenCookie(port, fromQuery, tls) };
      }
    }
    return { kind: 'pass', origin };
  }
}

/** The path and query of an origin-form or absolute-form request target. */
function splitTarget(target: string): { path: string; query: URLSearchParams } {
  let t = target;
  const absolute = /^https?:\/\/[^/?#]*/i.exec(t);
  if (absolute) t = t.slice(absolute[0].length) || '/';
  const q = t.indexOf('?');
  return { path: q < 0 ? t : t.slice(0, q), query: new URLSearchParams(q < 0 ? '' : t.slice(q + 1)) };
}

/** The path only: refusal log lines must not carry a (wrong, or right) ?token=. */
function pathOf(target: string | undefined): string {
  return splitTarget(target ?? '/').path.slice(0, 200);
}

function setCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('vary', 'Origin');
}

function errorBody(v: { message: string; code: string }): string {
  return JSON.stringify({ error: v.message, code: v.code });
}

function refusalHeaders(v: { status: number }, body: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  if (v.status === 401) headers['www-authenticate'] = 'Bearer realm="zonescope"';
  return headers;
}

/**
 * The HTTP(S) server of the app: `fetch` (the Hono app) behind the guard. With `security.tls`
 * it serves HTTPS (and WSS through the same 'upgrade' event).
 */
export function createGuardedServer(guard: RequestGuard, fetch: Parameters<typeof getRequestListener>[0], security: ResolvedSecurity, options: ServerOptions = {}): Server {
  const listener = getRequestListener(fetch);
  const guarded = (req: IncomingMessage, res: ServerResponse) => {
    if (!guard.handleRequest(req, res)) void listener(req, res);
  };
  if (security.tls) return createHttpsServer({ ...options, cert: security.tls.cert, key: security.tls.key }, guarded) as unknown as Server;
  return createHttpServer(options, guarded);
}
