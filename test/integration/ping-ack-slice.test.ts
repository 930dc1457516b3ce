import { afterEach, describe, expect, it } from 'vitest';
import { actors, createNode, type Actor, type MemberlistNode } from '../../src/index.js';
import { toWireAddress } from '../../src/codec/address.js';

// Introduces `about` to `node` the way gossip would: an alive message delivered through the actors.
function tell(node: MemberlistNode, about: MemberlistNode): void {
  const addr = toWireAddress(about.advertiseAddress.host);
  node.send(
    actors.AliveReceived.create({
      alive: {
        node: about.name,
        incarnation: 1,
        ipv4: addr.ipv4,
        ipv6: addr.ipv6,
        port: about.advertiseAddress.port,
        protocolMin: 1,
        protocolMax: 5,
        protocolCur: 2,
      },
      from: { host: about.advertiseAddress.host, port: about.advertiseAddress.port },
    }),
  );
}

/** A custom actor that records completed pings and the pings this node received. */
function recorder(): { actor: Actor; completed: actors.PingCompleted[]; pings: actors.PingReceived[]; next(): Promise<void> } {
  const completed: actors.PingCompleted[] = [];
  const pings: actors.PingReceived[] = [];
  let wake: (() => void) | undefined;
  return {
    completed,
    pings,
    actor: {
      name: 'recorder',
      accepts: [actors.PingCompleted, actors.PingReceived],
      receive(m) {
        if (m instanceof actors.PingCompleted) completed.push(m);
        if (m instanceof actors.PingReceived) pings.push(m);
        wake?.();
      },
    },
    next: () => new Promise<void>((r) => (wake = r)),
  };
}

describe('ping/ack slice over real UDP on 127.0.0.1', () => {
  const nodes: MemberlistNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
  });

  it('two nodes told about each other ping and ack through the actors', async () => {
    const opts = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' as const, probeIntervalMs: 50, probeTimeoutMs: 25 };
    const a = await createNode({ ...opts, name: 'a' });
    const b = await createNode({ ...opts, name: 'b' });
    nodes.push(a, b);
    expect(a.address.port).toBeGreaterThan(0);
    expect(a.address.port).not.toBe(b.address.port);
    const ra = recorder();
    const rb = recorder();
    a.spawn(ra.actor);
    b.spawn(rb.actor);
    tell(a, b);
    tell(b, a);
    while (ra.completed.length < 3 || rb.completed.length < 3) await Promise.race([ra.next(), rb.next()]);
    expect(ra.completed.every((c) => c.node === 'b')).toBe(true);
    expect(rb.completed.every((c) => c.node === 'a')).toBe(true);
    expect(ra.completed[0]?.rttMs).toBeGreaterThanOrEqual(0);
    expect(ra.completed[0]?.rttMs).toBeLessThan(1000);
    // The custom actor on b saw a's pings addressed to b.
    expect(rb.pings.some((p) => p.ping?.sourceNode === 'a' && p.ping?.node === 'b')).toBe(true);
    expect(a.members().map((m) => m.name).sort()).toEqual(['a', 'b']);
    expect(a.metrics().messagesOut['ping']).toBeGreaterThanOrEqual(3);
    expect(b.metrics().messagesOut['ack']).toBeGreaterThanOrEqual(3);
  });

  it('shutdown releases everything and is idempotent; API calls after it throw ERR_NOT_RUNNING', async () => {
    const a = await createNode({ name: 'solo', bindAddr: '127.0.0.1', bindPort: 0 });
    await a.shutdown();
    await a.shutdown();
    expect(a.running).toBe(false);
    expect(() => a.spawn({ name: 'x', accepts: [], receive() {} })).toThrowError(expect.objectContaining({ code: 'ERR_NOT_RUNNING' }));
  });
});
