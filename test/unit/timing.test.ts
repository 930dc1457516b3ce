import { describe, expect, it } from 'vitest';
import {
  PUSH_PULL_SCALE_THRESHOLD,
  pushPullScaleMs,
  remainingSuspicionTimeMs,
  retransmitLimit,
  scaleTimeoutMs,
  suspicionK,
  suspicionTimeoutMs,
} from '../../src/timing.js';

describe('suspicionTimeoutMs', () => {
  // memberlist util_test.go TestSuspicionTimeout: suspicionTimeout(3, n, 1s) / 3.
  it.each([
    [0, 1000],
    [1, 1000],
    [5, 1000],
    [10, 1000],
    [50, 1698],
    [100, 2000],
    [500, 2698],
    [1000, 3000],
  ])('mult 3, n=%i, 1 s interval: %i ms per unit of mult', (n, expected) => {
    expect(suspicionTimeoutMs(3, n, 1000) / 3).toBe(expected);
  });

  // Reference §4: the LAN defaults (mult 4, interval 1 s).
  it.each([
    [1, 4000],
    [3, 4000],
    [10, 4000],
    [50, 6792],
    [100, 8000],
    [1000, 12_000],
  ])('LAN mult 4, n=%i: %i ms', (n, expected) => {
    expect(suspicionTimeoutMs(4, n, 1000)).toBe(expected);
  });

  it('keeps sub-millisecond precision as memberlist keeps nanoseconds (mult 5, n 50, 100 ms)', () => {
    expect(suspicionTimeoutMs(5, 50, 100)).toBe(849);
    expect(suspicionTimeoutMs(4, 50, 100)).toBeCloseTo(679.2, 9);
  });

  it('dogpile setup (mult 5, 100 ms): 500 ms up to 10 nodes', () => {
    for (const n of [2, 3, 4, 5, 6, 10]) expect(suspicionTimeoutMs(5, n, 100)).toBe(500);
  });
});

describe('retransmitLimit', () => {
  // memberlist util_test.go TestRetransmitLimit.
  it.each([
    [3, 0, 0],
    [3, 1, 3],
    [3, 99, 6],
  ])('retransmitLimit(%i, %i) = %i', (mult, n, expected) => {
    expect(retransmitLimit(mult, n)).toBe(expected);
  });

  // Reference §6: mult 4 gives 4 for 1–9 nodes, 8 for 10–99, 12 for 100–999.
  it.each([
    [1, 9, 4],
    [10, 99, 8],
    [100, 999, 12],
  ])('mult 4, n in [%i, %i] gives %i', (from, to, expected) => {
    for (let n = from; n <= to; n++) expect(retransmitLimit(4, n)).toBe(expected);
  });

  it('n = 0 gives 0 regardless of mult', () => {
    expect(retransmitLimit(4, 0)).toBe(0);
  });
});

describe('pushPullScaleMs', () => {
  const interval = 30_000;

  it('threshold is memberlist pushPullScaleThreshold (32)', () => {
    expect(PUSH_PULL_SCALE_THRESHOLD).toBe(32);
  });

  // memberlist util_test.go TestPushPullScale plus reference §7's bands.
  it.each([
    [0, 32, 1],
    [33, 64, 2],
    [65, 128, 3],
    [129, 256, 4],
    [257, 512, 5],
  ])('n in [%i, %i] scales the interval %i×', (from, to, multiplier) => {
    for (let n = from; n <= to; n++) expect(pushPullScaleMs(interval, n)).toBe(multiplier * interval);
  });
});

describe('remainingSuspicionTimeMs', () => {
  // memberlist suspicion_test.go TestSuspicion_remainingSuspicionTime.
  it.each([
    { n: 0, k: 3, elapsed: 0, min: 2000, max: 30_000, expected: 30_000 },
    { n: 1, k: 3, elapsed: 2000, min: 2000, max: 30_000, expected: 14_000 },
    { n: 2, k: 3, elapsed: 3000, min: 2000, max: 30_000, expected: 4810 },
    { n: 3, k: 3, elapsed: 4000, min: 2000, max: 30_000, expected: -2000 },
    { n: 4, k: 3, elapsed: 5000, min: 2000, max: 30_000, expected: -3000 },
    { n: 5, k: 3, elapsed: 10_000, min: 2000, max: 30_000, expected: -8000 },
  ])('n=$n k=$k elapsed=$elapsed → $expected ms', ({ n, k, elapsed, min, max, expected }) => {
    expect(remainingSuspicionTimeMs(n, k, elapsed, min, max)).toBe(expected);
  });

  // memberlist suspicion_test.go TestSuspicion_Timer: min 0.5 s, max 2 s, k 3, no time elapsed. Upstream
  // expects "810 ms" within a timing tolerance; the exact floor of 2000 − ln3/ln4 × 1500 = 811.28 is 811,
  // which is what the synctest rewrite of that test asserts.
  it.each([
    [1, 1250],
    [2, 811],
    [3, 500],
  ])('min 500 max 2000 k 3: %i confirmation(s) → %i ms', (n, expected) => {
    expect(remainingSuspicionTimeMs(n, 3, 0, 500, 2000)).toBe(expected);
  });

  // Reference §4, concrete LAN behaviour for 4 to 10 nodes: min 4 s, max 24 s, k 2 ("11.38 s" is
  // 24 − ln2/ln3 × 20 = 11.3814, floored to 11381 ms).
  it.each([
    [0, 24_000],
    [1, 11_381],
    [2, 4000],
  ])('LAN 4–10 nodes: %i confirmation(s) → %i ms', (n, expected) => {
    expect(remainingSuspicionTimeMs(n, 2, 0, 4000, 24_000)).toBe(expected);
  });

  // The dogpile setup (min 500, max 1000, k 3). The upstream test expects "604 ms" with a 25 ms
  // tolerance; the exact floor of 1000 − ln3/ln4 × 500 = 603.76 is 603.
  it.each([
    [1, 750],
    [2, 603],
    [3, 500],
    [4, 500],
  ])('dogpile: %i confirmation(s) → %i ms', (n, expected) => {
    expect(remainingSuspicionTimeMs(n, 3, 0, 500, 1000)).toBe(expected);
  });

  it('clamps up to min once confirmations exceed k', () => {
    expect(remainingSuspicionTimeMs(10, 3, 0, 2000, 30_000)).toBe(2000);
  });

  it('k = 0 gives the minimum deadline instead of dividing by ln(1)', () => {
    expect(remainingSuspicionTimeMs(0, 0, 0, 4000, 24_000)).toBe(4000);
    expect(remainingSuspicionTimeMs(1, 0, 1500, 4000, 24_000)).toBe(2500);
  });
});

describe('suspicionK', () => {
  // Reference §4: k = mult − 2, but 0 when n − 2 < k.
  it.each([
    [4, 1, 0],
    [4, 2, 0],
    [4, 3, 0],
    [4, 4, 2],
    [4, 100, 2],
    [5, 4, 0],
    [5, 5, 3],
    [6, 8, 4],
    [3, 3, 1],
    [3, 2, 0],
    [2, 100, 0],
    [1, 100, 0],
    [0, 100, 0],
  ])('mult %i, n=%i → k=%i', (mult, n, expected) => {
    expect(suspicionK(mult, n)).toBe(expected);
  });
});

describe('scaleTimeoutMs', () => {
  // memberlist awareness_test.go: ScaleTimeout(t) = t × (score + 1).
  it.each([
    [0, 1000],
    [1, 2000],
    [7, 8000],
  ])('score %i scales 1 s to %i ms', (score, expected) => {
    expect(scaleTimeoutMs(1000, score)).toBe(expected);
  });
});
