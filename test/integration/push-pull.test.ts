/**
 * Push/pull and join over real TCP on 127.0.0.1 (port 0): each node is a Supervisor with a
 * NetworkActor, a PushPullActor and a stub membership actor that publishes its own entry and records
 * the claims the merge sends it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { actors, wire } from '../../src/gen/index.js';
import { NetworkActor } from '../../src/actors/network/network-actor.js';
import { PushPullActor, type PushPullOptions } from '../../src/actors/push-pull/push-pull-actor.js';
import { RealClock } from '../../src/clock.js';
import { fromWireAddress } from '../../src/codec/address.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor, ActorContext } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { NetTransport } from '../../src/transport/net-transport.js';

const VSN = { protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 0, delegateMax: 0, delegateCur: 0 };

/**
 * A membership stand-in: publishes our own entry (and any `extra` entries) at start, applies alive
 * claims about new members or newer incarnations (so the push-pull mirror learns them), and records
 * every claim it receives.
 */
class StubMembership implements Actor {
  readonly name = 'membership';
  readonly accepts = [actors.AliveReceived, actors.SuspectReceived, actors.DeadReceived, actors.JoinResult];
  readonly alives: actors.AliveReceived[] = [];
  readonly suspects: actors.SuspectReceived[] = [];
  readonly deads: actors.DeadReceived[] = [];
  readonly joins: actors.JoinResult[] = [];
  readonly #table = new Map<string, actors.Member>();
  #ctx!: ActorContext;

  constructor(
    private readonly self: actors.Member.$Properties,
    private readonly extra: actors.Member.$Properties[] = [],
  ) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#publish(actors.Member.create(this.self), true);
    for (const m of this.extra) this.#publish(actors.Member.create(m), false);
  }

  receive(m: object): void {
    if (m instanceof actors.JoinResult) this.joins.push(m);
    else if (m instanceof actors.SuspectReceived) this.suspects.push(m);
    else if (m instanceof actors.DeadReceived) this.deads.push(m);
    else if (m instanceof actors.AliveReceived) {
      this.alives.push(m);
      const a = m.alive;
      if (!a?.node) return;
      const known = this.#table.get(a.node);
      if (known !== undefined && known.incarnation >= (a.incarnation ?? 0)) return;
      this.#publish(
        actors.Member.create({
          name: a.node,
          addr: { host: fromWireAddress(a.ipv4, a.ipv6) ?? '', port: a.port ?? 0 },
          incarnation: a.incarnation ?? 0,
          state: wire.MemberState.ALIVE,
          protocolMin: a.protocolMin ?? 0,
          protocolMax: a.protocolMax ?? 0,
          protocolCur: a.protocolCur ?? 0,
          delegateMin: a.delegateMin ?? 0,
          delegateMax: a.delegateMax ?? 0,
          delegateCur: a.delegateCur ?? 0,
        }),
        false,
      );
    }
  }

  #publish(member: actors.Member, local: boolean): void {
    this.#table.set(member.name, member);
    this.#ctx.send(actors.MemberChanged.create({ member, local, numMembers: this.#table.size }));
  }
}

interface TestNode {
  name: string;
  port: number;
  transport: NetTransport;
  supervisor: Supervisor;
  pushPull: PushPullActor;
  membership: StubMembership;
}

async function waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('push/pull and join over TCP on 127.0.0.1', () => {
  const nodes: TestNode[] = [];

  afterEach(async () => {
    for (const n of nodes.splice(0)) {
      await n.supervisor.stop();
      await n.transport.shutdown();
    }
  });

  async function node(name: string, options: Partial<PushPullOptions> = {}, extra: actors.Member.$Properties[] = []): Promise<TestNode> {
    const clock = new RealClock();
    const transport = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0, clock });
    const port = transport.localAddress.port;
    const supervisor = new Supervisor({ nodeName: name, clock, random: new SeededRandom(name.length), logger: silentLogger() });
    const pushPull = new PushPullActor({
      name,
      pushPullIntervalMs: 0,
      tcpTimeoutMs: 2_000,
      maxPushPullEntries: 1_000,
      defaultPort: port,
      ...options,
    });
    const membership = new StubMembership(
      { name, addr: { host: '127.0.0.1', port }, incarnation: 1, state: wire.MemberState.ALIVE, ...VSN },
      extra,
    );
    supervisor.spawn(new NetworkActor(transport, new ProtobufCodec(), { name, streamTimeoutMs: 2_000 }));
    supervisor.spawn(pushPull);
    supervisor.spawn(membership);
    supervisor.start();
    const n = { name, port, transport, supervisor, pushPull, membership };
    nodes.push(n);
    return n;
  }

  function join(n: TestNode, seeds: string[]): void {
    n.supervisor.send(actors.JoinRequest.create({ requestId: 11, seeds }));
  }

  it('a push/pull exchanges states both ways', async () => {
    // a also knows a dead member; b learns it only as a suspicion accused by b itself.
    const a = await node('a', {}, [
      { name: 'ghost', addr: { host: '127.0.0.9', port: 9 }, incarnation: 4, state: wire.MemberState.DEAD, ...VSN },
    ]);
    const b = await node('b');
    join(a, [`127.0.0.1:${b.port}`]);
    await waitFor(() => a.membership.joins.length === 1);
    expect(a.membership.joins[0]).toMatchObject({ requestId: 11, reached: 1 });
    expect(a.membership.joins[0]?.seeds).toEqual([
      expect.objectContaining({ seed: `127.0.0.1:${b.port}`, address: `127.0.0.1:${b.port}`, error: '' }),
    ]);
    // a merged b's state, which held only b: the server replies before it merges.
    expect(a.membership.alives.map((m) => m.alive?.node)).toEqual(['b']);
    expect(a.membership.alives[0]?.alive).toMatchObject({ incarnation: 1, port: b.port, protocolCur: 2 });
    expect(a.membership.alives[0]?.from?.port).toBe(b.port);
    // b merged a's state: a's alive, and the dead ghost downgraded to a suspicion from b.
    await waitFor(() => b.membership.alives.length === 1 && b.membership.suspects.length === 1);
    expect(b.membership.alives[0]?.alive).toMatchObject({ node: 'a', incarnation: 1, port: a.port });
    expect(b.membership.suspects[0]?.suspect).toMatchObject({ node: 'ghost', incarnation: 4, from: 'b' });
    expect(a.pushPull.counters).toMatchObject({ sent: 1, received: 0, failed: 0, entriesMerged: 1, entriesSkipped: 0 });
    expect(b.pushPull.counters).toMatchObject({ sent: 0, received: 1, failed: 0, entriesMerged: 2 });
    expect(a.pushPull.counters.lastDurationMs).toBeGreaterThan(0);
    // The mirrors learned each other through the stub's MemberChanged.
    await waitFor(() => a.pushPull.mirrorSize === 3 && b.pushPull.mirrorSize === 2);
  });

  it('periodic push/pull picks an alive member every interval', async () => {
    const a = await node('a', { pushPullIntervalMs: 30 });
    const b = await node('b');
    join(a, [`127.0.0.1:${b.port}`]);
    await waitFor(() => b.pushPull.counters.received >= 4);
    expect(a.pushPull.counters.failed).toBe(0);
    expect(a.pushPull.counters.sent).toBeGreaterThanOrEqual(4);
    // Once both sides know each other, what comes back is stale and skipped rather than re-applied.
    expect(a.pushPull.counters.entriesSkipped).toBeGreaterThan(0);
  });

  it('join with one reachable and one unreachable seed reports reached 1 and the error', async () => {
    const closed = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    const deadPort = closed.localAddress.port;
    await closed.shutdown();
    const a = await node('a');
    const b = await node('b');
    join(a, [`127.0.0.1:${b.port}`, `127.0.0.1:${deadPort}`, 'not a seed:1']);
    await waitFor(() => a.membership.joins.length === 1);
    const result = a.membership.joins[0];
    expect(result?.reached).toBe(1);
    expect(result?.seeds).toHaveLength(3);
    expect(result?.seeds[0]).toMatchObject({ seed: `127.0.0.1:${b.port}`, error: '' });
    expect(result?.seeds[1]?.seed).toBe(`127.0.0.1:${deadPort}`);
    expect(result?.seeds[1]?.error).toMatch(new RegExp(`^dial 127\\.0\\.0\\.1:${deadPort} failed`));
    expect(result?.seeds[2]?.error).toMatch(/invalid host/);
    expect(a.pushPull.counters.failed).toBe(1);
  });

  it("join with 'localhost:<port>' resolves the name", async () => {
    const a = await node('a');
    const b = await node('b');
    join(a, [`localhost:${b.port}`]);
    await waitFor(() => a.membership.joins.length === 1);
    const result = a.membership.joins[0];
    expect(result?.reached).toBeGreaterThanOrEqual(1);
    // localhost may also resolve to ::1, where nobody listens: that address fails on its own.
    expect(result?.seeds).toContainEqual(expect.objectContaining({ seed: `localhost:${b.port}`, address: `127.0.0.1:${b.port}`, error: '' }));
    expect(a.membership.alives.map((m) => m.alive?.node)).toContain('b');
  });

  it('a name that does not resolve is reported per seed', async () => {
    const a = await node('a', {
      resolve: (host) => (host === 'seed.test' ? Promise.resolve(['127.0.0.1']) : Promise.reject(new Error(`ENOTFOUND ${host}`))),
    });
    const b = await node('b');
    join(a, ['nowhere.test:1', `seed.test:${b.port}`]);
    await waitFor(() => a.membership.joins.length === 1);
    expect(a.membership.joins[0]?.reached).toBe(1);
    expect(a.membership.joins[0]?.seeds).toEqual([
      expect.objectContaining({ seed: 'nowhere.test:1', address: '', error: 'failed to resolve nowhere.test: ENOTFOUND nowhere.test' }),
      expect.objectContaining({ seed: `seed.test:${b.port}`, address: `127.0.0.1:${b.port}`, error: '' }),
    ]);
  });

  it('a remote state with more entries than maxPushPullEntries is refused by the server with an error reply', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({
      name: `m${i}`,
      addr: { host: '127.0.0.9', port: 9 + i },
      incarnation: 1,
      state: wire.MemberState.ALIVE,
      ...VSN,
    }));
    const a = await node('a', {}, many);
    const b = await node('b', { maxPushPullEntries: 3 });
    join(a, [`127.0.0.1:${b.port}`]);
    await waitFor(() => a.membership.joins.length === 1);
    expect(a.membership.joins[0]?.reached).toBe(0);
    expect(a.membership.joins[0]?.seeds[0]?.error).toBe('remote error: remote state has 6 entries, more than the limit of 3');
    expect(b.pushPull.counters.refused).toBe(1);
    expect(b.membership.alives).toHaveLength(0);
  });
});
