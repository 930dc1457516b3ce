// Large simulations (issue 5 part 3): N full nodes (the production actors) in one process on one
// MemoryNetwork and one VirtualClock, measured in virtual time. One JSON line per phase on stdout.
//
//   node --max-old-space-size=14000 --expose-gc dist/benchmarks/sim-scale.js --n 1000 [--config local|lan]
//        [--loss 0] [--seed 1] [--latency 0.2] [--jitter 0.2] [--quantum 0.5] [--join-par 16]
//        [--window 10] [--settle 0] [--converge-timeout 300] [--detect-timeout 120] [--spread-timeout 120] [--compression on|off]
//        [--phases steady,spread,detection] [--heap-snapshot file.heapsnapshot] [--peak-gc 0.25]
//
// Phases:
//   create       N nodes; heap per node (before any join).
//   convergence  node i joins through node 0, --join-par in flight (as the memberlist harness). Every
//                100 virtual ms the share of nodes that list all N members (alive or suspect, counted
//                from join/leave events, no per-node sets) is sampled: the convergence curve.
//                Then the heap per (node, member) pair after a full GC, when --expose-gc is given.
//   steady       --window virtual s of an idle converged cluster: packets, UDP bytes and stream bytes
//                (push-pull) per member per virtual second, from the MemoryNetwork's counters.
//   spread       node 1 changes its metadata (an alive at its next incarnation, spread by gossip and
//                piggybacking only: member digests compare names, so no repair push-pull is triggered).
//                Time until every other node has fired `update` with the new meta, in gossip intervals,
//                against memberlist's retransmit limit retransmitMult·ceil(log10(n+1)) (SWIM's λ·log n).
//   detection    node N/2 crashes (its address goes silent, then shutdown without leave): first
//                `suspect` event about it anywhere, first and last `leave` (failed) among the N−1 others.
// --loss applies a random packet loss rate (0..1) to every UDP packet from the start (streams are TCP).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { retransmitLimit } from '../src/timing.js';
import type { MemberlistNode, Profile } from '../src/index.js';
import { SimulatedCluster } from '../src/testing/index.js';
import type { GossipActor, WatchedSend } from '../src/actors/gossip/gossip-actor.js';
import type { ProtocolStack } from '../src/protocol-stack.js';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    config: { type: 'string', default: 'local' },
    loss: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0.2' },
    jitter: { type: 'string', default: '0.2' },
    quantum: { type: 'string', default: '0.5' },
    'join-par': { type: 'string', default: '16' },
    window: { type: 'string', default: '10' },
    settle: { type: 'string', default: '0' },
    'converge-timeout': { type: 'string', default: '300' },
    'detect-timeout': { type: 'string', default: '120' },
    'spread-timeout': { type: 'string', default: '120' },
    compression: { type: 'string', default: 'on' },
    phases: { type: 'string', default: 'steady,spread,detection' },
    'heap-snapshot': { type: 'string', default: '' },
    'peak-gc': { type: 'string', default: '0' },
  },
  strict: true,
});

const N = Number(argv.n);
const CONFIG = argv.config as Profile;
const LOSS = Number(argv.loss);
const SEED = Number(argv.seed);
const QUANTUM = Number(argv.quantum);
const JOIN_PAR = Number(argv['join-par']);
const WINDOW_MS = Number(argv.window) * 1000;
/** Extra virtual seconds between convergence and the steady window: the join's gossip drains meanwhile. */
const SETTLE_MS = Number(argv.settle) * 1000;
const CONVERGE_TIMEOUT_MS = Number(argv['converge-timeout']) * 1000;
const DETECT_TIMEOUT_MS = Number(argv['detect-timeout']) * 1000;
const SPREAD_TIMEOUT_MS = Number(argv['spread-timeout']) * 1000;
const COMPRESSION = argv.compression !== 'off';
const PHASES = new Set(argv.phases.split(',').filter((p) => p !== ''));
if (!Number.isInteger(N) || N < 3) throw new Error('--n must be an integer >= 3');
if (!(LOSS >= 0 && LOSS < 1)) throw new Error('--loss must be in [0, 1)');

const gc = (globalThis as { gc?: () => void }).gc;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const mib = (b: number): number => r2(b / 1048576);
const t0Wall = performance.now();
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** The process's largest resident set so far (getrusage's ru_maxrss, in KiB): what has to fit in RAM. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
function progress(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}
function emit(measure: string, o: Record<string, unknown>): void {
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      measure,
      mode: 'sim',
      time: 'virtual',
      n: N,
      config: CONFIG,
      loss: LOSS,
      seed: SEED,
      quantum_ms: QUANTUM,
      compression: COMPRESSION,
      ...o,
      heap_used_mib: mib(m.heapUsed),
      array_buffers_mib: mib(m.arrayBuffers),
      rss_mib: mib(m.rss),
      heap_total_mib: mib(m.heapTotal),
      rss_peak_mib: mib(peakRss()),
      wall_s_total: r2((performance.now() - t0Wall) / 1000),
      node: process.version,
    })}\n`,
  );
}
/**
 * Live bytes after two full GCs: the JS heap plus ArrayBuffer backing stores, which live outside
 * heapUsed (the dense member tables keep flags, times and probe orders in typed arrays).
 */
function heapAfterGc(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
/** The p-quantile of `total` values of which only the sorted `known` ones are finite (the rest later), divided by `unit`. */
function ofAll(known: readonly number[], p: number, total: number, unit = 1): number | null {
  const i = Math.max(0, Math.ceil(p * total) - 1);
  return i < known.length ? r2((known[i] as number) / unit) : null;
}

/** Go's pct(): the element at ceil(p·len)−1 of a sorted array. */
function pct(sorted: readonly number[], p: number): number | undefined {
  return sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

/** A node's gossip dispatcher (diagnostics of the spread phase; simulated nodes run inline). */
const gossipOf = (node: MemberlistNode): GossipActor => (node.protocolStack as ProtocolStack).gossip;

const cluster = new SimulatedCluster({
  seed: SEED,
  stepQuantumMs: QUANTUM,
  network: { latencyMs: Number(argv.latency), jitterMs: Number(argv.jitter), lossRate: LOSS },
  nodeOptions: { profile: CONFIG, enableCompression: COMPRESSION },
});
const clock = cluster.clock;

/** Largest live heap (JS heap + ArrayBuffers after a full GC) seen during the join (--peak-gc). */
let livePeak = 0;

/** Runs virtual time until `cond` holds or `limitMs` passes; a progress line every 15 s of wall time. */
async function runUntil(cond: () => boolean, limitMs: number, label: () => string, sample?: () => void): Promise<boolean> {
  const end = clock.now() + limitMs;
  let lastReport = performance.now();
  let nextSample = clock.now();
  await cluster.flush();
  for (;;) {
    if (sample !== undefined && clock.now() >= nextSample) {
      sample();
      nextSample += 100;
    }
    if (cond()) return true;
    if (end - clock.now() <= 1e-6) return false;
    await cluster.step(Math.min(end, sample !== undefined ? nextSample : end) - clock.now());
    if (performance.now() - lastReport > 15_000) {
      lastReport = performance.now();
      const m = process.memoryUsage();
      progress(
        `${label()}: virtual ${(clock.now() / 1000).toFixed(2)} s, heap ${mib(m.heapUsed)} MiB (of ${mib(m.heapTotal)}) + buffers ${mib(m.arrayBuffers)} MiB, rss ${mib(m.rss)} MiB (peak ${mib(peakRss())})${livePeak > 0 ? `, live peak ${mib(livePeak)} MiB` : ''}`,
      );
    }
  }
}

async function main(): Promise<void> {
  // ── create
  const heap0 = heapAfterGc();
  let w = performance.now();
  const nodes: MemberlistNode[] = [];
  /** Per node: members it lists alive or suspect (itself included), kept from join/leave events. */
  const present = new Int32Array(N);
  const fullAt = new Float64Array(N).fill(-1);
  let fullCount = 0;
  let t0 = 0;
  const index = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const [node] = await cluster.addNodes(1, { name: `n${String(i).padStart(5, '0')}` });
    const n = node as MemberlistNode;
    nodes.push(n);
    index.set(n.name, i);
    present[i] = n.numMembers();
    n.on('join', () => {
      present[i] = (present[i] as number) + 1;
      if (present[i] === N && fullAt[i] === -1) {
        fullAt[i] = clock.now() - t0;
        fullCount++;
      }
    });
    n.on('leave', () => {
      present[i] = (present[i] as number) - 1;
    });
  }
  const heapCreated = heapAfterGc();
  emit('create', {
    wall_s: r2((performance.now() - w) / 1000),
    heap_per_node_kib: r2((heapCreated - heap0) / N / 1024),
  });
  progress(`created ${N} nodes (${CONFIG}, loss ${LOSS}) in ${((performance.now() - w) / 1000).toFixed(1)} s`);

  // ── convergence
  w = performance.now();
  let c0 = cpu();
  t0 = clock.now();
  const curve: Array<[number, number]> = [];
  // --peak-gc S: every S virtual seconds of the join, a full GC and the live heap (the peak is what has
  // to fit: queued gossip of the join is live only during it). Costly at large n; 0 = off.
  const peakEveryMs = Number(argv['peak-gc']) * 1000;
  let nextPeakMs = peakEveryMs;
  livePeak = 0;
  let livePeakAtMs = 0;
  void cluster.startJoins(0, JOIN_PAR);
  const converged = await runUntil(
    () => fullCount === N,
    CONVERGE_TIMEOUT_MS,
    () => `convergence (${fullCount}/${N} full)`,
    () => {
      curve.push([r2((clock.now() - t0) / 1000), Math.round((fullCount / N) * 10_000) / 10_000]);
      if (peakEveryMs > 0 && gc !== undefined && clock.now() - t0 >= nextPeakMs) {
        nextPeakMs += peakEveryMs;
        const live = heapAfterGc();
        if (live > livePeak) {
          livePeak = live;
          livePeakAtMs = clock.now() - t0;
        }
      }
    },
  );
  curve.push([r2((clock.now() - t0) / 1000), Math.round((fullCount / N) * 10_000) / 10_000]);
  const full = [...fullAt].filter((t) => t >= 0).sort((a, b) => a - b);
  const convWall = (performance.now() - w) / 1000;
  const convCpu = cpu() - c0;
  const net = cluster.network.stats;
  const joinTraffic = { packets: net.packetsSent, udpBytes: net.bytesDelivered, streamBytes: net.streamBytesSent, streams: net.streamsOpened };
  await cluster.runFor(2000);
  const heapConverged = heapAfterGc();
  const pairs = N * N;
  if (argv['heap-snapshot'] !== '') {
    // Where the bytes per pair go (analysed offline, e.g. scripts/heap-summary.py): written after the
    // GCs, so it holds what the converged cluster keeps.
    const file = writeHeapSnapshot(argv['heap-snapshot']);
    progress(`heap snapshot written to ${file}`);
  }
  emit('convergence', {
    converged,
    nodes_full: full.length,
    converge_ms: converged ? r2(full[full.length - 1] as number) : null,
    p50_node_full_ms: full.length > 0 ? r2(pct(full, 0.5) as number) : null,
    p90_node_full_ms: full.length > 0 ? r2(pct(full, 0.9) as number) : null,
    join_packets: joinTraffic.packets,
    join_udp_bytes: joinTraffic.udpBytes,
    join_stream_bytes: joinTraffic.streamBytes,
    join_streams: joinTraffic.streams,
    wall_s: r2(convWall),
    cpu_s: r2(convCpu),
    heap_after_gc_mib: gc !== undefined ? mib(heapConverged) : null,
    heap_per_pair_b: gc !== undefined ? Math.round((heapConverged - heapCreated) / pairs) : null,
    // Everything the nodes hold, over n²: the dense member tables are sized when the nodes are created
    // (every name is known by then), so the difference above undercounts them.
    heap_total_per_pair_b: gc !== undefined ? Math.round((heapConverged - heap0) / pairs) : null,
    heap_per_node_mib: gc !== undefined ? r2((heapConverged - heap0) / N / 1048576) : null,
    live_peak_mib: livePeak > 0 ? mib(livePeak) : null,
    live_peak_at_ms: livePeak > 0 ? r2(livePeakAtMs) : null,
    live_peak_per_pair_b: livePeak > 0 ? Math.round((livePeak - heap0) / pairs) : null,
    curve,
    definition:
      'node full = lists all n members alive or suspect (itself included), from its join/leave events; heap_per_pair_b = (heap after GC, converged) − (heap after GC, created) over n²; heap_total_per_pair_b = (heap after GC, converged) − (heap after GC, before any node) over n²; heap = heapUsed + arrayBuffers',
  });
  progress(
    `convergence: ${converged ? `all ${N} full at ${r2(full[full.length - 1] as number)} ms` : `NOT converged (${full.length}/${N})`}; p50 ${r2(pct(full, 0.5) ?? NaN)} ms; wall ${convWall.toFixed(1)} s; heap ${mib(heapConverged)} MiB`,
  );
  if (!converged) return;
  const cfg = (nodes[0] as MemberlistNode).config;

  // ── steady state traffic
  if (PHASES.has('steady')) {
    if (SETTLE_MS > 0) await runUntil(() => false, SETTLE_MS, () => 'settle');
    w = performance.now();
    c0 = cpu();
    const s0 = { ...cluster.network.stats };
    await cluster.runFor(WINDOW_MS);
    const s1 = cluster.network.stats;
    const perMemberSec = (x: number): number => r2(x / N / (WINDOW_MS / 1000));
    emit('steady', {
      window_s: WINDOW_MS / 1000,
      settle_s: SETTLE_MS / 1000,
      packets_per_member_s: perMemberSec(s1.packetsSent - s0.packetsSent),
      udp_bytes_per_member_s: perMemberSec(s1.bytesDelivered - s0.bytesDelivered),
      stream_bytes_per_member_s: perMemberSec(s1.streamBytesSent - s0.streamBytesSent),
      streams_per_member_s: r2((s1.streamsOpened - s0.streamsOpened) / N / (WINDOW_MS / 1000)),
      packets_lost: s1.packetsDroppedLoss - s0.packetsDroppedLoss,
      wall_s: r2((performance.now() - w) / 1000),
      cpu_ms_per_member_virtual_s: r2(((cpu() - c0) * 1000) / N / (WINDOW_MS / 1000)),
      definition: 'udp bytes are delivered payloads (after loss); stream bytes are written bytes; per member per virtual second',
    });
    progress(`steady: ${perMemberSec(s1.packetsSent - s0.packetsSent)} packets/member/s`);
  }

  // ── spread of one update
  if (PHASES.has('spread')) {
    w = performance.now();
    const updater = nodes[1] as MemberlistNode;
    const meta = new TextEncoder().encode(`v2-${SEED}`);
    const seenAt = new Float64Array(N).fill(-1);
    let seen = 0;
    const listeners: Array<() => void> = [];
    for (let i = 0; i < N; i++) {
      if (i === 1) continue;
      const node = nodes[i] as MemberlistNode;
      const fn = ({ member }: { member: { name: string; meta: Uint8Array } }): void => {
        if (member.name === updater.name && seenAt[i] === -1 && new TextDecoder().decode(member.meta) === `v2-${SEED}`) {
          seenAt[i] = clock.now();
          seen++;
        }
      };
      node.on('update', fn);
      listeners.push(() => node.off('update', fn));
    }
    // ── diagnostics: where the update's transmissions go (every packet that carries it), and what the
    // queues held when it started. Read only; nothing here changes a protocol decision.
    const sumDrops = (): { queue: number; mailbox: number; transport: number; reasons: Record<string, number> } => {
      let queue = 0;
      let mailbox = 0;
      let transport = 0;
      const reasons: Record<string, number> = {};
      for (const node of nodes) {
        const m = node.metrics();
        queue += m.protocol.broadcastsDropped;
        transport += m.transport.packetsDropped;
        for (const a of m.actors) mailbox += a.dropped;
        for (const [dir, rec] of [['in', m.dropsIn], ['out', m.dropsOut]] as const) {
          for (const [k, v] of Object.entries(rec)) reasons[`${dir}:${k}`] = (reasons[`${dir}:${k}`] ?? 0) + v;
        }
      }
      return { queue, mailbox, transport, reasons };
    };
    const drops0 = sumDrops();
    const net0 = { ...cluster.network.stats };
    // Queue depth and transmit tiers at update time, on a sample of nodes (an O(depth) walk each).
    const every = Math.max(1, Math.ceil(N / 300));
    const depths: number[] = [];
    const tier0: number[] = [];
    const tiersSum: number[] = [];
    for (let i = 0; i < N; i += every) {
      const h = gossipOf(nodes[i] as MemberlistNode).transmitHistogram();
      depths.push(h.reduce((a, b) => a + b, 0));
      tier0.push(h[0] ?? 0);
      h.forEach((c, t) => (tiersSum[t] = (tiersSum[t] ?? 0) + c));
    }
    depths.sort((a, b) => a - b);
    tier0.sort((a, b) => a - b);
    const sendsBy = new Int32Array(N);
    const packetsTo = new Int32Array(N);
    const firstSentTo = new Float64Array(N).fill(-1);
    /** Per receiver, its first few packets with the update: [ms after the update, sender index, via]. */
    const packetLog: Array<Array<[number, number, string]>> = Array.from({ length: N }, () => []);
    const sendTimes: number[][] = Array.from({ length: N }, () => []);
    const via = { gossip: 0, piggyback: 0 };
    const depthAtSend: number[][] = [];
    for (let i = 0; i < N; i++) {
      gossipOf(nodes[i] as MemberlistNode).watch(updater.name, (s: WatchedSend) => {
        const now = clock.now();
        sendsBy[i] = (sendsBy[i] as number) + 1;
        (sendTimes[i] as number[]).push(now);
        via[s.via]++;
        (depthAtSend[s.transmits - 1] ??= []).push(s.depth);
        const j = index.get(s.to);
        if (j !== undefined) {
          packetsTo[j] = (packetsTo[j] as number) + 1;
          if (firstSentTo[j] === -1) firstSentTo[j] = now;
          const log = packetLog[j] as Array<[number, number, string]>;
          if (log.length < 4) log.push([r2(now - tu), i, s.via]);
        }
      });
    }
    const tu = clock.now();
    void updater.updateMeta(meta);
    const all = await runUntil(() => seen === N - 1, SPREAD_TIMEOUT_MS, () => `spread (${seen}/${N - 1})`);
    for (const off of listeners) off();
    const times = [...seenAt].filter((t) => t >= 0).map((t) => t - tu).sort((a, b) => a - b);
    // What the nodes still uninformed at the end believe about the updater (at most 20 of them): an
    // older incarnation means the update never reached them; the new one without the meta would mean
    // it arrived and was not reported.
    const updaterNow = updater.members().find((m) => m.name === updater.name);
    const uninformed: Array<{ node: string; state: string; incarnation: number; meta: string }> = [];
    for (let i = 0; i < N && uninformed.length < 20; i++) {
      if (i === 1 || seenAt[i] >= 0) continue;
      const view = (nodes[i] as MemberlistNode).members().find((m) => m.name === updater.name);
      uninformed.push({ node: (nodes[i] as MemberlistNode).name, state: view?.state ?? 'unknown', incarnation: view?.incarnation ?? -1, meta: new TextDecoder().decode(view?.meta ?? new Uint8Array(0)) });
    }
    for (const node of nodes) gossipOf(node).watch(undefined);
    const drops1 = sumDrops();
    const net1 = cluster.network.stats;
    // Per informed node (and the updater): its sends of the update, and the delay from being informed
    // (the updater: from the update) to its 1st and 2nd send.
    const informedAt = (i: number): number => (i === 1 ? tu : (seenAt[i] as number));
    const gap1: number[] = [];
    const gap2: number[] = [];
    const sendsHist: number[] = [];
    const sendsWithin1s: number[] = [];
    for (let i = 0; i < N; i++) {
      if (i !== 1 && seenAt[i] < 0) continue;
      const st = sendTimes[i] as number[];
      const k = sendsBy[i] as number;
      sendsHist[k] = (sendsHist[k] ?? 0) + 1;
      sendsWithin1s.push(st.filter((t) => t - informedAt(i) <= 1000).length);
      if (st.length >= 1) gap1.push((st[0] as number) - informedAt(i));
      gap2.push(st.length >= 2 ? (st[1] as number) - informedAt(i) : Infinity);
    }
    for (let k = 0; k < sendsHist.length; k++) sendsHist[k] ??= 0;
    gap1.sort((a, b) => a - b);
    gap2.sort((a, b) => a - b);
    sendsWithin1s.sort((a, b) => a - b);
    // The late (informed after 1 s, or never): were packets with the update addressed to them before?
    const late: Array<{ node: string; informed_ms: number | null; packets_to: number; first_sent_ms: number | null; packets: Array<[number, number, string]> }> = [];
    let lateCount = 0;
    let lateNeverSent = 0;
    for (let i = 0; i < N; i++) {
      if (i === 1) continue;
      const t = seenAt[i] as number;
      if (t >= 0 && t - tu <= 1000) continue;
      lateCount++;
      const sentBefore = firstSentTo[i] >= 0 && (t < 0 || (firstSentTo[i] as number) < t - 1);
      if (!sentBefore) lateNeverSent++;
      if (late.length < 20) {
        late.push({
          node: (nodes[i] as MemberlistNode).name,
          informed_ms: t >= 0 ? r2(t - tu) : null,
          packets_to: packetsTo[i] as number,
          first_sent_ms: firstSentTo[i] >= 0 ? r2((firstSentTo[i] as number) - tu) : null,
          packets: packetLog[i] as Array<[number, number, string]>,
        });
      }
    }
    const q = (a: readonly number[], p: number): number | null => {
      const v = pct(a, p);
      return v === undefined ? null : Number.isFinite(v) ? r2(v) : null;
    };
    // The updater's first send: the epidemic's start, which the phase of its gossip ticker delays by up
    // to one interval (so percentiles from it compare runs whose tickers are out of phase).
    const start = (sendTimes[1] as number[])[0];
    const fromStart = start === undefined ? [] : times.map((t) => t - (start - tu));
    const diag = {
      updater_first_send_ms: start === undefined ? null : r2(start - tu),
      p50_from_first_send_ms: ofAll(fromStart, 0.5, N - 1),
      p99_from_first_send_ms: ofAll(fromStart, 0.99, N - 1),
      queue_depth_at_update: { sampled_nodes: depths.length, p50: q(depths, 0.5), p90: q(depths, 0.9), max: q(depths, 1) },
      tier0_at_update: { p50: q(tier0, 0.5), p90: q(tier0, 0.9), max: q(tier0, 1) },
      items_by_transmits_at_update: tiersSum,
      update_sends: { total: via.gossip + via.piggyback, ...via },
      sends_per_node_hist: sendsHist,
      sends_within_1s_of_informed: { p10: q(sendsWithin1s, 0.1), p50: q(sendsWithin1s, 0.5), p90: q(sendsWithin1s, 0.9) },
      first_send_after_informed_ms: { p50: q(gap1, 0.5), p90: q(gap1, 0.9), max: q(gap1, 1) },
      second_send_after_informed_ms: { p50: q(gap2, 0.5), p90: q(gap2, 0.9), p99: q(gap2, 0.99), never: gap2.filter((g) => !Number.isFinite(g)).length },
      queue_depth_at_send_by_transmit: depthAtSend.map((d) => {
        const s = [...d].sort((a, b) => a - b);
        return { sends: s.length, p50: q(s, 0.5), max: q(s, 1) };
      }),
      late_nodes: lateCount,
      late_never_sent_before_informed: lateNeverSent,
      late_sample: late,
      gossip_queue_drops: drops1.queue - drops0.queue,
      mailbox_drops: drops1.mailbox - drops0.mailbox,
      transport_drops: drops1.transport - drops0.transport,
      network_actor_drops: Object.fromEntries(
        Object.entries(drops1.reasons)
          .map(([k, v]) => [k, v - (drops0.reasons[k] ?? 0)] as const)
          .filter(([, v]) => v !== 0),
      ),
      net_dropped: net1.packetsDroppedLoss - net0.packetsDroppedLoss + net1.packetsDroppedUnreachable - net0.packetsDroppedUnreachable,
    };
    const gi = cfg.gossipIntervalMs;
    emit('spread', {
      all_informed: all,
      informed: times.length,
      expected: N - 1,
      // Percentiles over all n−1 nodes (an uninformed node counts as later than any), so a run cut
      // by --spread-timeout still gives exact p50/p99 when at least that share was informed.
      p50_ms: ofAll(times, 0.5, N - 1),
      p99_ms: ofAll(times, 0.99, N - 1),
      all_ms: all ? r2(times[times.length - 1] as number) : null,
      p50_rounds: ofAll(times, 0.5, N - 1, gi),
      p99_rounds: ofAll(times, 0.99, N - 1, gi),
      last_informed_ms: times.length > 0 ? r2(times[times.length - 1] as number) : null,
      gossip_interval_ms: gi,
      updater_incarnation: updaterNow?.incarnation ?? null,
      uninformed_sample: uninformed,
      rounds_to_all: all ? r2((times[times.length - 1] as number) / gi) : null,
      retransmit_limit: retransmitLimit(cfg.retransmitMult, N),
      lambda_log_n: `retransmitMult·ceil(log10(n+1)) = ${cfg.retransmitMult}·${Math.ceil(Math.log10(N + 1))}`,
      wall_s: r2((performance.now() - w) / 1000),
      diag,
    });
    progress(`spread: ${times.length}/${N - 1} informed, all at ${all ? r2(times[times.length - 1] as number) : '-'} ms`);
  }

  // ── crash detection
  if (PHASES.has('detection')) {
    w = performance.now();
    const vi = Math.floor(N / 2);
    const victim = nodes[vi] as MemberlistNode;
    let firstSuspect = -1;
    const deadAt: number[] = [];
    const reasons: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      if (i === vi) continue;
      const node = nodes[i] as MemberlistNode;
      let done = false;
      node.on('suspect', ({ member }) => {
        if (member.name === victim.name && firstSuspect < 0) firstSuspect = clock.now();
      });
      node.on('leave', ({ member, reason }) => {
        if (member.name !== victim.name || done) return;
        done = true;
        deadAt.push(clock.now());
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      });
    }
    const tk = clock.now();
    await cluster.crash(victim);
    const ok = await runUntil(() => deadAt.length >= N - 1, DETECT_TIMEOUT_MS, () => `detection (${deadAt.length}/${N - 1})`);
    const d = deadAt.map((t) => t - tk).sort((a, b) => a - b);
    emit('detection', {
      victim: victim.name,
      all_detected: ok,
      observers_dead: d.length,
      expected: N - 1,
      first_suspect_ms: firstSuspect >= 0 ? r2(firstSuspect - tk) : null,
      first_dead_ms: d.length > 0 ? r2(d[0] as number) : null,
      p50_dead_ms: d.length > 0 ? r2(pct(d, 0.5) as number) : null,
      all_dead_ms: ok ? r2(d[d.length - 1] as number) : null,
      dead_reasons: reasons,
      wall_s: r2((performance.now() - w) / 1000),
    });
    progress(`detection: first suspect ${firstSuspect >= 0 ? r2(firstSuspect - tk) : '-'} ms, ${d.length}/${N - 1} dead, all at ${ok ? r2(d[d.length - 1] as number) : '-'} ms`);
  }
}

main()
  .then(async () => {
    const w = performance.now();
    await cluster.shutdown();
    progress(`shut down in ${((performance.now() - w) / 1000).toFixed(1)} s; total wall ${((performance.now() - t0Wall) / 1000).toFixed(1)} s`);
    process.exit(0);
  })
  .catch((err: unknown) => {
    progress(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
