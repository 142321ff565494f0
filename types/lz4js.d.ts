declare module 'lz4js' {
  /** Compresses `src[sIndex, sIndex + sLength)` into `dst` from index 0; returns the compressed
   * size, or 0 when no match was found (the caller then writes a literal-only block). */
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
  export function decompressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    dIndex: number,
  ): number;
  export function compressBound(n: number): number;
}
