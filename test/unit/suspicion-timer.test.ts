import { describe, expect, it } from 'vitest';
import { SuspicionState } from '../../src/actors/suspicion/suspicion-timer.js';

describe('SuspicionState remaining time (memberlist suspicion_test.go TestSuspicion_remainingSuspicionTime)', () => {
  // min 2 s, max 30 s, k 3: n confirmations at `elapsed` leave `remaining`.
  it.each([
    [0, 0, 30_000],
    [1, 2_000, 14_000],
    [2, 3_000, 4_810],
    [3, 4_000, -2_000],
  ])('n=%i at %i ms elapsed → %i ms remaining', (n, elapsed, remaining) => {
    const s = new SuspicionState({ from: 'accuser', k: 3, minMs: 2_000, maxMs: 30_000, startMs: 0 });
    let last: number | undefined;
    for (let i = 0; i < n; i++) {
      const o = s.confirm(`peer-${i}`, elapsed);
      expect(o.accepted).toBe(true);
      if (o.accepted) last = o.remainingMs;
    }
    expect(s.confirmations).toBe(n);
    expect(s.remainingMs(elapsed)).toBe(remaining);
    if (n > 0) expect(last).toBe(remaining);
  });
});

describe('SuspicionState timer (memberlist TestSuspicion_Timer: min .5 s, max 2 s, k 3)', () => {
  it('starts at max when k >= 1', () => {
    const s = new SuspicionState({ from: 'a', k: 3, minMs: 500, maxMs: 2_000, startMs: 100 });
    expect(s.initialTimeoutMs).toBe(2_000);
    expect(s.remainingMs(100)).toBe(2_000);
    expect(s.remainingMs(600)).toBe(1_500);
  });

  // timing.ts floors to whole milliseconds as memberlist does: 2 confirmations give 811 ms, not 810.
  it.each([
    [1, 1_250],
    [2, 811],
    [3, 500],
  ])('%i confirmation(s) at the start fire %i ms after the start', (n, fireAt) => {
    const start = 1_000;
    const s = new SuspicionState({ from: 'a', k: 3, minMs: 500, maxMs: 2_000, startMs: start });
    for (let i = 0; i < n; i++) s.confirm(`c${i}`, start);
    expect(start + s.remainingMs(start)).toBe(start + fireAt);
    // Later in time the deadline stays put: remaining shrinks with elapsed time.
    expect(s.remainingMs(start + 100)).toBe(fireAt - 100);
  });

  it('the accuser cannot confirm its own accusation', () => {
    const s = new SuspicionState({ from: 'a', k: 3, minMs: 500, maxMs: 2_000, startMs: 0 });
    expect(s.confirm('a', 10)).toEqual({ accepted: false });
    expect(s.confirmations).toBe(0);
    expect(s.remainingMs(0)).toBe(2_000);
  });

  it('ignores duplicate confirmations', () => {
    const s = new SuspicionState({ from: 'a', k: 3, minMs: 500, maxMs: 2_000, startMs: 0 });
    expect(s.confirm('b', 0)).toEqual({ accepted: true, remainingMs: 1_250 });
    expect(s.confirm('b', 0)).toEqual({ accepted: false });
    expect(s.confirmations).toBe(1);
  });

  it('accepts no more than k confirmations', () => {
    const s = new SuspicionState({ from: 'a', k: 2, minMs: 500, maxMs: 2_000, startMs: 0 });
    expect(s.confirm('b', 0).accepted).toBe(true);
    expect(s.confirm('c', 0).accepted).toBe(true);
    expect(s.confirm('d', 0)).toEqual({ accepted: false });
    expect(s.confirmations).toBe(2);
    expect(s.remainingMs(0)).toBe(500);
    expect(s.degraded).toBe(false);
  });

  it('k = 0 uses min from the start and takes no confirmations', () => {
    const s = new SuspicionState({ from: 'a', k: 0, minMs: 4_000, maxMs: 24_000, startMs: 0 });
    expect(s.initialTimeoutMs).toBe(4_000);
    expect(s.remainingMs(1_000)).toBe(3_000);
    expect(s.confirm('b', 0)).toEqual({ accepted: false });
    expect(s.degraded).toBe(false);
  });

  it('is degraded while fewer than k confirmations arrived', () => {
    const s = new SuspicionState({ from: 'a', k: 2, minMs: 500, maxMs: 2_000, startMs: 0 });
    expect(s.degraded).toBe(true);
    s.confirm('b', 0);
    expect(s.degraded).toBe(true);
    s.confirm('c', 0);
    expect(s.degraded).toBe(false);
  });
});
