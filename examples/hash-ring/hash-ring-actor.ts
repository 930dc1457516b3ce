/**
 * A consistent-hash ring over the live members of the cluster, kept by a custom actor (ringpop's
 * design on top of SWIM membership): every node builds the same ring from the same member set, so
 * every node routes a key to the same owner without asking anyone.
 *
 * The actor follows the membership actor's MemberChanged / MemberRemoved messages, the only way any
 * actor learns the member list, and rebalances (adds or removes the member's points) at every change.
 */
import { actors, wire, type Actor, type ActorContext, type Member } from '../../src/index.js';
import { HashRing, type HashRingOptions } from './hash-ring.js';

/** A change of the ring's member set, reported after it has been applied. */
export interface RingChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** The members after the change, sorted. */
  readonly members: readonly string[];
  /** HashRing.checksum() after the change: equal on two nodes means equal lookups. */
  readonly checksum: number;
}

export interface HashRingActorOptions extends HashRingOptions {
  /** Actor name, unique within the node. Default 'hash-ring'. */
  name?: string;
  /**
   * Keep suspect members in the ring (default false: only alive members own keys, as the ring is
   * defined here). True trades faster failover for stability: ringpop keeps suspects, so a false
   * suspicion, which Lifeguard makes rare but not impossible, moves no keys.
   */
  includeSuspect?: boolean;
  /**
   * The members known before the actor was spawned, such as `node.members()` when spawning on a node
   * that has already joined: a custom actor only sees MemberChanged messages published after it was
   * spawned. Also applied again after a restart.
   */
  members?: Iterable<Pick<Member, 'name' | 'state'>>;
  /** Called after every change of the ring (a throw is caught and logged: the ring stays consistent). */
  onChange?: (change: RingChange) => void;
}

export class HashRingActor implements Actor {
  readonly name: string;
  readonly accepts = [actors.MemberChanged, actors.MemberRemoved];
  readonly #options: HashRingActorOptions;
  #ring: HashRing;
  #ctx: ActorContext | undefined;

  constructor(options: HashRingActorOptions = {}) {
    this.name = options.name ?? 'hash-ring';
    this.#options = options;
    this.#ring = this.#newRing();
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#ring = this.#newRing();
    const initial: string[] = [];
    for (const m of this.#options.members ?? []) {
      if (m.state === 'alive' || (m.state === 'suspect' && this.#options.includeSuspect === true)) initial.push(m.name);
    }
    // Our own alive MemberChanged is published when the node starts, before any custom actor can be
    // spawned: a running node is alive by definition, so it is in the ring until it says otherwise.
    initial.push(ctx.nodeName);
    this.#apply(this.#ring.add(...initial), []);
  }

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#apply([], this.#ring.remove(message.name));
  }

  /** The owner of `key` (undefined only before start). */
  lookup(key: string): string | undefined {
    return this.#ring.lookup(key);
  }

  /** Up to `n` distinct owners of `key` in ring order (the preference list for replicas). */
  lookupN(key: string, n: number): string[] {
    return this.#ring.lookupN(key, n);
  }

  /** The members in the ring, sorted. */
  members(): string[] {
    return this.#ring.members();
  }

  /** The ring's checksum: compare it across nodes to check that they route keys alike. */
  checksum(): number {
    return this.#ring.checksum();
  }

  /** The share of the key space each member owns. */
  ownership(): Map<string, number> {
    return this.#ring.ownership();
  }

  #newRing(): HashRing {
    return new HashRing({ replicaPoints: this.#options.replicaPoints, hash: this.#options.hash });
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    const state = member.state ?? wire.MemberState.ALIVE;
    const owns = state === wire.MemberState.ALIVE || (state === wire.MemberState.SUSPECT && this.#options.includeSuspect === true);
    if (owns) this.#apply(this.#ring.add(member.name), []);
    else this.#apply([], this.#ring.remove(member.name));
  }

  #apply(added: string[], removed: string[]): void {
    if (added.length === 0 && removed.length === 0) return;
    const onChange = this.#options.onChange;
    if (onChange === undefined) return;
    const change: RingChange = { added, removed, members: this.#ring.members(), checksum: this.#ring.checksum() };
    try {
      onChange(change);
    } catch (err) {
      // The callback is the application's: its failure must not crash (and so reset) the ring.
      this.#ctx?.logger.warn({ err }, 'hash ring onChange callback threw');
    }
  }
}
