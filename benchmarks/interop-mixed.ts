/**
 * Mixed clusters with Go memberlist: convergence and failure detection of N nodes on 127.0.0.1 for
 * four clusters: all Go (memberlist 0.2.2, one process per node), mixed (half Go, half ours with
 * wire 'memberlist', interleaved), all ours on the memberlist wire, and all ours on the default
 * protobuf wire. Every cluster runs memberlist's DefaultLocalConfig timings (our 'local' profile);
 * our nodes run in this process with the default threading.
 *
 *   npx tsx benchmarks/interop-mixed.ts [--n 6] [--reps 5]
 *
 * convergence: from the first join request (every node but the seed joins the seed at once) until
 *   every node has seen every other one join (Go: NotifyJoin; ours: 'join' events).
 * detection: one node killed (Go: SIGKILL; ours: shutdown() without leave) until the first and the
 *   last survivor report it failed (Go: NotifyLeave; ours: 'leave' with reason 'failed').
 * Times are wall-clock ms of the event as the node stamped it (Go: the helper's time.Now, ours:
 * Date.now() in the listener), all on one machine. One JSON line per run on stdout, a table on stderr.
 */
import { cpus } from 'node:os';
import { createNode, type MemberlistNode } from '../src/index.js';
import { buildGoHelper, goAvailability, GoNode } from '../test/interop/go-node.js';

type Kind = 'go' | 'ts-memberlist' | 'ts-protobuf';
type Scenario = 'all-go' | 'mixed' | 'all-ts-memberlist' | 'all-ts-protobuf';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const N = arg('n', 6);
const REPS = arg('reps', 5);
const LIMIT_MS = 60_000;
/** memberlist DefaultLocalConfig, which our 'local' profile mirrors. */
const GO_ARGS = ['-probe-interval=1s', '-probe-timeout=200ms', '-gossip-interval=100ms', '-push-pull-interval=15s', '-suspicion-mult=3'];

interface Member {
  readonly name: string;
  readonly kind: Kind;
  readonly address: string;
  /** name → wall ms it saw that node join / fail. */
  readonly joins: Map<string, number>;
  readonly failed: Map<string, number>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  join(seed: string): void;
}

async function goMember(binary: string, name: string): Promise<Member> {
  const g = await new GoNode(binary, { name, extraArgs: GO_ARGS }).ready();
  const joins = new Map<string, number>();
  const failed = new Map<string, number>();
  let seen = 0;
  const scan = (): void => {
    for (; seen < g.events.length; seen++) {
      const e = g.events[seen]!;
      const node = String(e['node'] ?? '');
      if (e.ev === 'join' && !joins.has(node)) joins.set(node, e.t / 1e6);
      if (e.ev === 'leave' && !failed.has(node)) failed.set(node, e.t / 1e6);
    }
  };
  const timer = setInterval(scan, 5);
  return {
    name,
    kind: 'go',
    address: g.address,
    joins,
    failed,
    kill: async () => {
      g.kill();
      clearInterval(timer);
    },
    stop: async () => {
      clearInterval(timer);
      await g.stop();
    },
    join: (seed) => g.command({ cmd: 'join', seeds: [seed] }),
  };
}

async function tsMember(name: string, wire: 'memberlist' | 'protobuf'): Promise<Member> {
  const joins = new Map<string, number>();
  const failed = new Map<string, number>();
  const node: MemberlistNode = await createNode({
    name,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    profile: 'local',
    wire,
    listeners: {
      join: ({ member }) => void (joins.has(member.name) || joins.set(member.name, Date.now())),
      leave: ({ member, reason }) => void (reason === 'failed' && !failed.has(member.name) && failed.set(member.name, Date.now())),
    },
  });
  return {
    name,
    kind: wire === 'memberlist' ? 'ts-memberlist' : 'ts-protobuf',
    address: `127.0.0.1:${node.address.port}`,
    joins,
    failed,
    kill: () => node.shutdown(),
    stop: () => node.shutdown(),
    join: (seed) => void node.join([seed]).catch(() => undefined),
  };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > LIMIT_MS) throw new Error(`${what} not reached within ${LIMIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function run(binary: string, scenario: Scenario, rep: number): Promise<Record<string, unknown>> {
  const kinds: Kind[] = Array.from({ length: N }, (_, i) =>
    scenario === 'all-go' ? 'go' : scenario === 'mixed' ? (i % 2 === 0 ? 'go' : 'ts-memberlist') : scenario === 'all-ts-memberlist' ? 'ts-memberlist' : 'ts-protobuf',
  );
  const members: Member[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const name = `${scenario}-${rep}-${i}`;
      const kind = kinds[i]!;
      members.push(kind === 'go' ? await goMember(binary, name) : await tsMember(name, kind === 'ts-memberlist' ? 'memberlist' : 'protobuf'));
    }
    const names = members.map((m) => m.name);
    const t0 = Date.now();
    for (const m of members.slice(1)) m.join(members[0]!.address);
    await until(() => members.every((m) => names.every((n) => m.joins.has(n))), 'convergence');
    const converged = Math.max(...members.map((m) => Math.max(...names.map((n) => m.joins.get(n)!)))) - t0;

    // Kill the last node (in the mixed cluster a TS node when N is even, so also run with the Go one).
    const detections: Record<string, unknown> = {};
    const victims = scenario === 'mixed' ? [members[N - 1]!, members[N - 2]!] : [members[N - 1]!];
    let alive = members.slice();
    for (const victim of victims) {
      alive = alive.filter((m) => m !== victim);
      const k0 = Date.now();
      await victim.kill();
      await until(() => alive.every((m) => m.failed.has(victim.name)), `detection of ${victim.name}`);
      const times = alive.map((m) => m.failed.get(victim.name)! - k0);
      detections[victim.kind] = { firstMs: Math.round(Math.min(...times)), allMs: Math.round(Math.max(...times)) };
    }
    return { scenario, rep, n: N, kinds: kinds.join(','), convergeMs: Math.round(converged), detect: detections };
  } finally {
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const avail = goAvailability();
  if (!avail.ok) {
    console.error(`cannot run: ${avail.reason}`);
    process.exit(2);
  }
  const binary = buildGoHelper();
  console.error(`N=${N}, ${REPS} reps, ${cpus().length} cores, Node ${process.version}`);
  const scenarios: Scenario[] = ['all-go', 'mixed', 'all-ts-memberlist', 'all-ts-protobuf'];
  const rows: Array<Record<string, unknown>> = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const scenario of scenarios) {
      const r = await run(binary, scenario, rep);
      rows.push(r);
      console.log(JSON.stringify(r));
    }
  }
  console.error('scenario            converge ms (median/max)   detection ms first/all (median)');
  for (const s of scenarios) {
    const rs = rows.filter((r) => r['scenario'] === s);
    const conv = rs.map((r) => r['convergeMs'] as number);
    const kinds = Object.keys((rs[0]!['detect'] ?? {}) as object);
    const det = kinds
      .map((k) => {
        const d = rs.map((r) => (r['detect'] as Record<string, { firstMs: number; allMs: number }>)[k]!);
        return `${k} killed: ${median(d.map((x) => x.firstMs))}/${median(d.map((x) => x.allMs))}`;
      })
      .join('; ');
    console.error(`${s.padEnd(20)}${String(median(conv)).padStart(6)} / ${String(Math.max(...conv)).padEnd(14)}${det}`);
  }
}

await main();
