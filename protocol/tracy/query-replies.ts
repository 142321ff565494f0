import { QueueType as Q, ServerQuery } from './queue-types.js';
import type { QueueWriter } from './queue-writer.js';

/** A source location as a query reply needs it: string ids, line, 0xRRGGBB. */
export interface QuerySourceLocation {
  name: number;
  fn: number;
  file: number;
  line: number;
  color: number;
}

/** Where an app's side finds the contents of the ids it sent (the SDK's IdTables). */
export interface QuerySource {
  /** id -> text of strings, plot names and frame names */
  readonly texts: ReadonlyMap<number, string>;
  readonly srclocs: ReadonlyMap<number, QuerySourceLocation>;
  /** The name of thread `tid` (a default one when it was never named). */
  threadName(tid: number): string;
  /** The id of string `text`, minted when new (the placeholder source location's strings). */
  string(text: string): number;
  /**
   * The frame at code address `address` of a callstack the app sent (CallstackPayload),
   * undefined for an address it never sent (answered with a placeholder frame), or null when the
   * app sends no callstacks at all. Optional: without it, or on null, CallstackFrame queries get
   * AckServerQueryNoop (what a client without callstack support answers).
   */
  callstackFrame?(address: number): QueryCallstackFrame | undefined | null;
}

/** One resolved frame of a callstack: the reply to ServerQueryCallstackFrame. */
export interface QueryCallstackFrame {
  /** module name (Tracy's "image") */
  image: string;
  function: string;
  file: string;
  /** 1-based, 0 = unknown */
  line: number;
}

/**
 * Answers one ServerQuery packet with exactly one counted reply (tracy-protocol.md 3.2, 3.3):
 * the receiver's query credit leaks on a missing reply, and a wrong reply type leaves a string
 * pending forever. Unknown ids still get a real reply (an empty string, a placeholder source
 * location). SourceLocation replies carry no id: they go out in query order, which holds
 * because queries are answered one by one as they arrive.
 *
 * Replies are written between whole item groups (never between a staged string and its
 * consumer): the queue writer writes each group in one call.
 */
export class QueryReplies {
  /** String ids of the placeholder source location ("<unknown>"). */
  private placeholder = 0;

  constructor(
    private readonly w: QueueWriter,
    private readonly source: QuerySource,
  ) {}

  answer(type: number, ptr: number): void {
    const w = this.w;
    const src = this.source;
    switch (type) {
      case ServerQuery.String:
        w.stringData(Q.StringData, ptr, src.texts.get(ptr) ?? '');
        break;
      case ServerQuery.ThreadString:
        w.threadName(ptr, src.threadName(ptr));
        break;
      case ServerQuery.SourceLocation: {
        const s = src.srclocs.get(ptr);
        if (s !== undefined) {
          w.sourceLocation(s.name, s.fn, s.file, s.line, s.color);
        } else {
          if (this.placeholder === 0) this.placeholder = src.string('<unknown>');
          w.sourceLocation(0, this.placeholder, this.placeholder, 0, 0);
        }
        break;
      }
      case ServerQuery.PlotName:
        w.stringData(Q.PlotName, ptr, src.texts.get(ptr) ?? '');
        break;
      case ServerQuery.FrameName:
        w.stringData(Q.FrameName, ptr, src.texts.get(ptr) ?? '');
        break;
      case ServerQuery.FiberName:
        w.stringData(Q.FiberName, ptr, '');
        break;
      case ServerQuery.ExternalName:
        // ExternalThreadName is not counted; ExternalName is.
        w.stringData(Q.ExternalThreadName, ptr, '');
        w.stringData(Q.ExternalName, ptr, '');
        break;
      case ServerQuery.SymbolCode:
        w.ackSymbolCodeNotAvailable();
        break;
      case ServerQuery.SourceCode:
        w.ackSourceCodeNotAvailable(ptr >>> 0);
        break;
      case ServerQuery.CallstackFrame: {
        const f = src.callstackFrame === undefined ? null : src.callstackFrame(ptr);
        if (f === null) {
          w.ackServerQueryNoop();
          break;
        }
        // An address we never sent still gets a real frame, so the receiver's lookup completes.
        if (f !== undefined) w.callstackFrame(ptr, f.image, f.function, f.file, f.line);
        else w.callstackFrame(ptr, '', '<unknown>', '', 0);
        break;
      }
      default:
        // Parameter, Symbol, DataTransfer, DataTransferPart and anything newer.
        w.ackServerQueryNoop();
    }
  }
}
