import { wire } from '../../gen/index.js';
import { isDeadOrLeft, type MemberRecord } from './member-record.js';

export interface Accusation {
  readonly node: string;
  readonly incarnation: number;
  readonly from: string;
}

export type SuspectDecision =
  | { kind: 'ignore'; reason: 'unknown' | 'stale' | 'not-alive' }
  /** Already suspect: a possible independent confirmation for the suspicion actor. */
  | { kind: 'confirm' }
  | { kind: 'refute'; accusedIncarnation: number }
  | { kind: 'apply'; record: MemberRecord };

/** memberlist's suspectNode (reference §5) as a pure function. */
export function decideSuspect(
  existing: MemberRecord | undefined,
  s: Accusation,
  localName: string,
  nowMs: number,
): SuspectDecision {
  if (existing === undefined) return { kind: 'ignore', reason: 'unknown' };
  if (s.incarnation < existing.incarnation) return { kind: 'ignore', reason: 'stale' };
  // memberlist checks for a running suspicion timer before the state: a suspect member's timer is
  // what a second accusation confirms.
  if (existing.state === wire.MemberState.SUSPECT) return { kind: 'confirm' };
  if (existing.state !== wire.MemberState.ALIVE) return { kind: 'ignore', reason: 'not-alive' };
  if (s.node === localName) return { kind: 'refute', accusedIncarnation: s.incarnation };
  return {
    kind: 'apply',
    record: { ...existing, incarnation: s.incarnation, state: wire.MemberState.SUSPECT, stateChangeMs: nowMs },
  };
}

export type DeadDecision =
  | { kind: 'ignore'; reason: 'unknown' | 'stale' | 'already-dead' }
  | { kind: 'refute'; accusedIncarnation: number }
  | { kind: 'apply'; record: MemberRecord; left: boolean };

/**
 * memberlist's deadNode (reference §5): `from == node` means a graceful leave (state left), anything
 * else a failure (state dead). About ourselves it is refuted, unless we are leaving.
 */
export function decideDead(
  existing: MemberRecord | undefined,
  d: Accusation,
  localName: string,
  leaving: boolean,
  nowMs: number,
): DeadDecision {
  if (existing === undefined) return { kind: 'ignore', reason: 'unknown' };
  if (d.incarnation < existing.incarnation) return { kind: 'ignore', reason: 'stale' };
  if (isDeadOrLeft(existing.state)) return { kind: 'ignore', reason: 'already-dead' };
  if (d.node === localName && !leaving) return { kind: 'refute', accusedIncarnation: d.incarnation };
  const left = d.node === d.from;
  return {
    kind: 'apply',
    left,
    record: {
      ...existing,
      incarnation: d.incarnation,
      state: left ? wire.MemberState.LEFT : wire.MemberState.DEAD,
      stateChangeMs: nowMs,
    },
  };
}

/** Refutation incarnation: max(own + 1, accused + 1) (memberlist's refute). */
export function refuteIncarnation(current: number, accused: number): number {
  const next = current + 1;
  return accused >= next ? accused + 1 : next;
}

/** Dead and left entries older than `gossipToTheDeadMs`: reaped at the probe-list wrap-around. */
export function reapable(r: MemberRecord, nowMs: number, gossipToTheDeadMs: number, localName: string): boolean {
  return r.name !== localName && isDeadOrLeft(r.state) && nowMs - r.stateChangeMs > gossipToTheDeadMs;
}
