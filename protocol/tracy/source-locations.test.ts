import { describe, expect, it } from 'vitest';
import { SourceLocationTable } from './source-locations.js';

describe('SourceLocationTable.complete', () => {
  it('is false until a static location is resolved and its name, function and file strings arrived', () => {
    const s = new SourceLocationTable();
    const strings = new Map<number, string>();
    const i = s.addStatic(0x1000);
    expect(s.complete(i, strings)).toBe(false); // not resolved
    s.resolveStatic(i, 11, 12, 13, 42, 0);
    strings.set(12, 'PatternA');
    strings.set(13, 'app.cpp');
    // the function is known, the name not yet: displayName() would say the function
    expect(s.displayName(i, strings)).toBe('PatternA');
    expect(s.complete(i, strings)).toBe(false);
    strings.set(11, 'Frame');
    expect(s.complete(i, strings)).toBe(true);
    expect(s.displayName(i, strings)).toBe('Frame');
  });

  it('a location without a name needs its function and file only; an unknown index is not complete', () => {
    const s = new SourceLocationTable();
    const strings = new Map<number, string>([
      [2, 'main'],
      [3, 'main.cpp'],
    ]);
    const i = s.addStatic(0x2000);
    s.resolveStatic(i, 0, 2, 3, 1, 0);
    expect(s.complete(i, strings)).toBe(true);
    expect(s.complete(99, strings)).toBe(false);
  });
});
