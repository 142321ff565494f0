/**
 * The setup the viewer's end-to-end tests share: a server that dialed a recorded Tracy client
 * (the recording played through --connect), the session ended, and a Chromium page.
 */
import type { Browser, Page } from 'playwright-core';
import { startServer, type ServerHandle } from '../../server/serve.js';
import { launchChromium, newPage } from './browser.js';
import { waitFor, waitSessionEnded } from './server-api.js';
import { listenRecordedClient, type RecordedClient } from './tracy-replay.js';

export interface RecordedViewer {
  server: ServerHandle;
  app: RecordedClient;
  browser: Browser;
  page: Page;
  /** page errors and console errors seen so far */
  errors: string[];
  /** the recorded session's id */
  id: string;
  /** the ended session's last event, ns */
  lastNs: number;
  close(): Promise<void>;
}

export async function startRecordedViewer(recording: Uint8Array, view: { width?: number; height?: number; dpr?: number } = {}): Promise<RecordedViewer> {
  const app = await listenRecordedClient(recording);
  const server = await startServer({ http: { host: '127.0.0.1', port: 0 }, ingest: null, connect: [{ host: '127.0.0.1', port: app.port }] });
  await app.done;
  const id = await waitFor('the session', () => server.registry.list()[0]?.id);
  const { lastNs } = await waitSessionEnded(server, id);
  const browser = await launchChromium();
  const { page, errors } = await newPage(browser, view);
  return {
    server,
    app,
    browser,
    page,
    errors,
    id,
    lastNs,
    close: async () => {
      await browser.close();
      await server.close();
      await app.close();
    },
  };
}
