import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type Member, type MemberlistNode, type NodeEventMap } from '../../src/index.js';
import { waitForCluster } from '../helpers/wait.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  pushPullIntervalMs: 1000,
};

/** Resolves when `check` holds, re-checked whenever `poke` is called (a hook saw something). */
function watcher(check: () => boolean): { poke(): void; until(limitMs: number): Promise<void> } {
  let wake: (() => void) | undefined;
  return {
    poke: () => wake?.(),
    until: (limitMs) =>
      new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`not reached within ${limitMs} ms`)), limitMs);
        wake = () => {
          if (check()) {
            clearTimeout(guard);
            resolve();
          }
        };
        wake();
      }),
  };
}

describe('user data over real UDP/TCP on 127.0.0.1', () => {
  const nodes: MemberlistNode[] = [];
  const messages = new Map<string, NodeEventMap['message'][]>();
  const merged: string[] = [];
  const pings: Array<[string, string]> = [];
  const pingWatch = watcher(() => pings.length >= 3);
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const name = `ud-${i}`;
      const node = await createNode({
        ...FAST,
        name,
        meta: enc(`${name}:v1`),
        delegates: {
          localState: () => enc(`state-of-${name}`),
          mergeRemoteState: (buf: Uint8Array, join: boolean) => void (join && merged.push(`${name}<-${dec(buf)}`)),
          ackPayload: () => enc(`ack-from-${name}`),
          onPingComplete: (m: Member, _rtt: number, p: Uint8Array) => {
            pings.push([m.name, dec(p)]);
            pingWatch.poke();
          },
        },
      });
      messages.set(name, []);
      node.on('message', (m) => messages.get(name)?.push(m));
      nodes.push(node);
    }
    const seed = `127.0.0.1:${nodes[0]?.address.port}`;
    await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 5), 20_000);
  });
  afterAll(async () => {
    for (const n of nodes) {
      const t = setTimeout(() => console.log('HANG', n.name, JSON.stringify(process.getActiveResourcesInfo())), 5000);
      await n.shutdown();
      clearTimeout(t);
    }
  });

  it('push-pull carried localState into mergeRemoteState at join, and acks carried ackPayload to onPingComplete', async () => {
    expect(merged).toEqual(expect.arrayContaining(['ud-1<-state-of-ud-0', 'ud-0<-state-of-ud-1']));
    await pingWatch.until(10_000);
    for (const [name, payload] of pings) expect(payload).toBe(`ack-from-${name}`);
  });

  it('a broadcast reaches every other node exactly once', async () => {
    const sender = nodes[2] as MemberlistNode;
    await sender.broadcast(enc('cluster-wide'));
    const others = nodes.filter((n) => n !== sender);
    const got = (n: MemberlistNode): number => (messages.get(n.name) ?? []).filter((m) => m.via === 'broadcast').length;
    await waitForCluster(others, () => others.every((n) => got(n) === 1), 10_000, ['message']);
    for (const n of others) expect((messages.get(n.name) ?? []).filter((m) => m.via === 'broadcast').map((m) => [dec(m.payload), m.from])).toEqual([['cluster-wide', sender.name]]);
  });

  it('sendBestEffort and sendReliable arrive and say how they came', async () => {
    const [a, b] = [nodes[0] as MemberlistNode, nodes[4] as MemberlistNode];
    await a.sendReliable(b.name, enc('over-tcp'));
    await a.sendBestEffort(b.name, enc('over-udp'));
    const direct = (): NodeEventMap['message'][] => (messages.get(b.name) ?? []).filter((m) => m.via !== 'broadcast');
    await waitForCluster([b], () => direct().length === 2, 10_000, ['message']);
    expect(direct().map((m) => [dec(m.payload), m.via, m.from]).sort()).toEqual([
      ['over-tcp', 'reliable', a.name],
      ['over-udp', 'best-effort', a.name],
    ]);
  });

  it('updateMeta fires update with the old and new member on every node', async () => {
    const node = nodes[3] as MemberlistNode;
    const updates: string[] = [];
    for (const n of nodes) n.on('update', ({ old, member }) => void (member.name === node.name && updates.push(`${dec(old.meta)}->${dec(member.meta)}`)));
    await node.updateMeta(enc('ud-3:v2'));
    await waitForCluster(nodes, () => updates.length === 5, 10_000, ['update']);
    expect(updates).toEqual(new Array(5).fill('ud-3:v1->ud-3:v2'));
  });
});
