import type { actors } from '../../gen/index.js';
import { wire } from '../../gen/index.js';
import { bytesEqual } from '../../util/bytes.js';
import { BoundedPool, DEFAULT_INTERN_CAPACITY, internBytes, internString, internVersions } from '../../util/intern.js';
import type { MemberRecord, ProtocolVersions } from './member-record.js';

/**
 * What every node says about one version of a member: name, address, meta, incarnation, state and
 * protocol versions, with nothing node-local (no state-change time, no flags). Frozen, and shared by
 * every actor of every node in the thread that holds the same version, so a view of the members is a
 * table of version ids (util/name-table.ts) rather than a record per (node, member) pair.
 *
 * Immutable data shared between actors does not break "actors share no state": nobody can write into
 * it, and each actor still decides alone which version it points to.
 */
export interface SharedMember {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Interned: never write into it (Member copies hand users their own). */
  readonly meta: Uint8Array;
  readonly incarnation: number;
  readonly state: wire.MemberState;
  readonly vsn: ProtocolVersions;
}

/**
 * The last shared version built per member name, process-wide. A cache, not state: a hit is used only
 * when it equals what would be built, and a miss (another version, or the pool started over) only
 * costs sharing. In a simulation the nodes learn the versions of a member in about the same order, so
 * the last one is the one asked for nearly every time.
 */
const lastVersion = new BoundedPool<string, SharedMember>(DEFAULT_INTERN_CAPACITY);

function sameVersions(a: ProtocolVersions, b: readonly number[]): boolean {
  if (a === b) return true;
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The shared version equal to these fields (interned name, host, meta and versions). */
export function shareMember(r: Omit<MemberRecord, 'stateChangeMs'>): SharedMember {
  const hit = lastVersion.get(r.name);
  if (
    hit !== undefined &&
    hit.incarnation === r.incarnation &&
    hit.state === r.state &&
    hit.port === r.port &&
    hit.host === r.host &&
    (hit.meta === r.meta || bytesEqual(hit.meta, r.meta)) &&
    sameVersions(hit.vsn, r.vsn)
  ) {
    return hit;
  }
  const shared: SharedMember = Object.freeze({
    name: internString(r.name),
    host: internString(r.host),
    port: r.port,
    meta: internBytes(r.meta),
    incarnation: r.incarnation,
    state: r.state,
    vsn: internVersions(r.vsn),
  });
  lastVersion.set(shared.name, shared);
  return shared;
}

const NO_VERSIONS: ProtocolVersions = [0, 0, 0, 0, 0, 0];
const NO_META = new Uint8Array(0);

/** The shared version of a published member (MemberChanged.member), without allocating on a hit. */
export function sharedMemberOf(m: actors.Member.$Properties): SharedMember {
  const name = m.name ?? '';
  const host = m.addr?.host ?? '';
  const port = m.addr?.port ?? 0;
  const meta = m.meta ?? NO_META;
  const incarnation = m.incarnation ?? 0;
  const state = m.state ?? wire.MemberState.ALIVE;
  const hit = lastVersion.get(name);
  if (
    hit !== undefined &&
    hit.incarnation === incarnation &&
    hit.state === state &&
    hit.port === port &&
    hit.host === host &&
    (hit.meta === meta || bytesEqual(hit.meta, meta)) &&
    hit.vsn[0] === (m.protocolMin ?? 0) &&
    hit.vsn[1] === (m.protocolMax ?? 0) &&
    hit.vsn[2] === (m.protocolCur ?? 0) &&
    hit.vsn[3] === (m.delegateMin ?? 0) &&
    hit.vsn[4] === (m.delegateMax ?? 0) &&
    hit.vsn[5] === (m.delegateCur ?? 0)
  ) {
    return hit;
  }
  const vsn: ProtocolVersions =
    m.protocolMin || m.protocolMax || m.protocolCur || m.delegateMin || m.delegateMax || m.delegateCur
      ? [m.protocolMin ?? 0, m.protocolMax ?? 0, m.protocolCur ?? 0, m.delegateMin ?? 0, m.delegateMax ?? 0, m.delegateCur ?? 0]
      : NO_VERSIONS;
  return shareMember({ name, host, port, meta, incarnation, state, vsn });
}
