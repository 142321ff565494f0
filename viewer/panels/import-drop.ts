import type { App } from '../app.js';
import { formatBytes } from '../format.js';

/** What POST /api/sessions/import answers (201), or its error body. */
interface ImportReply {
  id?: string;
  name?: string;
  warnings?: string[];
  session?: { zones?: number };
  error?: string;
  code?: string;
}

const STYLE = `
#import-overlay { position: fixed; inset: 0; z-index: 50; display: flex; align-items: center; justify-content: center;
  background: rgba(20, 24, 32, 0.55); color: #fff; font: 600 18px system-ui, sans-serif; pointer-events: none; }
#import-overlay[hidden], #import-status[hidden] { display: none; }
#import-overlay > div { border: 2px dashed #fff; border-radius: 12px; padding: 32px 48px; background: rgba(0, 0, 0, 0.35); }
#import-status { position: fixed; right: 16px; bottom: 16px; z-index: 51; max-width: 480px; padding: 10px 34px 10px 14px;
  border-radius: 8px; background: #1f2937; color: #f9fafb; font: 13px system-ui, sans-serif; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.3);
  white-space: pre-wrap; overflow-wrap: anywhere; }
#import-status.error { background: #7f1d1d; }
#import-status button { position: absolute; top: 6px; right: 8px; border: 0; background: none; color: inherit; font-size: 16px; cursor: pointer; }
`;

/**
 * Drag and drop a file onto the page to open it: a .zscap capture, a recorded Tracy stream or a
 * Chrome trace (.json, .json.gz) is uploaded to POST /api/sessions/import, which makes an ended
 * session of it; once the session list has it, it opens. A toast shows the upload's progress,
 * then what was loaded (and the importer's warnings), or the server's error (malformed JSON
 * with its line and column). One file per drop (the first, if several).
 * @returns `upload(file)`, the same path for a file chosen another way
 */
export function mountImportDrop(app: App, root: HTMLElement = document.body): { upload: (file: File) => Promise<string | null> } {
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);
  const overlay = document.createElement('div');
  overlay.id = 'import-overlay';
  overlay.hidden = true;
  overlay.innerHTML = '<div>Drop a .zscap capture or a Chrome trace (.json) to open it</div>';
  const status = document.createElement('div');
  status.id = 'import-status';
  status.setAttribute('role', 'status');
  status.hidden = true;
  const text = document.createElement('span');
  const close = document.createElement('button');
  close.textContent = '×';
  close.setAttribute('aria-label', 'Dismiss');
  close.addEventListener('click', () => (status.hidden = true));
  status.append(text, close);
  root.append(overlay, status);

  let hideTimer: ReturnType<typeof setTimeout> | null = null;
  const show = (message: string, kind: 'info' | 'error' = 'info', autoHideMs = 0) => {
    if (hideTimer !== null) clearTimeout(hideTimer);
    hideTimer = null;
    text.textContent = message;
    status.className = kind === 'error' ? 'error' : '';
    status.hidden = false;
    if (autoHideMs > 0) hideTimer = setTimeout(() => (status.hidden = true), autoHideMs);
  };

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  root.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  root.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  root.addEventListener('dragleave', (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  root.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const file = e.dataTransfer?.files[0];
    if (file) void upload(file);
  });

  /** Uploads `file`, opens the new session; resolves to its id, or null after showing the error. */
  const upload = async (file: File): Promise<string | null> => {
    show(`Uploading ${file.name} (${formatBytes(file.size)})...`);
    let reply: { status: number; body: ImportReply };
    try {
      reply = await post(file, (sent) => {
        const pct = file.size > 0 ? Math.floor((sent / file.size) * 100) : 100;
        show(sent < file.size ? `Uploading ${file.name}: ${formatBytes(sent)} of ${formatBytes(file.size)} (${pct}%)` : `Loading ${file.name}...`);
      });
    } catch (err) {
      show(`Could not upload ${file.name}: ${(err as Error).message}`, 'error');
      return null;
    }
    const b = reply.body;
    if (reply.status !== 201 || b.id === undefined) {
      const error = b.error ?? `HTTP ${reply.status}`;
      // the server's messages start with the file's name when they mention it
      show(`Could not open ${file.name}: ${error.startsWith(`${file.name}: `) ? error.slice(file.name.length + 2) : error}`, 'error');
      return null;
    }
    const id = b.id;
    await sessionListed(app, id);
    app.openSession(id);
    const warnings = b.warnings ?? [];
    const zones = b.session?.zones;
    const summary = `Opened ${file.name}${zones !== undefined ? `: ${zones.toLocaleString('en-US')} zones` : ''}`;
    if (warnings.length > 0) show(`${summary}\n${warnings.slice(0, 5).join('\n')}${warnings.length > 5 ? `\n(${warnings.length - 5} more)` : ''}`, 'info');
    else show(summary, 'info', 4000);
    return id;
  };
  return { upload };
}

/** POST the file; XMLHttpRequest rather than fetch, for upload progress. */
function post(file: File, onProgress: (sentBytes: number) => void): Promise<{ status: number; body: ImportReply }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/sessions/import?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.upload.onload = () => onProgress(file.size);
    xhr.onload = () => {
      let body: ImportReply;
      try {
        body = JSON.parse(xhr.responseText) as ImportReply;
      } catch {
        body = { error: `HTTP ${xhr.status}: ${xhr.responseText.slice(0, 200)}` };
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error('the connection to the server failed'));
    xhr.send(file);
  });
}

/** Resolves once the live session list has `id` (it arrives over the WebSocket), or after 5 s. */
function sessionListed(app: App, id: string): Promise<void> {
  if (app.sessions.some((s) => s.id === id)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      off();
      clearTimeout(timer);
      resolve();
    };
    const off = app.on('sessions', () => {
      if (app.sessions.some((s) => s.id === id)) done();
    });
    const timer = setTimeout(done, 5000);
  });
}
