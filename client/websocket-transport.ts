import type { ClientTransport } from './transport.js';

/**
 * The part of the WebSocket API the SDK uses: browsers' global WebSocket and the `ws` package
 * (Node.js) both have it. Each binary message is the next chunk of the byte stream, both ways.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
}

const OPEN = 1;
const CLOSING = 2;

/**
 * A WebSocket as a ClientTransport. `keepAlive` is the runtime's ref/unref (Node.js), or absent.
 * Messages that are not binary are ignored. There is no 'drain' event: the session's flush
 * timer looks at bufferedAmount.
 */
export function webSocketTransport(ws: WebSocketLike, url: string, keepAlive?: (on: boolean) => void): ClientTransport {
  let error: Error | null = null;
  const transport: ClientTransport = {
    write(bytes) {
      if (ws.readyState === OPEN) ws.send(bytes);
    },
    get bufferedBytes() {
      return ws.bufferedAmount;
    },
    close() {
      if (ws.readyState < CLOSING) ws.close(1000, 'done');
    },
    keepAlive(on) {
      keepAlive?.(on);
    },
    onData: null,
    onDrain: null,
    onClose: null,
  };
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) transport.onData?.(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) transport.onData?.(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };
  ws.onerror = (event) => {
    const message = (event as { message?: unknown } | null)?.message;
    error ??= new Error(`WebSocket ${url}: ${typeof message === 'string' ? message : 'connection error'}`);
  };
  ws.onclose = (event) => {
    const done = transport.onClose;
    transport.onClose = null;
    const clean = event.code === 1000 || event.code === 1005;
    done?.(error ?? (clean ? null : new Error(`WebSocket ${url} closed with code ${event.code}${event.reason ? ` (${event.reason})` : ''}`)));
  };
  return transport;
}
