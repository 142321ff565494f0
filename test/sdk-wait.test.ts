/**
 * Waiting for a receiver, in process with real sockets on 127.0.0.1: listen()'s
 * waitForReceiver against `zonescope serve --connect`, and connect({ retry }) against a server
 * that comes up only after the app's first failed attempt. Ordered by events (the first
 * onRetry, the promise settling), never by sleeps.
 */
import { createServer, type Server } from 'node:net';
import { refusedPort } from './support/ports.js';
import { describe, expect, it } from 'vitest';
import { ClientError, connect, listen, type RetryEvent } from '../client/node.js';
import { startServer } from '../server/serve.js';
import { waitNewSession } from './support/server-api.js';
import { expectWorkloadArrived, runWorkload } from './support/sdk-workload.js';

const HTTP = { host: '127.0.0.1', port: 0 };

/** A TCP server that greets every connection with bytes that are not a Tracy handshake. */
async function notTracy(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('listen(): waitForReceiver', () => {
  it('resolves when `zonescope serve --connect` dials in, and the events held meanwhile all arrive', async () => {
    const tracy = await listen({ appName: 'waiting-app', port: 0, exitHandlers: false });
    await runWorkload(tracy);
    const waiting = tracy.waitForReceiver({ timeoutMs: 30_000 });
    const server = await startServer({ http: HTTP, ingest: null, connect: [{ host: '127.0.0.1', port: tracy.listenPort }] });
    try {
      await waiting;
      expect(tracy.state).toBe('connected');
      await expect(tracy.waitForReceiver({ timeoutMs: 1 })).resolves.toBeUndefined(); // already connected
      await tracy.close();
      const id = await waitNewSession(server, 0);
      await expectWorkloadArrived(server, id, 'waiting-app');
    } finally {
      await server.close();
    }
  });

  it('rejects with ZS_CLIENT_NO_RECEIVER after timeoutMs, and the session still waits for one', async () => {
    const tracy = await listen({ appName: 'impatient-app', port: 0, exitHandlers: false });
    try {
      const err = await tracy.waitForReceiver({ timeoutMs: 50 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'ZS_CLIENT_NO_RECEIVER', message: 'no receiver connected within 50 ms' });
      expect(tracy.state).toBe('waiting');
    } finally {
      await tracy.close();
    }
  });

  it('rejects waitForReceiver and `connected` with ZS_CLIENT_CLOSED when close() comes first', async () => {
    const tracy = await listen({ appName: 'closing-app', port: 0, exitHandlers: false });
    const waiting = tracy.waitForReceiver().catch((e: unknown) => e);
    const connected = tracy.connected.catch((e: unknown) => e);
    await tracy.close();
    for (const err of [await waiting, await connected]) {
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'ZS_CLIENT_CLOSED', message: 'the client closed before a receiver connected' });
    }
  });
});

describe('connect({ retry })', () => {
  it('keeps dialing a server that is not up yet and streams everything once it is', async () => {
    const port = await refusedPort();
    const events: RetryEvent[] = [];
    let firstFailure!: () => void;
    const failedOnce = new Promise<void>((r) => (firstFailure = r));
    const connecting = connect({
      appName: 'early-app',
      port,
      exitHandlers: false,
      retry: {
        timeoutMs: 60_000,
        initialDelayMs: 20,
        maxDelayMs: 200,
        onRetry: (e) => {
          events.push(e);
          firstFailure();
        },
      },
    });
    await failedOnce;
    const server = await startServer({ http: HTTP, ingest: { host: '127.0.0.1', port } });
    try {
      const tracy = await connecting;
      expect(events[0]).toMatchObject({ attempt: 1, delayMs: 20, error: { name: 'ClientError', code: 'ZS_CLIENT_CONNECT' } });
      expect(events[0]!.error.message).toMatch(/ECONNREFUSED/);
      // the backoff doubles up to maxDelayMs
      for (const [i, e] of events.entries()) expect(e).toMatchObject({ attempt: i + 1, delayMs: Math.min(20 * 2 ** i, 200) });
      await runWorkload(tracy);
      await tracy.close();
      const id = await waitNewSession(server, 0);
      await expectWorkloadArrived(server, id, 'early-app');
    } finally {
      await server.close();
    }
  });

  it('gives up after retry.timeoutMs with ZS_CLIENT_NO_RECEIVER, the last failure as its cause', async () => {
    const port = await refusedPort();
    const attempts: number[] = [];
    const err = await connect({ port, exitHandlers: false, retry: { timeoutMs: 150, initialDelayMs: 10, onRetry: (e) => attempts.push(e.attempt) } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    const e = err as ClientError;
    expect(e.code).toBe('ZS_CLIENT_NO_RECEIVER');
    expect(e.message).toMatch(new RegExp(`^no receiver at 127\\.0\\.0\\.1:${port} within 150 ms \\(${attempts.length + 1} attempts; last: the connection failed before the handshake: .*ECONNREFUSED`));
    expect(e.cause).toMatchObject({ name: 'ClientError', code: 'ZS_CLIENT_CONNECT' });
    expect(attempts.length).toBeGreaterThanOrEqual(1);
  });

  it('does not retry a peer that is not a Tracy receiver', async () => {
    const { server, port } = await notTracy();
    try {
      let retries = 0;
      const err = await connect({ port, exitHandlers: false, retry: { timeoutMs: 60_000, onRetry: () => retries++ } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'ZS_CLIENT_BAD_HANDSHAKE', message: expect.stringMatching(/^not a Tracy receiver: /) });
      expect(retries).toBe(0);
    } finally {
      server.close();
    }
  });

  it('stops retrying when onRetry throws, with that error', async () => {
    const port = await refusedPort();
    const stop = new Error('enough');
    await expect(connect({ port, exitHandlers: false, retry: { onRetry: () => { throw stop; } } })).rejects.toBe(stop);
  });

  it('refuses retry options out of range with a TypeError naming them', async () => {
    await expect(connect({ retry: { timeoutMs: 0 } })).rejects.toThrow(new TypeError(`retry.timeoutMs must be in (0, ${2 ** 31 - 1}], not 0`));
    await expect(connect({ retry: { initialDelayMs: 0 } })).rejects.toThrow(new TypeError('retry.initialDelayMs must be in [1, 60000], not 0'));
    await expect(connect({ retry: { initialDelayMs: 500, maxDelayMs: 100 } })).rejects.toThrow(new TypeError('retry.maxDelayMs must be in [initialDelayMs, 60000], not 100'));
    await expect(listen({ waitAtExit: -1 })).rejects.toThrow(new TypeError(`waitAtExit must be in [0, ${2 ** 31 - 1}] ms or Infinity, not -1`));
  });
});
