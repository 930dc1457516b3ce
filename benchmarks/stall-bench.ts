// Issue 7's proof: one node whose host thread is blocked by a busy loop (2 s every 10 s) inside a
// cluster of 20 real nodes on 127.0.0.1, once with threading 'isolated' and once 'inline'. Reports
// what the peers saw of the stalled node (suspicions, deaths, ack round trips of probes to it) and
// what it did to them (false suspicions it raised). Then the cost of isolation: start-up time, RSS
// and CPU per node, and API round trips, isolated against inline in the same run.
//
//   npm run build && node dist/benchmarks/stall-bench.js [--minutes 5] [--every 10000] [--stall 2000] [--skip-cost | --cost-only]
//
// The stalled node and the 19 peers live in separate processes (a busy loop blocks a whole thread,
// and the peers must not be the ones stalled); the peers run inline in one process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNode, type MemberlistNode, type Threading } from '../src/index.js';

const PEERS = 19;
const OPTS = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'lan' as const };

interface PeerReport {
  suspects: number;
  deaths: number;
  rtts: number[];
}

interface SubjectReport {
  threading: Threading;
  stalls: number;
  probes: number;
  falseSuspicions: number;
  suspectEvents: number;
  lateProbeTimeouts: number;
  loopStalls: number;
  healthMax: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(50);
  }
}

// ───── child: the 19 peers (inline, one process) ─────
async function peersRole(): Promise<void> {
  const nodes: MemberlistNode[] = [];
  const report: PeerReport = { suspects: 0, deaths: 0, rtts: [] };
  let subject = '';
  for (let i = 0; i < PEERS; i++) {
    const n = await createNode({
      ...OPTS,
      name: `peer-${i}`,
      threading: 'inline',
      delegates: { onPingComplete: (m, rtt) => void (m.name === subject && report.rtts.push(rtt)) },
    });
    n.on('suspect', (e) => void (e.member.name === subject && report.suspects++));
    n.on('leave', (e) => void (e.member.name === subject && e.reason === 'failed' && report.deaths++));
    if (i > 0) await n.join([`127.0.0.1:${(nodes[0] as MemberlistNode).address.port}`]);
    nodes.push(n);
  }
  process.send?.({ type: 'ready', seed: `127.0.0.1:${(nodes[0] as MemberlistNode).address.port}` });
  process.on('message', (m: { type: string; name?: string }) => {
    if (m.type === 'subject') subject = m.name ?? '';
    if (m.type === 'report') {
      process.send?.({ type: 'report', report });
      void Promise.all(nodes.map((n) => n.shutdown())).then(() => process.exit(0));
    }
  });
}

// ───── child: the stalled node ─────
async function subjectRole(threading: Threading, seed: string, minutes: number, every: number, stall: number): Promise<void> {
  const node = await createNode({ ...OPTS, name: `stalled-${threading}`, threading });
  let suspectEvents = 0;
  let healthMax = 0;
  node.on('suspect', () => void suspectEvents++);
  await node.join([seed]);
  await waitFor(() => node.numMembers() === PEERS + 1, 60_000);
  process.send?.({ type: 'joined' });
  const end = Date.now() + minutes * 60_000;
  let stalls = 0;
  while (Date.now() < end) {
    await sleep(every - stall);
    healthMax = Math.max(healthMax, node.healthScore);
    const until = Date.now() + stall;
    while (Date.now() < until) {
      // the host thread is busy: GC, a CPU-heavy request, a long synchronous call
    }
    stalls++;
  }
  await sleep(3000); // let the last stall's consequences land
  const m = await node.refreshMetrics();
  const report: SubjectReport = {
    threading,
    stalls,
    probes: m.protocol.probes,
    falseSuspicions: m.protocol.probesFailed,
    suspectEvents,
    lateProbeTimeouts: m.protocol.lateProbeTimeouts,
    loopStalls: m.protocol.loopStalls,
    healthMax: Math.max(healthMax, m.healthScore),
  };
  process.send?.({ type: 'report', report });
  await node.shutdown();
  process.exit(0);
}

function child(args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(c: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { type: string } & Record<string, unknown>): void => {
      if (m.type !== type) return;
      c.off('message', on);
      resolve(m as T);
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before '${type}'`)));
  });
}

async function stallRun(threading: Threading, minutes: number, every: number, stall: number): Promise<{ peers: PeerReport; subject: SubjectReport }> {
  const peers = child(['--role', 'peers']);
  const { seed } = await next<{ seed: string }>(peers, 'ready');
  peers.send({ type: 'subject', name: `stalled-${threading}` });
  const subject = child(['--role', 'subject', '--threading', threading, '--seed', seed, '--minutes', String(minutes), '--every', String(every), '--stall', String(stall)]);
  await next(subject, 'joined');
  const s = await next<{ report: SubjectReport }>(subject, 'report');
  peers.send({ type: 'report' });
  const p = await next<{ report: PeerReport }>(peers, 'report');
  return { peers: p.report, subject: s.report };
}

// ───── the cost of isolation (in this process, same run for both modes) ─────
interface Cost {
  threading: Threading;
  startMs: number;
  rssPerNodeMb: number;
  cpuMsPerNodePerS: number;
  joinP50Ms: number;
  joinP99Ms: number;
  metricsP50Ms: number;
  metricsP99Ms: number;
  eventP50Ms: number;
  eventP99Ms: number;
}

async function cost(threading: Threading, n: number): Promise<Cost> {
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(200);
  const rss0 = process.memoryUsage().rss;
  const nodes: MemberlistNode[] = [];
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    nodes.push(await createNode({ ...OPTS, profile: 'local', name: `${threading}-${i}`, threading }));
    starts.push(performance.now() - t);
  }
  const seed = `127.0.0.1:${(nodes[0] as MemberlistNode).address.port}`;
  for (const x of nodes.slice(1)) await x.join([seed]);
  await waitFor(() => nodes.every((x) => x.numMembers() === n), 30_000);
  await sleep(2000);
  const rss1 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(10_000);
  const cpu = process.cpuUsage(cpu0);
  const secs = (performance.now() - t0) / 1000;
  const joins: number[] = [];
  const metrics: number[] = [];
  const a = nodes[1] as MemberlistNode;
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await a.join([seed]);
    joins.push(performance.now() - t);
  }
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await a.refreshMetrics();
    metrics.push(performance.now() - t);
  }
  // An event's round trip: updateMeta goes to the membership actor, whose MemberChanged comes back
  // to the facade as our own `update` event (isolated: one hop each way across the boundary).
  const events: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const seen = new Promise<void>((resolve) => a.once('update', () => resolve()));
    void a.updateMeta(new TextEncoder().encode(`m${i}`));
    await seen;
    events.push(performance.now() - t);
  }
  await Promise.all(nodes.map((x) => x.shutdown()));
  return {
    threading,
    startMs: pct(starts, 50),
    rssPerNodeMb: (rss1 - rss0) / n / 2 ** 20,
    cpuMsPerNodePerS: (cpu.user + cpu.system) / 1000 / n / secs,
    joinP50Ms: pct(joins, 50),
    joinP99Ms: pct(joins, 99),
    metricsP50Ms: pct(metrics, 50),
    metricsP99Ms: pct(metrics, 99),
    eventP50Ms: pct(events, 50),
    eventP99Ms: pct(events, 99),
  };
}

async function main(): Promise<void> {
  const role = process.argv[process.argv.indexOf('--role') + 1];
  const str = (k: string): string => process.argv[process.argv.indexOf(`--${k}`) + 1] ?? '';
  const minutes = arg('minutes', 5);
  const every = arg('every', 10_000);
  const stall = arg('stall', 2000);
  if (process.argv.includes('--role') && role === 'peers') return peersRole();
  if (process.argv.includes('--role') && role === 'subject') return subjectRole(str('threading') as Threading, str('seed'), minutes, every, stall);

  if (process.argv.includes('--cost-only')) return printCost();
  console.log(`# stall benchmark: ${PEERS + 1} nodes (lan preset), one stalled ${stall} ms every ${every} ms for ${minutes} min`);
  const rows: string[] = [];
  for (const threading of ['isolated', 'inline'] as const) {
    const r = await stallRun(threading, minutes, every, stall);
    console.log(JSON.stringify({ ...r.subject, peers: { suspects: r.peers.suspects, deaths: r.peers.deaths, acks: r.peers.rtts.length } }));
    rows.push(
      `| ${threading} | ${r.subject.stalls} | ${r.peers.suspects} | ${r.peers.deaths} | ${r.subject.falseSuspicions} | ${r.subject.suspectEvents} | ${r.peers.rtts.length} | ${pct(r.peers.rtts, 50).toFixed(2)} | ${pct(r.peers.rtts, 99).toFixed(2)} | ${Math.max(...r.peers.rtts, 0).toFixed(1)} | ${r.subject.loopStalls} | ${r.subject.healthMax} |`,
    );
  }
  console.log('\n| threading | stalls | suspicions of it (peer events) | deaths of it | probes it failed (false suspicions) | suspect events it saw | acks to peers | ack RTT p50 ms | p99 ms | max ms | loop stalls it measured | max health score |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  if (process.argv.includes('--skip-cost')) return;
  await printCost();
}

async function printCost(): Promise<void> {
  const n = 10;
  const costs = [await cost('inline', n), await cost('isolated', n)];
  console.log(`\n# cost of isolation: ${n} nodes in one process (local preset), medians; ratio = isolated / inline`);
  console.log('| threading | start-up ms | RSS per node MB | CPU ms per node per s | join() p50 / p99 ms | refreshMetrics() p50 / p99 ms | update event round trip p50 / p99 ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const c of costs) {
    console.log(`| ${c.threading} | ${c.startMs.toFixed(1)} | ${c.rssPerNodeMb.toFixed(1)} | ${c.cpuMsPerNodePerS.toFixed(2)} | ${c.joinP50Ms.toFixed(2)} / ${c.joinP99Ms.toFixed(2)} | ${c.metricsP50Ms.toFixed(3)} / ${c.metricsP99Ms.toFixed(3)} | ${c.eventP50Ms.toFixed(3)} / ${c.eventP99Ms.toFixed(3)} |`);
  }
  const [inl, iso] = costs as [Cost, Cost];
  console.log(`| ratio | ${(iso.startMs / inl.startMs).toFixed(1)} | ${(iso.rssPerNodeMb / inl.rssPerNodeMb).toFixed(1)} | ${(iso.cpuMsPerNodePerS / inl.cpuMsPerNodePerS).toFixed(2)} | ${(iso.joinP50Ms / inl.joinP50Ms).toFixed(2)} | ${(iso.metricsP50Ms / inl.metricsP50Ms).toFixed(1)} | ${(iso.eventP50Ms / inl.eventP50Ms).toFixed(1)} |`);
}

await main();
