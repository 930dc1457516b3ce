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
