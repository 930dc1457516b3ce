/**
 * An order-independent digest of a set of member names: the sum (mod 2^32) of each name's FNV-1a
 * hash, updated in O(1) per change. Two nodes with the same live members have the same digest, so
 * comparing it on every probe ack detects a missed join or death in one probe interval without
 * sending member lists (memberlist only repairs those at the next periodic push-pull, 15-60 s later).
 */
import { NameBytes } from '../../util/name-table.js';

export class MemberDigest {
  /** The live names as one byte per member id (util/name-table.ts), not a Set (~35 bytes per name). */
  readonly #members = new NameBytes();
  #sum = 0;

  /** Adds or removes `name` from the live set. */
  set(name: string, live: boolean): void {
    if (live === (this.#members.get(name) !== 0)) return;
    const h = fnv1a(name);
    if (live) {
      this.#members.set(name, 1);
      this.#sum = (this.#sum + h) >>> 0;
    } else {
      this.#members.set(name, 0);
      this.#sum = (this.#sum - h) >>> 0;
    }
  }

  clear(): void {
    this.#members.clear();
    this.#sum = 0;
  }

  get size(): number {
    return this.#members.size;
  }

  /** The digest, never 0 (0 on the wire means "not sent"). */
  get value(): number {
    return this.#sum === 0 ? 1 : this.#sum;
  }
}

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
