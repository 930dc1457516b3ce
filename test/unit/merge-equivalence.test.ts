/**
 * The same merge inline and on the worker: for random remote states and random mirrors, the diff
 * the worker returns (decoded from its protobuf bytes) equals what InlineMergeExecutor computes from
 * the same frame. Once in-process (MergeWorkerState, many runs) and once through a real piscina worker,
 * whose mirror is kept current only by the executor's per-change updates.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { wire } from '../../src/gen/index.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { InlineMergeExecutor, type MergeDiff, type MirrorEntry } from '../../src/actors/push-pull/merge.js';
import { decodeMergeDiff, encodeMirrorUpdate, mirrorEntryToProto, peekPushPullHeader } from '../../src/actors/push-pull/merge-codec.js';
import { MergeWorkerState } from '../../src/actors/push-pull/merge-worker-core.js';
import { WorkerMergeExecutor } from '../../src/actors/push-pull/worker-merge-executor.js';
import type { ProtocolVersions } from '../../src/actors/membership/member-record.js';

const codec = new ProtobufCodec();
const SELF = 'n0';

/** A few names so that remote entries, duplicates, self and mirror entries collide often. */
const name = fc.constantFrom('', SELF, 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7');
/** Host text and its wire form: equal or different from the mirror's on purpose. */
const HOSTS: Array<{ text: string; ipv4: number; ipv6?: Uint8Array }> = [
  { text: '10.0.0.1', ipv4: 0x0a000001 },
  { text: '10.0.0.2', ipv4: 0x0a000002 },
  { text: '::1', ipv4: 0, ipv6: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) },
];
const version = fc.integer({ min: 0, max: 3 });
const vsn: fc.Arbitrary<ProtocolVersions> = fc.tuple(version, version, version, version, version, version);
/** ALIVE..LEFT plus an unknown future state. */
const state = fc.integer({ min: 0, max: 4 }) as fc.Arbitrary<wire.MemberState>;

const remoteEntry: fc.Arbitrary<wire.PushNodeState.$Properties> = fc
  .record({
    name,
    host: fc.integer({ min: 0, max: HOSTS.length - 1 }),
    port: fc.constantFrom(7946, 7947),
    incarnation: fc.integer({ min: 0, max: 4 }),
    state,
    meta: fc.uint8Array({ maxLength: 4 }),
    vsn: fc.option(vsn, { nil: undefined }),
  })
  .map((r) => {
    const h = HOSTS[r.host] as (typeof HOSTS)[number];
    const v = r.vsn ?? [0, 0, 0, 0, 0, 0];
    return {
      name: r.name,
      ipv4: h.ipv4,
      ...(h.ipv6 !== undefined ? { ipv6: h.ipv6 } : {}),
      port: r.port,
      meta: r.meta,
      incarnation: r.incarnation,
      state: r.state,
      protocolMin: v[0],
      protocolMax: v[1],
      protocolCur: v[2],
      delegateMin: v[3],
      delegateMax: v[4],
      delegateCur: v[5],
    };
  });

const mirrorEntry: fc.Arbitrary<MirrorEntry> = fc
  .record({
    incarnation: fc.integer({ min: 0, max: 4 }),
    state: fc.integer({ min: 0, max: 3 }) as fc.Arbitrary<wire.MemberState>,
    host: fc.option(fc.constantFrom(...HOSTS.map((h) => h.text)), { nil: undefined }),
    port: fc.option(fc.constantFrom(7946, 7947), { nil: undefined }),
    vsn: fc.option(vsn, { nil: undefined }),
  })
  .map((r) => ({
    incarnation: r.incarnation,
    state: r.state,
    ...(r.host !== undefined ? { host: r.host } : {}),
    ...(r.port !== undefined ? { port: r.port } : {}),
    ...(r.vsn !== undefined ? { vsn: r.vsn } : {}),
  }));

const mirror: fc.Arbitrary<Map<string, MirrorEntry>> = fc
  .dictionary(fc.constantFrom(SELF, 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'), mirrorEntry, { maxKeys: 9 })
  .map((d) => new Map(Object.entries(d)));

const remote: fc.Arbitrary<{ states: wire.PushNodeState.$Properties[]; nodes: number; maxEntries: number }> = fc.record({
  states: fc.array(remoteEntry, { maxLength: 12 }),
  nodes: fc.integer({ min: 0, max: 14 }),
  maxEntries: fc.constantFrom(4, 10, 1000),
});

/** Bytes as arrays, Buffers as plain Uint8Arrays: only the values are compared. */
function plain(d: unknown): unknown {
  if (d instanceof Uint8Array) return Array.from(d);
  if (Array.isArray(d)) return d.map(plain);
  if (d !== null && typeof d === 'object') return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, plain(v)]));
  return d;
}

function frameOf(r: { states: wire.PushNodeState.$Properties[]; nodes: number }): Uint8Array {
  return codec.encodeStreamMessage({ pushPull: { header: { nodes: r.nodes, join: false }, states: r.states } });
}

/** The inline diff from the same bytes the worker gets (decoded here, as the main thread would). */
function inlineDiff(frame: Uint8Array, m: ReadonlyMap<string, MirrorEntry>, maxEntries: number): MergeDiff {
  const decoded = codec.decodeStreamMessage(frame);
  if (!decoded.ok || !decoded.value.pushPull) throw new Error('test frame did not decode');
  return new InlineMergeExecutor({ maxEntries }).merge(decoded.value.pushPull, m, SELF);
}

function ownedCopy(frame: Uint8Array): Uint8Array {
  return new Uint8Array(frame);
}

describe('inline and worker merges are identical on random states', () => {
  it('in-process worker core (MergeWorkerState), reset and delta mirror updates', () => {
    const core = new MergeWorkerState();
    let seq = 0;
    let previous = new Map<string, MirrorEntry>();
    fc.assert(
      fc.property(mirror, remote, fc.boolean(), (m, r, reset) => {
        const entries = reset
          ? [...m].map(([n, e]) => mirrorEntryToProto(n, e))
          : [
              ...[...previous.keys()].filter((n) => !m.has(n)).map((n) => mirrorEntryToProto(n, undefined)),
              ...[...m].map(([n, e]) => mirrorEntryToProto(n, e)),
            ];
        const baseSeq = seq;
        seq++;
        const update = encodeMirrorUpdate({ seq, baseSeq, reset: reset || seq === 1, entries });
        expect(core.applyUpdate(new Uint8Array(update))).toBe(true);
        previous = m;
        const frame = frameOf(r);
        const expected = inlineDiff(frame, m, r.maxEntries);
        const result = core.merge({ kind: 'merge', frame: ownedCopy(frame).buffer as ArrayBuffer, seq, selfName: SELF, maxEntries: r.maxEntries, extras: false });
        expect(result.frame).toBeUndefined();
        const got = decodeMergeDiff(new Uint8Array(result.diff));
        expect(got.staleMirror).toBe(false);
        expect(got.error).toBeUndefined();
        const { staleMirror: _s, ...diff } = got;
        expect(plain(diff)).toEqual(plain(expected));
      }),
      { numRuns: 2000, seed: 424242 },
    );
  });

  describe('through a real piscina worker', () => {
    const executor = new WorkerMergeExecutor({ maxEntries: 1000, threshold: 0 });
    afterAll(() => executor.close());

    it('random mirrors kept current by per-change updates, random remote states', async () => {
      // Limit refusals are covered in-process; the executor's maxEntries is fixed. One Map, changed in
      // place and reported change by change, as the push-pull actor keeps its mirror.
      const next = new Map<string, MirrorEntry>();
      await fc.assert(
        fc.asyncProperty(mirror, remote, async (m, r) => {
          for (const n of [...next.keys()]) {
            if (m.has(n)) continue;
            next.delete(n);
            executor.mirrorChanged(n, undefined, next);
          }
          for (const [n, e] of m) {
            next.set(n, e);
            executor.mirrorChanged(n, e, next);
          }
          const frame = frameOf(r);
          const expected = inlineDiff(frame, next, 1000);
          const bytes = await executor.mergeFrame(ownedCopy(frame), next, SELF);
          const { staleMirror, ...diff } = decodeMergeDiff(bytes);
          expect(staleMirror).toBe(false);
          expect(plain(diff)).toEqual(plain(expected));
        }),
        { numRuns: 150, seed: 777 },
      );
      expect(executor.stats.workersStarted).toBe(1);
      expect(executor.stats.resets).toBe(1);
      expect(executor.stats.staleResubmits).toBe(0);
    });
  });
});

describe('peekPushPullHeader (choosing inline or worker on the bytes alone)', () => {
  it('reads the header the decoder would, without decoding the states', () => {
    fc.assert(
      fc.property(remote, fc.boolean(), fc.boolean(), (r, join, withHeader) => {
        const frame = codec.encodeStreamMessage({
          pushPull: { ...(withHeader ? { header: { nodes: r.nodes, userStateLen: 3, join } } : {}), states: r.states, userState: Uint8Array.from([1, 2, 3]) },
        });
        const header = peekPushPullHeader(frame);
        expect(header).toBeDefined();
        expect({ nodes: header?.nodes, join: header?.join }).toEqual(withHeader ? { nodes: r.nodes, join } : { nodes: 0, join: false });
      }),
      { numRuns: 300, seed: 99 },
    );
  });

  it('is undefined for anything but a push-pull frame, and never throws', () => {
    expect(peekPushPullHeader(codec.encodeStreamMessage({ ping: { seqNo: 1, node: 'x' } }))).toBeUndefined();
    expect(peekPushPullHeader(new Uint8Array(0))).toBeUndefined();
    expect(peekPushPullHeader(Uint8Array.from([2, 0x0a, 0x02, 0x42, 0x00]))).toBeUndefined();
    const good = codec.encodeStreamMessage({ pushPull: { header: { nodes: 5 }, states: [] } });
    for (let cut = 1; cut < good.length; cut++) expect(() => peekPushPullHeader(good.subarray(0, cut))).not.toThrow();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(() => peekPushPullHeader(Uint8Array.from([1, ...b]))).not.toThrow();
    }), { numRuns: 500, seed: 5 });
  });
});
