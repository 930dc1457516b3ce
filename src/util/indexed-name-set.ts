import type { Random } from '../random.js';
import { NameMap } from './name-table.js';

/**
 * A set of member names kept as an array with an index map: O(1) add, delete (swap with the last)
 * and random draws at any cluster size, with no scan of the member table. The gossip actor keeps its
 * targets in one, the probe actor its alive members (the indirect-probe helpers).
 */
export class IndexedNameSet {
  readonly #names: string[] = [];
  /** Position of each name in #names, in a dense table by member id (name-table.ts), not a Map. */
  readonly #index = new NameMap<number>();

  get size(): number {
    return this.#names.length;
  }

  get items(): readonly string[] {
    return this.#names;
  }

  has(name: string): boolean {
    return this.#index.has(name);
  }

  add(name: string): void {
    if (this.#index.has(name)) return;
    this.#index.set(name, this.#names.length);
    this.#names.push(name);
  }

  delete(name: string): void {
    const i = this.#index.get(name);
    if (i === undefined) return;
    const last = this.#names.pop() as string;
    this.#index.delete(name);
    if (last !== name) {
      this.#names[i] = last;
      this.#index.set(last, i);
    }
  }

  clear(): void {
    this.#names.length = 0;
    this.#index.clear();
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
