/**
 * Nodes created with `wire: 'memberlist'` form a cluster among themselves over real UDP/TCP on
 * 127.0.0.1: join (push-pull over memberlist's unframed streams), probing, user data, a kill
 * detected, a leave recorded as left; encrypted with a label, and refused across a wrong key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { waitForCluster } from '../helpers/wait.js';
import { MEMBERLIST_WIRE_FAST } from '../helpers/memberlist-wire-timing.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const FAST = MEMBERLIST_WIRE_FAST;

const alive = (n: MemberlistNode): string[] =>
  n
    .members()
    .filter((m) => m.state === 'alive')
    .map((m) => m.name)
    .sort();

describe("wire: 'memberlist' between our own nodes", () => {
  const nodes: MemberlistNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
  });

  async function start(count: number, extra: Record<string, unknown> = {}, prefix = 'mw'): Promise<MemberlistNode[]> {
    const out: MemberlistNode[] = [];
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${i}`;
      const node = await createNode({
        ...FAST,
        ...extra,
        name,
        meta: enc(`meta-${name}`),
        delegates: { localState: () => enc(`state-${name}`) },
      });
      nodes.push(node);
      out.push(node);
    }
    return out;
  }

  it('converges, carries meta and user messages, detects a kill, records a leave', async () => {
    const cluster = await start(4);
    const seed = `127.0.0.1:${cluster[0]!.address.port}`;
    for (const n of cluster.slice(1)) await n.join([seed]);
    const names = cluster.map((n) => n.name).sort();
    await waitForCluster(cluster, () => cluster.every((n) => alive(n).join() === names.join()), 10_000);
    expect(dec(cluster[3]!.members().find((m) => m.name === 'mw-0')!.meta)).toBe('meta-mw-0');

    const got: string[] = [];
    cluster[1]!.on('message', (m) => got.push(`${m.via}:${dec(m.payload)}`));
    await cluster[0]!.sendReliable('mw-1', enc('reliable'));
    await cluster[2]!.sendBestEffort('mw-1', enc('best-effort'));
    await waitForCluster(cluster, () => got.length >= 2, 5000, ['join', 'leave', 'suspect', 'alive', 'update', 'message']);
    expect(got.sort()).toEqual(['best-effort:best-effort', 'reliable:reliable']);

    const leaver = cluster[3]!;
    await leaver.leave(2000);
    const state = (n: MemberlistNode, name: string): string | undefined => n.members().find((m) => m.name === name)?.state;
    await waitForCluster(cluster.slice(0, 3), () => cluster.slice(0, 3).every((n) => state(n, 'mw-3') === 'left'), 10_000);

    const victim = cluster[2]!;
    await victim.shutdown();
    await waitForCluster(cluster.slice(0, 2), () => cluster.slice(0, 2).every((n) => state(n, 'mw-2') === 'dead'), 15_000);
  });

  it('encrypted with a label: joins with the same key and label, refuses a wrong key and a wrong label', async () => {
    const [a, b] = await start(2, { secretKey: KEY, label: 'blue' }, 'enc');
    await b!.join([`127.0.0.1:${a!.address.port}`]);
    await waitForCluster([a!, b!], () => alive(a!).length === 2 && alive(b!).length === 2, 5000);

    const [wrongKey] = await start(1, { secretKey: new Uint8Array(16).fill(7), label: 'blue' }, 'wk');
    await expect(wrongKey!.join([`127.0.0.1:${a!.address.port}`])).rejects.toThrow();
    const [wrongLabel] = await start(1, { secretKey: KEY, label: 'red' }, 'wl');
    await expect(wrongLabel!.join([`127.0.0.1:${a!.address.port}`])).rejects.toThrow();
    expect(alive(a!)).toEqual(['enc-0', 'enc-1']);
  });
});
