/**
 * Encodes aggregated callstacks as a gzipped pprof profile (profile.proto, as `go tool pprof`,
 * Pyroscope, Grafana and speedscope read it), through the `pprof-format` encoder.
 *
 * The mapping (issue 17 contract; github.com/google/pprof/proto/profile.proto):
 * - sample types: cpu -> [samples/count, cpu/nanoseconds] (cpu = samples * periodNs, or the
 *   stack's value as given when periodNs is 0); inuse -> [inuse_objects/count,
 *   inuse_space/bytes]; alloc -> [alloc_objects/count, alloc_space/bytes]. The period type is
 *   cpu/nanoseconds with period = periodNs, or space/bytes with period 0 for memory. The value
 *   to show by default is the last one, which readers take when default_sample_type is unset;
 *   we leave it unset because speedscope before 1.15.2 read it as an index into the sample
 *   types rather than the string table and failed (jlfwong/speedscope#424).
 * - one Location per distinct return address; its `line` list holds the frames Tracy expanded
 *   from that address, innermost first, so the last is the function the others were inlined
 *   into (profile.proto: "the last entry represents the caller into which the preceding
 *   entries were inlined"). A frame flagged `inlined` shares its Location with the frames
 *   after it up to the first one that is not.
 * - one Function per (name, file); a frame with no function name is named by its address.
 * - one Mapping per image (filename = image; no address range: Tracy does not send one), the
 *   first image that is not a shared library first, as pprof expects the main binary. The
 *   mappings claim functions, files, lines and inline frames, so pprof does not try to
 *   symbolize the addresses again. Frames with no image get no mapping (mapping_id 0): an
 *   unnamed mapping with an empty range would be merged into its neighbour by pprof.
 * - Sample.location_id is innermost first, as profile.proto wants.
 *
 * Limits: the whole profile is built in memory, then encoded and gzipped in one piece. Keeping
 * the input within 65,536 stacks and 1,000,000 distinct addresses is the caller's job (the REST
 * route and CLI cut before they call). Cost grows with distinct addresses and frames: 100,000
 * stacks of 16 frames over 131,070 addresses take about 0.5 s (a 1.9 MB file): 0.3 s to intern,
 * 0.2 s in pprof-format's encoder, 0.04 s to gzip.
 */
import { constants, gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackFlameKind, StackFrame } from '../../protocol/view/types.js';

export type { StackFlameKind, StackFrame };

/** One distinct callstack and what was measured on it. */
export interface PprofStack {
  /** innermost first */
  frames: readonly StackFrame[];
  /** cpu: samples; memory: allocations */
  count: number;
  /** cpu: used only when periodNs is 0; memory: bytes */
  value: number;
}

export interface PprofInput {
  kind: StackFlameKind;
  /** one per distinct callstack (already aggregated) */
  stacks: Iterable<PprofStack>;
  /** session wall-clock start, ns since the epoch (0: unknown) */
  timeNs: number;
  durationNs: number;
  /** cpu: sampling interval (0 unknown); memory: 0 */
  periodNs: number;
  /** one string each in the profile's comment list (`go tool pprof -comments`) */
  comments?: string[];
}

const SAMPLE_TYPES: Record<StackFlameKind, readonly [string, string, string, string]> = {
  cpu: ['samples', 'count', 'cpu', 'nanoseconds'],
  inuse: ['inuse_objects', 'count', 'inuse_space', 'bytes'],
  alloc: ['alloc_objects', 'count', 'alloc_space', 'bytes'],
};

/** Shared libraries (pprof's libRx plus Windows and macOS) and bracketed pseudo images. */
const LIBRARY_IMAGE = /\.so$|\.so[._][0-9]|\.dll$|\.dylib$|^\[|^</i;

/** A u64 in hex, as Tracy's frames carry return addresses. */
const HEX_ADDRESS = /^0x[0-9a-f]{1,16}$/i;

/**
 * The gzipped profile.proto for `input`. Counts, values and times are rounded to integers and
 * clamped to the int64 range; NaN and infinities become 0. Throws TypeError for an unknown kind.
 */
export function encodePprof(input: PprofInput): Uint8Array {
  const types = SAMPLE_TYPES[input.kind];
  if (types === undefined) throw new TypeError(`unknown pprof kind ${JSON.stringify(input.kind)} (cpu, inuse or alloc)`);
  const builder = new PprofBuilder();
  const strings = builder.strings;
  const cpu = input.kind === 'cpu';
  const periodNs = cpu ? toInt(input.periodNs) : 0;

  const samples: Sample[] = [];
  for (const stack of input.stacks) {
    const count = toInt(stack.count);
    const value = cpu && periodNs > 0 ? toInt(stack.count * periodNs) : toInt(stack.value);
    samples.push(new Sample({ locationId: builder.locationIds(stack.frames), value: [count, value] }));
  }

  builder.mainMappingFirst();
  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup(types[0]), unit: strings.dedup(types[1]) }),
      new ValueType({ type: strings.dedup(types[2]), unit: strings.dedup(types[3]) }),
    ],
    sample: samples,
    mapping: builder.mappings,
    location: builder.locations,
    function: builder.functions,
    stringTable: strings,
    timeNanos: BigInt(Math.max(0, toInt(input.timeNs))),
    durationNanos: BigInt(Math.max(0, toInt(input.durationNs))),
    periodType: cpu
      ? new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') })
      : new ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') }),
    period: Math.max(0, periodNs),
    comment: (input.comments ?? []).map((c) => strings.dedup(c)),
  });
  // Fastest level, as Go's runtime/pprof writes its profiles (gzip.BestSpeed): on 100k stacks it
  // took 35 ms where the default level took 150 ms, for a file about 6 % larger.
  return gzipSync(profile.encode(), { level: constants.Z_BEST_SPEED });
}

/** The largest double below 2^63, so every clamped value fits an int64. */
const INT64_MAX_DOUBLE = 2 ** 63 - 1024;

/** Integer for an int64 field: rounded, NaN and infinities 0, clamped to the int64 range. */
function toInt(v: number): number {
  if (!Number.isFinite(v)) return 0;
  const r = Math.round(v);
  return r > INT64_MAX_DOUBLE ? INT64_MAX_DOUBLE : r < -INT64_MAX_DOUBLE ? -INT64_MAX_DOUBLE : r;
}

/** Interns locations, functions and mappings; ids are 1-based indexes into the arrays. */
class PprofBuilder {
  readonly strings = new StringTable();
  readonly locations: Location[] = [];
  readonly functions: PprofFunction[] = [];
  readonly mappings: Mapping[] = [];
  private readonly locationByAddress = new Map<string, number>();
  /** locations of frames whose address is not hex, by what the frames say */
  private readonly locationByFrames = new Map<string, number>();
  /** function ids by file, then name (no key strings to build per frame) */
  private readonly functionByFile = new Map<string, Map<string, number>>();
  private readonly mappingByImage = new Map<string, number>();

  /** Location ids of a stack, innermost first; each run of inlined frames becomes one location. */
  locationIds(frames: readonly StackFrame[]): number[] {
    const ids: number[] = [];
    const n = frames.length;
    let i = 0;
    while (i < n) {
      const first = frames[i]!;
      let last = i;
      // An inlined frame belongs with the next one when that one has the same address.
      while (last + 1 < n && frames[last]!.inlined && frames[last + 1]!.address === first.address) last++;
      // Only hex addresses enter locationByAddress, so the regular expression runs once per location.
      let id = this.locationByAddress.get(first.address);
      if (id === undefined) {
        if (HEX_ADDRESS.test(first.address)) {
          id = this.addLocation(frames, i, last);
          this.locationByAddress.set(first.address, id);
        } else {
          const key = unresolvedKey(frames, i, last);
          id = this.locationByFrames.get(key);
          if (id === undefined) {
            id = this.addLocation(frames, i, last);
            this.locationByFrames.set(key, id);
          }
        }
      }
      ids.push(id);
      i = last + 1;
    }
    return ids;
  }

  private addLocation(frames: readonly StackFrame[], from: number, to: number): number {
    const first = frames[from]!;
    const outer = frames[to]!;
    const lines: Line[] = [];
    for (let k = from; k <= to; k++) {
      const f = frames[k]!;
      lines.push(new Line({ functionId: this.functionId(f), line: Math.max(0, toInt(f.line)) }));
    }
    const id = this.locations.length + 1;
    this.locations.push(new Location({
      id,
      mappingId: outer.image === '' ? 0 : this.mappingId(outer.image),
      address: HEX_ADDRESS.test(first.address) ? BigInt(first.address) : 0,
      line: lines,
    }));
    return id;
  }

  private functionId(f: StackFrame): number {
    const name = f.function === '' ? f.address : f.function;
    let byName = this.functionByFile.get(f.file);
    if (byName === undefined) {
      byName = new Map();
      this.functionByFile.set(f.file, byName);
    }
    let id = byName.get(name);
    if (id === undefined) {
      id = this.functions.length + 1;
      const nameIdx = this.strings.dedup(name);
      this.functions.push(new PprofFunction({ id, name: nameIdx, systemName: nameIdx, filename: this.strings.dedup(f.file) }));
      byName.set(name, id);
    }
    return id;
  }

  /**
   * Moves the first image that does not look like a shared library or a pseudo image
   * ("[vdso]", "<kernel>") to mapping 1, which pprof takes for the main binary (its "File:"
   * line); pprof guesses it this way for the profiles it converts.
   */
  mainMappingFirst(): void {
    const k = this.mappings.findIndex((m) => !LIBRARY_IMAGE.test(this.strings.strings[Number(m.filename)] ?? ''));
    if (k <= 0) return;
    const first = this.mappings[0]!;
    const main = this.mappings[k]!;
    this.mappings[0] = main;
    this.mappings[k] = first;
    main.id = 1;
    first.id = k + 1;
    for (const loc of this.locations) {
      if (loc.mappingId === 1) loc.mappingId = k + 1;
      else if (loc.mappingId === k + 1) loc.mappingId = 1;
    }
  }

  private mappingId(image: string): number {
    let id = this.mappingByImage.get(image);
    if (id === undefined) {
      id = this.mappings.length + 1;
      this.mappings.push(new Mapping({
        id, filename: this.strings.dedup(image),
        hasFunctions: true, hasFilenames: true, hasLineNumbers: true, hasInlineFrames: true,
      }));
      this.mappingByImage.set(image, id);
    }
    return id;
  }
}

/** What frames whose address is not hex say, so distinct ones get distinct locations. */
function unresolvedKey(frames: readonly StackFrame[], from: number, to: number): string {
  let key = '';
  for (let k = from; k <= to; k++) {
    const f = frames[k]!;
    key += `${f.address}\0${f.function}\0${f.file}\0${f.line}\0${f.image}\u0001`;
  }
  return key;
}
