import { CallstackTarget } from '../../protocol/tracy/index.js';
import { MAX_SRCLOC } from './zone-columns.js';
import { SessionStore, tooManySrclocs } from './session-store.js';

/**
 * A session store that counts zones (per thread: begun, ended, unmatched ends) instead of
 * keeping them; everything else (threads, frames, plots, messages, memory, locks) is kept as in
 * SessionStore. For `zonescope capture`, which writes the wire stream to its file as it arrives
 * and reads nothing back from the store but the zone count: keeping the zones there cost ~40% of
 * its intake time and ~60 MB per 6 M zones for nothing (the file is what a capture produces; a
 * viewer or server loads it again whole). Zone modifiers (text, name, colour, value, a zone's
 * callstack) are dropped with the zones they belong to.
 *
 * A process uses one store class for its sessions and its warm-up (warm-up.ts): the item walk
 * then calls one zoneBegin/zoneEnd, which the optimizing compiler inlines.
 */
export class ZoneCountingStore extends SessionStore {
  override zoneBegin(thread: number, _timeNs: number, srcloc: number): void {
    if (srcloc > MAX_SRCLOC) tooManySrclocs();
    const t = this.current !== null && this.current.id === thread ? this.current : this.thread(thread);
    t.countBegin();
  }

  override zoneEnd(thread: number, timeNs: number): void {
    const t = this.current !== null && this.current.id === thread ? this.current : this.thread(thread);
    t.countEnd();
    if (timeNs > this.lastNs) this.lastNs = timeNs;
  }

  override zoneText(_thread: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  override zoneName(_thread: number, _bytes: Uint8Array, _start: number, _length: number): void {}
  override zoneColor(_thread: number, _rgb: number): void {}
  override zoneValue(_thread: number, _lo: number, _hi: number): void {}

  override callstack(target: number, thread: number, callstack: number): void {
    if (target !== CallstackTarget.Zone) super.callstack(target, thread, callstack);
  }
}
