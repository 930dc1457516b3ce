import { actors, wire } from '../../gen/index.js';
import type { TimerHandle } from '../../clock.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { SuspicionState } from './suspicion-timer.js';
import { firedLate } from '../loop-monitor/late-timer.js';

/** One running suspicion. */
interface Entry {
  readonly node: string;
  readonly incarnation: number;
  /** Identifies the suspicion: the suspect's state_change_ms when membership marked it suspect. */
  readonly stateChangeMs: number;
  readonly state: SuspicionState;
  /** The suspect message to re-gossip on a new confirmation when the confirmation carries none. */
  readonly suspect: wire.Suspect.$Properties | null | undefined;
  timer: TimerHandle;
  /** When the timer is due (clock ms), and whether a late expiry was already deferred once. */
  dueMs: number;
  graced: boolean;
}

/**
 * Lifeguard's suspicion timers (memberlist suspicion.go and the timer half of suspectNode, reference
 * §4). Membership marks a member suspect and sends StartSuspicion; confirmations from other members
 * (ConfirmSuspicion) shrink the timer and are re-gossiped only when new; on expiry SuspicionExpired
 * goes back to membership, which declares the member dead if that suspicion is still current.
 *
 * A timer is cancelled as soon as MemberChanged shows the member is no longer in that suspicion (not
 * suspect any more, or suspect since another state_change_ms) or it is removed. Membership still
 * re-checks on expiry, as memberlist does, since a change and an expiry can cross in the mailboxes.
 */
export class SuspicionActor implements Actor {
  readonly name = 'suspicion';
  readonly accepts = [
    actors.StartSuspicion,
    actors.ConfirmSuspicion,
    actors.SuspicionTimer,
    actors.MemberChanged,
    actors.MemberRemoved,
  ];
  #ctx!: ActorContext;
  #entries = new Map<string, Entry>();

  /** Suspicions started. */
  started = 0;
  /** Confirmations accepted (each re-gossiped). */
  confirmationsAccepted = 0;
  /** Suspicions that expired (SuspicionExpired sent). */
  expired = 0;
  /** Suspicions cancelled by a refutation, a newer suspicion, a death or a removal. */
  cancelled = 0;
  /** Expiries with fewer than k confirmations (memberlist.degraded.timeout). */
  degradedTimeouts = 0;
  /** Expiries that fired late (this thread stalled) and were judged one loop turn later, after the refutations that arrived meanwhile. */
  lateExpiries = 0;

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#entries = new Map();
  }

  stop(): void {
    for (const e of this.#entries.values()) e.timer.cancel();
    this.#entries.clear();
  }

  /** Number of running suspicion timers. */
  get active(): number {
    return this.#entries.size;
  }

  receive(message: object): void {
    if (message instanceof actors.StartSuspicion) this.#onStart(message);
    else if (message instanceof actors.ConfirmSuspicion) this.#onConfirm(message);
    else if (message instanceof actors.SuspicionTimer) this.#onTimer(message);
    else if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#cancel(message.name);
  }

  #onStart(m: actors.StartSuspicion): void {
    if (!m.node) return;
    this.#cancel(m.node, false);
    const state = new SuspicionState({
      from: m.from,
      k: m.k,
      minMs: m.minMs,
      maxMs: m.maxMs,
      startMs: this.#ctx.clock.now(),
    });
    const entry: Entry = {
      node: m.node,
      incarnation: m.incarnation,
      stateChangeMs: m.stateChangeMs,
      state,
      suspect: m.suspect,
      timer: this.#schedule(m.node, m.stateChangeMs, state.initialTimeoutMs),
      dueMs: this.#ctx.clock.now() + state.initialTimeoutMs,
      graced: false,
    };
    this.#entries.set(m.node, entry);
    this.started++;
    this.#ctx.logger.debug({ member: m.node, k: state.k, timeoutMs: state.initialTimeoutMs }, 'suspicion started');
  }

  #onConfirm(m: actors.ConfirmSuspicion): void {
    const e = this.#entries.get(m.node);
    if (e === undefined || !m.from) return;
    const outcome = e.state.confirm(m.from, this.#ctx.clock.now());
    if (!outcome.accepted) return;
    this.confirmationsAccepted++;
    const suspect = m.suspect ?? e.suspect;
    if (suspect !== null && suspect !== undefined) {
      this.#ctx.send(actors.QueueBroadcast.create({ key: e.node, message: { suspect } }));
    }
    e.timer.cancel();
    if (outcome.remainingMs <= 0) {
      this.#expire(e);
      return;
    }
    e.timer = this.#schedule(e.node, e.stateChangeMs, outcome.remainingMs);
    e.dueMs = this.#ctx.clock.now() + outcome.remainingMs;
  }

  #onTimer(m: actors.SuspicionTimer): void {
    const e = this.#entries.get(m.node);
    // A timer of a replaced suspicion (cancel raced with delivery) is stale.
    if (e === undefined || e.stateChangeMs !== m.stateChangeMs) return;
    if (!e.graced && firedLate(e.dueMs, this.#ctx.clock.now())) {
      // Our loop stalled past the expiry: a refutation may be waiting unread in the socket.
      e.graced = true;
      this.lateExpiries++;
      e.timer = this.#schedule(e.node, e.stateChangeMs, 0);
      return;
    }
    this.#expire(e);
  }

  #expire(e: Entry): void {
    this.#entries.delete(e.node);
    e.timer.cancel();
    this.expired++;
    const confirmations = e.state.confirmations;
    if (e.state.degraded) this.degradedTimeouts++;
    this.#ctx.logger.info({ member: e.node, confirmations }, 'suspect timeout reached');
    this.#ctx.send(
      actors.SuspicionExpired.create({
        node: e.node,
        incarnation: e.incarnation,
        stateChangeMs: e.stateChangeMs,
        confirmations,
      }),
    );
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    const e = this.#entries.get(member.name);
    if (e === undefined) return;
    // Refuted (alive), declared dead or left, or suspected anew (another state_change_ms).
    if (member.state !== wire.MemberState.SUSPECT || (member.stateChangeMs ?? 0) !== e.stateChangeMs) this.#cancel(member.name);
  }

  #cancel(node: string, count = true): void {
    const e = this.#entries.get(node);
    if (e === undefined) return;
    e.timer.cancel();
    this.#entries.delete(node);
    if (count) this.cancelled++;
  }

  #schedule(node: string, stateChangeMs: number, delayMs: number): TimerHandle {
    return this.#ctx.schedule(Math.max(0, delayMs), actors.SuspicionTimer.create({ node, stateChangeMs }));
  }
}
