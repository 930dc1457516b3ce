import { describe, expect, it } from 'vitest';
import { Awareness } from '../../src/actors/probe/awareness.js';

describe('Awareness (memberlist awareness.go)', () => {
  it('starts healthy at 0', () => {
    const a = new Awareness(8);
    expect(a.score).toBe(0);
    expect(a.max).toBe(8);
  });

  // memberlist awareness_test.go TestAwareness: the delta sequence and the scaled 1 s timeout.
  it('clamps to [0, max − 1] and scales timeouts by score + 1, row by row', () => {
    const rows: [number, number, number][] = [
      [0, 0, 1000],
      [-1, 0, 1000],
      [-10, 0, 1000],
      [1, 1, 2000],
      [-1, 0, 1000],
      [10, 7, 8000],
      [-1, 6, 7000],
      [-1, 5, 6000],
      [-1, 4, 5000],
      [-1, 3, 4000],
      [-1, 2, 3000],
      [-1, 1, 2000],
      [-1, 0, 1000],
      [-1, 0, 1000],
    ];
    const a = new Awareness(8);
    for (const [delta, score, timeout] of rows) {
      a.applyDelta(delta);
      expect(a.score).toBe(score);
      expect(a.scaleTimeout(1000)).toBe(timeout);
    }
  });

  it('reports whether the score changed', () => {
    const a = new Awareness(3);
    expect(a.applyDelta(0)).toBe(false);
    expect(a.applyDelta(-1)).toBe(false); // already at the floor
    expect(a.applyDelta(1)).toBe(true);
    expect(a.applyDelta(5)).toBe(true); // 1 → 2 (clamped at max − 1)
    expect(a.score).toBe(2);
    expect(a.applyDelta(1)).toBe(false); // already at the ceiling
    expect(a.applyDelta(-2)).toBe(true);
    expect(a.score).toBe(0);
  });

  it('max 1 pins the score at 0 (no back-off)', () => {
    const a = new Awareness(1);
    expect(a.applyDelta(4)).toBe(false);
    expect(a.score).toBe(0);
    expect(a.scaleTimeout(500)).toBe(500);
  });

  it.each([
    [0, 1000],
    [1, 2000],
    [3, 4000],
    [7, 8000],
  ])('score %i scales a 1 s probe interval to %i ms', (score, expected) => {
    const a = new Awareness(8);
    a.applyDelta(score);
    expect(a.scaleTimeout(1000)).toBe(expected);
  });
});
