import { actors, wire } from '../../gen/index.js';
import type { HookRunner } from '../../delegates.js';
import type { MessageVia, NodeEvents } from '../../events.js';
import { memberFromMessage, memberFromShared, type Member } from '../../member.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { isDeadOrLeft } from '../membership/member-record.js';
import { bytesEqual } from '../../util/bytes.js';
import { NameMap } from '../../util/name-table.js';
import { sharedMemberOf, type SharedMember } from '../membership/shared-member.js';

/** The facade's name as a StreamRequest requester. */
const FACADE = 'facade';

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
    actors.UpdateMetaResult,
    actors.UserBroadcastSent,
    actors.UserMessageDelivered,
    actors.StreamResult,
    actors.PingCompleted,
    actors.KeyRotationResult,
  ];
  /**
   * The snapshot node.members() copies from: shared versions (membership/shared-member.ts) in a dense
   * table, so a node holds a version id per member rather than a Member and its meta copy. Users get
   * Member copies (memberFromShared), made when they ask.
   */
  readonly members = new NameMap<SharedMember>();
  /** Alive members (self included), kept on every change so numMembers() is O(1). */
  aliveCount = 0;
  local: Member | undefined;
  healthScore = 0;
  #ctx: ActorContext | undefined;
  #nextRequestId = 1;
  /** API calls waiting for their result message, by request id (unique across kinds). */
  readonly #pending = new Map<number, (result: object) => void>();

  constructor(
    private readonly events: NodeEvents,
    private readonly hooks?: HookRunner,
  ) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
  }

  /**
   * Sends the request `make(requestId)` into the actors and resolves with the result message that
   * carries the same request id (of class `result`).
   */
  request<T extends object>(result: new (...args: never[]) => T, make: (requestId: number) => object): Promise<T> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      this.#pending.set(requestId, (r) => {
        if (r instanceof result) resolve(r);
      });
      this.#ctx?.send(make(requestId));
    });
  }

  /** Sends one user message over a TCP stream; resolves with the error text ('' when written). */
  async sendStream(to: { host: string; port: number }, request: object, timeoutMs: number): Promise<string> {
    const r = await this.request(actors.StreamResult, (requestId) =>
      actors.StreamRequest.create({ requestId, requester: FACADE, to, request, timeoutMs, expectReply: false }),
    );
    return r.error;
  }

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) {
      if (this.members.get(message.name)?.state === wire.MemberState.ALIVE) this.aliveCount--;
      this.members.delete(message.name);
    }
    else if (message instanceof actors.HealthChanged) this.healthScore = message.score;
    else if (message instanceof actors.MemberConflict) {
      if (message.existing && message.other) {
        this.events.emit('conflict', { existing: memberFromMessage(message.existing), other: memberFromMessage(message.other) });
      }
    } else if (message instanceof actors.UserMessageDelivered) {
      this.events.emit('message', {
        payload: message.payload,
        via: message.via as MessageVia,
        from: message.from,
        key: message.key,
      });
    } else if (message instanceof actors.PingCompleted) {
      this.#pingCompleted(message);
    } else if (message instanceof actors.StreamResult) {
      if (message.requester === FACADE) this.#complete(message.requestId, message);
    } else if (
      message instanceof actors.JoinResult ||
      message instanceof actors.LeaveResult ||
      message instanceof actors.UpdateMetaResult ||
      message instanceof actors.UserBroadcastSent ||
      message instanceof actors.KeyRotationResult
    ) {
      this.#complete(message.requestId, message);
    }
  }

  #complete(requestId: number, result: object): void {
    const done = this.#pending.get(requestId);
    if (done === undefined) return;
    this.#pending.delete(requestId);
    done(result);
  }

  #pingCompleted(m: actors.PingCompleted): void {
    const hooks = this.hooks;
    if (hooks === undefined || !hooks.has('onPingComplete')) return;
    const shared = this.members.get(m.node);
    if (shared === undefined) return;
    const member = memberFromShared(shared);
    hooks.run('onPingComplete', (d) => d.onPingComplete?.(member, m.rttMs, m.payload), undefined);
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    if (m.member === null || m.member === undefined) return;
    const shared = sharedMemberOf(m.member);
    const before = this.members.get(shared.name);
    if (before?.state === wire.MemberState.ALIVE) this.aliveCount--;
    if (shared.state === wire.MemberState.ALIVE) this.aliveCount++;
    this.members.set(shared.name, shared);
    const member = memberFromShared(shared);
    const prev = m.previous === null || m.previous === undefined ? undefined : memberFromMessage(m.previous);
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
    if (state === wire.MemberState.ALIVE && prev !== undefined && !wasGone && !bytesEqual(prev.meta, member.meta)) {
      this.events.emit('update', { old: prev, member });
    }
  }
}

