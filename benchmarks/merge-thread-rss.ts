// What the push-pull merge thread adds to a process's RSS, alone: a WorkerMergeExecutor gets a mirror
// of 10,000 members and merges five 10,000-entry push-pulls (10 % of the entries newer each time),
// 1 s apart; RSS is read before the executor exists, after the merges, and after 15 s of quiet, with
// a full GC of this thread before each reading, and split by kind of mapping (benchmarks/smaps.ts).
//
//   node --expose-gc dist/benchmarks/merge-thread-rss.js [--n 10000] [--root <dist dir>]
//
// --root runs the merge code of another build (its dist/ directory), to compare builds in one sitting.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { residentByKind, residentGrowth } from './smaps.js';
import type { MirrorEntry } from '../src/actors/push-pull/merge.js';
import type { wire } from '../src/gen/index.js';

const { values: argv } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    root: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), '..') },
  },
  strict: true,
});

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const N = Number(argv.n);
const VSN: [number, number, number, number, number, number] = [1, 5, 2, 0, 0, 0];

const hostOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const nameOf = (i: number): string => `node-${String(i).padStart(6, '0')}.dc1.example`;

async function main(): Promise<void> {
  const mod = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(argv.root, path)).href)) as T;
  const { WorkerMergeExecutor } = await mod<typeof import('../src/actors/push-pull/worker-merge-executor.js')>('src/actors/push-pull/worker-merge-executor.js');
  const { ProtobufCodec } = await mod<typeof import('../src/codec/protobuf-codec.js')>('src/codec/protobuf-codec.js');
  const { toWireAddress } = await mod<typeof import('../src/codec/address.js')>('src/codec/address.js');
  const codec = new ProtobufCodec();
  const mirror = new Map<string, MirrorEntry>([['self', { incarnation: 1, state: 0, host: '127.0.0.1', port: 7946, vsn: VSN }]]);
  for (let i = 0; i < N; i++) mirror.set(nameOf(i), { incarnation: 3, state: 0, host: hostOf(i), port: 7946, vsn: VSN });
  const meta = new Uint8Array(32).fill(7);
  const frame = (round: number): Uint8Array => {
    const states: wire.PushNodeState.$Properties[] = [];
    for (let i = 0; i < N; i++) {
      states.push({ name: nameOf(i), ipv4: toWireAddress(hostOf(i)).ipv4, port: 7946, meta, incarnation: 3 + (i % 10 === round ? 1 : 0), state: 0, protocolMin: 1, protocolMax: 5, protocolCur: 2 });
    }
    return new Uint8Array(codec.encodeStreamMessage({ pushPull: { header: { nodes: N, join: false }, states } }));
  };
  const frames = [0, 1, 2, 3, 4].map(frame);
  gc?.();
  await sleep(500);
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const kinds0 = residentByKind();
  const ex = new WorkerMergeExecutor({ maxEntries: 1_000_000, threshold: 1000 });
  const trips: number[] = [];
  for (const f of frames) {
    const t = performance.now();
    await ex.mergeFrame(f, mirror, 'self', true);
    trips.push(Math.round((performance.now() - t) * 10) / 10);
    await sleep(1000);
  }
  gc?.();
  const rss1 = process.memoryUsage().rss;
  await sleep(15_000);
  gc?.();
  const rss2 = process.memoryUsage().rss;
  const mib = (b: number): number => Math.round((b / 1048576) * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      measure: 'merge_thread_rss',
      n: N,
      root: argv.root,
      round_trip_ms: trips,
      rss_growth_after_merges_mib: mib(rss1 - rss0),
      rss_growth_settled_mib: mib(rss2 - rss0),
      rss_growth_by_mapping_mib: residentGrowth(kinds0, residentByKind()),
      node: process.version,
    })}\n`,
  );
  await ex.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
