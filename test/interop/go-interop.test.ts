/**
 * Mixed clusters of real Go memberlist nodes (Debian's 0.2.2, built here with `go build`) and our
 * nodes with `wire: 'memberlist'`, on 127.0.0.1. Skipped, with the reason printed, only where Go or
 * Debian's memberlist source is not installed (.ci/run installs both when it can).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode, type NodeEventMap } from '../../src/index.js';
import { buildGoHelper, eventually, goAvailability, GoNode, type GoNodeOptions } from './go-node.js';
import { MEMBERLIST_WIRE_FAST } from '../helpers/memberlist-wire-timing.js';

const availability = goAvailability();
if (!availability.ok) {
  console.warn(`[interop] skipping the Go memberlist interop suite: ${availability.reason}`);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const KEY = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
/** The Go helper's defaults (probe 200 ms, timeout 100 ms, gossip 50 ms, push-pull 1 s, suspicion 3). */
const TS_TIMING = { ...MEMBERLIST_WIRE_FAST, suspicionMult: 3 };
const LIMIT = 20_000;

type TsState = 'alive' | 'suspect' | 'dead' | 'left' | undefined;
const GO_STATE = ['alive', 'suspect', 'dead', 'left'] as const;

describe.skipIf(!availability.ok)('interop with Go memberlist 0.2.2', () => {
  let binary = '';
  const goNodes: GoNode[] = [];
  const tsNodes: MemberlistNode[] = [];

  beforeAll(() => {
    binary = buildGoHelper();
  }, 300_000);

  afterEach(async () => {
    await Promise.all([...goNodes.splice(0).map((g) => g.stop()), ...tsNodes.splice(0).map((n) => n.shutdown())]);
  });
  afterAll(async () => {
    await Promise.all(goNodes.map((g) => g.stop()));
  });

  async function go(options: GoNodeOptions): Promise<GoNode> {
    const g = new GoNode(binary, options);
    goNodes.push(g);
    return g.ready();
  }

  async function ts(name: string, extra: Record<string, unknown> = {}): Promise<MemberlistNode> {
    const node = await createNode({ ...TS_TIMING, name, ...extra });
    tsNodes.push(node);
    return node;
  }

  const tsState = (n: MemberlistNode, name: string): TsState => n.members().find((m) => m.name === name)?.state;
  const goState = async (g: GoNode, name: string): Promise<string | undefined> => {
    const s = (await g.states())[name];
    return s === undefined ? undefined : GO_STATE[s];
  };
  async function allSee(gs: readonly GoNode[], ns: readonly MemberlistNode[], name: string, state: string): Promise<boolean> {
    if (!ns.every((n) => tsState(n, name) === state)) return false;
    for (const g of gs) if ((await goState(g, name)) !== state) return false;
    return true;
  }

  it('a mixed cluster of 3 Go and 3 TS nodes converges; metadata, user messages and user state cross both ways', async () => {
    const g = [
      await go({ name: 'go-0', meta: 'go-meta-0', state: 'go-state-0', logs: true }),
      await go({ name: 'go-1', meta: 'go-meta-1', state: 'go-state-1' }),
      await go({ name: 'go-2', meta: 'go-meta-2', state: 'go-state-2' }),
    ];
    const merged: string[] = [];
    const messages: NodeEventMap['message'][] = [];
    const t: MemberlistNode[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `ts-${i}`;
      t.push(
        await ts(name, {
          meta: enc(`ts-meta-${i}`),
          delegates: {
            localState: () => enc(`ts-state-${i}`),
            mergeRemoteState: (buf: Uint8Array, join: boolean) => void merged.push(`${name}<-${dec(buf)}${join ? ' (join)' : ''}`),
          },
        }),
      );
      t[i]!.on('message', (m) => messages.push(m));
    }
    // Seeds of both kinds: TS nodes join through a Go node and through each other, Go nodes through a TS node.
    await t[0]!.join([g[0]!.address]);
    await t[1]!.join([`127.0.0.1:${t[0]!.address.port}`]);
    expect((await g[1]!.request({ cmd: 'join', seeds: [`127.0.0.1:${t[1]!.address.port}`] }, 'joined'))['err']).toBeUndefined();
    expect((await g[2]!.request({ cmd: 'join', seeds: [g[1]!.address] }, 'joined'))['err']).toBeUndefined();
    await t[2]!.join([g[2]!.address]);

    const names = [...g.map((x) => x.name), ...t.map((x) => x.name)];
    await eventually(async () => {
      for (const n of names) if (!(await allSee(g, t, n, 'alive'))) return false;
      return true;
    }, LIMIT, 'all six alive on all six');

    // Metadata both ways, as it was at join.
    expect(dec(t[2]!.members().find((m) => m.name === 'go-0')!.meta)).toBe('go-meta-0');
    const goJoin = g[0]!.events.find((e) => e.ev === 'join' && e['node'] === 'ts-1');
    expect(goJoin?.['meta']).toBe('ts-meta-1');
    expect(goJoin?.['addr']).toBe('127.0.0.1');
    expect(goJoin?.['port']).toBe(t[1]!.address.port);

    // Push-pull user state crossed at the joins, both ways.
    expect(merged).toContain('ts-0<-go-state-0 (join)');
    await g[0]!.waitEvent((e) => e.ev === 'merge' && e['state'] === 'ts-state-0', LIMIT);

    // Metadata updates both ways.
    await t[0]!.updateMeta(enc('ts-meta-0-v2'));
    await g[2]!.waitEvent((e) => e.ev === 'update' && e['node'] === 'ts-0' && e['meta'] === 'ts-meta-0-v2', LIMIT);
    g[1]!.command({ cmd: 'meta', meta: 'go-meta-1-v2' });
    await eventually(() => t.every((n) => dec(n.members().find((m) => m.name === 'go-1')!.meta) === 'go-meta-1-v2'), LIMIT, 'Go meta update on TS');

    // User messages, best-effort (UDP) and reliable (TCP), both ways.
    await t[0]!.sendBestEffort('go-1', enc('udp from ts-0'));
    await t[1]!.sendReliable('go-1', enc('tcp from ts-1'));
    await g[1]!.waitEvent((e) => e.ev === 'msg' && e['payload'] === 'udp from ts-0', LIMIT);
    await g[1]!.waitEvent((e) => e.ev === 'msg' && e['payload'] === 'tcp from ts-1', LIMIT);
    expect((await g[2]!.request({ cmd: 'send', to: 'ts-2', payload: 'udp from go-2' }, 'sent'))['err']).toBeUndefined();
    expect((await g[2]!.request({ cmd: 'send', to: 'ts-2', payload: 'tcp from go-2', reliable: true }, 'sent'))['err']).toBeUndefined();
    await eventually(() => messages.filter((m) => m.payload.length > 0).length >= 2, LIMIT, 'Go user messages on TS');
    expect(messages.map((m) => `${m.via}:${dec(m.payload)}`).sort()).toEqual(['best-effort:udp from go-2', 'reliable:tcp from go-2']);

    // Nothing a Go node sent was refused by ours, and Go logged no error about what we sent.
    for (const n of t) {
      const drops = Object.entries(n.metrics().dropsIn).filter(([reason]) => !reason.startsWith('stream-closed'));
      expect(drops, `${n.name} drops`).toEqual([]);
    }
    expect(g[0]!.events.filter((e) => e.ev === 'log' && /\[(ERR|WARN)\]/.test(String(e['line'])))).toEqual([]);
  }, 90_000);

  it('a Go node killed is declared dead by ours, ours killed is declared dead by theirs', async () => {
    const g = [await go({ name: 'kg-0' }), await go({ name: 'kg-1' })];
    const t = [await ts('kt-0'), await ts('kt-1')];
    await t[0]!.join([g[0]!.address]);
    await t[1]!.join([g[0]!.address]);
    await g[1]!.request({ cmd: 'join', seeds: [`127.0.0.1:${t[0]!.address.port}`] }, 'joined');
    await eventually(async () => {
      for (const n of ['kg-0', 'kg-1', 'kt-0', 'kt-1']) if (!(await allSee(g, t, n, 'alive'))) return false;
      return true;
    }, LIMIT, 'converged');

    g[1]!.kill();
    await eventually(() => allSee([g[0]!], t, 'kg-1', 'dead'), LIMIT, 'the killed Go node dead everywhere');

    // Ours crashes: shut down without a leave (no dead message from itself).
    await t[1]!.shutdown();
    await eventually(() => allSee([g[0]!], [t[0]!], 'kt-1', 'dead'), LIMIT, 'the stopped TS node dead everywhere');
  }, 90_000);

  it('a leave on either side shows as left on both', async () => {
    const g = [await go({ name: 'lg-0' }), await go({ name: 'lg-1' })];
    const t = [await ts('lt-0'), await ts('lt-1')];
    await t[0]!.join([g[0]!.address]);
    await t[1]!.join([g[1]!.address]);
    await g[1]!.request({ cmd: 'join', seeds: [g[0]!.address] }, 'joined');
    await eventually(async () => {
      for (const n of ['lg-0', 'lg-1', 'lt-0', 'lt-1']) if (!(await allSee(g, t, n, 'alive'))) return false;
      return true;
    }, LIMIT, 'converged');

    expect(await t[1]!.leave(5000)).toBe(true);
    await eventually(() => allSee(g, [t[0]!], 'lt-1', 'left'), LIMIT, 'TS leave seen as left');
    expect((await g[1]!.request({ cmd: 'leave' }, 'left'))['err']).toBeUndefined();
    await eventually(() => allSee([g[0]!], [t[0]!], 'lg-1', 'left'), LIMIT, 'Go leave seen as left');
  }, 90_000);

  it('encryption with a shared key works across; a wrong key or a label is refused on both sides', async () => {
    const g = await go({ name: 'eg-0', key: KEY, meta: 'secret-go' });
    const t = await ts('et-0', { secretKey: KEY, meta: enc('secret-ts') });
    await t.join([g.address]);
    await eventually(async () => tsState(t, 'eg-0') === 'alive' && (await goState(g, 'et-0')) === 'alive', LIMIT, 'encrypted pair converged');
    await t.sendReliable('eg-0', enc('sealed over tcp'));
    await t.sendBestEffort('eg-0', enc('sealed over udp'));
    await g.waitEvent((e) => e.ev === 'msg' && e['payload'] === 'sealed over tcp', LIMIT);
    await g.waitEvent((e) => e.ev === 'msg' && e['payload'] === 'sealed over udp', LIMIT);

    // A TS node with another key cannot join the Go node, nor a Go node with another key the TS node.
    const wrongTs = await ts('et-wrong', { secretKey: new Uint8Array(16).fill(9) });
    await expect(wrongTs.join([g.address])).rejects.toThrow();
    const wrongGo = await go({ name: 'eg-wrong', key: new Uint8Array(16).fill(9) });
    expect((await wrongGo.request({ cmd: 'join', seeds: [`127.0.0.1:${t.address.port}`] }, 'joined'))['err']).toBeTruthy();
    // Unencrypted to encrypted is refused both ways too.
    const plainGo = await go({ name: 'eg-plain' });
    expect((await plainGo.request({ cmd: 'join', seeds: [`127.0.0.1:${t.address.port}`] }, 'joined'))['err']).toBeTruthy();

    // Labels (memberlist >= 0.3): a labelled TS node and an unlabelled Go 0.2.2 node refuse each other.
    const labelled = await ts('et-label', { secretKey: KEY, label: 'blue' });
    await expect(labelled.join([g.address])).rejects.toThrow();
    expect((await g.request({ cmd: 'join', seeds: [`127.0.0.1:${labelled.address.port}`] }, 'joined'))['err']).toBeTruthy();
    expect((await g.states())['et-wrong']).toBeUndefined();
    expect((await g.states())['et-label']).toBeUndefined();
    expect(tsState(t, 'eg-wrong')).toBeUndefined();
    expect(tsState(t, 'eg-plain')).toBeUndefined();
  }, 90_000);
});
