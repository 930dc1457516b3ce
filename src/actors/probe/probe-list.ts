import type { Random } from '../../random.js';

/**
 * The probe order: memberlist's round robin over a shuffled list (reference §3). New members go in at
 * a random position so a newcomer is neither always next nor always last; the list is reshuffled at
 * every wrap-around, which is also where departed members are dropped and where memberlist reaps old
 * dead members (`onWrap` tells the owner, which asks the membership actor to reap).
 *
 * Every operation is O(1) except the wrap-around, which is O(n) once per pass (amortised O(1) per probe).
 */
export class ProbeList {
  #names: string[] = [];
  #index = 0;
  /** Members that belong in the list. */
  readonly #present = new Set<string>();
  /** Names physically in `#names` (a removed name stays there until the next wrap-around). */
  #inArray = new Set<string>();
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
    return this.#present.size;
  }

  /** Completed passes (wrap-arounds) so far. */
  get passes(): number {
    return this.#passes;
  }

  has(name: string): boolean {
    return this.#present.has(name);
  }

  /** Inserts at a random offset: append, then swap with a random slot (memberlist's randomOffset, O(1)). */
  add(name: string): void {
    if (this.#present.has(name)) return;
    this.#present.add(name);
    // Removed and re-added before the wrap-around: it still has its slot.
    if (this.#inArray.has(name)) return;
    this.#inArray.add(name);
    this.#names.push(name);
    const n = this.#names.length;
    const offset = this.random.int(n);
    const last = n - 1;
    this.#names[last] = this.#names[offset] as string;
    this.#names[offset] = name;
  }

  /** Marks a member for removal; it leaves the list at the next wrap-around. */
  remove(name: string): void {
    this.#present.delete(name);
  }

  /**
   * The next member accepted by `eligible`, walking at most one full pass (and wrapping at most
   * once). Returns undefined when no member qualifies; an empty list (a cluster of one) neither probes
   * nor wraps.
   */
  next(eligible: (name: string) => boolean): string | undefined {
    if (this.#names.length === 0) return undefined;
    for (let checked = 0; checked <= this.#names.length; checked++) {
      if (this.#index >= this.#names.length) {
        this.#wrap();
        if (this.#names.length === 0) return undefined;
      }
      const name = this.#names[this.#index++];
      if (name !== undefined && this.#present.has(name) && eligible(name)) return name;
    }
    return undefined;
  }

  #wrap(): void {
    this.#names = this.#names.filter((n) => this.#present.has(n));
    this.#inArray = new Set(this.#names);
    this.random.shuffle(this.#names);
    this.#index = 0;
    this.#passes++;
    this.onWrap?.(this.#passes);
  }
}

/**
 * The alive members other than ourselves, as an array with an index map: O(1) add and remove
 * (swap with the last) and cheap k-random selection (memberlist's kRandomNodes for indirect probes)
 * without scanning the member table, which matters at 10,000 members.
 */
export class AliveSet {
  readonly #names: string[] = [];
  readonly #index = new Map<string, number>();

  get size(): number {
    return this.#names.length;
  }

  has(name: string): boolean {
    return this.#index.has(name);
  }

  add(name: string): void {
    if (this.#index.has(name)) return;
    this.#index.set(name, this.#names.length);
    this.#names.push(name);
  }

  remove(name: string): void {
    const i = this.#index.get(name);
    if (i === undefined) return;
    const last = this.#names.pop() as string;
    this.#index.delete(name);
    if (last !== name) {
      this.#names[i] = last;
      this.#index.set(last, i);
    }
  }

  /**
   * Up to `k` distinct random members, never `exclude`. Rejection sampling when k is small next to the
   * set (the usual case: 3 helpers among many), a partial Fisher–Yates over a copy otherwise.
   */
  sample(k: number, exclude: string | undefined, random: Random): string[] {
    const n = this.#names.length;
    const excluded = exclude !== undefined && this.#index.has(exclude) ? 1 : 0;
    const available = n - excluded;
    if (k <= 0 || available <= 0) return [];
    if (available <= k) return this.#names.filter((x) => x !== exclude);
    if (k * 2 <= available) {
      const out: string[] = [];
      const picked = new Set<string>();
      while (out.length < k) {
        const name = this.#names[random.int(n)] as string;
        if (name === exclude || picked.has(name)) continue;
        picked.add(name);
        out.push(name);
      }
      return out;
    }
    const pool = this.#names.filter((x) => x !== exclude);
    for (let i = 0; i < k; i++) {
      const j = i + random.int(pool.length - i);
      const tmp = pool[i] as string;
      pool[i] = pool[j] as string;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }
}
