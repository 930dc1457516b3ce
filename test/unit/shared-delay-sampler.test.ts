/**
 * One event-loop delay histogram per thread, shared by every loop monitor on it: each reader must
 * still get exactly the worst delay since its own previous read, as it did with a histogram of its own.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { delayResolutionMs, SharedDelaySampler, type DelayHistogram } from '../../src/actors/loop-monitor/shared-delay-sampler.js';

/** A histogram the test feeds by hand (values in ms; the sampler reads ns). */
class FakeHistogram implements DelayHistogram {
  count = 0;
  maxMs = 0;
  enabled = false;
  get max(): number {
    return this.maxMs * 1e6;
  }
  record(ms: number): void {
    this.count++;
    this.maxMs = Math.max(this.maxMs, ms);
  }
  enable(): void {
    this.enabled = true;
  }
  disable(): void {
    this.enabled = false;
  }
  reset(): void {
    this.count = 0;
    this.maxMs = 0;
  }
}

describe('SharedDelaySampler', () => {
  it('creates one histogram for all readers and disables it when the last one leaves', () => {
    const made: FakeHistogram[] = [];
    const s = new SharedDelaySampler(() => {
      const h = new FakeHistogram();
      made.push(h);
      return h;
    });
    const a = s.join(0);
    const b = s.join(0);
    expect(made.length).toBe(1);
    expect(made[0]?.enabled).toBe(true);
    a.leave();
    a.leave(); // idempotent
    expect(made[0]?.enabled).toBe(true);
    b.leave();
    expect(made[0]?.enabled).toBe(false);
    expect(s.readers).toBe(0);
    s.join(0);
    expect(made.length).toBe(2);
  });

  it('gives each reader the worst delay since its own previous read (against per-reader histograms)', () => {
    // Random interleavings of delays recorded on the loop and reads by 1-4 readers.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('delay' as const), ms: fc.integer({ min: 0, max: 2000 }) }),
      fc.record({ kind: fc.constant('read' as const), reader: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 200 }), (readers, ops) => {
        const h = new FakeHistogram();
        const s = new SharedDelaySampler(() => h, 1e12);
        const views = Array.from({ length: readers }, () => s.join(0));
        // The reference: what each reader's own histogram would hold.
        const own = Array.from({ length: readers }, () => 0);
        let t = 0;
        for (const o of ops) {
          t++;
          if (o.kind === 'delay') {
            h.record(o.ms);
            for (let i = 0; i < readers; i++) own[i] = Math.max(own[i] as number, o.ms);
          } else {
            const i = o.reader % readers;
            expect(views[i]?.read(t)).toBe(own[i]);
            own[i] = 0;
          }
        }
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('samples at half the stall threshold (at least 10 ms); a finer reader makes the shared histogram finer and keeps what was seen', () => {
    expect(delayResolutionMs(200)).toBe(100);
    expect(delayResolutionMs(500)).toBe(250);
    expect(delayResolutionMs(3000)).toBe(1500);
    expect(delayResolutionMs(15)).toBe(10);
    const made: Array<{ h: FakeHistogram; resolution: number }> = [];
    const s = new SharedDelaySampler((resolution) => {
      const h = new FakeHistogram();
      made.push({ h, resolution });
      return h;
    });
    const coarse = s.join(0, 50);
    made[0]?.h.record(300);
    const fine = s.join(1, 20);
    expect(made.map((m) => m.resolution)).toEqual([50, 20]);
    expect(made[0]?.h.enabled).toBe(false);
    expect(s.resolutionMs).toBe(20);
    made[1]?.h.record(40);
    expect(coarse.read(2)).toBe(300);
    expect(fine.read(2)).toBe(40);
    s.join(3, 50); // coarser: no new histogram
    expect(made.length).toBe(2);
  });

  it('forgets marks older than the horizon (a reader that slept that long gets the recent worst)', () => {
    const h = new FakeHistogram();
    const s = new SharedDelaySampler(() => h, 1000);
    const sleeper = s.join(0);
    const busy = s.join(0);
    h.record(900);
    expect(busy.read(10)).toBe(900);
    h.record(50);
    expect(busy.read(5000)).toBe(50);
    expect(sleeper.read(5001)).toBe(50);
  });
});
