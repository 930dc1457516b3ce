import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { actors, wire, SeededRandom, type ActorContext, type MemberlistNode } from '../../src/index.js';
import { SimulatedCluster, VirtualClock } from '../../src/testing/index.js';
import { HashRingActor, type RingChange } from './hash-ring-actor.js';
import { HashRing, murmur3_32 } from './hash-ring.js';

/** Fixed seeds: a property failure reproduces exactly, and CI never flakes on a lucky draw. */
const FC = { seed: 20240607, numRuns: 100 } as const;

const memberNames = (min: number, max: number): fc.Arbitrary<string[]> =>
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: min, maxLength: max });

const KEYS = Array.from({ length: 2000 }, (_, i) => `key-${i}`);

function ringOf(members: readonly string[], replicaPoints?: number): HashRing {
  const ring = new HashRing({ replicaPoints });
  ring.add(...members);
  return ring;
}

describe('murmur3_32', () => {
  it('matches the reference vectors (MurmurHash3_x86_32)', () => {
    expect(murmur3_32('')).toBe(0);
    expect(murmur3_32('', 1)).toBe(0x514e28b7);
    expect(murmur3_32('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3_32('hello')).toBe(0x248bfa47);
    expect(murmur3_32('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    // Every tail length: 4, 3, 2 and 1 trailing bytes.
    expect(murmur3_32(new Uint8Array([0x21, 0x43, 0x65, 0x87]))).toBe(0xf55b516b);
    expect(murmur3_32(new Uint8Array([0x21, 0x43, 0x65]))).toBe(0x7e4a8634);
    expect(murmur3_32(new Uint8Array([0x21, 0x43]))).toBe(0xa0f7b07a);
    expect(murmur3_32(new Uint8Array([0x21]))).toBe(0x72661cf4);
    expect(murmur3_32(new Uint8Array([0, 0, 0, 0]))).toBe(0x2362f9de);
  });
});

describe('HashRing (pure properties)', () => {
  it('an empty ring owns nothing', () => {
    const ring = new HashRing();
    expect(ring.lookup('k')).toBeUndefined();
    expect(ring.lookupN('k', 3)).toEqual([]);
    expect(ring.ownership().size).toBe(0);
    expect(() => new HashRing({ replicaPoints: 0 })).toThrow(RangeError);
    expect(() => ring.lookupN('k', -1)).toThrow(RangeError);
  });

  it('lookupN returns min(n, size) distinct members, the owner first', () => {
    fc.assert(
      fc.property(memberNames(0, 12), fc.string(), fc.nat(15), (members, key, n) => {
        const ring = ringOf(members, 20);
        const got = ring.lookupN(key, n);
        expect(got).toHaveLength(Math.min(n, members.length));
        expect(new Set(got).size).toBe(got.length);
        for (const m of got) expect(members).toContain(m);
        if (got.length > 0) expect(got[0]).toBe(ring.lookup(key));
        // A longer preference list extends a shorter one (replica order is stable).
        expect(ring.lookupN(key, n + 1).slice(0, got.length)).toEqual(got);
      }),
      FC,
    );
  });

  it('every node computes the same owners from the same members, whatever the order they were added in', () => {
    fc.assert(
      fc.property(
        memberNames(1, 12).chain((m) => fc.tuple(fc.constant(m), fc.shuffledSubarray(m, { minLength: m.length }))),
        ([members, shuffled]) => {
        const a = ringOf(members, 20);
        const b = new HashRing({ replicaPoints: 20 });
        for (const m of shuffled) b.add(m);
        expect(b.checksum()).toBe(a.checksum());
        for (const k of KEYS.slice(0, 200)) expect(b.lookup(k)).toBe(a.lookup(k));
        },
      ),
      FC,
    );
  });

  it('the checksum changes with the member set and ignores its order', () => {
    const a = ringOf(['a', 'b', 'c']);
    expect(ringOf(['c', 'a', 'b']).checksum()).toBe(a.checksum());
    expect(ringOf(['a', 'b']).checksum()).not.toBe(a.checksum());
    // Length prefixes keep concatenations apart: {"ab", "c"} is not {"a", "bc"}.
    expect(ringOf(['ab', 'c']).checksum()).not.toBe(ringOf(['a', 'bc']).checksum());
    a.remove('c');
    expect(a.checksum()).toBe(ringOf(['a', 'b']).checksum());
  });

  it('removing a member moves only the keys it owned, about 1/N of them, to the other members', () => {
    fc.assert(
      fc.property(memberNames(2, 16), fc.nat(), (members, pick) => {
        const ring = ringOf(members);
        const gone = members[pick % members.length] as string;
        const before = new Map(KEYS.map((k) => [k, ring.lookup(k) as string]));
        const sharesBefore = ring.ownership();
        expect(ring.remove(gone)).toEqual([gone]);
        let moved = 0;
        // Counted rather than asserted per key: 2,000 expect() calls per run would dominate the time.
        const wrong: string[] = [];
        for (const k of KEYS) {
          const was = before.get(k) as string;
          const now = ring.lookup(k) as string;
          if (was === gone) moved++;
          if (was === gone ? now === gone : now !== was) wrong.push(k);
        }
        expect(wrong).toEqual([]);
        const n = members.length;
        // Sampled: 2,000 keys. Exact: the removed member's share of the hash space went to the others,
        // and no remaining member lost any.
        expect(moved / KEYS.length).toBeGreaterThan(0.5 / n);
        expect(moved / KEYS.length).toBeLessThan(1.7 / n);
        const sharesAfter = ring.ownership();
        for (const [m, s] of sharesAfter) expect(s).toBeGreaterThanOrEqual((sharesBefore.get(m) as number) - 1e-12);
        expect([...sharesAfter.values()].reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
      }),
      FC,
    );
  });

  it('adding a member moves keys only to it', () => {
    fc.assert(
      fc.property(memberNames(2, 16), (members) => {
        const [joiner, ...rest] = members as [string, ...string[]];
        const ring = ringOf(rest);
        const before = new Map(KEYS.map((k) => [k, ring.lookup(k)]));
        ring.add(joiner);
        const wrong = KEYS.filter((k) => {
          const now = ring.lookup(k);
          return now !== joiner && now !== before.get(k);
        });
        expect(wrong).toEqual([]);
        // The joiner does take keys (a property that held vacuously would prove nothing).
        expect(KEYS.some((k) => ring.lookup(k) === joiner)).toBe(true);
      }),
      FC,
    );
  });

  it('with 100 replica points every member owns between 0.55/N and 1.6/N of the key space', () => {
    fc.assert(
      fc.property(memberNames(2, 32), (members) => {
        const n = members.length;
        const shares = ringOf(members).ownership();
        expect(shares.size).toBe(n);
        for (const s of shares.values()) {
          expect(s * n).toBeGreaterThan(0.55);
          expect(s * n).toBeLessThan(1.6);
        }
      }),
      FC,
    );
    // The replicas are what buys the balance: with one point each, the same bound fails.
    const single = ringOf(Array.from({ length: 16 }, (_, i) => `node-${i}`), 1).ownership();
    expect(Math.max(...single.values()) * 16).toBeGreaterThan(1.6);
  });

  it('sampled keys follow the exact ownership', () => {
    const ring = ringOf(Array.from({ length: 8 }, (_, i) => `node-${i}`));
    const counts = new Map<string, number>();
    const keys = Array.from({ length: 40_000 }, (_, i) => `user:${i}`);
    for (const k of keys) counts.set(ring.lookup(k) as string, (counts.get(ring.lookup(k) as string) ?? 0) + 1);
    for (const [m, share] of ring.ownership()) {
      // Binomial sd at 40,000 keys is ~0.2 percentage points: 1 point is a generous bound.
      expect(Math.abs((counts.get(m) ?? 0) / keys.length - share)).toBeLessThan(0.01);
    }
  });
});

/** A context that records nothing and never schedules, for driving an actor by hand. */
function fakeContext(nodeName: string): ActorContext {
  const clock = new VirtualClock();
  return {
    self: 'hash-ring',
    nodeName,
    clock,
    random: new SeededRandom(1),
    logger: pino({ level: 'silent' }),
    send: () => {},
    schedule: (delayMs, m) => clock.setTimer(delayMs, () => void m),
  };
}

function changed(name: string, state: wire.MemberState, local = false): actors.MemberChanged {
  return actors.MemberChanged.create({ member: { name, state }, local, numMembers: 1 });
}

describe('HashRingActor (driven by hand)', () => {
  it('starts with itself and the given members, then follows alive, suspect, dead, left and removal', () => {
    const changes: RingChange[] = [];
    const actor = new HashRingActor({
      members: [
        { name: 'a', state: 'alive' },
        { name: 'b', state: 'suspect' },
        { name: 'c', state: 'dead' },
      ],
      onChange: (c) => void changes.push(c),
    });
    actor.start(fakeContext('me'));
    expect(actor.members()).toEqual(['a', 'me']);
    expect(changes).toEqual([{ added: ['a', 'me'], removed: [], members: ['a', 'me'], checksum: actor.checksum() }]);

    actor.receive(changed('b', wire.MemberState.ALIVE));
    actor.receive(changed('b', wire.MemberState.ALIVE)); // a refresh (new incarnation): no change
    actor.receive(changed('a', wire.MemberState.SUSPECT));
    actor.receive(changed('x', wire.MemberState.ALIVE));
    actor.receive(changed('x', wire.MemberState.LEFT));
    actor.receive(changed('b', wire.MemberState.DEAD));
    actor.receive(actors.MemberRemoved.create({ name: 'b' }));
    expect(actor.members()).toEqual(['me']);
    expect(changes.slice(1).map((c) => [c.added, c.removed])).toEqual([
      [['b'], []],
      [[], ['a']],
      [['x'], []],
      [[], ['x']],
      [[], ['b']],
    ]);
    expect(actor.lookup('anything')).toBe('me');
    // Our own departure takes us out of our own ring too.
    actor.receive(changed('me', wire.MemberState.LEFT, true));
    expect(actor.members()).toEqual([]);
    expect(actor.lookup('anything')).toBeUndefined();
  });

  it('with includeSuspect, a suspect keeps its keys', () => {
    const actor = new HashRingActor({ includeSuspect: true, members: [{ name: 'a', state: 'suspect' }] });
    actor.start(fakeContext('me'));
    expect(actor.members()).toEqual(['a', 'me']);
    actor.receive(changed('a', wire.MemberState.SUSPECT));
    expect(actor.members()).toEqual(['a', 'me']);
    actor.receive(changed('a', wire.MemberState.DEAD));
    expect(actor.members()).toEqual(['me']);
  });

  it('a throwing onChange is logged, and the ring still changes', () => {
    const actor = new HashRingActor({
      onChange: () => {
        throw new Error('application bug');
      },
    });
    actor.start(fakeContext('me'));
    expect(() => actor.receive(changed('a', wire.MemberState.ALIVE))).not.toThrow();
    expect(actor.members()).toEqual(['a', 'me']);
  });
});

describe('HashRingActor on a simulated cluster', () => {
  let cluster: SimulatedCluster | undefined;
  afterEach(async () => {
    await cluster?.shutdown();
    cluster = undefined;
  });

  it('8 nodes agree on the owner of 1,000 keys; a crashed node\'s keys move to the others on every node', async () => {
    cluster = new SimulatedCluster({ seed: 11, network: { latencyMs: 2, jitterMs: 1 }, nodeOptions: { profile: 'lan' } });
    const c = cluster;
    const nodes = await c.addNodes(8);
    const rings = new Map<string, HashRingActor>();
    const changes = new Map<string, RingChange[]>();
    for (const node of nodes) {
      const log: RingChange[] = [];
      const actor = new HashRingActor({ onChange: (ch) => void log.push(ch) });
      node.spawn(actor); // before join, so it sees every member arrive
      rings.set(node.name, actor);
      changes.set(node.name, log);
    }
    const names = nodes.map((n) => n.name).sort();
    const keys = Array.from({ length: 1000 }, (_, i) => `object/${i}`);
    const ringsOf = (live: readonly MemberlistNode[]): HashRingActor[] => live.map((n) => rings.get(n.name) as HashRingActor);
    const agreed = (live: readonly MemberlistNode[]): boolean => new Set(ringsOf(live).map((r) => r.checksum())).size === 1;

    await c.joinAll(0);
    expect(await c.runUntil(() => c.converged() && agreed(nodes), 30_000)).toBeDefined();
    for (const r of ringsOf(nodes)) expect(r.members()).toEqual(names);
    const owners = keys.map((k) => (rings.get('node-0') as HashRingActor).lookup(k) as string);
    for (const r of ringsOf(nodes)) expect(keys.map((k) => r.lookup(k))).toEqual(owners);
    // Every member owns some keys: the ring really spreads them.
    expect(new Set(owners).size).toBe(8);

    const victim = nodes[5] as MemberlistNode;
    const survivors = nodes.filter((n) => n !== victim);
    const owned = keys.filter((_, i) => owners[i] === victim.name);
    expect(owned.length).toBeGreaterThan(50);
    // The second entry of a key's preference list is where the key goes when its owner dies.
    const successor = new Map(owned.map((k) => [k, (rings.get('node-0') as HashRingActor).lookupN(k, 2)[1]]));
    await c.crash(victim);
    const detected = await c.runUntil(
      () => survivors.every((n) => n.members().find((m) => m.name === victim.name)?.state === 'dead'),
      60_000,
    );
    expect(detected).toBeDefined();
    for (const node of survivors) {
      const r = rings.get(node.name) as HashRingActor;
      expect(r.members()).toEqual(names.filter((n) => n !== victim.name));
      // On every node: the victim's keys went to others, the rest stayed where they were.
      keys.forEach((k, i) => {
        const now = r.lookup(k);
        if (owners[i] === victim.name) expect(now).not.toBe(victim.name);
        else expect(now).toBe(owners[i]);
      });
      const last = (changes.get(node.name) as RingChange[]).at(-1) as RingChange;
      expect(last.removed).toEqual([victim.name]);
      expect(last.checksum).toBe(r.checksum());
    }
    // ...and every survivor sends each of them to the same new owner: the successor lookupN predicted.
    for (const r of ringsOf(survivors)) for (const k of owned) expect(r.lookup(k)).toBe(successor.get(k));
    expect(agreed(survivors)).toBe(true);
  });
});
