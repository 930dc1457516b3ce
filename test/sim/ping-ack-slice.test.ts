import { afterEach, describe, expect, it } from 'vitest';
import { actors, type Actor } from '../../src/index.js';
import { SimulatedCluster } from '../../src/testing/index.js';
import { introduce } from '../helpers/introduce.js';

describe('ping/ack slice on the MemoryNetwork and virtual time', () => {
  let cluster: SimulatedCluster;
  afterEach(async () => cluster.shutdown());

  it('two nodes told about each other ping and ack through the actors, with round trips equal to the link latency', async () => {
    cluster = new SimulatedCluster({ seed: 7, network: { latencyMs: 5 }, nodeOptions: { profile: 'lan' } });
    const [a, b] = await cluster.addNodes(2);
    if (a === undefined || b === undefined) throw new Error('nodes');
    const completed: actors.PingCompleted[] = [];
    const recorder: Actor = {
      name: 'recorder',
      accepts: [actors.PingCompleted],
      receive: (m) => void (m instanceof actors.PingCompleted && completed.push(m)),
    };
    a.spawn(recorder);
    introduce(a, b);
    introduce(b, a);
    // LAN probes once a second: 10 virtual seconds give about 10 probes.
    const took = await cluster.runUntil(() => completed.length >= 10, 12_000);
    expect(took).toBeDefined();
    expect(completed.every((c) => c.node === b.name)).toBe(true);
    // ping one way (5 ms) + ack back (5 ms): exactly 10 ms on virtual time.
    expect(completed.map((c) => c.rttMs)).toEqual(new Array(completed.length).fill(10));
    expect(a.metrics().messagesOut['ping']).toBeGreaterThanOrEqual(10);
    expect(b.metrics().messagesIn['ping']).toBeGreaterThanOrEqual(10);
  });

  it('a custom actor receives pings and sends its own messages, which other actors receive', async () => {
    cluster = new SimulatedCluster({ seed: 3 });
    const [a, b] = await cluster.addNodes(2);
    if (a === undefined || b === undefined) throw new Error('nodes');
    const seen: string[] = [];
    // On b: every ping it receives is reported as a ProbeFailed of its own making (any message type
    // may be sent), and a second custom actor receives those.
    b.spawn({
      name: 'ping-watcher',
      accepts: [actors.PingReceived],
      start(ctx) {
        this.ctx = ctx;
      },
      receive(m) {
        if (m instanceof actors.PingReceived) this.ctx?.send(actors.ProbeFailed.create({ node: m.ping?.sourceNode ?? '', seqNo: m.ping?.seqNo ?? 0 }));
      },
    } as Actor & { ctx?: Parameters<NonNullable<Actor['start']>>[0] });
    b.spawn({ name: 'listener', accepts: [actors.ProbeFailed], receive: (m) => void (m instanceof actors.ProbeFailed && seen.push(m.node)) });
    introduce(a, b);
    introduce(b, a);
    await cluster.runUntil(() => seen.length >= 3, 10_000);
    expect(seen.slice(0, 3)).toEqual([a.name, a.name, a.name]);
  });

  it('the same seed gives the same run', async () => {
    const run = async (): Promise<number[]> => {
      const c = new SimulatedCluster({ seed: 42, network: { latencyMs: 2, jitterMs: 3 } });
      const nodes = await c.addNodes(3);
      for (const x of nodes) for (const y of nodes) if (x !== y) introduce(x, y);
      const rtts: number[] = [];
      nodes[0]?.spawn({ name: 'r', accepts: [actors.PingCompleted], receive: (m) => void (m instanceof actors.PingCompleted && rtts.push(m.rttMs)) });
      await c.runFor(5000);
      await c.shutdown();
      return rtts;
    };
    cluster = new SimulatedCluster();
    const first = await run();
    expect(first.length).toBeGreaterThan(2);
    expect(await run()).toEqual(first);
  });
});
