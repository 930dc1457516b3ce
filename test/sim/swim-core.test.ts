import { afterEach, describe, expect, it } from 'vitest';
import { actors, suspicionTimeoutMs, type MemberlistNode } from '../../src/index.js';
import { SimulatedCluster } from '../../src/testing/index.js';

function stateOf(observer: MemberlistNode, name: string): string | undefined {
  return observer.members().find((m) => m.name === name)?.state;
}

describe('SWIM core on the MemoryNetwork and virtual time', () => {
  let cluster: SimulatedCluster;
  afterEach(async () => cluster.shutdown());

  it('100 nodes join through one seed and converge', async () => {
    cluster = new SimulatedCluster({ seed: 11, network: { latencyMs: 1, jitterMs: 1 }, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(100);
    await cluster.joinAll(0);
    const took = await cluster.runUntil(() => cluster.converged(), 60_000);
    expect(took).toBeDefined();
    for (const n of cluster.nodes) expect(n.numMembers()).toBe(100);
  });

  it('250 nodes joining 16 at a time converge within 5 s with either preset: member digests repair missed joins', async () => {
    for (const profile of ['local', 'lan'] as const) {
      cluster = new SimulatedCluster({ seed: 3, network: { latencyMs: 0.2, jitterMs: 0.2 }, nodeOptions: { profile } });
      await cluster.addNodes(250);
      const joins = cluster.startJoins(0, 16);
      const took = await cluster.runUntil(() => cluster.converged(), 5000);
      // memberlist needs the next periodic push-pull here (15 s x 4 with the local preset).
      expect(took, `${profile} preset`).toBeDefined();
      expect((await joins).every((r) => r === 1)).toBe(true);
      await cluster.shutdown();
    }
  });

  it('a crashed node is suspected, then declared dead by every other node within the bound the formulas give', async () => {
    cluster = new SimulatedCluster({ seed: 5, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(20);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
    const victim = cluster.nodes[7] as MemberlistNode;
    const others = cluster.nodes.filter((n) => n !== victim);
    const cfg = victim.config;
    await cluster.crash(victim);
    const start = cluster.clock.now();
    let firstSuspect: number | undefined;
    const allDead = await cluster.runUntil(() => {
      if (firstSuspect === undefined && others.some((n) => stateOf(n, victim.name) === 'suspect')) firstSuspect = cluster.clock.now() - start;
      return others.every((n) => stateOf(n, victim.name) === 'dead');
    }, 120_000);
    const min = suspicionTimeoutMs(cfg.suspicionMult, 20, cfg.probeIntervalMs);
    const max = cfg.suspicionMaxTimeoutMult * min;
    expect(firstSuspect).toBeDefined();
    // Someone probes the victim within a couple of intervals; the probe fails at the interval's end.
    expect(firstSuspect as number).toBeLessThanOrEqual(3 * cfg.probeIntervalMs);
    expect(allDead).toBeDefined();
    // At most the max suspicion timeout after the first suspicion, plus gossip spread.
    expect(allDead as number).toBeLessThanOrEqual((firstSuspect as number) + max + 5 * cfg.probeIntervalMs);
    // And no sooner than the min timeout: the formula's floor holds.
    expect(allDead as number).toBeGreaterThanOrEqual((firstSuspect as number) + min);
    for (const n of others) expect(n.numMembers()).toBe(19);
  });

  it('a suspected node that is alive refutes, and everyone sees it alive at a higher incarnation', async () => {
    cluster = new SimulatedCluster({ seed: 9, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(10);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
    const [accuser, target] = [cluster.nodes[1] as MemberlistNode, cluster.nodes[4] as MemberlistNode];
    const before = target.localMember?.incarnation ?? 0;
    accuser.send(actors.SuspectReceived.create({ suspect: { node: target.name, incarnation: before, from: accuser.name } }));
    await cluster.runFor(1);
    expect(stateOf(accuser, target.name)).toBe('suspect');
    const took = await cluster.runUntil(
      () => cluster.nodes.every((n) => stateOf(n, target.name) === 'alive' && (n.members().find((m) => m.name === target.name)?.incarnation ?? 0) > before),
      20_000,
    );
    expect(took).toBeDefined();
    expect(target.localMember?.incarnation).toBe(before + 1);
    // It refuted exactly once (each refutation also costs it a point of Lifeguard health, which its
    // next successful probes earn back).
    expect(target.metrics().protocol.refutations).toBe(1);
  });

  it('with 10% packet loss, 50 nodes see no false death in 10 virtual minutes', async () => {
    cluster = new SimulatedCluster({ seed: 21, network: { latencyMs: 2, jitterMs: 2 }, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(50);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 60_000)).toBeDefined();
    cluster.network.setLoss(0.1);
    let deaths = 0;
    for (const n of cluster.nodes) n.on('leave', () => deaths++);
    await cluster.runFor(10 * 60_000);
    expect(deaths).toBe(0);
    for (const n of cluster.nodes) expect(n.numMembers()).toBe(50);
  }, 120_000);

  it('a node that one peer cannot reach (a one-way link) is not declared dead, thanks to indirect probes', async () => {
    cluster = new SimulatedCluster({ seed: 13, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(8);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
    const [a, b] = [cluster.nodes[2] as MemberlistNode, cluster.nodes[5] as MemberlistNode];
    cluster.network.blockLink(a.advertiseAddress, b.advertiseAddress);
    let suspicions = 0;
    for (const n of cluster.nodes) n.on('suspect', ({ member }) => void (member.name === b.name && suspicions++));
    await cluster.runFor(120_000);
    expect(suspicions).toBe(0);
    for (const n of cluster.nodes) expect(stateOf(n, b.name)).toBe('alive');
  });

  it('a leave shows as left everywhere, not as a failure', async () => {
    cluster = new SimulatedCluster({ seed: 17, nodeOptions: { profile: 'lan' } });
    await cluster.addNodes(10);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
    const leaver = cluster.nodes[3] as MemberlistNode;
    const reasons: string[] = [];
    for (const n of cluster.nodes) if (n !== leaver) n.on('leave', ({ member, reason }) => void (member.name === leaver.name && reasons.push(reason)));
    const done = await cluster.drive(leaver.leave(10_000), 15_000);
    expect(done).toBe(true);
    await leaver.shutdown();
    const took = await cluster.runUntil(() => cluster.running().every((n) => stateOf(n, leaver.name) === 'left'), 10_000);
    expect(took).toBeDefined();
    expect(reasons).toEqual(new Array(9).fill('left'));
  });
});
