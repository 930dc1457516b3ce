import type { Random } from '../../random.js';

/**
 * The probe order: memberlist's round robin over a shuffled list (reference §3). New members go in at
 * a random position so a newcomer is neither always next nor always last; the list is reshuffled at
 * every wrap-around, which is also where departed members are dropped.
 */
export class ProbeList {
  #names: string[] = [];
  #index = 0;
  readonly #present = new Set<string>();

  constructor(private readonly random: Random) {}

  get size(): number {
    return this.#names.length;
  }

  has(name: string): boolean {
    return this.#present.has(name);
  }

  /** Inserts at a random offset: append, then swap with a random earlier slot (O(1)). */
  add(name: string): void {
    if (this.#present.has(name)) return;
    this.#present.add(name);
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
   * The next member accepted by `eligible`, walking at most one full pass. Returns undefined when no
   * member qualifies (a cluster of one probes nobody).
   */
  next(eligible: (name: string) => boolean): string | undefined {
    for (let checked = 0; checked <= this.#names.length; checked++) {
      if (this.#index >= this.#names.length) this.#wrap();
      const name = this.#names[this.#index++];
      if (name !== undefined && this.#present.has(name) && eligible(name)) return name;
    }
    return undefined;
  }

  #wrap(): void {
    this.#names = this.#names.filter((n) => this.#present.has(n));
    this.random.shuffle(this.#names);
    this.#index = 0;
  }
}
