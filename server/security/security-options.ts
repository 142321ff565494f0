import type { Socket } from 'node:net';
import { HostPolicy } from './host-check.js';
import { CidrList, isLoopbackHost } from './net-address.js';
import { OriginPolicy } from './origin-check.js';
import { RefusalCounters } from './refusals.js';
import { checkToken, generateToken } from './token.js';

/**
 * What protects the server (docs/security.md). With none of it given, the server answers only
 * to loopback Host names and same-origin browsers, and needs a token as soon as `--http` binds
 * an address other hosts can reach.
 */
export interface SecurityOptions {
  /** `--allow-host`: Host names answered besides loopback and the bound address. */
  allowHosts?: string[];
  /** `--allow-origin`: origins (http://host:port) that may POST/DELETE and open the WebSockets. */
  allowOrigins?: string[];
  /**
   * `--token` / ZONESCOPE_TOKEN: required on every HTTP request and WebSocket wherever the
   * server is bound. Default: none on a loopback bind, a generated one otherwise.
   */
  token?: string;
  /** `--no-token`: no token even off loopback (the CLI warns). Contradicts `token`. */
  noToken?: boolean;
  /**
   * `--ingest-allow`: CIDR ranges TCP ingest accepts connections from; connections from
   * elsewhere are closed before the handshake. Required when `--ingest` binds off loopback;
   * default (loopback bind): everyone who can reach it, i.e. this machine.
   */
  ingestAllow?: string[];
  /** `--tls-cert`/`--tls-key`: PEM certificate chain and private key; HTTPS and WSS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** The options checked and completed, as the HTTP guard and TCP ingest use them. */
export interface ResolvedSecurity {
  hosts: HostPolicy;
  origins: OriginPolicy;
  /** The token every request needs, or null (loopback bind without one, or --no-token). */
  token: string | null;
  /** Whether `token` was generated here (the CLI prints it once). */
  tokenGenerated: boolean;
  /** Whether the HTTP bind is reachable from other hosts. */
  httpExposed: boolean;
  /** null: TCP ingest accepts every peer (a loopback bind without --ingest-allow). */
  ingestAllow: CidrList | null;
  tls: { cert: string | Buffer; key: string | Buffer } | null;
  refusals: RefusalCounters;
}

/**
 * Checks the options against the binds and fills in the defaults.
 * @param httpHost the host `--http` binds
 * @param ingestHost the host `--ingest` binds, or null when TCP ingest is off
 * @throws TypeError for contradictory options (token with noToken, a TLS cert without key),
 *   a malformed host, origin, token or CIDR, and a TCP ingest bound off loopback without
 *   `ingestAllow` (Tracy's protocol has no credentials)
 */
export function resolveSecurity(httpHost: string, ingestHost: string | null, o: SecurityOptions = {}): ResolvedSecurity {
  if (o.token !== undefined && o.noToken) throw new TypeError('--token and --no-token are contradictory; give one');
  if (o.tls !== undefined && (!o.tls.cert || !o.tls.key)) throw new TypeError('TLS needs both a certificate (--tls-cert) and its key (--tls-key)');
  const token = o.token !== undefined ? checkToken(o.token, '--token') : null;
  const httpExposed = !isLoopbackHost(httpHost);
  const generate = token === null && httpExposed && !o.noToken;
  let ingestAllow: CidrList | null = null;
  if (o.ingestAllow !== undefined && o.ingestAllow.length > 0) ingestAllow = new CidrList(o.ingestAllow);
  else if (ingestHost !== null && !isLoopbackHost(ingestHost)) {
    throw new TypeError(
      `TCP ingest on ${ingestHost} is reachable from other hosts and Tracy's protocol has no credentials: ` +
        'say who may connect with --ingest-allow CIDR (e.g. --ingest-allow 192.168.1.0/24), or bind it to 127.0.0.1',
    );
  }
  return {
    hosts: new HostPolicy(httpHost, o.allowHosts),
    origins: new OriginPolicy(o.allowOrigins),
    token: generate ? generateToken() : token,
    tokenGenerated: generate,
    httpExposed,
    ingestAllow,
    tls: o.tls ?? null,
    refusals: new RefusalCounters(),
  };
}

/**
 * The TCP ingest's accept check for --ingest-allow: a peer outside the ranges is counted
 * (`ingest-cidr`) and refused. undefined when every peer is accepted.
 */
export function ingestAcceptor(security: ResolvedSecurity): ((socket: Socket) => boolean) | undefined {
  const allow = security.ingestAllow;
  if (allow === null) return undefined;
  return (socket) => {
    if (allow.has(socket.remoteAddress)) return true;
    security.refusals.refuse('ingest-cidr', `TCP ingest connection from ${socket.remoteAddress ?? '?'} (not in --ingest-allow ${allow.ranges.join(' ')})`);
    return false;
  };
}
