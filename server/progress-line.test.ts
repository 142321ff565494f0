import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, formatElapsed, ProgressLine } from './progress-line.js';

function collector(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (t: string) => chunks.push(t) } };
}

describe('ProgressLine', () => {
  afterEach(() => vi.useRealTimers());

  it('prints nothing during the first second, then a line about once a second', () => {
    vi.useFakeTimers();
    const { chunks, stream } = collector(false);
    let i = 0;
    const p = new ProgressLine(stream, () => `step ${i++}`).start();
    vi.advanceTimersByTime(999);
    expect(chunks).toEqual([]);
    vi.advanceTimersByTime(2001);
    p.stop();
    vi.advanceTimersByTime(5000);
    expect(chunks).toEqual(['step 0\n', 'step 1\n', 'step 2\n']);
  });

  it('redraws one line on a terminal and ends it on stop', () => {
    vi.useFakeTimers();
    const { chunks, stream } = collector(true);
    const p = new ProgressLine(stream, () => 'x').start();
    vi.advanceTimersByTime(2000);
    p.stop('done');
    expect(chunks).toEqual(['\rx\x1b[K', '\rx\x1b[K', '\rdone\x1b[K', '\n']);
  });

  it('prints nothing when quiet', () => {
    vi.useFakeTimers();
    const { chunks, stream } = collector(true);
    const p = new ProgressLine(stream, () => 'x', { quiet: true }).start();
    vi.advanceTimersByTime(5000);
    p.stop('done');
    expect(chunks).toEqual([]);
  });
});

it('formats sizes and durations for people', () => {
  expect([formatBytes(512), formatBytes(1536), formatBytes(3 * 2 ** 20), formatBytes(150 * 2 ** 30)]).toEqual(['512 B', '1.5 KiB', '3.0 MiB', '150 GiB']);
  expect([formatElapsed(999), formatElapsed(65_000), formatElapsed(3_725_000)]).toEqual(['0:00', '1:05', '1:02:05']);
});
