import type { BufferedOutput } from './buffered-output.js';
import type { NameLookup } from './name-lookup.js';
import type { MessageSink, PlotSink, ZoneSink } from './stream-summary.js';

/**
 * CSV writers in the column layout of Tracy's csvexport, fed while the stream is decoded:
 *
 * - zones (`csvexport -u`): `name,src_file,src_line,ns_since_start,exec_time_ns,thread,value`,
 *   one row per zone when it ends; `thread` is the app's thread id (csvexport prints its own
 *   thread index), `value` the zone's text (ZoneText lines, then ZoneValue as "N [0xHEX]",
 *   joined with "\n" like Tracy). Zones that never end have no row (csvexport neither).
 * - messages (`csvexport -m`): `MessageName,total_ns`.
 * - plots: `name,ns_since_start,value` (the plot rows of `csvexport -u -p`, without its
 *   unused columns and without Tracy's internal memory/CPU plots).
 *
 * Unlike csvexport, fields are quoted per RFC 4180 when they hold a comma, a quote or a line
 * break, so every row parses; rows come in stream order (csvexport groups zones by source
 * location and sorts messages by time), and a zone without text has an empty value
 * (csvexport repeats the previous zone's text of the same location).
 *
 * Names arrive after the events that use them (the receiver queries them), so a row whose
 * name is not known yet waits in a small pending list, retried after every frame
 * (`onFrame`); `finish` writes what is left with placeholder names.
 */

/** Quotes a CSV field when needed (RFC 4180). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvWriter {
  /** Writes the rows whose names became known. Call after every decoded frame. */
  onFrame(): void;
  /** Writes every row still pending (with placeholders for names that never came) and flushes. */
  finish(): void;
}

export class ZoneCsvWriter implements ZoneSink, CsvWriter {
  static readonly HEADER = 'name,src_file,src_line,ns_since_start,exec_time_ns,thread,value\n';

  /** `name,file,line,` per source-location index, once its names are known. */
  private readonly prefixes: (string | undefined)[] = [];
  private pendingSrcloc: number[] = [];
  private pendingStart: number[] = [];
  private pendingEnd: number[] = [];
  private pendingThread: number[] = [];
  private pendingText: (string | null)[] = [];

  constructor(
    private readonly out: BufferedOutput,
    private readonly names: NameLookup,
  ) {
    out.write(ZoneCsvWriter.HEADER);
  }

  zone(thread: number, srcloc: number, startNs: number, endNs: number, text: string | null): void {
    const prefix = this.prefixes[srcloc] ?? this.prefix(srcloc, false);
    if (prefix === undefined) {
      this.pendingSrcloc.push(srcloc);
      this.pendingStart.push(startNs);
      this.pendingEnd.push(endNs);
      this.pendingThread.push(thread);
      this.pendingText.push(text);
      return;
    }
    this.out.write(`${prefix}${startNs},${endNs - startNs},${thread},${text === null ? '' : csvField(text)}\n`);
  }

  onFrame(): void {
    if (this.pendingSrcloc.length > 0) this.writePending(false);
  }

  finish(): void {
    this.writePending(true);
    this.out.flush();
  }

  private prefix(srcloc: number, force: boolean): string | undefined {
    if (!force && !this.names.srclocReady(srcloc)) return undefined;
    const prefix = `${csvField(this.names.srclocName(srcloc))},${csvField(this.names.srclocFile(srcloc))},${this.names.srclocLine(srcloc)},`;
    if (this.names.srclocReady(srcloc)) this.prefixes[srcloc] = prefix;
    return prefix;
  }

  private writePending(force: boolean): void {
    const srclocs = this.pendingSrcloc;
    const starts = this.pendingStart;
    const ends = this.pendingEnd;
    const threads = this.pendingThread;
    const texts = this.pendingText;
    let kept = 0;
    for (let i = 0; i < srclocs.length; i++) {
      const srcloc = srclocs[i]!;
      const prefix = this.prefixes[srcloc] ?? this.prefix(srcloc, force);
      const text = texts[i]!;
      if (prefix === undefined) {
        srclocs[kept] = srcloc;
        starts[kept] = starts[i]!;
        ends[kept] = ends[i]!;
        threads[kept] = threads[i]!;
        texts[kept] = text;
        kept++;
        continue;
      }
      this.out.write(`${prefix}${starts[i]!},${ends[i]! - starts[i]!},${threads[i]!},${text === null ? '' : csvField(text)}\n`);
    }
    srclocs.length = kept;
    starts.length = kept;
    ends.length = kept;
    threads.length = kept;
    texts.length = kept;
  }
}

export class MessageCsvWriter implements MessageSink, CsvWriter {
  static readonly HEADER = 'MessageName,total_ns\n';

  private pendingPtr: number[] = [];
  private pendingTime: number[] = [];

  constructor(
    private readonly out: BufferedOutput,
    private readonly names: NameLookup,
  ) {
    out.write(MessageCsvWriter.HEADER);
  }

  message(timeNs: number, text: string | null, textPtr: number): void {
    if (text !== null) {
      this.out.write(`${csvField(text)},${timeNs}\n`);
    } else if (this.names.hasString(textPtr)) {
      this.out.write(`${csvField(this.names.string(textPtr))},${timeNs}\n`);
    } else {
      this.pendingPtr.push(textPtr);
      this.pendingTime.push(timeNs);
    }
  }

  onFrame(): void {
    if (this.pendingPtr.length > 0) this.writePending(false);
  }

  finish(): void {
    this.writePending(true);
    this.out.flush();
  }

  private writePending(force: boolean): void {
    const ptrs = this.pendingPtr;
    const times = this.pendingTime;
    let kept = 0;
    for (let i = 0; i < ptrs.length; i++) {
      const ptr = ptrs[i]!;
      if (force || this.names.hasString(ptr)) {
        this.out.write(`${csvField(this.names.string(ptr))},${times[i]!}\n`);
      } else {
        ptrs[kept] = ptr;
        times[kept] = times[i]!;
        kept++;
      }
    }
    ptrs.length = kept;
    times.length = kept;
  }
}

export class PlotCsvWriter implements PlotSink, CsvWriter {
  static readonly HEADER = 'name,ns_since_start,value\n';

  /** Quoted plot name per pointer, once known. */
  private readonly fields = new Map<number, string>();
  private pendingPtr: number[] = [];
  private pendingTime: number[] = [];
  private pendingValue: number[] = [];

  constructor(
    private readonly out: BufferedOutput,
    private readonly names: NameLookup,
  ) {
    out.write(PlotCsvWriter.HEADER);
  }

  plot(namePtr: number, timeNs: number, value: number): void {
    const field = this.field(namePtr, false);
    if (field === undefined) {
      this.pendingPtr.push(namePtr);
      this.pendingTime.push(timeNs);
      this.pendingValue.push(value);
      return;
    }
    this.out.write(`${field},${timeNs},${value}\n`);
  }

  onFrame(): void {
    if (this.pendingPtr.length > 0) this.writePending(false);
  }

  finish(): void {
    this.writePending(true);
    this.out.flush();
  }

  private field(ptr: number, force: boolean): string | undefined {
    const known = this.fields.get(ptr);
    if (known !== undefined) return known;
    const ready = this.names.hasPlotName(ptr);
    if (!ready && !force) return undefined;
    const field = csvField(this.names.plotName(ptr));
    if (ready) this.fields.set(ptr, field);
    return field;
  }

  private writePending(force: boolean): void {
    const ptrs = this.pendingPtr;
    const times = this.pendingTime;
    const values = this.pendingValue;
    let kept = 0;
    for (let i = 0; i < ptrs.length; i++) {
      const ptr = ptrs[i]!;
      const field = this.field(ptr, force);
      if (field === undefined) {
        ptrs[kept] = ptr;
        times[kept] = times[i]!;
        values[kept] = values[i]!;
        kept++;
      } else {
        this.out.write(`${field},${times[i]!},${values[i]!}\n`);
      }
    }
    ptrs.length = kept;
    times.length = kept;
    values.length = kept;
  }
}
