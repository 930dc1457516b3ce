/**
 * Cluster-wide key rotation (node.keyManager, src/actors/key-manager) on a SimulatedCluster whose
 * nodes all start with the same AES key: install, use, remove driven from one node, acks per member.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import type { MemberlistNode } from '../../src/node.js';
import { SimulatedCluster } from '../../src/testing/index.js';

const OLD = new Uint8Array(16).fill(0x11);
const NEW = new Uint8Array(16).fill(0x22);
const N = 5;

let cluster: SimulatedCluster | undefined;
afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

function hex(keys: Uint8Array[]): string[] {
  return keys.map((k) => Buffer.from(k).toString('hex'));
}

async function start(seed: number): Promise<{ c: SimulatedCluster; nodes: MemberlistNode[]; suspicions: string[] }> {
  const c = new SimulatedCluster({ seed, nodeOptions: { profile: 'local', secretKey: OLD } });
  cluster = c;
  const suspicions: string[] = [];
  const nodes = await c.addNodes(N);
  for (const n of nodes) n.on('suspect', ({ member }) => suspicions.push(`${n.name} suspects ${member.name}`));
  await c.joinAll();
  expect(await c.runUntil(() => c.converged(), 30_000)).toBeDefined();
  return { c, nodes, suspicions };
}

describe('cluster-wide key rotation', () => {
  it('rotates every member to a new key in three steps, each acked by every member, with no false suspicion', async () => {
    const { c, nodes, suspicions } = await start(7);
    const origin = nodes[0] as MemberlistNode;
    const everyone = nodes.map((n) => n.name).sort();

    const installed = await c.drive(origin.keyManager.install(NEW), 30_000);
    expect(installed).toEqual({ acked: everyone, failed: [], missing: [] });
    for (const n of nodes) expect(hex(n.keyring?.list() ?? [])).toEqual(hex([OLD, NEW]));

    const used = await c.drive(origin.keyManager.use(NEW), 30_000);
    expect(used).toEqual({ acked: everyone, failed: [], missing: [] });
    for (const n of nodes) expect(hex([n.keyring?.primary ?? new Uint8Array(0)])).toEqual(hex([NEW]));

    const removed = await c.drive(origin.keyManager.remove(OLD), 30_000);
    expect(removed).toEqual({ acked: everyone, failed: [], missing: [] });

    await c.runFor(30_000);
    for (const n of nodes) expect(hex(n.keyring?.list() ?? [])).toEqual(hex([NEW]));
    expect(c.converged()).toBe(true);
    expect(suspicions).toEqual([]);
    // No traffic was lost to a key mismatch during the rotation.
    for (const n of nodes) expect(n.metrics().dropsIn['decrypt-failed'] ?? 0).toBe(0);
  });

  it('reports the members where a step fails, with the reason', async () => {
    const { c, nodes, suspicions } = await start(8);
    const origin = nodes[0] as MemberlistNode;
    const others = nodes.slice(1).map((n) => n.name).sort();
    await c.drive(origin.keyManager.install(NEW), 30_000);
    // Only the origin switches (locally): a cluster-wide remove of OLD before a cluster-wide use is a
    // remove of every other member's primary, which they refuse. The origin then keeps OLD too.
    origin.keyring?.use(NEW);
    const removed = await c.drive(origin.keyManager.remove(OLD), 30_000);
    expect(removed.acked).toEqual([]);
    expect(removed.missing).toEqual([]);
    expect(removed.failed.map((f) => f.node)).toEqual([origin.name, ...others]);
    for (const f of removed.failed.slice(1)) expect(f.error).toMatch(/cannot remove the primary key/);
    expect(removed.failed[0]?.error).toMatch(/kept here: 4 member\(s\) refused/);
    for (const n of nodes) expect(hex(n.keyring?.list() ?? []).sort()).toEqual(hex([OLD, NEW]).sort());

    // A step that would fail on the origin itself is not sent at all.
    const stray = new Uint8Array(16).fill(0x33);
    const local = await c.drive(origin.keyManager.use(stray), 30_000);
    expect(local.acked).toEqual([]);
    expect(local.missing).toEqual([]);
    expect(local.failed).toHaveLength(1);
    expect(local.failed[0]?.node).toBe(origin.name);
    expect(local.failed[0]?.error).toMatch(/not installed/);
    for (const n of nodes.slice(1)) expect(n.keyring?.has(stray)).toBe(false);

    // The cluster recovers: use, then remove, cluster-wide.
    expect((await c.drive(origin.keyManager.use(NEW), 30_000)).failed).toEqual([]);
    expect((await c.drive(origin.keyManager.remove(OLD), 30_000)).failed).toEqual([]);
    await c.runFor(10_000);
    for (const n of nodes) expect(hex(n.keyring?.list() ?? [])).toEqual(hex([NEW]));
    expect(c.converged()).toBe(true);
    expect(suspicions).toEqual([]);
  });

  it('reports a crashed member as missing', async () => {
    const { c, nodes } = await start(9);
    const origin = nodes[0] as MemberlistNode;
    const victim = nodes[3] as MemberlistNode;
    await c.crash(victim);
    const installed = await c.drive(origin.keyManager.install(NEW, { timeoutMs: 2_000 }), 30_000);
    expect(installed.missing).toEqual([victim.name]);
    expect(installed.failed).toEqual([]);
    expect(installed.acked).toEqual(nodes.filter((n) => n !== victim).map((n) => n.name).sort());
  });

  it('asks a member that joins while a step is open, after the epidemic is over', async () => {
    const { c, nodes } = await start(11);
    const origin = nodes[0] as MemberlistNode;
    // The victim's datagrams to the origin are lost (its key ack too), while the others still vouch
    // for it: it stays alive, so the step stays open until its timeout.
    const victim = nodes[2] as MemberlistNode;
    c.network.blockLink(victim.advertiseAddress, origin.advertiseAddress);
    const step = origin.keyManager.install(NEW, { timeoutMs: 8_000 });
    await c.runFor(3_000);
    const [late] = await c.addNodes(1, { name: 'late' });
    await c.drive((late as MemberlistNode).join([c.addressOf(nodes[1] as MemberlistNode)]), 10_000);
    const installed = await c.drive(step, 30_000);
    expect(installed.acked).toEqual([...nodes.filter((n) => n !== victim).map((n) => n.name), 'late'].sort());
    expect(installed.missing).toEqual([victim.name]);
    expect(hex((late as MemberlistNode).keyring?.list() ?? [])).toEqual(hex([OLD, NEW]));
  });

  it('refuses without a keyring, and refuses a bad key', async () => {
    const c = new SimulatedCluster({ seed: 10, nodeOptions: { profile: 'local' } });
    cluster = c;
    const [plain] = await c.addNodes(1);
    await expect((plain as MemberlistNode).keyManager.install(NEW)).rejects.toThrow(InvalidArgumentError);
    const [enc] = await c.addNodes(1, { secretKey: OLD });
    await expect((enc as MemberlistNode).keyManager.install(new Uint8Array(7))).rejects.toThrow(InvalidArgumentError);
    // A lone node acks its own step at once.
    expect(await c.drive((enc as MemberlistNode).keyManager.install(NEW), 10_000)).toEqual({ acked: [(enc as MemberlistNode).name], failed: [], missing: [] });
  });
});
