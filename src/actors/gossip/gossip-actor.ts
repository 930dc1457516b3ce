import { actors, wire } from '../../gen/index.js';
import type { TimerHandle } from '../../clock.js';
import type { WireCodec } from '../../codec/wire-codec.js';
import { encodePartShared } from '../../codec/shared-parts.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { retransmitLimit } from '../../timing.js';
import { BinaryHeap } from '../../util/binary-heap.js';
import { ProbeList } from '../probe/probe-list.js';
import { NameBytes, NameMap, NameNumbers } from '../../util/name-table.js';
import { sharedMemberOf, type SharedMember } from '../membership/shared-member.js';
import { TransmitLimitedQueue, type QueuedBroadcast } from './transmit-limited-queue.js';

export interface GossipOptions {
  /** Our node name: never a gossip target. */
  name: string;
  /** Encodes queued broadcasts once, and sizes packets. */
  codec: WireCodec;
  /** Broadcasts are sent retransmitMult × ceil(log10(n + 1)) times. */
  retransmitMult: number;
  /** Interval between gossip rounds; 0 disables them (piggybacking still works). */
  gossipIntervalMs: number;
  /** Members gossiped to per round; 0 disables gossip rounds. */
  gossipNodes: number;
  /** Dead members stay gossip targets this long after they died, so they can refute. */
  gossipToTheDeadMs: number;
  /** Byte budget of one datagram (gossip and piggyback alike). */
  udpBufferSize: number;
  /** Bound of the broadcast queue (default 16384): the most transmitted are dropped past it. */
  maxQueued?: number;
}

/** Counters of the gossip dispatcher. Cumulative over restarts. */
export interface GossipStats {
  /** Broadcasts queued. */
  queued: number;
  /** Parts sent (piggybacked or gossiped; one per item per packet). */
  sentParts: number;
  /** Broadcasts dropped: past the queue bound, or larger than a packet can ever carry. */
  dropped: number;
  /** Broadcasts replaced by a newer one with the same key before reaching their limit. */
  replaced: number;
  /** Broadcasts retired after reaching the retransmit limit. */
  retired: number;
  /** Gossip packets sent by gossip rounds. */
  gossipPackets: number;
  /** Outbound packets passed on (with or without piggyback). */
  outboundPackets: number;
}

/** What {@link GossipActor.watch} reports: one packet that carried the watched key's part. */
export interface WatchedSend {
  /** The node the packet went to. */
  readonly to: string;
  /** How the part travelled: a gossip round's packet, or piggybacked on another message (probe, ack). */
  readonly via: 'gossip' | 'piggyback';
  /** Transmits of the item after this send (1 for its first). */
  readonly transmits: number;
  /** Items queued (both kinds) when the packet was filled. */
  readonly depth: number;
}

interface DeadExpiry {
  name: string;
  /** The member stops being a target once now > expiresAtMs. */
  expiresAtMs: number;
  stateChangeMs: number;
}

/**
 * The gossip dispatcher: memberlist's broadcast queue, piggybacking and gossip rounds.
 *
 * - QueueBroadcast: the message is encoded once (codec.encodePart) and queued under its key; a newer
 *   broadcast with the same key replaces the queued one.
 * - OutboundPacket: queued parts fill what the packet's messages leave of udpBufferSize, and the
 *   packet goes on to the network actor as SendPacket.
 * - GossipTick (every gossipIntervalMs, the first after a random stagger): up to gossipNodes random
 *   alive, suspect or recently dead members (never left, never us) each get a packet of their own
 *   parts; nothing is sent when the queue is empty.
 * - MemberChanged / MemberRemoved: its view of the members (targets and the member count that sets
 *   the retransmit limit).
 * - BroadcastDone reports, for items queued with a notify id, when they reached the retransmit limit
 *   (transmitted) or were replaced or dropped (not transmitted).
 */
export class GossipActor implements Actor {
  readonly name = 'gossip';
  readonly accepts = [actors.QueueBroadcast, actors.OutboundPacket, actors.GossipTick, actors.MemberChanged, actors.MemberRemoved];
  readonly stats: GossipStats = {
    queued: 0,
    sentParts: 0,
    dropped: 0,
    replaced: 0,
    retired: 0,
    gossipPackets: 0,
    outboundPackets: 0,
  };
  readonly #options: GossipOptions;
  #ctx!: ActorContext;
  #queue: TransmitLimitedQueue;
  /**
   * Every member we know (its shared version, membership/shared-member.ts), whether it is a gossip
   * target now (alive, suspect, or dead for less than gossipToTheDeadMs), and for dead members the
   * time they died. Dense tables by member id (util/name-table.ts): at thousands of simulated nodes of
   * thousands of members each, a record and a Map entry per member cost ~100 bytes per pair, these
   * 5 bytes (a version id and a flag) plus 8 per dead member.
   */
  readonly #view = new NameMap<SharedMember>();
  readonly #targets = new NameBytes();
  readonly #deadSinceMs = new NameNumbers();
  #targetCount = 0;
  /** Round-robin order of gossip targets: every member we know; eligibility is the view's flag. */
  #cycle: ProbeList | undefined;
  #deadExpiry = new BinaryHeap<DeadExpiry>((a, b) => a.expiresAtMs < b.expiresAtMs);
  #numMembers = 0;
  #round = 0;
  /** The pending GossipTick; undefined while the queue is empty and the ticker sleeps. */
  #timer: TimerHandle | undefined;
  /** When the next round is due on the ticker's grid (whether or not a timer is set for it). */
  #nextDueMs = 0;
  /** Bytes a single part may take at most: a bigger one could never be sent. */
  readonly #maxPartBytes: number;
  /** Diagnostics: the membership key whose sends are reported (see {@link watch}). */
  #watchKey: string | undefined;
  /** Only items queued after watch() was called (so not an older broadcast about the same member). */
  #watchAfterId = 0;
  #watchFn: ((send: WatchedSend) => void) | undefined;

  constructor(options: GossipOptions) {
    this.#options = options;
    this.#queue = new TransmitLimitedQueue({ maxQueued: options.maxQueued });
    this.#maxPartBytes = options.udpBufferSize - options.codec.packetOverhead;
  }

  /** Broadcasts queued now. */
  get queueDepth(): number {
    return this.#queue.size;
  }

  /** Bytes of the broadcasts queued now. */
  get queueBytes(): number {
    return this.#queue.bytes;
  }

  /** The member count (memberlist's estNumNodes) the retransmit limit is computed from. */
  get numMembers(): number {
    return this.#numMembers;
  }

  /** Members that a gossip round may pick now (before expiring dead ones at the next tick). */
  get targetCount(): number {
    return this.#targetCount;
  }

  /**
   * Diagnostics: calls `fn` for every packet that carries a membership broadcast with this key queued
   * after this call (not one queued before: an older message about the same member); undefined stops.
   * Costs one check per packet filled while unset.
   */
  watch(key: string | undefined, fn?: (send: WatchedSend) => void): void {
    this.#watchKey = key;
    this.#watchAfterId = this.#queue.lastId;
    this.#watchFn = key === undefined ? undefined : fn;
  }

  /** Diagnostics: items queued per transmit count (index = transmits). O(n). */
  transmitHistogram(): number[] {
    const h: number[] = [];
    for (const item of this.#queue.orderedView()) h[item.transmits] = (h[item.transmits] ?? 0) + 1;
    for (let i = 0; i < h.length; i++) h[i] ??= 0;
    return h;
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#queue = new TransmitLimitedQueue({ maxQueued: this.#options.maxQueued });
    // Cleared rather than replaced: the dense tables release their member ids.
    this.#view.clear();
    this.#targets.clear();
    this.#deadSinceMs.clear();
    this.#targetCount = 0;
    this.#cycle?.clear();
    this.#cycle = new ProbeList(ctx.random);
    this.#deadExpiry = new BinaryHeap<DeadExpiry>((a, b) => a.expiresAtMs < b.expiresAtMs);
    this.#numMembers = 0;
    this.#round = 0;
    const { gossipIntervalMs, gossipNodes } = this.#options;
    if (gossipIntervalMs > 0 && gossipNodes > 0) {
      // A random stagger in [0, interval) so that nodes started together do not gossip in lockstep.
      const stagger = ctx.random.next() * gossipIntervalMs;
      this.#nextDueMs = ctx.clock.now() + stagger;
      this.#timer = ctx.schedule(stagger, actors.GossipTick.create({ round: 0 }));
    }
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    // Whoever waits on a notify id (a leave, an update) learns it will not be transmitted.
    for (const item of this.#queue.clear()) this.#done(item, false);
  }

  receive(message: object): void {
    if (message instanceof actors.QueueBroadcast) this.#onQueue(message);
    else if (message instanceof actors.OutboundPacket) this.#onOutbound(message);
    else if (message instanceof actors.GossipTick) this.#onTick();
    else if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#onMemberRemoved(message);
  }

  #onQueue(m: actors.QueueBroadcast): void {
    const notifyId = m.notifyId || undefined;
    if (m.message === null || m.message === undefined) {
      this.#ctx.logger.warn({ key: m.key }, 'QueueBroadcast without a message, ignored');
      if (notifyId !== undefined) this.#ctx.send(actors.BroadcastDone.create({ notifyId, transmitted: false, user: m.user }));
      return;
    }
    // Shared across nodes when the message is a frozen alive of a shared member version.
    const part = encodePartShared(this.#options.codec, m.message);
    if (this.#options.codec.partSize(part.length) > this.#maxPartBytes) {
      this.stats.dropped++;
      this.#ctx.logger.warn(
        { key: m.key, bytes: part.length, udpBufferSize: this.#options.udpBufferSize },
        'broadcast larger than a packet, dropped',
      );
      if (notifyId !== undefined) this.#ctx.send(actors.BroadcastDone.create({ notifyId, transmitted: false, user: m.user }));
      return;
    }
    const r = this.#queue.queue({ key: m.key, part, notifyId, user: m.user });
    this.stats.queued++;
    this.#wake();
    if (r.replaced !== undefined) {
      this.stats.replaced++;
      this.#done(r.replaced, false);
    }
    for (const item of r.dropped) {
      const d = ++this.stats.dropped;
      // Logged at powers of two so an overload does not become a logging storm.
      if ((d & (d - 1)) === 0) {
        this.#ctx.logger.warn({ dropped: d, maxQueued: this.#queue.maxQueued }, 'broadcast queue full, dropping');
      }
      this.#done(item, false);
    }
  }

  #onOutbound(m: actors.OutboundPacket): void {
    const codec = this.#options.codec;
    // The packet's own messages are encoded once, here: their size sets the piggyback budget, and
    // they travel on as pre-encoded parts so the network actor does not encode them again.
    const own = (m.messages ?? []).map((msg) => codec.encodePart(msg));
    let budget = this.#options.udpBufferSize - codec.packetOverhead;
    for (const part of own) budget -= codec.partSize(part.length);
    const piggyback = budget > 0 && this.#queue.size > 0 ? this.#take(budget, m.toNode, 'piggyback') : [];
    this.stats.outboundPackets++;
    this.#ctx.send(actors.SendPacket.create({ to: m.to, toNode: m.toNode, messages: [], piggyback: [...own, ...piggyback] }));
  }

  /**
   * An idle ticker sleeps: a round with an empty queue sends nothing (memberlist returns at once too),
   * so no timer runs while the queue is empty. In a converged, quiet cluster that was most of a node's
   * wake-ups (10 a second with the local preset). The first broadcast queued wakes it for the next round
   * on the same grid (the last round + k intervals), so rounds happen when they would have anyway.
   */
  #wake(): void {
    const interval = this.#options.gossipIntervalMs;
    if (this.#timer !== undefined || interval <= 0 || this.#options.gossipNodes <= 0 || this.#queue.size === 0) return;
    const now = this.#ctx.clock.now();
    let due = this.#nextDueMs;
    if (due < now) due += Math.ceil((now - due) / interval) * interval;
    this.#nextDueMs = due;
    this.#timer = this.#ctx.schedule(due - now, actors.GossipTick.create({ round: this.#round }));
  }

  #onTick(): void {
    this.#round++;
    // Items queued from now on record this round: each round an item waits counts like a transmit.
    this.#queue.round = this.#round;
    this.#timer = undefined;
    this.#nextDueMs = this.#ctx.clock.now() + this.#options.gossipIntervalMs;
    this.#expireDead();
    if (this.#queue.size > 0) this.#gossipRound();
    // The next round, unless the queue emptied (the ticker sleeps until something is queued).
    this.#wake();
  }

  #gossipRound(): void {
    const budget = this.#options.udpBufferSize - this.#options.codec.packetOverhead;
    const targets = this.#nextTargets();
    for (const name of targets) {
      const peer = this.#view.get(name) as SharedMember;
      // Each target gets its own call, which advances transmit counts (memberlist does the same).
      const parts = this.#take(budget, name, 'gossip');
      if (parts.length === 0) return;
      this.stats.gossipPackets++;
      this.#ctx.send(
        actors.SendPacket.create({ to: { host: peer.host, port: peer.port }, toNode: name, messages: [], piggyback: parts }),
      );
    }
  }

  /** Takes parts for one packet and reports the items that reached their limit. */
  #take(budget: number, to: string, via: 'gossip' | 'piggyback'): Uint8Array[] {
    const codec = this.#options.codec;
    const limit = retransmitLimit(this.#options.retransmitMult, this.#numMembers);
    let watched = this.#watchKey !== undefined ? this.#queue.get(this.#watchKey) : undefined;
    if (watched !== undefined && watched.id <= this.#watchAfterId) watched = undefined;
    const depth = this.#queue.size;
    const batch = this.#queue.getBroadcasts((len) => codec.partSize(len), budget, limit, false);
    if (watched !== undefined && batch.parts.includes(watched.part)) {
      this.#watchFn?.({ to, via, transmits: watched.transmits + 1, depth });
    }
    this.stats.sentParts += batch.parts.length;
    this.stats.retired += batch.finished.length;
    for (const item of batch.finished) this.#done(item, true);
    return batch.parts;
  }

  /**
   * The next gossipNodes targets in a shuffled round robin over the eligible members (the probe
   * order, applied to gossip), where memberlist draws them at random. A message is sent on
   * consecutive ticks, so the round robin gives its retransmissions distinct targets: with random
   * draws a small cluster often sends repeats and leaves a member uninformed (at 6 members and 4
   * transmissions, about 3% of members missed a broadcast); here each sender covers min(limit, n-1)
   * different members.
   */
  #nextTargets(): string[] {
    const k = Math.min(this.#options.gossipNodes, this.#targetCount);
    const picked: string[] = [];
    for (let i = 0; i < k; i++) {
      // picked.includes: k is gossipNodes (3 by default), so a linear check is cheapest.
      const name = (this.#cycle as ProbeList).next((n) => this.#targets.get(n) === 1 && !picked.includes(n));
      if (name === undefined) break;
      picked.push(name);
    }
    return picked;
  }

  #done(item: QueuedBroadcast, transmitted: boolean): void {
    if (item.notifyId !== undefined) {
      this.#ctx.send(actors.BroadcastDone.create({ notifyId: item.notifyId, transmitted, user: item.user }));
    }
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    this.#numMembers = m.numMembers;
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    const name = member.name;
    if (m.local || name === this.#options.name) return; // never a target
    const state = member.state ?? wire.MemberState.ALIVE;
    const stateChangeMs = member.stateChangeMs ?? 0;
    let target: boolean;
    switch (state) {
      case wire.MemberState.ALIVE:
      case wire.MemberState.SUSPECT:
        target = true;
        break;
      case wire.MemberState.DEAD: {
        // Gossip to the dead: a dead member can still refute for gossipToTheDeadMs.
        const expiresAtMs = stateChangeMs + this.#options.gossipToTheDeadMs;
        target = this.#ctx.clock.now() <= expiresAtMs;
        if (target) this.#deadExpiry.push({ name, expiresAtMs, stateChangeMs });
        break;
      }
      case wire.MemberState.LEFT:
        target = false;
        break;
      default: {
        const never: never = state;
        this.#ctx.logger.warn({ member: name, state: String(never) }, 'unknown member state');
        target = false;
      }
    }
    this.#setView(name, sharedMemberOf(member), target, stateChangeMs);
    (this.#cycle as ProbeList).add(name);
  }

  /** Replaces (or, with undefined, removes) a member's view, keeping the target count. */
  #setView(name: string, view: SharedMember | undefined, target = false, stateChangeMs = 0): void {
    if (this.#targets.get(name) === 1) this.#targetCount--;
    if (view === undefined) {
      this.#view.delete(name);
      this.#targets.set(name, 0);
      this.#deadSinceMs.delete(name);
      return;
    }
    if (target) this.#targetCount++;
    this.#view.set(name, view);
    this.#targets.set(name, target ? 1 : 0);
    if (view.state === wire.MemberState.DEAD) this.#deadSinceMs.set(name, stateChangeMs);
    else this.#deadSinceMs.delete(name);
  }

  #onMemberRemoved(m: actors.MemberRemoved): void {
    this.#numMembers = m.numMembers;
    this.#setView(m.name, undefined);
    (this.#cycle as ProbeList).remove(m.name);
  }

  /** Drops dead members past gossipToTheDeadMs from the targets. O(log d) per expiry. */
  #expireDead(): void {
    const now = this.#ctx.clock.now();
    for (;;) {
      const top = this.#deadExpiry.peek();
      if (top === undefined || top.expiresAtMs >= now) return;
      this.#deadExpiry.pop();
      // Only if it is still the same death (not revived, not dead again since).
      if (
        this.#targets.get(top.name) === 1 &&
        this.#view.get(top.name)?.state === wire.MemberState.DEAD &&
        this.#deadSinceMs.get(top.name) === top.stateChangeMs
      ) {
        this.#targets.set(top.name, 0);
        this.#targetCount--;
      }
    }
  }
}
