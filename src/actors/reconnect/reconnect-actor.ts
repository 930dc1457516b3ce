import { actors, wire } from '../../gen/index.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { parseSeed } from '../push-pull/seeds.js';
import {
  addressKey,
  expired,
  firstDelayMs,
  reconnectCandidates,
  shouldAttempt,
  type DeadEntry,
  type ReconnectAddress,
  type SeedEntry,
} from './reconnect-schedule.js';
import { NameMap } from '../../util/name-table.js';
import { sharedMemberOf, type SharedMember } from '../membership/shared-member.js';

export interface ReconnectOptions {
  /**
   * How often one dead member or unreachable seed is tried (Serf's ReconnectInterval, 30 s). 0 disables
   * the actor (it still keeps its lists, so turning it on later is not needed at runtime).
   */
  reconnectIntervalMs: number;
  /** Give-up time after a member died (or a seed became unreachable); 0 = never (Serf: 24 h). */
  reconnectTimeoutMs: number;
  /** Port of a seed given without one (the node's bind port), as the push-pull actor parses seeds. */
  defaultPort: number;
}

/** Counters of the reconnect actor, for metrics and tests. */
export interface ReconnectCounters {
  /** Ticks that ran (interval elapsed). */
  ticks: number;
  /** Syncs asked of the push-pull actor (DigestMismatch sent). */
  attempts: number;
  /** Ticks with candidates where the Serf throttle (failed / alive) said not this time. */
  throttled: number;
  /** Dead members and seeds dropped after reconnectTimeoutMs. */
  givenUp: number;
  /** Dead members dropped because they came back (alive or suspect) or left. */
  recovered: number;
}

function isLive(state: wire.MemberState): boolean {
  return state === wire.MemberState.ALIVE || state === wire.MemberState.SUSPECT;
}

/**
 * Partition healing beyond memberlist (Serf's reconnect). memberlist stops talking to a dead member
 * after gossipToTheDeadMs and then reaps it, so two halves of a split cluster that both declared the
 * other dead never talk again (reference §5, issue #222). This actor remembers every dead (not left)
 * member's last address, past reaping, and the seeds we joined through; every reconnectIntervalMs it
 * picks one at random (throttled as Serf does, by failed / alive) and asks the push-pull actor to sync
 * with it by sending a DigestMismatch, which the push-pull actor turns into a push-pull (at most one per
 * its cooldown, one repair in flight). A successful sync merges both states: the reconnected members
 * turn alive again (refuting the dead claims about themselves), and the ordinary gossip and digest
 * repair spread that through both halves.
 *
 * A member is forgotten when it comes back (alive or suspect), leaves, or died more than
 * reconnectTimeoutMs ago.
 */
export class ReconnectActor implements Actor {
  readonly name = 'reconnect';
  readonly accepts = [actors.MemberChanged, actors.MembersSnapshot, actors.JoinRequest, actors.ReconnectTick];
  readonly counters: ReconnectCounters = { ticks: 0, attempts: 0, throttled: 0, givenUp: 0, recovered: 0 };
  #ctx!: ActorContext;
  #running = false;
  #round = 0;
  /** Every member in our table by name, with its last address and state (reaped ones included). */
  readonly #members = new NameMap<SharedMember>();
  /** Dead members to retry, by name. Survives MemberRemoved (reaping) on purpose. */
  readonly #dead = new Map<string, DeadEntry>();
  /** Seeds (IP literals) by address key. */
  readonly #seeds = new Map<string, SeedEntry>();
  #selfKey: string | undefined;

  constructor(private readonly options: ReconnectOptions) {}

  /** Dead members currently remembered (for tests). */
  get deadNames(): string[] {
    return [...this.#dead.keys()].sort();
  }

  /** Seed addresses remembered (for tests). */
  get seedAddresses(): string[] {
    return [...this.#seeds.keys()].sort();
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#running = true;
    const interval = this.options.reconnectIntervalMs;
    if (interval > 0) ctx.schedule(firstDelayMs(interval, ctx.random.next()), actors.ReconnectTick.create({ round: 0 }));
  }

  stop(): void {
    this.#running = false;
  }

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MembersSnapshot) this.#onSnapshot(message);
    else if (message instanceof actors.JoinRequest) this.#onJoin(message);
    else if (message instanceof actors.ReconnectTick) this.#onTick();
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name || !member.addr?.host || !member.addr.port) return;
    const state = member.state ?? wire.MemberState.ALIVE;
    // The shared version (membership/shared-member.ts) in a dense table: a version id per member.
    const entry = sharedMemberOf(member);
    const key = addressKey(entry);
    if (m.local) {
      this.#selfKey = key;
      this.#seeds.delete(key);
    }
    const before = this.#members.get(member.name);
    this.#members.set(member.name, entry);
    if (m.local) return;
    if (state === wire.MemberState.DEAD) {
      const now = this.#ctx.clock.now();
      const diedAtMs = member.stateChangeMs && member.stateChangeMs > 0 ? member.stateChangeMs : now;
      this.#dead.set(member.name, { name: member.name, host: entry.host, port: entry.port, diedAtMs });
    } else if (this.#dead.delete(member.name)) {
      this.counters.recovered++;
    }
    // A seed whose member stopped being live: its give-up clock starts now.
    if (!isLive(state) && before !== undefined && isLive(before.state)) {
      const seed = this.#seeds.get(addressKey(before));
      if (seed !== undefined) this.#seeds.set(addressKey(before), { ...seed, sinceMs: this.#ctx.clock.now() });
    }
  }

  /** Spawned on a running node (node.spawn): the table so far arrives as one snapshot. */
  #onSnapshot(m: actors.MembersSnapshot): void {
    if (m.requester !== this.#ctx.self) return;
    for (const member of m.members) {
      const local = member.name === this.#ctx.nodeName;
      this.#onMemberChanged(actors.MemberChanged.create({ member, local }));
    }
  }

  #onJoin(m: actors.JoinRequest): void {
    const now = this.#ctx.clock.now();
    for (const seed of m.seeds) {
      const parsed = parseSeed(seed, this.options.defaultPort);
      // Host names would need DNS on every attempt; only IP literals are remembered.
      if (!parsed.ok || !parsed.value.isIp) continue;
      const address = { host: parsed.value.host, port: parsed.value.port };
      const key = addressKey(address);
      if (key === this.#selfKey) continue;
      this.#seeds.set(key, { ...address, sinceMs: now });
    }
  }

  #onTick(): void {
    if (!this.#running) return;
    this.#round++;
    const interval = this.options.reconnectIntervalMs;
    if (interval <= 0) return;
    this.#ctx.schedule(interval, actors.ReconnectTick.create({ round: this.#round }));
    this.counters.ticks++;
    const now = this.#ctx.clock.now();
    const timeout = this.options.reconnectTimeoutMs;
    for (const [name, d] of this.#dead) {
      if (expired(d.diedAtMs, now, timeout)) {
        this.#dead.delete(name);
        this.counters.givenUp++;
      }
    }
    for (const [key, s] of this.#seeds) {
      if (expired(s.sinceMs, now, timeout) && !this.#liveKeys().has(key)) {
        this.#seeds.delete(key);
        this.counters.givenUp++;
      }
    }
    const live = this.#liveKeys();
    let numAlive = 0;
    for (const m of this.#members.values()) if (isLive(m.state)) numAlive++;
    const candidates = reconnectCandidates({ dead: this.#dead, seeds: this.#seeds, liveAddresses: live, numAlive }, now, timeout);
    if (candidates.length === 0) return;
    if (!shouldAttempt(candidates.length, numAlive, this.#ctx.random.next())) {
      this.counters.throttled++;
      return;
    }
    const target = candidates[this.#ctx.random.int(candidates.length)] as ReconnectAddress;
    this.counters.attempts++;
    this.#ctx.logger.debug({ target: addressKey(target) }, 'reconnect: syncing with a dead member or seed');
    this.#ctx.send(actors.DigestMismatch.create({ node: '', addr: { host: target.host, port: target.port } }));
  }

  #liveKeys(): Set<string> {
    const keys = new Set<string>();
    if (this.#selfKey !== undefined) keys.add(this.#selfKey);
    for (const m of this.#members.values()) if (isLive(m.state)) keys.add(addressKey(m));
    return keys;
  }
}
