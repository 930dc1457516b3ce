import { actors, wire } from '../../gen/index.js';
import { fromWireAddress, toWireAddress, type WireAddress } from '../../codec/address.js';
import type { TimerHandle } from '../../clock.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { Awareness } from './awareness.js';
import { firedLate } from '../loop-monitor/late-timer.js';
import { MemberDigest } from './member-digest.js';
import { ProbeList } from './probe-list.js';
import { NameMap } from '../../util/name-table.js';
import { sharedMemberOf, type SharedMember } from '../membership/shared-member.js';

export interface ProbeOptions {
  name: string;
  /** Our advertised address: where acks should come back to. */
  host: string;
  port: number;
  /** ProbeInterval; 0 disables probing (pings are still answered and relayed). */
  probeIntervalMs: number;
  /** ProbeTimeout: the direct-ack wait before indirect probes (never scaled by awareness). */
  probeTimeoutMs: number;
  /** Helpers asked to probe indirectly when the direct ping gets no ack (default 3; 0 = none). */
  indirectChecks?: number;
  /** Skip the TCP fallback ping that runs alongside the indirect probes (default false). */
  disableTcpPings?: boolean;
  /** Lifeguard's AwarenessMaxMultiplier (default 8; 1 disables the back-off). */
  awarenessMaxMultiplier?: number;
  /**
   * The application's ack payload (PingDelegate.AckPayload), called for every ack we give. When
   * absent, acks carry the payload of the latest AckPayloadUpdate (how a custom actor, such as
   * network coordinates, publishes its own).
   */
  ackPayload?: () => Uint8Array;
}

type ProbeStage = 'direct' | 'indirect' | 'awaiting-tcp';

/** The probe in progress (at most one: probes never overlap). */
interface ActiveProbe {
  readonly seqNo: number;
  readonly node: string;
  /** The target's incarnation and address when the probe began (memberlist probes a copy). */
  readonly incarnation: number;
  readonly to: actors.Endpoint.$Shape;
  readonly protocolMax: number;
  readonly ping: wire.Ping.$Shape;
  readonly sentAtMs: number;
  /** sentAtMs + the probe interval scaled by awareness. */
  readonly deadlineMs: number;
  stage: ProbeStage;
  readonly timers: TimerHandle[];
  expectedNacks: number;
  nacks: number;
  /** Non-zero while (or after) a TCP fallback ping was requested. */
  tcpRequestId: number;
  tcpPending: boolean;
  tcpOk: boolean;
  /** Bit per stage whose late deadline was already deferred once (see late-timer.ts). */
  graced: number;
}

/** An indirect probe we relay for another member (we are its intermediary). */
interface Relay {
  /** The requester's sequence number: our ack or nack carries it back. */
  readonly requesterSeqNo: number;
  readonly replyTo: actors.Endpoint.$Shape;
  readonly replyNode: string;
  readonly nack: boolean;
  readonly timer: TimerHandle;
}

/** Stage numbers of ProbeDeadline. */
const STAGE_PROBE_TIMEOUT = 1;
const STAGE_INTERVAL_END = 2;
/**
 * The interval ended while the TCP fallback ping had not reported yet: its StreamRequest deadline is
 * the same instant, so the result is imminent; this bounds the wait should it never come.
 */
const STAGE_TCP_GRACE = 3;

/** Peer capabilities by protocol version (memberlist §13 item 7): 3 → TCP ping, 4 → nack. */
const PROTOCOL_TCP_PING = 3;
const PROTOCOL_NACK = 4;

const EMPTY = new Uint8Array(0);

/**
 * SWIM's failure detector with Lifeguard's refinements (memberlist state.go probe/probeNode,
 * reference §3). Every ProbeTick probes the next member of the shuffled round robin:
 *
 * 1. a direct ping (piggybacked through the gossip dispatcher as OutboundPacket), or for a suspect
 *    target the buddy compound [ping, suspect] sent as-is (SendPacket) so it can refute at once;
 * 2. after probeTimeoutMs without an ack, indirect pings with the same sequence number through up to
 *    indirectChecks random alive helpers (asking for nacks), and a TCP fallback ping in parallel;
 * 3. acks (late direct or relayed) are accepted until the probe interval scaled by awareness ends;
 *    only then is the verdict taken: ProbeFailed + LocalSuspect, and the awareness delta applied.
 *
 * Probes never overlap; a tick that falls due during a probe runs when it ends (at most one pending,
 * Go ticker semantics). The actor also answers pings, relays indirect pings as an intermediary (ack
 * or nack back to the requester) and owns the awareness score (HealthChanged on every change). It
 * keeps its own view of the members from MemberChanged / MemberRemoved.
 */
export class ProbeActor implements Actor {
  readonly name = 'probe';
  readonly accepts = [
    actors.ProbeTick,
    actors.ProbeDeadline,
    actors.PingReceived,
    actors.IndirectPingReceived,
    actors.AckReceived,
    actors.NackReceived,
    actors.StreamResult,
    actors.IndirectDeadline,
    actors.AwarenessDelta,
    actors.MemberChanged,
    actors.MemberRemoved,
    actors.AckPayloadUpdate,
  ];
  #ctx!: ActorContext;
  #ackPayload: Uint8Array = new Uint8Array(0);
  /** Shared member versions (membership/shared-member.ts) in a dense table: a 4-byte version id per member. */
  #peers = new NameMap<SharedMember>();
  #digest = new MemberDigest();
  #list: ProbeList | undefined;
  /** Alive members (never us): how many indirect-probe helpers there are to draw from. */
  #aliveCount = 0;
  #awareness!: Awareness;
  #probe: ActiveProbe | undefined;
  #tickPending = false;
  #relays = new Map<number, Relay>();
  #seqNo = 0;
  #streamRequestId = 0;
  #round = 0;
  #self: WireAddress = { ipv4: 0, ipv6: EMPTY };

  /** Pings addressed to another node name (a reused address): dropped without an ack. */
  wrongNodePings = 0;
  /** Acks whose member digest differed from ours (each triggers a rate-limited push-pull). */
  digestMismatches = 0;
  /** Probes started. */
  probes = 0;
  /** Probes that ended without an ack (a LocalSuspect was sent). */
  probesFailed = 0;
  /** Probes saved by the TCP fallback after the UDP probes failed. */
  tcpFallbackSuccesses = 0;
  /** Indirect ping requests we sent as the prober. */
  indirectPingsSent = 0;
  /** Probes run with an interval stretched by awareness (memberlist.degraded.probe). */
  degradedProbes = 0;
  /** Acks we relayed as an intermediary, and nacks we sent when the target stayed silent. */
  relayedAcks = 0;
  relayedNacks = 0;
  /** Messages we could not use (missing fields, unusable addresses). */
  malformed = 0;
  /** Probe deadlines that fired late because this thread stalled, judged one loop turn later (after the acks read meanwhile). */
  lateProbeTimeouts = 0;

  constructor(private readonly options: ProbeOptions) {}

  /** Lifeguard's local health score (0 = healthy). */
  get healthScore(): number {
    return this.#awareness?.score ?? 0;
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    // Cleared rather than replaced: the dense tables release their member ids (util/name-table.ts).
    this.#peers.clear();
    this.#digest.clear();
    this.#aliveCount = 0;
    this.#list?.clear();
    this.#relays = new Map();
    this.#probe = undefined;
    this.#tickPending = false;
    this.#awareness = new Awareness(this.options.awarenessMaxMultiplier ?? 8);
    this.#list = new ProbeList(ctx.random, (pass) => ctx.send(actors.ProbeListWrapped.create({ pass })));
    try {
      this.#self = toWireAddress(this.options.host);
    } catch {
      // Not an IP literal: leave the source address out, so replies go to the packet's sender.
      ctx.logger.warn({ host: this.options.host }, 'advertise host is not an IP literal; pings carry no source address');
      this.#self = { ipv4: 0, ipv6: EMPTY };
    }
    if (this.options.probeIntervalMs > 0) {
      // A random stagger in [0, interval) so that nodes started together do not probe in lockstep.
      ctx.schedule(ctx.random.next() * this.options.probeIntervalMs, actors.ProbeTick.create({ round: 0 }));
    }
  }

  stop(): void {
    if (this.#probe !== undefined) for (const t of this.#probe.timers) t.cancel();
    this.#probe = undefined;
    for (const r of this.#relays.values()) r.timer.cancel();
    this.#relays.clear();
  }

  receive(message: object): void {
    if (message instanceof actors.PingReceived) this.#onPing(message);
    else if (message instanceof actors.AckReceived) this.#onAck(message);
    else if (message instanceof actors.NackReceived) this.#onNack(message);
    else if (message instanceof actors.IndirectPingReceived) this.#onIndirectPing(message);
    else if (message instanceof actors.IndirectDeadline) this.#onIndirectDeadline(message);
    else if (message instanceof actors.ProbeTick) this.#onTick();
    else if (message instanceof actors.ProbeDeadline) this.#onDeadline(message);
    else if (message instanceof actors.StreamResult) this.#onStreamResult(message);
    else if (message instanceof actors.AwarenessDelta) this.#applyAwareness(message.delta);
    else if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#onMemberRemoved(message);
    else if (message instanceof actors.AckPayloadUpdate) this.#ackPayload = new Uint8Array(message.payload);
  }

  // ───── member view ─────

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    const state = member.state ?? wire.MemberState.ALIVE;
    this.#digest.set(member.name, state === wire.MemberState.ALIVE || state === wire.MemberState.SUSPECT);
    if (m.local || member.name === this.options.name) return;
    if (this.#peers.get(member.name)?.state === wire.MemberState.ALIVE) this.#aliveCount--;
    if (state === wire.MemberState.ALIVE) this.#aliveCount++;
    this.#peers.set(member.name, sharedMemberOf(member));
    // Dead and left members stay in the round robin (skipped) until reaped, as in memberlist.
    (this.#list as ProbeList).add(member.name);
  }

  #onMemberRemoved(m: actors.MemberRemoved): void {
    if (!m.name) return;
    this.#digest.set(m.name, false);
    if (this.#peers.get(m.name)?.state === wire.MemberState.ALIVE) this.#aliveCount--;
    this.#peers.delete(m.name);
    (this.#list as ProbeList).remove(m.name);
  }

  // ───── probe rounds ─────

  #onTick(): void {
    this.#round++;
    this.#ctx.schedule(this.options.probeIntervalMs, actors.ProbeTick.create({ round: this.#round }));
    if (this.#probe !== undefined) {
      // Never overlap probes: remember one tick (later ones collapse into it) and run it at the end.
      this.#tickPending = true;
      return;
    }
    this.#probeNext();
  }

  #probeNext(): void {
    const target = (this.#list as ProbeList).next((n) => {
      const p = this.#peers.get(n);
      return p !== undefined && (p.state === wire.MemberState.ALIVE || p.state === wire.MemberState.SUSPECT);
    });
    if (target === undefined) return;
    const peer = this.#peers.get(target) as SharedMember;
    const o = this.options;
    const intervalMs = this.#awareness.scaleTimeout(o.probeIntervalMs);
    if (intervalMs > o.probeIntervalMs) this.degradedProbes++;
    const seqNo = this.#nextSeqNo();
    const ping: wire.Ping.$Shape = {
      seqNo,
      node: target,
      sourceIpv4: this.#self.ipv4,
      sourceIpv6: this.#self.ipv6,
      sourcePort: o.port,
      sourceNode: o.name,
    };
    const to = { host: peer.host, port: peer.port };
    if (peer.state === wire.MemberState.ALIVE) {
      this.#ctx.send(actors.OutboundPacket.create({ to, toNode: target, messages: [{ ping }] }));
    } else {
      // The buddy system: tell a suspect at once that it is suspected (no piggyback), so it refutes.
      this.#ctx.send(
        actors.SendPacket.create({
          to,
          toNode: target,
          messages: [{ ping }, { suspect: { incarnation: peer.incarnation, node: target, from: o.name } }],
        }),
      );
    }
    this.probes++;
    const now = this.#ctx.clock.now();
    // The verdict never comes before the direct-ack wait is over (only matters if interval < timeout).
    const endMs = Math.max(intervalMs, o.probeTimeoutMs);
    this.#probe = {
      seqNo,
      node: target,
      incarnation: peer.incarnation,
      to,
      protocolMax: protocolMaxOf(peer),
      ping,
      sentAtMs: now,
      deadlineMs: now + endMs,
      stage: 'direct',
      timers: [
        this.#ctx.schedule(o.probeTimeoutMs, actors.ProbeDeadline.create({ seqNo, stage: STAGE_PROBE_TIMEOUT })),
        this.#ctx.schedule(endMs, actors.ProbeDeadline.create({ seqNo, stage: STAGE_INTERVAL_END })),
      ],
      expectedNacks: 0,
      nacks: 0,
      tcpRequestId: 0,
      tcpPending: false,
      tcpOk: false,
      graced: 0,
    };
  }

  #onDeadline(m: actors.ProbeDeadline): void {
    const p = this.#probe;
    if (p === undefined || p.seqNo !== m.seqNo) return;
    if (this.#deferLate(p, m)) return;
    switch (m.stage) {
      case STAGE_PROBE_TIMEOUT:
        if (p.stage === 'direct') this.#goIndirect(p);
        return;
      case STAGE_INTERVAL_END:
        if (p.stage === 'direct') this.#goIndirect(p); // interval <= timeout: both due at once
        if (p.tcpPending) {
          p.stage = 'awaiting-tcp';
          p.timers.push(
            this.#ctx.schedule(this.options.probeTimeoutMs, actors.ProbeDeadline.create({ seqNo: p.seqNo, stage: STAGE_TCP_GRACE })),
          );
          return;
        }
        this.#verdict(p);
        return;
      case STAGE_TCP_GRACE:
        if (p.stage === 'awaiting-tcp') this.#verdict(p);
        return;
      default:
        return;
    }
  }

  /**
   * A deadline that fired late means our own event loop stalled: the target's ack is probably
   * unread in the socket. Look again one loop turn later (after the poll phase), once per stage, and
   * count the stall against our own health (Lifeguard: the slow node backs off) when it was longer
   * than a probe timeout.
   */
  #deferLate(p: ActiveProbe, m: actors.ProbeDeadline): boolean {
    const o = this.options;
    const dueMs = m.stage === STAGE_PROBE_TIMEOUT ? p.sentAtMs + o.probeTimeoutMs : m.stage === STAGE_INTERVAL_END ? p.deadlineMs : undefined;
    const bit = 1 << m.stage;
    const now = this.#ctx.clock.now();
    if (dueMs === undefined || (p.graced & bit) !== 0 || !firedLate(dueMs, now)) return false;
    p.graced |= bit;
    this.lateProbeTimeouts++;
    if (now - dueMs >= o.probeTimeoutMs) this.#applyAwareness(1);
    p.timers.push(this.#ctx.schedule(0, actors.ProbeDeadline.create({ seqNo: p.seqNo, stage: m.stage })));
    return true;
  }

  /** No direct ack within probeTimeoutMs: indirect pings through random helpers, plus the TCP fallback. */
  #goIndirect(p: ActiveProbe): void {
    p.stage = 'indirect';
    const o = this.options;
    const target = toWireAddress0(p.to.host ?? '');
    // Helpers are drawn from the probe order's own array (no second per-member collection: at
    // thousands of simulated nodes each costs ~16 bytes per (node, member) pair).
    const isAlive = (n: string): boolean => this.#peers.get(n)?.state === wire.MemberState.ALIVE;
    const available = this.#aliveCount - (isAlive(p.node) ? 1 : 0);
    const helpers = (this.#list as ProbeList).sample(o.indirectChecks ?? 3, p.node, isAlive, available, this.#ctx.random);
    for (const helper of helpers) {
      const h = this.#peers.get(helper);
      if (h === undefined) continue;
      const nack = supports(protocolMaxOf(h), PROTOCOL_NACK);
      if (nack) p.expectedNacks++;
      this.indirectPingsSent++;
      this.#ctx.send(
        actors.OutboundPacket.create({
          to: { host: h.host, port: h.port },
          toNode: helper,
          messages: [
            {
              indirectPing: {
                seqNo: p.seqNo,
                targetIpv4: target.ipv4,
                targetIpv6: target.ipv6,
                targetPort: p.to.port ?? 0,
                node: p.node,
                nack,
                sourceIpv4: this.#self.ipv4,
                sourceIpv6: this.#self.ipv6,
                sourcePort: o.port,
                sourceNode: o.name,
              },
            },
          ],
        }),
      );
    }
    if (!(o.disableTcpPings ?? false) && supports(p.protocolMax, PROTOCOL_TCP_PING)) {
      p.tcpRequestId = this.#streamRequestId = (this.#streamRequestId + 1) >>> 0 || 1;
      p.tcpPending = true;
      this.#ctx.send(
        actors.StreamRequest.create({
          requestId: p.tcpRequestId,
          requester: this.name,
          to: p.to,
          request: { ping: p.ping },
          timeoutMs: Math.max(0, p.deadlineMs - this.#ctx.clock.now()),
          expectReply: true,
        }),
      );
    }
  }

  #onAck(m: actors.AckReceived): void {
    const seqNo = m.ack?.seqNo ?? 0;
    const p = this.#probe;
    if (p !== undefined && p.seqNo === seqNo) {
      // After the interval ended the ack handler is gone in memberlist too: too late to count.
      if (p.stage === 'awaiting-tcp') return;
      // The target answered with the digest of the members it knows: if it differs from ours, one of
      // us missed a join or a death; a push-pull with it repairs that now (relayed acks carry none).
      const theirs = m.ack?.membersDigest ?? 0;
      if (theirs !== 0 && theirs !== this.#digest.value && m.from) {
        this.digestMismatches++;
        this.#ctx.send(actors.DigestMismatch.create({ node: p.node, addr: m.from }));
      }
      if (p.stage === 'direct') {
        // memberlist notifies the ping delegate only for an ack within probeTimeoutMs: a later one may
        // have been relayed, and its round trip would mislead RTT consumers (network coordinates).
        const receivedAt = m.receivedAtMs || this.#ctx.clock.now();
        this.#ctx.send(
          actors.PingCompleted.create({
            node: p.node,
            rttMs: Math.max(0, receivedAt - p.sentAtMs),
            payload: m.ack?.payload ?? EMPTY,
            seqNo,
          }),
        );
      }
      this.#finish(p, -1);
      return;
    }
    const relay = this.#relays.get(seqNo);
    if (relay !== undefined) {
      this.#relays.delete(seqNo);
      relay.timer.cancel();
      this.relayedAcks++;
      this.#ctx.send(
        actors.OutboundPacket.create({
          to: relay.replyTo,
          toNode: relay.replyNode,
          messages: [{ ack: { seqNo: relay.requesterSeqNo } }],
        }),
      );
    }
    // Anything else is late or unknown: memberlist ignores unknown sequence numbers too.
  }

  #onNack(m: actors.NackReceived): void {
    const p = this.#probe;
    if (p === undefined || p.seqNo !== (m.nack?.seqNo ?? 0) || p.stage === 'awaiting-tcp') return;
    p.nacks++;
  }

  #onStreamResult(m: actors.StreamResult): void {
    if (m.requester !== this.name) return;
    const p = this.#probe;
    if (p === undefined || p.tcpRequestId === 0 || p.tcpRequestId !== m.requestId || !p.tcpPending) return;
    p.tcpPending = false;
    p.tcpOk = !m.error && (m.response?.ack?.seqNo ?? -1) === p.seqNo;
    if (!p.tcpOk && m.error) this.#ctx.logger.debug({ member: p.node, error: m.error }, 'TCP fallback ping failed');
    if (p.stage === 'awaiting-tcp') this.#verdict(p);
  }

  /** The scaled interval is over with no UDP ack: the TCP fallback or a suspicion decides. */
  #verdict(p: ActiveProbe): void {
    if (p.tcpOk) {
      this.tcpFallbackSuccesses++;
      this.#ctx.logger.warn({ member: p.node }, 'UDP probes failed but TCP worked: the network may be misconfigured');
      this.#finish(p, -1);
      return;
    }
    // Lifeguard: missing nacks point at us (our network), not the target; without nack-capable
    // helpers a failed probe costs +1.
    const delta = p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1;
    this.probesFailed++;
    this.#ctx.logger.info({ member: p.node, seqNo: p.seqNo, nacks: p.nacks, expectedNacks: p.expectedNacks }, 'suspect has failed, no acks received');
    this.#ctx.send(actors.ProbeFailed.create({ node: p.node, incarnation: p.incarnation, seqNo: p.seqNo }));
    this.#ctx.send(actors.LocalSuspect.create({ node: p.node, incarnation: p.incarnation }));
    this.#finish(p, delta);
  }

  #finish(p: ActiveProbe, awarenessDelta: number): void {
    for (const t of p.timers) t.cancel();
    if (this.#probe === p) this.#probe = undefined;
    this.#applyAwareness(awarenessDelta);
    if (this.#tickPending) {
      this.#tickPending = false;
      this.#probeNext();
    }
  }

  #applyAwareness(delta: number): void {
    if (!this.#awareness.applyDelta(delta)) return;
    const score = this.#awareness.score;
    this.#ctx.logger.debug({ score, delta }, 'health score changed');
    this.#ctx.send(actors.HealthChanged.create({ score }));
  }

  // ───── answering and relaying ─────

  #onPing(m: actors.PingReceived): void {
    const ping = m.ping;
    if (ping === null || ping === undefined) return;
    if (ping.node && ping.node !== this.options.name) {
      // A ping for someone else reached our address (it was reused): never ack on their behalf.
      this.wrongNodePings++;
      this.#ctx.logger.warn({ intended: ping.node, from: m.from }, 'got ping for unexpected node');
      return;
    }
    const replyTo = replyEndpoint(ping.sourceIpv4, ping.sourceIpv6, ping.sourcePort, m.from);
    if (replyTo === undefined) {
      this.malformed++;
      return;
    }
    // Through the gossip dispatcher: memberlist's handlePing uses sendMsg, so acks carry piggyback.
    this.#ctx.send(
      actors.OutboundPacket.create({
        to: replyTo,
        toNode: ping.sourceNode ?? '',
        messages: [
          {
            ack: {
              seqNo: ping.seqNo ?? 0,
              membersDigest: this.#digest.value,
              payload: this.options.ackPayload?.() ?? this.#ackPayload,
            },
          },
        ],
      }),
    );
  }

  /** We are the intermediary: ping the target with our own sequence number and relay the outcome. */
  #onIndirectPing(m: actors.IndirectPingReceived): void {
    const req = m.request;
    const targetHost = req === null || req === undefined ? undefined : fromWireAddress(req.targetIpv4, req.targetIpv6);
    const replyTo = req === null || req === undefined ? undefined : replyEndpoint(req.sourceIpv4, req.sourceIpv6, req.sourcePort, m.from);
    if (req === null || req === undefined || targetHost === undefined || replyTo === undefined) {
      this.malformed++;
      return;
    }
    const o = this.options;
    const localSeqNo = this.#nextSeqNo();
    this.#ctx.send(
      actors.OutboundPacket.create({
        to: { host: targetHost, port: req.targetPort || o.port },
        toNode: req.node ?? '',
        messages: [
          {
            ping: {
              seqNo: localSeqNo,
              node: req.node ?? '',
              sourceIpv4: this.#self.ipv4,
              sourceIpv6: this.#self.ipv6,
              sourcePort: o.port,
              sourceNode: o.name,
            },
          },
        ],
      }),
    );
    // One timer serves memberlist's ack-handler timeout and its nack goroutine (both ProbeTimeout).
    const timer = this.#ctx.schedule(o.probeTimeoutMs, actors.IndirectDeadline.create({ localSeqNo }));
    this.#relays.set(localSeqNo, {
      requesterSeqNo: req.seqNo ?? 0,
      replyTo,
      replyNode: req.sourceNode ?? '',
      nack: req.nack ?? false,
      timer,
    });
  }

  #onIndirectDeadline(m: actors.IndirectDeadline): void {
    const relay = this.#relays.get(m.localSeqNo);
    if (relay === undefined) return;
    this.#relays.delete(m.localSeqNo);
    if (!relay.nack) return;
    this.relayedNacks++;
    this.#ctx.send(
      actors.OutboundPacket.create({
        to: relay.replyTo,
        toNode: relay.replyNode,
        messages: [{ nack: { seqNo: relay.requesterSeqNo } }],
      }),
    );
  }

  #nextSeqNo(): number {
    this.#seqNo = (this.#seqNo + 1) >>> 0;
    return this.#seqNo;
  }
}

/** Whether a peer at `protocolMax` has a capability; 0 (unknown: not announced) counts as capable. */
function supports(protocolMax: number, needed: number): boolean {
  return protocolMax === 0 || protocolMax >= needed;
}

/** The wire form of a member's host, or an empty address when it is not an IP literal. */
function toWireAddress0(host: string): WireAddress {
  try {
    return toWireAddress(host);
  } catch {
    return { ipv4: 0, ipv6: EMPTY };
  }
}

/**
 * Where to answer: the advertised source address when the message names one (memberlist does the same,
 * so an ack reaches the prober even through indirection), otherwise the packet's sender.
 */
function replyEndpoint(
  ipv4: number | null | undefined,
  ipv6: Uint8Array | null | undefined,
  port: number | null | undefined,
  from: actors.Endpoint.$Properties | null | undefined,
): actors.Endpoint.$Shape | undefined {
  const named = port ? fromWireAddress(ipv4, ipv6) : undefined;
  const host = named ?? from?.host ?? undefined;
  const p = named !== undefined ? port : from?.port;
  if (!host || !p) return undefined;
  return { host, port: p };
}

/** Highest protocol version a member speaks (Vsn[1]); 0 when unknown. */
function protocolMaxOf(m: SharedMember): number {
  return m.vsn[1];
}
