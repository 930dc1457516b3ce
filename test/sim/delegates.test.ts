import { afterEach, describe, expect, it } from 'vitest';
import type { Member, MemberlistNode } from '../../src/index.js';
import { SimulatedCluster } from '../../src/testing/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('delegates on virtual time', () => {
  let cluster: SimulatedCluster;
  afterEach(async () => cluster?.shutdown());

  it('localState and mergeRemoteState ride on every push-pull, join flag included', async () => {
    cluster = new SimulatedCluster({ seed: 41, nodeOptions: { pushPullIntervalMs: 5000 } });
    const merged: string[] = [];
    const mk = (name: string) => ({
      name,
      delegates: {
        localState: (join: boolean) => enc(`${name}:${join ? 'join' : 'sync'}`),
        mergeRemoteState: (buf: Uint8Array, join: boolean) => void merged.push(`${name}<-${dec(buf)}/${join}`),
      },
    });
    await cluster.addNodes(1, mk('a'));
    await cluster.addNodes(1, mk('b'));
    await cluster.joinAll(0);
    expect(merged).toEqual(expect.arrayContaining(['a<-b:join/true', 'b<-a:join/true']));
    await cluster.runFor(30_000);
    expect(merged.some((m) => m.endsWith(':sync/false'))).toBe(true);
  });

  it('authorizeMerge can refuse a join; the joiner gets the reason as its error', async () => {
    cluster = new SimulatedCluster({ seed: 42 });
    const [gate] = await cluster.addNodes(1, {
      name: 'gate',
      delegates: { authorizeMerge: (peers: readonly Member[]) => (peers.some((p) => p.name.startsWith('evil')) ? 'evil nodes not welcome' : undefined) },
    });
    const [evil] = await cluster.addNodes(1, { name: 'evil-1' });
    const [good] = await cluster.addNodes(1, { name: 'good-1' });
    const seed = cluster.addressOf(gate as MemberlistNode);
    const err = await cluster.drive((evil as MemberlistNode).join([seed]), 10_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_JOIN' });
    expect(String((err as Error).message)).toContain('evil nodes not welcome');
    expect(await cluster.drive((good as MemberlistNode).join([seed]), 10_000)).toBe(1);
    expect((gate as MemberlistNode).members().map((m) => m.name).sort()).toEqual(['gate', 'good-1']);
  });

  it('authorizeAlive can refuse a member: it never enters the table', async () => {
    cluster = new SimulatedCluster({ seed: 43 });
    await cluster.addNodes(1, { name: 'picky', delegates: { authorizeAlive: (m: Member) => (m.name === 'blocked' ? 'blocked by policy' : undefined) } });
    await cluster.addNodes(1, { name: 'blocked' });
    await cluster.addNodes(2);
    await cluster.joinAll(0);
    await cluster.runFor(20_000);
    const picky = cluster.nodes[0] as MemberlistNode;
    expect(picky.members().map((m) => m.name).sort()).toEqual(['node-0', 'node-1', 'picky']);
    expect(picky.metrics().hooks['authorizeAlive']?.calls).toBeGreaterThan(0);
  });

  it('ackPayload rides on acks and onPingComplete reports the member, round trip and payload', async () => {
    cluster = new SimulatedCluster({ seed: 44, network: { latencyMs: 3 } });
    const seen: Array<[string, number, string]> = [];
    await cluster.addNodes(1, { name: 'a', delegates: { ackPayload: () => enc('from-a') } });
    await cluster.addNodes(1, { name: 'b', delegates: { onPingComplete: (m: Member, rtt: number, p: Uint8Array) => void seen.push([m.name, rtt, dec(p)]) } });
    await cluster.joinAll(0);
    await cluster.runUntil(() => seen.length >= 3, 10_000);
    expect(seen.slice(0, 3)).toEqual([
      ['a', 6, 'from-a'],
      ['a', 6, 'from-a'],
      ['a', 6, 'from-a'],
    ]);
  });

  it('a throwing hook is caught, counted and logged; the node keeps working', async () => {
    cluster = new SimulatedCluster({ seed: 45 });
    await cluster.addNodes(1, {
      name: 'a',
      delegates: {
        localState: () => {
          throw new Error('boom');
        },
        ackPayload: () => {
          throw new Error('boom');
        },
      },
    });
    await cluster.addNodes(2);
    await cluster.joinAll(0);
    expect(await cluster.runUntil(() => cluster.converged(), 20_000)).toBeDefined();
    await cluster.runFor(5000);
    const a = cluster.nodes[0] as MemberlistNode;
    expect(a.metrics().hooks['localState']?.errors).toBeGreaterThan(0);
    expect(a.metrics().hooks['ackPayload']?.errors).toBeGreaterThan(0);
    expect(a.metrics().actors.every((s) => s.crashes === 0)).toBe(true);
  });

  it('invalid delegates are API misuse', async () => {
    cluster = new SimulatedCluster({ seed: 46 });
    await expect(cluster.addNodes(1, { delegates: { localState: 'nope' } as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
