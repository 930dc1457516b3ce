import { actors } from '../../gen/index.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { BroadcastDedup } from './broadcast-dedup.js';

export interface UserMessagesOptions {
  name: string;
}

/**
 * User broadcasts and received user messages. A broadcast carries (origin, seq, key): every node
 * delivers it once and re-queues it in the gossip dispatcher, so it spreads like membership news;
 * a later broadcast from the same origin with the same key replaces a queued one everywhere.
 * Direct messages (sendBestEffort over UDP, sendReliable over TCP) are delivered as they come.
 */
export class UserMessagesActor implements Actor {
  readonly name = 'user-messages';
  readonly accepts = [actors.UserBroadcastRequest, actors.UserPacketReceived, actors.BroadcastDone, actors.MemberRemoved];
  #ctx!: ActorContext;
  #seq = 0;
  #nextNotifyId = 1;
  #dedup = new BroadcastDedup();
  #completions = new Map<number, number>();
  delivered = 0;
  duplicates = 0;

  constructor(private readonly options: UserMessagesOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#completions = new Map();
  }

  receive(message: object): void {
    if (message instanceof actors.UserBroadcastRequest) this.#broadcast(message);
    else if (message instanceof actors.UserPacketReceived) this.#received(message);
    else if (message instanceof actors.BroadcastDone) this.#done(message);
    else if (message instanceof actors.MemberRemoved) this.#dedup.forget(message.name);
  }

  #broadcast(m: actors.UserBroadcastRequest): void {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const origin = this.options.name;
    // Our own broadcast is never delivered back to us.
    this.#dedup.accept(origin, seq, m.key);
    let notifyId = 0;
    if (m.wantCompletion) {
      notifyId = this.#nextNotifyId++;
      this.#completions.set(notifyId, m.requestId);
    }
    this.#queue(origin, seq, m.key, m.payload, notifyId);
  }

  #received(m: actors.UserPacketReceived): void {
    const u = m.user;
    if (u === null || u === undefined) return;
    const payload = u.payload ? new Uint8Array(u.payload) : new Uint8Array(0);
    if (u.origin) {
      const seq = u.seq ?? 0;
      const key = u.key ?? '';
      if (!this.#dedup.accept(u.origin, seq, key)) {
        this.duplicates++;
        return;
      }
      this.#deliver(payload, 'broadcast', u.origin, key, m.from);
      this.#queue(u.origin, seq, key, payload, 0);
      return;
    }
    this.#deliver(payload, m.reliable ? 'reliable' : 'best-effort', u.from ?? '', '', m.from);
  }

  #queue(origin: string, seq: number, key: string, payload: Uint8Array, notifyId: number): void {
    this.#ctx.send(actors.RecentBroadcast.create({ user: { payload, origin, seq, key } }));
    this.#ctx.send(
      actors.QueueBroadcast.create({
        // Scoped by origin: keys are the application's names for what a broadcast is about, and two
        // nodes using one key must not erase each other's broadcasts. Keyless ones are unique.
        key: key === '' ? `${origin}#${seq}` : `${origin}/${key}`,
        message: { user: { payload, origin, seq, key } },
        notifyId,
        user: true,
      }),
    );
  }

  #deliver(payload: Uint8Array, via: string, from: string, key: string, addr: actors.Endpoint.$Properties | null | undefined): void {
    this.delivered++;
    this.#ctx.send(actors.UserMessageDelivered.create({ payload, via, from, key, addr: addr ?? null }));
  }

  #done(m: actors.BroadcastDone): void {
    if (!m.user) return;
    const requestId = this.#completions.get(m.notifyId);
    if (requestId === undefined) return;
    this.#completions.delete(m.notifyId);
    this.#ctx.send(actors.UserBroadcastSent.create({ requestId, transmitted: m.transmitted }));
  }
}
