// One real node (real UDP/TCP sockets on 127.0.0.1, real piscina merge workers) among N emulated
// members (benchmarks/emulated-members.ts, a separate process speaking our wire format). Reports what
// the host process pays (issue 5 part 4): RSS, CPU share of one core, event-loop delay p50/p99/max
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution), bandwidth in and out, push-pull durations and
// the main-thread stall during full push-pulls.
//
//   node [--expose-gc] dist/benchmarks/large-cluster-host.js --n 10000 [--profile lan] [--steady 20] [--pushpulls 5]
//        [--gossip-rate 10] [--gossip-parts 3] [--compression on|off] [--port 0] [--threading inline|isolated]
//        [--settle 15] [--merge-offload-threshold K] [--heap-snapshot file.heapsnapshot]
//
// Phases (one JSON line each on stdout):
//   join      node.join(seed): one TCP push-pull that brings in all N members (merged on a worker
//             above mergeOffloadThreshold); its duration and the event-loop delay while it ran.
//   steady    --steady s: probes (1/s, answered by the emulator), gossip from the emulator, the node's
//             own periodic push-pulls; CPU share, event-loop delay, packets/bytes in and out per second.
//   pushpull  --pushpulls full push-pulls started by the emulator towards the node, 2 s apart: the
//             emulator's round trip, the node's own pushPullLastMs, event-loop delay during each
//             exchange (the main-thread stall is the delay max inside that window).
//   settle    --settle s more of the steady traffic without push-pulls, then RSS again.
// RSS growth = RSS at the end of the push-pulls (and after --settle s) − RSS after the node was created
// (before the join).
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dirname, join as joinPath } from 'node:path';
import { parseArgs } from 'node:util';
import { residentByKind, residentGrowth } from './smaps.js';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { createNode, type MemberlistNode, type Profile } from '../src/index.js';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    profile: { type: 'string', default: 'lan' },
    steady: { type: 'string', default: '20' },
    pushpulls: { type: 'string', default: '5' },
    // Seconds the node keeps running after the push-pulls before RSS is read again: the push-pull peak
    // against what the host keeps once the cluster is quiet.
    settle: { type: 'string', default: '15' },
    'gossip-rate': { type: 'string', default: '10' },
    'gossip-parts': { type: 'string', default: '3' },
    compression: { type: 'string', default: 'on' },
    port: { type: 'string', default: '0' },
    // 'inline' (actors on the main thread, as in the RESULTS.md runs) or 'isolated' (a protocol worker
    // thread); empty = the library's default for real sockets.
    threading: { type: 'string', default: '' },
    // Entries from which a push-pull is merged on the worker (the library's default 1,000 when absent).
    'merge-offload-threshold': { type: 'string' },
    // With --threading inline: a V8 heap snapshot of the main thread (the protocol thread) at the end.
    'heap-snapshot': { type: 'string', default: '' },
  },
  strict: true,
});
const N = Number(argv.n);
const PROFILE = argv.profile as Profile;
const STEADY_MS = Number(argv.steady) * 1000;
const PUSHPULLS = Number(argv.pushpulls);
const SETTLE_MS = Number(argv.settle) * 1000;

/** Committed bytes of this thread's V8 heap spaces that hold anything (new, old, code, large objects). */
function heapSpaces(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) if (s.space_size > 0) out[s.space_name] = s.space_size;
  return out;
}
const COMPRESSION = argv.compression !== 'off';
const PORT = Number(argv.port);

const r2 = (x: number): number => Math.round(x * 100) / 100;
const mib = (b: number): number => r2(b / 1048576);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (s: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${s}\n`);
function emit(measure: string, o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ measure, n: N, profile: PROFILE, compression: COMPRESSION, threading: argv.threading || 'default', merge_offload_threshold: argv['merge-offload-threshold'] ?? 'default', node: process.version, ...o })}\n`);
}
/** Event-loop delay of a histogram in ms (its values are ns). */
function eld(h: IntervalHistogram): { p50_ms: number; p99_ms: number; max_ms: number } {
  return { p50_ms: r2(h.percentile(50) / 1e6), p99_ms: r2(h.percentile(99) / 1e6), max_ms: r2(h.max / 1e6) };
}
/**
 * CPU time (ms) of each thread of this process so far, from /proc/self/task/<tid>/schedstat (ns on the
 * CPU): the main thread's is the protocol thread's in inline mode; in isolated mode the protocol worker
 * is the busiest other thread. Empty where /proc is not available.
 */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) out.set(tid, ns / 1e6);
    }
  } catch {
    // not Linux: no per-thread figures
  }
  return out;
}
/** Main-thread CPU ms and the busiest other thread's between two threadCpuMs() reads. */
function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): { main_ms: number; busiest_other_ms: number; others_ms: number } {
  const main = String(process.pid);
  let busiest = 0;
  let others = 0;
  for (const [tid, ms] of after) {
    const d = ms - (before.get(tid) ?? 0);
    if (tid === main) continue;
    others += d;
    busiest = Math.max(busiest, d);
  }
  return { main_ms: r2((after.get(main) ?? 0) - (before.get(main) ?? 0)), busiest_other_ms: r2(busiest), others_ms: r2(others) };
}
function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
function traffic(node: MemberlistNode): { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number } {
  const m = node.metrics();
  // Packets from the network actor; stream bytes from the transport (it counts both).
  return { packetsIn: m.packetsIn, packetsOut: m.packetsOut, bytesIn: m.transport.bytesReceived, bytesOut: m.transport.bytesSent };
}

type ChildMsg =
  | { type: 'ready'; seed: string }
  | { type: 'pushpull-done'; ms: number; replyEntries: number; error?: string }
  | { type: 'counters'; counters: Record<string, number>; cpu: { user: number; system: number }; rss: number };

let finished = false;
function fail(why: string): never {
  progress(`fatal: ${why}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(joinPath(here, 'emulated-members.js'), [
    JSON.stringify({ n: N, port: PORT, compression: COMPRESSION, gossipRate: Number(argv['gossip-rate']), gossipParts: Number(argv['gossip-parts']) }),
  ]);
  const waiters: Array<(m: ChildMsg) => void> = [];
  child.on('message', (m: ChildMsg) => waiters.shift()?.(m));
  // A benchmark must end: an emulator that dies (a port still held by the previous run) or never
  // comes up fails the run instead of leaving it waiting for a message that cannot come.
  child.on('exit', (code) => {
    if (!finished) fail(`emulator exited early (code ${String(code)})`);
  });
  const next = (): Promise<ChildMsg> => new Promise((r) => waiters.push(r));
  const readyTimer = setTimeout(() => fail('emulator not ready within 60 s'), 60_000);
  const ready = (await next()) as Extract<ChildMsg, { type: 'ready' }>;
  clearTimeout(readyTimer);
  progress(`emulator up: ${N} members, seed ${ready.seed}`);

  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const threading: { threading?: 'inline' | 'isolated' } =
    argv.threading === 'inline' || argv.threading === 'isolated' ? { threading: argv.threading } : {};
  const offload = argv['merge-offload-threshold'];
  const node = await createNode({
    name: 'real-0',
    bindAddr: '127.0.0.1',
    bindPort: 0,
    profile: PROFILE,
    enableCompression: COMPRESSION,
    ...threading,
    ...(offload !== undefined ? { mergeOffloadThreshold: Number(offload) } : {}),
  });
  await sleep(500);
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const kinds0 = residentByKind();
  const spaces0 = heapSpaces();

  // ── join
  h.reset();
  let t = performance.now();
  let c = cpuS();
  const reached = await node.join([ready.seed]);
  const joinMs = performance.now() - t;
  const atReturn = node.numMembers();
  // The join's merge may still be applying (on the worker above the offload threshold).
  while (node.numMembers() < N + 1 && performance.now() - t < 60_000) await sleep(1);
  const allMs = performance.now() - t;
  emit('join', { reached, join_ms: r2(joinMs), members_at_return: atReturn, all_members_ms: r2(allMs), members: node.numMembers(), cpu_s: r2(cpuS() - c), eld: eld(h), rss_mib: mib(process.memoryUsage().rss) });
  progress(`join: ${node.numMembers()} members in ${r2(joinMs)} ms`);

  // ── steady
  await sleep(1000);
  h.reset();
  const tr0 = traffic(node);
  t = performance.now();
  c = cpuS();
  await sleep(STEADY_MS);
  const secs = (performance.now() - t) / 1000;
  const tr1 = traffic(node);
  const pm = node.metrics().protocol;
  emit('steady', {
    window_s: r2(secs),
    cpu_share_of_one_core: r2((cpuS() - c) / secs),
    eld: eld(h),
    packets_in_per_s: r2((tr1.packetsIn - tr0.packetsIn) / secs),
    packets_out_per_s: r2((tr1.packetsOut - tr0.packetsOut) / secs),
    bytes_in_per_s: Math.round((tr1.bytesIn - tr0.bytesIn) / secs),
    bytes_out_per_s: Math.round((tr1.bytesOut - tr0.bytesOut) / secs),
    members: node.numMembers(),
    probes_failed: pm.probesFailed,
    push_pulls_sent: pm.pushPullsSent,
    rss_mib: mib(process.memoryUsage().rss),
  });
  progress(`steady: cpu ${r2((cpuS() - c) / secs)} of a core, eld p99 ${eld(h).p99_ms} ms`);

  // ── push-pulls started by the emulator
  const rounds: Array<Record<string, unknown>> = [];
  // Two histograms: the whole phase (2 s gaps and the push-pulls), and each push-pull's own window.
  const hRound = monitorEventLoopDelay({ resolution: 1 });
  hRound.enable();
  h.reset();
  const phaseStart = performance.now();
  const cPhase = cpuS();
  for (let i = 0; i < PUSHPULLS; i++) {
    await sleep(2000);
    hRound.reset();
    const before = node.metrics().protocol.pushPullsReceived;
    const threads0 = threadCpuMs();
    c = cpuS();
    t = performance.now();
    child.send({ type: 'pushpull', host: '127.0.0.1', port: node.address.port });
    const done = (await next()) as Extract<ChildMsg, { type: 'pushpull-done' }>;
    // The merge may still be applying when the reply is out: give it until the counter moves.
    const deadline = performance.now() + 5000;
    while (node.metrics().protocol.pushPullsReceived === before && performance.now() < deadline) await sleep(1);
    await sleep(50);
    const window = eld(hRound);
    rounds.push({ round_trip_ms: r2(done.ms), reply_entries: done.replyEntries, error: done.error, node_last_ms: node.metrics().protocol.pushPullLastMs, eld: window, cpu_ms: r2((cpuS() - c) * 1000), thread_cpu: threadCpuDelta(threads0, threadCpuMs()), window_ms: r2(performance.now() - t) });
  }
  const phase = eld(h);
  const phaseS = (performance.now() - phaseStart) / 1000;
  const phaseCpu = (cpuS() - cPhase) / phaseS;
  const stalls = rounds.map((r) => (r.eld as { max_ms: number }).max_ms).sort((a, b) => a - b);
  const p99s = rounds.map((r) => (r.eld as { p99_ms: number }).p99_ms).sort((a, b) => a - b);
  const trips = rounds.map((r) => r.round_trip_ms as number).sort((a, b) => a - b);
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  type ThreadCpu = ReturnType<typeof threadCpuDelta>;
  const mainCpu = median(rounds.map((r) => (r.thread_cpu as ThreadCpu).main_ms));
  const otherCpu = median(rounds.map((r) => (r.thread_cpu as ThreadCpu).busiest_other_ms));
  child.send({ type: 'counters' });
  const emu = (await next()) as Extract<ChildMsg, { type: 'counters' }>;
  const rssEnd = process.memoryUsage().rss;
  const heapEnd = process.memoryUsage().heapUsed;
  // With --expose-gc: what this thread retains (garbage collected first; the workers' heaps are not).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  const rssAfterGc = process.memoryUsage().rss;
  const heapAfterGc = process.memoryUsage().heapUsed;
  // The node goes on (probes, the emulator's gossip) with no push-pull for --settle s: whatever the
  // push-pulls only borrowed (young generations grown by decoding, allocator caches) has had time to go
  // back, so this is what the host keeps between push-pulls.
  let rssSettled: number | undefined;
  if (SETTLE_MS > 0) {
    await sleep(SETTLE_MS);
    gc?.();
    rssSettled = process.memoryUsage().rss;
  }
  // Which allocator holds the growth (benchmarks/smaps.ts: a reading of the mappings' shapes).
  const kindsGrowth = residentGrowth(kinds0, residentByKind());
  const spacesEnd = heapSpaces();
  // This thread's share of the V8 pages: what its heap spaces hold committed, grown since the start.
  const mainThreadCommittedGrowth = Object.fromEntries(Object.entries(spacesEnd).map(([k, v]) => [k, mib(v - (spaces0[k] ?? 0))]));
  if (argv['heap-snapshot'] !== '') progress(`heap snapshot: ${writeHeapSnapshot(argv['heap-snapshot'])}`);
  emit('pushpull', {
    rounds,
    round_trip_ms_median: trips[Math.floor(trips.length / 2)],
    stall_ms_max: stalls[stalls.length - 1],
    stall_ms_median: stalls[Math.floor(stalls.length / 2)],
    main_thread_cpu_ms_median: mainCpu,
    busiest_other_thread_cpu_ms_median: otherCpu,
    eld_p99_ms_worst_round: p99s[p99s.length - 1],
    eld_phase: phase,
    cpu_share_of_one_core_phase: r2(phaseCpu),
    rss_mib_before_join: mib(rss0),
    rss_mib_end: mib(rssEnd),
    rss_growth_mib: mib(rssEnd - rss0),
    heap_growth_mib: mib(heapEnd - heap0),
    ...(gc !== undefined ? { rss_growth_after_gc_mib: mib(rssAfterGc - rss0), heap_growth_after_gc_mib: mib(heapAfterGc - heap0) } : {}),
    ...(rssSettled !== undefined ? { settle_s: SETTLE_MS / 1000, rss_growth_settled_mib: mib(rssSettled - rss0) } : {}),
    rss_growth_by_mapping_mib: kindsGrowth,
    main_thread_heap_committed_growth_mib: mainThreadCommittedGrowth,
    emulator: emu.counters,
    definition: 'stall = event-loop delay max (monitorEventLoopDelay, 1 ms resolution) inside the window from sending the push-pull request until the node counted it as received + 50 ms; thread CPU = /proc/self/task/*/schedstat over the same window (main thread = the protocol thread when inline; in isolated mode the protocol worker is usually the busiest other thread, the merge worker the next)',
  });
  progress(`pushpull: round trip median ${trips[Math.floor(trips.length / 2)]} ms, stall max ${stalls[stalls.length - 1]} ms, phase eld p99 ${phase.p99_ms} ms; rss growth ${mib(rssEnd - rss0)} MiB${rssSettled !== undefined ? `, ${mib(rssSettled - rss0)} MiB after ${SETTLE_MS / 1000} s quiet` : ''}`);
  await node.shutdown();
  finished = true;
  child.send({ type: 'exit' });
}

main().then(
  () => setTimeout(() => process.exit(0), 200),
  (err: unknown) => {
    progress(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
