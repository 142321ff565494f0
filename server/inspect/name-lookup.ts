import { type QueueDecoder, SrclocKind } from '../../protocol/tracy/index.js';

/**
 * Turns the ids a TracyVisitor reports (source-location indices, string pointers, thread ids)
 * into the texts a person reads, from the decoder's tables as they stand right now.
 *
 * Names travel late in a Tracy stream: the app sends a zone with a source-location pointer, the
 * receiver queries it, and the SourceLocation reply (and later still the StringData of its name,
 * function and file) arrives a frame or more afterwards. So `srclocReady` says whether a
 * location can be named yet, and the name getters fall back to a visible placeholder
 * (`<srcloc 0x...>`, `<string 0x...>`) for ids whose answer never arrived (a cut stream).
 */
export class NameLookup {
  constructor(private readonly decoder: QueueDecoder) {}

  /** True when the location's name, function and file texts are all known. */
  srclocReady(index: number): boolean {
    const t = this.decoder.srclocs;
    if (index < 0 || index >= t.count) return false;
    if (t.kind[index] === SrclocKind.Payload) return true;
    if (!t.resolved[index]) return false;
    const strings = this.decoder.names.strings;
    const namePtr = t.namePtr[index]!;
    return (namePtr === 0 ? strings.has(t.functionPtr[index]!) : strings.has(namePtr)) && strings.has(t.filePtr[index]!);
  }

  /** csvexport's name: the location's name, or its function when it has none. */
  srclocName(index: number): string {
    const t = this.decoder.srclocs;
    if (index < 0 || index >= t.count) return `<srcloc #${index}>`;
    if (!t.resolved[index]) return `<srcloc ${hex(t.ptr[index]!)}>`;
    const strings = this.decoder.names.strings;
    const name = t.displayName(index, strings);
    if (name !== '' || t.kind[index] === SrclocKind.Payload) return name;
    const namePtr = t.namePtr[index]!;
    const ptr = namePtr !== 0 ? namePtr : t.functionPtr[index]!;
    return strings.has(ptr) ? '' : `<string ${hex(ptr)}>`;
  }

  srclocFile(index: number): string {
    const t = this.decoder.srclocs;
    if (index < 0 || index >= t.count || !t.resolved[index]) return '';
    const file = t.fileName(index, this.decoder.names.strings);
    if (file !== '' || t.kind[index] === SrclocKind.Payload) return file;
    const ptr = t.filePtr[index]!;
    return this.decoder.names.strings.has(ptr) ? '' : `<string ${hex(ptr)}>`;
  }

  srclocLine(index: number): number {
    const t = this.decoder.srclocs;
    return index >= 0 && index < t.count ? t.line[index]! : 0;
  }

  /** The app's pointer of a static location, or -1 for an inline (payload) one. */
  srclocPtr(index: number): number {
    const t = this.decoder.srclocs;
    return index >= 0 && index < t.count ? t.ptr[index]! : -1;
  }

  hasString(ptr: number): boolean {
    return this.decoder.names.strings.has(ptr);
  }

  string(ptr: number): string {
    return this.decoder.names.strings.get(ptr) ?? `<string ${hex(ptr)}>`;
  }

  /** The thread's name (ThreadName reply), or null before it arrived. */
  threadName(thread: number): string | null {
    return this.decoder.names.threads.get(thread) ?? null;
  }

  hasPlotName(ptr: number): boolean {
    return this.decoder.names.plots.has(ptr) || this.decoder.names.strings.has(ptr);
  }

  plotName(ptr: number): string {
    const names = this.decoder.names;
    return names.plots.get(ptr) ?? names.strings.get(ptr) ?? `<plot ${hex(ptr)}>`;
  }

  /** Frame set name; the default set (pointer 0) is "". */
  frameName(ptr: number): string {
    if (ptr === 0) return '';
    const names = this.decoder.names;
    return names.frames.get(ptr) ?? names.strings.get(ptr) ?? `<frame ${hex(ptr)}>`;
  }
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
