/**
 * A read-only custom actor that derives protocol counters and timings from the messages the built-in
 * actors already exchange, so that operators' tooling (the agent's /metrics, the diagnostics channel
 * publisher) can report probes, suspicions, refutations, deaths and push-pull timings without any
 * change to the protocol actors. It never sends a message and never throws: its restart policy is
 * 'stop', so even a bug here could only remove the observer, never disturb the node.
 *
 * What it listens to (every message is routed to every actor that accepts its class):
 * - PingCompleted / ProbeFailed: direct acks (with round-trip time) and failed probes, per member;
 * - MemberChanged / MemberRemoved: state transitions (joins, suspicions, deaths, leaves, recoveries);
 * - AwarenessDelta (sent by the membership actor for every refutation of a claim about us);
 * - StreamRequest / StreamResult: our push-pulls (count, outcome, duration);
 * - StreamRequestReceived / StreamReply: push-pulls other members start with us (count, duration).
 *
 * Every map is bounded: per-member entries by the member table (deleted when a member is reaped),
 * in-flight exchanges by {@link MAX_IN_FLIGHT}.
 */
import type { Actor, ActorContext } from '../runtime/actor.js';
import { actors, wire } from '../gen/index.js';

/** Upper bounds (seconds) of the push-pull duration histogram buckets; +Inf is implicit. */
export const PUSH_PULL_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Exchanges waiting for their result or reply; more are forgotten oldest first. */
export const MAX_IN_FLIGHT = 1024;

/** A cumulative histogram in Prometheus' shape: `counts[i]` observations <= `buckets[i]`. */
export interface HistogramSnapshot {
  readonly buckets: readonly number[];
  /** Cumulative counts, one per bucket (the +Inf bucket is `count`). */
  readonly counts: readonly number[];
  readonly count: number;
  /** Sum of the observations, in seconds. */
  readonly sum: number;
}

/** What one member looks like from here: the last probe of it and its round-trip time. */
export interface PeerHealth {
  /** Round-trip time of the last direct ack, in milliseconds; undefined before the first one. */
  readonly lastRttMs: number | undefined;
  /** How our last probe of this member ended. */
  readonly lastProbe: 'ack' | 'failed' | undefined;
  /** Direct acks and failed probes so far. */
  readonly acks: number;
  readonly failures: number;
}

/** Protocol counters and timings derived by the observer. Every counter only grows. */
export interface ProtocolStats {
  /** Probes answered by a direct ack within probeTimeoutMs. */
  readonly probeAcks: number;
  /** Probes that got no ack by the end of the probe interval (each one leads to a suspicion). */
  readonly probeFailures: number;
  /** Sum and count of the direct-ack round-trip times, in seconds. */
  readonly probeRttSumSeconds: number;
  readonly probeRttCount: number;
  /** Members that became suspect (any source: our probes, gossip, push-pull). */
  readonly suspicions: number;
  /** Claims about us that we refuted (each raises our health score). */
  readonly refutations: number;
  /** Members declared dead (failed), and members that left gracefully. */
  readonly deaths: number;
  readonly leaves: number;
  /** Members that became alive: new ones, and dead, left or suspect ones coming back. */
  readonly joins: number;
  /** Suspect members that refuted and are alive again. */
  readonly recoveries: number;
  /** Push-pulls we started (join, periodic, repair), by outcome. */
  readonly pushPullsOk: number;
  readonly pushPullsFailed: number;
  /** Push-pulls other members started with us. */
  readonly pushPullsInbound: number;
  /** Durations of our push-pulls (request to result, merge excluded). */
  readonly pushPullDuration: HistogramSnapshot;
  /** Durations of inbound push-pulls (request received to reply handed to the network). */
  readonly pushPullInboundDuration: HistogramSnapshot;
}

class Histogram {
  readonly #counts: number[];
  #count = 0;
  #sum = 0;

  constructor(readonly buckets: readonly number[]) {
    this.#counts = buckets.map(() => 0);
  }

  observe(seconds: number): void {
    this.#count++;
    this.#sum += seconds;
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= (this.buckets[i] ?? Infinity)) this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    }
  }

  snapshot(): HistogramSnapshot {
    return { buckets: this.buckets, counts: [...this.#counts], count: this.#count, sum: this.#sum };
  }
}

interface MutablePeer {
  lastRttMs: number | undefined;
  lastProbe: 'ack' | 'failed' | undefined;
  acks: number;
  failures: number;
}

/** The observer actor; spawn it on a running node with `node.spawn(observer)`. */
export class ProtocolObserver implements Actor {
  readonly name: string;
  readonly restartPolicy = 'stop' as const;
  readonly accepts = [
    actors.PingCompleted,
    actors.ProbeFailed,
    actors.MemberChanged,
    actors.MemberRemoved,
    actors.AwarenessDelta,
    actors.StreamRequest,
    actors.StreamResult,
    actors.StreamRequestReceived,
    actors.StreamReply,
  ];

  #now: () => number = () => performance.now();
  readonly #peers = new Map<string, MutablePeer>();
  /** Our outbound push-pulls by `requester/requestId`, with their start time. */
  readonly #outbound = new Map<string, number>();
  /** Inbound push-pulls by stream id, with the time the request arrived. */
  readonly #inbound = new Map<number, number>();
  #probeAcks = 0;
  #probeFailures = 0;
  #rttSum = 0;
  #rttCount = 0;
  #suspicions = 0;
  #refutations = 0;
  #deaths = 0;
  #leaves = 0;
  #joins = 0;
  #recoveries = 0;
  #ppOk = 0;
  #ppFailed = 0;
  #ppInbound = 0;
  readonly #ppDuration = new Histogram(PUSH_PULL_BUCKETS_SECONDS);
  readonly #ppInboundDuration = new Histogram(PUSH_PULL_BUCKETS_SECONDS);

  constructor(name = 'protocol-observer') {
    this.name = name;
  }

  start(ctx: ActorContext): void {
    // Counters survive a restart on purpose (they only grow); only in-flight bookkeeping is reset.
    this.#now = () => ctx.clock.now();
    this.#outbound.clear();
    this.#inbound.clear();
  }

  receive(m: object): void {
    if (m instanceof actors.PingCompleted) this.#onAck(m);
    else if (m instanceof actors.ProbeFailed) this.#onProbeFailed(m);
    else if (m instanceof actors.MemberChanged) this.#onMemberChanged(m);
    else if (m instanceof actors.MemberRemoved) this.#peers.delete(m.name);
    else if (m instanceof actors.AwarenessDelta) {
      if (m.delta > 0) this.#refutations++;
    } else if (m instanceof actors.StreamRequest) {
      if (m.request?.pushPull) bounded(this.#outbound, `${m.requester}/${m.requestId}`, this.#now());
    } else if (m instanceof actors.StreamResult) this.#onStreamResult(m);
    else if (m instanceof actors.StreamRequestReceived) {
      if (m.request?.pushPull) {
        this.#ppInbound++;
        bounded(this.#inbound, m.streamId, this.#now());
      }
    } else if (m instanceof actors.StreamReply) {
      const started = this.#inbound.get(m.streamId);
      if (started !== undefined) {
        this.#inbound.delete(m.streamId);
        this.#ppInboundDuration.observe(Math.max(0, this.#now() - started) / 1000);
      }
    }
  }

  /** The counters so far (a copy). */
  stats(): ProtocolStats {
    return {
      probeAcks: this.#probeAcks,
      probeFailures: this.#probeFailures,
      probeRttSumSeconds: this.#rttSum,
      probeRttCount: this.#rttCount,
      suspicions: this.#suspicions,
      refutations: this.#refutations,
      deaths: this.#deaths,
      leaves: this.#leaves,
      joins: this.#joins,
      recoveries: this.#recoveries,
      pushPullsOk: this.#ppOk,
      pushPullsFailed: this.#ppFailed,
      pushPullsInbound: this.#ppInbound,
      pushPullDuration: this.#ppDuration.snapshot(),
      pushPullInboundDuration: this.#ppInboundDuration.snapshot(),
    };
  }

  /** The last probe of `name` as seen from this node, or undefined when we never probed it. */
  peer(name: string): PeerHealth | undefined {
    const p = this.#peers.get(name);
    return p === undefined ? undefined : { ...p };
  }

  #peer(name: string): MutablePeer {
    let p = this.#peers.get(name);
    if (p === undefined) {
      p = { lastRttMs: undefined, lastProbe: undefined, acks: 0, failures: 0 };
      this.#peers.set(name, p);
    }
    return p;
  }

  #onAck(m: actors.PingCompleted): void {
    this.#probeAcks++;
    this.#rttSum += m.rttMs / 1000;
    this.#rttCount++;
    const p = this.#peer(m.node);
    p.acks++;
    p.lastRttMs = m.rttMs;
    p.lastProbe = 'ack';
  }

  #onProbeFailed(m: actors.ProbeFailed): void {
    this.#probeFailures++;
    const p = this.#peer(m.node);
    p.failures++;
    p.lastProbe = 'failed';
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const now = m.member?.state ?? wire.MemberState.ALIVE;
    const before = m.previous ? (m.previous.state ?? wire.MemberState.ALIVE) : undefined;
    if (now === before) return;
    switch (now) {
      case wire.MemberState.ALIVE:
        if (before === wire.MemberState.SUSPECT) this.#recoveries++;
        else this.#joins++;
        break;
      case wire.MemberState.SUSPECT:
        this.#suspicions++;
        break;
      case wire.MemberState.DEAD:
        this.#deaths++;
        break;
      case wire.MemberState.LEFT:
        this.#leaves++;
        break;
    }
  }

  #onStreamResult(m: actors.StreamResult): void {
    const key = `${m.requester}/${m.requestId}`;
    const started = this.#outbound.get(key);
    if (started === undefined) return;
    this.#outbound.delete(key);
    if (m.error) this.#ppFailed++;
    else {
      this.#ppOk++;
      this.#ppDuration.observe(Math.max(0, this.#now() - started) / 1000);
    }
  }
}

/** Sets `key` in a map kept at most MAX_IN_FLIGHT long (insertion order: the oldest goes first). */
function bounded<K>(map: Map<K, number>, key: K, value: number): void {
  if (map.size >= MAX_IN_FLIGHT) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}
