/**
 * Delivery bookkeeping for user broadcasts, which spread epidemically and so reach a node many
 * times: each (origin, seq) is delivered once, and a broadcast older than one already delivered
 * under the same (origin, key) is dropped, so a replaced broadcast arriving late never overrides
 * the newer one. Memory is bounded: each origin remembers at most `window` recent sequence numbers,
 * and anything older than what it forgot counts as seen.
 */
export class BroadcastDedup {
  readonly #origins = new Map<string, OriginState>();

  constructor(private readonly window = 4096) {}

  /** Returns true exactly once per (origin, seq), and false for one superseded under its key. */
  accept(origin: string, seq: number, key: string): boolean {
    let s = this.#origins.get(origin);
    if (s === undefined) this.#origins.set(origin, (s = { seen: new Set(), floor: -1, latestByKey: new Map() }));
    if (seq <= s.floor || s.seen.has(seq)) return false;
    if (key !== '') {
      const latest = s.latestByKey.get(key);
      if (latest !== undefined && latest > seq) {
        this.#remember(s, seq);
        return false;
      }
      s.latestByKey.set(key, seq);
    }
    this.#remember(s, seq);
    return true;
  }

  /** Forgets an origin (it left the cluster for good). */
  forget(origin: string): void {
    this.#origins.delete(origin);
  }

  get origins(): number {
    return this.#origins.size;
  }

  #remember(s: OriginState, seq: number): void {
    s.seen.add(seq);
    if (s.seen.size > this.window) {
      // Sets iterate in insertion order: drop the oldest and raise the floor past it.
      const oldest = s.seen.values().next().value as number;
      s.seen.delete(oldest);
      if (oldest > s.floor) s.floor = oldest;
    }
  }
}

interface OriginState {
  seen: Set<number>;
  /** Every seq at or below this is treated as seen (forgotten from the window). */
  floor: number;
  latestByKey: Map<string, number>;
}
