// SWIM-core benchmark: the three phases of HashiCorp memberlist's benchmark harness
// (shared/tools/memberlist-bench/main.go, definitions in shared/reference/anchors-measured.md §1),
// on memberlist-ts nodes, with the same JSON keys.
//
//   node dist/benchmarks/cluster-bench.js --n 50 --config local|lan [--mode inproc|sim]
//        [--converge-timeout 150] [--detect-timeout 180] [--settle 1] [--join-par 16]
//        [--seed 1] [--latency 0.2] [--jitter 0.2] [--log-level silent|error|warn|info]
//
// inproc: N real nodes in this process on 127.0.0.1 (UDP+TCP, bindPort 0), `profile: config`, every other
//         option at its default. Times are wall-clock ms (performance.now()).
// sim:    the same phases on a SimulatedCluster (MemoryNetwork + VirtualClock, one seed); times are
//         virtual ms and every line carries "time":"virtual".
//
// Phases (each emits one JSON object on stdout; progress goes to stderr):
//   convergence        t0 = the first join() call; node i joins through node 0 (retried like the Go harness:
//                      up to 10 tries, 50·try ms apart), at most --join-par joins in flight. A node is "full"
//                      when it lists N members alive or suspect, itself included (tracked with the join /
//                      leave / suspect / alive events, seeded from members() when the listeners attach).
//   failure_detection  after --settle s, node N/2 is shut down without leave(); first suspect = the first
//                      'suspect' event about it on any node; dead = each other node's first 'leave' event
//                      about it.
//   leave_propagation  node N/3 (N-1 if that is the victim or the seed) calls leave(5000), then shutdown() as
//                      soon as leave returns; left = each of the N-2 others' first 'leave' event about it.
// The process exits by itself: every node is shut down at the end (exit code 3 when convergence failed,
// as the Go harness does).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createNode, type Logger, type Member, type MemberlistNode, type MemberlistConfig, type Profile } from '../src/index.js';
import { SimulatedCluster } from '../src/testing/index.js';

// ───────────────────────────────────────────────────────────── arguments

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '10' },
    config: { type: 'string', default: 'local' },
    mode: { type: 'string', default: 'inproc' },
    'converge-timeout': { type: 'string', default: '150' },
    'detect-timeout': { type: 'string', default: '180' },
    settle: { type: 'string', default: '1' },
    'join-par': { type: 'string', default: '16' },
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0.2' },
    jitter: { type: 'string', default: '0.2' },
    'log-level': { type: 'string', default: 'silent' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

function usage(code: number, message?: string): never {
  if (message !== undefined) process.stderr.write(`cluster-bench: ${message}\n`);
  process.stderr.write(
    'usage: node dist/benchmarks/cluster-bench.js --n 50 --config local|lan [--mode inproc|sim]\n' +
      '       [--converge-timeout 150] [--detect-timeout 180] [--settle 1] [--join-par 16]\n' +
      '       [--seed 1] [--latency 0.2] [--jitter 0.2] [--log-level silent|error|warn|info]\n',
  );
  process.exit(code);
}
if (argv.help) usage(0);

const N = Number(argv.n);
const CONFIG = argv.config as Profile;
const MODE = argv.mode as 'inproc' | 'sim';
const CONVERGE_TIMEOUT_MS = Number(argv['converge-timeout']) * 1000;
const DETECT_TIMEOUT_MS = Number(argv['detect-timeout']) * 1000;
const SETTLE_MS = Number(argv.settle) * 1000;
const JOIN_PAR = Number(argv['join-par']);
const SEED = Number(argv.seed);
const LATENCY_MS = Number(argv.latency);
const JITTER_MS = Number(argv.jitter);
const LOG_LEVEL = argv['log-level'] as string;
if (!Number.isInteger(N) || N < 1) usage(2, '--n must be a positive integer');
if (CONFIG !== 'local' && CONFIG !== 'lan' && CONFIG !== 'wan') usage(2, '--config must be local or lan (or wan)');
if (MODE !== 'inproc' && MODE !== 'sim') usage(2, '--mode must be inproc or sim');
if (!(CONVERGE_TIMEOUT_MS > 0) || !(DETECT_TIMEOUT_MS > 0) || !(SETTLE_MS >= 0)) usage(2, 'timeouts must be positive numbers of seconds');
if (!Number.isInteger(JOIN_PAR) || JOIN_PAR < 0) usage(2, '--join-par must be an integer >= 0 (0 = all at once)');
if (!Number.isInteger(SEED)) usage(2, '--seed must be an integer');
if (!(LATENCY_MS >= 0) || !(JITTER_MS >= 0)) usage(2, '--latency and --jitter must be >= 0');
if (!['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(LOG_LEVEL)) usage(2, 'bad --log-level');

// ───────────────────────────────────────────────────────────── output helpers

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = joinPath(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'memberlist-ts') return pkg.version ?? '?';
    }
    dir = dirname(dir);
  }
  return '?';
}
const IMPL = `memberlist-ts ${packageVersion()}`;

function emit(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function progress(line: string): void {
  const t = new Date().toISOString().slice(11, 23);
  process.stderr.write(`[${t}] ${line}\n`);
}

/** Milliseconds rounded to 0.01 like the Go harness's ms(). */
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Go's pct(): the element at ceil(p·len)−1 of a sorted array, or undefined when empty. */
function pct(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[i];
}

/** CPU seconds every process on the machine has been busy so far (/proc/stat, as the Go harness reads it). */
function machineBusy(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1);
    let busy = 0;
    for (let i = 0; i < f.length && i < 8; i++) if (i !== 3 && i !== 4) busy += Number(f[i]);
    return busy / 100;
  } catch {
    return 0;
  }
}
const cpuSelf = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function configSummary(c: MemberlistConfig): Record<string, unknown> {
  return {
    probe_interval_ms: c.probeIntervalMs,
    probe_timeout_ms: c.probeTimeoutMs,
    gossip_interval_ms: c.gossipIntervalMs,
    gossip_nodes: c.gossipNodes,
    suspicion_mult: c.suspicionMult,
    suspicion_max_timeout_mult: c.suspicionMaxTimeoutMult,
    indirect_checks: c.indirectChecks,
    retransmit_mult: c.retransmitMult,
    push_pull_interval_ms: c.pushPullIntervalMs,
    tcp_timeout_ms: c.tcpTimeoutMs,
    compression: c.enableCompression,
  };
}

const nodeName = (i: number): string => `n${String(i).padStart(4, '0')}`;

// ───────────────────────────────────────────────────────────── library log counting

/** Counts the library's warn/error log lines (pino levels 40/50+) and echoes them when --log-level asks. */
const logCounts = { warn: 0, error: 0 };
const logSample: string[] = [];
function makeLogger(): Logger {
  const level = LOG_LEVEL === 'silent' ? 'warn' : LOG_LEVEL;
  const echo = LOG_LEVEL !== 'silent';
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const s = chunk.toString();
      const m = /"level":(\d+)/.exec(s);
      const lv = m ? Number(m[1]) : 0;
      if (lv >= 50) logCounts.error++;
      else if (lv >= 40) logCounts.warn++;
      if (lv >= 40 && logSample.length < 5) logSample.push(s.trim().slice(0, 400));
      if (echo) process.stderr.write(s);
      cb();
    },
  });
  return pino({ level, base: undefined }, sink);
}

// ───────────────────────────────────────────────────────────── tracker

/**
 * Per observer node: the set of members it lists alive or suspect (itself included), when it first
 * became full, and for every member its first 'leave' event (time and reason).
 */
class Tracker {
  readonly present: Set<string>[] = [];
  readonly fullAt: (number | undefined)[] = [];
  fullCount = 0;
  /** member name → observer index → first leave event time */
  readonly leaveAt = new Map<string, Map<number, { t: number; reason: string }>>();
  /** member name → first suspect event time (any observer) */
  readonly firstSuspect = new Map<string, number>();
  /** member name → suspect events (all observers) */
  readonly suspectEvents = new Map<string, number>();
  errors = 0;
  readonly errorSample: string[] = [];

  constructor(
    private readonly n: number,
    private readonly now: () => number,
  ) {}

  attach(idx: number, node: MemberlistNode): void {
    const set = new Set<string>();
    this.present[idx] = set;
    this.fullAt[idx] = undefined;
    const mark = (): void => {
      if (this.fullAt[idx] === undefined && set.size >= this.n) {
        this.fullAt[idx] = this.now();
        this.fullCount++;
      }
    };
    node.on('join', ({ member }) => {
      set.add(member.name);
      mark();
    });
    node.on('alive', ({ member }) => {
      set.add(member.name);
      mark();
    });
    node.on('suspect', ({ member }) => {
      const t = this.now();
      set.add(member.name);
      if (!this.firstSuspect.has(member.name)) this.firstSuspect.set(member.name, t);
      this.suspectEvents.set(member.name, (this.suspectEvents.get(member.name) ?? 0) + 1);
      mark();
    });
    node.on('leave', ({ member, reason }) => {
      const t = this.now();
      set.delete(member.name);
      let m = this.leaveAt.get(member.name);
      if (m === undefined) this.leaveAt.set(member.name, (m = new Map()));
      if (!m.has(idx)) m.set(idx, { t, reason });
    });
    node.on('error', ({ error }) => {
      this.errors++;
      if (this.errorSample.length < 5) this.errorSample.push(`${node.name}: ${error.message}`);
      progress(`node ${node.name} error: ${error.stack ?? error.message}`);
    });
    // Events emitted before the listeners were attached (our own join, typically) are in members().
    for (const m of node.members()) if (isPresent(m)) set.add(m.name);
    mark();
  }

  /** Leave-event times about `name` from observers other than `exclude`, at or after `since`, sorted. */
  leaveTimes(name: string, exclude: number, since = -Infinity): number[] {
    const out: number[] = [];
    for (const [obs, v] of this.leaveAt.get(name) ?? []) if (obs !== exclude && v.t >= since) out.push(v.t);
    return out.sort((a, b) => a - b);
  }

  leaveCount(name: string, exclude: number): number {
    const m = this.leaveAt.get(name);
    if (m === undefined) return 0;
    return m.has(exclude) ? m.size - 1 : m.size;
  }

  leaveReasons(name: string, exclude: number, since = -Infinity): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [obs, v] of this.leaveAt.get(name) ?? []) if (obs !== exclude && v.t >= since) out[v.reason] = (out[v.reason] ?? 0) + 1;
    return out;
  }
}

const isPresent = (m: Member): boolean => m.state === 'alive' || m.state === 'suspect';

// ───────────────────────────────────────────────────────────── drivers: real time and virtual time

interface Driver {
  readonly time: 'wall' | 'virtual';
  now(): number;
  delay(ms: number): Promise<void>;
  /** Resolves true as soon as `cond` holds, false when `timeoutMs` passes first. */
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Awaits an API call (in sim mode virtual time must run meanwhile). */
  settle<T>(p: Promise<T>, limitMs: number): Promise<T>;
  create(i: number, logger: Logger): Promise<MemberlistNode>;
  seedAddress(node: MemberlistNode): string;
  /** Stops a node abruptly, with no leave. */
  kill(node: MemberlistNode): Promise<void>;
  /** Shuts every node down. */
  shutdownAll(nodes: MemberlistNode[]): Promise<void>;
}

class RealDriver implements Driver {
  readonly time = 'wall' as const;
  now(): number {
    return performance.now();
  }
  delay(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) resolve(true);
        else if (performance.now() >= deadline) resolve(cond());
        else setTimeout(check, 2);
      };
      check();
    });
  }
  async settle<T>(p: Promise<T>): Promise<T> {
    return p;
  }
  create(i: number, logger: Logger): Promise<MemberlistNode> {
    return createNode({ name: nodeName(i), bindAddr: '127.0.0.1', bindPort: 0, profile: CONFIG, logger });
  }
  seedAddress(node: MemberlistNode): string {
    return `127.0.0.1:${node.address.port}`;
  }
  kill(node: MemberlistNode): Promise<void> {
    return node.shutdown();
  }
  async shutdownAll(nodes: MemberlistNode[]): Promise<void> {
    await Promise.all(nodes.map((n) => n.shutdown()));
  }
}

class SimDriver implements Driver {
  readonly time = 'virtual' as const;
  readonly cluster = new SimulatedCluster({
    seed: SEED,
    network: { latencyMs: LATENCY_MS, jitterMs: JITTER_MS },
    nodeOptions: { profile: CONFIG },
  });
  now(): number {
    return this.cluster.clock.now();
  }
  async delay(ms: number): Promise<void> {
    // Only used from inside the join pump, whose promises settle while runUntil moves the clock.
    return new Promise((r) => this.cluster.clock.setTimer(ms, r));
  }
  /**
   * cluster.runUntil, plus a progress line on stderr every 10 s of wall time (virtual time reached, steps).
   * It steps towards an absolute end time: cluster.runUntil computes `limit - (now - start)`, which with
   * fractional virtual times can leave a remainder below half an ulp of `now`, so that step() stops
   * advancing the clock and the loop spins forever (seen at N=1000, lan, seed 1; see RESULTS.md).
   */
  async waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const c = this.cluster;
    const start = c.clock.now();
    const end = start + timeoutMs;
    let lastReport = performance.now();
    let steps = 0;
    await c.flush();
    while (!cond()) {
      const now = c.clock.now();
      if (now >= end || end - now < 1e-6) return cond();
      await c.step(end - now);
      steps++;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`sim: waiting, ${(c.clock.now() - start).toFixed(1)} of ${timeoutMs} virtual ms elapsed after ${steps} steps`);
      }
    }
    return true;
  }
  /** cluster.drive, on this.waitFor (see there). */
  async settle<T>(p: Promise<T>, limitMs: number): Promise<T> {
    let settled = false;
    const tracked = p.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    if (!(await this.waitFor(() => settled, limitMs))) throw new Error(`promise did not settle within ${limitMs} ms of virtual time`);
    return tracked;
  }
  async create(i: number, logger: Logger): Promise<MemberlistNode> {
    const [node] = await this.cluster.addNodes(1, { name: nodeName(i), logger });
    return node as MemberlistNode;
  }
  seedAddress(node: MemberlistNode): string {
    return this.cluster.addressOf(node);
  }
  kill(node: MemberlistNode): Promise<void> {
    return this.cluster.crash(node);
  }
  async shutdownAll(): Promise<void> {
    await this.cluster.shutdown();
  }
}

// ───────────────────────────────────────────────────────────── the benchmark

function common(measure: string, driver: Driver): Record<string, unknown> {
  const o: Record<string, unknown> = {
    measure,
    impl: IMPL,
    mode: MODE,
    config: CONFIG,
    n: N,
    node: process.version,
    ts: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  if (driver.time === 'virtual') {
    o.time = 'virtual';
    o.seed = SEED;
    o.latency_ms = LATENCY_MS;
    o.jitter_ms = JITTER_MS;
  }
  return o;
}

async function main(): Promise<number> {
  const driver: Driver = MODE === 'sim' ? new SimDriver() : new RealDriver();
  const logger = makeLogger();
  const tracker = new Tracker(N, () => driver.now());
  const nodes: MemberlistNode[] = [];
  const wallStart = performance.now();
  let exitCode = 0;

  process.on('unhandledRejection', (err) => {
    progress(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    tracker.errors++;
    if (tracker.errorSample.length < 5) tracker.errorSample.push(`unhandledRejection: ${String(err)}`);
  });

  try {
    // ── create
    const tCreate = performance.now();
    for (let i = 0; i < N; i++) {
      const node = await driver.create(i, logger);
      nodes.push(node);
      tracker.attach(i, node);
    }
    const createMs = performance.now() - tCreate;
    const seed = nodes[0] as MemberlistNode;
    const seedAddr = driver.seedAddress(seed);
    progress(`${MODE}: created ${N} nodes (profile ${CONFIG}) in ${createMs.toFixed(1)} ms; joining through ${seedAddr}, ${JOIN_PAR || 'all'} in flight`);

    // ── convergence
    const mb0 = machineBusy();
    const mc0 = cpuSelf();
    const wall0 = performance.now();
    const t0 = driver.now();
    let joinErrors = 0;
    let joinRetries = 0;
    let joinLast = t0;
    let joinsDone = 0;
    const joinErrorSample: string[] = [];
    const joinOne = async (i: number): Promise<void> => {
      const node = nodes[i] as MemberlistNode;
      let tries = 1;
      for (; tries <= 10; tries++) {
        try {
          await node.join([seedAddr]);
          break;
        } catch (err) {
          if (tries === 10) {
            joinErrors++;
            const msg = err instanceof Error ? err.message : String(err);
            if (joinErrorSample.length < 5) joinErrorSample.push(`${node.name}: ${msg}`);
            progress(`join ${i} failed: ${msg}`);
            break;
          }
          await driver.delay(50 * tries);
        }
      }
      joinRetries += Math.min(tries, 10) - 1;
      joinLast = Math.max(joinLast, driver.now());
      joinsDone++;
    };
    const par = JOIN_PAR === 0 ? N : JOIN_PAR;
    let next = 1;
    const allJoins = new Promise<void>((resolve) => {
      if (N <= 1) return resolve();
      let inFlight = 0;
      const pump = (): void => {
        while (inFlight < par && next < N) {
          const i = next++;
          inFlight++;
          void joinOne(i).finally(() => {
            inFlight--;
            if (next >= N && inFlight === 0) resolve();
            else pump();
          });
        }
      };
      pump();
    });
    let joinsSettled = false;
    void allJoins.then(() => (joinsSettled = true));
    const ok = await driver.waitFor(() => tracker.fullCount === N, CONVERGE_TIMEOUT_MS);
    // As the Go harness: wait for the join calls themselves too (wg.Wait()).
    if (!joinsSettled) await driver.waitFor(() => joinsSettled, 60_000);
    const convWall = (performance.now() - wall0) / 1000;
    const full = tracker.fullAt.filter((t): t is number => t !== undefined).map((t) => t - t0).sort((a, b) => a - b);
    const conv = common('convergence', driver);
    conv.join = 'concurrent';
    conv.join_par = par;
    conv.converged = ok;
    conv.nodes_full = full.length;
    conv.converge_ms = ok ? r2(pct(full, 1) as number) : null;
    conv.last_full_ms = full.length > 0 ? r2(full[full.length - 1] as number) : null;
    conv.p50_node_full_ms = full.length > 0 ? r2(pct(full, 0.5) as number) : null;
    conv.p90_node_full_ms = full.length > 0 ? r2(pct(full, 0.9) as number) : null;
    conv.last_join_return_ms = r2(joinLast - t0);
    conv.joins_done = joinsDone;
    conv.join_errors = joinErrors;
    conv.join_retries = joinRetries;
    if (joinErrorSample.length > 0) conv.join_error_sample = joinErrorSample;
    conv.create_ms = r2(createMs);
    conv.other_procs_busy_cores = r2((machineBusy() - mb0 - (cpuSelf() - mc0)) / Math.max(convWall, 1e-3));
    conv.cpu_s = r2(cpuSelf() - mc0);
    conv.wall_s = r2(convWall);
    if (!ok) {
      // Who is missing what: the least-informed observers.
      const worst = tracker.present
        .map((s, i) => ({ i, size: s.size }))
        .sort((a, b) => a.size - b.size)
        .slice(0, 3);
      conv.least_full_nodes = worst.map((w) => `${nodeName(w.i)}:${w.size}/${N}`);
    }
    conv.node_errors = tracker.errors;
    if (tracker.errorSample.length > 0) conv.node_error_sample = [...tracker.errorSample];
    conv.warn_log_lines = logCounts.warn;
    conv.err_log_lines = logCounts.error;
    if (logSample.length > 0) conv.log_sample = [...logSample];
    conv.definition =
      driver.time === 'virtual'
        ? 't0 = first join() call; converge_ms = virtual time until the last node first listed n members (alive or suspect, incl. itself), from join/leave/suspect/alive events'
        : "t0 = first join() call; converge_ms = time until the last node first listed n members (alive or suspect, incl. itself), from its join/leave/suspect/alive events; null when not converged (last_full_ms = the last node that did)";
    conv.config_values = configSummary(seed.config);
    emit(conv);
    progress(
      `convergence: ${ok ? `converged in ${conv.converge_ms} ms` : `NOT converged within ${CONVERGE_TIMEOUT_MS / 1000} s (${full.length}/${N} full)`}; p50 node ${conv.p50_node_full_ms} ms, p90 ${conv.p90_node_full_ms} ms; joins ${joinsDone} (${joinErrors} errors, ${joinRetries} retries); wall ${convWall.toFixed(1)} s`,
    );
    if (!ok) {
      exitCode = 3;
      return exitCode;
    }
    if (N < 3) return exitCode;

    await (driver.time === 'virtual' ? driver.waitFor(() => false, SETTLE_MS) : driver.delay(SETTLE_MS));

    // ── abrupt failure: shutdown() without leave()
    const victimIdx = Math.floor(N / 2);
    const victim = nodes[victimIdx] as MemberlistNode;
    const suspectEvents0 = tracker.suspectEvents.get(victim.name) ?? 0;
    const preDead = tracker.leaveCount(victim.name, victimIdx);
    const tKillWall = performance.now();
    const tKill = driver.now();
    await driver.kill(victim);
    const shutdownCallMs = performance.now() - tKillWall;
    let expect = N - 1;
    const detected = await driver.waitFor(() => tracker.leaveCount(victim.name, victimIdx) >= expect, DETECT_TIMEOUT_MS);
    const dt = tracker.leaveTimes(victim.name, victimIdx, tKill);
    const fd = common('failure_detection', driver);
    fd.how =
      driver.time === 'virtual'
        ? 'SimulatedCluster.crash(victim): its MemoryNetwork address goes silent both ways, then shutdown() without leave()'
        : 'victim.shutdown() without leave() (sockets closed: UDP pings get ICMP port-unreachable, TCP fallback gets RST)';
    fd.victim = victim.name;
    fd.all_detected = detected;
    fd.observers_dead = dt.length;
    fd.observers_dead_before_kill = preDead;
    fd.expected_observers = expect;
    const fs = tracker.firstSuspect.get(victim.name);
    if (fs !== undefined && fs >= tKill) fd.first_suspect_ms = r2(fs - tKill);
    if (dt.length > 0) {
      fd.first_dead_ms = r2((dt[0] as number) - tKill);
      fd.p50_dead_ms = r2((pct(dt, 0.5) as number) - tKill);
      fd.p90_dead_ms = r2((pct(dt, 0.9) as number) - tKill);
      fd.all_dead_ms = r2((dt[dt.length - 1] as number) - tKill);
    }
    fd.dead_reasons = tracker.leaveReasons(victim.name, victimIdx, tKill);
    fd.suspect_events_all_nodes = (tracker.suspectEvents.get(victim.name) ?? 0) - suspectEvents0;
    fd.shutdown_call_ms = r2(shutdownCallMs);
    fd.node_errors = tracker.errors;
    fd.warn_log_lines = logCounts.warn;
    fd.err_log_lines = logCounts.error;
    emit(fd);
    progress(
      `failure: ${victim.name} first suspect ${fd.first_suspect_ms ?? '-'} ms, first dead ${fd.first_dead_ms ?? '-'} ms, all dead ${fd.all_dead_ms ?? '-'} ms (${dt.length}/${expect}${detected ? '' : ', NOT all detected'})`,
    );

    // ── graceful leave
    let leaverIdx = Math.floor(N / 3);
    if (leaverIdx === victimIdx || leaverIdx === 0) leaverIdx = N - 1;
    const leaver = nodes[leaverIdx] as MemberlistNode;
    const preLeft = tracker.leaveCount(leaver.name, leaverIdx);
    const tLeaveWall = performance.now();
    const tLeave = driver.now();
    let leaveErr: string | undefined;
    let leaveResult: boolean | undefined;
    try {
      leaveResult = await driver.settle(leaver.leave(5000), 10_000);
    } catch (err) {
      leaveErr = err instanceof Error ? err.message : String(err);
    }
    const leaveCallMs = driver.time === 'virtual' ? driver.now() - tLeave : performance.now() - tLeaveWall;
    await leaver.shutdown();
    expect = N - 2;
    const received = await driver.waitFor(() => tracker.leaveCount(leaver.name, leaverIdx) >= expect, DETECT_TIMEOUT_MS);
    const others = tracker.leaveTimes(leaver.name, leaverIdx, tLeave);
    const lp = common('leave_propagation', driver);
    lp.leaver = leaver.name;
    lp.all_received = received;
    lp.observers_left = others.length;
    lp.observers_dead_before_leave = preLeft;
    lp.expected_observers = expect;
    lp.leave_call_ms = r2(leaveCallMs);
    if (leaveErr !== undefined) lp.leave_err = leaveErr;
    lp.leave_result = leaveResult ?? null;
    if (others.length > 0) {
      lp.first_left_ms = r2((others[0] as number) - tLeave);
      lp.p50_left_ms = r2((pct(others, 0.5) as number) - tLeave);
      lp.all_left_ms = r2((others[others.length - 1] as number) - tLeave);
    }
    lp.left_reasons = tracker.leaveReasons(leaver.name, leaverIdx, tLeave);
    lp.how = 'leave(5000) then shutdown() as soon as leave returns';
    lp.node_errors = tracker.errors;
    lp.warn_log_lines = logCounts.warn;
    lp.err_log_lines = logCounts.error;
    if (driver.time === 'virtual') lp.wall_s_total = r2((performance.now() - wallStart) / 1000);
    emit(lp);
    progress(
      `leave: ${leaver.name} leave() took ${lp.leave_call_ms} ms (result ${String(leaveResult)}), first left ${lp.first_left_ms ?? '-'} ms, all left ${lp.all_left_ms ?? '-'} ms (${others.length}/${expect}${received ? '' : ', NOT all received'})`,
    );
    return exitCode;
  } finally {
    const t = performance.now();
    await driver.shutdownAll(nodes);
    progress(`all ${nodes.length} nodes shut down in ${(performance.now() - t).toFixed(0)} ms; total wall ${((performance.now() - wallStart) / 1000).toFixed(1)} s`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Every node is shut down: the event loop should drain now. If it does not within 5 s, say what is
    // still open (that would be a leak in the library) and exit anyway.
    setTimeout(() => {
      const open = process.getActiveResourcesInfo();
      progress(`WARNING: event loop still busy 5 s after every node was shut down; open resources: ${JSON.stringify(open)}`);
      process.exit(code === 0 ? 4 : code);
    }, 5000).unref();
  },
  (err: unknown) => {
    progress(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
