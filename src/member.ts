import type { actors } from './gen/index.js';
import { STATE_NAMES, type MemberStateName } from './actors/membership/member-record.js';
import type { SharedMember } from './actors/membership/shared-member.js';
import { EMPTY_BYTES } from './util/intern.js';

export type { MemberStateName } from './actors/membership/member-record.js';

/** A member as users see it: a copy, safe to keep. */
export interface Member {
  readonly name: string;
  /** IP literal of the member's advertised address. */
  readonly addr: string;
  readonly port: number;
  readonly meta: Uint8Array;
  readonly state: MemberStateName;
  readonly incarnation: number;
}

export function memberFromMessage(m: actors.Member.$Properties): Member {
  return {
    name: m.name ?? '',
    addr: m.addr?.host ?? '',
    port: m.addr?.port ?? 0,
    meta: m.meta ? new Uint8Array(m.meta) : new Uint8Array(0),
    state: STATE_NAMES[m.state ?? 0],
    incarnation: m.incarnation ?? 0,
  };
}

/** A user's own copy of a shared member version (membership/shared-member.ts): its meta is copied too. */
export function memberFromShared(s: SharedMember): Member {
  return {
    name: s.name,
    addr: s.host,
    port: s.port,
    // An empty meta is the shared zero-length array: nothing can be written into it, and a copy per
    // event was one ArrayBuffer per (node, member) join in a large simulation.
    meta: s.meta.length === 0 ? EMPTY_BYTES : new Uint8Array(s.meta),
    state: STATE_NAMES[s.state],
    incarnation: s.incarnation,
  };
}

const STATE_NUMBERS: Readonly<Record<MemberStateName, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/** The message form of a user-facing Member (what crosses to the host for a delegate hook). */
export function memberToMessage(m: Member): actors.Member.$Properties {
  return { name: m.name, addr: { host: m.addr, port: m.port }, meta: m.meta, incarnation: m.incarnation, state: STATE_NUMBERS[m.state] };
}
