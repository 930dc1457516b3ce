import { createNode, type MemberlistNode, type NodeOptions } from '../node.js';
import { SeededRandom } from '../random.js';
import { MemoryNetwork, type MemoryNetworkOptions } from './memory-network.js';
import { VirtualClock } from './virtual-clock.js';

/** Below this remainder (virtual ms) a run is over: fractional clocks cannot step by less. */
const EPSILON_MS = 1e-6;

export interface SimulatedClusterOptions {
  /** Seed of every random choice (probe order, gossip targets, loss): same seed, same run. */
  seed?: number;
  /** Options given to every node (profile and config overrides). Names are `node-<i>`. */
  nodeOptions?: Omit<NodeOptions, 'clock' | 'random' | 'network' | 'transport' | 'name'>;
  network?: Omit<MemoryNetworkOptions, 'clock' | 'random'>;
  /**
   * Virtual ms that one step() may run past the next due timer before letting promise continuations
   * run (default 0: every step stops at the next deadline, so a continuation runs at the exact virtual
   * time its promise settled). With jitter every packet has its own deadline, so at thousands of nodes
   * nearly every step is one timer plus two event-loop turns; a quantum of e.g. 1 ms runs all timers in
   * that window in one go. Timers still run in exact deadline order; only continuations (a dial
   * resolving, an API call returning) may run up to one quantum late. The run stays deterministic.
   */
  stepQuantumMs?: number;
}

/**
 * Many real nodes (the same actors as production) on one MemoryNetwork and one VirtualClock, in one
 * process. Time moves only through step()/runFor()/runUntil(), so every assertion is on virtual time.
 *
 * Promise continuations (a dial completing, an API call resolving) run as real microtasks, so the
 * harness advances virtual time to the next due timer and then lets pending microtasks run before
 * the next step; the outcome depends only on the seed.
 */
export class SimulatedCluster {
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  readonly network: MemoryNetwork;
  readonly nodes: MemberlistNode[] = [];
  readonly #options: SimulatedClusterOptions;
  #nextIndex = 0;

  constructor(options: SimulatedClusterOptions = {}) {
    this.#options = options;
    this.clock = new VirtualClock();
    this.random = new SeededRandom(options.seed ?? 1);
    this.network = new MemoryNetwork({ clock: this.clock, random: this.random.fork(), ...options.network });
  }

  /** Starts `count` more nodes (not yet joined). */
  async addNodes(count: number, overrides: Partial<NodeOptions> = {}): Promise<MemberlistNode[]> {
    const added: MemberlistNode[] = [];
    for (let i = 0; i < count; i++) {
      const node = await createNode({
        ...this.#options.nodeOptions,
        ...overrides,
        name: overrides.name ?? `node-${this.#nextIndex++}`,
        clock: this.clock,
        random: this.random.fork(),
        network: this.network,
      });
      this.nodes.push(node);
      added.push(node);
    }
    return added;
  }

  /** "host:port" of a node's advertised address, for join(). */
  addressOf(node: MemberlistNode): string {
    const a = node.advertiseAddress;
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  }

  running(): MemberlistNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /**
   * Every running node sees exactly the running nodes as alive. A node whose alive count differs is
   * rejected before its members are compared, so a check during a join costs O(nodes) rather than
   * O(nodes²) (numMembers scans one map; members() would copy it).
   */
  converged(): boolean {
    const live = this.running();
    const names = new Set(live.map((n) => n.name));
    if (!live.every((n) => n.numMembers() === names.size)) return false;
    return live.every((n) => n.members().every((m) => m.state !== 'alive' || names.has(m.name)));
  }

  /** Lets pending promise continuations run (they may schedule timers at the current virtual time). */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Advances virtual time by up to `maxMs`, stopping at the next due timer; returns the step taken. */
  async step(maxMs: number): Promise<number> {
    await this.flush();
    this.clock.runDue();
    const next = this.clock.nextDeadline();
    const now = this.clock.now();
    const quantum = this.#options.stepQuantumMs ?? 0;
    const target = next === undefined ? now + maxMs : Math.min(now + maxMs, next + quantum);
    this.clock.advanceTo(target);
    await this.flush();
    return target - now;
  }

  /** Runs for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    // Toward an absolute end: a remainder too small to move a fractional clock would spin forever.
    while (end - this.clock.now() > EPSILON_MS) await this.step(end - this.clock.now());
    if (this.clock.now() < end) this.clock.advanceTo(end);
  }

  /**
   * Runs until `predicate` holds, checking after every step, at most `limitMs` of virtual time.
   * Returns the virtual time it took, or undefined when the limit passed first.
   */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<number | undefined> {
    const start = this.clock.now();
    const end = start + limitMs;
    await this.flush();
    while (!predicate()) {
      if (end - this.clock.now() <= EPSILON_MS) return undefined;
      await this.step(end - this.clock.now());
    }
    return this.clock.now() - start;
  }

  /** Awaits a promise while virtual time runs (API calls such as join and leave need the clock to move). */
  async drive<T>(promise: Promise<T>, limitMs: number): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    const took = await this.runUntil(() => settled, limitMs);
    if (took === undefined) throw new Error(`promise did not settle within ${limitMs} ms of virtual time`);
    return tracked;
  }

  /** Joins every node that is not the seed to `seedIndex`, one after another. */
  async joinAll(seedIndex = 0, limitMs = 60_000): Promise<void> {
    const seed = this.nodes[seedIndex];
    if (seed === undefined) throw new Error(`no node ${seedIndex}`);
    const address = this.addressOf(seed);
    for (const node of this.nodes) {
      if (node === seed || !node.running) continue;
      await this.drive(node.join([address]), limitMs);
    }
  }

  /**
   * Starts every other node's join to `seedIndex` with at most `maxInFlight` joins at once (as the
   * memberlist benchmark harness does), without waiting: returns the promise of all joins, which
   * settles as virtual time runs.
   */
  startJoins(seedIndex = 0, maxInFlight = 16): Promise<number[]> {
    const seed = this.nodes[seedIndex];
    if (seed === undefined) throw new Error(`no node ${seedIndex}`);
    const address = this.addressOf(seed);
    const queue = this.nodes.filter((n) => n !== seed && n.running);
    const results: Promise<number>[] = [];
    let inFlight = 0;
    let next = 0; // an index, not queue.shift(): O(1) per join at any cluster size
    return new Promise((resolve) => {
      if (queue.length === 0) {
        resolve([]);
        return;
      }
      const pump = (): void => {
        while (inFlight < maxInFlight && next < queue.length) {
          const node = queue[next++] as MemberlistNode;
          inFlight++;
          const p = node.join([address]);
          results.push(p);
          p.catch(() => 0).finally(() => {
            inFlight--;
            pump();
            if (inFlight === 0 && next >= queue.length) resolve(Promise.all(results));
          });
        }
      };
      pump();
    });
  }

  /** Crashes a node: its network goes silent both ways and its actors stop, with no leave. */
  async crash(node: MemberlistNode): Promise<void> {
    this.network.crash(node.advertiseAddress);
    await node.shutdown();
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.shutdown()));
  }
}
