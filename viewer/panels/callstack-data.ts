/**
 * Callstack frames as the panels show them (pure: unit-tested in node, callstack-data.test.ts).
 * Frames come innermost first from GET /callstacks/:cs (protocol/view/types.ts StackFrame).
 */
import type { StackFrame } from '../../protocol/view/types.js';

/** "file:line" (dimmed beside the function), "file" without a line, '' without a file. */
export function frameLocation(f: StackFrame): string {
  if (!f.file) return '';
  return f.line > 0 ? `${f.file}:${f.line}` : f.file;
}

/** The hover text of a frame: its image and return address (what the function name does not say). */
export function frameTitle(f: StackFrame): string {
  const parts: string[] = [];
  if (f.image) parts.push(`image ${f.image}`);
  if (f.address) parts.push(`address ${f.address}`);
  if (f.inlined) parts.push('inlined into the frame below');
  return parts.join('\n');
}

/** An address the client could not resolve: the server names it by its hex address. */
export function unresolved(f: StackFrame): boolean {
  return /^0x[0-9a-f]+$/i.test(f.function) && !f.file;
}

/**
 * The frames as plain text, one per line, innermost first ("function  file:line [inlined]"):
 * the aria label and the copy of a stack.
 */
export function callstackText(frames: readonly StackFrame[]): string {
  return frames.map((f) => [f.function, frameLocation(f), f.inlined ? '[inlined]' : ''].filter(Boolean).join('  ')).join('\n');
}
