import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedCluster } from '../../src/testing/index.js';

/**
 * 1,000 full nodes (the production actors) on one MemoryNetwork and one VirtualClock. The figures at
 * this size and beyond are benchmarks (benchmarks/sim-scale.ts, RESULTS.md); this test proves only
 * that such a cluster converges, with assertions on virtual time (crash detection is tested at
 * smaller sizes in swim-core.test.ts and measured at 1,000+ nodes by the benchmark).
 *
 * Compression is off and steps run in 1 ms quanta (SimulatedCluster.stepQuantumMs) to keep the wall
 * time down (about 30 CPU-seconds for the joins on this machine's cores): with compression every
 * push-pull is deflated and inflated on the one test thread, which changes no protocol decision.
 */
const N = 1000;

describe('a 1,000-node simulation', () => {
  const cluster = new SimulatedCluster({
    seed: 7,
    stepQuantumMs: 1,
    network: { latencyMs: 0.2, jitterMs: 0.2 },
    nodeOptions: { profile: 'local', enableCompression: false },
  });
  afterAll(async () => cluster.shutdown());

  it(
    'joins 16 at a time through one seed and converges',
    async () => {
      await cluster.addNodes(N);
      // Alive counts kept from events: converged() would scan every member table at every step.
      // Seeded from numMembers(), not 1: a node's own 'join' event may still be on its way (the facade
      // handles its MemberChanged after addNodes returns), and counting it on top of a 1 made a node
      // look full with one member missing.
      const alive = Int32Array.from(cluster.nodes, (n) => n.numMembers());
      let full = 0;
      cluster.nodes.forEach((node, i) => {
        node.on('join', () => {
          if (++(alive[i] as number) === N) full++;
        });
        node.on('leave', () => {
          if ((alive[i] as number)-- === N) full--;
        });
      });
      const joins = cluster.startJoins(0, 16);
      const took = await cluster.runUntil(() => full === N, 60_000);
      expect(took, 'all 1,000 nodes list all 1,000 members').toBeDefined();
      // Every join call succeeded (each reached the seed).
      expect((await joins).every((r) => r === 1)).toBe(true);
      // The exact check once, at the end: every node sees exactly the 1,000 nodes as alive.
      expect(cluster.converged()).toBe(true);
    },
    180_000,
  );
});
