// threading 'isolated' on real sockets: the whole API across the thread boundary, hooks with bounded
// waits while the host is blocked, modules inside the protocol thread, and the protocol thread's
// lifecycle (start failure, crash, restart, no leaked threads).
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { actors, createNode, type MemberlistNode, type NodeOptions } from '../../src/index.js';
import { MemoryNetwork, SeededRandom, VirtualClock } from '../../src/testing/index.js';
import { waitForCluster } from '../helpers/wait.js';

const nodes: MemberlistNode[] = [];
const enc = new TextEncoder();
const dec = new TextDecoder();

async function start(name: string, options: NodeOptions = {}): Promise<MemberlistNode> {
  const n = await createNode({ name, bindAddr: '127.0.0.1', bindPort: 0, profile: 'local', ...options });
  nodes.push(n);
  return n;
}

/** Polls `cond` until it holds; the limit only guards against a hang. */
async function until(cond: () => boolean, limitMs = 25_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const seed = (n: MemberlistNode): string => `127.0.0.1:${n.address.port}`;
const threads = (): number => readdirSync('/proc/self/task').length;

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

describe('threading', () => {
  it("is 'isolated' by default on real sockets and 'inline' on a MemoryNetwork; isolated refuses simulated parts", async () => {
    const real = await start('iso-default');
    expect(real.threading).toBe('isolated');
    expect(real.metrics().threading).toBe('isolated');
    const clock = new VirtualClock();
    const net = new MemoryNetwork({ clock, random: new SeededRandom(1) });
    const sim = await createNode({ name: 'sim', network: net, clock });
    nodes.push(sim);
    expect(sim.threading).toBe('inline');
    await expect(createNode({ name: 'bad', network: net, clock, threading: 'isolated' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(createNode({ name: 'bad2', threading: 'sideways' as 'inline' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(createNode({ name: 'bad3', threading: 'inline', isolation: { hookTimeoutMs: 5 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('inline mode knows when it is the slow one', () => {
  it('a blocked host thread is measured as a stall and raises the health score', async () => {
    const a = await start('inl-a', { threading: 'inline' });
    const b = await start('inl-b', { threading: 'inline' });
    await b.join([seed(a)]);
    await waitForCluster([a, b], () => a.numMembers() === 2 && b.numMembers() === 2, 15_000);
    // The delay monitor measures from its first sample on; a probe round is well past that.
    await until(() => a.metrics().protocol.probes >= 1);
    // A deliberate stall longer than the monitor's check interval (the probe interval, 1 s), so it
    // covers a check's due time by at least 500 ms whatever the phase.
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      // busy
    }
    // Waits for the check that judges this block: on a loaded machine an earlier, shorter stall may
    // already have been counted, so the count alone does not say the block was seen.
    await until(() => a.metrics().protocol.loopMaxDelayMs >= 500);
    const m = a.metrics();
    expect(m.protocol.loopStalls).toBeGreaterThanOrEqual(1);
    expect(m.protocol.probesFailed + b.metrics().protocol.probesFailed).toBe(0);
  });
});

describe('the API across the boundary', () => {
  it('join, events in order, meta, broadcasts, direct messages, leave and fresh metrics', async () => {
    const a = await start('iso-a');
    const b = await start('iso-b');
    const c = await start('iso-c', { threading: 'inline' }); // mixed placements form one cluster
    const seenByA: string[] = [];
    a.on('join', (e) => seenByA.push(`join:${e.member.name}`));
    a.on('update', (e) => seenByA.push(`update:${e.member.name}:${dec.decode(e.member.meta)}`));
    a.on('leave', (e) => seenByA.push(`leave:${e.member.name}:${e.reason}`));
    const messages: string[] = [];
    a.on('message', (e) => messages.push(`${e.via}:${dec.decode(e.payload)}`));

    expect(await b.join([seed(a)])).toBe(1);
    expect(await c.join([seed(b)])).toBe(1);
    await waitForCluster([a, b, c], () => [a, b, c].every((n) => n.numMembers() === 3), 15_000);
    expect(a.members().map((m) => m.name).sort()).toEqual(['iso-a', 'iso-b', 'iso-c']);
    expect(a.localMember?.name).toBe('iso-a');

    expect(await b.updateMeta(enc.encode('v2'))).toBe(true);
    await until(() => seenByA.includes('update:iso-b:v2'));
    expect(await c.broadcast(enc.encode('hello all'))).toBe(true);
    await b.sendBestEffort('iso-a', enc.encode('udp'));
    await b.sendReliable('iso-a', enc.encode('tcp'));
    await until(() => messages.length >= 3);
    expect(messages.sort()).toEqual(['best-effort:udp', 'broadcast:hello all', 'reliable:tcp']);

    // metrics() is read from the protocol thread now, not from a stale push.
    await until(() => a.metrics().protocol.probes >= 2);
    expect(a.metrics().messagesOut['ping'] ?? 0).toBeGreaterThan(0);
    expect(a.metrics().messageBytesOut['ping'] ?? 0).toBeGreaterThan(a.metrics().messagesOut['ping'] ?? 0);
    expect((await a.refreshMetrics()).protocol.probes).toBeGreaterThanOrEqual(2);
    expect(a.metrics().actors.map((s) => s.name)).toEqual(expect.arrayContaining(['facade', 'thread:protocol', 'probe', 'membership']));

    expect(await b.leave()).toBe(true);
    await until(() => seenByA.includes('leave:iso-b:left'));
    // Events arrived in the order the membership actor published them.
    expect(seenByA.indexOf('join:iso-b')).toBeLessThan(seenByA.indexOf('update:iso-b:v2'));
    expect(seenByA.indexOf('update:iso-b:v2')).toBeLessThan(seenByA.indexOf('leave:iso-b:left'));
  });

  it('a host actor spawned after start gets protocol messages; actor modules run inside the protocol thread', async () => {
    const a = await start('mod-a', { isolation: { actorModules: [new URL('../fixtures/isolation/worker-actors.ts', import.meta.url)] } });
    const b = await start('mod-b');
    const pingsOnHost: string[] = [];
    a.spawn({ name: 'host-watcher', accepts: [actors.PingReceived], receive: (m) => void pingsOnHost.push((m as actors.PingReceived).ping?.sourceNode ?? '') });
    const fromModule: string[] = [];
    a.on('message', (e) => fromModule.push(dec.decode(e.payload)));
    await b.join([seed(a)]);
    await until(() => pingsOnHost.includes('mod-b') && fromModule.includes('ping seen in protocol'));
  });

  it('keyring changes on the host reach the protocol thread, and a cluster-wide rotation shows in every node.keyring', async () => {
    const k1 = new Uint8Array(16).fill(1);
    const k2 = new Uint8Array(16).fill(2);
    const a = await start('key-a', { secretKey: k1 });
    const b = await start('key-b', { secretKey: k1 });
    await b.join([seed(a)]);
    await waitForCluster([a, b], () => a.numMembers() === 2 && b.numMembers() === 2, 15_000);
    const install = await a.keyManager.install(k2);
    expect(install.acked.sort()).toEqual(['key-a', 'key-b']);
    await until(() => b.keyring?.has(k2) === true);
    const use = await a.keyManager.use(k2);
    expect(use.failed).toEqual([]);
    await until(() => b.keyring?.primary?.[0] === 2 && a.keyring?.primary?.[0] === 2);
    // Local changes validate on the host exactly as inline (same errors) and apply in the thread.
    expect(() => a.keyring?.remove(k2)).toThrow(/primary/);
    a.keyring?.remove(k1);
    expect(a.keyring?.list()).toHaveLength(1);
    // The cluster still talks after the rotation.
    expect(await a.updateMeta(enc.encode('after rotation'))).toBe(true);
  });
});

describe('hooks while the host is blocked', () => {
  it('the protocol thread keeps acking with the fallback payload, nobody is suspected, and the timeouts are counted', async () => {
    const a = await start('hook-a', { delegates: { ackPayload: () => enc.encode('from the host') }, isolation: { hookTimeoutMs: 20 } });
    const payloads: string[] = [];
    const b = await start('hook-b', { delegates: { onPingComplete: (_m, _rtt, p) => void payloads.push(dec.decode(p)) } });
    await b.join([seed(a)]);
    await until(() => payloads.includes('from the host'));
    const before = b.metrics().protocol.probes;
    // Block this thread (every node's host) until b's protocol thread has probed a three more times:
    // metrics() is a synchronous call into that thread, so it works while we spin.
    const guard = Date.now() + 20_000;
    while (b.metrics().protocol.probes < before + 3 && Date.now() < guard) {
      // busy: the host's event loop does not turn
    }
    expect(b.metrics().protocol.probes).toBeGreaterThanOrEqual(before + 3);
    const am = a.metrics();
    const bm = b.metrics();
    expect(am.hooks['ackPayload']?.timeouts ?? 0).toBeGreaterThanOrEqual(1);
    expect(bm.protocol.probesFailed + am.protocol.probesFailed).toBe(0);
    expect(bm.protocol.suspicionsStarted + am.protocol.suspicionsStarted).toBe(0);
    // The host answers again after the stall: fresh payloads arrive.
    payloads.length = 0;
    await until(() => payloads.includes('from the host'));
  });

  it('hooks from a delegates module run inside the protocol thread', async () => {
    const a = await start('dm-a', { isolation: { delegatesModule: new URL('../fixtures/isolation/delegates.ts', import.meta.url) } });
    const payloads: string[] = [];
    const b = await start('dm-b', { delegates: { onPingComplete: (_m, _rtt, p) => void payloads.push(dec.decode(p)) } });
    await b.join([seed(a)]);
    await until(() => payloads.includes('from the protocol thread'));
  });
});

describe('lifecycle of the protocol thread', () => {
  it('a port in use rejects createNode with a TransportError and leaves no thread behind', async () => {
    const a = await start('busy-a');
    const threadsBefore = threads();
    await expect(createNode({ name: 'busy-b', bindAddr: '127.0.0.1', bindPort: a.address.port })).rejects.toMatchObject({ code: 'ERR_TRANSPORT' });
    await until(() => threads() <= threadsBefore);
  });

  it("its death is an `error` event and a clean shutdown by default, or a restart that rejoins with onCrash 'restart'", async () => {
    const modules = [new URL('../fixtures/isolation/worker-actors.ts', import.meta.url)];
    const peer = await start('crash-peer');
    const dies = await start('crash-dies', { isolation: { actorModules: modules } });
    const errors: Error[] = [];
    dies.on('error', (e) => errors.push(e.error));
    await dies.join([seed(peer)]);
    dies.send(actors.MembersSnapshotRequest.create({ requester: 'crash-the-protocol-thread' }));
    await until(() => errors.length === 1 && !dies.running);
    expect(errors[0]?.message).toMatch(/protocol/);

    const phoenix = await start('crash-phoenix', { isolation: { actorModules: modules, onCrash: 'restart' } });
    await phoenix.join([seed(peer)]);
    await waitForCluster([peer], () => peer.members().some((m) => m.name === "crash-phoenix" && m.state === "alive"), 25_000);
    const port = phoenix.address.port;
    phoenix.send(actors.MembersSnapshotRequest.create({ requester: 'crash-the-protocol-thread' }));
    // A new protocol thread on the same port, which rejoins the peer it knew.
    await until(() => phoenix.metrics().actors.some((s) => s.name === 'thread:protocol' && s.restarts === 1));
    expect(phoenix.running).toBe(true);
    expect(phoenix.address.port).toBe(port);
    await until(() => phoenix.numMembers() === 2 && phoenix.metrics().protocol.probes >= 1);
    expect(await phoenix.updateMeta(enc.encode('reborn'))).toBe(true);
    await until(() => dec.decode(peer.members().find((m) => m.name === 'crash-phoenix')?.meta ?? new Uint8Array()) === 'reborn');
  }, 90_000);

  it('shutdown ends the protocol thread and its merge pool', async () => {
    const threadsBefore = threads();
    const a = await start('leak-a');
    const b = await start('leak-b');
    await b.join([seed(a)]);
    expect(threads()).toBeGreaterThan(threadsBefore);
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
    await until(() => threads() <= threadsBefore);
  });
});
