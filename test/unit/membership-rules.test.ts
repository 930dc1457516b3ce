import { describe, expect, it } from 'vitest';
import { wire } from '../../src/gen/index.js';
import { decideAlive, type AliveClaim, type AliveContext } from '../../src/actors/membership/alive-rule.js';
import type { MemberRecord } from '../../src/actors/membership/member-record.js';
import { decideDead, decideSuspect, reapable, refuteIncarnation } from '../../src/actors/membership/suspect-dead-rules.js';

const { ALIVE, SUSPECT, DEAD, LEFT } = wire.MemberState;
const VSN = [1, 5, 2, 0, 0, 0] as const;

function rec(over: Partial<MemberRecord> = {}): MemberRecord {
  return { name: 'b', host: '127.0.0.2', port: 7946, meta: new Uint8Array(), incarnation: 5, state: ALIVE, stateChangeMs: 0, vsn: VSN, ...over };
}
function claim(over: Partial<AliveClaim> = {}): AliveClaim {
  return { name: 'b', host: '127.0.0.2', port: 7946, meta: new Uint8Array(), incarnation: 5, vsn: VSN, ...over };
}
const ctx: AliveContext = { localName: 'a', nowMs: 100_000, deadNodeReclaimTimeMs: 0, bootstrap: false, hasLeft: false };

describe('alive rule (memberlist aliveNode)', () => {
  it.each([
    ['unknown member joins', undefined, claim(), ctx, 'apply', 'join'],
    ['same incarnation about another node is stale (ties need strictly greater)', rec(), claim(), ctx, 'ignore', 'stale'],
    ['older incarnation is stale', rec(), claim({ incarnation: 4 }), ctx, 'ignore', 'stale'],
    ['newer incarnation applies, no meta change: no event', rec(), claim({ incarnation: 6 }), ctx, 'apply', 'none'],
    ['newer incarnation with new meta: update', rec(), claim({ incarnation: 6, meta: new Uint8Array([1]) }), ctx, 'apply', 'update'],
    ['suspect -> alive at a newer incarnation: no event (alive is for the facade)', rec({ state: SUSPECT }), claim({ incarnation: 6 }), ctx, 'apply', 'none'],
    ['dead -> alive: join', rec({ state: DEAD }), claim({ incarnation: 6 }), ctx, 'apply', 'join'],
    ['left -> alive at same incarnation is stale', rec({ state: LEFT }), claim(), ctx, 'ignore', 'stale'],
    ['bad versions (pmin 0) ignored', undefined, claim({ vsn: [0, 5, 2, 0, 0, 0] }), ctx, 'ignore', 'bad-versions'],
    ['bad versions (pmin > pmax) ignored', undefined, claim({ vsn: [5, 1, 2, 0, 0, 0] }), ctx, 'ignore', 'bad-versions'],
    ['new address for alive member: conflict', rec(), claim({ host: '127.0.0.9', incarnation: 9 }), ctx, 'conflict', undefined],
    ['new address for a left member: takes over even at incarnation 1', rec({ state: LEFT }), claim({ host: '127.0.0.9', incarnation: 1 }), ctx, 'apply', 'join'],
    ['new address for a dead member, no reclaim time: conflict', rec({ state: DEAD }), claim({ host: '127.0.0.9', incarnation: 9 }), ctx, 'conflict', undefined],
    ['new address for a dead member past reclaim time: takes over', rec({ state: DEAD, stateChangeMs: 0 }), claim({ port: 1, incarnation: 1 }), { ...ctx, deadNodeReclaimTimeMs: 50_000 }, 'apply', 'join'],
    ['new address for a dead member within reclaim time: conflict', rec({ state: DEAD, stateChangeMs: 90_000 }), claim({ port: 1 }), { ...ctx, deadNodeReclaimTimeMs: 50_000 }, 'conflict', undefined],
  ] as const)('%s', (_name, existing, c, context, kind, detail) => {
    const d = decideAlive(existing, c, context);
    expect(d.kind).toBe(kind);
    if (d.kind === 'apply') {
      expect(d.event).toBe(detail);
      expect(d.record.state).toBe(ALIVE);
      expect(d.record.incarnation).toBe(c.incarnation);
    }
    if (d.kind === 'ignore') expect(d.reason).toBe(detail);
  });

  const me = rec({ name: 'a', incarnation: 3 });
  it.each([
    ['our own first alive (bootstrap) joins', undefined, claim({ name: 'a', incarnation: 1 }), { ...ctx, bootstrap: true }, 'apply'],
    ['an echo of our current alive is ignored', me, claim({ name: 'a', incarnation: 3 }), ctx, 'ignore'],
    ['same incarnation with other meta about us is refuted', me, claim({ name: 'a', incarnation: 3, meta: new Uint8Array([9]) }), ctx, 'refute'],
    ['a newer incarnation about us is refuted', me, claim({ name: 'a', incarnation: 7 }), ctx, 'refute'],
    ['an older incarnation about us is stale', me, claim({ name: 'a', incarnation: 2 }), ctx, 'ignore'],
    ['after we left, alive about us is ignored', me, claim({ name: 'a', incarnation: 9 }), { ...ctx, hasLeft: true }, 'ignore'],
  ] as const)('about us: %s', (_n, existing, c, context, kind) => {
    const d = decideAlive(existing, c, context);
    expect(d.kind).toBe(kind);
    if (d.kind === 'refute') expect(d.accusedIncarnation).toBe(c.incarnation);
  });

  it('keeps stateChangeMs when an alive member stays alive (reaping and reclaim use it)', () => {
    const d = decideAlive(rec({ stateChangeMs: 5 }), claim({ incarnation: 6 }), ctx);
    expect(d.kind === 'apply' && d.record.stateChangeMs).toBe(5);
  });
});

describe('suspect rule (memberlist suspectNode)', () => {
  const s = (over: Partial<{ node: string; incarnation: number; from: string }> = {}) => ({ node: 'b', incarnation: 5, from: 'c', ...over });
  it.each([
    ['unknown member ignored', undefined, s(), 'ignore'],
    ['older incarnation ignored', rec(), s({ incarnation: 4 }), 'ignore'],
    ['same incarnation suspects an alive member', rec(), s(), 'apply'],
    ['newer incarnation suspects', rec(), s({ incarnation: 8 }), 'apply'],
    ['already suspect: a confirmation', rec({ state: SUSPECT }), s({ from: 'd' }), 'confirm'],
    ['dead member: ignored', rec({ state: DEAD }), s(), 'ignore'],
    ['left member: ignored', rec({ state: LEFT }), s(), 'ignore'],
    ['about us: refuted', rec({ name: 'a' }), s({ node: 'a' }), 'refute'],
  ] as const)('%s', (_n, existing, acc, kind) => {
    const d = decideSuspect(existing, acc, 'a', 42);
    expect(d.kind).toBe(kind);
    if (d.kind === 'apply') {
      expect(d.record.state).toBe(SUSPECT);
      expect(d.record.incarnation).toBe(acc.incarnation);
      expect(d.record.stateChangeMs).toBe(42);
    }
  });
});

describe('dead rule (memberlist deadNode)', () => {
  const dd = (over: Partial<{ node: string; incarnation: number; from: string }> = {}) => ({ node: 'b', incarnation: 5, from: 'c', ...over });
  it.each([
    ['unknown ignored', undefined, dd(), false, 'ignore', undefined],
    ['older incarnation ignored', rec(), dd({ incarnation: 4 }), false, 'ignore', undefined],
    ['from another node: dead (failed)', rec(), dd(), false, 'apply', DEAD],
    ['from the node itself: left', rec(), dd({ from: 'b' }), false, 'apply', LEFT],
    ['suspect -> dead', rec({ state: SUSPECT }), dd(), false, 'apply', DEAD],
    ['already dead: ignored', rec({ state: DEAD }), dd({ incarnation: 9 }), false, 'ignore', undefined],
    ['already left: ignored', rec({ state: LEFT }), dd(), false, 'ignore', undefined],
    ['about us, not leaving: refuted', rec({ name: 'a' }), dd({ node: 'a' }), false, 'refute', undefined],
    ['about us, leaving: applied as left', rec({ name: 'a' }), dd({ node: 'a', from: 'a' }), true, 'apply', LEFT],
  ] as const)('%s', (_n, existing, acc, leaving, kind, state) => {
    const d = decideDead(existing, acc, 'a', leaving, 7);
    expect(d.kind).toBe(kind);
    if (d.kind === 'apply') expect(d.record.state).toBe(state);
  });
});

describe('refutation and reaping', () => {
  it.each([
    [3, 0, 4],
    [3, 3, 4],
    [3, 4, 5],
    [3, 10, 11],
    [0, 0, 1],
  ])('refute from %i accused at %i -> %i (max(own+1, accused+1))', (own, accused, want) => {
    expect(refuteIncarnation(own, accused)).toBe(want);
  });

  it('reaps dead and left entries only after gossipToTheDeadMs, never alive/suspect or self', () => {
    expect(reapable(rec({ state: DEAD, stateChangeMs: 0 }), 30_001, 30_000, 'a')).toBe(true);
    expect(reapable(rec({ state: LEFT, stateChangeMs: 0 }), 30_001, 30_000, 'a')).toBe(true);
    expect(reapable(rec({ state: DEAD, stateChangeMs: 0 }), 30_000, 30_000, 'a')).toBe(false);
    expect(reapable(rec({ state: SUSPECT, stateChangeMs: 0 }), 99_999, 30_000, 'a')).toBe(false);
    expect(reapable(rec({ state: ALIVE }), 99_999, 30_000, 'a')).toBe(false);
    expect(reapable(rec({ name: 'a', state: LEFT }), 99_999, 30_000, 'a')).toBe(false);
  });
});
