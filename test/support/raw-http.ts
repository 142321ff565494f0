/**
 * HTTP requests and WebSocket handshakes with every header under the test's control (fetch will
 * not send a foreign Host, and sets Origin itself in browsers only): what a hostile page, a
 * rebinding name or a script on the network sends. Over TLS, self-signed certificates are
 * accepted (the tests generate one).
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** the body as JSON, or undefined when it is not JSON */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RawRequest {
  port: number;
  method?: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  /** https with a self-signed certificate accepted */
  tls?: boolean;
}

/** One request on its own connection (no keep-alive pool: each test sees its own socket). */
export function rawRequest(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = (r.tls ? httpsRequest : httpRequest)(
      { host: '127.0.0.1', port: r.port, method: r.method ?? 'GET', path: r.path, headers: r.headers ?? {}, agent: false, ...(r.tls ? { rejectUnauthorized: false } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** How a WebSocket handshake ended: opened (and closed again by us), or refused with an HTTP answer. */
export type Handshake = { opened: true; firstMessage: Buffer | null } | { opened: false; status: number; json: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Tries a WebSocket handshake to `ws(s)://127.0.0.1:PORT{path}` with `headers` (Host and Origin
 * included). When it opens, waits for the first message if `waitMessage`, then closes.
 */
export function tryWebSocket(port: number, path: string, headers: Record<string, string> = {}, o: { tls?: boolean; waitMessage?: boolean } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${o.tls ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`, { headers, ...(o.tls ? { rejectUnauthorized: false } : {}) });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ opened: false, status: res.statusCode ?? 0, json });
      });
    });
    ws.on('open', () => {
      if (!o.waitMessage) {
        ws.close();
        resolve({ opened: true, firstMessage: null });
      }
    });
    ws.on('message', (data: Buffer) => {
      ws.close();
      resolve({ opened: true, firstMessage: data });
    });
    ws.on('error', (e) => reject(e));
  });
}
