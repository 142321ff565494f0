/**
 * What the server sends the viewer: the REST responses under /api/sessions and the updates of
 * the live WebSocket (/api/live), as the viewer sees them after decoding msgpack. Numeric columns
 * travel as the bytes of typed arrays (little-endian); `decodeColumns` in the viewer turns them
 * back into the typed arrays named here. Times are nanoseconds since the session's start.
 */

export interface SessionSummary {
  id: string;
  app: string | null;
  pid: number | null;
  host: string | null;
  source: string;
  remote: string;
  state: string;
  endReason: string | null;
  error: { code: string; message: string; offset?: number; queueType?: number } | null;
  truncation: unknown;
  startedAt: number;
  endedAt: number | null;
  bytes: number;
  zones: number;
  zonesBegun: number;
  threads: number;
  lastNs: number;
  storeBytes: number;
  evictedBytes: number;
  /**
   * A capture in the --data folder not loaded yet (endReason 'stored', source 'capture'):
   * its counts are 0 and `bytes` is the file's size until it is opened.
   */
  stored?: boolean;
}

export interface SourceLocationInfo {
  srcloc: number;
  name: string;
  function: string;
  file: string;
  line: number;
  /** 0xRRGGBB, 0 = none (the viewer picks a stable colour from the name) */
  color: number;
}

/** One depth of a thread in a viewport: single zones and merged runs (srcloc -1, count > 1). */
export interface DepthItems {
  depth: number;
  startNs: Float64Array;
  endNs: Float64Array;
  srcloc: Int32Array;
  count: Int32Array;
  /** row of a single zone in its track (GET /zone?thread&depth&row), -1 for merged items */
  row: Int32Array;
}

export interface ThreadItems {
  thread: number;
  name: string | null;
  depths: DepthItems[];
  /** zones still open (they run until the session's latest time) */
  open: { startNs: number; srcloc: number; depth: number }[];
  /** time before which this thread's zones were evicted (0: none) */
  evictedBeforeNs: number;
}

export interface FrameSetItems {
  name: string;
  continuous: boolean;
  count: number;
  startNs: Float64Array;
  endNs: Float64Array;
  evictedBeforeNs: number;
  /** the frame number of startNs[0] (frames numbered from 1 since the session began, evicted ones included) */
  firstIndex: number;
}

/** PlotFormat: 0 number, 1 memory (bytes), 2 percentage, 3 watt. */
export interface PlotItems {
  name: string;
  format: number;
  step: boolean;
  fill: boolean;
  /** 0xRRGGBB, 0 = default */
  color: number;
  count: number;
  min: number;
  max: number;
  timeNs: Float64Array;
  value: Float64Array;
  decimated: boolean;
  evictedBeforeNs: number;
  /** a memory-usage series (from alloc/free events) rather than a plot */
  memory?: boolean;
}

export interface MessageItem {
  timeNs: number;
  thread: number;
  /** 0xRRGGBB or -1 */
  color: number;
  metadata: number;
  text: string;
  /** callstack id (GET /api/sessions/:id/callstacks/:cs), 0 = none */
  callstack: number;
}

/** server -> viewer on /api/live */
export interface LiveUpdate {
  type: 'update';
  session: string;
  version: number;
  lastNs: number;
  t0: number;
  t1: number;
  nsPerPx: number;
  summary: SessionSummary;
  threads: ThreadItems[];
  frames: FrameSetItems[];
  plots: PlotItems[];
  messages: MessageItem[];
  /** messages in [t0, t1] beyond those sent */
  messagesCut: number;
  /** 1 when threads, depths, frames, plots or messages were left out to fit the update byte cap */
  cut?: number;
  /** lock zones of the viewport, per lock and thread that uses it (absent: none, or cut) */
  locks?: LockTrackSet[];
}

export interface LiveSessions {
  type: 'sessions';
  sessions: SessionSummary[];
}

export interface LiveError {
  type: 'error';
  code: string;
  error: string;
}

export type LiveMessage = LiveUpdate | LiveSessions | LiveError;

/** viewer -> server on /api/live */
export type LiveRequest =
  | { type: 'subscribe'; session: string; t0?: number; t1?: number; px?: number; follow?: boolean; span?: number }
  | { type: 'viewport'; t0: number; t1: number; px: number; follow?: boolean; span?: number }
  | { type: 'unsubscribe' };

export interface ZoneDetails {
  thread: number;
  threadName: string | null;
  depth: number;
  row: number;
  srcloc: number;
  name: string;
  srclocName: string;
  function: string;
  file: string;
  line: number;
  startNs: number;
  durNs: number;
  selfNs: number;
  children: number;
  text: string | null;
  /** u64 as a decimal string */
  value: string | null;
  color: number;
  /** callstack id (GET /api/sessions/:id/callstacks/:cs), 0 = none */
  callstack: number;
}

export interface SrclocStats {
  srcloc: number;
  name: string;
  function: string;
  file: string;
  line: number;
  color: number;
  count: number;
  totalNs: number;
  selfNs: number;
  minNs: number;
  meanNs: number;
  medianNs: number;
  p90Ns: number;
  p99Ns: number;
  maxNs: number;
}

/** A flame graph node: the call tree of a range merged by source-location path; node 0 is the root. */
export interface FlameNode {
  id: number;
  parent: number;
  srcloc: number;
  name: string;
  count: number;
  totalNs: number;
  selfNs: number;
  children: number[];
}

export interface ZoneMatch {
  thread: number;
  depth: number;
  row: number;
  srcloc: number;
  startNs: number;
  durNs: number;
}

export interface ZoneSearchResult {
  query: string;
  /** source locations whose displayed name (its function when it has none) contains the query, case-insensitive */
  srclocs: { srcloc: number; name: string; count: number }[];
  total: number;
  /** the first `limit` matches, by start time */
  matches: ZoneMatch[];
  /** duration histogram on a log scale: bucket i covers [edges[i], edges[i+1]) ns */
  histogram: { edgesNs: number[]; counts: number[] };
}

export interface ThreadInfo {
  id: number;
  name: string | null;
  zones: number;
  zonesBegun: number;
  open: number;
  depth: number;
  storedZones: number;
  firstNs: number | null;
  lastNs: number | null;
  evictedBeforeNs: number;
  unmatchedEnds: number;
}

/**
 * One thread's lock zones of one lock in a viewport, at the same level of detail as zones: an
 * acquisition at least one pixel wide on its own, a run of narrower ones folded into one item
 * (count > 1, row -1) with the run's totals. A single item is waiting [startNs, startNs +
 * waitNs), holding the rest up to endNs, of which the last contendedNs with another thread
 * waiting.
 */
export interface LockThreadItems {
  thread: number;
  startNs: Float64Array;
  endNs: Float64Array;
  /** time waiting to obtain (a run: the sum) */
  waitNs: Float64Array;
  /** time holding (a run: the sum) */
  holdNs: Float64Array;
  /** time holding while another thread waited (a run: the sum) */
  contendedNs: Float64Array;
  count: Int32Array;
  /** the acquisition's row in its track, -1 for a run */
  row: Int32Array;
  /** 1: a shared (read) hold; a run: set when its first or last acquisition is */
  flags: Int32Array;
  /** what the thread waits for or holds now: it runs until the session's latest time */
  open: LockOpen | null;
  /** time before which this track's acquisitions were evicted (0: none) */
  evictedBeforeNs: number;
}

export interface LockOpen {
  /** the wait's start (the obtain when it did not wait) */
  startNs: number;
  /** null: still waiting */
  obtainNs: number | null;
  /** when another thread began waiting for it, null: nobody */
  contendedNs: number | null;
  shared: boolean;
}

/** A lock's tracks in a viewport: one per thread that used it. */
export interface LockTrackSet {
  id: number;
  name: string;
  /** a shared (read/write) lock */
  shared: boolean;
  threads: LockThreadItems[];
}

/** A lock's figures over a range: acquisitions that start (begin waiting) in [t0, t1]. */
export interface LockSummary {
  id: number;
  name: string;
  shared: boolean;
  announcedNs: number;
  /** null: not destroyed yet */
  terminatedNs: number | null;
  acquisitions: number;
  /** acquisitions during whose hold another thread waited */
  contended: number;
  sharedAcquisitions: number;
  waitTotalNs: number;
  waitMaxNs: number;
  holdTotalNs: number;
  holdMaxNs: number;
  contendedTotalNs: number;
  /** the longest wait: whose, when it began, obtained and released; null when none waited */
  worstWait: { thread: number; threadName: string | null; startNs: number; obtainNs: number; endNs: number; waitNs: number; row: number } | null;
  threads: { thread: number; name: string | null; acquisitions: number; contended: number; waitTotalNs: number; waitMaxNs: number; holdTotalNs: number; holdMaxNs: number }[];
  /** threads waiting for or holding it now (whatever the range) */
  open: { thread: number; startNs: number; obtainNs: number | null; shared: boolean }[];
  /** latest evictedBeforeNs of its tracks (0: nothing evicted) */
  evictedBeforeNs: number;
  /** how the event stream was read: see docs/server.md "Locks" */
  events: number;
  overlaps: number;
  reattributed: number;
  reentries: number;
  unmatchedReleases: number;
  clamped: number;
  droppedEvents: number;
}

/** One resolved frame; Tracy expands inlined frames, so one return address can give several frames. */
export interface StackFrame {
  function: string;
  file: string;
  line: number;
  image: string;
  /** the return address as '0x...' hex (exact u64) */
  address: string;
  /** true when this frame was inlined into the next one (same address, not its last frame) */
  inlined: boolean;
}

/** GET /api/sessions/:id/callstacks/:cs ; frames innermost first; an unanswered address gives function '0x...' */
export interface CallstackInfo {
  id: number;
  frames: StackFrame[];
}

export type StackFlameKind = 'cpu' | 'inuse' | 'alloc';

/**
 * A node of GET /api/sessions/:id/stack-flame: node 0 is the root ("all"); children are callees
 * (top-down) or callers (invert=1, bottom-up). Nodes merge by function name path.
 */
export interface StackFlameNode {
  id: number;
  parent: number;
  name: string;
  file: string;
  line: number;
  /** samples (cpu) or bytes (inuse/alloc) of everything under this node */
  value: number;
  self: number;
  /** sample or allocation count under this node */
  count: number;
  children: number[];
}

/**
 * GET /api/sessions/:id/stack-flame?kind=cpu|inuse|alloc[&t0&t1][&pool=ptr][&thread=id][&invert=1]
 * cpu: samples taken in [t0, t1]; inuse: allocations alive at t1; alloc: allocations made in [t0, t1].
 */
export interface StackFlameResult {
  kind: StackFlameKind;
  unit: 'samples' | 'bytes';
  t0: number;
  t1: number;
  pool: number | null;
  total: number;
  count: number;
  nodes: StackFlameNode[];
  /** nodes left out past the node limit (their value stays in their parent's) */
  cut: number;
}
