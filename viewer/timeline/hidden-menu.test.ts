import { describe, expect, it } from 'vitest';
import { hiddenButtonText, hiddenMenuItems, menuMove } from './hidden-menu.js';

describe('the hidden tracks menu', () => {
  it('lists each hidden track by name (same names told apart by id), sorted, then Show all', () => {
    const items = hiddenMenuItems([
      { thread: 9, name: 'worker #9' },
      { thread: 2, name: 'main' },
      { thread: 4, name: 'worker #4' },
    ]);
    expect(items).toEqual([
      { thread: 2, label: 'main' },
      { thread: 4, label: 'worker #4' },
      { thread: 9, label: 'worker #9' },
      { thread: null, label: 'Show all 3' },
    ]);
  });

  it('is empty with nothing hidden, and says "Show it" for one', () => {
    expect(hiddenMenuItems([])).toEqual([]);
    expect(hiddenMenuItems([{ thread: 1, name: 'a' }]).map((i) => i.label)).toEqual(['a', 'Show it']);
    expect(hiddenButtonText(0)).toBe('');
    expect(hiddenButtonText(3)).toBe('show 3 hidden \u25be');
  });

  it('moves with the arrows (wrapping), Home and End; other keys do not move', () => {
    expect(menuMove(0, 3, 'ArrowDown')).toBe(1);
    expect(menuMove(2, 3, 'ArrowDown')).toBe(0);
    expect(menuMove(0, 3, 'ArrowUp')).toBe(2);
    expect(menuMove(1, 3, 'Home')).toBe(0);
    expect(menuMove(0, 3, 'End')).toBe(2);
    expect(menuMove(0, 3, 'Enter')).toBeNull();
    expect(menuMove(0, 0, 'ArrowDown')).toBeNull();
  });
});
