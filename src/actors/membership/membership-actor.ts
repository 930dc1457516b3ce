import { actors, wire } from '../../gen/index.js';
import { toWireAddress } from '../../codec/address.js';
import { memberFromMessage, type Member } from '../../member.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { suspicionK, suspicionTimeoutMs } from '../../timing.js';
import { EMPTY_BYTES } from '../../util/intern.js';
import { MemberTable } from './member-table.js';
import { shareMember, type SharedMember } from './shared-member.js';
import { decideAlive, type AliveClaim } from './alive-rule.js';
import {
  hostOfAlive,
  ownedBytes,
  toMemberMessage,
  versionFields,
  vsnOfAlive,
  type MemberRecord,
  type ProtocolVersions,
} from './member-record.js';
import { decideDead, decideSuspect, reapable, refuteIncarnation, type Accusation } from './suspect-dead-rules.js';

export interface MembershipOptions {
  /** Our own name and advertised address. */
  name: string;
  host: string;
  port: number;
  meta: Uint8Array;
  vsn: ProtocolVersions;
  deadNodeReclaimTimeMs: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  probeIntervalMs: number;
  gossipToTheDeadMs: number;
  /**
   * AliveDelegate: vets every alive claim about another member before the rules apply; a reason
   * (string) refuses it. Called through the node's HookRunner, so a throw refuses too (fail closed).
   */
  authorizeAlive?: (member: Member) => string | undefined;
}

/**
 * The single writer of the member table. Every change goes through a pure rule (alive-rule.ts,
 * suspect-dead-rules.ts), is re-gossiped through the gossip dispatcher, and is published as
 * MemberChanged, from which every other actor keeps its own view.
 */
export class MembershipActor implements Actor {
  readonly name = 'membership';
  readonly accepts = [
    actors.AliveReceived,
    actors.SuspectReceived,
    actors.DeadReceived,
    actors.LocalSuspect,
    actors.SuspicionExpired,
    actors.ProbeListWrapped,
    actors.LeaveRequest,
    actors.UpdateMetaRequest,
    actors.BroadcastDone,
    actors.MembersSnapshotRequest,
  ];
  #ctx!: ActorContext;
  /** Dense columns over shared versions (member-table.ts): what lets 10,000 simulated nodes fit. */
  #members = new MemberTable();
  #incarnation = 0;
  #leaving = false;
  #nextNotifyId = 1;
  /** Broadcasts whose completion an API call waits for: notify id -> the request to answer. */
  #awaiting = new Map<number, { kind: 'leave' | 'meta'; requestId: number }>();
  /** Claims dropped by reason (malformed, stale, unknown, conflict...), for metrics and tests. */
  readonly ignored = new Map<string, number>();
  refutations = 0;

  constructor(private readonly options: MembershipOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#members.clear();
    this.#leaving = false;
    this.#incarnation = 0;
    this.#awaiting = new Map();
    const o = this.options;
    this.#applyAlive(
      { name: o.name, host: o.host, port: o.port, meta: o.meta, incarnation: this.#bumpIncarnation(), vsn: o.vsn },
      true,
    );
  }

  receive(message: object): void {
    if (message instanceof actors.AliveReceived) this.#onAlive(message);
    else if (message instanceof actors.SuspectReceived) this.#onSuspect(accusation(message.suspect));
    else if (message instanceof actors.DeadReceived) this.#onDead(accusation(message.dead));
    else if (message instanceof actors.LocalSuspect) {
      this.#onSuspect({ node: message.node, incarnation: message.incarnation, from: this.options.name });
    } else if (message instanceof actors.SuspicionExpired) this.#onSuspicionExpired(message);
    else if (message instanceof actors.ProbeListWrapped) this.#reap();
    else if (message instanceof actors.LeaveRequest) this.#leave(message.requestId);
    else if (message instanceof actors.UpdateMetaRequest) this.#updateMeta(message);
    else if (message instanceof actors.MembersSnapshotRequest) {
      this.#ctx.send(
        actors.MembersSnapshot.create({
          requester: message.requester,
          members: [...this.#members.values()].map(toMemberMessage),
          numMembers: this.#members.size,
        }),
      );
    }
    else if (message instanceof actors.BroadcastDone) this.#onBroadcastDone(message);
  }

  // ───── alive ─────

  #onAlive(m: actors.AliveReceived): void {
    const a = m.alive;
    const host = a === null || a === undefined ? undefined : hostOfAlive(a);
    if (a === null || a === undefined || host === undefined || !a.node || !a.port) {
      this.#ignore('malformed-alive');
      return;
    }
    // Fields stay as decoded (meta a view into the packet) until the claim is applied: most alive
    // messages a node receives are repeats it ignores, so copying and interning waits for #applyAlive.
    const claim: AliveClaim = { name: a.node, host, port: a.port, meta: a.meta ?? EMPTY_BYTES, incarnation: a.incarnation ?? 0, vsn: vsnOfAlive(a) };
    const authorize = this.options.authorizeAlive;
    if (authorize !== undefined && claim.name !== this.options.name) {
      const refusal = authorize(memberFromMessage(toMemberMessage({ ...claim, state: wire.MemberState.ALIVE, stateChangeMs: 0 })));
      if (refusal !== undefined) {
        this.#ignore('alive-refused');
        this.#ctx.logger.debug({ member: claim.name, reason: refusal }, 'alive refused by authorizeAlive');
        return;
      }
    }
    this.#applyAlive(claim, false);
  }

  #applyAlive(claim: AliveClaim, bootstrap: boolean, notifyId = 0): void {
    const existing = this.#members.get(claim.name);
    const d = decideAlive(existing, claim, {
      localName: this.options.name,
      nowMs: this.#ctx.clock.now(),
      deadNodeReclaimTimeMs: this.options.deadNodeReclaimTimeMs,
      bootstrap,
      hasLeft: this.#leaving,
    });
    switch (d.kind) {
      case 'ignore':
        this.#ignore(reasonKey('alive', d.reason));
        return;
      case 'conflict':
        this.#ctx.logger.warn(
          { member: claim.name, mine: `${d.existing.host}:${d.existing.port}`, theirs: `${claim.host}:${claim.port}` },
          'conflicting address for member',
        );
        this.#ignore('conflict');
        this.#ctx.send(
          actors.MemberConflict.create({
            existing: toMemberMessage(d.existing),
            other: toMemberMessage({ ...claim, meta: ownedBytes(claim.meta), state: wire.MemberState.ALIVE, stateChangeMs: this.#ctx.clock.now() }),
          }),
        );
        return;
      case 'refute':
        this.#refute(d.accusedIncarnation);
        return;
      case 'apply': {
        const record = this.#members.set(d.record);
        if (record.name === this.options.name) this.#incarnation = Math.max(this.#incarnation, record.incarnation);
        this.#broadcast(record.name, aliveBroadcast(record), notifyId);
        this.#publish(record, d.previous);
        if (d.event === 'join') this.#ctx.logger.info({ member: record.name }, 'member joined');
        return;
      }
      default: {
        const never: never = d;
        return never;
      }
    }
  }

  // ───── suspect ─────

  #onSuspect(s: Accusation | undefined): void {
    if (s === undefined) {
      this.#ignore('malformed-suspect');
      return;
    }
    const existing = this.#members.get(s.node);
    const d = decideSuspect(existing, s, this.options.name, this.#ctx.clock.now());
    switch (d.kind) {
      case 'ignore':
        this.#ignore(reasonKey('suspect', d.reason));
        return;
      case 'confirm':
        // The suspicion actor decides whether `from` is a new independent confirmation, shrinks the
        // timer and re-gossips only then (memberlist's Confirm).
        this.#ctx.send(
          actors.ConfirmSuspicion.create({
            node: s.node,
            from: s.from,
            suspect: { incarnation: s.incarnation, node: s.node, from: s.from },
          }),
        );
        return;
      case 'refute':
        this.#refute(d.accusedIncarnation);
        return;
      case 'apply': {
        const n = this.#members.size;
        const min = suspicionTimeoutMs(this.options.suspicionMult, n, this.options.probeIntervalMs);
        const suspect = { incarnation: s.incarnation, node: s.node, from: s.from };
        this.#members.set(d.record);
        this.#broadcast(s.node, { suspect });
        this.#ctx.logger.info({ member: s.node, from: s.from }, 'member suspected');
        this.#publish(d.record, existing);
        this.#ctx.send(
          actors.StartSuspicion.create({
            node: s.node,
            incarnation: s.incarnation,
            from: s.from,
            k: suspicionK(this.options.suspicionMult, n),
            minMs: min,
            maxMs: this.options.suspicionMaxTimeoutMult * min,
            stateChangeMs: d.record.stateChangeMs,
            suspect,
          }),
        );
        return;
      }
      default: {
        const never: never = d;
        return never;
      }
    }
  }

  #onSuspicionExpired(m: actors.SuspicionExpired): void {
    const r = this.#members.get(m.node);
    // Only the suspicion that is still current may kill: a refutation or a newer suspicion changed
    // stateChangeMs, and then this expiry is stale (memberlist compares StateChange the same way).
    if (r === undefined || r.state !== wire.MemberState.SUSPECT || r.stateChangeMs !== m.stateChangeMs) {
      this.#ignore('expiry-stale');
      return;
    }
    this.#ctx.logger.info({ member: m.node, confirmations: m.confirmations }, 'suspect timeout reached: marking failed');
    this.#onDead({ node: m.node, incarnation: r.incarnation, from: this.options.name });
  }

  // ───── dead / left ─────

  #onDead(d: Accusation | undefined, notifyId = 0): void {
    if (d === undefined) {
      this.#ignore('malformed-dead');
      return;
    }
    const existing = this.#members.get(d.node);
    const decision = decideDead(existing, d, this.options.name, this.#leaving, this.#ctx.clock.now());
    switch (decision.kind) {
      case 'ignore':
        this.#ignore(reasonKey('dead', decision.reason));
        return;
      case 'refute':
        this.#refute(decision.accusedIncarnation);
        return;
      case 'apply':
        this.#members.set(decision.record);
        this.#broadcast(d.node, { dead: { incarnation: d.incarnation, node: d.node, from: d.from } }, notifyId);
        this.#ctx.logger.info({ member: d.node, from: d.from }, decision.left ? 'member left' : 'member failed');
        this.#publish(decision.record, existing);
        return;
      default: {
        const never: never = decision;
        return never;
      }
    }
  }

  /** Our new meta goes out as an alive at the next incarnation (memberlist's UpdateNode). */
  #updateMeta(m: actors.UpdateMetaRequest): void {
    const me = this.#members.get(this.options.name);
    if (me === undefined || this.#leaving) {
      this.#ctx.send(actors.UpdateMetaResult.create({ requestId: m.requestId, broadcastDone: false }));
      return;
    }
    const notifyId = this.#anyoneToTell() ? this.#nextNotifyId++ : 0;
    if (notifyId !== 0) this.#awaiting.set(notifyId, { kind: 'meta', requestId: m.requestId });
    this.#applyAlive(
      { name: me.name, host: me.host, port: me.port, meta: ownedBytes(m.meta), incarnation: this.#bumpIncarnation(), vsn: me.vsn },
      true,
      notifyId,
    );
    if (notifyId === 0) this.#ctx.send(actors.UpdateMetaResult.create({ requestId: m.requestId, broadcastDone: false }));
  }

  #anyoneToTell(): boolean {
    for (const r of this.#members.values()) {
      if (r.name !== this.options.name && (r.state === wire.MemberState.ALIVE || r.state === wire.MemberState.SUSPECT)) return true;
    }
    return false;
  }

  #leave(requestId: number): void {
    const me = this.#members.get(this.options.name);
    if (me === undefined || this.#leaving) {
      this.#ctx.send(actors.LeaveResult.create({ requestId, broadcastDone: false }));
      return;
    }
    this.#leaving = true;
    const notifyId = this.#anyoneToTell() ? this.#nextNotifyId++ : 0;
    if (notifyId !== 0) this.#awaiting.set(notifyId, { kind: 'leave', requestId });
    this.#onDead({ node: me.name, incarnation: me.incarnation, from: me.name }, notifyId);
    if (notifyId === 0) this.#ctx.send(actors.LeaveResult.create({ requestId, broadcastDone: false }));
  }

  #onBroadcastDone(m: actors.BroadcastDone): void {
    if (m.user) return;
    const waiting = this.#awaiting.get(m.notifyId);
    if (waiting === undefined) return;
    this.#awaiting.delete(m.notifyId);
    const result = { requestId: waiting.requestId, broadcastDone: m.transmitted };
    this.#ctx.send(waiting.kind === 'leave' ? actors.LeaveResult.create(result) : actors.UpdateMetaResult.create(result));
  }

  // ───── refutation and reaping ─────

  /** Refutation at max(own + 1, accused + 1), with a Lifeguard awareness penalty (memberlist §5). */
  #refute(accused: number): void {
    const me = this.#members.get(this.options.name);
    if (me === undefined) return;
    const inc = refuteIncarnation(this.#incarnation, accused);
    this.#incarnation = inc;
    this.refutations++;
    const record = this.#members.set({ ...me, incarnation: inc });
    this.#ctx.logger.warn({ accused, incarnation: inc }, 'refuting a claim about us');
    this.#ctx.send(actors.AwarenessDelta.create({ delta: 1 }));
    // Keyed by our name (memberlist keys it by our address text, a quirk that lets an older message
    // about us stay queued beside the refutation): the refutation replaces any queued claim about us.
    this.#broadcast(me.name, aliveBroadcast(record));
    this.#publish(record, me);
  }

  #reap(): void {
    const now = this.#ctx.clock.now();
    // Deleting the current entry while iterating a Map is safe (no copy of the whole table needed);
    // this runs once per probe-list pass, so it is O(n) per n probes.
    for (const r of this.#members.values()) {
      if (!reapable(r, now, this.options.gossipToTheDeadMs, this.options.name)) continue;
      this.#members.delete(r.name);
      this.#ctx.logger.debug({ member: r.name }, 'reaped');
      this.#ctx.send(actors.MemberRemoved.create({ name: r.name, numMembers: this.#members.size }));
    }
  }

  // ───── helpers ─────

  #bumpIncarnation(): number {
    this.#incarnation = (this.#incarnation + 1) >>> 0;
    return this.#incarnation;
  }

  #broadcast(key: string, message: wire.Message.$Properties, notifyId = 0): void {
    this.#ctx.send(actors.QueueBroadcast.create({ key, message, notifyId, user: false }));
  }

  #publish(record: MemberRecord, previous: MemberRecord | undefined): void {
    this.#ctx.send(
      actors.MemberChanged.create({
        member: toMemberMessage(record),
        previous: previous === undefined ? null : toMemberMessage(previous),
        local: record.name === this.options.name,
        numMembers: this.#members.size,
      }),
    );
  }

  #ignore(reason: string): void {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + 1);
  }
}

/**
 * "<kind>-<reason>" counter keys, made once: ignoring a repeated alive is the commonest thing the
 * membership actor does (every node hears each join about limit times), and a template string per
 * call was measurable garbage at thousands of simulated nodes.
 */
const reasonKeys = { alive: new Map<string, string>(), suspect: new Map<string, string>(), dead: new Map<string, string>() };
function reasonKey(kind: 'alive' | 'suspect' | 'dead', reason: string): string {
  const keys = reasonKeys[kind];
  let v = keys.get(reason);
  if (v === undefined) {
    v = `${kind}-${reason}`;
    keys.set(reason, v);
  }
  return v;
}

function accusation(m: wire.Suspect.$Properties | wire.Dead.$Properties | null | undefined): Accusation | undefined {
  if (m === null || m === undefined || !m.node || !m.from) return undefined;
  return { node: m.node, incarnation: m.incarnation ?? 0, from: m.from };
}

/**
 * The alive broadcast of one member version, frozen and made once per shared version for the whole
 * thread: every node that re-gossips it queues the same message, so the gossip actor encodes its part
 * once (codec/shared-parts.ts) instead of once per node.
 */
const aliveBroadcasts = new WeakMap<SharedMember, wire.Message.$Properties>();

function aliveBroadcast(r: MemberRecord): wire.Message.$Properties {
  const shared = shareMember(r);
  let m = aliveBroadcasts.get(shared);
  if (m === undefined) {
    // Only the objects are frozen: typed arrays (meta, ipv6) cannot be, and nobody writes into them.
    m = Object.freeze({ alive: Object.freeze(aliveMessage(shared)) });
    aliveBroadcasts.set(shared, m);
  }
  return m;
}

function aliveMessage(r: Omit<MemberRecord, 'stateChangeMs'>): wire.Alive.$Properties {
  const addr = toWireAddress(r.host);
  return {
    incarnation: r.incarnation,
    node: r.name,
    ipv4: addr.ipv4,
    ipv6: addr.ipv6,
    port: r.port,
    meta: r.meta,
    ...versionFields(r.vsn),
  };
}
