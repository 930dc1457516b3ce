import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { waitForCluster } from '../helpers/wait.js';

// Fast timings so the real-socket scenarios take seconds: same formulas, smaller base interval.
const FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2000,
};

const stateOf = (n: MemberlistNode, name: string): string | undefined => n.members().find((m) => m.name === name)?.state;

describe('SWIM core over real UDP/TCP on 127.0.0.1', () => {
  const nodes: MemberlistNode[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 10; i++) nodes.push(await createNode({ ...FAST, name: `real-${i}` }));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  it('10 nodes in one process join through one seed and converge', async () => {
    const seed = `127.0.0.1:${nodes[0]?.address.port}`;
    const reached = await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
    expect(reached.every((r) => r === 1)).toBe(true);
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 10), 20_000);
    for (const n of nodes) expect(n.members().map((m) => m.name).sort()).toEqual(nodes.map((x) => x.name).sort());
  });

  it('a node shut down without leaving is declared dead by all the others', async () => {
    const victim = nodes[9] as MemberlistNode;
    const others = nodes.slice(0, 9);
    await victim.shutdown();
    await waitForCluster(others, () => others.every((n) => stateOf(n, victim.name) === 'dead'), 30_000);
    for (const n of others) expect(n.numMembers()).toBe(9);
  });

  it('a node that leaves is seen as left by all the others', async () => {
    const leaver = nodes[8] as MemberlistNode;
    const others = nodes.slice(0, 8);
    const reasons: string[] = [];
    for (const n of others) n.on('leave', ({ member, reason }) => void (member.name === leaver.name && reasons.push(reason)));
    await leaver.leave(5000);
    await waitForCluster(others, () => others.every((n) => stateOf(n, leaver.name) === 'left'), 15_000);
    await leaver.shutdown();
    expect(reasons).toEqual(new Array(8).fill('left'));
  });
});
