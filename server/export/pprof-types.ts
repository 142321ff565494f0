/**
 * The issue 17 contract's frame and kind types, as the lead is adding them to
 * protocol/view/types.ts. Until that lands, the pprof encoder imports them from here;
 * at merge this file becomes `export type { StackFrame, StackFlameKind } from '../../protocol/view/types.js';`.
 */

/** One resolved frame; Tracy expands inlined frames, so one return address can give several frames. */
export interface StackFrame {
  function: string; file: string; line: number; image: string;
  /** the return address as '0x...' hex (exact u64) */
  address: string;
  /** true when this frame was inlined into the next one (same address, not its last frame) */
  inlined: boolean;
}

export type StackFlameKind = 'cpu' | 'inuse' | 'alloc';
