import type { QueueWriter } from '../protocol/tracy/queue-writer.js';

/** zoneText, zoneName, zoneValue, zoneColor: items that apply to the innermost open zone of their thread. */
export const OP_TEXT = 0;
export const OP_NAME = 1;
export const OP_VALUE = 2;
export const OP_COLOR = 3;

type ZoneOp = [op: number, arg: string | number];

/** Writes one modifier for the innermost open zone of track `tid`. */
export function writeZoneOp(w: QueueWriter, tid: number, op: number, arg: string | number): void {
  switch (op) {
    case OP_TEXT:
      w.zoneText(tid, arg as string);
      break;
    case OP_NAME:
      w.zoneName(tid, arg as string);
      break;
    case OP_VALUE:
      w.zoneValue(tid, arg as number);
      break;
    default:
      w.zoneColor(tid, arg as number);
  }
}

/**
 * Modifiers of zones that were not the innermost one of their track when called. Tracy applies
 * a modifier to the innermost open zone (tracy-protocol.md 4.3), so they wait here and are
 * written right before the zone's ZoneEnd, when it is innermost again. Empty (null map) in the
 * common case, so the zone end path pays one null check.
 */
export class PendingZoneOps {
  private map: Map<number, ZoneOp[]> | null = null;

  get empty(): boolean {
    return this.map === null;
  }

  add(zone: number, op: number, arg: string | number): void {
    this.map ??= new Map();
    let ops = this.map.get(zone);
    if (ops === undefined) this.map.set(zone, (ops = []));
    ops.push([op, arg]);
  }

  /** Writes (and forgets) the modifiers waiting for `zone`, now innermost on track `tid`. */
  flush(w: QueueWriter, tid: number, zone: number): void {
    const ops = this.map?.get(zone);
    if (ops === undefined) return;
    this.map!.delete(zone);
    if (this.map!.size === 0) this.map = null;
    for (const [op, arg] of ops) writeZoneOp(w, tid, op, arg);
  }
}
