import { actors, wire } from '../../gen/index.js';
import type { NodeEvents } from '../../events.js';
import { memberFromMessage, type Member } from '../../member.js';
import type { Actor } from '../../runtime/actor.js';
import { isDeadOrLeft } from '../membership/member-record.js';

/**
 * The public node's window onto the actors: it keeps the snapshot that node.members() returns and
 * turns MemberChanged into user events, in the order the membership actor published them. It is an
 * ordinary actor, so the facade reads nothing that another actor writes.
 */
export class FacadeActor implements Actor {
  readonly name = 'facade';
  readonly accepts = [actors.MemberChanged, actors.HealthChanged];
  readonly restartPolicy = 'restart' as const;
  readonly members = new Map<string, Member>();
  local: Member | undefined;
  healthScore = 0;

  constructor(private readonly events: NodeEvents) {}

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.HealthChanged) this.healthScore = message.score;
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
