/**
 * Writes Chrome Trace Event JSON (the object form: `{"traceEvents":[...],"otherData":{...}}`)
 * as a stream of string chunks, in the shape every importer we know accepts, Tracy's
 * import-chrome being the strictest (../shared/fixtures/tracy/README.md, "What Tracy's
 * import-chrome accepts"):
 * - every event has name, cat, ph, ts, pid and tid (E events too: some importers reject an
 *   event without a name; Tracy aborts on a missing tid);
 * - ts in microseconds as `(ns + 0.5) / 1000`: Tracy truncates `ts * 1000`, and the half
 *   nanosecond makes that truncation land on the exact ns (checked up to 10^13 ns);
 * - tids are never negative (Tracy's importer crashes on one);
 * - strings through JSON.stringify, so quotes, control characters, unicode and lone
 *   surrogates give valid JSON.
 * The caller emits zones as B/E pairs in nesting order, parents before children.
 */

export type ChunkSink = (chunk: string) => void;

/** A chunk is handed to the sink once it holds about this many UTF-16 units. */
const CHUNK_UNITS = 1 << 16;

/** Microseconds for Chrome JSON from integer-ish nanoseconds (see above). */
export function tsMicros(ns: number): string {
  return String((Math.round(ns) + 0.5) / 1000);
}

/** Instant-event names may not contain "frame" unless they are frames: Tracy turns those into frame marks. */
export function instantName(text: string): string {
  // U+200B (zero width space) after the "f" keeps the text readable and the word unmatched.
  return text.replace(/f(?=rame)/gi, (f) => `${f}\u200b`);
}

export class ChromeTraceWriter {
  private buf = '';
  private first = true;
  /** Events written. */
  events = 0;

  constructor(private readonly sink: ChunkSink) {
    this.buf = '{"traceEvents":[';
  }

  /** B: a zone begins. `args` become Tracy zone-text lines; `loc` "file:line" its source location. */
  begin(name: string, cat: string, pid: number, tid: number, ns: number, args: Record<string, unknown> | null, loc: string | null): void {
    let e = `{"name":${JSON.stringify(name)},"cat":${JSON.stringify(cat)},"ph":"B","ts":${tsMicros(ns)},"pid":${pid},"tid":${tid}`;
    if (loc !== null) e += `,"loc":${JSON.stringify(loc)}`;
    if (args !== null) e += `,"args":${JSON.stringify(args)}`;
    this.push(`${e}}`);
  }

  /** E: the innermost open zone of the thread ends (named like its begin, for strict importers). */
  end(name: string, cat: string, pid: number, tid: number, ns: number): void {
    this.push(`{"name":${JSON.stringify(name)},"cat":${JSON.stringify(cat)},"ph":"E","ts":${tsMicros(ns)},"pid":${pid},"tid":${tid}}`);
  }

  /** i: an instant on a thread (`s: "t"`); the name is made safe with instantName unless it is a frame. */
  instant(name: string, cat: string, pid: number, tid: number, ns: number, args: Record<string, unknown> | null, isFrame = false): void {
    const n = isFrame ? name : instantName(name);
    let e = `{"name":${JSON.stringify(n)},"cat":${JSON.stringify(cat)},"ph":"i","s":"t","ts":${tsMicros(ns)},"pid":${pid},"tid":${tid}`;
    if (args !== null) e += `,"args":${JSON.stringify(args)}`;
    this.push(`${e}}`);
  }

  /** C: one counter sample; the plot's name is both the event name and its one series key. */
  counter(name: string, pid: number, tid: number, ns: number, value: number): void {
    this.push(`{"name":${JSON.stringify(name)},"cat":"plot","ph":"C","ts":${tsMicros(ns)},"pid":${pid},"tid":${tid},"args":{${JSON.stringify(name)}:${JSON.stringify(value)}}}`);
  }

  /** M: thread_name, process_name, process_labels... */
  metadata(name: string, pid: number, tid: number, args: Record<string, unknown>): void {
    this.push(`{"name":${JSON.stringify(name)},"cat":"__metadata","ph":"M","ts":0,"pid":${pid},"tid":${tid},"args":${JSON.stringify(args)}}`);
  }

  /** Closes the array, adds `otherData` (ignored by importers, kept for people) and flushes. */
  finish(otherData: Record<string, unknown>): void {
    this.buf += `\n],"displayTimeUnit":"ns","otherData":${JSON.stringify(otherData)}}\n`;
    this.flush();
  }

  private push(event: string): void {
    this.buf += this.first ? `\n${event}` : `,\n${event}`;
    this.first = false;
    this.events++;
    if (this.buf.length >= CHUNK_UNITS) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    this.sink(this.buf);
    this.buf = '';
  }
}
