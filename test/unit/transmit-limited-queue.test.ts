import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  broadcastLess,
  TransmitLimitedQueue,
  type BroadcastOrderKey,
  type QueuedBroadcast,
} from '../../src/actors/gossip/transmit-limited-queue.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { retransmitLimit } from '../../src/timing.js';
import { memberIds, valueIds } from '../../src/util/name-table.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array): string => dec.decode(b);
/** memberlist's GetBroadcasts(overhead, limit): a constant overhead per part. */
const overhead =
  (o: number) =>
  (len: number): number =>
    len + o;

/** The four 18-byte messages of memberlist's queue tests. */
function queueFour(q: TransmitLimitedQueue, notify: [number?, number?] = []): void {
  q.queue({ key: 'test', part: bytes('1. this is a test.'), notifyId: notify[0] });
  q.queue({ key: 'foo', part: bytes('2. this is a test.'), notifyId: notify[1] });
  q.queue({ key: 'bar', part: bytes('3. this is a test.') });
  q.queue({ key: 'baz', part: bytes('4. this is a test.') });
}

describe('broadcastLess (memberlist TestLimitedBroadcastLess)', () => {
  const cases: Array<[string, BroadcastOrderKey, BroadcastOrderKey]> = [
    ['diff-transmits', { transmits: 0, len: 10, id: 100 }, { transmits: 1, len: 10, id: 100 }],
    ['same-transmits--diff-len', { transmits: 0, len: 12, id: 100 }, { transmits: 0, len: 10, id: 100 }],
    ['same-transmits--same-len--diff-id', { transmits: 0, len: 12, id: 100 }, { transmits: 0, len: 12, id: 90 }],
  ];
  it.each(cases)('%s: A < B, and the queue serves A first', (_name, a, b) => {
    expect(broadcastLess(a, b)).toBe(true);
    expect(broadcastLess(b, a)).toBe(false);
    // The same through the queue: B queued first (older), A's fields forced by length and transmits.
    const q = new TransmitLimitedQueue();
    const ids = a.id === b.id ? [1, 2] : a.id > b.id ? [1, 2] : [2, 1];
    const items = [
      { key: 'b', part: new Uint8Array(b.len), transmits: b.transmits, order: ids[0] },
      { key: 'a', part: new Uint8Array(a.len), transmits: a.transmits, order: ids[1] },
    ].sort((x, y) => (x.order ?? 0) - (y.order ?? 0));
    for (const it of items) q.queue({ key: it.key, part: it.part, transmits: it.transmits });
    const view = q.orderedView();
    expect(view[0]?.key).toBe('a');
    expect(view[view.length - 1]?.key).toBe('b');
  });
});

describe('TransmitLimitedQueue, memberlist queue_test.go ported', () => {
  it('Queue: newest first among equals; a same-key broadcast replaces the queued one and is reported', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'test', part: new Uint8Array(0), notifyId: 11 });
    q.queue({ key: 'foo', part: new Uint8Array(0) });
    q.queue({ key: 'bar', part: new Uint8Array(0) });
    expect(q.size).toBe(3);
    // memberlist dumps from the max end: test, foo, bar. Serving order is the reverse.
    expect(q.orderedView().map((i) => i.key)).toEqual(['bar', 'foo', 'test']);

    const r = q.queue({ key: 'test', part: new Uint8Array(0), notifyId: 12 });
    expect(r.replaced?.key).toBe('test');
    expect(r.replaced?.notifyId).toBe(11);
    expect(r.dropped).toEqual([]);
    expect(q.size).toBe(3);
    expect(q.orderedView().map((i) => i.key)).toEqual(['test', 'bar', 'foo']);
    expect(q.get('test')?.notifyId).toBe(12);
    expect(q.counters.replaced).toBe(1);
  });

  it('an empty key never replaces and is never replaced (a unique broadcast)', () => {
    const q = new TransmitLimitedQueue();
    expect(q.queue({ key: '', part: bytes('a') }).replaced).toBeUndefined();
    expect(q.queue({ key: '', part: bytes('b') }).replaced).toBeUndefined();
    expect(q.size).toBe(2);
  });

  it('GetBroadcasts respects the byte limit (overhead 2: all 4; overhead 3: only 3)', () => {
    const q = new TransmitLimitedQueue();
    const limit = retransmitLimit(3, 10);
    queueFour(q);
    const all = q.getBroadcasts(overhead(2), 80, limit);
    expect(all.parts).toHaveLength(4);
    expect(all.bytesUsed).toBe(80);
    const partial = q.getBroadcasts(overhead(3), 80, limit);
    expect(partial.parts).toHaveLength(3);
    expect(partial.bytesUsed).toBe(63);
  });

  it('GetBroadcasts_Limit: items retire after retransmitLimit sends (mult 1, n 10: limit 2 → 3, 3, 2, 0)', () => {
    const q = new TransmitLimitedQueue();
    const limit = retransmitLimit(1, 10);
    expect(limit).toBe(2);
    queueFour(q);
    expect(q.size).toBe(4);
    const p1 = q.getBroadcasts(overhead(3), 80, limit);
    expect(p1.parts.map(text)).toEqual(['4. this is a test.', '3. this is a test.', '2. this is a test.']);
    expect(p1.finished).toEqual([]);
    const p2 = q.getBroadcasts(overhead(3), 80, limit);
    // Tier 0 first (the one left over), then tier 1 largest-newest first.
    expect(p2.parts.map(text)).toEqual(['1. this is a test.', '4. this is a test.', '3. this is a test.']);
    expect(p2.finished.map((i) => i.key)).toEqual(['baz', 'bar']);
    const p3 = q.getBroadcasts(overhead(3), 80, limit);
    expect(p3.parts).toHaveLength(2);
    expect(p3.finished.map((i) => i.key).sort()).toEqual(['foo', 'test']);
    expect(q.size).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.getBroadcasts(overhead(3), 80, limit).parts).toHaveLength(0);
    expect(q.counters.finished).toBe(4);
  });

  it('Prune: drops from the most-transmitted, smallest, oldest end and reports them', () => {
    const q = new TransmitLimitedQueue();
    queueFour(q, [1, 2]);
    const dropped = q.prune(2);
    expect(q.size).toBe(2);
    expect(dropped.map((i) => i.notifyId)).toEqual([1, 2]);
    // memberlist dumps bar then baz from the max end.
    expect(q.orderedView().map((i) => i.key)).toEqual(['baz', 'bar']);
    expect(q.counters.dropped).toBe(2);
  });

  it('ordering: items by transmit count (memberlist TestTransmitLimited_ordering)', () => {
    const q = new TransmitLimitedQueue();
    const insert = (name: string, transmits: number): void => {
      q.queue({ key: name, part: bytes(name), notifyId: 1, transmits });
    };
    insert('node0', 0);
    insert('node1', 10);
    insert('node2', 3);
    insert('node3', 4);
    insert('node4', 7);
    expect(q.orderedView().map((i) => i.transmits)).toEqual([0, 3, 4, 7, 10]);
  });

  const named = (fill: string): Uint8Array => bytes(fill.repeat(115));

  it('NamedReplaceThenRelaysKeepsAll: a replacement keeps every later item', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'node-3', part: named('a') });
    q.queue({ key: 'node-3', part: named('b') });
    q.queue({ key: 'node-1', part: named('c') });
    q.queue({ key: 'node-2', part: named('d') });
    expect(q.size).toBe(3);
    const got = q.getBroadcasts(overhead(2), 1398, retransmitLimit(4, 3)).parts.map((p) => text(p)[0]);
    expect(got).toContain('b');
    expect(got).not.toContain('a');
  });

  it('ReinsertAfterIdleKeepsAll: an item re-added after the queue emptied is not lost', () => {
    const q = new TransmitLimitedQueue();
    const limit = retransmitLimit(4, 3);
    const o = overhead(2);
    const budget = 2 + 115;
    q.queue({ key: 'node-a', part: named('a') });
    const first = q.getBroadcasts(o, budget, limit);
    expect(first.parts.map((p) => text(p)[0])).toEqual(['a']);
    expect(q.size).toBe(1);
    q.queue({ key: 'node-b', part: named('b') });
    q.queue({ key: 'node-c', part: named('c') });
    expect(q.size).toBe(3);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      for (const p of q.getBroadcasts(o, budget, limit).parts) seen.add(text(p)[0] ?? '');
      expect(q.size, `call ${i}`).toBe(3);
    }
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('TransmitLimitedQueue, further rules', () => {
  it('returns an item at most once per call, however large the budget', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'x', part: bytes('x') });
    const r = q.getBroadcasts(overhead(2), 10_000, 100);
    expect(r.parts).toHaveLength(1);
    expect(q.orderedView()[0]?.transmits).toBe(1);
  });

  it('walks tiers: a less-transmitted item goes first; a later tier fills what the first leaves', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'big-old', part: new Uint8Array(50), transmits: 2 });
    q.queue({ key: 'small-new', part: new Uint8Array(10) });
    q.queue({ key: 'mid', part: new Uint8Array(30), transmits: 1 });
    // Budget 45: tier 0 takes small-new (10), tier 1 takes mid (30); big-old does not fit.
    const r = q.getBroadcasts(overhead(0), 45, 10);
    expect(r.sent.map((i) => i.key)).toEqual(['small-new', 'mid']);
    expect(r.bytesUsed).toBe(40);
    // Now small-new has 1 transmit, mid and big-old 2. Budget 60: tier 1 takes small-new (10), which
    // leaves 50: tier 2 takes its largest that fits, big-old (50), and mid no longer fits.
    const r2 = q.getBroadcasts(overhead(0), 60, 10);
    expect(r2.sent.map((i) => i.key)).toEqual(['small-new', 'big-old']);
    expect(r2.bytesUsed).toBe(60);
  });

  it('within a tier takes the largest that fits, then the next largest', () => {
    const q = new TransmitLimitedQueue();
    for (const [k, n] of [
      ['a', 40],
      ['b', 25],
      ['c', 20],
      ['d', 5],
    ] as const) {
      q.queue({ key: k, part: new Uint8Array(n) });
    }
    const r = q.getBroadcasts(overhead(0), 50, 10);
    expect(r.sent.map((i) => i.key)).toEqual(['a', 'd']);
  });

  it('serves membership items before user items, even less-transmitted or larger user ones', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'u', part: new Uint8Array(40), user: true });
    q.queue({ key: 'm', part: new Uint8Array(20), transmits: 3 });
    const r = q.getBroadcasts(overhead(0), 50, 10);
    expect(r.sent.map((i) => i.key)).toEqual(['m']);
    const r2 = q.getBroadcasts(overhead(0), 70, 10);
    expect(r2.sent.map((i) => i.key)).toEqual(['m', 'u']);
  });

  it('user and membership keys are separate: the same key in each kind replaces nothing', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'n1', part: bytes('alive') });
    expect(q.queue({ key: 'n1', part: bytes('user'), user: true }).replaced).toBeUndefined();
    expect(q.size).toBe(2);
    expect(q.get('n1', true)?.user).toBe(true);
  });

  it('maxQueued bounds the queue, dropping (and counting) the most transmitted', () => {
    const q = new TransmitLimitedQueue({ maxQueued: 3 });
    q.queue({ key: 'a', part: bytes('a'), notifyId: 1, transmits: 5 });
    q.queue({ key: 'b', part: bytes('b'), transmits: 1 });
    q.queue({ key: 'c', part: bytes('c') });
    const r = q.queue({ key: 'd', part: bytes('d') });
    expect(r.dropped.map((i) => i.key)).toEqual(['a']);
    expect(q.size).toBe(3);
    expect(q.counters.dropped).toBe(1);
    expect(q.get('a')).toBeUndefined();
    // A user item is dropped before a membership one at equal transmits.
    const r2 = q.queue({ key: 'u', part: bytes('u'), user: true, transmits: 1 });
    expect(r2.dropped.map((i) => i.key)).toEqual(['u']);
    expect(() => new TransmitLimitedQueue({ maxQueued: 0 })).toThrow(/maxQueued/);
  });

  it('size, bytes and clear()', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'a', part: new Uint8Array(7) });
    q.queue({ key: 'b', part: new Uint8Array(5), user: true });
    q.queue({ key: 'a', part: new Uint8Array(3) });
    expect(q.size).toBe(2);
    expect(q.bytes).toBe(8);
    expect(q.clear().map((i) => i.key)).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.getBroadcasts(overhead(2), 1000, 4).parts).toEqual([]);
  });

  it('items hold their key and part by id: every id is given back when they leave (sent out, replaced, dropped, cleared)', () => {
    const [names, values] = [memberIds.size, valueIds.size];
    const q = new TransmitLimitedQueue({ maxQueued: 3 });
    const shared = new Uint8Array([1, 2, 3]);
    q.queue({ key: 'tlq-ids-a', part: shared });
    q.queue({ key: 'tlq-ids-b', part: shared }); // one part, one value id for both
    q.queue({ key: '', part: new Uint8Array(4) });
    q.queue({ key: 'tlq-user', part: new Uint8Array(5), user: true }); // past the bound: one dropped
    q.queue({ key: 'tlq-ids-a', part: new Uint8Array(6) }); // replaces
    expect(q.size).toBe(3);
    expect(memberIds.size).toBeGreaterThan(names);
    const sent = q.getBroadcasts(overhead(2), 1000, 1).parts; // limit 1: everything retires
    expect(sent.length).toBe(3);
    expect(q.size).toBe(0);
    expect([memberIds.size, valueIds.size]).toEqual([names, values]);
    q.queue({ key: 'tlq-ids-c', part: shared });
    q.queue({ key: 'tlq-user-2', part: shared, user: true });
    expect(q.get('tlq-ids-c')?.part).toBe(shared); // the same object back
    q.clear();
    expect([memberIds.size, valueIds.size]).toEqual([names, values]);
  });

  it('a retransmit limit of 0 (no members known) sends each item once', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'a', part: bytes('a') });
    const r = q.getBroadcasts(overhead(2), 100, retransmitLimit(4, 0));
    expect(r.parts).toHaveLength(1);
    expect(r.finished).toHaveLength(1);
    expect(q.size).toBe(0);
  });
});

describe('TransmitLimitedQueue, age: each round an item waited counts like a transmit', () => {
  /** A backlog of `n` one-byte items, all at `transmits`, queued in round 0 (the join's gossip draining). */
  function backlog(q: TransmitLimitedQueue, n: number, transmits: number): void {
    for (let i = 0; i < n; i++) q.queue({ key: `old-${i}`, part: bytes('o'), transmits });
  }
  /** Sends of `key` over `calls` one-part calls (the budget fits one part), as a gossip round's takes. */
  function sendsOf(q: TransmitLimitedQueue, key: string, calls: number, limit: number): number[] {
    const at: number[] = [];
    for (let c = 0; c < calls; c++) {
      const r = q.getBroadcasts(overhead(0), 1, limit);
      if (r.sent.some((i) => i.key === key)) at.push(c);
    }
    return at;
  }

  it('broadcastLess: rank = transmits − round; in one round, memberlist order', () => {
    // Queued 5 rounds later with 4 sends (rank −1) goes before queued at round 0 with 1 send (rank 1).
    expect(broadcastLess({ transmits: 4, round: 5, len: 1, id: 2 }, { transmits: 1, round: 0, len: 1, id: 1 })).toBe(true);
    expect(broadcastLess({ transmits: 1, round: 0, len: 1, id: 1 }, { transmits: 4, round: 5, len: 1, id: 2 })).toBe(false);
    // Equal ranks: larger first, then newer.
    expect(broadcastLess({ transmits: 3, round: 2, len: 9, id: 1 }, { transmits: 1, round: 0, len: 5, id: 2 })).toBe(true);
    // Same round: fewer transmits first, whatever the round.
    expect(broadcastLess({ transmits: 1, round: 7, len: 1, id: 1 }, { transmits: 2, round: 7, len: 9, id: 2 })).toBe(true);
  });

  it('memberlist (every item in one round): a fresh item goes once, then waits behind the whole backlog tier', () => {
    const q = new TransmitLimitedQueue();
    backlog(q, 100, 2);
    q.queue({ key: 'fresh', part: bytes('f') });
    // Tier 0 (fresh), 1 (fresh), 2 (fresh, newest of the tier), then the 100 old items of tier 2 …
    expect(sendsOf(q, 'fresh', 110, 8)).toEqual([0, 1, 2, 103]);
  });

  it('a fresh item queued rounds after the backlog gets all its sends before the backlog gets one more', () => {
    const q = new TransmitLimitedQueue();
    backlog(q, 100, 2);
    q.round = 10;
    q.queue({ key: 'fresh', part: bytes('f') });
    expect(q.get('fresh')?.round).toBe(10);
    expect(q.get('old-0')?.round).toBe(0);
    // Ranks: fresh −10 … −3 over its 8 sends; the backlog at 2. It retires after 8 consecutive calls.
    expect(sendsOf(q, 'fresh', 8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(q.get('fresh')).toBeUndefined();
    expect(q.counters.finished).toBe(1);
    expect(q.orderedView().every((i) => i.transmits === 2)).toBe(true);
  });

  it('the age credit is one tier per round: queued 3 rounds later, 3 sends go ahead of a tier', () => {
    const q = new TransmitLimitedQueue();
    backlog(q, 50, 0);
    q.round = 3;
    q.queue({ key: 'fresh', part: bytes('f') });
    // Ranks −3, −2, −1 go first; at rank 0 it is the newest of the tier (newest first among equals),
    // then at rank 1 it waits for the 50 rank-0 items.
    expect(sendsOf(q, 'fresh', 60, 8)).toEqual([0, 1, 2, 3, 54]);
  });

  it('a replacement is queued in the current round (a newer version is fresh news)', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'n1', part: bytes('v1'), transmits: 3 });
    q.round = 4;
    const r = q.queue({ key: 'n1', part: bytes('v2') });
    expect(r.replaced?.round).toBe(0);
    expect(q.get('n1')).toMatchObject({ round: 4, transmits: 0 });
  });

  it('the bound drops the items served last: most transmitted and oldest', () => {
    const q = new TransmitLimitedQueue({ maxQueued: 2 });
    q.queue({ key: 'old', part: bytes('o'), transmits: 2 });
    q.round = 5;
    q.queue({ key: 'newer', part: bytes('n'), transmits: 4 });
    // Ranks: old 2, newer −1, fresh −5: the old one goes.
    const r = q.queue({ key: 'fresh', part: bytes('f') });
    expect(r.dropped.map((i) => i.key)).toEqual(['old']);
    // Across kinds, ranks compare on one scale even though the stores count rounds from different bases.
    const k = new TransmitLimitedQueue({ maxQueued: 2 });
    k.round = 10;
    k.queue({ key: 'u', part: bytes('u'), user: true });
    k.queue({ key: 'm-old', part: bytes('m') });
    k.round = 20;
    expect(k.queue({ key: 'm-new', part: bytes('n') }).dropped.map((i) => i.key)).toEqual(['u']);
  });

  it('a store that emptied counts rounds from its next first item; round must be an integer ≥ 0', () => {
    const q = new TransmitLimitedQueue();
    q.round = 1_000_000;
    q.queue({ key: 'a', part: bytes('a') });
    expect(q.getBroadcasts(overhead(0), 10, 1).finished.map((i) => i.round)).toEqual([1_000_000]);
    q.round = 2_000_000;
    q.queue({ key: 'b', part: bytes('b'), transmits: 1 });
    q.round = 2_000_003;
    q.queue({ key: 'c', part: bytes('c'), transmits: 3 });
    expect(q.orderedView().map((i) => [i.key, i.round])).toEqual([
      ['c', 2_000_003],
      ['b', 2_000_000],
    ]);
    expect(() => (q.round = -1)).toThrow(/round/);
    expect(() => (q.round = 1.5)).toThrow(/round/);
  });

  it('a queue that never empties for 65,535 rounds is rebased: recent order kept, ancients clamped', () => {
    const q = new TransmitLimitedQueue();
    q.queue({ key: 'ancient', part: bytes('a'), transmits: 5 });
    q.round = 40_000;
    q.queue({ key: 'old', part: bytes('o'), transmits: 1 });
    q.round = 60_000;
    q.queue({ key: 'mid', part: bytes('m'), transmits: 3 });
    q.round = 70_000; // 70,000 − 0 does not fit in 16 bits: rebase to base 37,233
    q.queue({ key: 'new', part: bytes('n'), transmits: 9 });
    const view = q.orderedView();
    // Ranks: new 9 − 70,000; mid 3 − 60,000; old 1 − 40,000; ancient clamped to round 37,233: 5 − 37,233.
    expect(view.map((i) => i.key)).toEqual(['new', 'mid', 'old', 'ancient']);
    expect(view.map((i) => i.round)).toEqual([70_000, 60_000, 40_000, 37_233]);
    // The tree is consistent after the rebuild: every item is served and retires.
    const seen: string[] = [];
    for (let c = 0; c < 4; c++) seen.push(...q.getBroadcasts(overhead(0), 1, 1).finished.map((i) => i.key));
    expect(seen).toEqual(['new', 'mid', 'old', 'ancient']);
    expect(q.size).toBe(0);
  });
});

describe('retransmitLimit (the queue limit formula)', () => {
  it('mult 4: n 1–9 → 4, 10–99 → 8, 100–999 → 12, 0 → 0', () => {
    for (let n = 1; n <= 9; n++) expect(retransmitLimit(4, n)).toBe(4);
    for (let n = 10; n <= 99; n++) expect(retransmitLimit(4, n)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 999)).toBe(12);
    expect(retransmitLimit(4, 0)).toBe(0);
  });
});

/**
 * A literal model of memberlist's algorithm (sort, then scan tier by tier), for differential checks.
 * Items are matched by the ids both sides hand out in the same order.
 */
class ReferenceQueue {
  items: Array<{ key: string; len: number; id: number; transmits: number; round: number; user: boolean }> = [];
  /** The round items queued now record (each round of age counts like a transmit: rank = transmits − round). */
  round = 0;
  #id = 0;
  constructor(readonly maxQueued: number) {}
  queue(key: string, len: number, user: boolean): { replaced?: number; dropped: number[] } {
    let replaced: number | undefined;
    if (key !== '') {
      const i = this.items.findIndex((x) => x.key === key && x.user === user);
      if (i >= 0) {
        replaced = this.items[i]?.id;
        this.items.splice(i, 1);
      }
    }
    this.items.push({ key, len, id: ++this.#id, transmits: 0, round: this.round, user });
    const dropped: number[] = [];
    while (this.items.length > this.maxQueued) {
      const max = (user: boolean) =>
        this.items.filter((x) => x.user === user).sort((a, b) => (broadcastLess(a, b) ? -1 : 1)).at(-1);
      const m = max(false);
      const u = max(true);
      const victim = u !== undefined && (m === undefined || u.transmits - u.round >= m.transmits - m.round) ? u : m;
      if (victim === undefined) break;
      this.items.splice(this.items.indexOf(victim), 1);
      dropped.push(victim.id);
    }
    return { replaced, dropped };
  }
  get(cost: (len: number) => number, limit: number, rlimit: number): { sent: number[]; finished: number[] } {
    const sent: number[] = [];
    const finished: number[] = [];
    let used = 0;
    for (const user of [false, true]) {
      const mine = this.items.filter((x) => x.user === user).sort((a, b) => (broadcastLess(a, b) ? -1 : 1));
      if (mine.length === 0) continue;
      const rank = (x: { transmits: number; round: number }): number => x.transmits - x.round;
      const minTr = rank(mine[0] as (typeof mine)[number]);
      const maxTr = rank(mine.at(-1) as (typeof mine)[number]);
      const taken = new Set<number>();
      for (let t = minTr; t <= maxTr; ) {
        const free = limit - used;
        if (free < cost(0)) break;
        const keep = mine.find((x) => rank(x) === t && !taken.has(x.id) && cost(x.len) <= free);
        if (keep === undefined) {
          t++;
          continue;
        }
        taken.add(keep.id);
        used += cost(keep.len);
        sent.push(keep.id);
      }
      for (const id of taken) {
        const x = this.items.find((y) => y.id === id);
        if (x === undefined) continue;
        x.transmits++;
        if (x.transmits >= rlimit) {
          this.items.splice(this.items.indexOf(x), 1);
          finished.push(x.id);
        }
      }
    }
    return { sent, finished };
  }
}

type Op =
  | { kind: 'queue'; key: number; len: number; user: boolean }
  | { kind: 'get'; limit: number }
  | { kind: 'tick'; rounds: number };

describe('TransmitLimitedQueue properties (fast-check)', () => {
  const codec = new ProtobufCodec();
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('queue' as const),
      key: fc.integer({ min: -1, max: 12 }), // -1 = '' (unique)
      len: fc.integer({ min: 0, max: 200 }),
      user: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('get' as const), limit: fc.integer({ min: 0, max: 600 }) }),
    fc.record({ kind: fc.constant('tick' as const), rounds: fc.integer({ min: 1, max: 3 }) }),
  );

  it('random queue/get/round sequences: sent ≤ limit times, once per call, within budget, never after replacement; matches the model (memberlist with rank = transmits − round)', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 3, max: 40 }),
        (ops, rlimit, maxQueued) => {
          const q = new TransmitLimitedQueue({ maxQueued });
          const ref = new ReferenceQueue(maxQueued);
          const cost = (len: number): number => codec.partSize(len);
          const sends = new Map<number, number>();
          const gone = new Set<number>(); // replaced, dropped or finished ids
          for (const op of ops) {
            if (op.kind === 'tick') {
              q.round += op.rounds;
              ref.round += op.rounds;
            } else if (op.kind === 'queue') {
              const key = op.key < 0 ? '' : `k${op.key}`;
              const r = q.queue({ key, part: new Uint8Array(op.len), user: op.user });
              const rr = ref.queue(key, op.len, op.user);
              expect(r.replaced?.id).toBe(rr.replaced);
              expect(r.dropped.map((i) => i.id)).toEqual(rr.dropped);
              if (r.replaced !== undefined) gone.add(r.replaced.id);
              for (const d of r.dropped) gone.add(d.id);
            } else {
              const b = q.getBroadcasts(cost, op.limit, rlimit);
              const rb = ref.get(cost, op.limit, rlimit);
              const ids = b.sent.map((i) => i.id);
              expect(ids).toEqual(rb.sent);
              expect(b.finished.map((i) => i.id).sort()).toEqual([...rb.finished].sort());
              expect(new Set(ids).size).toBe(ids.length); // at most once per call
              const used = b.parts.reduce((s, p) => s + cost(p.length), 0);
              expect(used).toBe(b.bytesUsed);
              expect(used).toBeLessThanOrEqual(op.limit);
              expect(b.parts).toEqual(b.sent.map((i) => i.part));
              for (const id of ids) {
                expect(gone.has(id)).toBe(false); // never sent after replacement, drop or retirement
                const n = (sends.get(id) ?? 0) + 1;
                sends.set(id, n);
                expect(n).toBeLessThanOrEqual(rlimit);
              }
              for (const f of b.finished) {
                expect(sends.get(f.id)).toBe(rlimit);
                gone.add(f.id);
              }
            }
            const view = q.orderedView();
            expect(view.length).toBe(q.size);
            expect(q.size).toBeLessThanOrEqual(maxQueued);
            expect(view.reduce((s, i) => s + i.len, 0)).toBe(q.bytes);
            expect(view.map((i) => i.id).sort()).toEqual(ref.items.map((i) => i.id).sort());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('TransmitLimitedQueue at 10,000 items (operation counts, not time)', () => {
  const codec = new ProtobufCodec();
  const cost = (len: number): number => codec.partSize(len);
  const log2n = Math.ceil(Math.log2(10_001));

  function filled(): TransmitLimitedQueue {
    const q = new TransmitLimitedQueue();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 10_000; i++) {
      q.queue({ key: `node-${i}`, part: new Uint8Array(40 + rnd(120)), transmits: rnd(8), user: i % 10 === 0 });
    }
    return q;
  }

  it('queue() touches O(log n) nodes per item, replacement included', () => {
    const q = filled();
    expect(q.size).toBe(10_000);
    // 10,000 inserts into a balanced tree: a few times n·log2(n), far from n²/2 = 5·10^7.
    expect(q.counters.nodeVisits).toBeLessThan(10_000 * 3 * log2n);
    const before = q.counters.nodeVisits;
    for (let i = 0; i < 1000; i++) q.queue({ key: `node-${i * 7}`, part: new Uint8Array(50), user: (i * 7) % 10 === 0 });
    expect(q.size).toBe(10_000);
    expect(q.counters.replaced).toBe(1000);
    expect((q.counters.nodeVisits - before) / 1000).toBeLessThan(8 * log2n);
  });

  it('getBroadcasts touches O((parts + tiers) · log n) nodes, not O(n)', () => {
    const q = filled();
    let totalParts = 0;
    let totalVisits = 0;
    let calls = 0;
    for (let i = 0; i < 200; i++) {
      const before = q.counters.nodeVisits;
      const b = q.getBroadcasts(cost, 1399, 12);
      const visits = q.counters.nodeVisits - before;
      // Tiers present: transmit counts 0..11 in each of the two kinds, at most 24.
      expect(visits).toBeLessThanOrEqual(8 * (b.parts.length + 24 + 2) * log2n);
      expect(visits).toBeLessThan(q.size); // never a scan
      totalParts += b.parts.length;
      totalVisits += visits;
      calls++;
    }
    expect(totalParts).toBeGreaterThan(calls * 7);
    // On average well under a hundred node visits per part taken.
    expect(totalVisits / totalParts).toBeLessThan(100);
  });

  it('a small budget on 10,000 items costs a handful of descents', () => {
    const q = filled();
    const before = q.counters.nodeVisits;
    const b = q.getBroadcasts(cost, 200, 12);
    expect(b.parts.length).toBeGreaterThanOrEqual(1);
    expect(q.counters.nodeVisits - before).toBeLessThan(1000);
  });
});
