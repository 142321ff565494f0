import { QueueType as Q, ServerQuery } from '../protocol/tracy/queue-types.js';
import type { QueueWriter } from '../protocol/tracy/queue-writer.js';
import type { IdTables } from './ids.js';

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
export class QueryResponder {
  /** String ids of the placeholder source location ("<unknown>"). */
  private placeholder = 0;

  constructor(
    private readonly w: QueueWriter,
    private readonly ids: IdTables,
  ) {}

  answer(type: number, ptr: number): void {
    const w = this.w;
    const ids = this.ids;
    switch (type) {
      case ServerQuery.String:
        w.stringData(Q.StringData, ptr, ids.texts.get(ptr) ?? '');
        break;
      case ServerQuery.ThreadString:
        w.threadName(ptr, ids.threadName(ptr));
        break;
      case ServerQuery.SourceLocation: {
        const s = ids.srclocs.get(ptr);
        if (s !== undefined) {
          w.sourceLocation(s.name, s.fn, s.file, s.line, s.color);
        } else {
          if (this.placeholder === 0) this.placeholder = ids.string('<unknown>');
          w.sourceLocation(0, this.placeholder, this.placeholder, 0, 0);
        }
        break;
      }
      case ServerQuery.PlotName:
        w.stringData(Q.PlotName, ptr, ids.texts.get(ptr) ?? '');
        break;
      case ServerQuery.FrameName:
        w.stringData(Q.FrameName, ptr, ids.texts.get(ptr) ?? '');
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
      default:
        // Parameter, CallstackFrame, Symbol, DataTransfer, DataTransferPart and anything newer.
        w.ackServerQueryNoop();
    }
  }
}
