// SWIM-core benchmark: the three phases of HashiCorp memberlist's benchmark harness
// (shared/tools/memberlist-bench/main.go, definitions in shared/reference/anchors-measured.md §1),
// on memberlist-ts nodes, with the same JSON keys.
//
//   node dist/benchmarks/cluster-bench.js --n 50 --config local|lan [--mode inproc|sim|multiproc]
//        [--converge-timeout 150] [--detect-timeout 180] [--settle 1] [--join-par 16]
//        [--seed 1] [--latency 0.2] [--jitter 0.2] [--log-level silent|error|warn|info]
//        [--threading inline|isolated] [--warmup 5 --steady 30] [--merge-offload-threshold K]
//        [--max-rss-mb 11000] [--skip-leave] [--procs P]
//
// --threading: real-socket nodes run their protocol actors on this thread ('inline', the default here: what
//         the earlier figures measured) or each on its own worker thread ('isolated', the library's default).
// --steady S (inproc and multiproc): after convergence wait --warmup s, then measure an S-second window of the
//         idle cluster, like the Go harness's steady_state line (same keys): process CPU (all threads) per node
//         per s, payload bytes sent per node per s (UDP: the nodes' transport counters; TCP: every write on a
//         TCP socket of this process, counted by wrapping net.Socket.prototype.write, i.e. what the Go harness's
//         countingTransport counts; not countable with --threading isolated, where the sockets live on worker
//         threads), and RSS per node ((RSS at the end − RSS before any node existed) / N). With --steady the
//         failure phase follows the window at once (--settle is not added).
// multiproc: --procs P child processes (this script, --mode child) of ceil(N/P) nodes each; the parent drives
//         them over stdin/stdout and emits the same lines (convergence, steady_state, failure_detection; no
//         leave phase). Times are wall-clock ms since the epoch (performance.timeOrigin + now) in every process.
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
import net from 'node:net';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
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
    threading: { type: 'string', default: 'inline' },
    warmup: { type: 'string', default: '5' },
    steady: { type: 'string', default: '0' },
    'merge-offload-threshold': { type: 'string' },
    'max-rss-mb': { type: 'string', default: '11000' },
    'skip-leave': { type: 'boolean', default: false },
    procs: { type: 'string', default: '10' },
    'child-first': { type: 'string', default: '0' },
    'child-count': { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

function usage(code: number, message?: string): never {
  if (message !== undefined) process.stderr.write(`cluster-bench: ${message}\n`);
  process.stderr.write(
    'usage: node dist/benchmarks/cluster-bench.js --n 50 --config local|lan [--mode inproc|sim]\n' +
      '       [--converge-timeout 150] [--detect-timeout 180] [--settle 1] [--join-par 16]\n' +
      '       [--seed 1] [--latency 0.2] [--jitter 0.2] [--log-level silent|error|warn|info]\n' +
      '       [--threading inline|isolated] [--warmup 5 --steady 30] [--merge-offload-threshold K]\n' +
      '       [--max-rss-mb 11000] [--skip-leave] [--procs P (multiproc)]\n',
  );
  process.exit(code);
}
if (argv.help) usage(0);

const N = Number(argv.n);
const CONFIG = argv.config as Profile;
const MODE = argv.mode as 'inproc' | 'sim' | 'multiproc' | 'child';
const CONVERGE_TIMEOUT_MS = Number(argv['converge-timeout']) * 1000;
const DETECT_TIMEOUT_MS = Number(argv['detect-timeout']) * 1000;
const SETTLE_MS = Number(argv.settle) * 1000;
const JOIN_PAR = Number(argv['join-par']);
const SEED = Number(argv.seed);
const LATENCY_MS = Number(argv.latency);
const JITTER_MS = Number(argv.jitter);
const LOG_LEVEL = argv['log-level'] as string;
const THREADING = argv.threading as 'inline' | 'isolated';
const WARMUP_MS = Number(argv.warmup) * 1000;
const STEADY_MS = Number(argv.steady) * 1000;
const MERGE_THRESHOLD = argv['merge-offload-threshold'] === undefined ? undefined : Number(argv['merge-offload-threshold']);
const MAX_RSS_MB = Number(argv['max-rss-mb']);
const SKIP_LEAVE = argv['skip-leave'] as boolean;
const PROCS = Number(argv.procs);
const CHILD_FIRST = Number(argv['child-first']);
const CHILD_COUNT = Number(argv['child-count']);
if (!Number.isInteger(N) || N < 1) usage(2, '--n must be a positive integer');
if (CONFIG !== 'local' && CONFIG !== 'lan' && CONFIG !== 'wan') usage(2, '--config must be local or lan (or wan)');
if (MODE !== 'inproc' && MODE !== 'sim' && MODE !== 'multiproc' && MODE !== 'child') usage(2, '--mode must be inproc, sim or multiproc');
if (THREADING !== 'inline' && THREADING !== 'isolated') usage(2, '--threading must be inline or isolated');
if (!(WARMUP_MS >= 0) || !(STEADY_MS >= 0)) usage(2, '--warmup and --steady must be >= 0');
if (STEADY_MS > 0 && MODE === 'sim') usage(2, '--steady is for real sockets (inproc, multiproc); sim-scale.js measures the simulated steady state');
if (MERGE_THRESHOLD !== undefined && !(Number.isInteger(MERGE_THRESHOLD) && MERGE_THRESHOLD >= 0)) usage(2, '--merge-offload-threshold must be an integer >= 0');
if (!(MAX_RSS_MB > 0)) usage(2, '--max-rss-mb must be positive');
if (!Number.isInteger(PROCS) || PROCS < 1) usage(2, '--procs must be a positive integer');
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

// ───────────────────────────────────────────────────────────── steady-state counters (real sockets)

/** Payload bytes written to TCP sockets by this process (every net.Socket but our own stdio pipes). */
const tcpOut = { bytes: 0, writes: 0 };
function installTcpCounter(): void {
  const proto = net.Socket.prototype as unknown as { write: (this: net.Socket, ...a: unknown[]) => boolean };
  const orig = proto.write;
  proto.write = function (this: net.Socket, ...a: unknown[]): boolean {
    if (this !== (process.stdout as unknown) && this !== (process.stderr as unknown) && this !== (process.stdin as unknown)) {
      const d = a[0];
      tcpOut.bytes += typeof d === 'string' ? Buffer.byteLength(d, typeof a[1] === 'string' ? (a[1] as BufferEncoding) : 'utf8') : ((d as Uint8Array | undefined)?.byteLength ?? 0);
      tcpOut.writes++;
    }
    return orig.apply(this, a);
  };
}

const rssKb = (): number => Math.round(process.memoryUsage.rss() / 1024);
const wallNow = (): number => performance.timeOrigin + performance.now();

/** Exits (code 5, one "aborted" line) when this process's RSS passes --max-rss-mb: keeps the machine usable. */
function installRssGuard(): void {
  const t = setInterval(() => {
    const kb = rssKb();
    if (kb > MAX_RSS_MB * 1024) {
      emit({ measure: 'aborted', reason: `rss ${Math.round(kb / 1024)} MB > --max-rss-mb ${MAX_RSS_MB}`, rss_kb: kb, n: N, mode: MODE, ts: new Date().toISOString() });
      progress(`ABORT: rss ${Math.round(kb / 1024)} MB > ${MAX_RSS_MB} MB`);
      process.exit(5);
    }
  }, 500);
  t.unref();
}

interface Snap {
  t: number;
  cpuS: number;
  busyS: number;
  rssKb: number;
  heapKb: number;
  udpBytes: number;
  udpPkts: number;
  tcpBytes: number | null;
  tcpWrites: number | null;
  streamsOpened: number;
  pushPullsSent: number;
}

async function snapshot(nodes: readonly MemberlistNode[]): Promise<Snap> {
  let udpBytes = 0;
  let udpPkts = 0;
  let streams = 0;
  let pps = 0;
  for (const node of nodes) {
    const m = node.threading === 'isolated' ? await node.refreshMetrics() : node.metrics();
    udpBytes += m.transport.bytesSent;
    udpPkts += m.transport.packetsSent;
    streams += m.transport.streamsOpened;
    pps += m.protocol.pushPullsSent;
  }
  const isolated = nodes.some((x) => x.threading === 'isolated');
  return {
    t: performance.now(),
    cpuS: cpuSelf(),
    busyS: machineBusy(),
    rssKb: rssKb(),
    heapKb: Math.round(process.memoryUsage().heapUsed / 1024),
    udpBytes,
    udpPkts,
    tcpBytes: isolated ? null : tcpOut.bytes,
    tcpWrites: isolated ? null : tcpOut.writes,
    streamsOpened: streams,
    pushPullsSent: pps,
  };
}

/** Sum of per-process snapshots (multiproc). */
function sumSnaps(xs: readonly Snap[]): Snap {
  const add = (k: keyof Snap): number => xs.reduce((a, x) => a + ((x[k] as number | null) ?? 0), 0);
  return {
    t: Math.max(...xs.map((x) => x.t)),
    cpuS: add('cpuS'),
    busyS: xs[0]?.busyS ?? 0,
    rssKb: add('rssKb'),
    heapKb: add('heapKb'),
    udpBytes: add('udpBytes'),
    udpPkts: add('udpPkts'),
    tcpBytes: xs.some((x) => x.tcpBytes === null) ? null : add('tcpBytes'),
    tcpWrites: xs.some((x) => x.tcpWrites === null) ? null : add('tcpWrites'),
    streamsOpened: add('streamsOpened'),
    pushPullsSent: add('pushPullsSent'),
  };
}

/** The Go harness's steady_state keys, from two snapshots over `sec` seconds. */
function steadyFields(s0: Snap, s1: Snap, sec: number, n: number, rss0Kb: number, busy: { before: number; after: number }): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  const cpu = s1.cpuS - s0.cpuS;
  const perNodeS = (x: number): number => Math.round(x / n / sec);
  r.window_s = r2(sec);
  r.cpu_s_total = Math.round(cpu * 1000) / 1000;
  r.cpu_ms_per_node_per_s = Math.round((cpu / n / sec) * 1e6) / 1000;
  r.cpu_pct_of_one_core_total = Math.round((cpu / sec) * 1000) / 10;
  r.other_procs_busy_cores = r2((busy.after - busy.before - cpu) / sec);
  r.rss_kb_total = s1.rssKb;
  r.rss_kb_baseline_before_nodes = rss0Kb;
  r.rss_kb_per_node = Math.round((s1.rssKb - rss0Kb) / n);
  r.heap_used_kb_total = s1.heapKb;
  r.app_udp_bytes_per_node_per_s = perNodeS(s1.udpBytes - s0.udpBytes);
  r.app_udp_pkts_per_node_per_s = r2((s1.udpPkts - s0.udpPkts) / n / sec);
  r.app_tcp_bytes_per_node_per_s = s1.tcpBytes === null || s0.tcpBytes === null ? null : perNodeS(s1.tcpBytes - s0.tcpBytes);
  r.app_tcp_conns_per_node_per_s = Math.round(((s1.streamsOpened - s0.streamsOpened) / n / sec) * 1000) / 1000;
  r.app_total_bytes_per_node_per_s =
    s1.tcpBytes === null || s0.tcpBytes === null ? null : perNodeS(s1.udpBytes - s0.udpBytes + (s1.tcpBytes - s0.tcpBytes));
  r.wire_udp_ip_bytes_per_node_per_s = perNodeS(s1.udpBytes - s0.udpBytes + 28 * (s1.udpPkts - s0.udpPkts));
  r.push_pulls_sent_per_node_per_s = Math.round(((s1.pushPullsSent - s0.pushPullsSent) / n / sec) * 1000) / 1000;
  r.definition =
    'app_udp = payload bytes the nodes handed to UDP send (transport.bytesSent); app_tcp = payload bytes written to TCP sockets by this process (net.Socket.prototype.write wrapped; null when threading is isolated: the sockets are on worker threads); sent side only, per node per s; cpu = process.cpuUsage() of the whole process (all threads); rss_kb_per_node = (RSS at the end of the window − RSS before any node was created) / n';
  return r;
}

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
    return createNode({
      name: nodeName(i),
      bindAddr: '127.0.0.1',
      bindPort: 0,
      profile: CONFIG,
      logger,
      threading: THREADING,
      ...(MERGE_THRESHOLD !== undefined ? { mergeOffloadThreshold: MERGE_THRESHOLD } : {}),
    });
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
  if (driver.time === 'wall') {
    o.threading = THREADING;
    if (MERGE_THRESHOLD !== undefined) o.merge_offload_threshold = MERGE_THRESHOLD;
    if (MODE === 'multiproc') o.procs = PROCS;
  }
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

  const rss0Kb = rssKb();
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

    if (STEADY_MS > 0) {
      // ── steady state (real sockets only): --warmup s of rest, then the --steady s window
      await driver.delay(WARMUP_MS);
      const s0 = await snapshot(nodes);
      await driver.delay(STEADY_MS);
      const s1 = await snapshot(nodes);
      const sec = (s1.t - s0.t) / 1000;
      const st: Record<string, unknown> = { ...common('steady_state', driver), warmup_s: WARMUP_MS / 1000, ...steadyFields(s0, s1, sec, N, rss0Kb, { before: s0.busyS, after: s1.busyS }) };
      st.node_errors = tracker.errors;
      st.warn_log_lines = logCounts.warn;
      st.err_log_lines = logCounts.error;
      emit(st);
      progress(
        `steady: ${String(st.cpu_ms_per_node_per_s)} ms CPU/node/s, ${String(st.app_total_bytes_per_node_per_s ?? `${String(st.app_udp_bytes_per_node_per_s)} (UDP only)`)} B/node/s, ${String(st.rss_kb_per_node)} KB RSS/node`,
      );
    } else {
      await (driver.time === 'virtual' ? driver.waitFor(() => false, SETTLE_MS) : driver.delay(SETTLE_MS));
    }

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

    if (SKIP_LEAVE) return exitCode;
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

// ───────────────────────────────────────────────────────────── multiproc: child processes of many nodes

type Msg = Record<string, unknown>;
const send = (m: Msg): void => {
  process.stdout.write(`${JSON.stringify(m)}\n`);
};

/** --mode child: nodes CHILD_FIRST .. CHILD_FIRST+CHILD_COUNT-1 of N; commands on stdin, events on stdout. */
async function mainChild(): Promise<number> {
  installTcpCounter();
  installRssGuard();
  const rss0 = rssKb();
  const driver = new RealDriver();
  const logger = makeLogger();
  const victim = nodeName(Math.floor(N / 2));
  const nodes: MemberlistNode[] = [];
  let otherLeaves = 0;
  let errors = 0;
  for (let k = 0; k < CHILD_COUNT; k++) {
    const idx = CHILD_FIRST + k;
    const node = await driver.create(idx, logger);
    nodes.push(node);
    const set = new Set<string>();
    let full = false;
    const mark = (): void => {
      if (!full && set.size >= N) {
        full = true;
        send({ ev: 'full', idx, t: wallNow() });
      }
    };
    node.on('join', ({ member }) => (set.add(member.name), mark()));
    node.on('alive', ({ member }) => (set.add(member.name), mark()));
    node.on('suspect', ({ member }) => {
      set.add(member.name);
      if (member.name === victim) send({ ev: 'suspect', idx, t: wallNow() });
      mark();
    });
    node.on('leave', ({ member, reason }) => {
      set.delete(member.name);
      if (member.name === victim) send({ ev: 'dead', idx, reason, t: wallNow() });
      else otherLeaves++;
    });
    node.on('error', ({ error }) => {
      errors++;
      progress(`node ${node.name} error: ${error.message}`);
    });
    for (const m of node.members()) if (isPresent(m)) set.add(m.name);
    mark();
  }
  send({ ev: 'ready', addrs: nodes.map((x) => driver.seedAddress(x)), rss0_kb: rss0, t: wallNow() });
  const alive = new Set(nodes);
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line) as Msg;
    if (cmd.cmd === 'join') {
      const seed = cmd.seed as string;
      const par = Math.max(1, cmd.par as number);
      const todo = nodes.filter((x) => x.name !== nodeName(0));
      void (async () => {
        let errs = 0;
        let retries = 0;
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < todo.length) {
            const node = todo[next++] as MemberlistNode;
            for (let tries = 1; tries <= 10; tries++) {
              try {
                await node.join([seed]);
                retries += tries - 1;
                break;
              } catch (err) {
                if (tries === 10) {
                  errs++;
                  progress(`join ${node.name} failed: ${err instanceof Error ? err.message : String(err)}`);
                } else await driver.delay(50 * tries);
              }
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(par, Math.max(1, todo.length)) }, worker));
        send({ ev: 'joins_done', errors: errs, retries, t: wallNow() });
      })();
    } else if (cmd.cmd === 'stats') {
      const s = await snapshot([...alive]);
      send({ ev: 'stats', snap: s, other_leaves: otherLeaves, errors, warn: logCounts.warn, err: logCounts.error });
    } else if (cmd.cmd === 'kill') {
      const node = nodes.find((x) => x.name === cmd.name);
      if (node !== undefined) {
        alive.delete(node);
        const t = wallNow();
        await node.shutdown();
        send({ ev: 'killed', t, call_ms: wallNow() - t });
      }
    } else if (cmd.cmd === 'quit') {
      await Promise.all([...alive].map((x) => x.shutdown()));
      send({ ev: 'bye' });
      rl.close();
      break;
    }
  }
  return 0;
}

/** --mode multiproc: the parent. */
async function mainMultiproc(): Promise<number> {
  const P = Math.min(PROCS, N);
  const per = Math.ceil(N / P);
  const script = fileURLToPath(import.meta.url);
  interface Kid {
    proc: ChildProcessWithoutNullStreams;
    first: number;
    count: number;
    ready?: Msg;
    waiters: Array<(m: Msg) => boolean>;
  }
  const kids: Kid[] = [];
  const fullAt = new Map<number, number>();
  const deadAt = new Map<number, { t: number; reason: string }>();
  const suspectTimes: number[] = [];
  let joinsDone = 0;
  let joinErrors = 0;
  let joinRetries = 0;
  let joinLast = 0;
  const cmdFor = (first: number, count: number): string[] => {
    const a = [script, '--mode', 'child', '--n', String(N), '--config', CONFIG, '--child-first', String(first), '--child-count', String(count), '--threading', THREADING, '--log-level', LOG_LEVEL, '--max-rss-mb', String(MAX_RSS_MB)];
    if (MERGE_THRESHOLD !== undefined) a.push('--merge-offload-threshold', String(MERGE_THRESHOLD));
    return a;
  };
  for (let p = 0, first = 0; p < P && first < N; p++, first += per) {
    const count = Math.min(per, N - first);
    const proc = spawn(process.execPath, cmdFor(first, count), { stdio: ['pipe', 'pipe', 'pipe'] });
    const kid: Kid = { proc, first, count, waiters: [] };
    kids.push(kid);
    createInterface({ input: proc.stderr }).on('line', (l) => process.stderr.write(`  [child ${p}] ${l}\n`));
    createInterface({ input: proc.stdout }).on('line', (l) => {
      let m: Msg;
      try {
        m = JSON.parse(l) as Msg;
      } catch {
        process.stderr.write(`  [child ${p} stdout] ${l}\n`);
        return;
      }
      if (m.measure === 'aborted') {
        emit({ ...m, child: p });
        progress(`child ${p} aborted: ${String(m.reason)}; stopping`);
        for (const k of kids) k.proc.kill('SIGKILL');
        process.exit(5);
      }
      if (m.ev === 'ready') kid.ready = m;
      else if (m.ev === 'full') {
        if (!fullAt.has(m.idx as number)) fullAt.set(m.idx as number, m.t as number);
      } else if (m.ev === 'dead') {
        if (!deadAt.has(m.idx as number)) deadAt.set(m.idx as number, { t: m.t as number, reason: m.reason as string });
      } else if (m.ev === 'suspect') suspectTimes.push(m.t as number);
      else if (m.ev === 'joins_done') {
        joinsDone++;
        joinErrors += m.errors as number;
        joinRetries += m.retries as number;
        joinLast = Math.max(joinLast, m.t as number);
      }
      kid.waiters = kid.waiters.filter((w) => !w(m));
    });
    proc.on('exit', (code, sig) => {
      if (code !== 0) progress(`child ${p} exited with ${String(code ?? sig)}`);
    });
  }
  const tell = (k: Kid, m: Msg): void => {
    k.proc.stdin.write(`${JSON.stringify(m)}\n`);
  };
  const ask = (k: Kid, m: Msg, ev: string): Promise<Msg> =>
    new Promise((resolve) => {
      k.waiters.push((x) => (x.ev === ev ? (resolve(x), true) : false));
      tell(k, m);
    });
  const driver = new RealDriver();
  const wallStart = performance.now();
  const okReady = await driver.waitFor(() => kids.every((k) => k.ready !== undefined), 300_000);
  if (!okReady) throw new Error('children did not start within 300 s');
  const rss0Kb = kids.reduce((a, k) => a + (k.ready?.rss0_kb as number), 0);
  const seedAddr = (kids[0]?.ready?.addrs as string[])[0] as string;
  progress(`multiproc: ${kids.length} processes × ≤${per} nodes (${N}, threading ${THREADING}, profile ${CONFIG}) ready in ${((performance.now() - wallStart) / 1000).toFixed(1)} s; joining through ${seedAddr}`);
  const statsAll = async (): Promise<{ snap: Snap; raw: Msg[] }> => {
    const raw = await Promise.all(kids.map((k) => ask(k, { cmd: 'stats' }, 'stats')));
    return { snap: sumSnaps(raw.map((r) => r.snap as Snap)), raw };
  };

  // ── convergence
  const c0 = await statsAll();
  const par = Math.max(1, Math.round((JOIN_PAR === 0 ? N : JOIN_PAR) / kids.length));
  const t0 = wallNow();
  const wall0 = performance.now();
  for (const k of kids) tell(k, { cmd: 'join', seed: seedAddr, par });
  const ok = await driver.waitFor(() => fullAt.size === N, CONVERGE_TIMEOUT_MS);
  await driver.waitFor(() => joinsDone === kids.length, 60_000);
  const convWall = (performance.now() - wall0) / 1000;
  const c1 = await statsAll();
  const full = [...fullAt.values()].map((t) => t - t0).sort((a, b) => a - b);
  const fake = { time: 'wall' } as Driver;
  const conv = common('convergence', fake);
  Object.assign(conv, {
    join: 'concurrent',
    join_par_per_process: par,
    processes: kids.length,
    nodes_per_process: per,
    converged: ok,
    nodes_full: full.length,
    converge_ms: ok ? r2(pct(full, 1) as number) : null,
    last_full_ms: full.length > 0 ? r2(full[full.length - 1] as number) : null,
    p50_node_full_ms: full.length > 0 ? r2(pct(full, 0.5) as number) : null,
    p90_node_full_ms: full.length > 0 ? r2(pct(full, 0.9) as number) : null,
    last_join_return_ms: r2(joinLast - t0),
    join_errors: joinErrors,
    join_retries: joinRetries,
    cpu_s: r2(c1.snap.cpuS - c0.snap.cpuS),
    wall_s: r2(convWall),
    other_procs_busy_cores: r2((c1.snap.busyS - c0.snap.busyS - (c1.snap.cpuS - c0.snap.cpuS)) / Math.max(convWall, 1e-3)),
    definition: 't0 = when the parent sent join to every child; converge_ms = until the last node first listed n members (wall clock, epoch ms, shared by all processes); cpu_s = the children\'s process CPU',
  });
  emit(conv);
  progress(`convergence: ${ok ? `converged in ${String(conv.converge_ms)} ms` : `NOT converged (${full.length}/${N})`}; p50 ${String(conv.p50_node_full_ms)} ms; joins done by ${String(conv.last_join_return_ms)} ms`);
  let exitCode = ok ? 0 : 3;
  try {
    if (!ok) return exitCode;
    if (STEADY_MS > 0) {
      await driver.delay(WARMUP_MS);
      const s0 = await statsAll();
      await driver.delay(STEADY_MS);
      const s1 = await statsAll();
      const sec = (s1.snap.t - s0.snap.t) / 1000;
      // Each child's t is its own performance.now(); the window length is the max over children, close enough.
      const st: Record<string, unknown> = { ...common('steady_state', fake), warmup_s: WARMUP_MS / 1000, processes: kids.length, ...steadyFields(s0.snap, s1.snap, sec, N, rss0Kb, { before: s0.snap.busyS, after: s1.snap.busyS }) };
      st.rss_kb_per_process_max = Math.max(...s1.raw.map((r) => (r.snap as Snap).rssKb));
      st.rss_kb_total_incl_baseline_per_node = Math.round(s1.snap.rssKb / N);
      st.false_deaths_seen = s1.raw.reduce((a, r) => a + (r.other_leaves as number), 0);
      st.node_errors = s1.raw.reduce((a, r) => a + (r.errors as number), 0);
      st.warn_log_lines = s1.raw.reduce((a, r) => a + (r.warn as number), 0);
      st.err_log_lines = s1.raw.reduce((a, r) => a + (r.err as number), 0);
      emit(st);
      progress(`steady: ${String(st.cpu_ms_per_node_per_s)} ms CPU/node/s, ${String(st.app_total_bytes_per_node_per_s)} B/node/s, ${String(st.rss_kb_per_node)} KB RSS/node`);
    } else await driver.delay(SETTLE_MS);
    if (N < 3) return exitCode;
    // ── abrupt failure
    const victimIdx = Math.floor(N / 2);
    const owner = kids.find((k) => victimIdx >= k.first && victimIdx < k.first + k.count) as Kid;
    const preDead = deadAt.size;
    deadAt.clear();
    const killed = await ask(owner, { cmd: 'kill', name: nodeName(victimIdx) }, 'killed');
    const tKill = killed.t as number;
    const expect = N - 1;
    const detected = await driver.waitFor(() => deadAt.size >= expect, DETECT_TIMEOUT_MS);
    const dt = [...deadAt.values()].map((v) => v.t).filter((t) => t >= tKill).sort((a, b) => a - b);
    const fd = common('failure_detection', fake);
    fd.how = 'the victim node.shutdown() without leave() in its child process';
    fd.victim = nodeName(victimIdx);
    fd.all_detected = detected;
    fd.observers_dead = dt.length;
    fd.observers_dead_before_kill = preDead;
    fd.expected_observers = expect;
    const fs = suspectTimes.filter((t) => t >= tKill).sort((a, b) => a - b)[0];
    if (fs !== undefined) fd.first_suspect_ms = r2(fs - tKill);
    if (dt.length > 0) {
      fd.first_dead_ms = r2((dt[0] as number) - tKill);
      fd.p50_dead_ms = r2((pct(dt, 0.5) as number) - tKill);
      fd.p90_dead_ms = r2((pct(dt, 0.9) as number) - tKill);
      fd.all_dead_ms = r2((dt[dt.length - 1] as number) - tKill);
    }
    const reasons: Record<string, number> = {};
    for (const v of deadAt.values()) reasons[v.reason] = (reasons[v.reason] ?? 0) + 1;
    fd.dead_reasons = reasons;
    fd.suspect_events_all_nodes = suspectTimes.filter((t) => t >= tKill).length;
    fd.shutdown_call_ms = r2(killed.call_ms as number);
    emit(fd);
    progress(`failure: first suspect ${String(fd.first_suspect_ms ?? '-')} ms, first dead ${String(fd.first_dead_ms ?? '-')} ms, all dead ${String(fd.all_dead_ms ?? '-')} ms (${dt.length}/${expect})`);
    if (!detected) exitCode = 3;
    return exitCode;
  } finally {
    await Promise.all(kids.map((k) => (k.proc.exitCode === null ? ask(k, { cmd: 'quit' }, 'bye') : Promise.resolve({}))));
    await Promise.all(kids.map((k) => (k.proc.exitCode === null ? new Promise((r) => k.proc.on('exit', r)) : undefined)));
    progress(`all ${kids.length} children exited; total wall ${((performance.now() - wallStart) / 1000).toFixed(1)} s`);
  }
}

if (MODE === 'inproc') {
  installTcpCounter();
  installRssGuard();
}
const entry = MODE === 'child' ? mainChild : MODE === 'multiproc' ? mainMultiproc : main;

entry().then(
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
