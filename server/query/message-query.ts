import type { MessageLog, StoredMessage, TextResolver } from '../store/message-log.js';
import { FirstByTime } from './first-by-time.js';
import { runInSlices, runToEnd, type SlicedQuery, type SliceOptions } from './query-slicer.js';

/** Messages returned when no limit is given, and the largest `limit` GET /messages takes (above: 400 ZS_QUERY_LIMIT). */
export const DEFAULT_MESSAGES_LIMIT = 10_000;
export const MAX_MESSAGES_LIMIT = 10_000;
/**
 * Text a messages answer carries at most, in UTF-16 code units (about bytes for ASCII text),
 * counting 64 more per message for its other fields: the list is cut before the message that
 * would pass it, and `truncated` says so.
 */
export const MAX_MESSAGES_TEXT = 8 * 1024 * 1024;
const MESSAGE_OVERHEAD = 64;

export interface MessageQueryOptions {
  t0?: number;
  t1?: number;
  /** only messages whose text contains this, case-insensitive ('' = all) */
  q?: string;
  /** the first `limit` by time (default DEFAULT_MESSAGES_LIMIT; GET /messages takes at most MAX_MESSAGES_LIMIT) */
  limit?: number;
}

export interface MessagesAnswer {
  messages: StoredMessage[];
  /** true when more messages matched than are returned (the limit or the text cap cut the list) */
  truncated: boolean;
}

/** The first messages of a range (time order, equal times in arrival order), filtered by `q`, at once. */
export function queryMessages(log: MessageLog, resolve: TextResolver, options: MessageQueryOptions = {}): MessagesAnswer {
  return runToEnd(new MessageQuery(log, resolve, options));
}

/**
 * As queryMessages, in slices (query-slicer.ts).
 * @throws the abort reason of `slice.signal` when aborted between slices
 */
export function queryMessagesSliced(log: MessageLog, resolve: TextResolver, options: MessageQueryOptions = {}, slice: SliceOptions = {}): Promise<MessagesAnswer> {
  return runInSlices(new MessageQuery(log, resolve, options), slice);
}

/** What the query reads of a message segment (MessageSegment, or a copy of the one being filled). */
interface MessageRows {
  evicted: boolean;
  count: number;
  minTime: number;
  maxTime: number;
  time: Float64Array;
  thread: Uint32Array;
  color: Int32Array;
  metadata: Uint8Array;
  text: (string | null)[];
  textPtr: Float64Array;
  callstack: Uint32Array;
}

/**
 * Walks the segments the log had when the query began (and the rows each had then), so
 * messages added meanwhile are not seen; a segment evicted meanwhile is skipped. The segment
 * still being filled is copied (at most MESSAGE_ROWS rows): a late message is inserted into it
 * in time order, which moves the rows after it.
 */
export class MessageQuery implements SlicedQuery<MessagesAnswer> {
  private readonly segments: MessageRows[];
  private readonly counts: number[];
  private readonly t0: number;
  private readonly t1: number;
  private readonly q: string;
  private readonly first: FirstByTime<StoredMessage>;
  private segAt = 0;
  private row = -1;
  private matched = 0;

  constructor(
    log: MessageLog,
    private readonly resolve: TextResolver,
    options: MessageQueryOptions = {},
  ) {
    this.segments = [...log.segments];
    const last = this.segments.length - 1;
    if (last >= 0) this.segments[last] = copyRows(this.segments[last]!);
    this.counts = this.segments.map((s) => s.count);
    this.t0 = options.t0 ?? -Infinity;
    this.t1 = options.t1 ?? Infinity;
    this.q = (options.q ?? '').toLowerCase();
    const limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_MESSAGES_LIMIT));
    this.first = new FirstByTime(limit, (m) => m.timeNs);
  }

  step(units: number): boolean {
    let left = units;
    const { t0, t1, q } = this;
    while (this.segAt < this.segments.length) {
      const seg = this.segments[this.segAt]!;
      const count = this.counts[this.segAt]!;
      if (seg.evicted || count === 0 || seg.maxTime < t0 || seg.minTime > t1) {
        this.nextSegment();
        continue;
      }
      if (this.row < 0) this.row = lowerBound(seg.time, count, t0);
      for (; this.row < count; this.row++) {
        if (left <= 0) return false;
        left -= q ? 4 : 1;
        const t = seg.time[this.row]!;
        if (t > t1) break;
        if (!q && !this.first.wants(t)) {
          this.matched++;
          continue;
        }
        const text = seg.text[this.row] ?? this.resolve(seg.textPtr[this.row]!) ?? '';
        if (q && !text.toLowerCase().includes(q)) continue;
        this.matched++;
        const i = this.row;
        this.first.add({ timeNs: t, thread: seg.thread[i]!, color: seg.color[i]!, metadata: seg.metadata[i]!, text, callstack: seg.callstack[i]! });
      }
      this.nextSegment();
    }
    return true;
  }

  result(): MessagesAnswer {
    const messages = this.first.sorted();
    let size = 0;
    let keep = 0;
    while (keep < messages.length && size + messages[keep]!.text.length + MESSAGE_OVERHEAD <= MAX_MESSAGES_TEXT) size += messages[keep++]!.text.length + MESSAGE_OVERHEAD;
    messages.length = keep;
    return { messages, truncated: this.matched > keep };
  }

  private nextSegment(): void {
    this.segAt++;
    this.row = -1;
  }
}

function copyRows(seg: MessageRows): MessageRows {
  const n = seg.count;
  return {
    evicted: seg.evicted,
    count: n,
    minTime: seg.minTime,
    maxTime: seg.maxTime,
    time: seg.time.slice(0, n),
    thread: seg.thread.slice(0, n),
    color: seg.color.slice(0, n),
    metadata: seg.metadata.slice(0, n),
    text: seg.text.slice(0, n),
    textPtr: seg.textPtr.slice(0, n),
    callstack: seg.callstack.slice(0, n),
  };
}

/** First row of the `count` sorted times that is >= t. */
function lowerBound(time: Float64Array, count: number, t: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
