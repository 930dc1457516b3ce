import type { Random } from '../../random.js';
import { memberIds, NameBytes } from '../../util/name-table.js';

/** Slot states in ProbeList's table (0: no slot). */
const IN_LIST = 1;
const REMOVED = 2;

/**
 * The probe order: memberlist's round robin over a shuffled list (reference §3). New members go in at
 * a random position so a newcomer is neither always next nor always last; the list is reshuffled at
 * every wrap-around, which is also where departed members are dropped and where memberlist reaps old
 * dead members (`onWrap` tells the owner, which asks the membership actor to reap).
 *
 * Every operation is O(1) except the wrap-around, which is O(n) once per pass (amortised O(1) per probe).
 */
export class ProbeList {
  /**
   * The order, as process-wide member ids (util/name-table.ts) in a typed array: 4 bytes per member
   * rather than an 8-byte string pointer, in a list every node keeps twice (probe and gossip order).
   * An id stays valid while the name holds a slot in #slots (which holds a reference to it).
   */
  #ids = new Int32Array(0);
  #length = 0;
  #index = 0;
  /**
   * Every name physically in the order: IN_LIST, or REMOVED while it keeps its place until the next
   * wrap-around. One byte per member id rather than two sets or a map: at 10,000 members per node and
   * thousands of simulated nodes per process, each per-member hash table costs tens of bytes per
   * (node, member) pair.
   */
  readonly #slots = new NameBytes();
  #size = 0;
  #passes = 0;

  /**
   * @param random the node's seeded random (insert offsets and shuffles).
   * @param onWrap called at each wrap-around with the number of completed passes (1, 2, ...).
   */
  constructor(
    private readonly random: Random,
    private readonly onWrap?: (pass: number) => void,
  ) {}

  /** Members in the list (removed ones excluded). */
  get size(): number {
    return this.#size;
  }

  /** Completed passes (wrap-arounds) so far. */
  get passes(): number {
    return this.#passes;
  }

  has(name: string): boolean {
    return this.#slots.get(name) === IN_LIST;
  }

  /** Empties the list and releases its member ids (an owner restarting calls this before dropping it). */
  clear(): void {
    this.#slots.clear();
    this.#ids = new Int32Array(0);
    this.#length = 0;
    this.#index = 0;
    this.#size = 0;
  }

  /** Inserts at a random offset: append, then swap with a random slot (memberlist's randomOffset, O(1)). */
  add(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === IN_LIST) return;
    this.#slots.set(name, IN_LIST);
    this.#size++;
    // Removed and re-added before the wrap-around: it still has its place.
    if (slot === REMOVED) return;
    const id = memberIds.idOf(name) as number;
    if (this.#length === this.#ids.length) {
      const grown = new Int32Array(Math.max(16, this.#length * 2, Math.min(memberIds.highWater, this.#length + 65_536)));
      grown.set(this.#ids);
      this.#ids = grown;
    }
    const ids = this.#ids;
    ids[this.#length++] = id;
    const n = this.#length;
    const offset = this.random.int(n);
    const last = n - 1;
    ids[last] = ids[offset] as number;
    ids[offset] = id;
  }

  /** Marks a member for removal; it leaves the list at the next wrap-around. */
  remove(name: string): void {
    if (this.#slots.get(name) !== IN_LIST) return;
    this.#slots.set(name, REMOVED);
    this.#size--;
  }

  /**
   * The next member accepted by `eligible`, walking at most one full pass (and wrapping at most
   * once). Returns undefined when no member qualifies; an empty list (a cluster of one) neither probes
   * nor wraps.
   */
  next(eligible: (name: string) => boolean): string | undefined {
    if (this.#length === 0) return undefined;
    for (let checked = 0; checked <= this.#length; checked++) {
      if (this.#index >= this.#length) {
        this.#wrap();
        if (this.#length === 0) return undefined;
      }
      const name = memberIds.nameOf(this.#ids[this.#index++] as number);
      if (this.#slots.get(name) === IN_LIST && eligible(name)) return name;
    }
    return undefined;
  }

  /**
   * Up to `k` distinct members in the list for which `eligible` holds, never `exclude`, drawn
   * uniformly. `available` is how many members are eligible (the caller counts them), excluding
   * `exclude`. Rejection sampling over the list's own array when k is small next to it (the usual
   * case: 3 indirect-probe helpers among many), so no second collection of the eligible members is
   * kept; a scan when few are eligible or the draws keep missing.
   */
  sample(k: number, exclude: string | undefined, eligible: (name: string) => boolean, available: number, random: Random): string[] {
    if (k <= 0 || available <= 0 || this.#length === 0) return [];
    const ok = (name: string): boolean => name !== exclude && this.#slots.get(name) === IN_LIST && eligible(name);
    const n = this.#length;
    if (k * 2 <= available) {
      const out: string[] = [];
      // Expected draws: k · n / available (n counts removed places and ineligible members too).
      for (let draws = 0; draws < 64 * k && out.length < k; draws++) {
        const name = memberIds.nameOf(this.#ids[random.int(n)] as number);
        if (ok(name) && !out.includes(name)) out.push(name);
      }
      if (out.length === k) return out;
    }
    const pool: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = memberIds.nameOf(this.#ids[i] as number);
      if (ok(name)) pool.push(name);
    }
    const m = Math.min(k, pool.length);
    for (let i = 0; i < m; i++) {
      const j = i + random.int(pool.length - i);
      const tmp = pool[i] as string;
      pool[i] = pool[j] as string;
      pool[j] = tmp;
    }
    return pool.slice(0, m);
  }

  #wrap(): void {
    const ids = this.#ids;
    let kept = 0;
    for (let i = 0; i < this.#length; i++) {
      const id = ids[i] as number;
      const name = memberIds.nameOf(id);
      if (this.#slots.get(name) === IN_LIST) ids[kept++] = id;
      else this.#slots.set(name, 0); // releases the id: read before, never after
    }
    this.#length = kept;
    // Random.shuffle's Fisher–Yates, on the typed array: the same draws as shuffling a plain array.
    for (let i = kept - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const tmp = ids[i] as number;
      ids[i] = ids[j] as number;
      ids[j] = tmp;
    }
    this.#index = 0;
    this.#passes++;
    this.onWrap?.(this.#passes);
  }
}
