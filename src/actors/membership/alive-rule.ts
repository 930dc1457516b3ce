import { wire } from '../../gen/index.js';
import { bytesEqual, isDeadOrLeft, type MemberRecord, type ProtocolVersions } from './member-record.js';

/** An alive claim, with the address already decoded and meta already copied out of the packet. */
export interface AliveClaim {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly meta: Uint8Array;
  readonly incarnation: number;
  readonly vsn: ProtocolVersions;
}

export interface AliveContext {
  readonly localName: string;
  readonly nowMs: number;
  /** memberlist's DeadNodeReclaimTime: 0 = a dead name cannot be taken by a new address before reaping. */
  readonly deadNodeReclaimTimeMs: number;
  /** Our own alive (setAlive, updateMeta): applied, never refuted. */
  readonly bootstrap: boolean;
  /** We left: alive claims about us are ignored forever (memberlist issue #140 semantics). */
  readonly hasLeft: boolean;
}

export type AliveEvent = 'join' | 'update' | 'none';

export type AliveDecision =
  | { kind: 'ignore'; reason: 'left-self' | 'bad-versions' | 'stale' | 'echo' }
  | { kind: 'conflict'; existing: MemberRecord; claim: AliveClaim }
  | { kind: 'refute'; accusedIncarnation: number }
  | { kind: 'apply'; record: MemberRecord; previous: MemberRecord | undefined; event: AliveEvent };

/**
 * memberlist's aliveNode (reference §5) as a pure function of the current entry and the claim.
 * Applying is the membership actor's job: it stores the record, re-gossips the claim and fires the event.
 */
export function decideAlive(existing: MemberRecord | undefined, claim: AliveClaim, ctx: AliveContext): AliveDecision {
  const aboutUs = claim.name === ctx.localName;
  if (ctx.hasLeft && aboutUs) return { kind: 'ignore', reason: 'left-self' };
  const [pmin, pmax] = claim.vsn;
  if (pmin === 0 || pmax === 0 || pmin > pmax) return { kind: 'ignore', reason: 'bad-versions' };

  let updatesAddress = false;
  if (existing !== undefined && (existing.host !== claim.host || existing.port !== claim.port)) {
    const canReclaim = ctx.deadNodeReclaimTimeMs > 0 && ctx.nowMs - existing.stateChangeMs > ctx.deadNodeReclaimTimeMs;
    if (existing.state === wire.MemberState.LEFT || (existing.state === wire.MemberState.DEAD && canReclaim)) {
      updatesAddress = true;
    } else {
      return { kind: 'conflict', existing, claim };
    }
  }

  if (existing !== undefined) {
    // Others need a strictly newer incarnation; an address takeover of a left/reclaimable entry skips
    // the check (the newcomer restarted at incarnation 1). About us, only an older claim is stale.
    if (!aboutUs && !updatesAddress && claim.incarnation <= existing.incarnation) return { kind: 'ignore', reason: 'stale' };
    if (aboutUs && claim.incarnation < existing.incarnation) return { kind: 'ignore', reason: 'stale' };
  }

  if (aboutUs && !ctx.bootstrap && existing !== undefined) {
    if (
      claim.incarnation === existing.incarnation &&
      bytesEqual(claim.meta, existing.meta) &&
      claim.vsn.every((v, i) => v === existing.vsn[i])
    ) {
      return { kind: 'ignore', reason: 'echo' };
    }
    return { kind: 'refute', accusedIncarnation: claim.incarnation };
  }

  const wasAlive = existing !== undefined && existing.state === wire.MemberState.ALIVE;
  const record: MemberRecord = {
    name: claim.name,
    host: claim.host,
    port: claim.port,
    meta: claim.meta,
    incarnation: claim.incarnation,
    state: wire.MemberState.ALIVE,
    stateChangeMs: wasAlive ? existing.stateChangeMs : ctx.nowMs,
    vsn: claim.vsn,
  };
  // A new member starts as if dead, so its first alive fires join (our own included).
  let event: AliveEvent = 'none';
  if (existing === undefined || isDeadOrLeft(existing.state)) event = 'join';
  else if (!bytesEqual(existing.meta, claim.meta)) event = 'update';
  return { kind: 'apply', record, previous: existing, event };
}
