import type { SessionStore } from '../store/session-store.js';
import { SEGMENT_MASK, SEGMENT_SHIFT } from '../store/zone-columns.js';
import { ThreadZoneWalk, ZoneWalks } from './zone-walk.js';
import type { RangeOptions } from './zone-stats.js';

/**
 * Zone names for comparing two captures. Source location indexes mean nothing across captures
 * (and one name may have many locations: Tracy's per-call allocated source locations, the same
 * name at two lines), so a comparison goes by the name a user sees on a zone: its ZoneName
 * override when it has one, else its source location's displayed name (the name, else the
 * function), as the timeline and the Chrome export show it.
 */

/**
 * Distinct names one side of a comparison keeps (one list of durations each). A capture with
 * more (a ZoneName override made of a counter, say) has its zones of further names left out and
 * counted (`droppedZones`), so the working memory stays bounded.
 */
export const MAX_COMPARE_NAMES = 16_384;

/** Name ids of one store's zones, interned as they are met, at most `maxNames`. */
export class ZoneNameTable {
  readonly names: string[] = [];
  /** zones whose name was past the cap */
  droppedZones = 0;
  private readonly ids = new Map<string, number>();
  /** srcloc -> name id; undefined until looked up, -1 past the cap */
  private readonly bySrcloc: number[] = [];

  constructor(
    private readonly store: SessionStore,
    readonly maxNames = MAX_COMPARE_NAMES,
  ) {}

  /** The id of `name`, made if needed; -1 when it is new and the table is full. */
  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length >= this.maxNames) return -1;
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  /** The id of source location `srcloc`'s displayed name (-1: past the cap). */
  ofSrcloc(srcloc: number): number {
    const known = this.bySrcloc[srcloc];
    if (known !== undefined) return known;
    const id = this.intern(this.store.srclocs.displayName(srcloc, this.store.names.strings));
    this.bySrcloc[srcloc] = id;
    return id;
  }
}

/** Called per zone with its name id (never -1: those are counted as dropped) and duration. */
export type NamedZoneVisit = (nameId: number, durNs: number) => void;

/**
 * A resumable walk over every zone of `store` that starts in [t0, t1] (the threads asked for),
 * calling `visit` with each zone's name id in `table` (zone-walk.ts: zones evicted meanwhile
 * are skipped, zones added after it began are not visited).
 */
export function namedZoneWalks(store: SessionStore, options: RangeOptions, table: ZoneNameTable, visit: NamedZoneVisit): ZoneWalks {
  const t0 = options.t0 ?? -Infinity;
  const t1 = options.t1 ?? Infinity;
  const walks: ThreadZoneWalk[] = [];
  for (const thread of store.threads.values()) {
    if (options.threads && !options.threads.includes(thread.id)) continue;
    const depths = thread.depths;
    walks.push(
      new ThreadZoneWalk(thread, t0, t1, (depth, row, _s, dur, _self, srcloc) => {
        // the segment is there: the walk just read this row from it
        const extras = depths[depth]!.segments[row >>> SEGMENT_SHIFT]!.extras;
        const at = extras === null ? -1 : extras.find(row & SEGMENT_MASK);
        const override = at < 0 ? null : extras!.nameAt(at);
        const id = override === null ? table.ofSrcloc(srcloc) : table.intern(override);
        if (id < 0) table.droppedZones++;
        else visit(id, dur);
      }),
    );
  }
  return new ZoneWalks(walks);
}
