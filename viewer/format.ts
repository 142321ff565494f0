/** Formatting of times, sizes and plot values for labels, tables and tooltips. */

/**
 * A duration in ns with a unit that keeps 3-4 significant digits: "850 ns", "12.3 us", "4.56 ms",
 * "1.234 s", and from a minute on "m:ss.mmm" ("2:05.500"). The unit is picked after rounding, so
 * 999.7 ns is "1.00 us", not "1000 ns".
 */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  for (const [scale, unit, digits, limit] of DURATION_UNITS) {
    const text = trim(ns / scale, digits);
    if (Math.abs(Number(text)) < limit) return `${text} ${unit}`;
  }
  const ms = Math.round(Math.abs(ns) / 1e6);
  const m = Math.floor(ms / 60_000);
  const s = (ms - m * 60_000) / 1000;
  return `${ns < 0 ? '-' : ''}${m}:${s.toFixed(3).padStart(6, '0')}`;
}

/** [ns per unit, unit, decimals below 10, first value that needs the next unit] */
const DURATION_UNITS: ReadonlyArray<readonly [number, string, number, number]> = [
  [1, 'ns', 0, 1e3],
  [1e3, 'us', 2, 1e3],
  [1e6, 'ms', 2, 1e3],
  [1e9, 's', 3, 60],
];

/** A duration to the nanosecond with thousands grouped: "12,345,678 ns" (details panel). */
export function formatExactNs(ns: number): string {
  return `${Math.round(ns).toLocaleString('en-US')} ns`;
}

/** A time on the session's time line (ns since its start), as "1.234 567 890 s"-like text. */
export function formatTimestamp(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  const neg = ns < 0;
  // round first: 1.9999999996 s is "2.000 000 000 s", not a tenth digit after "1."
  const a = Math.round(Math.abs(ns));
  const s = Math.floor(a / 1e9);
  const rest = a - s * 1e9;
  const frac = String(rest).padStart(9, '0');
  return `${neg ? '-' : ''}${s}.${frac.slice(0, 3)} ${frac.slice(3, 6)} ${frac.slice(6)} s`;
}

function trim(x: number, digits: number): string {
  const a = Math.abs(x);
  const d = a >= 100 ? Math.max(0, digits - 2) : a >= 10 ? Math.max(0, digits - 1) : digits;
  const text = x.toFixed(d);
  // -0.3 ns rounds to "-0": show "0"
  return Number(text) === 0 ? text.replace('-', '') : text;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in powers of 1024: "512 B", "1.50 KiB", "12.3 MiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  let v = Math.abs(bytes);
  let u = 0;
  // the unit is picked after rounding: 1023.7 B is "1.00 KiB", not "1024 B"
  const shown = () => Number(u === 0 ? Math.round(v) : trim(v, 2));
  while (shown() >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const sign = bytes < 0 ? '-' : '';
  return u === 0 ? `${sign}${Math.round(v)} B` : `${sign}${trim(v, 2)} ${BYTE_UNITS[u]}`;
}

/** A plot value by its PlotFormat (0 number, 1 memory, 2 percentage, 3 watt). */
export function formatPlotValue(value: number, format: number): string {
  if (!Number.isFinite(value)) return '-';
  switch (format) {
    case 1:
      return formatBytes(value);
    case 2:
      return `${trimNumber(value)}%`;
    case 3:
      return `${trimNumber(value)} W`;
    default:
      return trimNumber(value);
  }
}

/** A number with at most 4 significant decimals, thousands grouped for large ones. */
export function trimNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (a >= 100) return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  if (a === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

/** A count with thousands grouped. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
