import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { HookRunner } from '../../src/delegates.js';
import { silentLogger } from '../../src/log.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** A clock whose time moves only when the test says, even in the middle of a hook call. */
function steppingClock(): Clock & { t: number } {
  const v = new VirtualClock();
  const c = { t: 0, now: () => c.t, setTimer: v.setTimer.bind(v), defer: v.defer.bind(v), microtask: v.microtask.bind(v) };
  return c;
}

describe('HookRunner', () => {
  it('returns the hook value, or the fallback when it throws, counting calls and errors', () => {
    const clock = steppingClock();
    const h = new HookRunner({ ackPayload: () => new Uint8Array([1]), localState: () => { throw new Error('x'); } }, clock, silentLogger());
    expect(h.run('ackPayload', (d) => d.ackPayload?.(), undefined).value).toEqual(new Uint8Array([1]));
    const r = h.run('localState', (d) => d.localState?.(true), undefined);
    expect(r.failed).toBe(true);
    expect(r.value).toBeUndefined();
    expect(h.stats.get('ackPayload')).toEqual({ calls: 1, errors: 0, slow: 0 });
    expect(h.stats.get('localState')).toEqual({ calls: 1, errors: 1, slow: 0 });
  });

  it('counts a hook slower than the threshold', () => {
    const clock = steppingClock();
    const h = new HookRunner({ mergeRemoteState: () => void (clock.t += 50) }, clock, silentLogger(), 10);
    h.run('mergeRemoteState', (d) => d.mergeRemoteState?.(new Uint8Array(), false), undefined);
    expect(h.stats.get('mergeRemoteState')?.slow).toBe(1);
  });

  it('catches the rejection of an async hook instead of leaking an unhandled rejection', async () => {
    const clock = steppingClock();
    const h = new HookRunner({ onPingComplete: (() => Promise.reject(new Error('late'))) as never }, clock, silentLogger());
    h.run('onPingComplete', (d) => d.onPingComplete?.({} as never, 1, new Uint8Array()), undefined);
    await new Promise((r) => setImmediate(r));
    expect(h.stats.get('onPingComplete')?.errors).toBe(1);
  });
});
