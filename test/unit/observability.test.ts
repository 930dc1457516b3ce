/**
 * Instrumentation for embedders: the Prometheus renderer (pure), the protocol observer and the
 * diagnostics_channel publisher on a real 4-node cluster on 127.0.0.1.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type Member, type MemberlistNode, type NodeMetrics } from '../../src/index.js';
import { renderPrometheus } from '../../src/observability/prometheus.js';
import { ProtocolObserver, type ProtocolStats } from '../../src/observability/protocol-observer.js';
import { EventLoopDelayMonitor } from '../../src/observability/event-loop.js';
import {
  MEMBER_CHANNEL,
  METRICS_CHANNEL,
  publishDiagnostics,
  type MemberMessage,
  type MetricsMessage,
} from '../../src/observability/diagnostics.js';
import { waitForCluster } from '../helpers/wait.js';

const metrics: NodeMetrics = {
  packetsIn: 10,
  packetsOut: 12,
  bytesIn: 1000,
  bytesOut: 1200,
  messagesIn: { ping: 5, ack: 4 },
  messagesOut: { ping: 6, ack: 5, indirectPing: 2 },
  messageBytesIn: { ping: 100 },
  messageBytesOut: { ack: 80 },
  dropsIn: { malformed: 1 },
  dropsOut: {},
  transport: { packetsSent: 12, packetsReceived: 10, bytesSent: 1200, bytesReceived: 1000, packetsDropped: 0, streamsOpened: 3, streamsAccepted: 2 },
  actors: [{ name: 'probe', received: 50, mailboxDepth: 2, dropped: 0, crashes: 0, restarts: 0 }],
  healthScore: 1,
  threading: 'inline',
  hooks: { 'ack"Payload\\': { calls: 3, errors: 1, slow: 0 } },
  protocol: {
    probes: 40,
    probesFailed: 2,
    tcpFallbackSuccesses: 1,
    indirectPingsSent: 3,
    degradedProbes: 1,
    digestMismatches: 0,
    lateProbeTimeouts: 0,
    lateSuspicionExpiries: 0,
    loopStalls: 0,
    loopMaxDelayMs: 0,
    refutations: 1,
    suspicionsStarted: 2,
    suspicionsExpired: 1,
    degradedTimeouts: 0,
    broadcastQueueDepth: 7,
    broadcastsDropped: 0,
    pushPullsSent: 3,
    pushPullsReceived: 2,
    pushPullsFailed: 0,
    pushPullLastMs: 1.5,
    pushPullTotalMs: 4.5,
  },
};

const member = (name: string, state: Member['state']): Member => ({ name, addr: '127.0.0.1', port: 1, meta: new Uint8Array(0), state, incarnation: 1 });

const protocol: ProtocolStats = {
  probeAcks: 7,
  probeFailures: 1,
  probeRttSumSeconds: 0.007,
  probeRttCount: 7,
  suspicions: 1,
  refutations: 0,
  deaths: 1,
  leaves: 0,
  joins: 3,
  recoveries: 0,
  pushPullsOk: 2,
  pushPullsFailed: 1,
  pushPullsInbound: 4,
  pushPullDuration: { buckets: [0.01, 0.1], counts: [1, 2], count: 2, sum: 0.05 },
  pushPullInboundDuration: { buckets: [0.01, 0.1], counts: [0, 0], count: 0, sum: 0 },
};

/** Parses exposition text into families (HELP/TYPE once each, first) and samples. */
function parse(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const helps = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP (\S+) /.exec(line);
    if (help) {
      expect(helps.has(help[1] ?? ''), `HELP twice for ${help[1]}`).toBe(false);
      helps.add(help[1] ?? '');
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|summary|histogram)$/.exec(line);
    if (type) {
      expect(types.has(type[1] ?? ''), `TYPE twice for ${type[1]}`).toBe(false);
      types.set(type[1] ?? '', type[2] ?? '');
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line);
    expect(sample, `malformed line: ${line}`).not.toBeNull();
    const name = sample?.[1] ?? '';
    const family = [...types.keys()].find((f) => name === f || name.startsWith(`${f}_`));
    expect(family, `sample ${name} before its TYPE`).toBeDefined();
    samples.set(`${name}${sample?.[2] ?? ''}`, Number(sample?.[3]));
  }
  return { types, samples };
}

describe('renderPrometheus', () => {
  it('renders every family once, with valid names, escaped labels and cumulative histograms', () => {
    const text = renderPrometheus({
      metrics,
      members: [member('a', 'alive'), member('b', 'alive'), member('c', 'dead')],
      protocol,
      eventLoop: { min: 0, max: 0.05, mean: 0.001, p50: 0.0005, p90: 0.002, p99: 0.01, count: 100, windowSeconds: 10 },
    });
    expect(text.endsWith('\n')).toBe(true);
    const { types, samples } = parse(text);
    expect(types.get('memberlist_msg_sent_total')).toBe('counter');
    expect(types.get('memberlist_health_score')).toBe('gauge');
    expect(types.get('memberlist_push_pull_duration_seconds')).toBe('histogram');
    expect(types.get('memberlist_event_loop_delay_seconds')).toBe('summary');
    expect(samples.get('memberlist_msg_sent_total{type="ping"}')).toBe(6);
    expect(samples.get('memberlist_msg_received_total{type="ack"}')).toBe(4);
    expect(samples.get('memberlist_udp_bytes_total{direction="out"}')).toBe(1200);
    expect(samples.get('memberlist_dropped_total{direction="in",reason="malformed"}')).toBe(1);
    expect(samples.get('memberlist_indirect_probes_total')).toBe(2);
    expect(samples.get('memberlist_health_score')).toBe(1);
    expect(samples.get('memberlist_node_instances{node_state="alive"}')).toBe(2);
    expect(samples.get('memberlist_node_instances{node_state="dead"}')).toBe(1);
    expect(samples.get('memberlist_node_instances{node_state="suspect"}')).toBe(0);
    expect(samples.get('memberlist_actor_mailbox_depth{actor="probe"}')).toBe(2);
    expect(samples.get('memberlist_tcp_connect_total')).toBe(3);
    expect(samples.get('memberlist_probes_total{result="failed"}')).toBe(1);
    expect(samples.get('memberlist_push_pull_total{direction="outbound",result="error"}')).toBe(1);
    expect(samples.get('memberlist_push_pull_duration_seconds_bucket{direction="outbound",le="0.1"}')).toBe(2);
    expect(samples.get('memberlist_push_pull_duration_seconds_bucket{direction="outbound",le="+Inf"}')).toBe(2);
    expect(samples.get('memberlist_push_pull_duration_seconds_count{direction="outbound"}')).toBe(2);
    expect(samples.get('memberlist_event_loop_delay_seconds{quantile="0.99"}')).toBe(0.01);
    expect(samples.get('memberlist_event_loop_delay_seconds_count')).toBe(100);
    // A hook name with a quote and a backslash is escaped in the label value.
    expect(text).toContain('memberlist_hook_calls_total{hook="ack\\"Payload\\\\"} 3');
  });

  it('renders bytes by message type from node.metrics(), and a given broadcast queue depth', () => {
    const { types, samples } = parse(renderPrometheus({ metrics, broadcastQueueDepth: 4 }));
    expect(types.get('memberlist_msg_bytes_total')).toBe('counter');
    expect(samples.get('memberlist_msg_bytes_total{direction="in",type="ping"}')).toBe(100);
    expect(samples.get('memberlist_msg_bytes_total{direction="out",type="ack"}')).toBe(80);
    expect(samples.get('memberlist_queue_broadcasts')).toBe(4);
  });

  it('leaves out what it was not given, and adds constant labels to every sample', () => {
    const text = renderPrometheus({ metrics, labels: { node: 'api-1' } });
    expect(text).not.toContain('memberlist_probes_total');
    expect(text).not.toContain('memberlist_event_loop_delay_seconds');
    expect(text).not.toContain('memberlist_node_instances');
    // The queue depth comes with node.metrics() now (metrics.protocol).
    expect(text).toContain('memberlist_queue_broadcasts{node="api-1"} 7');
    for (const line of text.split('\n')) {
      if (line !== '' && !line.startsWith('#')) expect(line).toMatch(/\{node="api-1"/);
    }
  });
});

describe('EventLoopDelayMonitor', () => {
  it('reports delays in seconds, net of its sampling period', async () => {
    const monitor = new EventLoopDelayMonitor({ resolutionMs: 10 }).start();
    await new Promise((r) => setTimeout(r, 100));
    const busyUntil = performance.now() + 60;
    while (performance.now() < busyUntil) {
      // block the loop for 60 ms
    }
    await new Promise((r) => setTimeout(r, 50));
    const s = monitor.snapshot();
    monitor.stop();
    expect(s.count).toBeGreaterThan(0);
    expect(s.max).toBeGreaterThan(0.03);
    expect(s.max).toBeLessThan(5);
    expect(s.p50).toBeLessThan(s.max);
  });
});

/** Re-checks `predicate` every 20 ms; rejects after `limitMs` (a guard, not a tolerance). */
async function poll(predicate: () => boolean, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`condition not reached within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2000,
};

describe('protocol observer and diagnostics channels on a real cluster', () => {
  const nodes: MemberlistNode[] = [];
  const observer = new ProtocolObserver();
  const memberMessages: MemberMessage[] = [];
  const metricsMessages: MetricsMessage[] = [];
  const onMember = (m: unknown): void => void memberMessages.push(m as MemberMessage);
  const onMetrics = (m: unknown): void => void metricsMessages.push(m as MetricsMessage);
  let publisher: { stop(): void } | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) nodes.push(await createNode({ ...FAST, name: `obs-${i}` }));
    const first = nodes[0] as MemberlistNode;
    first.spawn(observer);
    subscribe(MEMBER_CHANNEL, onMember);
    subscribe(METRICS_CHANNEL, onMetrics);
    publisher = publishDiagnostics(first, { intervalMs: 100, observer });
  });

  afterAll(async () => {
    publisher?.stop();
    unsubscribe(MEMBER_CHANNEL, onMember);
    unsubscribe(METRICS_CHANNEL, onMetrics);
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  it('counts joins, probes and push-pulls, and publishes member events and snapshots', async () => {
    const first = nodes[0] as MemberlistNode;
    // obs-0 joins the others: outbound push-pulls from the node that carries the observer.
    await first.join(nodes.slice(1).map((n) => `127.0.0.1:${n.address.port}`));
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 4), 15_000);
    await poll(() => observer.stats().probeAcks >= 3 && metricsMessages.length > 0, 10_000);

    const s = observer.stats();
    expect(s.pushPullsOk).toBeGreaterThanOrEqual(3);
    expect(s.pushPullDuration.count).toBe(s.pushPullsOk);
    expect(s.pushPullDuration.sum).toBeGreaterThan(0);
    expect(s.joins).toBe(3); // the three others (the observer was spawned after our own join)
    expect(s.probeAcks).toBeGreaterThan(0);
    expect(s.probeRttCount).toBe(s.probeAcks);
    const peer = observer.peer('obs-1') ?? observer.peer('obs-2') ?? observer.peer('obs-3');
    expect(peer?.lastProbe).toBe('ack');

    const joined = memberMessages.filter((m) => m.type === 'join').map((m) => m.member.name);
    expect(joined).toEqual(expect.arrayContaining(['obs-1', 'obs-2', 'obs-3']));
    expect(memberMessages.every((m) => m.node === 'obs-0' && typeof m.time === 'number')).toBe(true);
    const last = metricsMessages.at(-1);
    expect(last?.node).toBe('obs-0');
    expect(last?.metrics.messagesOut['ping']).toBeGreaterThan(0);
    expect(last?.protocol?.pushPullsOk).toBeGreaterThanOrEqual(3);
  });

  it('counts a crashed member as a suspicion and a death, and publishes both events', async () => {
    const victim = nodes[3] as MemberlistNode;
    await victim.shutdown();
    const first = nodes[0] as MemberlistNode;
    await waitForCluster([first], () => first.members().find((m) => m.name === victim.name)?.state === 'dead', 20_000);
    const s = observer.stats();
    expect(s.suspicions).toBeGreaterThanOrEqual(1);
    expect(s.deaths).toBe(1);
    const types = memberMessages.filter((m) => m.member.name === victim.name).map((m) => (m.type === 'leave' ? `leave:${m.reason}` : m.type));
    expect(types).toContain('suspect');
    expect(types).toContain('leave:failed');
    expect(types.indexOf('suspect')).toBeLessThan(types.indexOf('leave:failed'));
  });

  it('stops publishing after stop()', async () => {
    publisher?.stop();
    const before = metricsMessages.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(metricsMessages.length).toBe(before);
  });
});
