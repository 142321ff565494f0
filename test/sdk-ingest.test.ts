/**
 * The SDK dialing Zonescope: the same instrumented workload arrives exactly through the TCP
 * ingest and through the WebSocket ingest (real sockets on 127.0.0.1, ephemeral ports).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect } from '../client/node.js';
import { ClientError } from '../client/transport.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { waitNewSession } from './support/server-api.js';
import { expectWorkloadArrived, runWorkload } from './support/sdk-workload.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: { host: '127.0.0.1', port: 0 } });
});

afterAll(async () => {
  await server.close();
});

describe('connect()', () => {
  it('sends the workload through the TCP ingest, and it arrives exactly', async () => {
    const before = server.registry.list().length;
    const tracy = await connect({ appName: 'checkout-service', port: server.ingestPort!, exitHandlers: false });
    expect(tracy.state).toBe('connected');
    await runWorkload(tracy);
    await tracy.close();
    expect(tracy.stats).toMatchObject({ dropped: 0, droppedNonFinite: 0, zonesEndedAtClose: 0, zonesEndedEarly: 0, unknownZoneIds: 0, bufferedBytes: 0 });
    const id = await waitNewSession(server, before);
    const d = await expectWorkloadArrived(server, id, 'checkout-service');
    expect(d.source).toBe('tcp');
    expect(d.pid).toBe(process.pid);
    expect(d.host).toContain(`Runtime: Node.js ${process.version}`);
  });

  it('sends the workload through the WebSocket ingest, and it arrives exactly', async () => {
    const before = server.registry.list().length;
    const tracy = await connect({ appName: 'checkout-ws', url: `ws://127.0.0.1:${server.httpPort}/ingest`, exitHandlers: false });
    await runWorkload(tracy);
    await tracy.close();
    expect(tracy.stats.dropped).toBe(0);
    const id = await waitNewSession(server, before);
    const d = await expectWorkloadArrived(server, id, 'checkout-ws');
    expect(d.source).toBe('ws');
  });

  it('sends the workload from the browser entry through the global WebSocket, and it arrives', async () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    g.WebSocket = WebSocket; // what a browser has
    try {
      const browser = await import('../client/browser.js');
      await expect(browser.connect({ port: 1 })).rejects.toThrow(TypeError);
      await expect(browser.listen()).rejects.toThrow(new TypeError('listen() needs Node.js (a TCP server); in browsers use connect({ url })'));
      const before = server.registry.list().length;
      const tracy = await browser.connect({ url: `ws://127.0.0.1:${server.httpPort}/ingest`, exitHandlers: false });
      await runWorkload(tracy);
      await tracy.close();
      const id = await waitNewSession(server, before);
      const d = await expectWorkloadArrived(server, id, 'browser', false);
      expect(d).toMatchObject({ source: 'ws', pid: 0 });
      expect(d.host).toContain('SDK: zonescope/client (browser)');
    } finally {
      g.WebSocket = saved;
    }
  });

  it('rejects with ZS_CLIENT_CONNECT when nothing listens', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    const err = (await connect({ port, exitHandlers: false }).catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('ZS_CLIENT_CONNECT');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('rejects contradictory and out-of-range options with a TypeError naming them', async () => {
    await expect(connect({ url: 'ws://127.0.0.1:1/ingest', port: 1 })).rejects.toThrow(new TypeError('connect: url (WebSocket) and host/port (TCP) are contradictory; give one'));
    await expect(connect({ port: 70000 })).rejects.toThrow(new TypeError('port must be an integer from 1 to 65535, not 70000'));
    await expect(connect({ bufferBytes: 1000 })).rejects.toThrow(/^bufferBytes must be an integer from 1 MiB to 2 GiB, not 1000$/);
  });
});
