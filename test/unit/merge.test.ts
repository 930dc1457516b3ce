import { describe, expect, it } from 'vitest';
import { wire } from '../../src/gen/index.js';
import { toWireAddress } from '../../src/codec/address.js';
import type { ProtocolVersions } from '../../src/actors/membership/member-record.js';
import {
  InlineMergeExecutor,
  mergeRemoteState,
  verifyProtocol,
  type MergeClaim,
  type MirrorEntry,
} from '../../src/actors/push-pull/merge.js';

const { ALIVE, SUSPECT, DEAD, LEFT } = wire.MemberState;
const SELF = 'self';
const VSN: ProtocolVersions = [1, 5, 2, 0, 0, 0];
const LIMITS = { maxEntries: 100 };

function entry(name: string, incarnation: number, state: wire.MemberState, over: Partial<wire.PushNodeState.$Properties> = {}): wire.PushNodeState.$Properties {
  const addr = toWireAddress('10.0.0.1');
  return {
    name,
    ipv4: addr.ipv4,
    port: 7946,
    incarnation,
    state,
    meta: new Uint8Array([1]),
    protocolMin: VSN[0],
    protocolMax: VSN[1],
    protocolCur: VSN[2],
    delegateMin: VSN[3],
    delegateMax: VSN[4],
    delegateCur: VSN[5],
    ...over,
  };
}

function local(incarnation: number, state: wire.MemberState, over: Partial<MirrorEntry> = {}): MirrorEntry {
  return { incarnation, state, host: '10.0.0.1', port: 7946, vsn: VSN, ...over };
}

function pushPull(states: wire.PushNodeState.$Properties[], nodes = states.length): wire.PushPull.$Properties {
  return { header: { nodes, userStateLen: 0, join: false }, states };
}

function mirrorOf(entries: Record<string, MirrorEntry>): Map<string, MirrorEntry> {
  return new Map([[SELF, local(1, ALIVE)], ...Object.entries(entries)]);
}

/** A claim summarised as "kind node@inc from". */
function show(c: MergeClaim): string {
  switch (c.kind) {
    case 'alive':
      return `alive ${c.alive.node}@${c.alive.incarnation}`;
    case 'dead':
      return `dead ${c.dead.node}@${c.dead.incarnation} from ${c.dead.from}`;
    case 'suspect':
      return `suspect ${c.suspect.node}@${c.suspect.incarnation} from ${c.suspect.from}`;
  }
}

describe('merge: one claim per remote entry (memberlist mergeState)', () => {
  it.each([
    ['alive → alive', ALIVE, 'alive n@3'],
    ['left → dead from itself (a graceful leave)', LEFT, 'dead n@3 from n'],
    ['dead → suspect from us (remote death is only suspicion)', DEAD, `suspect n@3 from ${SELF}`],
    ['suspect → suspect from us', SUSPECT, `suspect n@3 from ${SELF}`],
  ])('%s', (_label, state, expected) => {
    const diff = mergeRemoteState(pushPull([entry('n', 3, state)]), mirrorOf({}), SELF, LIMITS);
    expect(diff.refused).toBeUndefined();
    expect(diff.claims.map(show)).toEqual([expected]);
  });

  it('an alive claim carries address, port, meta and versions through unchanged', () => {
    const e = entry('n', 4, ALIVE, { ipv6: toWireAddress('fd00::7').ipv6, ipv4: 0, port: 9000, meta: new Uint8Array([9, 8]) });
    const [claim] = mergeRemoteState(pushPull([e]), mirrorOf({}), SELF, LIMITS).claims;
    expect(claim?.kind).toBe('alive');
    if (claim?.kind !== 'alive') return;
    expect(claim.alive).toMatchObject({ node: 'n', incarnation: 4, port: 9000, protocolMin: 1, protocolMax: 5, protocolCur: 2 });
    expect([...(claim.alive.ipv6 ?? [])]).toEqual([...toWireAddress('fd00::7').ipv6]);
    expect([...(claim.alive.meta ?? [])]).toEqual([9, 8]);
  });

  it('entries without a name are dropped and counted', () => {
    const diff = mergeRemoteState(pushPull([entry('', 1, ALIVE), entry('n', 1, ALIVE)]), mirrorOf({}), SELF, LIMITS);
    expect(diff.invalid).toBe(1);
    expect(diff.claims.map(show)).toEqual(['alive n@1']);
  });
});

describe('merge: skipping entries the mirror proves stale', () => {
  it.each<[string, wire.PushNodeState.$Properties, MirrorEntry, boolean]>([
    ['alive at a lower incarnation', entry('n', 2, ALIVE), local(3, ALIVE), true],
    ['alive at the same incarnation (others need a strictly greater one)', entry('n', 3, ALIVE), local(3, ALIVE), true],
    ['alive at the same incarnation over a suspect', entry('n', 3, ALIVE), local(3, SUSPECT), true],
    ['alive at a higher incarnation', entry('n', 4, ALIVE), local(3, SUSPECT), false],
    ['alive from another address, even stale (conflict / reclaim)', entry('n', 1, ALIVE, { port: 9999 }), local(3, LEFT), false],
    ['suspect at a lower incarnation', entry('n', 2, SUSPECT), local(3, ALIVE), true],
    ['suspect at the same incarnation of an alive member', entry('n', 3, SUSPECT), local(3, ALIVE), false],
    ['suspect at the same incarnation of a suspect member', entry('n', 3, SUSPECT), local(3, SUSPECT), true],
    ['dead at the same incarnation of a dead member', entry('n', 3, DEAD), local(3, DEAD), true],
    ['dead at the same incarnation of an alive member', entry('n', 3, DEAD), local(3, ALIVE), false],
    ['left at the same incarnation of a left member', entry('n', 3, LEFT), local(3, LEFT), true],
    ['left at the same incarnation of a suspect member', entry('n', 3, LEFT), local(3, SUSPECT), false],
    ['left at the same incarnation of a dead member (left is worse)', entry('n', 3, LEFT), local(3, DEAD), false],
    ['left at a lower incarnation', entry('n', 2, LEFT), local(3, ALIVE), true],
  ])('%s → skipped %s', (_label, e, mirrorEntry, skipped) => {
    const diff = mergeRemoteState(pushPull([e]), mirrorOf({ n: mirrorEntry }), SELF, LIMITS);
    expect(diff.skipped).toBe(skipped ? 1 : 0);
    expect(diff.claims.length).toBe(skipped ? 0 : 1);
  });

  it('an unknown member is never skipped (the mirror may lag the membership actor)', () => {
    const diff = mergeRemoteState(pushPull([entry('x', 0, SUSPECT), entry('y', 0, ALIVE)]), mirrorOf({}), SELF, LIMITS);
    expect(diff.claims.map(show)).toEqual([`suspect x@0 from ${SELF}`, 'alive y@0']);
  });

  it('a large push-pull of an already-known cluster yields no claims', () => {
    const mirror = new Map<string, MirrorEntry>([[SELF, local(1, ALIVE)]]);
    const states: wire.PushNodeState.$Properties[] = [];
    for (let i = 0; i < 10_000; i++) {
      mirror.set(`n${i}`, local(5, ALIVE));
      states.push(entry(`n${i}`, 5, ALIVE));
    }
    const diff = mergeRemoteState(pushPull(states), mirror, SELF, { maxEntries: 20_000 });
    expect(diff.claims).toEqual([]);
    expect(diff.skipped).toBe(10_000);
  });
});

describe('merge: accusations about ourselves are never skipped', () => {
  const mirror = (): Map<string, MirrorEntry> => new Map([[SELF, local(5, ALIVE)]]);
  it.each<[string, wire.MemberState, number, string | undefined]>([
    ['suspect about us at our incarnation → refutation', SUSPECT, 5, `suspect ${SELF}@5 from ${SELF}`],
    ['dead about us at our incarnation → suspect (refutation)', DEAD, 5, `suspect ${SELF}@5 from ${SELF}`],
    ['dead about us above our incarnation (after a restart)', DEAD, 9, `suspect ${SELF}@9 from ${SELF}`],
    ['left about us at our incarnation', LEFT, 5, `dead ${SELF}@5 from ${SELF}`],
    ['alive about us at our incarnation (meta may differ: membership decides)', ALIVE, 5, `alive ${SELF}@5`],
    ['dead about us below our incarnation is stale', DEAD, 4, undefined],
    ['alive about us below our incarnation is stale', ALIVE, 4, undefined],
  ])('%s', (_label, state, inc, expected) => {
    const diff = mergeRemoteState(pushPull([entry(SELF, inc, state)]), mirror(), SELF, LIMITS);
    expect(diff.claims.map(show)).toEqual(expected === undefined ? [] : [expected]);
  });

  it('even when our mirror entry already shows the same state (e.g. a self entry the mirror has not refuted yet)', () => {
    const m = new Map<string, MirrorEntry>([[SELF, local(5, SUSPECT)]]);
    const diff = mergeRemoteState(pushPull([entry(SELF, 5, SUSPECT)]), m, SELF, LIMITS);
    expect(diff.claims.map(show)).toEqual([`suspect ${SELF}@5 from ${SELF}`]);
  });
});

describe('merge: entry limit', () => {
  it('refuses more states than maxPushPullEntries', () => {
    const states = [entry('a', 1, ALIVE), entry('b', 1, ALIVE), entry('c', 1, ALIVE)];
    const diff = mergeRemoteState(pushPull(states), mirrorOf({}), SELF, { maxEntries: 2 });
    expect(diff.refused).toMatch(/3 entries, more than the limit of 2/);
    expect(diff.claims).toEqual([]);
  });

  it('refuses a header claiming more entries than the limit', () => {
    const diff = mergeRemoteState(pushPull([entry('a', 1, ALIVE)], 1_000_000), mirrorOf({}), SELF, { maxEntries: 10 });
    expect(diff.refused).toMatch(/1000000 entries/);
  });

  it('accepts exactly the limit', () => {
    const states = [entry('a', 1, ALIVE), entry('b', 1, ALIVE)];
    expect(mergeRemoteState(pushPull(states), mirrorOf({}), SELF, { maxEntries: 3 }).refused).toBeUndefined();
    expect(new InlineMergeExecutor({ maxEntries: 3 }).merge(pushPull(states), mirrorOf({}), SELF).claims).toHaveLength(2);
  });
});

describe('merge: verifyProtocol', () => {
  it('accepts members whose current versions lie in the common range', () => {
    expect(verifyProtocol([entry('a', 1, ALIVE)], mirrorOf({}))).toBeUndefined();
  });

  it('refuses a remote entry whose current version is outside the range of the alive members', () => {
    const diff = mergeRemoteState(pushPull([entry('a', 1, ALIVE, { protocolCur: 6, protocolMax: 6 })]), mirrorOf({}), SELF, LIMITS);
    expect(diff.refused).toBe("Node 'a' protocol version (6) is incompatible: [1, 5]");
    expect(diff.claims).toEqual([]);
  });

  it('an entry with all protocol fields 0 counts as version 0 and fails the check (memberlist empty Vsn)', () => {
    const zero = entry('z', 1, DEAD, { protocolMin: 0, protocolMax: 0, protocolCur: 0, delegateMin: 0, delegateMax: 0, delegateCur: 0 });
    expect(verifyProtocol([zero], mirrorOf({}))).toBe("Node 'z' protocol version (0) is incompatible: [1, 5]");
  });

  it('an all-zero alive entry does not narrow the range (it is skipped there, as an empty Vsn is)', () => {
    const zero = entry('z', 1, ALIVE, { protocolMin: 0, protocolMax: 0, protocolCur: 0, delegateMin: 0, delegateMax: 0, delegateCur: 0 });
    // Without our own alive entry the range stays [0, 255], so version 0 passes.
    expect(verifyProtocol([zero], new Map())).toBeUndefined();
  });

  it('non-alive members do not narrow the range but must be inside it', () => {
    // A dead remote member with pmax 1 does not narrow [1, 5]; its pcur 2 is inside.
    expect(verifyProtocol([entry('d', 1, DEAD, { protocolMax: 1 })], mirrorOf({}))).toBeUndefined();
    // An alive remote member with pmax 1 narrows the range to [1, 1]: our own pcur 2 is now outside.
    expect(verifyProtocol([entry('a', 1, ALIVE, { protocolMax: 1, protocolCur: 1 })], mirrorOf({}))).toBe(
      "Node 'self' protocol version (2) is incompatible: [1, 1]",
    );
  });

  it('checks delegate versions the same way', () => {
    const m = new Map<string, MirrorEntry>([[SELF, local(1, ALIVE, { vsn: [1, 5, 2, 2, 4, 3] })]]);
    expect(verifyProtocol([entry('a', 1, ALIVE, { delegateMin: 2, delegateMax: 4, delegateCur: 5 })], m)).toBe(
      "Node 'a' delegate protocol version (5) is incompatible: [2, 4]",
    );
  });

  it('checks local members too, whatever their state', () => {
    const m = mirrorOf({ old: local(1, DEAD, { vsn: [0, 0, 0, 0, 0, 0] }) });
    expect(verifyProtocol([entry('a', 1, ALIVE)], m)).toBe("Node 'old' protocol version (0) is incompatible: [1, 5]");
  });
});
