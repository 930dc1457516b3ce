import { actors, wire } from '../../gen/index.js';
import { fromWireAddress } from '../../codec/address.js';
import { internBytes } from '../../util/intern.js';
import type { SharedMember } from './shared-member.js';
import { versionFields } from './protocol-versions.js';

export { versionFields, vsnOfAlive, type ProtocolVersions, type VersionFields } from './protocol-versions.js';

export type MemberStateName = 'alive' | 'suspect' | 'dead' | 'left';

/**
 * One entry of the member table, owned by the membership actor (immutable: rules return new records):
 * the shared member version plus this node's own time of its last state change.
 */
export interface MemberRecord extends SharedMember {
  /** Clock time of the last state change (drives reaping, reclaim and suspicion bookkeeping). */
  readonly stateChangeMs: number;
}

export const STATE_NAMES: Readonly<Record<wire.MemberState, MemberStateName>> = {
  [wire.MemberState.ALIVE]: 'alive',
  [wire.MemberState.SUSPECT]: 'suspect',
  [wire.MemberState.DEAD]: 'dead',
  [wire.MemberState.LEFT]: 'left',
};

export function isDeadOrLeft(state: wire.MemberState): boolean {
  return state === wire.MemberState.DEAD || state === wire.MemberState.LEFT;
}

/** The actor-message form of a record, published in MemberChanged. */
export function toMemberMessage(r: MemberRecord): actors.Member {
  return actors.Member.create({
    name: r.name,
    addr: { host: r.host, port: r.port },
    meta: r.meta,
    incarnation: r.incarnation,
    state: r.state,
    stateChangeMs: r.stateChangeMs,
    ...versionFields(r.vsn),
  });
}

/** Host text of an alive message's address, or undefined when the peer sent a malformed one. */
export function hostOfAlive(a: wire.Alive.$Properties): string | undefined {
  return fromWireAddress(a.ipv4, a.ipv6);
}

/**
 * Copies bytes out of a receive buffer. Decoded bytes fields are views into the datagram; a long-lived
 * record holding one would keep the whole datagram alive (node-stack.md §2a).
 */
export function ownedBytes(b: Uint8Array | null | undefined): Uint8Array {
  // Interned: equal metas share one immutable copy, so n nodes in one process do not hold n copies.
  return internBytes(b);
}

export { bytesEqual } from '../../util/bytes.js';
