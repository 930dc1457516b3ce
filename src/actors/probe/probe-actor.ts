import { actors, wire } from '../../gen/index.js';
import { fromWireAddress, toWireAddress } from '../../codec/address.js';
import type { TimerHandle } from '../../clock.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { ProbeList } from './probe-list.js';

export interface ProbeOptions {
  name: string;
  /** Our advertised address: where acks should come back to. */
  host: string;
  port: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
}

interface PeerView {
  host: string;
  port: number;
  state: wire.MemberState;
  incarnation: number;
}

interface PendingProbe {
  seqNo: number;
  node: string;
  incarnation: number;
  sentAtMs: number;
  deadline: TimerHandle;
}

/** Stage numbers of ProbeDeadline. */
const STAGE_INTERVAL_END = 2;

/**
 * SWIM's failure detector, one probe per probe interval: ping the next member of the shuffled round
 * robin, and report PingCompleted with the round trip, or ProbeFailed when no ack came in time. It
 * also answers pings addressed to us. It keeps its own view of the members from MemberChanged.
 */
export class ProbeActor implements Actor {
  readonly name = 'probe';
  readonly accepts = [actors.ProbeTick, actors.ProbeDeadline, actors.PingReceived, actors.AckReceived, actors.MemberChanged];
  #ctx!: ActorContext;
  #peers = new Map<string, PeerView>();
  #list!: ProbeList;
  #pending = new Map<number, PendingProbe>();
  #seqNo = 0;
  #round = 0;
  /** Pings addressed to another node name (a reused address): dropped without an ack. */
  wrongNodePings = 0;

  constructor(private readonly options: ProbeOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#peers = new Map();
    this.#pending = new Map();
    this.#list = new ProbeList(ctx.random);
    if (this.options.probeIntervalMs > 0) {
      // A random stagger in [0, interval) so that nodes started together do not probe in lockstep.
      ctx.schedule(ctx.random.next() * this.options.probeIntervalMs, actors.ProbeTick.create({ round: 0 }));
    }
  }

  stop(): void {
    for (const p of this.#pending.values()) p.deadline.cancel();
    this.#pending.clear();
  }

  receive(message: object): void {
    if (message instanceof actors.PingReceived) this.#onPing(message);
    else if (message instanceof actors.AckReceived) this.#onAck(message);
    else if (message instanceof actors.ProbeTick) this.#onTick();
    else if (message instanceof actors.ProbeDeadline) this.#onDeadline(message);
    else if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || m.local || !member.name) return;
    this.#peers.set(member.name, {
      host: member.addr?.host ?? '',
      port: member.addr?.port ?? 0,
      state: member.state ?? wire.MemberState.ALIVE,
      incarnation: member.incarnation ?? 0,
    });
    this.#list.add(member.name);
  }

  #onTick(): void {
    this.#round++;
    this.#ctx.schedule(this.options.probeIntervalMs, actors.ProbeTick.create({ round: this.#round }));
    const target = this.#list.next((n) => {
      const p = this.#peers.get(n);
      return p !== undefined && (p.state === wire.MemberState.ALIVE || p.state === wire.MemberState.SUSPECT);
    });
    if (target === undefined) return;
    const peer = this.#peers.get(target) as PeerView;
    const seqNo = (this.#seqNo = (this.#seqNo + 1) >>> 0);
    const self = toWireAddress(this.options.host);
    this.#ctx.send(
      actors.SendPacket.create({
        to: { host: peer.host, port: peer.port },
        toNode: target,
        messages: [
          {
            ping: {
              seqNo,
              node: target,
              sourceIpv4: self.ipv4,
              sourceIpv6: self.ipv6,
              sourcePort: this.options.port,
              sourceNode: this.options.name,
            },
          },
        ],
      }),
    );
    const deadline = this.#ctx.schedule(
      this.options.probeIntervalMs,
      actors.ProbeDeadline.create({ seqNo, stage: STAGE_INTERVAL_END }),
    );
    this.#pending.set(seqNo, { seqNo, node: target, incarnation: peer.incarnation, sentAtMs: this.#ctx.clock.now(), deadline });
  }

  #onAck(m: actors.AckReceived): void {
    const seqNo = m.ack?.seqNo ?? 0;
    const p = this.#pending.get(seqNo);
    if (p === undefined) return; // late or unknown: memberlist ignores unknown sequence numbers too
    this.#pending.delete(seqNo);
    p.deadline.cancel();
    this.#ctx.send(
      actors.PingCompleted.create({
        node: p.node,
        rttMs: Math.max(0, (m.receivedAtMs ?? this.#ctx.clock.now()) - p.sentAtMs),
        payload: m.ack?.payload ?? new Uint8Array(0),
        seqNo,
      }),
    );
  }

  #onDeadline(m: actors.ProbeDeadline): void {
    const p = this.#pending.get(m.seqNo);
    if (p === undefined) return;
    this.#pending.delete(m.seqNo);
    this.#ctx.logger.debug({ member: p.node, seqNo: p.seqNo }, 'probe failed: no ack');
    this.#ctx.send(actors.ProbeFailed.create({ node: p.node, incarnation: p.incarnation, seqNo: p.seqNo }));
  }

  #onPing(m: actors.PingReceived): void {
    const ping = m.ping;
    if (ping === null || ping === undefined) return;
    if (ping.node && ping.node !== this.options.name) {
      // A ping for someone else reached our address (it was reused): never ack on their behalf.
      this.wrongNodePings++;
      this.#ctx.logger.warn({ intended: ping.node, from: m.from }, 'got ping for unexpected node');
      return;
    }
    // Reply to the advertised source address when the ping names one (memberlist does the same), so
    // an ack relayed through NAT-less indirection reaches the prober; otherwise to the packet's sender.
    const replyHost = (ping.sourcePort ? fromWireAddress(ping.sourceIpv4, ping.sourceIpv6) : undefined) ?? m.from?.host;
    const replyPort = ping.sourcePort || m.from?.port;
    if (!replyHost || !replyPort) return;
    this.#ctx.send(
      actors.SendPacket.create({
        to: { host: replyHost, port: replyPort },
        toNode: ping.sourceNode ?? '',
        messages: [{ ack: { seqNo: ping.seqNo ?? 0 } }],
      }),
    );
  }
}
