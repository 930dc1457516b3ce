import { afterEach, describe, expect, it } from 'vitest';
import { actors, type Member, type MemberlistNode } from '../../src/index.js';
import { SimulatedCluster } from '../../src/testing/index.js';
import { toWireAddress } from '../../src/codec/address.js';

describe('node API on virtual time', () => {
  let cluster: SimulatedCluster;
  afterEach(async () => cluster.shutdown());

  it('fires our own join first (listeners given at creation see start-up), then the others in order', async () => {
    cluster = new SimulatedCluster({ seed: 4 });
    const seen: string[] = [];
    const [a] = await cluster.addNodes(1, { name: 'a', listeners: { join: ({ member }) => seen.push(member.name) } });
    await cluster.addNodes(2);
    await cluster.joinAll(0);
    await cluster.runUntil(() => cluster.converged(), 10_000);
    expect(seen[0]).toBe('a');
    expect(seen.slice(1).sort()).toEqual(['node-0', 'node-1']);
    expect(a?.localMember?.state).toBe('alive');
    expect(a?.localMember?.incarnation).toBe(1);
  });

  it('the async iterator yields events in order and ends at shutdown', async () => {
    cluster = new SimulatedCluster({ seed: 5 });
    const [a] = await cluster.addNodes(3);
    const it = (a as MemberlistNode).events();
    await cluster.joinAll(0);
    await cluster.runUntil(() => cluster.converged(), 10_000);
    const first = await it.next();
    const second = await it.next();
    expect([first.value?.type, second.value?.type]).toEqual(['join', 'join']);
    await cluster.shutdown();
    // Queued events are still delivered after shutdown, then the iterator ends.
    let rest = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) rest++;
    expect(rest).toBeLessThan(10);
  });

  it('reports a name conflict through the event and the notifyConflict hook, and keeps the existing entry', async () => {
    cluster = new SimulatedCluster({ seed: 6 });
    const conflicts: Array<[Member, Member]> = [];
    const [a] = await cluster.addNodes(1, { delegates: { notifyConflict: (e, o) => void conflicts.push([e, o]) } });
    const [b] = await cluster.addNodes(1);
    await cluster.joinAll(0);
    await cluster.runUntil(() => cluster.converged(), 10_000);
    const node = a as MemberlistNode;
    const events: string[] = [];
    node.on('conflict', ({ other }) => events.push(`${other.addr}:${other.port}`));
    const imposter = toWireAddress('127.9.9.9');
    node.send(
      actors.AliveReceived.create({
        alive: { node: b?.name, incarnation: 99, ipv4: imposter.ipv4, port: 7000, protocolMin: 1, protocolMax: 5, protocolCur: 2 },
      }),
    );
    await cluster.runFor(10);
    expect(events).toEqual(['127.9.9.9:7000']);
    expect(conflicts[0]?.[0].addr).toBe(b?.advertiseAddress.host);
    expect(node.members().find((m) => m.name === b?.name)?.addr).toBe(b?.advertiseAddress.host);
  });

  it('join() rejects with a JoinError carrying each seed cause when no seed answers', async () => {
    cluster = new SimulatedCluster({ seed: 8 });
    const [a] = await cluster.addNodes(1);
    const err = await cluster.drive((a as MemberlistNode).join(['127.200.0.1:7946', '127.200.0.2:7946']), 60_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_JOIN' });
    expect((err as { causes: unknown[] }).causes).toHaveLength(2);
  });

  it('invalid config throws ConfigError with a stable code; misuse throws InvalidArgumentError', async () => {
    cluster = new SimulatedCluster({ seed: 9 });
    await expect(cluster.addNodes(1, { probeIntervall: 5 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    const [a] = await cluster.addNodes(1);
    await expect((a as MemberlistNode).join([''])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('late actors', () => {
  it('an actor spawned on a running node that accepts MembersSnapshot gets the whole member table', async () => {
    const cluster = new SimulatedCluster({ seed: 12 });
    await cluster.addNodes(4);
    await cluster.joinAll(0);
    await cluster.runUntil(() => cluster.converged(), 10_000);
    const names: string[] = [];
    (cluster.nodes[2] as MemberlistNode).spawn({
      name: 'late',
      accepts: [actors.MembersSnapshot],
      receive: (m) => {
        if (m instanceof actors.MembersSnapshot && m.requester === 'late') for (const x of m.members) names.push(x.name ?? '');
      },
    });
    await cluster.runFor(1);
    expect(names.sort()).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    await cluster.shutdown();
  });
});

describe('SimulatedCluster stepping', () => {
  it('runUntil with a condition that never holds ends at the limit even on a fractional clock', async () => {
    const cluster = new SimulatedCluster({ seed: 1, network: { latencyMs: 0.2, jitterMs: 0.2 } });
    await cluster.addNodes(3);
    await cluster.joinAll(0);
    await cluster.runFor(1234.5678901);
    const took = await cluster.runUntil(() => false, 1000);
    expect(took).toBeUndefined();
    await cluster.runFor(0.1 + 0.2);
    await cluster.shutdown();
  });
});
