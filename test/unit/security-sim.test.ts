/**
 * Whole clusters with the security layers, on a MemoryNetwork and virtual time.
 *
 * Until createNode builds a LayeredCodec from the config, the layers are applied around each node's
 * transport (LayeredTransport, test/fuzz: the same FrameLayers the codec uses, on every datagram and every
 * stream frame), so real nodes run the real layers now. The second describe block runs the same
 * scenarios through the config (label, secretKey) and is skipped until createNode wires the codec.
 */
import { describe, expect, it } from 'vitest';
import { FrameLayers, type LayerOptions } from '../../src/codec/layers.js';
import type { MemberlistNode } from '../../src/node.js';
import { Keyring } from '../../src/security/keyring.js';
import { SimulatedCluster } from '../../src/testing/index.js';
import type { Endpoint } from '../../src/transport/transport.js';
import { LayeredTransport, layersWiredInCreateNode } from '../fuzz/layered-transport.js';

const K1 = new Uint8Array(16).fill(0x11);
const K2 = new Uint8Array(32).fill(0x22);
function layered(cluster: SimulatedCluster, options: LayerOptions, at?: Endpoint): LayeredTransport {
  return new LayeredTransport(cluster.network.createTransport(at ?? {}), new FrameLayers({ enableCompression: true, ...options }));
}

async function addLayered(cluster: SimulatedCluster, name: string, options: LayerOptions, at?: Endpoint): Promise<[MemberlistNode, LayeredTransport]> {
  const transport = layered(cluster, options, at);
  const [node] = await cluster.addNodes(1, { name, transport });
  return [node as MemberlistNode, transport];
}

function names(node: MemberlistNode): string[] {
  return node
    .members()
    .filter((m) => m.state === 'alive' || m.state === 'suspect')
    .map((m) => m.name)
    .sort();
}

async function joinExpectFailure(cluster: SimulatedCluster, node: MemberlistNode, seed: MemberlistNode): Promise<Error> {
  try {
    await cluster.drive(node.join([cluster.addressOf(seed)]), 60_000);
  } catch (err) {
    return err as Error;
  }
  throw new Error('join unexpectedly succeeded');
}

const profile = { profile: 'local' as const };

describe('clusters with the security layers (layers around the transport)', () => {
  it('two clusters with different labels on one network never merge, even when an address is reused', async () => {
    const cluster = new SimulatedCluster({ seed: 21, nodeOptions: profile });
    try {
      const blue: MemberlistNode[] = [];
      const green: MemberlistNode[] = [];
      const transports: LayeredTransport[] = [];
      for (let i = 0; i < 3; i++) {
        const [b, tb] = await addLayered(cluster, `blue-${i}`, { label: 'blue' });
        const [g, tg] = await addLayered(cluster, `green-${i}`, { label: 'green' });
        blue.push(b);
        green.push(g);
        transports.push(tb, tg);
      }
      for (const n of blue.slice(1)) await cluster.drive(n.join([cluster.addressOf(blue[0] as MemberlistNode)]), 60_000);
      for (const n of green.slice(1)) await cluster.drive(n.join([cluster.addressOf(green[0] as MemberlistNode)]), 60_000);
      await cluster.runFor(5_000);
      // A cross join is refused: the seed drops the labeled stream, and the joiner drops the reply.
      const err = await joinExpectFailure(cluster, green[1] as MemberlistNode, blue[0] as MemberlistNode);
      expect(err.message).toMatch(/label-mismatch|closed|timed out/);
      // Address reuse: blue-2 dies, and a green node comes up on its address. Blue keeps probing it.
      const reused = (blue[2] as MemberlistNode).advertiseAddress;
      await cluster.crash(blue[2] as MemberlistNode);
      cluster.network.restore(reused);
      const [intruder, ti] = await addLayered(cluster, 'green-3', { label: 'green' }, reused);
      transports.push(ti);
      await cluster.drive(intruder.join([cluster.addressOf(green[0] as MemberlistNode)]), 60_000);
      await cluster.runFor(60_000);
      const blueNames = ['blue-0', 'blue-1'];
      const greenNames = ['green-0', 'green-1', 'green-2', 'green-3'];
      for (const n of blue.slice(0, 2)) expect(names(n)).toEqual(blueNames);
      for (const n of [...green, intruder]) expect(names(n)).toEqual(greenNames);
      const mismatches = transports.reduce((sum, t) => sum + (t.drops.get('label-mismatch') ?? 0) + (t.drops.get('stream-label-mismatch') ?? 0), 0);
      expect(mismatches).toBeGreaterThan(0);
    } finally {
      await cluster.shutdown();
    }
  });

  it('an encrypted cluster converges, with rotation of the key on the running cluster', async () => {
    const cluster = new SimulatedCluster({ seed: 22, nodeOptions: profile });
    try {
      const rings: Keyring[] = [];
      const transports: LayeredTransport[] = [];
      for (let i = 0; i < 5; i++) {
        const keyring = new Keyring([K1]);
        rings.push(keyring);
        transports.push((await addLayered(cluster, `n-${i}`, { label: 'prod', keyring }))[1]);
      }
      await cluster.joinAll(0);
      expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
      for (const step of [(r: Keyring) => r.install(K2), (r: Keyring) => r.use(K2), (r: Keyring) => r.remove(K1)]) {
        for (const r of rings) {
          step(r);
          await cluster.runFor(2_000);
        }
      }
      await cluster.runFor(10_000);
      expect(cluster.converged()).toBe(true);
      for (const t of transports) {
        expect([...t.drops.keys()]).toEqual([]);
        expect(t.opened).toBeGreaterThan(20);
      }
      for (const n of cluster.nodes) expect(n.members().every((m) => m.state === 'alive')).toBe(true);
    } finally {
      await cluster.shutdown();
    }
  });

  it('a node with the wrong key cannot join and never enters the member table', async () => {
    const cluster = new SimulatedCluster({ seed: 23, nodeOptions: profile });
    try {
      const members: LayeredTransport[] = [];
      for (let i = 0; i < 3; i++) members.push((await addLayered(cluster, `n-${i}`, { keyring: new Keyring([K1]) }))[1]);
      await cluster.joinAll(0);
      const [outsider] = await addLayered(cluster, 'outsider', { keyring: new Keyring([K2]) });
      const err = await joinExpectFailure(cluster, outsider, cluster.nodes[0] as MemberlistNode);
      expect(err.message).toMatch(/decrypt-failed|closed/);
      await cluster.runFor(30_000);
      for (const n of cluster.nodes.slice(0, 3)) expect(names(n)).toEqual(['n-0', 'n-1', 'n-2']);
      expect(names(outsider)).toEqual(['outsider']);
      expect((members[0] as LayeredTransport).drops.get('stream-decrypt-failed')).toBeGreaterThan(0);
    } finally {
      await cluster.shutdown();
    }
  });
});

const wired = await layersWiredInCreateNode();

describe.skipIf(!wired)('clusters configured with label and secretKey (createNode wiring)', () => {
  it('two clusters with different labels never merge', async () => {
    const cluster = new SimulatedCluster({ seed: 31, nodeOptions: profile });
    try {
      const blue = await cluster.addNodes(2, { label: 'blue' });
      const green = await cluster.addNodes(2, { label: 'green' });
      await cluster.drive((blue[1] as MemberlistNode).join([cluster.addressOf(blue[0] as MemberlistNode)]), 60_000);
      await cluster.drive((green[1] as MemberlistNode).join([cluster.addressOf(green[0] as MemberlistNode)]), 60_000);
      await joinExpectFailure(cluster, green[0] as MemberlistNode, blue[0] as MemberlistNode);
      await cluster.runFor(30_000);
      for (const n of blue) expect(names(n)).toEqual(blue.map((b) => b.name).sort());
      for (const n of green) expect(names(n)).toEqual(green.map((g) => g.name).sort());
      expect((blue[0] as MemberlistNode).metrics().dropsIn['stream-label-mismatch']).toBeGreaterThan(0);
    } finally {
      await cluster.shutdown();
    }
  });

  it('an encrypted cluster converges and a node with the wrong key cannot join', async () => {
    const cluster = new SimulatedCluster({ seed: 32, nodeOptions: { ...profile, secretKey: K1, label: 'prod' } });
    try {
      await cluster.addNodes(4);
      await cluster.joinAll(0);
      expect(await cluster.runUntil(() => cluster.converged(), 30_000)).toBeDefined();
      const [outsider] = await cluster.addNodes(1, { name: 'outsider', secretKey: K2 });
      await joinExpectFailure(cluster, outsider as MemberlistNode, cluster.nodes[0] as MemberlistNode);
      await cluster.runFor(30_000);
      for (const n of cluster.nodes.slice(0, 4)) expect(names(n)).not.toContain('outsider');
      expect((cluster.nodes[0] as MemberlistNode).metrics().dropsIn['stream-decrypt-failed']).toBeGreaterThan(0);
    } finally {
      await cluster.shutdown();
    }
  });
});
