/**
 * A consistent-hash ring in ringpop's style: each member owns `replicaPoints` points on a 32-bit ring,
 * and a key belongs to the member of the first point at or after the key's hash (wrapping around).
 * Adding or removing a member moves only the keys between its points and their predecessors, about
 * 1/N of all keys, and every node that holds the same member set computes the same owners, with no
 * coordination: the hash is fixed (MurmurHash3 x86_32, implemented here so no dependency or platform
 * can change it) and ties are broken by member name.
 *
 * Pure: no I/O, no clock, no randomness.
 */

const encoder = new TextEncoder();

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `data` (or of the bytes given). Chosen over FNV-1a because
 * replica keys differ only in a trailing counter ("node-3#17", "node-3#18"), and FNV-1a spreads such
 * near-identical inputs poorly; murmur3's finaliser mixes every input bit into every output bit.
 */
export function murmur3_32(data: string | Uint8Array, seed = 0): number {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // The 1-3 trailing bytes, little-endian (the reference's fall-through switch, unrolled).
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= (bytes[blocks + 2] as number) << 16;
    if (tail >= 2) k ^= (bytes[blocks + 1] as number) << 8;
    k ^= bytes[blocks] as number;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface HashRingOptions {
  /** Points per member on the ring (ringpop: 100). More points, better balance, more memory. */
  replicaPoints?: number;
  /** A 32-bit hash of a string. Every node of a cluster must use the same one. Default murmur3_32. */
  hash?: (s: string) => number;
}

interface Point {
  readonly hash: number;
  readonly member: string;
}

function comparePoints(a: Point, b: Point): number {
  if (a.hash !== b.hash) return a.hash - b.hash;
  // Two members on one point (a hash collision): the order must still be the same on every node.
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}

const RING_SIZE = 2 ** 32;

export class HashRing {
  readonly replicaPoints: number;
  readonly #hash: (s: string) => number;
  /** Sorted by (hash, member). Rebuilt by merge on add, by filter on remove: lookups stay O(log P). */
  #points: Point[] = [];
  readonly #members = new Set<string>();
  #checksum: number | undefined;

  constructor(options: HashRingOptions = {}) {
    const replicas = options.replicaPoints ?? 100;
    if (!(Number.isInteger(replicas) && replicas > 0)) throw new RangeError(`replicaPoints must be a positive integer, got ${replicas}`);
    this.replicaPoints = replicas;
    this.#hash = options.hash ?? ((s) => murmur3_32(s));
  }

  get size(): number {
    return this.#members.size;
  }

  has(member: string): boolean {
    return this.#members.has(member);
  }

  /** The members, sorted. */
  members(): string[] {
    return [...this.#members].sort();
  }

  /** Adds members; returns those that were not there yet. */
  add(...members: string[]): string[] {
    const added = [...new Set(members)].filter((m) => !this.#members.has(m));
    if (added.length === 0) return [];
    const fresh: Point[] = [];
    for (const m of added) {
      this.#members.add(m);
      for (let i = 0; i < this.replicaPoints; i++) fresh.push({ hash: this.#hash(`${m}#${i}`) >>> 0, member: m });
    }
    fresh.sort(comparePoints);
    this.#points = merge(this.#points, fresh);
    this.#checksum = undefined;
    return added;
  }

  /** Removes members; returns those that were there. */
  remove(...members: string[]): string[] {
    const removed = [...new Set(members)].filter((m) => this.#members.has(m));
    if (removed.length === 0) return [];
    const gone = new Set(removed);
    for (const m of removed) this.#members.delete(m);
    this.#points = this.#points.filter((p) => !gone.has(p.member));
    this.#checksum = undefined;
    return removed;
  }

  /** The owner of `key`, or undefined when the ring is empty. */
  lookup(key: string): string | undefined {
    if (this.#points.length === 0) return undefined;
    return (this.#points[this.#successor(this.#hash(key) >>> 0)] as Point).member;
  }

  /**
   * Up to `n` distinct members for `key` in ring order: the owner first, then the next distinct members
   * clockwise (the replicas of a key). Fewer than `n` only when the ring has fewer members.
   */
  lookupN(key: string, n: number): string[] {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be an integer >= 0, got ${n}`);
    const want = Math.min(n, this.#members.size);
    const out: string[] = [];
    if (want === 0) return out;
    const seen = new Set<string>();
    const start = this.#successor(this.#hash(key) >>> 0);
    // At most one full turn; it ends early as soon as `want` distinct members are found.
    for (let i = 0; i < this.#points.length && out.length < want; i++) {
      const p = this.#points[(start + i) % this.#points.length] as Point;
      if (!seen.has(p.member)) {
        seen.add(p.member);
        out.push(p.member);
      }
    }
    return out;
  }

  /**
   * A 32-bit checksum of the member set (ringpop's ring checksum): two nodes with equal checksums
   * agree on every lookup, so comparing checksums is how to check that views have converged.
   * Names are length-prefixed so that no two different sets serialise alike.
   */
  checksum(): number {
    if (this.#checksum === undefined) {
      this.#checksum = murmur3_32(this.members().map((m) => `${m.length}:${m}`).join(''));
    }
    return this.#checksum;
  }

  /**
   * The share of the hash space each member owns (fractions summing to 1): the exact expected share of
   * keys, without sampling. A member owns the arc from the previous point (exclusive) to each of its
   * points (inclusive).
   */
  ownership(): Map<string, number> {
    const shares = new Map<string, number>();
    for (const m of this.members()) shares.set(m, 0);
    const pts = this.#points;
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i] as Point;
      const prev = (i === 0 ? (pts[pts.length - 1] as Point).hash - RING_SIZE : (pts[i - 1] as Point).hash);
      shares.set(p.member, (shares.get(p.member) as number) + (p.hash - prev) / RING_SIZE);
    }
    return shares;
  }

  /** Index of the first point with hash >= h, wrapping to 0 past the end. */
  #successor(h: number): number {
    const pts = this.#points;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((pts[mid] as Point).hash < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === pts.length ? 0 : lo;
  }
}

function merge(a: readonly Point[], b: readonly Point[]): Point[] {
  const out: Point[] = new Array<Point>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = comparePoints(a[i] as Point, b[j] as Point) <= 0 ? (a[i++] as Point) : (b[j++] as Point);
  while (i < a.length) out[k++] = a[i++] as Point;
  while (j < b.length) out[k++] = b[j++] as Point;
  return out;
}
