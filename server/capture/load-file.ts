import { stat } from 'node:fs/promises';
import { importChromeTraceFile } from '../export/chrome-import.js';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { loadCaptureBytes, loadCaptureSession, type LoadedCapture } from './capture-session.js';
import { fileKind } from './view-command.js';

/** A file loaded into a session of `registry`, or why not (a usage-level problem: status 2). */
export async function loadFileSession(registry: SessionRegistry, path: string, warn: (line: string) => void, doing: string): Promise<Session | string> {
  try {
    if (!(await stat(path)).isFile()) return `${path} is not a file`;
  } catch (e) {
    return `cannot read ${path}: ${(e as Error).message}`;
  }
  const kind = await fileKind(path).catch(() => null);
  if (kind === null) return `${path} is neither a capture (.zscap), a Chrome trace (.json) nor a recorded Tracy stream (*.client.bin)`;
  let loaded: LoadedCapture;
  if (kind === 'chrome') {
    try {
      const imported = await importChromeTraceFile(path);
      for (const w of imported.stats.warnings) warn(`${path}: ${w}`);
      loaded = loadCaptureBytes(registry, imported.capture, path, { source: 'import' });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      return `${path}: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`;
    }
  } else {
    loaded = loadCaptureSession(registry, path, { format: kind });
  }
  const { error } = await loaded.done;
  const s = loaded.session;
  if (error && s.store.zonesEnded === 0) return `${path}: ${error.message}`;
  if (error) warn(`${path}: ${error.message}; ${doing} what was read before`);
  else if (s.error) warn(`${path}: ${s.error.code}: ${s.error.message}; ${doing} what was read before`);
  else if (s.truncation) warn(`${path}: the capture is cut (${typeof s.truncation === 'string' ? s.truncation : JSON.stringify(s.truncation)}); ${doing} what was read before`);
  if (s.store.budget.evictedBytes > 0) warn(`${path}: the oldest zones did not fit the memory budget (--memory) and are left out`);
  return s;
}
