/**
 * memberlist's TransmitLimitedQueue (queue.go) as a pure data structure: no actor, no clock, no
 * randomness. The gossip dispatcher owns one and is its only user.
 *
 * Semantics, as in memberlist except for the age term (see "Differences"):
 * - Items are ordered by rank = `transmits` − `round` ascending, then part length descending, then id
 *   descending (newer first): {@link broadcastLess}. `round` is the queue's round (set by its owner, the
 *   gossip dispatcher, once per gossip round) when the item was queued; ids come from a counter
 *   incremented per enqueue. With every item queued in the same round this is memberlist's order.
 * - Queuing an item whose key is already queued replaces the queued one (memberlist's NamedBroadcast;
 *   every memberlist broadcast is named by its node). The replaced item is returned so the caller can
 *   report it as not transmitted. An empty key never replaces anything and is never replaced
 *   (memberlist's UniqueBroadcast).
 * - {@link TransmitLimitedQueue.getBroadcasts} walks the rank tiers from the lowest up.
 *   In each tier it takes the first item (largest, newest among equals) whose part still fits in the
 *   remaining budget, again and again, and moves to the next tier when nothing in the current one
 *   fits. A taken item is sent once per call: it either reaches the retransmit limit (it is retired and
 *   returned in `finished`) or its transmit count is bumped and it is reinserted after the walk.
 * - Membership items (`user` false) are always served before user items (`user` true): memberlist
 *   fills a packet from its own queue first and offers only what is left to the delegate's queue.
 *   The two kinds also have separate key spaces, so a user key equal to a member name replaces nothing.
 *
 * Differences, on purpose:
 * - Age counts like a transmission. memberlist orders by transmits alone, so an item queued while the
 *   queue holds a backlog (the join's gossip draining: thousands of items at a few transmits each)
 *   goes out at once until it reaches the backlog's tier, then once per pass over the whole backlog.
 *   In a 3,000-node simulation (benchmarks/sim-scale.ts, spread phase) an update queued 3 s after
 *   convergence went out 5 times within a second, the rest of its 8 only after 1–4 s, and ≈ N·e^-5 nodes
 *   were reached only by those late sends. Ranking by transmits − round (an item loses one tier per
 *   send and per gossip round it has waited) lets a fresh item go ahead of older ones with fewer sends
 *   (old news has had as long to spread from other nodes); items queued in the same round, which is
 *   every item when the queue drains within a round, keep memberlist's order, and the retransmit
 *   limit, replacement by key and the bound are unchanged. A queue whose owner never advances the
 *   round (gossip rounds disabled: piggyback only) keeps memberlist's order exactly.
 * - Ids are never reset. memberlist resets its id generator when the queue empties, and HEAD had to
 *   fix two bugs where a reset reused the id of an item about to be reinserted; a JS number counts to
 *   2^53 without wrapping, so uniqueness is simply never in question.
 * - The cost of a part is a function of its length (`partSize(len)`, framing included) rather than a
 *   constant overhead: a protobuf length prefix is a varint. It must be non-decreasing in `len`.
 * - The queue is bounded (`maxQueued`): past it, the items served last (highest rank: the most
 *   transmitted, oldest; the end memberlist's Prune drops from) are dropped and counted.
 * - Transmit counts are stored in 16 bits: an item retires after min(limit, 65,535) sends. Rounds are
 *   stored in 16 bits relative to a base; a queue that never empties for 65,535 rounds is rebased, and
 *   an item more than 32,767 rounds older than the newest then counts as exactly that old.
 *
 * Data structures and complexity (n = items queued, p = parts returned by a call, T = rank tiers the
 * walk passes without taking anything from them: at most the distinct ranks present, i.e. the retransmit
 * limit plus the rounds the queued items span; in practice the walk stops when the packet is full):
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
import { memberIds, NameMap, RefCountedIds, valueIds } from '../../util/name-table.js';

/** The fields that decide an item's place in the queue. */
export interface BroadcastOrderKey {
  readonly transmits: number;
  /** The queue's round when the item was queued (0 if absent): each round of age counts as a transmit. */
  readonly round?: number;
  /** Length of the encoded part in bytes (memberlist's msgLen). */
  readonly len: number;
  readonly id: number;
}

/**
 * memberlist's `limitedBroadcast.Less` with age: lower rank (transmits − round) first, then larger
 * messages first, then newer (higher id) first. The queue serves items in this order. Items of the
 * same round compare exactly as in memberlist (fewer transmits first).
 */
export function broadcastLess(a: BroadcastOrderKey, b: BroadcastOrderKey): boolean {
  const ra = a.transmits - (a.round ?? 0);
  const rb = b.transmits - (b.round ?? 0);
  if (ra !== rb) return ra < rb;
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
  readonly round: number;
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
  /** Snapshots of the items those parts belong to (same order; `transmits` counts this send); empty unless asked for. */
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
/** Transmit counts are stored in 16 bits: no item is sent more often than this. */
export const MAX_TRANSMITS = 65_535;
/** Rounds are stored in 16 bits too, relative to the store's base round (see SubQueue.add). */
const MAX_BORN = 65_535;
/** After a rebase the newest round sits here, leaving as many rounds of room before the next. */
const REBASE_BORN = 32_767;

const NIL = -1;
const INITIAL_CAPACITY = 16;

/** fmix32 of murmur3 over the id: a bijection on 32-bit values, so priorities of distinct ids differ. */
function priorityOf(id: number): number {
  let h = (id ^ Math.floor(id / 4_294_967_296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Keys of user broadcasts ↔ ids (membership keys are member names: they use the member ids). */
const userKeyIds = new RefCountedIds<string>(0);
/** The key '' (never replaces, never replaced) takes no id. */
const NO_KEY = -1;

/**
 * The items of one kind as parallel arrays indexed by a slot number (a struct of arrays), each item
 * also its own treap node (left/right are slots). Why: during a join every node queues an alive per
 * member it learns, so a simulation of n nodes holds up to n² items at once. As objects an item and
 * its node took ~150 bytes; here an item is 4 (key id) + 4 (part id) + 4 (part length) + 8 (id) + 4
 * (priority) + 2 (transmits) + 2 (round, relative to the store's base) + 8 (links) = 36 bytes, all in
 * typed arrays: nothing the collector has to scan (as pointers, key and part cost 16 bytes of scanned
 * heap per item, 1.6 GB at 10,000 nodes). The arrays shrink back when the queue empties (the gossip of
 * a join drains). The key is a member id (util/name-table.ts) or a user-key id, the part a value id
 * (parts are shared: codec/shared-parts.ts); the treap priority is a hash of the id (kept in its own
 * column); notify ids, rare, live in a map.
 */
class ItemStore {
  /** Key ids (NO_KEY for ''). */
  keyIds = new Int32Array(INITIAL_CAPACITY);
  /** Part ids in the thread's value registry; 0 marks a free slot. */
  partIds = new Int32Array(INITIAL_CAPACITY);
  /** Part lengths, read on every comparison (kept here rather than behind the part's id). */
  lens = new Int32Array(INITIAL_CAPACITY);
  ids = new Float64Array(INITIAL_CAPACITY);
  /** Treap priorities (a hash of the id), kept: rotations compare them on every insert. */
  prios = new Uint32Array(INITIAL_CAPACITY);
  transmits = new Uint16Array(INITIAL_CAPACITY);
  /** The round each item was queued in, minus {@link base} (0 to {@link MAX_BORN}). */
  born = new Uint16Array(INITIAL_CAPACITY);
  /** The round the store's `born` values count from: the round of the first item queued into an empty store. */
  base = 0;
  left = new Int32Array(INITIAL_CAPACITY);
  right = new Int32Array(INITIAL_CAPACITY);
  readonly notify = new Map<number, number>();
  #free: number[] = [];
  #used = 0;
  /** Slots handed out so far (free or not). */
  #high = 0;
  readonly #keyIds: RefCountedIds<string>;

  constructor(readonly user: boolean) {
    this.#keyIds = user ? userKeyIds : memberIds;
  }

  alloc(key: string, part: Uint8Array, id: number, transmits: number, round: number, notifyId: number | undefined): number {
    if (this.#used === 0) this.base = round;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#high++;
      // 1.5×, not 2×: during a large join every node's queue grows to thousands of items at once, and
      // the unused half of doubled arrays was a third of the typed-array memory at 10,000 nodes.
      if (slot >= this.ids.length) this.#grow(Math.ceil(this.ids.length * 1.5));
    }
    this.keyIds[slot] = key === '' ? NO_KEY : this.#keyIds.acquire(key);
    this.partIds[slot] = valueIds.acquire(part);
    this.lens[slot] = part.length;
    this.ids[slot] = id;
    this.prios[slot] = priorityOf(id);
    this.transmits[slot] = Math.min(transmits, MAX_TRANSMITS);
    this.born[slot] = Math.min(Math.max(round - this.base, 0), MAX_BORN);
    this.left[slot] = NIL;
    this.right[slot] = NIL;
    if (notifyId !== undefined) this.notify.set(slot, notifyId);
    this.#used++;
    return slot;
  }

  /** Frees a slot (its item left the queue for good); an empty store gives its arrays back. */
  release(slot: number): void {
    this.#releaseIds(slot);
    this.notify.delete(slot);
    this.#used--;
    if (this.#used === 0) this.reset();
    else this.#free.push(slot);
  }

  /** Empties the store, releasing the ids its items hold. */
  reset(): void {
    for (let slot = 0; this.#used > 0 && slot < this.#high; slot++) {
      if (this.partIds[slot] !== 0) {
        this.#releaseIds(slot);
        this.#used--;
      }
    }
    this.#free = [];
    this.#used = 0;
    this.#high = 0;
    this.notify.clear();
    if (this.ids.length > INITIAL_CAPACITY) this.#grow(INITIAL_CAPACITY);
  }

  #releaseIds(slot: number): void {
    const k = this.keyIds[slot] as number;
    if (k !== NO_KEY) this.#keyIds.release(k);
    valueIds.release(this.partIds[slot] as number);
    this.partIds[slot] = 0;
  }

  len(slot: number): number {
    return this.lens[slot] as number;
  }

  part(slot: number): Uint8Array {
    return valueIds.valueAt(this.partIds[slot] as number) as Uint8Array;
  }

  /** A caller's copy of the item in `slot` (QueuedBroadcast is a snapshot, not a live view). */
  snapshot(slot: number): QueuedBroadcast {
    const k = this.keyIds[slot] as number;
    return {
      key: k === NO_KEY ? '' : (this.#keyIds.keyOf(k) as string),
      part: this.part(slot),
      len: this.lens[slot] as number,
      id: this.ids[slot] as number,
      notifyId: this.notify.get(slot),
      user: this.user,
      transmits: this.transmits[slot] as number,
      round: this.base + (this.born[slot] as number),
    };
  }

  /** The order's first key: transmits − round (relative to the store's base; only differences matter). */
  rank(slot: number): number {
    return (this.transmits[slot] as number) - (this.born[slot] as number);
  }

  /** broadcastLess over slots. */
  less(a: number, b: number): boolean {
    const ra = this.rank(a);
    const rb = this.rank(b);
    if (ra !== rb) return ra < rb;
    const la = this.lens[a] as number;
    const lb = this.lens[b] as number;
    if (la !== lb) return la > lb;
    return (this.ids[a] as number) > (this.ids[b] as number);
  }

  #grow(capacity: number): void {
    const n = Math.min(this.#high, capacity);
    const copy = <T extends Column<T>>(from: T, to: T): T => {
      to.set(from.subarray(0, n));
      return to;
    };
    this.keyIds = copy(this.keyIds, new Int32Array(capacity));
    this.partIds = copy(this.partIds, new Int32Array(capacity));
    this.lens = copy(this.lens, new Int32Array(capacity));
    this.ids = copy(this.ids, new Float64Array(capacity));
    this.prios = copy(this.prios, new Uint32Array(capacity));
    this.transmits = copy(this.transmits, new Uint16Array(capacity));
    this.born = copy(this.born, new Uint16Array(capacity));
    this.left = copy(this.left, new Int32Array(capacity));
    this.right = copy(this.right, new Int32Array(capacity));
  }
}

/** What #grow needs of a column: any of the typed arrays the store keeps, copied into a larger one of its kind. */
interface Column<T> extends ArrayLike<number> {
  set(from: ArrayLike<number>): void;
  subarray(begin: number, end: number): T;
}

/** A treap of slots ordered by {@link broadcastLess} (ids are unique, so the order is total). */
class Treap {
  #root = NIL;
  #size = 0;
  #removed = false;

  constructor(
    private readonly store: ItemStore,
    private readonly counters: QueueCounters,
  ) {}

  get size(): number {
    return this.#size;
  }

  insert(slot: number): void {
    this.store.left[slot] = NIL;
    this.store.right[slot] = NIL;
    this.#root = this.#insert(this.#root, slot);
    this.#size++;
  }

  /** Removes `slot` (found by its order key). Returns whether it was present. */
  remove(slot: number): boolean {
    this.#removed = false;
    this.#root = this.#remove(this.#root, slot);
    if (this.#removed) this.#size--;
    return this.#removed;
  }

  min(): number {
    let n = this.#root;
    if (n === NIL) return NIL;
    const left = this.store.left;
    while (left[n] !== NIL) {
      this.counters.nodeVisits++;
      n = left[n] as number;
    }
    return n;
  }

  max(): number {
    let n = this.#root;
    if (n === NIL) return NIL;
    const right = this.store.right;
    while (right[n] !== NIL) {
      this.counters.nodeVisits++;
      n = right[n] as number;
    }
    return n;
  }

  /** The first slot (in order) for which `pred` holds; `pred` must be false, then true, along the order. */
  firstWhere(pred: (slot: number) => boolean): number {
    let n = this.#root;
    let best = NIL;
    while (n !== NIL) {
      this.counters.nodeVisits++;
      if (pred(n)) {
        best = n;
        n = this.store.left[n] as number;
      } else {
        n = this.store.right[n] as number;
      }
    }
    return best;
  }

  /** Every slot in order (iterative in-order walk). */
  toArray(): number[] {
    const out: number[] = [];
    const stack: number[] = [];
    let n = this.#root;
    while (n !== NIL || stack.length > 0) {
      while (n !== NIL) {
        stack.push(n);
        n = this.store.left[n] as number;
      }
      const top = stack.pop() as number;
      out.push(top);
      n = this.store.right[top] as number;
    }
    return out;
  }

  clear(): void {
    this.#root = NIL;
    this.#size = 0;
  }

  #insert(node: number, fresh: number): number {
    if (node === NIL) return fresh;
    this.counters.nodeVisits++;
    const st = this.store;
    if (st.less(fresh, node)) {
      const left = this.#insert(st.left[node] as number, fresh);
      st.left[node] = left;
      if ((st.prios[left] as number) > (st.prios[node] as number)) {
        st.left[node] = st.right[left] as number;
        st.right[left] = node;
        return left;
      }
    } else {
      const right = this.#insert(st.right[node] as number, fresh);
      st.right[node] = right;
      if ((st.prios[right] as number) > (st.prios[node] as number)) {
        st.right[node] = st.left[right] as number;
        st.left[right] = node;
        return right;
      }
    }
    return node;
  }

  #remove(node: number, slot: number): number {
    if (node === NIL) return NIL;
    this.counters.nodeVisits++;
    const st = this.store;
    if (node === slot) {
      this.#removed = true;
      const merged = this.#merge(st.left[node] as number, st.right[node] as number);
      st.left[node] = NIL;
      st.right[node] = NIL;
      return merged;
    }
    if (st.less(slot, node)) st.left[node] = this.#remove(st.left[node] as number, slot);
    else st.right[node] = this.#remove(st.right[node] as number, slot);
    return node;
  }

  /** Joins two treaps where every slot of `a` orders before every slot of `b`. */
  #merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    this.counters.nodeVisits++;
    const st = this.store;
    if ((st.prios[a] as number) > (st.prios[b] as number)) {
      st.right[a] = this.#merge(st.right[a] as number, b);
      return a;
    }
    st.left[b] = this.#merge(a, st.left[b] as number);
    return b;
  }
}

/** What SubQueue needs of its key index (a Map or a NameMap) from key to slot. */
interface KeyIndex {
  get(key: string): number | undefined;
  set(key: string, slot: number): unknown;
  delete(key: string): boolean;
  clear(): void;
}

/** One kind of broadcast (membership or user): its items, their treap and the key index. */
class SubQueue {
  readonly store: ItemStore;
  readonly tree: Treap;
  /**
   * Slots by key. The membership kind is keyed by member names, so it uses a dense table by member id
   * (util/name-table.ts, 4 bytes per member) rather than a Map (~40 bytes per queued item).
   */
  readonly byKey: KeyIndex;
  /** Items held, including those taken out of the tree during a getBroadcasts walk. */
  size = 0;
  bytes = 0;

  constructor(counters: QueueCounters, user: boolean, byKey: KeyIndex) {
    this.store = new ItemStore(user);
    this.tree = new Treap(this.store, counters);
    this.byKey = byKey;
  }

  add(key: string, part: Uint8Array, id: number, transmits: number, round: number, notifyId: number | undefined): number {
    if (this.size > 0 && round - this.store.base > MAX_BORN) this.#rebase(round);
    const slot = this.store.alloc(key, part, id, transmits, round, notifyId);
    this.tree.insert(slot);
    if (key !== '') this.byKey.set(key, slot);
    this.size++;
    this.bytes += part.length;
    return slot;
  }

  /**
   * Moves the store's base so that `round` fits in 16 bits (a queue that has not emptied for 65,535
   * rounds): rounds are shifted down, items more than REBASE_BORN rounds older than `round` count as
   * queued REBASE_BORN rounds before it (they are that old and more; only their order among such
   * ancients changes), and the tree is rebuilt on the new ranks. O(n log n), at most once per 32,768
   * rounds. Never called during a getBroadcasts walk (queue() is the only caller).
   */
  #rebase(round: number): void {
    const st = this.store;
    const slots = this.tree.toArray();
    const newBase = round - REBASE_BORN;
    const shift = newBase - st.base;
    for (const slot of slots) st.born[slot] = Math.max((st.born[slot] as number) - shift, 0);
    st.base = newBase;
    this.tree.clear();
    for (const slot of slots) this.tree.insert(slot);
  }

  /** Takes an item out for good and returns its snapshot. */
  delete(slot: number): QueuedBroadcast {
    this.tree.remove(slot);
    return this.forget(slot);
  }

  /** Drops an item already out of the tree and returns its snapshot. */
  forget(slot: number): QueuedBroadcast {
    const snap = this.store.snapshot(slot);
    if (snap.key !== '' && this.byKey.get(snap.key) === slot) this.byKey.delete(snap.key);
    this.size--;
    this.bytes -= snap.len;
    this.store.release(slot);
    // An idle queue gives its key table back (a dense table keeps its size until cleared): once the
    // gossip of a join has drained, it costs nothing per member.
    if (this.size === 0) this.byKey.clear();
    return snap;
  }

  clear(): QueuedBroadcast[] {
    const all = this.tree.toArray().map((slot) => this.store.snapshot(slot));
    this.tree.clear();
    this.byKey.clear();
    this.store.reset();
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
  #round = 0;

  constructor(options: TransmitLimitedQueueOptions = {}) {
    const max = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`maxQueued must be an integer >= 1, got ${String(max)}`);
    }
    this.maxQueued = max;
    this.#membership = new SubQueue(this.counters, false, new NameMap<number>());
    this.#user = new SubQueue(this.counters, true, new Map<string, number>());
  }

  /**
   * The current round, which items queued from now on record (default 0): the owner advances it once
   * per gossip round. Each round an item has waited counts like one transmit in the order. An integer
   * that should not decrease (an item is never ranked as queued before the first item of a non-empty queue).
   */
  get round(): number {
    return this.#round;
  }

  set round(value: number) {
    if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`round must be an integer >= 0, got ${String(value)}`);
    this.#round = value;
  }

  /** The id of the last item queued (0 before any): items queued later have larger ids. */
  get lastId(): number {
    return this.#idGen;
  }

  /** Items queued (memberlist's NumQueued). */
  get size(): number {
    return this.#membership.size + this.#user.size;
  }

  /** Σ part length over the items queued. */
  get bytes(): number {
    return this.#membership.bytes + this.#user.bytes;
  }

  /** A snapshot of the queued item with this key and kind, if any. */
  get(key: string, user = false): QueuedBroadcast | undefined {
    const sub = user ? this.#user : this.#membership;
    const slot = sub.byKey.get(key);
    return slot === undefined ? undefined : sub.store.snapshot(slot);
  }

  /**
   * Queues a broadcast, replacing a queued one with the same key and kind. O(log n) expected.
   * Past `maxQueued`, the most transmitted items are dropped (see {@link prune}).
   */
  queue(input: BroadcastInput): QueueResult {
    if (!(input.part instanceof Uint8Array)) throw new InvalidArgumentError('a broadcast part must be a Uint8Array');
    const user = input.user === true;
    const sub = user ? this.#user : this.#membership;
    let replaced: QueuedBroadcast | undefined;
    if (input.key !== '') {
      const old = sub.byKey.get(input.key);
      if (old !== undefined) {
        replaced = sub.delete(old);
        this.counters.replaced++;
      }
    }
    const notifyId = input.notifyId !== undefined && input.notifyId !== 0 ? input.notifyId : undefined;
    const slot = sub.add(input.key, input.part, ++this.#idGen, Math.max(0, Math.floor(input.transmits ?? 0)), this.#round, notifyId);
    const item = sub.store.snapshot(slot);
    this.counters.queued++;
    const dropped = this.size > this.maxQueued ? this.prune(this.maxQueued) : [];
    return { item, replaced, dropped };
  }

  /**
   * Takes the parts to send in one packet (memberlist's GetBroadcasts): membership items first, then
   * user items with what is left of the budget. Each part costs `partSize(len)` bytes (framing
   * included; non-decreasing in len) out of `limitBytes`. An item sent for the
   * `retransmitLimit`-th time (at most {@link MAX_TRANSMITS}) leaves the queue and is listed in `finished`.
   * O((p + T + 1) · log n) expected; see the module comment. `withSent` false leaves `sent` empty:
   * the gossip dispatcher needs only the parts, and a snapshot per part sent is garbage it would make
   * for nothing (at n² parts per join in a large simulation).
   */
  getBroadcasts(partSize: (len: number) => number, limitBytes: number, retransmitLimit: number, withSent = true): BroadcastBatch {
    const batch = { parts: [] as Uint8Array[], sent: [] as QueuedBroadcast[], finished: [] as QueuedBroadcast[], bytesUsed: 0, withSent };
    if (this.size === 0) return batch;
    const limit = Math.min(retransmitLimit, MAX_TRANSMITS);
    this.#walk(this.#membership, partSize, limitBytes, limit, batch);
    this.#walk(this.#user, partSize, limitBytes, limit, batch);
    return batch;
  }

  /**
   * Keeps at most `maxRetain` items, dropping from the end served last (memberlist's Prune: highest
   * rank, i.e. most transmits and oldest, then smallest, then oldest). At equal ranks user items go
   * before membership ones. Returns the dropped items. O(log n) per item dropped.
   */
  prune(maxRetain: number): QueuedBroadcast[] {
    const keep = Math.max(0, Math.floor(maxRetain));
    const dropped: QueuedBroadcast[] = [];
    while (this.size > keep) {
      const m = this.#membership.tree.max();
      const u = this.#user.tree.max();
      // Ranks of the two kinds count from their own stores' bases: compare them on one scale.
      const fromUser =
        u !== NIL &&
        (m === NIL ||
          this.#user.store.rank(u) - this.#user.store.base >= this.#membership.store.rank(m) - this.#membership.store.base);
      const sub = fromUser ? this.#user : this.#membership;
      dropped.push(sub.delete(fromUser ? u : m));
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
    const view = (sub: SubQueue): QueuedBroadcast[] => sub.tree.toArray().map((slot) => sub.store.snapshot(slot));
    return [...view(this.#membership), ...view(this.#user)];
  }

  #walk(
    sub: SubQueue,
    partSize: (len: number) => number,
    limitBytes: number,
    retransmitLimit: number,
    batch: { parts: Uint8Array[]; sent: QueuedBroadcast[]; finished: QueuedBroadcast[]; bytesUsed: number; withSent: boolean },
  ): void {
    const first = sub.tree.min();
    if (first === NIL) return;
    const st = sub.store;
    const reinsert: number[] = [];
    let tier = st.rank(first);
    for (;;) {
      const free = limitBytes - batch.bytesUsed;
      if (free < partSize(0)) break; // nothing can fit any more
      // The first item of this tier that fits, or else the first item of a later tier: the predicate
      // is false before that point and true after it in the treap's order.
      const t = tier;
      const found = sub.tree.firstWhere((slot) => {
        const r = st.rank(slot);
        return r > t || (r === t && partSize(st.len(slot)) <= free);
      });
      if (found === NIL) break;
      const foundRank = st.rank(found);
      if (foundRank !== tier) {
        // Nothing in this tier fits; `found` heads the next non-empty tier (its largest item).
        tier = foundRank;
        if (partSize(st.len(found)) > free) continue;
      }
      const foundTransmits = st.transmits[found] as number;
      sub.tree.remove(found);
      batch.parts.push(st.part(found));
      batch.bytesUsed += partSize(st.len(found));
      st.transmits[found] = foundTransmits + 1;
      if (batch.withSent) batch.sent.push(st.snapshot(found));
      if (foundTransmits + 1 >= retransmitLimit) {
        batch.finished.push(sub.forget(found));
        this.counters.finished++;
      } else {
        // Reinserted after the walk, so a call returns an item at most once (it moves to a tier the
        // walk has not reached yet).
        reinsert.push(found);
      }
    }
    for (const slot of reinsert) sub.tree.insert(slot);
  }
}
