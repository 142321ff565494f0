import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatExactNs, formatPlotValue, formatTimestamp, trimNumber } from './format.js';

describe('formatDuration', () => {
  it('shows whole nanoseconds below a microsecond', () => {
    expect(formatDuration(0)).toBe('0 ns');
    expect(formatDuration(850)).toBe('850 ns');
    expect(formatDuration(12.4)).toBe('12 ns');
  });

  it('keeps three significant digits in us and ms', () => {
    expect(formatDuration(1_234)).toBe('1.23 us');
    expect(formatDuration(12_345)).toBe('12.3 us');
    expect(formatDuration(123_456)).toBe('123 us');
    expect(formatDuration(4_561_000)).toBe('4.56 ms');
    expect(formatDuration(45_610_000)).toBe('45.6 ms');
    expect(formatDuration(456_100_000)).toBe('456 ms');
  });

  it('shows seconds with a millisecond digit below ten seconds', () => {
    expect(formatDuration(1_234_000_000)).toBe('1.234 s');
    expect(formatDuration(12_345_000_000)).toBe('12.35 s');
  });

  it('moves to the next unit when rounding reaches it', () => {
    expect(formatDuration(999.7)).toBe('1.00 us');
    expect(formatDuration(999_996)).toBe('1.00 ms');
    expect(formatDuration(999_996_000)).toBe('1.000 s');
    expect(formatDuration(59_999_999_999)).toBe('1:00.000');
  });

  it('shows a minute or more as m:ss.mmm', () => {
    expect(formatDuration(60e9)).toBe('1:00.000');
    expect(formatDuration(125.5e9)).toBe('2:05.500');
    expect(formatDuration(3_600e9)).toBe('60:00.000');
    // the milliseconds never round up to a 60th second
    expect(formatDuration(119_999_900_000)).toBe('2:00.000');
  });

  it('keeps the sign of negative durations and never shows -0', () => {
    expect(formatDuration(-1_500)).toBe('-1.50 us');
    expect(formatDuration(-90e9)).toBe('-1:30.000');
    expect(formatDuration(-0.3)).toBe('0 ns');
  });

  it('shows a dash for values that are not finite', () => {
    expect(formatDuration(NaN)).toBe('-');
    expect(formatDuration(Infinity)).toBe('-');
  });
});

describe('formatBytes', () => {
  it('counts in powers of 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12.3 * 1024 ** 2)).toBe('12.3 MiB');
    expect(formatBytes(123 * 1024 ** 2)).toBe('123 MiB');
    expect(formatBytes(2 * 1024 ** 3)).toBe('2.00 GiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.00 TiB');
  });

  it('stays in TiB beyond the largest unit', () => {
    expect(formatBytes(2048 * 1024 ** 4)).toBe('2048 TiB');
  });

  it('moves to the next unit when rounding reaches 1024', () => {
    expect(formatBytes(1023.7)).toBe('1.00 KiB');
    expect(formatBytes(1023.9 * 1024)).toBe('1.00 MiB');
  });

  it('keeps the sign of negative sizes (a memory delta)', () => {
    expect(formatBytes(-1536)).toBe('-1.50 KiB');
    expect(formatBytes(-10)).toBe('-10 B');
  });

  it('shows a dash for values that are not finite', () => {
    expect(formatBytes(NaN)).toBe('-');
  });
});

describe('formatPlotValue', () => {
  it('formats numbers (format 0) with at most four significant digits', () => {
    expect(formatPlotValue(0, 0)).toBe('0');
    expect(formatPlotValue(3.14159, 0)).toBe('3.142');
    expect(formatPlotValue(-0.000123456, 0)).toBe('-0.0001235');
    expect(formatPlotValue(99.996, 0)).toBe('100');
  });

  it('groups thousands of large numbers', () => {
    expect(formatPlotValue(1234.56, 0)).toBe('1,234.6');
    expect(formatPlotValue(12_345_678.9, 0)).toBe('12,345,679');
  });

  it('formats memory (format 1) in powers of 1024', () => {
    expect(formatPlotValue(1536, 1)).toBe('1.50 KiB');
    expect(formatPlotValue(300 * 1024 ** 2, 1)).toBe('300 MiB');
  });

  it('formats percentages (format 2) as the value with a % sign', () => {
    expect(formatPlotValue(42.5, 2)).toBe('42.5%');
    expect(formatPlotValue(100, 2)).toBe('100%');
  });

  it('formats watts (format 3)', () => {
    expect(formatPlotValue(3.5, 3)).toBe('3.5 W');
    expect(formatPlotValue(1500, 3)).toBe('1,500 W');
  });

  it('treats an unknown format as a plain number', () => {
    expect(formatPlotValue(7.25, 9)).toBe('7.25');
  });

  it('shows a dash for values that are not finite', () => {
    expect(formatPlotValue(NaN, 1)).toBe('-');
    expect(formatPlotValue(-Infinity, 0)).toBe('-');
  });

  it('trims a number the same way on its own', () => {
    expect(trimNumber(0.5)).toBe('0.5');
    expect(trimNumber(123.456)).toBe('123.5');
  });
});

describe('formatTimestamp', () => {
  it('shows seconds and nine fraction digits in groups of three', () => {
    expect(formatTimestamp(0)).toBe('0.000 000 000 s');
    expect(formatTimestamp(1_234_567_890)).toBe('1.234 567 890 s');
    expect(formatTimestamp(61_000_000_001)).toBe('61.000 000 001 s');
  });

  it('rounds fractional nanoseconds, carrying into the seconds', () => {
    expect(formatTimestamp(1_500.4)).toBe('0.000 001 500 s');
    expect(formatTimestamp(1_999_999_999.7)).toBe('2.000 000 000 s');
  });

  it('keeps the sign of times before the session start', () => {
    expect(formatTimestamp(-2_500_000_000)).toBe('-2.500 000 000 s');
  });

  it('shows a dash for values that are not finite', () => {
    expect(formatTimestamp(NaN)).toBe('-');
  });
});

describe('counts and exact durations', () => {
  it('groups thousands', () => {
    expect(formatCount(1234567.4)).toBe('1,234,567');
    expect(formatExactNs(12_345_678)).toBe('12,345,678 ns');
  });
});
