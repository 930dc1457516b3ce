// The Lifeguard slow-member scenario (issue 6, item 7), shared by benchmarks/lifeguard-slow.ts (the full
// measurement) and test/sim/lifeguard-slow.test.ts (one small, asserted configuration).
//
// Lifeguard's experiment (Dadgar et al., arXiv 1707.00788): some members are slow, as when starved of
// CPU, and process every message late, inbound and outbound; healthy members must not be declared
// failed because of them. Here: N real nodes (the production actors) on a MemoryNetwork and a
// VirtualClock, LAN preset, 1 ms (+ up to 1 ms jitter) links. Once the cluster has converged, S of them
// become slow with MemoryNetwork.setProcessingDelay(d): whatever they send and whatever they receive
// (packets, streams, dials) takes d more, so any round trip with a slow member is 2d longer. Their timers
// still run on time (a delay, not a frozen loop). The cluster then runs for a window of virtual time
// from the moment the slowness begins, with Lifeguard on or off:
//   on  = the defaults: awarenessMaxMultiplier 8, suspicionMaxTimeoutMult 6 (accelerated suspicion
//         timeouts with k = suspicionMult - 2 confirmations), buddy system, nacks;
//   off = SWIM as memberlist had it before Lifeguard: awarenessMaxMultiplier 1 (no probe back-off) and
//         suspicionMaxTimeoutMult 1 (a flat suspicion timeout of suspicionMult x log10(n) intervals).
//         The buddy system and nacks cannot be turned off by configuration (memberlist cannot either),
//         so both runs keep them.
// Two partial modes take Lifeguard apart: 'awareness-only' (suspicionMaxTimeoutMult 1) and
// 'suspicion-only' (awarenessMaxMultiplier 1).
import { actors, type Actor, type MemberlistNode } from '../src/index.js';
import { SimulatedCluster } from '../src/testing/index.js';

export type LifeguardMode = 'on' | 'off' | 'awareness-only' | 'suspicion-only';

const MODE_OPTIONS: Record<LifeguardMode, { awarenessMaxMultiplier?: number; suspicionMaxTimeoutMult?: number }> = {
  on: {},
  off: { awarenessMaxMultiplier: 1, suspicionMaxTimeoutMult: 1 },
  'awareness-only': { suspicionMaxTimeoutMult: 1 },
  'suspicion-only': { awarenessMaxMultiplier: 1 },
};

export interface SlowScenario {
  seed: number;
  /** Cluster size, slow members included. */
  nodes: number;
  /** One processing delay (ms) per slow member; its length is the number of slow members. */
  slowDelaysMs: readonly number[];
  lifeguard: LifeguardMode;
  /** Virtual ms measured, from the moment the slow members become slow. */
  durationMs: number;
}

export interface SlowResult {
  /** Suspicions raised by slow members' own failed probes (LocalSuspect) about healthy members. */
  slowAccusesHealthy: number;
  /** Suspicions raised by healthy members about healthy members. */
  healthyAccusesHealthy: number;
  /** Suspicions raised about slow members (by anyone). */
  accusedSlow: number;
  /** Healthy members declared failed (`leave`, reason `failed`), counted per observer x member. */
  healthyDeaths: number;
  /** ... of which the observer was a slow member. */
  healthyDeathsSeenBySlow: number;
  /** ... of which the observer was healthy. */
  healthyDeathsSeenByHealthy: number;
  /** Distinct healthy members that anyone declared failed. */
  healthyMembersDeclaredDead: number;
  /** Slow members declared failed, per observer x member (slow, but not failed either). */
  slowDeaths: number;
  /** Refutations the slow members sent (each raised their health score by one). */
  slowRefutations: number;
  /** Mean Lifeguard health score of the slow members, sampled every virtual second. */
  slowMeanScore: number;
  /** Probes the slow members started (their probe rate, stretched by awareness). */
  slowProbes: number;
}

/** Counts the accusations a node raises itself: its own probe of `node` failed (LocalSuspect). */
class AccusationLog implements Actor {
  readonly name = 'accusation-log';
  readonly accepts = [actors.LocalSuspect];
  readonly targets: string[] = [];
  receive(m: object): void {
    if (m instanceof actors.LocalSuspect) this.targets.push(m.node);
  }
}

function protocolCounter(node: MemberlistNode, key: 'refutations' | 'probes'): number {
  return node.metrics().protocol[key];
}

/** The slow members are the last S nodes (never node-0, the seed everyone joined through). */
/** Every count at zero: the start of one run's tally, and of a sum over runs. */
export function emptySlowResult(): SlowResult {
  return {
    slowAccusesHealthy: 0,
    healthyAccusesHealthy: 0,
    accusedSlow: 0,
    healthyDeaths: 0,
    healthyDeathsSeenBySlow: 0,
    healthyDeathsSeenByHealthy: 0,
    healthyMembersDeclaredDead: 0,
    slowDeaths: 0,
    slowRefutations: 0,
    slowMeanScore: 0,
    slowProbes: 0,
  };
}

export async function runSlowScenario(s: SlowScenario): Promise<SlowResult> {
  if (s.slowDelaysMs.length >= s.nodes) throw new Error('at least one member must stay healthy');
  const cluster = new SimulatedCluster({
    seed: s.seed,
    network: { latencyMs: 1, jitterMs: 1 },
    nodeOptions: {
      profile: 'lan',
      ...MODE_OPTIONS[s.lifeguard],
    },
  });
  try {
    const nodes = await cluster.addNodes(s.nodes);
    const logs = new Map<string, AccusationLog>();
    for (const n of nodes) {
      const log = new AccusationLog();
      n.spawn(log);
      logs.set(n.name, log);
    }
    const joins = cluster.startJoins(0, 16);
    if ((await cluster.runUntil(() => cluster.converged(), 120_000)) === undefined) throw new Error('no initial convergence');
    await joins;
    await cluster.runFor(10_000);
    if (!cluster.converged()) throw new Error('not converged before the slowness');

    const slow = nodes.slice(nodes.length - s.slowDelaysMs.length);
    const slowNames = new Set(slow.map((n) => n.name));
    const deaths: Array<{ observer: string; member: string }> = [];
    for (const n of nodes) {
      n.on('leave', ({ member, reason }) => {
        if (reason === 'failed') deaths.push({ observer: n.name, member: member.name });
      });
    }
    const accusedBefore = new Map([...logs].map(([name, log]) => [name, log.targets.length]));
    const refutationsBefore = slow.map((n) => protocolCounter(n, 'refutations'));
    const probesBefore = slow.map((n) => protocolCounter(n, 'probes'));
    let scoreSum = 0;
    let scoreSamples = 0;
    let sampling = true;
    const sample = (): void => {
      if (!sampling) return;
      for (const n of slow) scoreSum += n.healthScore;
      scoreSamples += slow.length;
      cluster.clock.setTimer(1000, sample);
    };
    slow.forEach((n, i) => cluster.network.setProcessingDelay(n.advertiseAddress, s.slowDelaysMs[i] as number));
    cluster.clock.setTimer(1000, sample);
    await cluster.runFor(s.durationMs);
    sampling = false;

    const r: SlowResult = {
      ...emptySlowResult(),
      slowRefutations: slow.reduce((acc, n, i) => acc + protocolCounter(n, 'refutations') - (refutationsBefore[i] as number), 0),
      slowMeanScore: scoreSamples === 0 ? 0 : scoreSum / scoreSamples,
      slowProbes: slow.reduce((acc, n, i) => acc + protocolCounter(n, 'probes') - (probesBefore[i] as number), 0),
    };
    for (const [observer, log] of logs) {
      for (const target of log.targets.slice(accusedBefore.get(observer) ?? 0)) {
        if (slowNames.has(target)) r.accusedSlow++;
        else if (slowNames.has(observer)) r.slowAccusesHealthy++;
        else r.healthyAccusesHealthy++;
      }
    }
    const deadHealthy = new Set<string>();
    for (const d of deaths) {
      if (slowNames.has(d.member)) {
        r.slowDeaths++;
        continue;
      }
      r.healthyDeaths++;
      deadHealthy.add(d.member);
      if (slowNames.has(d.observer)) r.healthyDeathsSeenBySlow++;
      else r.healthyDeathsSeenByHealthy++;
    }
    r.healthyMembersDeclaredDead = deadHealthy.size;
    return r;
  } finally {
    await cluster.shutdown();
  }
}
