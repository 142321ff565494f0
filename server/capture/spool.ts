import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ZSCAP_VERSION, type CaptureHeader } from '../../protocol/capture/index.js';
import { log } from '../log.js';
import type { Session } from '../session/session.js';
import type { SessionCatalog, SessionRegistry, StoredSession } from '../session/session-registry.js';
import { CaptureFileWriter, readCaptureHead } from './capture-file.js';
import { CaptureRecorder } from './capture-recorder.js';
import { loadCaptureSession } from './capture-session.js';

/** Heads read at once while scanning the folder. */
const SCAN_CONCURRENCY = 8;

interface Entry extends StoredSession {
  /** stored: on disk only; loaded: in the registry (loading, live or ended); forgotten: deleted from the list (the file stays). */
  state: 'stored' | 'loaded' | 'forgotten';
  /** While loaded from the file: resolves when read to the end. */
  loading: Promise<void> | null;
}

/**
 * The `--data DIR` spool: every session's stream is written to `DIR/<id>.zscap` as it arrives,
 * and the captures already in DIR are listed as sessions and loaded on first use.
 *
 * - Writing: each new session gets a byte tap (Session.onBytes) feeding a CaptureRecorder; the
 *   file is created when the welcome has arrived and every later chunk is appended with a
 *   synchronous write, so a SIGKILL loses nothing the server had received.
 * - Listing: at start only the heads of DIR/*.zscap are read (app, pid, host, start, size), so a
 *   folder of many large captures costs a few KiB each, not their size.
 * - Loading: the first request for a stored session (any /api/sessions/:id/..., a viewer
 *   subscribe) loads it through loadCaptureSession. Sessions dropped from memory to stay within
 *   the ended-session limit go back to being stored; DELETE removes one from the list for this
 *   run of the server and never deletes its file.
 * - Ids: a new session never takes the id of a file in DIR (SessionCatalog.has).
 */
export class CaptureSpool implements SessionCatalog {
  readonly dir: string;
  /** Files in DIR that could not be listed, with why. */
  readonly problems: string[] = [];
  /** Sessions whose recording failed (full disk...). */
  writeErrors = 0;
  private readonly entries = new Map<string, Entry>();
  /** Every *.zscap name found in DIR, readable or not. */
  private readonly taken = new Set<string>();
  private readonly recorders = new Map<Session, CaptureRecorder>();
  private unsubscribe: (() => void) | null = null;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Creates DIR if needed and lists the captures in it (heads only).
   * @throws the file system's error when DIR cannot be created or read
   */
  static async open(dir: string): Promise<CaptureSpool> {
    mkdirSync(dir, { recursive: true });
    const spool = new CaptureSpool(dir);
    await spool.scan();
    return spool;
  }

  /** Stored captures found at start, loaded or not. */
  get size(): number {
    return this.entries.size;
  }

  /** Lists and loads through `registry`, and records its new sessions. */
  attach(registry: SessionRegistry): void {
    registry.useCatalog(this);
    this.unsubscribe = registry.subscribe((e) => {
      // sessions loaded from a file (a capture, an imported trace) are not written again
      if (e.type === 'added' && e.session.source !== 'capture' && e.session.source !== 'import') this.record(e.session);
      else if (e.type === 'ended' || e.type === 'deleted') this.finish(e.session);
    });
  }

  /** Stops recording (closing the files); the registry's sessions stay. */
  close(): void {
    this.unsubscribe?.();
    for (const session of [...this.recorders.keys()]) this.finish(session);
  }

  has(id: string): boolean {
    return this.taken.has(id) || this.entries.has(id);
  }

  stored(): StoredSession[] {
    const out: StoredSession[] = [];
    for (const e of this.entries.values()) {
      if (e.state === 'stored') out.push({ id: e.id, app: e.app, pid: e.pid, host: e.host, startedAt: e.startedAt, path: e.path, fileBytes: e.fileBytes });
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  load(id: string, registry: SessionRegistry): Session | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.state !== 'stored') return undefined;
    log('spool: loading %s', entry.path);
    const { session, done } = loadCaptureSession(registry, entry.path, { id, startedAt: entry.startedAt });
    entry.state = 'loaded';
    entry.loading = done.then(({ error }) => {
      if (error) log('spool: %s: %s', entry.path, error.message);
    });
    return session;
  }

  ready(id: string): Promise<void> {
    return this.entries.get(id)?.loading ?? Promise.resolve();
  }

  removed(id: string, forget: boolean): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    const wasStored = entry.state === 'stored';
    entry.loading = null;
    if (forget) {
      entry.state = 'forgotten';
    } else if (entry.state === 'loaded') {
      entry.state = 'stored';
      try {
        entry.fileBytes = statSync(entry.path).size;
      } catch {
        entry.state = 'forgotten'; // the file went away
      }
    }
    return wasStored;
  }

  private async scan(): Promise<void> {
    const names = readdirSync(this.dir).filter((n) => n.endsWith('.zscap'));
    for (const n of names) this.taken.add(n.slice(0, -'.zscap'.length));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++]!;
        const path = join(this.dir, name);
        try {
          const { header, fileBytes } = await readCaptureHead(path);
          const id = name.slice(0, -'.zscap'.length);
          this.entries.set(id, { id, app: header.app, pid: header.pid, host: header.hostInfo, startedAt: header.wallClockStartMs, path, fileBytes, state: 'stored', loading: null });
        } catch (err) {
          // reported by the caller (serve prints them)
          this.problems.push(`${name}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, names.length) }, worker));
  }

  private record(session: Session): void {
    const recorder = new CaptureRecorder(
      (head) => {
        const path = join(this.dir, `${session.id}.zscap`);
        const header: CaptureHeader = {
          formatVersion: ZSCAP_VERSION,
          app: head.decoded.programName,
          pid: Number(head.decoded.pid),
          hostInfo: head.decoded.hostInfo,
          wallClockStartMs: session.startedAt,
          welcome: head.welcome,
          onDemand: head.onDemand,
          source: session.source,
          sessionId: session.id,
          remote: session.remote,
        };
        const writer = CaptureFileWriter.create(path, header);
        this.taken.add(session.id);
        this.entries.set(session.id, { id: session.id, app: header.app, pid: header.pid, host: header.hostInfo, startedAt: session.startedAt, path, fileBytes: writer.bytes, state: 'loaded', loading: null });
        return writer;
      },
      (err) => {
        this.writeErrors++;
        log('spool: session %s is not recorded any more: %s', session.id, err.message);
      },
    );
    this.recorders.set(session, recorder);
    session.onBytes = (chunk) => recorder.write(chunk);
  }

  private finish(session: Session): void {
    const recorder = this.recorders.get(session);
    if (!recorder) return;
    this.recorders.delete(session);
    session.onBytes = null;
    recorder.close();
    const entry = this.entries.get(session.id);
    if (entry && recorder.writer) entry.fileBytes = recorder.writer.bytes;
  }
}
