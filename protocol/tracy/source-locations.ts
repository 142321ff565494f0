import { TWO_POW_32 } from './constants.js';

const utf8 = new TextDecoder('utf-8');
const CACHE_SIZE = 4096; // power of two: slot = hash & (CACHE_SIZE - 1)
// what releaseCache() leaves: shared, so a released table holds no cache arrays of its own
const EMPTY_KEYS = new Float64Array(0);
const EMPTY_VALS = new Int32Array(0);

/** Kind of a source location entry. */
export const SrclocKind = { Static: 0, Payload: 1 } as const;

/**
 * Every source location of one session under a dense index: static ones by the app's pointer
 * (resolved later by a SourceLocation reply, strings later still by StringData), inline ones
 * (SourceLocationPayload) interned by content, as Tracy does.
 *
 * The pointer -> index lookup runs once per zone begin, so it goes through a direct-mapped
 * cache in typed arrays before the Map.
 */
export class SourceLocationTable {
  count = 0;
  private readonly byPtr = new Map<number, number>();
  private cacheKeys = new Float64Array(CACHE_SIZE).fill(-1);
  private cacheVals = new Int32Array(CACHE_SIZE);
  /** FNV-1a hash of a payload -> the first index with that hash; `payloadNext` chains the rest. */
  private readonly byPayloadHash = new Map<number, number>();
  private readonly payloadNext: number[] = [];
  private readonly payloadBytes: (Uint8Array | null)[] = [];

  /** Per index: the app's pointer (static) or -1 (payload). */
  ptr: number[] = [];
  kind: number[] = [];
  resolved: boolean[] = [];
  /** String ids of static locations (0 = none), resolved through a StringTable. */
  namePtr: number[] = [];
  functionPtr: number[] = [];
  filePtr: number[] = [];
  /** Texts of payload locations (and of static ones once resolved by `resolveStrings`). */
  name: (string | null)[] = [];
  function: (string | null)[] = [];
  file: (string | null)[] = [];
  line: number[] = [];
  /** 0xRRGGBB, 0 = default */
  color: number[] = [];

  /** Bytes of the pointer cache (0 after releaseCache). */
  get cacheBytes(): number {
    return this.cacheKeys.byteLength + this.cacheVals.byteLength;
  }

  /**
   * Drops the pointer cache once the stream is over (48 KiB): lookups still work, through the
   * Map (reads of the empty cache miss, writes to it are no-ops).
   */
  releaseCache(): void {
    this.cacheKeys = EMPTY_KEYS;
    this.cacheVals = EMPTY_VALS;
  }

  /** @returns the index of a static pointer, or -1 if it was never seen */
  lookup(ptr: number): number {
    const slot = hashPtr(ptr);
    if (this.cacheKeys[slot] === ptr) return this.cacheVals[slot]!;
    const index = this.byPtr.get(ptr);
    if (index === undefined) return -1;
    this.cacheKeys[slot] = ptr;
    this.cacheVals[slot] = index;
    return index;
  }

  /** Adds an unresolved static location for `ptr`; returns its index. */
  addStatic(ptr: number): number {
    const index = this.push(ptr, SrclocKind.Static);
    this.byPtr.set(ptr, index);
    return index;
  }

  /** Applies a SourceLocation reply (colour bytes already folded into 0xRRGGBB). */
  resolveStatic(index: number, namePtr: number, functionPtr: number, filePtr: number, line: number, rgb: number): void {
    this.namePtr[index] = namePtr;
    this.functionPtr[index] = functionPtr;
    this.filePtr[index] = filePtr;
    this.line[index] = line;
    this.color[index] = rgb;
    this.resolved[index] = true;
  }

  /**
   * Interns a SourceLocationPayload: u32 colour 0x00RRGGBB, u32 line, function NUL, file NUL,
   * name (rest; empty = unnamed).
   * @returns the index, or -1 if the payload is malformed
   */
  internPayload(bytes: Uint8Array, start: number, length: number): number {
    if (length < 10) return -1;
    const end = start + length;
    let fnEnd = start + 8;
    while (fnEnd < end && bytes[fnEnd] !== 0) fnEnd++;
    if (fnEnd >= end) return -1;
    let fileEnd = fnEnd + 1;
    while (fileEnd < end && bytes[fileEnd] !== 0) fileEnd++;
    if (fileEnd >= end) return -1;
    const hash = fnv1a(bytes, start, length);
    const first = this.byPayloadHash.get(hash);
    for (let i = first ?? -1; i >= 0; i = this.payloadNext[i]!) {
      if (sameBytes(this.payloadBytes[i]!, bytes, start, length)) return i;
    }
    const index = this.push(-1, SrclocKind.Payload);
    this.payloadBytes[index] = bytes.slice(start, start + length);
    if (first === undefined) this.byPayloadHash.set(hash, index);
    else {
      // append to the chain of this hash
      let i = first;
      while (this.payloadNext[i]! >= 0) i = this.payloadNext[i]!;
      this.payloadNext[i] = index;
    }
    const rgb = (bytes[start]! | (bytes[start + 1]! << 8) | (bytes[start + 2]! << 16)) >>> 0;
    const line = (bytes[start + 4]! | (bytes[start + 5]! << 8) | (bytes[start + 6]! << 16) | (bytes[start + 7]! << 24)) >>> 0;
    this.function[index] = utf8.decode(bytes.subarray(start + 8, fnEnd));
    this.file[index] = utf8.decode(bytes.subarray(fnEnd + 1, fileEnd));
    const name = utf8.decode(bytes.subarray(fileEnd + 1, end));
    this.name[index] = name.length > 0 ? name : null;
    this.line[index] = line;
    this.color[index] = rgb;
    this.resolved[index] = true;
    return index;
  }

  /**
   * Every text of the location is known: a static location is resolved and the strings of its
   * name (when it has one), function and file have arrived. Until then displayName() may give the
   * function for a name still on its way.
   */
  complete(index: number, strings: ReadonlyMap<number, string>): boolean {
    if (index >= this.count || !this.resolved[index]) return false;
    if (this.kind[index] !== SrclocKind.Static) return true;
    this.fillStrings(index, strings);
    return (this.namePtr[index] === 0 || this.name[index] !== null) && this.function[index] !== null && this.file[index] !== null;
  }

  /** The displayed name: the location's name, or its function when it has none. */
  displayName(index: number, strings: ReadonlyMap<number, string>): string {
    this.fillStrings(index, strings);
    return this.name[index] ?? this.function[index] ?? '';
  }

  fileName(index: number, strings: ReadonlyMap<number, string>): string {
    this.fillStrings(index, strings);
    return this.file[index] ?? '';
  }

  functionName(index: number, strings: ReadonlyMap<number, string>): string {
    this.fillStrings(index, strings);
    return this.function[index] ?? '';
  }

  private fillStrings(index: number, strings: ReadonlyMap<number, string>): void {
    if (this.kind[index] !== SrclocKind.Static || !this.resolved[index]) return;
    const namePtr = this.namePtr[index]!;
    if (this.name[index] === null && namePtr !== 0) this.name[index] = strings.get(namePtr) ?? null;
    if (this.function[index] === null) this.function[index] = strings.get(this.functionPtr[index]!) ?? null;
    if (this.file[index] === null) this.file[index] = strings.get(this.filePtr[index]!) ?? null;
  }

  private push(ptr: number, kind: number): number {
    const index = this.count++;
    this.ptr.push(ptr);
    this.kind.push(kind);
    this.resolved.push(false);
    this.namePtr.push(0);
    this.functionPtr.push(0);
    this.filePtr.push(0);
    this.name.push(null);
    this.function.push(null);
    this.file.push(null);
    this.line.push(0);
    this.color.push(0);
    this.payloadNext.push(-1);
    this.payloadBytes.push(null);
    return index;
  }
}

function hashPtr(ptr: number): number {
  const lo = ptr >>> 0;
  const hi = (ptr / TWO_POW_32) | 0;
  return (lo ^ (lo >>> 5) ^ (lo >>> 17) ^ hi) & (CACHE_SIZE - 1);
}

function fnv1a(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  const end = start + length;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}
