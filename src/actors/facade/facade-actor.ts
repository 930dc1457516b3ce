import { actors, wire } from '../../gen/index.js';
import type { NodeEvents } from '../../events.js';
import { memberFromMessage, type Member } from '../../member.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { isDeadOrLeft } from '../membership/member-record.js';

interface Pending<T> {
  resolve(value: T): void;
}

/**
 * The public node's window onto the actors: it keeps the snapshot that node.members() returns, turns
 * membership messages into user events in the order the membership actor published them, and
 * completes the promises of API calls (join, leave) when their result messages arrive. It is an
 * ordinary actor, so the facade reads nothing that another actor writes.
 */
export class FacadeActor implements Actor {
  readonly name = 'facade';
  readonly accepts = [
    actors.MemberChanged,
    actors.MemberRemoved,
    actors.MemberConflict,
    actors.HealthChanged,
    actors.JoinResult,
    actors.LeaveResult,
  ];
  readonly members = new Map<string, Member>();
  local: Member | undefined;
  healthScore = 0;
  #ctx: ActorContext | undefined;
  #nextRequestId = 1;
  readonly #joins = new Map<number, Pending<actors.JoinResult>>();
  readonly #leaves = new Map<number, Pending<actors.LeaveResult>>();

  constructor(private readonly events: NodeEvents) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
  }

  /** Sends a JoinRequest and resolves with its JoinResult. */
  join(seeds: readonly string[]): Promise<actors.JoinResult> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      this.#joins.set(requestId, { resolve });
      this.#ctx?.send(actors.JoinRequest.create({ requestId, seeds: [...seeds] }));
    });
  }

  /** Sends a LeaveRequest and resolves with its LeaveResult. */
  leave(): Promise<actors.LeaveResult> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      this.#leaves.set(requestId, { resolve });
      this.#ctx?.send(actors.LeaveRequest.create({ requestId }));
    });
  }

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.members.delete(message.name);
    else if (message instanceof actors.HealthChanged) this.healthScore = message.score;
    else if (message instanceof actors.MemberConflict) {
      if (message.existing && message.other) {
        this.events.emit('conflict', { existing: memberFromMessage(message.existing), other: memberFromMessage(message.other) });
      }
    } else if (message instanceof actors.JoinResult) complete(this.#joins, message.requestId, message);
    else if (message instanceof actors.LeaveResult) complete(this.#leaves, message.requestId, message);
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    if (m.member === null || m.member === undefined) return;
    const member = memberFromMessage(m.member);
    const prev = m.previous === null || m.previous === undefined ? undefined : memberFromMessage(m.previous);
    this.members.set(member.name, member);
    if (m.local) this.local = member;
    const state = m.member.state ?? wire.MemberState.ALIVE;
    const prevState = m.previous?.state ?? wire.MemberState.DEAD;
    const wasGone = prev === undefined || isDeadOrLeft(prevState);
    if (state === wire.MemberState.ALIVE && wasGone) {
      this.events.emit('join', { member });
    } else if (isDeadOrLeft(state) && !wasGone) {
      this.events.emit('leave', { member, reason: state === wire.MemberState.LEFT ? 'left' : 'failed' });
    } else if (state === wire.MemberState.SUSPECT && prevState === wire.MemberState.ALIVE) {
      this.events.emit('suspect', { member });
    } else if (state === wire.MemberState.ALIVE && prevState === wire.MemberState.SUSPECT) {
      this.events.emit('alive', { member });
    }
    if (state === wire.MemberState.ALIVE && prev !== undefined && !wasGone && !sameBytes(prev.meta, member.meta)) {
      this.events.emit('update', { old: prev, member });
    }
  }
}

function complete<T>(pending: Map<number, Pending<T>>, id: number, value: T): void {
  const p = pending.get(id);
  if (p === undefined) return;
  pending.delete(id);
  p.resolve(value);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
