import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MemberlistNode, NodeEventMap } from '../../src/index.js';
import { SimulatedCluster } from '../../src/testing/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function formed(size: number, seed: number, overrides: Parameters<SimulatedCluster['addNodes']>[1] = {}): Promise<SimulatedCluster> {
  const c = new SimulatedCluster({ seed, network: { latencyMs: 1, jitterMs: 1 }, nodeOptions: { profile: 'lan' } });
  await c.addNodes(size, overrides);
  await c.joinAll(0);
  if ((await c.runUntil(() => c.converged(), 30_000)) === undefined) throw new Error('did not converge');
  return c;
}

function collect(nodes: readonly MemberlistNode[]): Map<string, NodeEventMap['message'][]> {
  const got = new Map<string, NodeEventMap['message'][]>();
  for (const n of nodes) {
    got.set(n.name, []);
    n.on('message', (m) => got.get(n.name)?.push(m));
  }
  return got;
}

describe('user data on virtual time', () => {
  let cluster: SimulatedCluster;
  afterEach(async () => cluster?.shutdown());

  it('updateMeta raises our incarnation and every node fires update with the old and new member', async () => {
    cluster = await formed(8, 31, { meta: enc('v1') });
    const node = cluster.nodes[3] as MemberlistNode;
    const updates: string[] = [];
    for (const n of cluster.nodes) n.on('update', ({ old, member }) => void (member.name === node.name && updates.push(`${n.name}:${dec(old.meta)}->${dec(member.meta)}`)));
    const before = node.localMember?.incarnation ?? 0;
    const done = await cluster.drive(node.updateMeta(enc('v2')), 20_000);
    expect(done).toBe(true);
    await cluster.runUntil(() => updates.length === 8, 10_000);
    expect(updates.sort()).toEqual(cluster.nodes.map((n) => `${n.name}:v1->v2`).sort());
    expect(node.localMember?.incarnation).toBe(before + 1);
    for (const n of cluster.nodes) expect(dec(n.members().find((m) => m.name === node.name)?.meta ?? new Uint8Array())).toBe('v2');
  });

  it('rejects meta above metaMaxSize with a clear error', async () => {
    cluster = await formed(2, 32);
    await expect((cluster.nodes[0] as MemberlistNode).updateMeta(new Uint8Array(513))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('a broadcast reaches every other node exactly once, and completes after its retransmit limit', async () => {
    cluster = await formed(20, 33);
    const got = collect(cluster.nodes);
    const sender = cluster.nodes[5] as MemberlistNode;
    const completed = await cluster.drive(sender.broadcast(enc('hello')), 30_000);
    expect(completed).toBe(true);
    await cluster.runFor(10_000);
    for (const n of cluster.nodes) {
      const msgs = got.get(n.name) ?? [];
      if (n === sender) expect(msgs).toEqual([]);
      else expect(msgs.map((m) => [dec(m.payload), m.via, m.from])).toEqual([['hello', 'broadcast', sender.name]]);
    }
  });

  it('a later broadcast with the same key replaces the queued one (the older one completes as not transmitted)', async () => {
    // A node alone has nobody to gossip to: both broadcasts meet in its queue.
    cluster = new SimulatedCluster({ seed: 34 });
    const [sender] = await cluster.addNodes(1);
    const first = (sender as MemberlistNode).broadcast(enc('v1'), { key: 'config' });
    const second = (sender as MemberlistNode).broadcast(enc('v2'), { key: 'config' });
    const other = (sender as MemberlistNode).broadcast(enc('other'), { key: 'other' });
    expect(await cluster.drive(first, 1000)).toBe(false);
    // The newer one and the other key are still queued, waiting for members.
    let pending = 0;
    void second.then(() => pending++);
    void other.then(() => pending++);
    await cluster.runFor(5000);
    expect(pending).toBe(0);
  });

  it('sendBestEffort and sendReliable deliver once with how they came; unknown or dead members and oversize payloads are refused', async () => {
    cluster = await formed(4, 35);
    const got = collect(cluster.nodes);
    const [a, b] = [cluster.nodes[0] as MemberlistNode, cluster.nodes[2] as MemberlistNode];
    await a.sendBestEffort(b.name, enc('udp'));
    await cluster.drive(a.sendReliable(b.name, enc('tcp')), 10_000);
    await cluster.runFor(100);
    expect((got.get(b.name) ?? []).map((m) => [dec(m.payload), m.via, m.from]).sort()).toEqual([
      ['tcp', 'reliable', a.name],
      ['udp', 'best-effort', a.name],
    ]);
    await expect(a.sendBestEffort('nobody', enc('x'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(a.sendBestEffort(b.name, new Uint8Array(2000))).rejects.toThrow(/udpBufferSize/);
    // A large payload goes reliably.
    const big = new Uint8Array(200_000).fill(7);
    await cluster.drive(a.sendReliable(b.name, big), 10_000);
    await cluster.runFor(100);
    expect((got.get(b.name) ?? []).at(-1)?.payload.length).toBe(200_000);
    const victim = cluster.nodes[3] as MemberlistNode;
    await cluster.crash(victim);
    await cluster.runUntil(() => a.members().find((m) => m.name === victim.name)?.state === 'dead', 60_000);
    await expect(a.sendReliable(victim.name, enc('x'))).rejects.toThrow(/dead/);
  });

  it('property: for any mix of keyed broadcasts from many nodes, every node receives each surviving broadcast exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ sender: fc.integer({ min: 0, max: 5 }), key: fc.constantFrom('', 'a', 'b'), gapMs: fc.integer({ min: 0, max: 400 }) }), { minLength: 1, maxLength: 12 }),
        async (plan) => {
          const c = await formed(6, 36);
          try {
            const got = collect(c.nodes);
            const sent: Array<{ sender: string; key: string; payload: string }> = [];
            for (const [i, step] of plan.entries()) {
              const node = c.nodes[step.sender] as MemberlistNode;
              const payload = `m${i}`;
              sent.push({ sender: node.name, key: step.key, payload });
              void node.broadcast(enc(payload), { key: step.key });
              await c.runFor(step.gapMs);
            }
            await c.runFor(20_000);
            // Surviving: keyless ones, and the last one per (sender, key).
            const last = new Map<string, string>();
            for (const s of sent) if (s.key !== '') last.set(`${s.sender}/${s.key}`, s.payload);
            const surviving = sent.filter((s) => s.key === '' || last.get(`${s.sender}/${s.key}`) === s.payload);
            for (const n of c.nodes) {
              const payloads = (got.get(n.name) ?? []).map((m) => dec(m.payload));
              // Never twice.
              expect(new Set(payloads).size).toBe(payloads.length);
              for (const s of surviving) if (s.sender !== n.name) expect(payloads).toContain(s.payload);
              // A replaced broadcast may have been delivered before it was replaced, never after its successor.
              for (const s of sent) {
                if (s.key === '' || s.sender === n.name) continue;
                const newer = last.get(`${s.sender}/${s.key}`) as string;
                if (s.payload !== newer && payloads.includes(s.payload)) {
                  expect(payloads.indexOf(s.payload)).toBeLessThan(payloads.indexOf(newer));
                }
              }
            }
          } finally {
            await c.shutdown();
          }
        },
      ),
      { numRuns: 15, seed: 7 },
    );
  }, 120_000);
});
