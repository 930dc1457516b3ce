// Push-pull merge: main-thread stall inline vs on the merge worker (WorkerMergeExecutor), at 1k, 10k
// and 30k entries (node-stack.md §2c repeated on the real code path).
//
//   npx tsx benchmarks/merge-offload.ts [--sizes 1000,10000,30000] [--reps 15]
//   node dist/benchmarks/merge-offload.js ...            (after `npm run build`)
//
// The local member table (the mirror) has N entries; the remote state has the same N members with
// 10 % at a newer incarnation, some dead or left, plus 1 % unknown ones.
// inline: decode the frame + mergeRemoteState + build the claim messages, all on this thread.
// worker: mergeFrame() (the frame transferred) and, when the diff arrives, decode it + build the claim
//         messages. "sync" is the time spent on this thread in those two steps; "ELU active" is the
//         event loop's active time from the call to the applied diff (adds result deserialisation
//         and GC: an upper bound); "round trip" is call to applied diff.
// Event-loop delay: monitorEventLoopDelay (resolution 1 ms) over the measured reps, 20 ms apart, of
// one mode: its max and p99 are what a timer (a probe, an ack) would have waited.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { actors, wire } from '../src/gen/index.js';
import { toWireAddress } from '../src/codec/address.js';
import { ProtobufCodec } from '../src/codec/protobuf-codec.js';
import { mergeRemoteState, type MergeDiff, type MirrorEntry } from '../src/actors/push-pull/merge.js';
import { decodeMergeDiff } from '../src/actors/push-pull/merge-codec.js';
import { WorkerMergeExecutor } from '../src/actors/push-pull/worker-merge-executor.js';

const SELF = 'self';
const codec = new ProtobufCodec();
const VSN: [number, number, number, number, number, number] = [1, 5, 2, 0, 0, 0];

function hostOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function nameOf(i: number): string {
  return `node-${String(i).padStart(6, '0')}.dc1.example.internal`.slice(0, 24);
}

function mirrorOf(n: number): Map<string, MirrorEntry> {
  const m = new Map<string, MirrorEntry>([[SELF, { incarnation: 1, state: wire.MemberState.ALIVE, host: '127.0.0.1', port: 7946, vsn: VSN }]]);
  for (let i = 0; i < n; i++) m.set(nameOf(i), { incarnation: 3, state: wire.MemberState.ALIVE, host: hostOf(i), port: 7946, vsn: VSN });
  return m;
}

function frameOf(n: number): Uint8Array {
  const meta = new Uint8Array(32).fill(7);
  const states: wire.PushNodeState.$Properties[] = [];
  const entry = (i: number, incarnation: number, state: wire.MemberState): wire.PushNodeState.$Properties => ({
    name: nameOf(i),
    ipv4: toWireAddress(hostOf(i)).ipv4,
    port: 7946,
    meta,
    incarnation,
    state,
    protocolMin: VSN[0],
    protocolMax: VSN[1],
    protocolCur: VSN[2],
  });
  for (let i = 0; i < n; i++) {
    const state = i % 50 === 7 ? wire.MemberState.DEAD : i % 70 === 9 ? wire.MemberState.LEFT : wire.MemberState.ALIVE;
    states.push(entry(i, i % 10 === 3 ? 4 : 3, state));
  }
  for (let i = n; i < n + Math.ceil(n / 100); i++) states.push(entry(i, 1, wire.MemberState.ALIVE));
  return new Uint8Array(codec.encodeStreamMessage({ pushPull: { header: { nodes: states.length, join: false }, states } }));
}

/** What the push-pull actor does with a diff: one message per claim for the membership actor. */
function apply(diff: MergeDiff, sink: object[]): void {
  const from = actors.Endpoint.create({ host: '10.0.0.1', port: 7946 });
  for (const c of diff.claims) {
    if (c.kind === 'alive') sink.push(actors.AliveReceived.create({ alive: c.alive, from }));
    else if (c.kind === 'suspect') sink.push(actors.SuspectReceived.create({ suspect: c.suspect, from }));
    else sink.push(actors.DeadReceived.create({ dead: c.dead, from }));
  }
}

interface Sample {
  sync: number;
  /** worker: the sync part of mergeFrame(), and the decode + apply of the diff. */
  call: number;
  apply: number;
  elu: number;
  roundTrip: number;
  claims: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function fmt(ms: number): string {
  return ms >= 10 ? `${ms.toFixed(1)} ms` : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

async function runInline(frame: Uint8Array, mirror: Map<string, MirrorEntry>): Promise<Sample> {
  const copy = new Uint8Array(frame);
  const sink: object[] = [];
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const decoded = codec.decodeStreamMessage(copy);
  if (!decoded.ok || !decoded.value.pushPull) throw new Error('bad frame');
  const diff = mergeRemoteState(decoded.value.pushPull, mirror, SELF, { maxEntries: 1 << 20 });
  apply(diff, sink);
  const t1 = performance.now();
  // Let GC debt and the loop settle into the ELU reading like the worker path's.
  await new Promise((r) => setImmediate(r));
  const elu = performance.eventLoopUtilization(elu0);
  return { sync: t1 - t0, call: t1 - t0, apply: 0, elu: elu.active, roundTrip: t1 - t0, claims: sink.length };
}

async function runWorker(ex: WorkerMergeExecutor, frame: Uint8Array, mirror: Map<string, MirrorEntry>): Promise<Sample> {
  const copy = new Uint8Array(frame);
  const sink: object[] = [];
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const pending = ex.mergeFrame(copy, mirror, SELF);
  const t1 = performance.now();
  const bytes = await pending;
  const t2 = performance.now();
  apply(decodeMergeDiff(bytes), sink);
  const t3 = performance.now();
  await new Promise((r) => setImmediate(r));
  const elu = performance.eventLoopUtilization(elu0);
  return { sync: t1 - t0 + (t3 - t2), call: t1 - t0, apply: t3 - t2, elu: elu.active, roundTrip: t3 - t0, claims: sink.length };
}

async function measure(
  label: string,
  reps: number,
  run: () => Promise<Sample>,
): Promise<{ label: string; samples: Sample[]; eldMax: number; eldP99: number }> {
  for (let i = 0; i < 3; i++) await run(); // warm-up (JIT, the worker's first mirror)
  await sleep(50);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const samples: Sample[] = [];
  for (let i = 0; i < reps; i++) {
    samples.push(await run());
    await sleep(20);
  }
  h.disable();
  return { label, samples, eldMax: h.max / 1e6, eldP99: h.percentile(99) / 1e6 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,30000' }, reps: { type: 'string', default: '15' } } });
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  const reps = Number(values.reps);
  console.log(`# push-pull merge: inline vs worker (Node ${process.version}, ${reps} reps after 3 warm-ups; medians, ELD over all reps)`);
  console.log('');
  console.log('| entries | frame | mode | main-thread sync (call + apply) | ELU active | round trip | event-loop delay max / p99 | claims |');
  console.log('|---|---|---|---|---|---|---|---|');
  const ex = new WorkerMergeExecutor({ maxEntries: 1 << 20, threshold: 0 });
  try {
    for (const n of sizes) {
      const mirror = mirrorOf(n);
      const frame = frameOf(n);
      const results = [
        await measure('inline', reps, () => runInline(frame, mirror)),
        await measure('worker', reps, () => runWorker(ex, frame, mirror)),
      ];
      for (const r of results) {
        const s = r.samples;
        console.log(
          `| ${n} | ${(frame.length / 1024).toFixed(0)} KiB | ${r.label} | ${fmt(median(s.map((x) => x.sync)))}${
            r.label === 'worker' ? ` (${fmt(median(s.map((x) => x.call)))} + ${fmt(median(s.map((x) => x.apply)))})` : ''
          } | ${fmt(median(s.map((x) => x.elu)))} | ${fmt(
            median(s.map((x) => x.roundTrip)),
          )} | ${fmt(r.eldMax)} / ${fmt(r.eldP99)} | ${s[0]?.claims ?? 0} |`,
        );
      }
    }
    console.log('');
    console.log(`executor: ${JSON.stringify(ex.stats)}`);
  } finally {
    await ex.close();
  }
}

await main();
