import { NullVisitor } from '../../protocol/tracy/index.js';

const utf8 = new TextDecoder('utf-8');

/** Text, name, colour and value of one zone, as SessionStore keeps them (ZoneExtra). */
export interface PassZoneExtra {
  text: string | null;
  name: string | null;
  /** 0xRRGGBB, or -1 */
  color: number;
  valueLo: number;
  /** -1 = no value */
  valueHi: number;
}

/** One thread in pass 1: zone begins counted, the stack of open begin ordinals. */
interface PassThread {
  begins: number;
  stack: number[];
  /** Zone extras by begin ordinal (sparse: only zones with text, name, colour or value). */
  extras: Map<number, PassZoneExtra> | null;
}

/**
 * Pass 1 of the streaming Chrome export of a capture: everything that arrives later in the
 * stream than the events that use it, and is small.
 * - Names need no work here: the decoder's own tables (strings, source locations, thread, plot
 *   and frame names) are complete at the end of the pass and are read from it.
 * - Zone text, name, colour and value arrive while their zone is open, possibly after its
 *   children (Tracy applies them to the innermost open zone), but a B event must carry them:
 *   they are kept by (thread, begin ordinal). Most zones have none.
 * - Which zones never end (open when the stream stops): the store leaves them out, and with
 *   them every zone that began inside them.
 * - Threads the store would list (any zone event), whether there are frames, the app info.
 * Per zone event the work is a counter and a push/pop on a small array.
 */
export class NamesPass extends NullVisitor {
  readonly threads = new Map<number, PassThread>();
  readonly appInfoTexts: string[] = [];
  hasFrames = false;
  zonesBegun = 0;
  private cur: PassThread | null = null;
  private curId = -1;

  /** Per thread: the begin ordinals of zones still open at the end (empty sets are omitted). */
  openAtEnd(): Map<number, Set<number>> {
    const out = new Map<number, Set<number>>();
    for (const [id, t] of this.threads) if (t.stack.length > 0) out.set(id, new Set(t.stack));
    return out;
  }

  /** Per thread: zone extras by begin ordinal. */
  extras(): Map<number, Map<number, PassZoneExtra>> {
    const out = new Map<number, Map<number, PassZoneExtra>>();
    for (const [id, t] of this.threads) if (t.extras !== null) out.set(id, t.extras);
    return out;
  }

  /** Thread ids the store would list, ascending. */
  threadIds(): number[] {
    return [...this.threads.keys()].sort((a, b) => a - b);
  }

  private thread(id: number): PassThread {
    if (id === this.curId) return this.cur!;
    let t = this.threads.get(id);
    if (t === undefined) {
      t = { begins: 0, stack: [], extras: null };
      this.threads.set(id, t);
    }
    this.cur = t;
    this.curId = id;
    return t;
  }

  override zoneBegin(thread: number, _timeNs: number, _srcloc: number): void {
    const t = this.thread(thread);
    t.stack.push(t.begins++);
    this.zonesBegun++;
  }

  override zoneEnd(thread: number, _timeNs: number): void {
    this.thread(thread).stack.pop();
  }

  override zoneText(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const e = this.openExtra(thread);
    if (e === null) return;
    const text = utf8.decode(bytes.subarray(start, start + length));
    e.text = e.text === null ? text : `${e.text}\n${text}`;
  }

  override zoneName(thread: number, bytes: Uint8Array, start: number, length: number): void {
    const e = this.openExtra(thread);
    if (e !== null) e.name = utf8.decode(bytes.subarray(start, start + length));
  }

  override zoneColor(thread: number, rgb: number): void {
    const e = this.openExtra(thread);
    if (e !== null) e.color = rgb;
  }

  override zoneValue(thread: number, lo: number, hi: number): void {
    const e = this.openExtra(thread);
    if (e === null) return;
    e.valueLo = lo;
    e.valueHi = hi;
  }

  override frameMark(_kind: number, _namePtr: number, _timeNs: number): void {
    this.hasFrames = true;
  }

  override appInfo(_timeNs: number, bytes: Uint8Array, start: number, length: number): void {
    this.appInfoTexts.push(utf8.decode(bytes.subarray(start, start + length)));
  }

  /** The extra of the innermost open zone of `thread` (made on demand), or null when none is open. */
  private openExtra(thread: number): PassZoneExtra | null {
    const t = this.thread(thread);
    const top = t.stack[t.stack.length - 1];
    if (top === undefined) return null;
    t.extras ??= new Map();
    let e = t.extras.get(top);
    if (e === undefined) {
      e = { text: null, name: null, color: -1, valueLo: 0, valueHi: -1 };
      t.extras.set(top, e);
    }
    return e;
  }
}
