import { describe, expect, it } from 'vitest';
import { WARM_UP_ZONES, warmUpDecoder } from './warm-up.js';

describe('decoder warm-up', () => {
  it('walks every zone of its synthetic workload, in two rounds, through a session reader into throwaway stores', () => {
    const r = warmUpDecoder();
    expect(r.zones).toBeGreaterThanOrEqual(2 * WARM_UP_ZONES);
    expect(r.zones).toBeLessThan(2 * WARM_UP_ZONES * 1.1);
    expect(r.ms).toBeGreaterThan(0);
  });
});
