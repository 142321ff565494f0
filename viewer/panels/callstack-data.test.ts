import { describe, expect, it } from 'vitest';
import type { StackFrame } from '../../protocol/view/types.js';
import { callstackText, frameLocation, frameTitle, unresolved } from './callstack-data.js';

function frame(p: Partial<StackFrame>): StackFrame {
  return { function: 'cs1_deep', file: './fixture/fixture_cs.cpp', line: 42, image: 'bin/fixture_cs', address: '0x55d0c0ffee10', inlined: false, ...p };
}

describe('callstack frames as shown', () => {
  it('places a frame at file:line, at the file alone without a line, nowhere without a file', () => {
    expect(frameLocation(frame({}))).toBe('./fixture/fixture_cs.cpp:42');
    expect(frameLocation(frame({ line: 0 }))).toBe('./fixture/fixture_cs.cpp');
    expect(frameLocation(frame({ file: '', line: 0 }))).toBe('');
  });

  it('names the image and the exact address on hover, and says when the frame was inlined', () => {
    expect(frameTitle(frame({}))).toBe('image bin/fixture_cs\naddress 0x55d0c0ffee10');
    expect(frameTitle(frame({ inlined: true, image: '' }))).toBe('address 0x55d0c0ffee10\ninlined into the frame below');
  });

  it('tells an unresolved address (named by its hex) from a resolved function', () => {
    expect(unresolved(frame({ function: '0x7f00dead', file: '', line: 0 }))).toBe(true);
    expect(unresolved(frame({}))).toBe(false);
    expect(unresolved(frame({ function: '0xcafe' }))).toBe(false);
  });

  it('writes a stack as text, innermost first, one frame a line', () => {
    const text = callstackText([frame({ function: 'tracy::ScopedZone::ScopedZone', file: 'TracyProfiler.hpp', line: 7, inlined: true }), frame({}), frame({ function: '0x1', file: '', line: 0 })]);
    expect(text).toBe('tracy::ScopedZone::ScopedZone  TracyProfiler.hpp:7  [inlined]\ncs1_deep  ./fixture/fixture_cs.cpp:42\n0x1');
  });
});
