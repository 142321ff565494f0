import { decode, encode } from '@msgpack/msgpack';
import type {
  CallstackInfo,
  FlameNode,
  LiveMessage,
  LiveRequest,
  LockSummary,
  MessageItem,
  SessionSummary,
  SourceLocationInfo,
  SrclocStats,
  StackFlameKind,
  StackFlameResult,
  ThreadInfo,
  ZoneDetails,
  ZoneSearchResult,
} from '../protocol/view/types.js';

/**
 * Typed-array columns by key, as the server's msgpack sends them (bytes of little-endian typed
 * arrays). Every other key stays as decoded.
 */
const F64_KEYS = new Set(['startNs', 'endNs', 'timeNs', 'value', 'waitNs', 'holdNs', 'contendedNs']);
const I32_KEYS = new Set(['srcloc', 'count', 'row', 'flags']);

/** Copies `u8` into a fresh, aligned typed array of `Ctor` (a msgpack bin may sit at any offset). */
function column<T extends Float64Array | Int32Array>(u8: Uint8Array, Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  const n = Math.floor(u8.byteLength / Ctor.BYTES_PER_ELEMENT);
  if (u8.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) {
    return new (Ctor as unknown as { new (b: ArrayBufferLike, o: number, n: number): T })(u8.buffer, u8.byteOffset, n);
  }
  const copy = new Uint8Array(n * Ctor.BYTES_PER_ELEMENT);
  copy.set(u8.subarray(0, copy.byteLength));
  return new Ctor(copy.buffer);
}

/** Turns the bins of known column keys into Float64Array / Int32Array, recursively, in place. */
export function decodeColumns<T>(value: T): T {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeColumns(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (v instanceof Uint8Array) {
        if (F64_KEYS.has(key)) obj[key] = column(v, Float64Array);
        else if (I32_KEYS.has(key)) obj[key] = column(v, Int32Array);
      } else if (v !== null && typeof v === 'object') {
        obj[key] = decodeColumns(v);
      }
    }
  }
  return value;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RangeQuery {
  t0?: number;
  t1?: number;
  threads?: number[];
}

function qs(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') parts.push(`${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function rangeParams(r: RangeQuery = {}): Record<string, string | number | undefined> {
  return { t0: r.t0, t1: r.t1, threads: r.threads?.join(',') };
}

/** What a stack flame graph (GET /stack-flame) and its pprof download (GET /pprof) are asked for. */
export interface StackFlameQuery {
  kind: StackFlameKind;
  t0?: number;
  t1?: number;
  /** memory kinds: the pool, as GET /memory takes it (its name or its plot's name) */
  pool?: string;
  thread?: number;
  /** bottom-up: children are callers */
  invert?: boolean;
}

function stackFlameParams(q: StackFlameQuery): Record<string, string | number | undefined> {
  return { kind: q.kind, t0: q.t0, t1: q.t1, pool: q.kind === 'cpu' ? undefined : q.pool, thread: q.thread };
}

/** Callstacks kept per Api (a session's callstacks never change, so answers are cached). */
const CALLSTACK_CACHE_MAX = 2000;

/** The REST API under /api/sessions, in msgpack (typed-array columns decoded). */
export class Api {
  private readonly callstacks = new Map<string, Promise<CallstackInfo>>();

  constructor(private readonly base = '') {}

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}/api/sessions${path}`, { headers: { accept: 'application/msgpack' } });
    const buf = new Uint8Array(await res.arrayBuffer());
    const body = (res.headers.get('content-type') ?? '').includes('msgpack') ? decode(buf) : JSON.parse(new TextDecoder().decode(buf));
    if (!res.ok) {
      const err = body as { error?: string; code?: string };
      throw new ApiError(res.status, err.code ?? 'ZS_HTTP', err.error ?? `HTTP ${res.status}`);
    }
    return decodeColumns(body as T);
  }

  sessions(): Promise<SessionSummary[]> {
    // '' not '/': the server's route is /api/sessions, and /api/sessions/ is a 404
    return this.get('');
  }
  session(id: string): Promise<SessionSummary & Record<string, unknown>> {
    return this.get(`/${id}`);
  }
  threads(id: string): Promise<ThreadInfo[]> {
    return this.get(`/${id}/threads`);
  }
  srclocs(id: string): Promise<SourceLocationInfo[]> {
    return this.get(`/${id}/srclocs`);
  }
  zone(id: string, thread: number, depth: number, row: number): Promise<ZoneDetails> {
    return this.get(`/${id}/zone${qs({ thread, depth, row })}`);
  }
  stats(id: string, r?: RangeQuery): Promise<SrclocStats[]> {
    return this.get(`/${id}/stats${qs(rangeParams(r))}`);
  }
  flame(id: string, r?: RangeQuery): Promise<FlameNode[]> {
    return this.get(`/${id}/flame${qs(rangeParams(r))}`);
  }
  /** `frame`: only zones whose callstack has a frame of that function (q may then be ''). */
  search(id: string, q: string, r?: RangeQuery, limit = 1000, frame?: string): Promise<ZoneSearchResult> {
    return this.get(`/${id}/search${qs({ q: q === '' ? undefined : q, frame, limit, ...rangeParams(r) })}`);
  }
  locks(id: string, r?: RangeQuery): Promise<{ t0: number; t1: number; locks: LockSummary[]; unknownLockEvents: number }> {
    return this.get(`/${id}/locks${qs(rangeParams(r))}`);
  }
  /** `truncated`: more messages matched than were returned (the limit, or the text cap). */
  messages(id: string, r?: RangeQuery & { q?: string; limit?: number }): Promise<{ total: number; evictedBeforeNs: number; messages: MessageItem[]; truncated?: boolean }> {
    return this.get(`/${id}/messages${qs({ q: r?.q, limit: r?.limit, ...rangeParams(r) })}`);
  }
  /**
   * The memory window (GET /memory, /memory/leaks): `at` t, `range` made in [t0, t1] and alive at
   * t1, `made` in [t0, t1] freed or not, or `leaks`; `frame` keeps the allocations whose alloc stack contains that function.
   */
  memory<T>(id: string, q: { pool: string; mode: 'at' | 'range' | 'made' | 'leaks'; t?: number; t0?: number; t1?: number; limit?: number; cursor?: string | null; frame?: string }): Promise<T> {
    const params = { pool: q.pool, limit: q.limit, cursor: q.cursor ?? undefined, frame: q.frame };
    if (q.mode === 'leaks') return this.get(`/${id}/memory/leaks${qs(params)}`);
    if (q.mode === 'range') return this.get(`/${id}/memory${qs({ ...params, t0: q.t0, t1: q.t1 })}`);
    if (q.mode === 'made') return this.get(`/${id}/memory${qs({ ...params, t0: q.t0, t1: q.t1, made: 1 })}`);
    return this.get(`/${id}/memory${qs({ ...params, t: q.t })}`);
  }
  /** A callstack's frames, innermost first (GET /callstacks/:cs); cached, failures are not. */
  callstack(id: string, cs: number): Promise<CallstackInfo> {
    const key = `${id}/${cs}`;
    let p = this.callstacks.get(key);
    if (!p) {
      if (this.callstacks.size >= CALLSTACK_CACHE_MAX) this.callstacks.clear();
      p = this.get<CallstackInfo>(`/${id}/callstacks/${cs}`);
      this.callstacks.set(key, p);
      p.catch(() => this.callstacks.get(key) === p && this.callstacks.delete(key));
    }
    return p;
  }
  /** A flame graph of callstacks (GET /stack-flame): CPU samples, memory in use or allocated. */
  stackFlame(id: string, q: StackFlameQuery): Promise<StackFlameResult> {
    return this.get(`/${id}/stack-flame${qs({ ...stackFlameParams(q), invert: q.invert ? 1 : undefined })}`);
  }
  /** The address of the same profile as a gzipped pprof profile.proto (GET /pprof), for a download link. */
  pprofUrl(id: string, q: StackFlameQuery): string {
    return `${this.base}/api/sessions/${id}/pprof${qs(stackFlameParams(q))}`;
  }
}

/**
 * The live WebSocket (/api/live): reconnects with backoff; the last subscribe/viewport request
 * is re-sent after a reconnect so the view carries on.
 */
export class LiveSocket {
  private ws: WebSocket | null = null;
  private last: LiveRequest | null = null;
  private closed = false;
  private retryMs = 250;
  /** updates received (for tests and the status line) */
  received = 0;

  constructor(
    private readonly url: string,
    private readonly onMessage: (msg: LiveMessage) => void,
    private readonly onState: (connected: boolean) => void = () => {},
  ) {
    this.open();
  }

  send(req: LiveRequest): void {
    if (req.type !== 'unsubscribe') this.last = req.type === 'subscribe' ? req : this.mergeViewport(req);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encode(req));
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  /** A viewport request after a subscribe keeps the subscription's session for reconnects. */
  private mergeViewport(req: LiveRequest): LiveRequest {
    if (this.last?.type === 'subscribe' && req.type === 'viewport') return { ...this.last, ...req, type: 'subscribe' };
    return req;
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 250;
      this.onState(true);
      if (this.last) ws.send(encode(this.last));
    };
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      this.received++;
      this.onMessage(decodeColumns(decode(new Uint8Array(ev.data)) as LiveMessage));
    };
    ws.onclose = () => {
      this.onState(false);
      if (this.closed) return;
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }
}
