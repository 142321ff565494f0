import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, MIN_PANEL_PX, MIN_TIMELINE_PX, chosenColumns, dragSize, parseLayout, serializeLayout, toggleColumn } from './layout-state.js';

describe('panel layout state', () => {
  it('round-trips dock, sizes, maximized and the statistics columns', () => {
    const s = { dock: 'bottom' as const, sidePx: 700, bottomPx: 455, maximized: true, statsColumns: ['name', 'count', 'p99'] };
    expect(parseLayout(serializeLayout(s))).toEqual(s);
    expect(parseLayout(serializeLayout(DEFAULT_LAYOUT))).toEqual(DEFAULT_LAYOUT);
  });

  it('takes the default for anything missing or malformed, never throwing', () => {
    expect(parseLayout(null)).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('{not json')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('[1,2]')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('null')).toEqual(DEFAULT_LAYOUT);
    const s = parseLayout(JSON.stringify({ dock: 'left', sidePx: -5, bottomPx: 'big', maximized: 'yes', statsColumns: 'all' }));
    expect(s).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout(JSON.stringify({ sidePx: MIN_PANEL_PX - 1, bottomPx: Number.MAX_VALUE })).sidePx).toBe(DEFAULT_LAYOUT.sidePx);
    expect(parseLayout(JSON.stringify({ statsColumns: ['name', 3, null, 'max'] })).statsColumns).toEqual(['name', 'max']);
    expect(parseLayout(JSON.stringify({ sidePx: 512.6 })).sidePx).toBe(513);
  });

  it('sizes the panel from the pointer to the far edge, keeping both sides usable', () => {
    // side dock: layout from x=0 to x=1600, pointer at 1000 -> panel 600 wide
    expect(dragSize(1000, 0, 1600)).toBe(600);
    expect(dragSize(1590, 0, 1600)).toBe(MIN_PANEL_PX);
    expect(dragSize(-50, 0, 1600)).toBe(1600 - MIN_TIMELINE_PX);
    // bottom dock: layout from y=36 to y=900
    expect(dragSize(500, 36, 900)).toBe(400);
    // a box too small for both keeps the panel's minimum
    expect(dragSize(0, 0, 300)).toBe(MIN_PANEL_PX);
  });
});

describe('statistics column choice', () => {
  const all = ['name', 'location', 'count', 'total', 'self', 'mean'];
  it('shows all without a choice, and keeps table order and the required columns', () => {
    expect(chosenColumns(all, null)).toEqual(all);
    expect(chosenColumns(all, ['mean', 'count'], ['name'])).toEqual(['name', 'count', 'mean']);
  });
  it('drops unknown keys, and shows all when a choice leaves nothing', () => {
    expect(chosenColumns(all, ['gone', 'self'])).toEqual(['self']);
    expect(chosenColumns(all, ['gone'])).toEqual(all);
    expect(chosenColumns(all, [])).toEqual(all);
  });
  it('toggles a column, back to null when every column is shown, and never hides a required one', () => {
    const a = toggleColumn(all, null, 'location', false, ['name']);
    expect(a).toEqual(['name', 'count', 'total', 'self', 'mean']);
    expect(toggleColumn(all, a, 'location', true, ['name'])).toBeNull();
    expect(toggleColumn(all, a, 'name', false, ['name'])).toEqual(a);
    expect(toggleColumn(all, null, 'name', false, ['name'])).toBeNull();
  });
});
