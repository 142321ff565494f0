/**
 * Ground truth for a (prefix of a) recorded stream, computed by the protocol decoder directly,
 * without the server: what a session that received exactly these bytes must show.
 */
import { NullVisitor, TracyStreamReader } from '../../protocol/tracy/index.js';

export interface StreamCounts {
  /** Zones that ended (a ZoneEnd with an open zone on its thread). */
  zones: number;
  zonesByThread: Map<number, number>;
  messages: number;
  plotPoints: number;
  /** Continuous marks plus ends of start/end frames. */
  frameMarks: number;
  frames: number;
}

class CountingVisitor extends NullVisitor {
  readonly open = new Map<number, number>();
  readonly counts: StreamCounts = { zones: 0, zonesByThread: new Map(), messages: 0, plotPoints: 0, frameMarks: 0, frames: 0 };
  override zoneBegin(thread: number): void {
    this.open.set(thread, (this.open.get(thread) ?? 0) + 1);
  }
  override zoneEnd(thread: number): void {
    const n = this.open.get(thread) ?? 0;
    if (n === 0) return;
    this.open.set(thread, n - 1);
    this.counts.zones++;
    this.counts.zonesByThread.set(thread, (this.counts.zonesByThread.get(thread) ?? 0) + 1);
  }
  override message(): void {
    this.counts.messages++;
  }
  override messageLiteral(): void {
    this.counts.messages++;
  }
  override plot(): void {
    this.counts.plotPoints++;
  }
  override frameMark(kind: number): void {
    if (kind !== 1) this.counts.frameMarks++;
  }
}

/** Decodes `stream[0, end)` (which must end on a frame boundary) and counts what it holds. */
export function countPrefix(stream: Uint8Array, end = stream.length): StreamCounts {
  const visitor = new CountingVisitor();
  const reader = new TracyStreamReader(visitor);
  reader.push(stream, 0, end);
  const truncation = reader.truncation();
  if (truncation !== null) throw new Error(`countPrefix: the prefix is not whole frames: ${truncation}`);
  visitor.counts.frames = reader.frames;
  return visitor.counts;
}

/** Offsets of every frame header of a stream whose frames start at `first`, plus the end. */
export function frameBoundaries(stream: Uint8Array, first: number): number[] {
  const v = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const out: number[] = [];
  let p = first;
  for (; p + 4 <= stream.length; p += 4 + v.getUint32(p, true)) out.push(p);
  if (p !== stream.length) throw new Error(`frameBoundaries: the last frame overruns the stream (${p} != ${stream.length})`);
  out.push(p);
  return out;
}
