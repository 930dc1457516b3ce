/**
 * Interning of the immutable values that every member table repeats: member names, host texts,
 * metadata bytes and protocol-version tuples.
 *
 * Why: each decode of a packet or push-pull creates fresh strings and byte arrays, so a node that
 * learns a member from a packet holds its own copy of the name, the host text, a 0-byte meta array
 * (a Uint8Array and an ArrayBuffer, ~180 bytes of heap even when empty) and a 6-number array, and so
 * does every other node in the process. In a simulation of n nodes that is n² copies (at 1,000 nodes,
 * about a million each). Interned, equal values are one object per process.
 *
 * The pools are process-wide caches, not state: a value is always equal to what was asked for, so
 * which node interned it first changes nothing. Each pool is bounded and simply starts over when
 * full (clearing costs O(size) once per `capacity` new values, and only loses sharing, never
 * correctness), so a long-running process with churning member names does not grow without limit.
 *
 * The values handed out are shared, so nobody may write into an interned Uint8Array or transfer its
 * buffer; the membership tables treat meta as immutable already (they copy it out of receive buffers
 * precisely so that it is theirs and unchanging).
 */
/** A bounded Map used as a cache: cleared, not evicted one by one, when full. */
class BoundedPool<K, V> {
  readonly #map = new Map<K, V>();
  clears = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    if (this.#map.size >= this.capacity) {
      this.#map.clear();
      this.clears++;
    }
    this.#map.set(key, value);
  }

  clear(): void {
    this.#map.clear();
  }
}

/** Default bound of each pool: far above any cluster this library targets (50,000 members). */
export const DEFAULT_INTERN_CAPACITY = 1 << 18;

const strings = new BoundedPool<string, string>(DEFAULT_INTERN_CAPACITY);
const bytes = new BoundedPool<string, Uint8Array>(DEFAULT_INTERN_CAPACITY);
const versions = new BoundedPool<string, readonly number[]>(1024);

/** One shared zero-length array for every empty meta (nothing can be written into it). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Longest byte string interned; longer ones are copied (metas that large are rare and not repeated much). */
const MAX_INTERNED_BYTES = 512;

/** The process's one copy of this string (names, host texts). */
export function internString(s: string): string {
  const hit = strings.get(s);
  if (hit !== undefined) return hit;
  strings.set(s, s);
  return s;
}

/**
 * An immutable, owned copy of `b` shared with every other holder of equal bytes: never a view into
 * the caller's buffer (decoded bytes fields are views into the whole datagram).
 */
export function internBytes(b: Uint8Array | null | undefined): Uint8Array {
  if (b === null || b === undefined || b.length === 0) return EMPTY_BYTES;
  if (b.length > MAX_INTERNED_BYTES) return new Uint8Array(b);
  // latin1 maps each byte to one UTF-16 unit: a lossless key.
  const key = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  const hit = bytes.get(key);
  if (hit !== undefined) return hit;
  const copy = new Uint8Array(b);
  bytes.set(key, copy);
  return copy;
}

/** The process's one array for these protocol versions (memberlist's six-number Vsn). */
export function internVersions<T extends readonly number[]>(v: T): T {
  const key = v.join(',');
  const hit = versions.get(key);
  if (hit !== undefined) return hit as T;
  versions.set(key, v);
  return v;
}

/** Pool sizes and how often each started over, for tests and diagnostics. */
export function internStats(): { strings: number; bytes: number; versions: number; clears: number } {
  return { strings: strings.size, bytes: bytes.size, versions: versions.size, clears: strings.clears + bytes.clears + versions.clears };
}

export { BoundedPool };
