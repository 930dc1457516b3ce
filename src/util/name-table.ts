/**
 * Dense per-node tables keyed by member name, indexed by a process-wide member id.
 *
 * Why: every actor keeps its own view of the members (they share no state), so a node has about a
 * dozen name-keyed collections. As Maps and Sets each costs 28-48 bytes per entry in hash tables
 * alone; in a simulation of n nodes in one process there are n² entries per collection, which is
 * what kept a 10,000-node simulation out of 16 GiB (benchmarks/RESULTS.md, part 3). Here each table
 * is a typed array indexed by a small integer id that a process-wide registry gives each name: 4 bytes
 * per entry for a value (its id in the thread's value registry, below), 8 for a double, 1 for a flag,
 * and the name→id lookup is one Map shared by every table of every node in the thread.
 *
 * The registry is a cache of a pure function (name → id while anyone uses it), not shared state: two
 * actors never see each other's tables, only agree on which slot a name uses. Ids are reference
 * counted by the tables that hold an entry for them and recycled when the last entry goes, so a
 * long-running process with churning member names does not grow without limit. Each table must
 * therefore release what it holds: delete() and clear() do; an actor that drops a table on restart
 * calls clear() first (a dropped table that was not cleared only keeps its ids from being recycled).
 *
 * Iteration is in id order (the order in which the process first saw each name, ids being reused
 * after release), not insertion order as with a Map. Nothing in the protocol depends on that order.
 */

/**
 * Keys ↔ small integer ids, each id counted per holder and recycled when the last one lets go: the
 * registry behind both the member ids (names) and the value ids (what NameMaps hold). One per thread,
 * as every module-level value.
 */
export class RefCountedIds<K> {
  readonly #ids = new Map<K, number>();
  #keys: Array<K | undefined>;
  #refs = new Int32Array(256);
  readonly #free: number[] = [];
  #lastKey: K | undefined;
  #lastId = -1;

  /** `firstId`: ids below it are never handed out (0 can then mean "no entry" in a typed array). */
  constructor(firstId: number) {
    this.#keys = new Array<K | undefined>(firstId).fill(undefined);
  }

  /** Ids handed out so far (the length every table grows to): live ids plus recyclable ones. */
  get highWater(): number {
    return this.#keys.length;
  }

  /** Keys holding an id now. */
  get size(): number {
    return this.#ids.size;
  }

  idOf(key: K): number | undefined {
    // One handler usually touches several tables for the same member in a row, and the same version is
    // stored by each actor of a node, then by the next node: a one-entry cache saves the Map lookup
    // (names are mostly interned, so the comparison is a pointer check).
    if (this.#lastId >= 0 && key === this.#lastKey) return this.#lastId;
    const id = this.#ids.get(key);
    if (id !== undefined) {
      this.#lastKey = key;
      this.#lastId = id;
    }
    return id;
  }

  keyOf(id: number): K | undefined {
    return this.#keys[id];
  }

  /** The id of `key`, counting one more holder. */
  acquire(key: K): number {
    let id = this.idOf(key);
    if (id === undefined) {
      id = this.#free.pop();
      if (id === undefined) {
        id = this.#keys.length;
        this.#keys.push(key);
        if (id >= this.#refs.length) {
          const grown = new Int32Array(this.#refs.length * 2);
          grown.set(this.#refs);
          this.#refs = grown;
        }
      } else {
        this.#keys[id] = key;
      }
      this.#ids.set(key, id);
      this.#lastKey = key;
      this.#lastId = id;
    }
    this.#refs[id] = (this.#refs[id] as number) + 1;
    return id;
  }

  /** One holder fewer; the id is recycled when none is left. */
  release(id: number): void {
    const left = (this.#refs[id] as number) - 1;
    this.#refs[id] = left;
    if (left > 0) return;
    this.#ids.delete(this.#keys[id] as K);
    if (id === this.#lastId) {
      this.#lastKey = undefined;
      this.#lastId = -1;
    }
    this.#keys[id] = undefined;
    this.#free.push(id);
  }
}

/** The process-wide name ↔ id registry: which slot of every dense table a member name uses. */
class MemberIdRegistry extends RefCountedIds<string> {
  constructor() {
    super(0);
  }

  nameOf(id: number): string {
    return this.keyOf(id) as string;
  }
}

/** The thread's registry. Exported for tests and diagnostics only. */
export const memberIds = new MemberIdRegistry();

/** The next capacity for a table that must hold index `id`: at least every id handed out so far. */
function grownLength(current: number, id: number): number {
  return Math.max(id + 1, memberIds.highWater, Math.min(current * 2, id + 1024));
}

/**
 * The thread's registry of values held by NameMaps: value ↔ small id (from 1; 0 is an empty slot),
 * counted per table slot that holds the value and forgotten when the last one lets go.
 *
 * Why: a NameMap slot used to be a pointer (8 bytes: Node builds V8 without pointer compression),
 * and pointers are what the collector scans. The values are mostly shared frozen versions
 * (membership/shared-member.ts) that thousands of nodes point to, so a slot holds the value's id in an
 * Int32Array instead: 4 bytes, outside the scanned heap. At 10,000 simulated nodes of 10,000 members,
 * eight such columns are 3.2 GB less (benchmarks/RESULTS.md, part 3). Like the member ids this is a
 * cache of identity (which slot a value uses), not shared state: the values are immutable.
 */
class ValueIdRegistry extends RefCountedIds<unknown> {
  constructor() {
    super(1); // 0 is an empty NameMap slot
  }

  valueAt(id: number): unknown {
    return this.keyOf(id);
  }
}

/** The thread's value registry. Exported for tests and diagnostics only. */
export const valueIds = new ValueIdRegistry();

/**
 * A Map<string, V> in one Int32Array slot per member id, holding the value's id in the thread's value
 * registry (4 bytes per member, not scanned by the collector). Values must not be `undefined`; equal
 * values (SameValueZero, as Map keys) share one registry id. Implements ReadonlyMap, so code that reads
 * a Map reads this unchanged.
 */
export class NameMap<V> implements ReadonlyMap<string, V> {
  #vids = new Int32Array(0);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(name: string): V | undefined {
    const id = memberIds.idOf(name);
    if (id === undefined || id >= this.#vids.length) return undefined;
    const vid = this.#vids[id] as number;
    return vid === 0 ? undefined : (valueIds.valueAt(vid) as V);
  }

  has(name: string): boolean {
    const id = memberIds.idOf(name);
    return id !== undefined && id < this.#vids.length && this.#vids[id] !== 0;
  }

  set(name: string, value: V): this {
    if (value === undefined) throw new RangeError('NameMap cannot store undefined');
    let id = memberIds.idOf(name);
    const old = id !== undefined && id < this.#vids.length ? (this.#vids[id] as number) : 0;
    if (old !== 0 && valueIds.valueAt(old) === value) return this;
    const vid = valueIds.acquire(value);
    if (old === 0) {
      id = memberIds.acquire(name);
      if (id >= this.#vids.length) this.#grow(id);
      this.#size++;
    } else {
      valueIds.release(old);
    }
    this.#vids[id as number] = vid;
    return this;
  }

  delete(name: string): boolean {
    const id = memberIds.idOf(name);
    if (id === undefined || id >= this.#vids.length) return false;
    const vid = this.#vids[id] as number;
    if (vid === 0) return false;
    this.#vids[id] = 0;
    this.#size--;
    valueIds.release(vid);
    memberIds.release(id);
    return true;
  }

  clear(): void {
    const vids = this.#vids;
    // Nothing to release (an emptied table being given back): no scan.
    for (let id = 0; this.#size > 0 && id < vids.length; id++) {
      const vid = vids[id] as number;
      if (vid !== 0) {
        vids[id] = 0;
        this.#size--;
        valueIds.release(vid);
        memberIds.release(id);
      }
    }
    this.#vids = new Int32Array(0);
    this.#size = 0;
  }

  forEach(fn: (value: V, name: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [name, value] of this.entries()) fn(value, name, this);
  }

  *entries(): MapIterator<[string, V]> {
    const vids = this.#vids;
    for (let id = 0; id < vids.length; id++) {
      const vid = vids[id] as number;
      if (vid !== 0) yield [memberIds.nameOf(id), valueIds.valueAt(vid) as V];
    }
  }

  *keys(): MapIterator<string> {
    const vids = this.#vids;
    for (let id = 0; id < vids.length; id++) if (vids[id] !== 0) yield memberIds.nameOf(id);
  }

  *values(): MapIterator<V> {
    const vids = this.#vids;
    for (let id = 0; id < vids.length; id++) {
      const vid = vids[id] as number;
      if (vid !== 0) yield valueIds.valueAt(vid) as V;
    }
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  #grow(id: number): void {
    const grown = new Int32Array(grownLength(this.#vids.length, id));
    grown.set(this.#vids);
    this.#vids = grown;
  }
}

/**
 * Small non-negative integers (1..255) per member name, one byte each; 0 means "no entry". For
 * flags and tiny enums (a member in the probe order, a gossip target, a live member of the digest).
 */
export class NameBytes {
  #values = new Uint8Array(0);
  #size = 0;

  /** Names with a non-zero value. */
  get size(): number {
    return this.#size;
  }

  get(name: string): number {
    const id = memberIds.idOf(name);
    return id === undefined || id >= this.#values.length ? 0 : (this.#values[id] as number);
  }

  /** Sets the value (0 removes the entry). Values are taken modulo 256. */
  set(name: string, value: number): void {
    const id = memberIds.idOf(name);
    const had = id !== undefined && id < this.#values.length && this.#values[id] !== 0;
    if (value === 0) {
      if (!had) return;
      this.#values[id as number] = 0;
      this.#size--;
      memberIds.release(id as number);
      return;
    }
    if (had) {
      this.#values[id as number] = value;
      return;
    }
    const nid = memberIds.acquire(name);
    if (nid >= this.#values.length) {
      const grown = new Uint8Array(grownLength(this.#values.length, nid));
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[nid] = value;
    this.#size++;
  }

  clear(): void {
    const values = this.#values;
    for (let id = 0; id < values.length; id++) {
      if (values[id] !== 0) {
        values[id] = 0;
        memberIds.release(id);
      }
    }
    this.#values = new Uint8Array(0);
    this.#size = 0;
  }
}

/** A number per member name (8 bytes each, unboxed); NaN means "no entry", so NaN cannot be stored. */
export class NameNumbers {
  #values = new Float64Array(0);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(name: string): number | undefined {
    const id = memberIds.idOf(name);
    if (id === undefined || id >= this.#values.length) return undefined;
    const v = this.#values[id] as number;
    return Number.isNaN(v) ? undefined : v;
  }

  set(name: string, value: number): void {
    if (Number.isNaN(value)) throw new RangeError('NameNumbers cannot store NaN');
    const id = memberIds.idOf(name);
    if (id !== undefined && id < this.#values.length && !Number.isNaN(this.#values[id] as number)) {
      this.#values[id] = value;
      return;
    }
    const nid = memberIds.acquire(name);
    if (nid >= this.#values.length) {
      const grown = new Float64Array(grownLength(this.#values.length, nid)).fill(Number.NaN);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[nid] = value;
    this.#size++;
  }

  delete(name: string): boolean {
    const id = memberIds.idOf(name);
    if (id === undefined || id >= this.#values.length || Number.isNaN(this.#values[id] as number)) return false;
    this.#values[id] = Number.NaN;
    this.#size--;
    memberIds.release(id);
    return true;
  }

  clear(): void {
    const values = this.#values;
    for (let id = 0; id < values.length; id++) {
      if (!Number.isNaN(values[id] as number)) {
        values[id] = Number.NaN;
        memberIds.release(id);
      }
    }
    this.#values = new Float64Array(0);
    this.#size = 0;
  }
}
