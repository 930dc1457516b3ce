/**
 * memberlist's TransmitLimitedQueue (queue.go) as a pure data structure: no actor, no clock, no
 * randomness. The gossip dispatcher owns one and is its only user.
 *
 * Semantics, as in memberlist:
 * - Items are ordered by `transmits` ascending, then part length descending, then id descending (newer
 *   first): {@link broadcastLess}. Ids come from a counter incremented per enqueue.
 * - Queuing an item whose key is already queued replaces the queued one (memberlist's NamedBroadcast;
 *   every memberlist broadcast is named by its node). The replaced item is returned so the caller can
 *   report it as not transmitted. An empty key never replaces anything and is never replaced
 *   (memberlist's UniqueBroadcast).
 * - {@link TransmitLimitedQueue.getBroadcasts} walks the transmit tiers from the least transmitted up.
 *   In each tier it takes the first item (largest, newest among equals) whose part still fits in the
 *   remaining budget, again and again, and moves to the next tier when nothing in the current one
 *   fits. A taken item is sent once per call: it either reaches the retransmit limit (it is retired and
 *   returned in `finished`) or its transmit count is bumped and it is reinserted after the walk.
 * - Membership items (`user` false) are always served before user items (`user` true): memberlist
 *   fills a packet from its own queue first and offers only what is left to the delegate's queue.
 *   The two kinds also have separate key spaces, so a user key equal to a member name replaces nothing.
 *
 * Differences, on purpose:
 * - Ids are never reset. memberlist resets its id generator when the queue empties, and HEAD had to
 *   fix two bugs where a reset reused the id of an item about to be reinserted; a JS number counts to
 *   2^53 without wrapping, so uniqueness is simply never in question.
 * - The cost of a part is a function of its length (`partSize(len)`, framing included) rather than a
 *   constant overhead: a protobuf length prefix is a varint. It must be non-decreasing in `len`.
 * - The queue is bounded (`maxQueued`): past it, the most transmitted items (the end memberlist's Prune
 *   drops from) are dropped and counted.
 *
 * Data structures and complexity (n = items queued, p = parts returned by a call, T = transmit tiers
 * present, at most the retransmit limit, i.e. a small constant):
 * - One treap per kind (membership, user), ordered by {@link broadcastLess}, plus a Map from key to
 *   item. A treap is a binary search tree whose shape is fixed by a priority per node; priorities here
 *   are a 32-bit hash of the id, so the tree is balanced in expectation and fully deterministic.
 * - `queue()`: O(log n) expected (a Map lookup, at most one treap removal, one insertion), plus
 *   O(log n) per item dropped by the bound.
 * - `getBroadcasts()`: O((p + T + 1) · log n) expected. The tier walk never scans a tier: "the first
 *   item of tier t that fits" is one descent of the treap with a predicate that is false then true
 *   along the order, and a failed search lands directly on the first item of the next non-empty tier.
 *   Each returned item costs one removal and (unless retired) one insertion. Nothing is sorted.
 * - `prune()`: O(log n) per dropped item. `size` and `bytes`: O(1). `clear()`, `orderedView()`: O(n).
 * `counters.nodeVisits` counts treap nodes touched, so tests can check these bounds without timing.
 */
import { InvalidArgumentError } from '../../errors.js';
import { NameMap } from '../../util/name-table.js';

/** The fields that decide an item's place in the queue. */
export interface BroadcastOrderKey {
  readonly transmits: number;
  /** Length of the encoded part in bytes (memberlist's msgLen). */
  readonly len: number;
  readonly id: number;
}

/**
 * memberlist's `limitedBroadcast.Less`: fewer transmits first, then larger messages first, then newer
 * (higher id) first. The queue serves items in this order.
 */
export function broadcastLess(a: BroadcastOrderKey, b: BroadcastOrderKey): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits;
  if (a.len !== b.len) return a.len > b.len;
  return a.id > b.id;
}

/** What the caller queues. */
export interface BroadcastInput {
  /** What the broadcast is about (a member name, a user key). '' never replaces and is never replaced. */
  readonly key: string;
  /** An encoded wire Message (a compound part), sent as is every time. */
  readonly part: Uint8Array;
  /** Reported back when the item is finished, replaced or dropped. */
  readonly notifyId?: number;
  /** User broadcasts are served after membership ones. Default false. */
  readonly user?: boolean;
  /** Starting transmit count (memberlist's internal queueBroadcast(b, transmits), for tests). Default 0. */
  readonly transmits?: number;
}

/** An item in (or just out of) the queue. */
export interface QueuedBroadcast extends BroadcastOrderKey {
  readonly key: string;
  readonly part: Uint8Array;
  readonly notifyId: number | undefined;
  readonly user: boolean;
}

/** The result of {@link TransmitLimitedQueue.queue}. */
export interface QueueResult {
  /** The item now queued. */
  readonly item: QueuedBroadcast;
  /** The queued item with the same key (and kind) that this one replaced. */
  readonly replaced: QueuedBroadcast | undefined;
  /** Items dropped because the queue went past `maxQueued` (possibly `item` itself). */
  readonly dropped: QueuedBroadcast[];
}

/** The result of {@link TransmitLimitedQueue.getBroadcasts}. */
export interface BroadcastBatch {
  /** The parts to send, in the order taken. */
  readonly parts: Uint8Array[];
  /** The items those parts belong to (same order); their `transmits` already counts this send. */
  readonly sent: QueuedBroadcast[];
  /** Items that reached the retransmit limit with this send and left the queue. */
  readonly finished: QueuedBroadcast[];
  /** Σ partSize(len) over the parts: never more than the limit given. */
  readonly bytesUsed: number;
}

export interface TransmitLimitedQueueOptions {
  /** Most items held (both kinds together). Past it the most transmitted are dropped. Default 16384. */
  maxQueued?: number;
}

/** Running counters of a queue. */
export interface QueueCounters {
  /** Items ever queued. */
  queued: number;
  /** Items replaced by a newer one with the same key. */
  replaced: number;
  /** Items dropped by the `maxQueued` bound or by prune(). */
  dropped: number;
  /** Items retired after reaching the retransmit limit. */
  finished: number;
  /** Treap nodes touched by every operation so far: a work measure for complexity checks. */
  nodeVisits: number;
}

export const DEFAULT_MAX_QUEUED = 16_384;

/**
 * An item is its own treap node, and keeps only what cannot be derived: its length is its part's,
 * its treap priority a hash of its id, and the notify id and kind share one number. During a join
 * every node queues an alive per member it learns, so a simulation of n nodes holds up to n² items
 * at once; this object is 7 fields (~80 bytes) where an item plus a node were ~150.
 */
class Item implements QueuedBroadcast {
  left: Item | null = null;
  right: Item | null = null;
  /** notifyId · 2 + (user ? 1 : 0); notifyId 0 means none. */
  readonly #tag: number;

  constructor(
    readonly key: string,
    readonly part: Uint8Array,
    readonly id: number,
    public transmits: number,
    notifyId: number | undefined,
    user: boolean,
  ) {
    this.#tag = (notifyId ?? 0) * 2 + (user ? 1 : 0);
  }

  get len(): number {
    return this.part.length;
  }

  get notifyId(): number | undefined {
    const n = Math.floor(this.#tag / 2);
    return n === 0 ? undefined : n;
  }

  get user(): boolean {
    return this.#tag % 2 === 1;
  }

  /** Treap priority. */
  get prio(): number {
    return priorityOf(this.id);
  }
}

type TreapNode = Item;

/** fmix32 of murmur3 over the id: a bijection on 32-bit values, so priorities of distinct ids differ. */
function priorityOf(id: number): number {
  let h = (id ^ Math.floor(id / 4_294_967_296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A treap of items ordered by {@link broadcastLess} (ids are unique, so the order is total). */
class Treap {
  #root: TreapNode | null = null;
  #size = 0;
  #removed = false;

  constructor(private readonly counters: QueueCounters) {}

  get size(): number {
    return this.#size;
  }

  insert(item: Item): void {
    item.left = null;
    item.right = null;
    this.#root = this.#insert(this.#root, item);
    this.#size++;
  }

  /** Removes `item` (by identity, found by its order key). Returns whether it was present. */
  remove(item: Item): boolean {
    this.#removed = false;
    this.#root = this.#remove(this.#root, item);
    if (this.#removed) this.#size--;
    return this.#removed;
  }

  min(): Item | undefined {
    let n = this.#root;
    if (n === null) return undefined;
    while (n.left !== null) {
      this.counters.nodeVisits++;
      n = n.left;
    }
    return n;
  }

  max(): Item | undefined {
    let n = this.#root;
    if (n === null) return undefined;
    while (n.right !== null) {
      this.counters.nodeVisits++;
      n = n.right;
    }
    return n;
  }

  /** The first item (in order) for which `pred` holds; `pred` must be false, then true, along the order. */
  firstWhere(pred: (item: Item) => boolean): Item | undefined {
    let n = this.#root;
    let best: Item | undefined;
    while (n !== null) {
      this.counters.nodeVisits++;
      if (pred(n)) {
        best = n;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    return best;
  }

  /** Every item in order (iterative in-order walk). */
  toArray(): Item[] {
    const out: Item[] = [];
    const stack: TreapNode[] = [];
    let n = this.#root;
    while (n !== null || stack.length > 0) {
      while (n !== null) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop() as TreapNode;
      out.push(top);
      n = top.right;
    }
    return out;
  }

  clear(): void {
    this.#root = null;
    this.#size = 0;
  }

  #insert(node: TreapNode | null, fresh: TreapNode): TreapNode {
    if (node === null) return fresh;
    this.counters.nodeVisits++;
    if (broadcastLess(fresh, node)) {
      const left = this.#insert(node.left, fresh);
      node.left = left;
      if (left.prio > node.prio) {
        node.left = left.right;
        left.right = node;
        return left;
      }
    } else {
      const right = this.#insert(node.right, fresh);
      node.right = right;
      if (right.prio > node.prio) {
        node.right = right.left;
        right.left = node;
        return right;
      }
    }
    return node;
  }

  #remove(node: TreapNode | null, item: Item): TreapNode | null {
    if (node === null) return null;
    this.counters.nodeVisits++;
    if (node === item) {
      this.#removed = true;
      const merged = this.#merge(node.left, node.right);
      // Out of the tree: no links into it (a retired item must not keep other items reachable).
      node.left = null;
      node.right = null;
      return merged;
    }
    if (broadcastLess(item, node)) node.left = this.#remove(node.left, item);
    else node.right = this.#remove(node.right, item);
    return node;
  }

  /** Joins two treaps where every item of `a` orders before every item of `b`. */
  #merge(a: TreapNode | null, b: TreapNode | null): TreapNode | null {
    if (a === null) return b;
    if (b === null) return a;
    this.counters.nodeVisits++;
    if (a.prio > b.prio) {
      a.right = this.#merge(a.right, b);
      return a;
    }
    b.left = this.#merge(a, b.left);
    return b;
  }
}

/** What SubQueue needs of its key index (a Map or a NameMap). */
interface KeyIndex {
  get(key: string): Item | undefined;
  set(key: string, item: Item): unknown;
  delete(key: string): boolean;
  clear(): void;
}

/** One kind of broadcast (membership or user): its ordered treap and its key map. */
class SubQueue {
  readonly tree: Treap;
  /**
   * Items by key. The membership kind is keyed by member names, so it uses a dense table by member id
   * (util/name-table.ts, 8 bytes per member) rather than a Map (~40 bytes per queued item).
   */
  readonly byKey: KeyIndex;
  /** Items held, including those taken out of the tree during a getBroadcasts walk. */
  size = 0;
  bytes = 0;

  constructor(counters: QueueCounters, byKey: KeyIndex) {
    this.tree = new Treap(counters);
    this.byKey = byKey;
  }

  add(item: Item): void {
    this.tree.insert(item);
    if (item.key !== '') this.byKey.set(item.key, item);
    this.size++;
    this.bytes += item.len;
  }

  delete(item: Item): void {
    this.tree.remove(item);
    this.forget(item);
  }

  /** Drops the bookkeeping of an item already out of the tree. */
  forget(item: Item): void {
    if (item.key !== '' && this.byKey.get(item.key) === item) this.byKey.delete(item.key);
    this.size--;
    this.bytes -= item.len;
    // An idle queue gives its key table back (a dense table keeps its size until cleared): once the
    // gossip of a join has drained, it costs nothing per member.
    if (this.size === 0) this.byKey.clear();
  }

  clear(): Item[] {
    const all = this.tree.toArray();
    this.tree.clear();
    this.byKey.clear();
    this.size = 0;
    this.bytes = 0;
    return all;
  }
}

/** memberlist's TransmitLimitedQueue: see the module comment for semantics and complexity. */
export class TransmitLimitedQueue {
  readonly counters: QueueCounters = { queued: 0, replaced: 0, dropped: 0, finished: 0, nodeVisits: 0 };
  readonly maxQueued: number;
  readonly #membership: SubQueue;
  readonly #user: SubQueue;
  #idGen = 0;

  constructor(options: TransmitLimitedQueueOptions = {}) {
    const max = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`maxQueued must be an integer >= 1, got ${String(max)}`);
    }
    this.maxQueued = max;
    this.#membership = new SubQueue(this.counters, new NameMap<Item>());
    this.#user = new SubQueue(this.counters, new Map<string, Item>());
  }

  /** Items queued (memberlist's NumQueued). */
  get size(): number {
    return this.#membership.size + this.#user.size;
  }

  /** Σ part length over the items queued. */
  get bytes(): number {
    return this.#membership.bytes + this.#user.bytes;
  }

  /** The queued item with this key and kind, if any. */
  get(key: string, user = false): QueuedBroadcast | undefined {
    return (user ? this.#user : this.#membership).byKey.get(key);
  }

  /**
   * Queues a broadcast, replacing a queued one with the same key and kind. O(log n) expected.
   * Past `maxQueued`, the most transmitted items are dropped (see {@link prune}).
   */
  queue(input: BroadcastInput): QueueResult {
    if (!(input.part instanceof Uint8Array)) throw new InvalidArgumentError('a broadcast part must be a Uint8Array');
    const user = input.user === true;
    const sub = user ? this.#user : this.#membership;
    let replaced: Item | undefined;
    if (input.key !== '') {
      replaced = sub.byKey.get(input.key);
      if (replaced !== undefined) {
        sub.delete(replaced);
        this.counters.replaced++;
      }
    }
    const notifyId = input.notifyId !== undefined && input.notifyId > 0 ? Math.floor(input.notifyId) : undefined;
    const item = new Item(input.key, input.part, ++this.#idGen, Math.max(0, Math.floor(input.transmits ?? 0)), notifyId, user);
    sub.add(item);
    this.counters.queued++;
    const dropped = this.size > this.maxQueued ? this.prune(this.maxQueued) : [];
    return { item, replaced, dropped };
  }

  /**
   * Takes the parts to send in one packet (memberlist's GetBroadcasts): membership items first, then
   * user items with what is left of the budget. Each part costs `partSize(len)` bytes (framing
   * included; non-decreasing in len) out of `limitBytes`. An item sent for the
   * `retransmitLimit`-th time leaves the queue and is listed in `finished`.
   * O((p + T + 1) · log n) expected; see the module comment.
   */
  getBroadcasts(partSize: (len: number) => number, limitBytes: number, retransmitLimit: number): BroadcastBatch {
    const batch = { parts: [] as Uint8Array[], sent: [] as QueuedBroadcast[], finished: [] as QueuedBroadcast[], bytesUsed: 0 };
    if (this.size === 0) return batch;
    this.#walk(this.#membership, partSize, limitBytes, retransmitLimit, batch);
    this.#walk(this.#user, partSize, limitBytes, retransmitLimit, batch);
    return batch;
  }

  /**
   * Keeps at most `maxRetain` items, dropping from the most transmitted end (memberlist's Prune: most
   * transmits, then smallest, then oldest). At equal transmit counts user items go before membership
   * ones. Returns the dropped items. O(log n) per item dropped.
   */
  prune(maxRetain: number): QueuedBroadcast[] {
    const keep = Math.max(0, Math.floor(maxRetain));
    const dropped: QueuedBroadcast[] = [];
    while (this.size > keep) {
      const m = this.#membership.tree.max();
      const u = this.#user.tree.max();
      const fromUser = u !== undefined && (m === undefined || u.transmits >= m.transmits);
      const sub = fromUser ? this.#user : this.#membership;
      const victim = (fromUser ? u : m) as Item;
      sub.delete(victim);
      dropped.push(victim);
    }
    this.counters.dropped += dropped.length;
    return dropped;
  }

  /** Empties the queue (memberlist's Reset) and returns what it held, membership items first. O(n). */
  clear(): QueuedBroadcast[] {
    return [...this.#membership.clear(), ...this.#user.clear()];
  }

  /** Every queued item in serving order, membership items first. O(n): for tests and diagnostics. */
  orderedView(): QueuedBroadcast[] {
    return [...this.#membership.tree.toArray(), ...this.#user.tree.toArray()];
  }

  #walk(
    sub: SubQueue,
    partSize: (len: number) => number,
    limitBytes: number,
    retransmitLimit: number,
    batch: { parts: Uint8Array[]; sent: QueuedBroadcast[]; finished: QueuedBroadcast[]; bytesUsed: number },
  ): void {
    const first = sub.tree.min();
    if (first === undefined) return;
    const reinsert: Item[] = [];
    let tier = first.transmits;
    for (;;) {
      const free = limitBytes - batch.bytesUsed;
      if (free < partSize(0)) break; // nothing can fit any more
      // The first item of this tier that fits, or else the first item of a later tier: the predicate
      // is false before that point and true after it in the treap's order.
      const t = tier;
      const found = sub.tree.firstWhere((it) => it.transmits > t || (it.transmits === t && partSize(it.len) <= free));
      if (found === undefined) break;
      if (found.transmits !== tier) {
        // Nothing in this tier fits; `found` heads the next non-empty tier (its largest item).
        tier = found.transmits;
        if (partSize(found.len) > free) continue;
      }
      sub.tree.remove(found);
      batch.parts.push(found.part);
      batch.bytesUsed += partSize(found.len);
      found.transmits++;
      batch.sent.push(found);
      if (found.transmits >= retransmitLimit) {
        sub.forget(found);
        batch.finished.push(found);
        this.counters.finished++;
      } else {
        // Reinserted after the walk, so a call returns an item at most once (it moves to a tier the
        // walk has not reached yet).
        reinsert.push(found);
      }
    }
    for (const it of reinsert) sub.tree.insert(it);
  }
}
