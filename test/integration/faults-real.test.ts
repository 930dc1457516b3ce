// The core fault scenarios with real sockets and real processes: nodes killed with SIGKILL (no leave, no
// shutdown, the kernel closes their sockets), and a partition between two network namespaces joined by a
// veth pair that this test creates (skipped, with the reason, where the machine does not allow it).
//
// Every wait is event-driven: in-process nodes through their events, child processes through the JSON
// lines they print (test/fixtures/node-process.ts). The time limits are guards against a hang, never
// tolerances an assertion depends on, so CPU contention only makes the test slower.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode, type NodeEventName } from '../../src/index.js';
import type { ChildLine, ChildMember } from '../fixtures/node-process.js';
import { createNetnsPair, netnsAvailability, type NetnsPair } from '../helpers/netns.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'test/fixtures/node-process.ts';

// The same timings for every node, in-process or child. Probe timeouts are far above loopback RTTs so a
// process starved of CPU for a moment is at worst suspected and refutes; detection stays a few seconds.
const TIMING = { probeIntervalMs: 500, probeTimeoutMs: 250, gossipIntervalMs: 100, suspicionMult: 3, pushPullIntervalMs: 5000, reconnectIntervalMs: 2000 };
const CHILD_TIMING_ARGS = [
  '--probe-interval', String(TIMING.probeIntervalMs),
  '--probe-timeout', String(TIMING.probeTimeoutMs),
  '--gossip-interval', String(TIMING.gossipIntervalMs),
  '--suspicion-mult', String(TIMING.suspicionMult),
  '--push-pull-interval', String(TIMING.pushPullIntervalMs),
  '--reconnect-interval', String(TIMING.reconnectIntervalMs),
];

const STARTUP_LIMIT_MS = 30_000; // node + tsx start-up, slow under contention
const CONVERGE_LIMIT_MS = 40_000;
const DETECT_LIMIT_MS = 40_000;

/** A node running in a child process, with its latest view of the cluster as reported on stdout. */
class ChildNode extends EventEmitter {
  readonly proc: ChildProcessWithoutNullStreams;
  view = new Map<string, ChildMember>();
  host = '';
  port = 0;
  exited = false;
  joinResult: { reached: number } | { error: string } | undefined;
  #stderr = '';
  readonly #exit: Promise<void>;

  constructor(
    readonly name: string,
    opts: { bind?: string; port?: number; seeds?: readonly string[]; netns?: string },
  ) {
    super();
    this.setMaxListeners(100);
    const nodeArgs = ['--import', 'tsx', FIXTURE, '--name', name, ...CHILD_TIMING_ARGS];
    nodeArgs.push('--bind', opts.bind ?? '127.0.0.1', '--port', String(opts.port ?? 0));
    if (opts.seeds && opts.seeds.length > 0) nodeArgs.push('--seeds', opts.seeds.join(','));
    // `ip netns exec` execs the command after entering the namespace, so the pid is node's own.
    const [cmd, args] = opts.netns
      ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    this.proc = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exit = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.once('exit', () => {
      this.exited = true;
      this.emit('change');
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.proc.stdout }).on('line', (text) => this.#onLine(text));
  }

  #onLine(text: string): void {
    let line: ChildLine;
    try {
      line = JSON.parse(text) as ChildLine;
    } catch {
      return; // not ours (a stray log line)
    }
    if (line.type === 'ready') {
      this.host = line.host;
      this.port = line.port;
    } else if (line.type === 'joined') {
      this.joinResult = { reached: line.reached };
    } else if (line.type === 'join-error') {
      this.joinResult = { error: line.message };
    } else if (line.type === 'event') {
      this.view = new Map(line.members.map((m) => [m.name, m]));
    }
    this.emit('change');
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  stateOf(name: string): string | undefined {
    return this.view.get(name)?.state;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves once the child has printed its bound address (rejects if it exits first). */
  ready(limitMs = STARTUP_LIMIT_MS): Promise<void> {
    return waitUntil([], [this], () => {
      if (this.exited && this.port === 0) throw new Error(`child ${this.name} exited before binding: ${this.#stderr}`);
      return this.port !== 0;
    }, limitMs, `${this.name} ready`);
  }

  /** SIGKILL: no leave, no shutdown; resolves once the process is gone (its sockets closed by the kernel). */
  async kill(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGKILL');
    await this.#exit;
  }
}

/**
 * Resolves once `predicate` holds, re-checking on every member event of the in-process nodes and every line
 * of the children. Rejects after `limitMs` (a guard against a hang) with `label` and the views seen then.
 */
function waitUntil(
  nodes: readonly MemberlistNode[],
  children: readonly ChildNode[],
  predicate: () => boolean,
  limitMs: number,
  label: string,
): Promise<void> {
  const events: NodeEventName[] = ['join', 'leave', 'suspect', 'alive', 'update'];
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(guard);
      for (const n of nodes) for (const ev of events) n.off(ev, check);
      for (const c of children) c.off('change', check);
    };
    const check = (): void => {
      let ok: boolean;
      try {
        ok = predicate();
      } catch (err) {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (ok) {
        cleanup();
        resolve();
      }
    };
    const guard = setTimeout(() => {
      cleanup();
      const views = [
        ...nodes.map((n) => `${n.name}: ${n.members().map((m) => `${m.name}=${m.state}/${m.incarnation}`).join(' ')}`),
        ...children.map((c) => `${c.name}${c.exited ? ' (exited)' : ''}: ${[...c.view.values()].map((m) => `${m.name}=${m.state}/${m.incarnation}`).join(' ')}`),
      ];
      reject(new Error(`${label}: not reached within ${limitMs} ms\n${views.join('\n')}`));
    }, limitMs);
    for (const n of nodes) for (const ev of events) n.on(ev, check);
    for (const c of children) c.on('change', check);
    check();
  });
}

const stateIn = (n: MemberlistNode, name: string): string | undefined => n.members().find((m) => m.name === name)?.state;

const allChildren: ChildNode[] = [];
function startChild(name: string, opts: ConstructorParameters<typeof ChildNode>[1]): ChildNode {
  const c = new ChildNode(name, opts);
  allChildren.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(allChildren.map((c) => c.kill()));
});

describe('faults with real sockets: SIGKILL', () => {
  const inproc: MemberlistNode[] = [];
  afterAll(async () => {
    await Promise.all(inproc.map((n) => n.shutdown()));
  });

  it('a SIGKILLed child is declared dead everywhere, and comes back alive at the same address', { timeout: 120_000 }, async () => {
    for (const name of ['in-0', 'in-1']) {
      inproc.push(await createNode({ ...TIMING, name, bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' }));
    }
    const [in0, in1] = inproc as [MemberlistNode, MemberlistNode];
    const seed = `127.0.0.1:${in0.address.port}`;
    const children = ['child-0', 'child-1', 'child-2'].map((name) => startChild(name, { seeds: [seed] }));
    await Promise.all([...children.map((c) => c.ready()), in1.join([seed])]);
    const names = [...inproc.map((n) => n.name), ...children.map((c) => c.name)];
    const allAlive = (live: readonly ChildNode[]) => (): boolean =>
      inproc.every((n) => names.every((x) => stateIn(n, x) === 'alive')) &&
      live.every((c) => c.joinResult !== undefined && names.every((x) => c.stateOf(x) === 'alive'));
    await waitUntil(inproc, children, allAlive(children), CONVERGE_LIMIT_MS, 'five nodes converge');
    for (const c of children) expect(c.joinResult).toEqual({ reached: 1 });

    // SIGKILL child-2: every survivor must declare it dead.
    const [c0, c1, c2] = children as [ChildNode, ChildNode, ChildNode];
    const victimPort = c2.port;
    await c2.kill();
    const survivors = [c0, c1];
    await waitUntil(
      inproc,
      survivors,
      () => inproc.every((n) => stateIn(n, 'child-2') === 'dead') && survivors.every((c) => c.stateOf('child-2') === 'dead'),
      DETECT_LIMIT_MS,
      'child-2 dead everywhere',
    );
    const deadIncarnation = Math.max(
      ...inproc.map((n) => n.members().find((m) => m.name === 'child-2')?.incarnation ?? 0),
      ...survivors.map((c) => c.view.get('child-2')?.incarnation ?? 0),
    );
    for (const n of inproc) expect(n.numMembers()).toBe(4);

    // Restart it with the same name and address: its incarnation starts again from scratch, so it must
    // learn it was declared dead and refute with a higher incarnation before anyone believes it alive.
    const reborn = startChild('child-2', { port: victimPort, seeds: [seed] });
    await reborn.ready();
    expect(reborn.port).toBe(victimPort);
    const live = [c0, c1, reborn];
    await waitUntil(inproc, live, allAlive(live), CONVERGE_LIMIT_MS, 'child-2 alive again everywhere');
    for (const n of inproc) {
      const m = n.members().find((x) => x.name === 'child-2');
      expect(m?.port).toBe(victimPort);
      expect(m?.incarnation).toBeGreaterThan(deadIncarnation);
      expect(n.numMembers()).toBe(5);
    }
    for (const c of live) expect(c.view.get('child-2')?.incarnation).toBeGreaterThan(deadIncarnation);
  });
});

const netns = netnsAvailability();
if (!netns.ok) console.warn(`faults-real: skipping the netns partition scenario: ${netns.reason}`);

describe('faults with real sockets: partition between network namespaces', () => {
  let pair: NetnsPair | undefined;
  afterAll(async () => {
    // Children first (their sockets live in the namespaces), then the namespaces and the veth pair.
    await Promise.all(allChildren.map((c) => c.kill()));
    pair?.destroy();
  });

  it.skipIf(!netns.ok)(
    `two hosts joined by a veth pair: cut, each side declares the other dead, heal, one view again${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
    { timeout: 120_000 },
    async () => {
      pair = createNetnsPair(`mlts-${process.pid}`);
      const p = pair;
      const a0 = startChild('ns-a0', { netns: p.nsA, bind: p.addrA });
      await a0.ready();
      const seeds = [a0.address];
      const a1 = startChild('ns-a1', { netns: p.nsA, bind: p.addrA, seeds });
      const b0 = startChild('ns-b0', { netns: p.nsB, bind: p.addrB, seeds });
      const b1 = startChild('ns-b1', { netns: p.nsB, bind: p.addrB, seeds });
      const sideA = [a0, a1];
      const sideB = [b0, b1];
      const all = [...sideA, ...sideB];
      await Promise.all(all.map((c) => c.ready()));
      const names = all.map((c) => c.name);
      const oneView = (): boolean =>
        all.every((c) => (c === a0 || c.joinResult !== undefined) && names.every((x) => c.stateOf(x) === 'alive'));
      await waitUntil([], all, oneView, CONVERGE_LIMIT_MS, 'four nodes in two namespaces converge');
      for (const c of [a1, b0, b1]) expect(c.joinResult).toEqual({ reached: 1 });
      // The B side really is another host: it is seen at B's address.
      expect(a0.view.get('ns-b0')?.host).toBe(p.addrB);

      p.cut();
      const seesDead = (watchers: readonly ChildNode[], others: readonly ChildNode[]) =>
        watchers.every((w) => others.every((o) => w.stateOf(o.name) === 'dead') && watchers.every((x) => w.stateOf(x.name) === 'alive'));
      await waitUntil([], all, () => seesDead(sideA, sideB) && seesDead(sideB, sideA), DETECT_LIMIT_MS, 'each side declares the other dead');

      p.heal();
      await waitUntil([], all, oneView, CONVERGE_LIMIT_MS, 'one view again after healing');
      for (const c of all) expect(c.exited).toBe(false);
    },
  );
});
