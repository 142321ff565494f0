import type { CompareFlameNode, CompareRow, CompareSideStats } from '../../protocol/view/compare-types.js';
import type { FlameNode } from '../../protocol/view/types.js';
import { compareSortValue } from '../../protocol/view/compare-sort.js';
import { formatCount, formatDuration } from '../format.js';

/**
 * What the Compare panel shows, as pure functions (unit-tested in node): its columns (each a
 * sort key of GET /api/compare, so a header click sorts like the API), the colour of a change,
 * and the merged flame graph as the flame layout's nodes.
 */

export interface CompareColumn {
  /** the API's sort key (protocol/view/compare-sort.ts) */
  key: string;
  label: string;
  title: string;
  /** text of the cell */
  text(row: CompareRow): string;
  /** a change of a duration: coloured (more time is worse) */
  change?: boolean;
}

type Figure = 'count' | 'total' | 'mean' | 'median' | 'p99';
const FIELD: Record<Figure, keyof CompareSideStats> = { count: 'count', total: 'totalNs', mean: 'meanNs', median: 'medianNs', p99: 'p99Ns' };

/** "+12.3%", "-4.0%", "new" (no percentage: A was 0), "" (one side only). */
export function pctText(pct: number | null | undefined): string {
  if (pct === undefined) return '';
  if (pct === null) return 'new';
  return `${pct > 0 ? '+' : ''}${Math.abs(pct) >= 100 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

function figureColumns(figure: Figure, withAbs: boolean): CompareColumn[] {
  const f = FIELD[figure];
  const fmt = figure === 'count' ? formatCount : formatDuration;
  const side = (s: CompareSideStats | null) => (s ? fmt(s[f]) : '—');
  const cols: CompareColumn[] = [
    { key: `${figure}-a`, label: `${figure} A`, title: `${figure} in A (the baseline)`, text: (r) => side(r.a) },
    { key: `${figure}-b`, label: `${figure} B`, title: `${figure} in B (this session)`, text: (r) => side(r.b) },
  ];
  const duration = figure !== 'count';
  if (withAbs) cols.push({ key: `${figure}-change`, label: `${figure} Δ`, title: `${figure}: B - A`, change: duration, text: (r) => (r.change ? `${r.change[f].abs > 0 ? '+' : ''}${fmt(r.change[f].abs)}` : '') });
  cols.push({ key: `${figure}-pct`, label: `${figure} %`, title: `${figure}: (B - A) / A`, change: duration, text: (r) => pctText(r.change?.[f].pct) });
  return cols;
}

export const COMPARE_COLUMNS: CompareColumn[] = [
  { key: 'name', label: 'name', title: 'zone name (ZoneName override, else its source location)', text: (r) => r.name },
  ...figureColumns('count', false),
  ...figureColumns('total', true),
  ...figureColumns('mean', false),
  ...figureColumns('median', true),
  ...figureColumns('p99', true),
];

/** 'worse' (more time in B), 'better' (less), or '' (same, or nothing to compare) for a change cell. */
export function changeClass(row: CompareRow, key: string): '' | 'worse' | 'better' {
  const v = compareSortValue(row, key);
  if (v === null) return row.change === null ? '' : 'worse'; // null pct with a change: from 0 ns to more
  return v > 0 ? 'worse' : v < 0 ? 'better' : '';
}

/**
 * The colour of a flame node whose total went from `a` to `b` ns: grey when unchanged, towards
 * red as it grew (full at +100 % or a path new in B), towards green as it shrank (full at -100 %:
 * gone from B).
 */
export function changeRgb(a: number, b: number): number {
  const t = a > 0 ? Math.max(-1, Math.min(1, (b - a) / a)) : b > 0 ? 1 : 0;
  const grey = [0x6b, 0x70, 0x7a] as const;
  const to = t >= 0 ? ([0xe0, 0x3b, 0x3b] as const) : ([0x2f, 0xb3, 0x5a] as const);
  const k = Math.abs(t);
  const c = grey.map((g, i) => Math.round(g + (to[i]! - g) * k));
  return (c[0]! << 16) | (c[1]! << 8) | c[2]!;
}

/**
 * The merged flame graph as flame-layout nodes: widths by B's total (this session), and the
 * paths only in A (gone from B) by A's total, so they still show; `srcloc` -1 (paths are by name).
 */
export function flameNodesOf(nodes: readonly CompareFlameNode[]): FlameNode[] {
  return nodes.map((n) => {
    const f = n.b ?? n.a ?? { count: 0, totalNs: 0, selfNs: 0 };
    return { id: n.id, parent: n.parent, srcloc: -1, name: n.name, count: f.count, totalNs: f.totalNs, selfNs: f.selfNs, children: n.children };
  });
}

/** Tooltip lines of a merged flame node. */
export function flameTooltip(n: CompareFlameNode): string[] {
  const a = n.a?.totalNs ?? 0;
  const b = n.b?.totalNs ?? 0;
  return [
    n.name,
    `A: ${n.a ? `${formatDuration(a)} in ${formatCount(n.a.count)} zones` : 'not in A'}`,
    `B: ${n.b ? `${formatDuration(b)} in ${formatCount(n.b.count)} zones` : 'not in B'}`,
    n.a && n.b ? `change ${b - a >= 0 ? '+' : ''}${formatDuration(b - a)} (${pctText(a > 0 ? ((b - a) / a) * 100 : b > 0 ? null : 0)})` : '',
  ].filter((l) => l !== '');
}
