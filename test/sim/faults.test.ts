/**
 * Fault scenarios on the MemoryNetwork and VirtualClock: each asserts the outcome and the virtual
 * time it took, and prints one summary line (`[faults] ...`) with the figures for the README.
 *
 * Slow members (Lifeguard) have their own file: test/sim/lifeguard-slow.test.ts.
 *
 * The reconnect actor (partition healing) is spawned by the test on every node unless the node
 * already runs one (once src/node.ts wires it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberlistNode, NodeOptions } from '../../src/index.js';
import { ReconnectActor } from '../../src/actors/reconnect/reconnect-actor.js';
import type { Clock } from '../../src/clock.js';
import { SimulatedCluster } from '../../src/testing/index.js';
import type { Endpoint } from '../../src/transport/transport.js';

const MINUTE = 60_000;
const RECONNECT_INTERVAL_MS = 30_000;
const RECONNECT_TIMEOUT_MS = 24 * 60 * MINUTE;

type ClusterNodeOptions = Omit<NodeOptions, 'clock' | 'random' | 'network' | 'transport' | 'name'>;

function summary(line: string): void {
  console.log(`[faults] ${line}`);
}

function secs(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`;
}

function stateOf(observer: MemberlistNode, name: string): string | undefined {
  return observer.members().find((m) => m.name === name)?.state;
}

/** Spawns a reconnect actor on the node unless src/node.ts already runs one. */
function withReconnect(node: MemberlistNode, intervalMs = RECONNECT_INTERVAL_MS): void {
  if (node.metrics().actors.some((a) => a.name === 'reconnect')) return;
  node.spawn(
    new ReconnectActor({
      reconnectIntervalMs: intervalMs,
      reconnectTimeoutMs: RECONNECT_TIMEOUT_MS,
      defaultPort: node.config.bindPort || node.address.port,
    }),
  );
}

/** Counts, on every node, the members it declared failed (a `leave` with reason `failed`). */
class DeathLog {
  readonly deaths: Array<{ observer: string; member: string; atMs: number }> = [];
  constructor(private readonly clock: Clock) {}
  watch(node: MemberlistNode): void {
    node.on('leave', ({ member, reason }) => {
      if (reason === 'failed') this.deaths.push({ observer: node.name, member: member.name, atMs: this.clock.now() });
    });
  }
}

/**
 * Membership messages (alive, suspect, dead) a node received, piggybacked or not (piggybacked
 * broadcasts travel pre-encoded and are counted only on receipt): what a flapping member costs in gossip.
 */
function membershipMessagesIn(node: MemberlistNode): number {
  const out = node.metrics().messagesIn;
  return (out.alive ?? 0) + (out.suspect ?? 0) + (out.dead ?? 0);
}

async function startCluster(
  seed: number,
  n: number,
  nodeOptions: ClusterNodeOptions = {},
  reconnect = true,
): Promise<{ cluster: SimulatedCluster; deaths: DeathLog }> {
  const cluster = new SimulatedCluster({
    seed,
    network: { latencyMs: 1, jitterMs: 1 },
    nodeOptions: {
      profile: 'lan',
      // Every node runs the reconnect actor (createNode wires it); `reconnect = false` turns it off to
      // show memberlist's behaviour.
      reconnectIntervalMs: reconnect ? RECONNECT_INTERVAL_MS : 0,
      reconnectTimeoutMs: RECONNECT_TIMEOUT_MS,
      ...nodeOptions,
    },
  });
  const deaths = new DeathLog(cluster.clock);
  for (const node of await cluster.addNodes(n)) {
    if (reconnect) withReconnect(node);
    deaths.watch(node);
  }
  const joins = cluster.startJoins(0, 16);
  const took = await cluster.runUntil(() => cluster.converged(), 60_000);
  expect(took, 'initial convergence').toBeDefined();
  await joins;
  return { cluster, deaths };
}

/** Restarts a crashed node: a new node with the same name (incarnation reset) on `address`. */
async function restart(cluster: SimulatedCluster, name: string, address: Endpoint, reconnect = true): Promise<MemberlistNode> {
  cluster.network.restore(address);
  const [node] = await cluster.addNodes(1, {
    name,
    bindAddr: address.host,
    bindPort: address.port,
    reconnectIntervalMs: reconnect ? RECONNECT_INTERVAL_MS : 0,
  });
  if (node === undefined) throw new Error('restart failed');
  if (reconnect) withReconnect(node);
  return node;
}

describe('fault scenarios (MemoryNetwork, virtual time)', () => {
  let cluster: SimulatedCluster | undefined;
  afterEach(async () => {
    await cluster?.shutdown();
    cluster = undefined;
  });

  // The MemoryNetwork loses packets only: streams (push-pull, and the TCP ping memberlist falls back
  // on) get through, so with TCP pings on a lossy network costs no false death. The UDP-only runs
  // (disableTcpPings) show what the probe path alone survives.
  for (const tcp of [true, false]) {
    for (const loss of [0.1, 0.3, 0.5]) {
      it(`${loss * 100}% packet loss on 30 nodes for 5 minutes (TCP pings ${tcp ? 'on' : 'off'}): false deaths counted, re-forms after`, async () => {
        const started = await startCluster(100 + loss * 100, 30, { disableTcpPings: !tcp });
        cluster = started.cluster;
        const c = cluster;
        const lostBefore = c.network.stats.packetsDroppedLoss;
        const sentBefore = c.network.stats.packetsSent;
        c.network.setLoss(loss);
        await c.runFor(5 * MINUTE);
        const lost = c.network.stats.packetsDroppedLoss - lostBefore;
        const sent = c.network.stats.packetsSent - sentBefore;
        const falseDeaths = started.deaths.deaths.length;
        const affected = new Set(started.deaths.deaths.map((d) => d.member)).size;
        c.network.setLoss(0);
        const reformed = await c.runUntil(() => c.converged(), 5 * MINUTE);
        summary(
          `loss ${loss * 100}% (TCP pings ${tcp ? 'on' : 'off'}), 30 nodes, 5 min: ${lost} of ${sent} packets lost; ` +
            `${falseDeaths} false deaths (observer x member) about ${affected} members; one view again ${secs(reformed)} after the loss ended`,
        );
        expect(lost / sent).toBeGreaterThan(loss * 0.9);
        if (loss === 0.1) expect(falseDeaths).toBe(0);
        expect(reformed).toBeDefined();
      });
    }
  }

  it('symmetric partition 10+10 for 5 minutes, then heal: re-forms into one view', async () => {
    const started = await startCluster(21, 20);
    cluster = started.cluster;
    const c = cluster;
    const a = c.nodes.slice(0, 10);
    const b = c.nodes.slice(10);
    c.network.partition(
      a.map((n) => n.address),
      b.map((n) => n.address),
    );
    const split = await c.runUntil(
      () => a.every((n) => n.numMembers() === 10) && b.every((n) => n.numMembers() === 10),
      2 * MINUTE,
    );
    expect(split, 'each side sees the other dead').toBeDefined();
    await c.runFor(5 * MINUTE - (split as number));
    // Both sides have reaped the other half (gossipToTheDeadMs, 30 s): memberlist alone never heals here.
    expect(a[0]?.members().some((m) => m.name === b[0]?.name)).toBe(false);
    c.network.heal();
    const healed = await c.runUntil(() => c.converged(), 3 * MINUTE);
    summary(
      `partition 10+10 for 5 min: halves split in ${secs(split)}; after heal one view of 20 in ${secs(healed)} ` +
        `(reconnect interval ${RECONNECT_INTERVAL_MS / 1000} s)`,
    );
    expect(healed).toBeDefined();
    expect(healed as number).toBeLessThanOrEqual(2 * RECONNECT_INTERVAL_MS + 30_000);
  });

  it('without the reconnect actor the same partition does not heal (memberlist behaviour, #222)', async () => {
    const started = await startCluster(21, 20, {}, false);
    cluster = started.cluster;
    const c = cluster;
    const a = c.nodes.slice(0, 10);
    const b = c.nodes.slice(10);
    c.network.partition(
      a.map((n) => n.address),
      b.map((n) => n.address),
    );
    await c.runFor(5 * MINUTE);
    c.network.heal();
    const healed = await c.runUntil(() => c.converged(), 2 * MINUTE);
    summary(`partition 10+10 without reconnect: ${healed === undefined ? 'still split 2 min after heal' : `healed in ${secs(healed)}`}`);
    expect(healed).toBeUndefined();
  });

  it('one-way links: blocked pairs cause no false death; a node that cannot send is declared dead and rejoins after', async () => {
    const started = await startCluster(31, 20);
    cluster = started.cluster;
    const c = cluster;
    const nodes = c.nodes;
    const at = (i: number): MemberlistNode => nodes[i] as MemberlistNode;
    // Five one-way pairs: indirect probes through the others cover them.
    for (let i = 0; i < 5; i++) c.network.blockLink(at(i).address, at(i + 5).address);
    await c.runFor(2 * MINUTE);
    const pairDeaths = started.deaths.deaths.length;
    expect(pairDeaths).toBe(0);
    c.network.heal();
    // A node whose every outbound packet is lost (it still hears everyone).
    const mute = at(15);
    for (const other of nodes) if (other !== mute) c.network.blockLink(mute.address, other.address);
    const others = nodes.filter((n) => n !== mute);
    const dead = await c.runUntil(() => others.every((n) => stateOf(n, mute.name) === 'dead'), 2 * MINUTE);
    expect(dead).toBeDefined();
    await c.runFor(MINUTE);
    c.network.heal();
    const back = await c.runUntil(() => c.converged(), 3 * MINUTE);
    summary(
      `one-way links, 20 nodes: 5 blocked pairs for 2 min -> ${pairDeaths} false deaths; a mute node dead everywhere in ` +
        `${secs(dead)}, one view again ${secs(back)} after its links came back`,
    );
    expect(back).toBeDefined();
  });

  it('crash and restart storm: 10% of 50 nodes restart with the same name and address (incarnation reset)', async () => {
    const started = await startCluster(51, 50);
    cluster = started.cluster;
    const c = cluster;
    const victims = c.nodes.slice(10, 15);
    const addresses = victims.map((v) => ({ name: v.name, address: { ...v.address }, incarnation: v.localMember?.incarnation ?? 0 }));
    for (const v of victims) await c.crash(v);
    const survivors = c.running();
    const names = addresses.map((a) => a.name);
    const dead = await c.runUntil(() => survivors.every((s) => names.every((nm) => stateOf(s, nm) === 'dead')), 2 * MINUTE);
    expect(dead).toBeDefined();
    const deadInc = Math.max(...survivors.flatMap((s) => s.members().filter((m) => names.includes(m.name)).map((m) => m.incarnation)));
    const restarted: MemberlistNode[] = [];
    for (const a of addresses) restarted.push(await restart(c, a.name, a.address));
    expect(Math.max(...restarted.map((r) => r.localMember?.incarnation ?? 0))).toBeLessThanOrEqual(deadInc);
    const seed = c.addressOf(c.nodes[0] as MemberlistNode);
    const joins = Promise.all(restarted.map((r) => r.join([seed])));
    const back = await c.runUntil(() => c.converged(), 2 * MINUTE);
    await joins;
    // memberlist #311: a restart at a reset incarnation finds itself dead in peers' tables and refutes
    // above the old incarnation (the push-pull merge turns the remote "dead" into a suspicion about us).
    for (const r of restarted) expect(r.localMember?.incarnation ?? 0).toBeGreaterThan(deadInc);
    summary(
      `crash storm 5 of 50: dead everywhere in ${secs(dead)}; restarted (same name+address, incarnation reset) and ` +
        `alive everywhere again in ${secs(back)}`,
    );
    expect(back).toBeDefined();
    expect(back as number).toBeLessThanOrEqual(10_000);
  });

  it('a node restarted on its old address without rejoining is found by the reconnect actor', async () => {
    const started = await startCluster(61, 20);
    cluster = started.cluster;
    const c = cluster;
    const victim = c.nodes[7] as MemberlistNode;
    const address = { ...victim.address };
    await c.crash(victim);
    const survivors = c.running();
    const dead = await c.runUntil(() => survivors.every((s) => stateOf(s, victim.name) === 'dead'), 2 * MINUTE);
    expect(dead).toBeDefined();
    await c.runFor(MINUTE); // reaped everywhere (gossipToTheDeadMs 30 s)
    expect(survivors.every((s) => stateOf(s, victim.name) === undefined)).toBe(true);
    await restart(c, victim.name, address);
    const back = await c.runUntil(() => c.converged(), 5 * MINUTE);
    summary(`restart without join (20 nodes, reaped victim): found again by reconnect in ${secs(back)}`);
    expect(back).toBeDefined();
  });

  it('a node restarted on a new address: refused with a conflict event before deadNodeReclaimTimeMs, takes over after', async () => {
    const reclaimMs = 20_000;
    const started = await startCluster(71, 20, { deadNodeReclaimTimeMs: reclaimMs, gossipToTheDeadMs: 5 * MINUTE });
    cluster = started.cluster;
    const c = cluster;
    const victim = c.nodes[5] as MemberlistNode;
    const oldAddress = { ...victim.address };
    const conflicts: string[] = [];
    for (const n of c.nodes) n.on('conflict', ({ other }) => conflicts.push(`${n.name}:${other.addr}:${other.port}`));
    await c.crash(victim);
    const survivors = c.running();
    const dead = await c.runUntil(() => survivors.every((s) => stateOf(s, victim.name) === 'dead'), 2 * MINUTE);
    expect(dead).toBeDefined();
    const diedAt = c.clock.now();
    const [moved] = await c.addNodes(1, { name: victim.name });
    if (moved === undefined) throw new Error('no restarted node');
    withReconnect(moved);
    expect(moved.address.host).not.toBe(oldAddress.host);
    void moved.join([c.addressOf(c.nodes[0] as MemberlistNode)]).catch(() => 0);
    await c.runFor(reclaimMs / 2);
    const holdsOld = (s: MemberlistNode): boolean => {
      const m = s.members().find((x) => x.name === victim.name);
      return m !== undefined && m.addr === oldAddress.host && m.state === 'dead';
    };
    expect(conflicts.length).toBeGreaterThan(0);
    expect(survivors.every(holdsOld)).toBe(true);
    const takenOver = await c.runUntil(
      () =>
        survivors.every((s) => {
          const m = s.members().find((x) => x.name === victim.name);
          return m !== undefined && m.addr === moved.address.host && m.state === 'alive';
        }),
      3 * MINUTE,
    );
    const since = takenOver === undefined ? undefined : c.clock.now() - diedAt;
    summary(
      `restart on a new address (20 nodes, reclaim ${reclaimMs / 1000} s): ${conflicts.length} conflict events and refused ` +
        `before; new address alive everywhere ${secs(since)} after the death`,
    );
    expect(takenOver).toBeDefined();
    expect(since as number).toBeGreaterThan(reclaimMs);
  });

  it('a flapping node (down 5 s / up 5 s for 2 minutes) does not cause a broadcast storm', async () => {
    const started = await startCluster(81, 20);
    cluster = started.cluster;
    const c = cluster;
    const flapper = c.nodes[9] as MemberlistNode;
    const sum = (): number => c.running().reduce((acc, n) => acc + membershipMessagesIn(n), 0);
    const baseStart = sum();
    await c.runFor(MINUTE);
    const baseline = sum() - baseStart;
    const flapStart = sum();
    const cycles = 12;
    const perCycle: number[] = [];
    for (let i = 0; i < cycles; i++) {
      const cycleStart = sum();
      c.network.crash(flapper.address);
      await c.runFor(5000);
      c.network.restore(flapper.address);
      await c.runFor(5000);
      perCycle.push(sum() - cycleStart);
    }
    const flapping = sum() - flapStart;
    const reformed = await c.runUntil(() => c.converged(), 2 * MINUTE);
    await c.runFor(MINUTE);
    const afterStart = sum();
    await c.runFor(MINUTE);
    const after = sum() - afterStart;
    // Per flap the flapper's entry changes a bounded number of times: suspect, up to k = suspicionMult
    // - 2 confirmations (each re-gossiped), dead, and the refuting alive. Every node queues each change
    // once and sends it retransmitMult * ceil(log10(n + 1)) times: no amplification beyond that.
    const cfg = flapper.config;
    const limit = cfg.retransmitMult * Math.ceil(Math.log10(21));
    const changes = 3 + Math.max(0, cfg.suspicionMult - 2);
    // Receipts also include the entries merged by digest-repair and reconnect push-pulls after each
    // flap, so the budget allows a quarter on top of the gossip bound.
    const bound = Math.round(1.25 * cycles * changes * 20 * limit);
    const firstHalf = perCycle.slice(0, cycles / 2).reduce((a, b) => a + b, 0);
    const secondHalf = perCycle.slice(cycles / 2).reduce((a, b) => a + b, 0);
    summary(
      `flapping node, 20 nodes, ${cycles} cycles of 5 s down / 5 s up: ${flapping} membership messages received ` +
        `(${Math.round(flapping / cycles)} per flap; first 6 flaps ${firstHalf}, last 6 ${secondHalf}; bound ${bound}); ` +
        `${after}/min once settled (baseline ${baseline}/min in the minute after the join); one view ${secs(reformed)} after`,
    );
    expect(flapping).toBeLessThanOrEqual(bound);
    // No storm: the cost per flap does not grow as flaps repeat, and gossip quiets down afterwards.
    expect(secondHalf).toBeLessThanOrEqual(1.5 * firstHalf);
    expect(reformed).toBeDefined();
    expect(after).toBeLessThanOrEqual(Math.max(baseline, 200));
  });
});
