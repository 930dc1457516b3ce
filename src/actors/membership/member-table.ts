import { NameMap, NameNumbers } from '../../util/name-table.js';
import type { MemberRecord } from './member-record.js';
import { shareMember, type SharedMember } from './shared-member.js';

/**
 * The membership actor's table: per member, the shared version (shared-member.ts, by its 4-byte id) and
 * this node's own state-change time, in two dense columns (util/name-table.ts). 12 bytes per member
 * per node, where a Map of records cost ~48 bytes of hash table plus an ~80-byte record per member.
 *
 * Reads hand out a MemberRecord built on the fly (a short-lived object), so the pure rules and the
 * rest of the actor keep working on records.
 */
export class MemberTable {
  readonly #shared = new NameMap<SharedMember>();
  readonly #changedMs = new NameNumbers();

  get size(): number {
    return this.#shared.size;
  }

  get(name: string): MemberRecord | undefined {
    const s = this.#shared.get(name);
    if (s === undefined) return undefined;
    return record(s, this.#changedMs.get(name) ?? 0);
  }

  /** Stores `r` (its fields interned and shared); returns the stored form. */
  set(r: MemberRecord): MemberRecord {
    const s = shareMember(r);
    this.#shared.set(s.name, s);
    this.#changedMs.set(s.name, r.stateChangeMs);
    return record(s, r.stateChangeMs);
  }

  delete(name: string): void {
    this.#shared.delete(name);
    this.#changedMs.delete(name);
  }

  clear(): void {
    this.#shared.clear();
    this.#changedMs.clear();
  }

  *values(): Generator<MemberRecord> {
    for (const s of this.#shared.values()) yield record(s, this.#changedMs.get(s.name) ?? 0);
  }
}

function record(s: SharedMember, stateChangeMs: number): MemberRecord {
  return { name: s.name, host: s.host, port: s.port, meta: s.meta, incarnation: s.incarnation, state: s.state, stateChangeMs, vsn: s.vsn };
}
