/**
 * Push-pull merges on a real piscina worker thread (WorkerMergeExecutor, workers/merge-worker.ts):
 * large states merge on the worker exactly as inline, the received frame is transferred (detached
 * here), a worker that dies is replaced with its mirror rebuilt and the merge it took with it fails
 * cleanly (or is resubmitted when it had not started), the push-pull actor continues through
 * MergeDone, and close() ends the thread so a process exits by itself. Executors of one thread share
 * one pool and thread (shared-merge-pool.ts), each with its own mirror there: a crash makes every one
 * of them resync, and the last close ends the thread.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { actors, wire } from '../../src/gen/index.js';
import { RealClock } from '../../src/clock.js';
import { fromWireAddress, toWireAddress } from '../../src/codec/address.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor, ActorContext } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { InlineMergeExecutor, type MergeDiff, type MirrorEntry } from '../../src/actors/push-pull/merge.js';
import { decodeMergeDiff } from '../../src/actors/push-pull/merge-codec.js';
import { PushPullActor } from '../../src/actors/push-pull/push-pull-actor.js';
import { WorkerMergeExecutor, type WorkerMergeExecutorOptions } from '../../src/actors/push-pull/worker-merge-executor.js';
import { MergeWorkerStates } from '../../src/actors/push-pull/merge-worker-core.js';
import { openMergePools } from '../../src/actors/push-pull/shared-merge-pool.js';
import { encodeMirrorUpdate, mirrorEntryToProto } from '../../src/actors/push-pull/merge-codec.js';

const codec = new ProtobufCodec();
const SELF = 'self';
const VSN = { protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 0, delegateMax: 0, delegateCur: 0 };
const MAX_ENTRIES = 1_000_000;
const BOOM = 'crash-me';

function hostOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function memberName(i: number): string {
  return `member-${String(i).padStart(6, '0')}`;
}

/** Our view: self plus n members, every tenth one suspect. */
function localMirror(n: number): Map<string, MirrorEntry> {
  const m = new Map<string, MirrorEntry>([[SELF, { incarnation: 1, state: wire.MemberState.ALIVE, host: '127.0.0.1', port: 7946, vsn: [1, 5, 2, 0, 0, 0] }]]);
  for (let i = 0; i < n; i++) {
    m.set(memberName(i), {
      incarnation: 3,
      state: i % 10 === 0 ? wire.MemberState.SUSPECT : wire.MemberState.ALIVE,
      host: hostOf(i),
      port: 7946,
      vsn: [1, 5, 2, 0, 0, 0],
    });
  }
  return m;
}

/**
 * The peer's state: the same n members, 10 % at a newer incarnation, some dead or left, 1 % unknown
 * to us, plus `extra` names (the crash switch).
 */
function remoteStates(n: number, extra: string[] = []): wire.PushNodeState.$Properties[] {
  const states: wire.PushNodeState.$Properties[] = [];
  const entry = (name: string, i: number, incarnation: number, state: wire.MemberState): wire.PushNodeState.$Properties => ({
    name,
    ipv4: toWireAddress(hostOf(i)).ipv4,
    port: 7946,
    meta: Uint8Array.from([i & 255, 1, 2, 3, 4, 5, 6, 7]),
    incarnation,
    state,
    ...VSN,
  });
  for (let i = 0; i < n; i++) {
    const changed = i % 10 === 3;
    const state = i % 50 === 7 ? wire.MemberState.DEAD : i % 70 === 9 ? wire.MemberState.LEFT : wire.MemberState.ALIVE;
    states.push(entry(memberName(i), i, changed ? 4 : 3, state));
  }
  for (let i = n; i < n + Math.ceil(n / 100); i++) states.push(entry(memberName(i), i, 1, wire.MemberState.ALIVE));
  for (const name of extra) states.push(entry(name, 1, 1, wire.MemberState.ALIVE));
  return states;
}

function pushPullMessage(states: wire.PushNodeState.$Properties[], join = false): wire.Message.$Properties {
  return {
    pushPull: {
      header: { nodes: states.length, userStateLen: 0, join },
      states,
      broadcasts: [{ payload: Uint8Array.from([9, 9]), origin: 'peer', seq: 1 }],
    },
  };
}

/** A frame that owns its ArrayBuffer outright (what the network actor hands over), as a fresh copy. */
function frameOf(states: wire.PushNodeState.$Properties[]): Uint8Array {
  return new Uint8Array(codec.encodeStreamMessage(pushPullMessage(states)));
}

function inlineDiff(frame: Uint8Array, mirror: ReadonlyMap<string, MirrorEntry>): MergeDiff {
  const decoded = codec.decodeStreamMessage(frame);
  if (!decoded.ok || !decoded.value.pushPull) throw new Error('test frame did not decode');
  return new InlineMergeExecutor({ maxEntries: MAX_ENTRIES }).merge(decoded.value.pushPull, mirror, SELF);
}

/** Claims as text (bytes included), for comparing diffs of thousands of claims quickly and readably. */
function summary(d: MergeDiff): { claims: string[]; skipped: number; invalid: number; refused?: string } {
  const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('hex');
  const claims = d.claims.map((c) => {
    switch (c.kind) {
      case 'alive': {
        const a = c.alive;
        return `alive ${a.node}@${a.incarnation} ${a.ipv4}/${hex(a.ipv6)}:${a.port} meta=${hex(a.meta)} v=${a.protocolMin},${a.protocolMax},${a.protocolCur},${a.delegateMin},${a.delegateMax},${a.delegateCur}`;
      }
      case 'suspect':
        return `suspect ${c.suspect.node}@${c.suspect.incarnation} from ${c.suspect.from}`;
      case 'dead':
        return `dead ${c.dead.node}@${c.dead.incarnation} from ${c.dead.from}`;
    }
  });
  return { claims, skipped: d.skipped, invalid: d.invalid, ...(d.refused !== undefined ? { refused: d.refused } : {}) };
}

let executors: WorkerMergeExecutor[] = [];
let supervisors: Supervisor[] = [];

function executor(options: Partial<WorkerMergeExecutorOptions> = {}): WorkerMergeExecutor {
  const e = new WorkerMergeExecutor({ maxEntries: MAX_ENTRIES, threshold: 1000, ...options });
  executors.push(e);
  return e;
}

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop();
  await Promise.all(executors.splice(0).map((e) => e.close()));
});

describe('WorkerMergeExecutor on a real worker thread', () => {
  it('merges a 5,000-entry push-pull exactly as inline, and transfers the frame', async () => {
    const ex = executor();
    const mirror = localMirror(5000);
    const frame = frameOf(remoteStates(5000));
    const expected = summary(inlineDiff(frame, mirror));
    expect(ex.offloads(5000)).toBe(true);
    expect(ex.offloads(999)).toBe(false);
    const frameBuffer = frame.buffer;
    expect(frameBuffer.byteLength).toBeGreaterThan(200_000);
    const pending = ex.mergeFrame(frame, mirror, SELF);
    // Transferred, not cloned: our ArrayBuffer is detached as soon as the call returns.
    expect(frameBuffer.byteLength).toBe(0);
    expect(frame.byteLength).toBe(0);
    const bytes = await pending;
    const got = decodeMergeDiff(bytes);
    expect(got.staleMirror).toBe(false);
    expect(summary(got)).toEqual(expected);
    // 10 % newer alive + dead/left + 1 % new members are claims; the rest is proven stale.
    expect(expected.claims.length).toBeGreaterThan(500);
    expect(expected.skipped).toBeGreaterThan(4000);
    // The diff arrived in a buffer of its own (transferred by the worker, not a view of a pool slab).
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength);
    expect(ex.stats).toMatchObject({ offloaded: 1, resets: 1, workersStarted: 1, failed: 0, staleResubmits: 0 });
  });

  it('a frame that is a view into a larger buffer is copied, and the larger buffer is left alone', async () => {
    const ex = executor({ threshold: 0 });
    const mirror = localMirror(10);
    const inner = frameOf(remoteStates(10));
    const big = new Uint8Array(inner.length + 16);
    big.set(inner, 8);
    const view = big.subarray(8, 8 + inner.length);
    const bytes = await ex.mergeFrame(view, mirror, SELF);
    expect(big.buffer.byteLength).toBe(inner.length + 16);
    expect(summary(decodeMergeDiff(bytes))).toEqual(summary(inlineDiff(inner, mirror)));
  });

  it('keeps the worker mirror current with per-change updates (no full table per merge)', async () => {
    const ex = executor({ threshold: 0 });
    const mirror = localMirror(2000);
    await ex.mergeFrame(frameOf(remoteStates(10)), mirror, SELF);
    const afterReset = ex.stats.mirrorEntriesSent;
    expect(afterReset).toBe(2001);
    // 300 members change and 5 leave the table; each is one entry in the next update.
    for (let i = 0; i < 300; i++) {
      const e: MirrorEntry = { incarnation: 9, state: wire.MemberState.ALIVE, host: hostOf(i), port: 7946, vsn: [1, 5, 2, 0, 0, 0] };
      mirror.set(memberName(i), e);
      ex.mirrorChanged(memberName(i), e, mirror);
    }
    for (let i = 1990; i < 1995; i++) {
      mirror.delete(memberName(i));
      ex.mirrorChanged(memberName(i), undefined, mirror);
    }
    const frame = frameOf(remoteStates(2000));
    const expected = summary(inlineDiff(frame, mirror));
    const got = summary(decodeMergeDiff(await ex.mergeFrame(frame, mirror, SELF)));
    expect(got).toEqual(expected);
    expect(ex.stats.mirrorEntriesSent - afterReset).toBe(305);
    expect(ex.stats.resets).toBe(1);
  });

  it('given another mirror object, the worker takes it whole (its changes were never reported)', async () => {
    const ex = executor({ threshold: 0 });
    await ex.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF);
    const other = localMirror(1200);
    const frame = frameOf(remoteStates(1200));
    const expected = summary(inlineDiff(frame, other));
    expect(summary(decodeMergeDiff(await ex.mergeFrame(frame, other, SELF)))).toEqual(expected);
    expect(ex.stats.resets).toBe(2);
  });

  it('a worker that dies is replaced; the merge it took fails cleanly, the one queued behind it is resubmitted, the mirror is rebuilt', async () => {
    const events: string[] = [];
    const ex = executor({
      workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'exit' } },
      onEvent: (e) => events.push(e.type),
    });
    const mirror = localMirror(3000);
    // Warm up: the pool and its first mirror.
    await ex.mergeFrame(frameOf(remoteStates(3000)), mirror, SELF);
    expect(ex.stats.workersStarted).toBe(1);

    // The crashing merge, then (before anyone noticed) a mirror change and another merge queued behind it.
    const crashing = ex.mergeFrame(frameOf(remoteStates(3000, [BOOM])), mirror, SELF);
    const changed: MirrorEntry = { incarnation: 7, state: wire.MemberState.ALIVE, host: hostOf(3), port: 7946, vsn: [1, 5, 2, 0, 0, 0] };
    mirror.set(memberName(3), changed);
    ex.mirrorChanged(memberName(3), changed, mirror);
    const frameBehind = frameOf(remoteStates(3000));
    const expectedBehind = summary(inlineDiff(frameBehind, mirror));
    const behind = ex.mergeFrame(frameBehind, mirror, SELF);

    await expect(crashing).rejects.toThrow(/merge worker failed: .*exited with code: 70/);
    // The merge queued behind reached the replacement before its mirror: it came back untouched and
    // was sent again after a reset, so it still equals the inline merge against the current mirror.
    expect(summary(decodeMergeDiff(await behind))).toEqual(expectedBehind);
    expect(ex.stats.workersStarted).toBe(2);
    expect(ex.stats.workerFailures).toBeGreaterThanOrEqual(1);
    expect(ex.stats.resets).toBeGreaterThanOrEqual(2);
    expect(ex.threads).toBe(1);
    expect(events).toContain('worker-failed');

    // And later merges on the replacement are right (its mirror is the current one, not empty: an
    // empty mirror would skip nothing).
    const later = frameOf(remoteStates(3000));
    const expectedLater = summary(inlineDiff(later, mirror));
    expect(expectedLater.skipped).toBeGreaterThan(2000);
    expect(summary(decodeMergeDiff(await ex.mergeFrame(later, mirror, SELF)))).toEqual(expectedLater);
    expect(ex.stats.workersStarted).toBe(2);
  });

  it('a task that throws fails that merge only; the worker stays and the next merge is right', async () => {
    const ex = executor({ workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'throw' } } });
    const mirror = localMirror(1500);
    await expect(ex.mergeFrame(frameOf(remoteStates(1500, [BOOM])), mirror, SELF)).rejects.toThrow(/test crash on crash-me/);
    const frame = frameOf(remoteStates(1500));
    const expected = summary(inlineDiff(frame, mirror));
    expect(summary(decodeMergeDiff(await ex.mergeFrame(frame, mirror, SELF)))).toEqual(expected);
    expect(ex.stats.workersStarted).toBe(1);
  });

  it('a merge that never finishes times out; its thread is replaced and the next merge is right', async () => {
    // The timeout also covers the replacement thread's start-up (from source it loads through tsx,
    // over a second on a loaded 2-core machine), so it is not set tight.
    const ex = executor({ mergeTimeoutMs: 5000, workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'hang' } } });
    const mirror = localMirror(1500);
    await ex.mergeFrame(frameOf(remoteStates(1500)), mirror, SELF);
    await expect(ex.mergeFrame(frameOf(remoteStates(1500, [BOOM])), mirror, SELF)).rejects.toThrow(/timed out: no result within 5000 ms/);
    const frame = frameOf(remoteStates(1500));
    const expected = summary(inlineDiff(frame, mirror));
    expect(summary(decodeMergeDiff(await ex.mergeFrame(frame, mirror, SELF)))).toEqual(expected);
    expect(ex.stats.workersStarted).toBe(2);
    expect(ex.disabled).toBeUndefined();
  });

  it('a worker that cannot start does not crash-loop: after 3 failures in a row offloading stops for good', async () => {
    const events: string[] = [];
    const ex = executor({ threshold: 0, filename: new URL('./no-such-merge-worker.js', import.meta.url), onEvent: (e) => events.push(e.type) });
    await expect(ex.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF)).rejects.toThrow(/merge worker failed/);
    expect(ex.disabled).toMatch(/3 worker failures in a row/);
    expect(events.filter((e) => e === 'worker-failed')).toHaveLength(3);
    expect(events).toContain('disabled');
    expect(ex.offloads(1_000_000)).toBe(false);
    await expect(ex.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF)).rejects.toThrow(/disabled/);
    // The inline path still works.
    expect(ex.merge({ header: { nodes: 0 }, states: [] }, localMirror(1), SELF).claims).toEqual([]);
  });

  it('close() destroys the pool: the thread exits, merges are refused and stay inline', async () => {
    const ex = executor({ threshold: 0 });
    const mirror = localMirror(10);
    await ex.mergeFrame(frameOf(remoteStates(10)), mirror, SELF);
    expect(ex.threads).toBe(1);
    await ex.close();
    expect(ex.stats.workersStopped).toBe(ex.stats.workersStarted);
    expect(ex.threads).toBe(0);
    expect(ex.offloads(1_000_000)).toBe(false);
    await expect(ex.mergeFrame(frameOf(remoteStates(10)), mirror, SELF)).rejects.toThrow(/closed/);
    await ex.close();
  });

  it('a process that used the pool and closed it exits by itself (no thread left behind)', async () => {
    const module = new URL('../../src/actors/push-pull/worker-merge-executor.ts', import.meta.url).href;
    const script = `
      const { WorkerMergeExecutor } = await import(${JSON.stringify(module)});
      const { ProtobufCodec } = await import(${JSON.stringify(new URL('../../src/codec/protobuf-codec.ts', import.meta.url).href)});
      // Two executors on the shared pool (one thread), and one with a private pool.
      const ex = new WorkerMergeExecutor({ maxEntries: 100, threshold: 0 });
      const other = new WorkerMergeExecutor({ maxEntries: 100, threshold: 0 });
      const own = new WorkerMergeExecutor({ maxEntries: 100, threshold: 0, sharedPool: false });
      const frame = () => new Uint8Array(new ProtobufCodec().encodeStreamMessage({ pushPull: { header: { nodes: 1 }, states: [{ name: 'a', incarnation: 1 }] } }));
      const [diff] = await Promise.all([ex, other, own].map((e) => e.mergeFrame(frame(), new Map(), 'self')));
      const threads = ex.pool.threads + own.pool.threads;
      await other.close();
      await own.close();
      await ex.close();
      console.log(JSON.stringify({ bytes: diff.length, started: ex.stats.workersStarted, stopped: ex.stats.workersStopped, threads }));
      // A ref'd handle check: nothing of the pool may keep the loop alive.
      setTimeout(() => { console.log('STILL ALIVE'); process.exit(3); }, 8000).unref();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // A child that does not exit is killed (and the test fails), never left running.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(guard);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).not.toContain('STILL ALIVE');
    expect(JSON.parse(out.trim())).toEqual({ bytes: expect.any(Number), started: 1, stopped: 1, threads: 2 });
  }, 30_000);
});

/** The same members as localMirror(n), every one at incarnation 4: the peer's bumps are stale here. */
function newerMirror(n: number): Map<string, MirrorEntry> {
  const m = localMirror(n);
  for (const [name, e] of m) if (name !== SELF) m.set(name, { ...e, incarnation: 4 });
  return m;
}

describe('one shared merge pool per thread', () => {
  it('executors of a thread share one pool and one worker thread, and each merges against its own mirror', async () => {
    const a = executor();
    const b = executor();
    const mirrorA = localMirror(3000);
    const mirrorB = newerMirror(3000);
    const frameA = frameOf(remoteStates(3000));
    const frameB = frameOf(remoteStates(3000));
    const expectedA = summary(inlineDiff(frameA, mirrorA));
    const expectedB = summary(inlineDiff(frameB, mirrorB));
    // The same remote state against two member tables: two different diffs.
    expect(expectedA.claims.length).toBeGreaterThan(expectedB.claims.length);
    // Both at once: they queue in the one thread, each against its own mirror.
    const [gotA, gotB] = await Promise.all([a.mergeFrame(frameA, mirrorA, SELF), b.mergeFrame(frameB, mirrorB, SELF)]);
    expect(summary(decodeMergeDiff(gotA))).toEqual(expectedA);
    expect(summary(decodeMergeDiff(gotB))).toEqual(expectedB);
    expect(a.id).not.toBe(b.id);
    expect(a.pool).toBeDefined();
    expect(b.pool).toBe(a.pool);
    expect(a.pool).toMatchObject({ shared: true, executors: 2, threads: 1, workersStarted: 1, workersStopped: 0, generation: 0 });
    expect(openMergePools()).toBe(1);
    expect(a.stats).toMatchObject({ offloaded: 1, resets: 1, workersStarted: 1 });
    expect(b.stats).toMatchObject({ offloaded: 1, resets: 1, workersStarted: 1 });

    // Mirror changes of one executor reach its mirror only.
    for (let i = 0; i < 100; i++) {
      const e: MirrorEntry = { incarnation: 9, state: wire.MemberState.ALIVE, host: hostOf(i), port: 7946, vsn: [1, 5, 2, 0, 0, 0] };
      mirrorA.set(memberName(i), e);
      a.mirrorChanged(memberName(i), e, mirrorA);
    }
    const again = remoteStates(3000);
    const [framesA, framesB] = [frameOf(again), frameOf(again)];
    const [wantA, wantB] = [summary(inlineDiff(framesA, mirrorA)), summary(inlineDiff(framesB, mirrorB))];
    expect(wantA).not.toEqual(expectedA);
    const [nextA, nextB] = await Promise.all([a.mergeFrame(framesA, mirrorA, SELF), b.mergeFrame(framesB, mirrorB, SELF)]);
    expect(summary(decodeMergeDiff(nextA))).toEqual(wantA);
    expect(summary(decodeMergeDiff(nextB))).toEqual(wantB);
    expect(a.pool?.workersStarted).toBe(1);

    // Other pool options (or sharedPool: false) mean another pool.
    const other = executor({ threshold: 0, workerData: { unrelated: 1 } });
    const own = executor({ threshold: 0, sharedPool: false });
    await Promise.all([other.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF), own.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF)]);
    expect(other.pool).not.toBe(a.pool);
    expect(own.pool).not.toBe(a.pool);
    expect(own.pool?.shared).toBe(false);
    expect(openMergePools()).toBe(2);
  });

  it('closing one executor keeps the pool for the others; closing the last ends the thread', async () => {
    const a = executor({ threshold: 0 });
    const b = executor({ threshold: 0 });
    const mirrorA = localMirror(1500);
    const mirrorB = newerMirror(1500);
    await Promise.all([a.mergeFrame(frameOf(remoteStates(1500)), mirrorA, SELF), b.mergeFrame(frameOf(remoteStates(1500)), mirrorB, SELF)]);
    const pool = b.pool;
    expect(pool?.executors).toBe(2);

    // a closes with a merge in flight: that merge rejects at once, the pool and b go on.
    const inFlight = a.mergeFrame(frameOf(remoteStates(1500)), mirrorA, SELF);
    await a.close();
    await expect(inFlight).rejects.toThrow(/closed/);
    expect(a.pool).toBeUndefined();
    expect(a.threads).toBe(0);
    expect(pool).toMatchObject({ executors: 1, threads: 1, workersStopped: 0 });
    expect(a.stats).toMatchObject({ workersStarted: 1, workersStopped: 0 });
    await expect(a.mergeFrame(frameOf(remoteStates(10)), mirrorA, SELF)).rejects.toThrow(/closed/);

    const frame = frameOf(remoteStates(1500));
    const expected = summary(inlineDiff(frame, mirrorB));
    expect(summary(decodeMergeDiff(await b.mergeFrame(frame, mirrorB, SELF)))).toEqual(expected);
    expect(b.stats).toMatchObject({ resets: 1, staleResubmits: 0, failed: 0 });

    await b.close();
    expect(pool).toMatchObject({ executors: 0, threads: 0, workersStarted: 1, workersStopped: 1 });
    expect(b.stats).toMatchObject({ workersStarted: 1, workersStopped: 1 });
    expect(openMergePools()).toBe(0);

    // The next executor starts a fresh pool.
    const c = executor({ threshold: 0 });
    await c.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF);
    expect(c.pool).not.toBe(pool);
    expect(c.pool?.threads).toBe(1);
  });

  it('a crash of the shared thread: the merge it took fails cleanly, every executor resyncs, later merges are right', async () => {
    const crashing = { workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'exit' } } };
    const a = executor(crashing);
    const b = executor(crashing);
    const c = executor(crashing);
    const mirrors = [localMirror(2000), newerMirror(2000), localMirror(2500)] as const;
    const [mirrorA, mirrorB, mirrorC] = mirrors;
    await Promise.all([a, b, c].map((ex, i) => ex.mergeFrame(frameOf(remoteStates(2000)), mirrors[i] as Map<string, MirrorEntry>, SELF)));
    const pool = a.pool;
    expect(pool).toMatchObject({ executors: 3, threads: 1, generation: 0 });

    // a's merge kills the thread; b's merge is queued behind it; c has nothing in flight.
    const dying = a.mergeFrame(frameOf(remoteStates(2000, [BOOM])), mirrorA, SELF);
    const frameB = frameOf(remoteStates(2000));
    const expectedB = summary(inlineDiff(frameB, mirrorB));
    const behind = b.mergeFrame(frameB, mirrorB, SELF);
    await expect(dying).rejects.toThrow(/merge worker failed: .*exited with code: 70/);
    // b's merge reached the replacement, which knows no mirror of b: it came back untouched and was
    // sent again after b's reset.
    expect(summary(decodeMergeDiff(await behind))).toEqual(expectedB);
    expect(b.stats.staleResubmits).toBe(1);
    expect(b.stats.resets).toBe(2);
    expect(pool).toMatchObject({ generation: 1, threads: 1, workersStarted: 2, workersStopped: 1, executors: 3 });
    for (const ex of [a, b, c]) expect(ex.stats).toMatchObject({ workersStarted: 2, workersStopped: 1 });
    expect(a.stats.workerFailures).toBeGreaterThanOrEqual(1);
    expect(c.stats.workerFailures).toBe(0);

    // c changes its table after the crash: no delta goes out (the worker lost c's mirror); its next
    // merge sends the whole mirror first, so it never meets a stale mirror.
    const updatesBefore = c.stats.mirrorUpdates;
    for (let i = 0; i < 50; i++) {
      const e: MirrorEntry = { incarnation: 8, state: wire.MemberState.ALIVE, host: hostOf(i), port: 7946, vsn: [1, 5, 2, 0, 0, 0] };
      mirrorC.set(memberName(i), e);
      c.mirrorChanged(memberName(i), e, mirrorC);
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(c.stats.mirrorUpdates).toBe(updatesBefore);
    const frameC = frameOf(remoteStates(2500));
    const expectedC = summary(inlineDiff(frameC, mirrorC));
    expect(expectedC.skipped).toBeGreaterThan(2000);
    expect(summary(decodeMergeDiff(await c.mergeFrame(frameC, mirrorC, SELF)))).toEqual(expectedC);
    expect(c.stats).toMatchObject({ resets: 2, staleResubmits: 0, failed: 0, mirrorUpdates: updatesBefore + 1 });

    // a, the one whose merge crashed, merges right on the replacement too.
    const frameA = frameOf(remoteStates(2000));
    const expectedA = summary(inlineDiff(frameA, mirrorA));
    expect(summary(decodeMergeDiff(await a.mergeFrame(frameA, mirrorA, SELF)))).toEqual(expectedA);
    expect(a.stats.resets).toBeGreaterThanOrEqual(2);
    expect(pool).toMatchObject({ workersStarted: 2, generation: 1, disabled: undefined });
  });

  it('a merge that hangs the shared thread times out; merges queued behind it time out without blaming the worker; the others resync', async () => {
    const hang = { workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'hang' } } };
    const a = executor({ ...hang, mergeTimeoutMs: 5000 });
    const b = executor({ ...hang, mergeTimeoutMs: 1000 });
    const mirrorA = localMirror(1500);
    const mirrorB = newerMirror(1500);
    await Promise.all([a.mergeFrame(frameOf(remoteStates(1500)), mirrorA, SELF), b.mergeFrame(frameOf(remoteStates(1500)), mirrorB, SELF)]);
    expect(b.pool).toBe(a.pool);
    const hung = a.mergeFrame(frameOf(remoteStates(1500, [BOOM])), mirrorA, SELF);
    // b's merges wait behind the hung one and time out first: they never reached the worker.
    const waiting = [b.mergeFrame(frameOf(remoteStates(1500)), mirrorB, SELF), b.mergeFrame(frameOf(remoteStates(1500)), mirrorB, SELF)];
    for (const w of waiting) await expect(w).rejects.toThrow(/timed out: no result within 1000 ms/);
    expect(b.stats).toMatchObject({ failed: 2, workerFailures: 0, resets: 1 });
    expect(a.pool?.generation).toBe(0);
    await expect(hung).rejects.toThrow(/timed out: no result within 5000 ms/);
    expect(a.stats.workerFailures).toBe(1);
    expect(a.pool?.generation).toBe(1);
    const frame = frameOf(remoteStates(1500));
    const expected = summary(inlineDiff(frame, mirrorB));
    expect(summary(decodeMergeDiff(await b.mergeFrame(frame, mirrorB, SELF)))).toEqual(expected);
    expect(b.stats).toMatchObject({ resets: 2, staleResubmits: 0, workersStarted: 2 });
    expect(a.disabled).toBeUndefined();
  });

  it('a shared pool that cannot start a worker is given up on for every executor attached', async () => {
    const broken = { threshold: 0, filename: new URL('./no-such-merge-worker.js', import.meta.url) };
    const a = executor(broken);
    const b = executor(broken);
    const results = await Promise.allSettled([a.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF), b.mergeFrame(frameOf(remoteStates(10)), localMirror(10), SELF)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await until(() => a.disabled !== undefined && b.disabled !== undefined);
    expect(a.disabled).toMatch(/3 worker failures in a row/);
    expect(b.disabled).toBe(a.disabled);
    expect(a.offloads(1_000_000)).toBe(false);
    expect(b.offloads(1_000_000)).toBe(false);
    expect(openMergePools()).toBe(0);
  });
});

describe('MergeWorkerStates (the worker side, in-process)', () => {
  it('keeps one mirror per executor id, merges unknown ids as stale, and drops a closed executor', () => {
    const states = new MergeWorkerStates();
    const reset = (mirror: Map<string, MirrorEntry>) =>
      new Uint8Array(encodeMirrorUpdate({ seq: 1, baseSeq: 0, reset: true, entries: [...mirror].map(([n, e]) => mirrorEntryToProto(n, e)) }));
    const mirror1 = localMirror(1200);
    const mirror2 = newerMirror(1200);
    expect(states.applyUpdate(1, reset(mirror1))).toBe(true);
    expect(states.applyUpdate(2, reset(mirror2))).toBe(true);
    // A delta for an id with no mirror (a replacement thread): out of sync.
    expect(states.applyUpdate(3, new Uint8Array(encodeMirrorUpdate({ seq: 5, baseSeq: 4, reset: false, entries: [] })))).toBe(false);
    const frame = frameOf(remoteStates(1200));
    const task = (executor: number) => ({ kind: 'merge' as const, executor, frame: frame.slice().buffer as ArrayBuffer, seq: 1, selfName: SELF, maxEntries: MAX_ENTRIES, extras: false });
    expect(summary(decodeMergeDiff(new Uint8Array(states.merge(task(1)).diff)))).toEqual(summary(inlineDiff(frame, mirror1)));
    expect(summary(decodeMergeDiff(new Uint8Array(states.merge(task(2)).diff)))).toEqual(summary(inlineDiff(frame, mirror2)));
    const unknown = states.merge(task(9));
    expect(unknown.frame).toBeDefined();
    expect(decodeMergeDiff(new Uint8Array(unknown.diff)).staleMirror).toBe(true);
    expect(states.drop(1)).toBe(true);
    expect(states.get(1)).toBeUndefined();
    expect(decodeMergeDiff(new Uint8Array(states.merge(task(1)).diff)).staleMirror).toBe(true);
    expect(states.get(2)?.mirror.size).toBe(1201);
  });
});

// ───── the push-pull actor with the worker executor ─────

/** Publishes our mirror at start and records the claims the merge sends, and join results. */
class StubMembership implements Actor {
  readonly name = 'membership';
  readonly accepts = [actors.AliveReceived, actors.SuspectReceived, actors.DeadReceived, actors.JoinResult, actors.UserPacketReceived];
  readonly claims: string[] = [];
  readonly joins: actors.JoinResult[] = [];
  readonly users: actors.UserPacketReceived[] = [];
  #ctx!: ActorContext;

  constructor(private readonly mirror: ReadonlyMap<string, MirrorEntry>) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    let n = 0;
    for (const [name, e] of this.mirror) {
      n++;
      const member = actors.Member.create({
        name,
        addr: { host: e.host ?? '', port: e.port ?? 0 },
        incarnation: e.incarnation,
        state: e.state,
        ...VSN,
      });
      this.#ctx.send(actors.MemberChanged.create({ member, local: name === SELF, numMembers: n }));
    }
  }

  receive(m: object): void {
    if (m instanceof actors.JoinResult) this.joins.push(m);
    else if (m instanceof actors.UserPacketReceived) this.users.push(m);
    else if (m instanceof actors.AliveReceived && m.alive) this.claims.push(`alive ${m.alive.node}@${m.alive.incarnation} meta=${Buffer.from(m.alive.meta ?? []).toString('hex')}`);
    else if (m instanceof actors.SuspectReceived && m.suspect) this.claims.push(`suspect ${m.suspect.node}@${m.suspect.incarnation} from ${m.suspect.from}`);
    else if (m instanceof actors.DeadReceived && m.dead) this.claims.push(`dead ${m.dead.node}@${m.dead.incarnation} from ${m.dead.from}`);
  }
}

/** Answers every push-pull StreamRequest with a prepared response, decoded or as bytes only. */
class StubNetwork implements Actor {
  readonly name = 'network';
  readonly accepts = [actors.StreamRequest, actors.StreamReply];
  readonly replies: actors.StreamReply[] = [];
  /** `view`: the frame bytes are a view into a larger buffer (so the executor copies, not transfers). */
  next: { states: wire.PushNodeState.$Properties[]; decoded: boolean; view?: boolean } | undefined;
  #ctx!: ActorContext;

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
  }

  receive(m: object): void {
    if (m instanceof actors.StreamReply) this.replies.push(m);
    if (!(m instanceof actors.StreamRequest) || this.next === undefined) return;
    let frame = frameOf(this.next.states);
    if (this.next.view === true) {
      const big = new Uint8Array(frame.length + 4);
      big.set(frame, 4);
      frame = big.subarray(4);
    }
    const decoded = codec.decodeStreamMessage(frame);
    if (!decoded.ok) throw new Error('bad test frame');
    this.#ctx.send(
      actors.StreamResult.create({
        requestId: m.requestId,
        requester: m.requester,
        ...(this.next.decoded ? { response: decoded.value } : {}),
        responseBytes: frame,
      }),
    );
  }
}

function claimText(c: MergeDiff['claims'][number]): string {
  switch (c.kind) {
    case 'alive':
      return `alive ${c.alive.node}@${c.alive.incarnation} meta=${Buffer.from(c.alive.meta ?? []).toString('hex')}`;
    case 'suspect':
      return `suspect ${c.suspect.node}@${c.suspect.incarnation} from ${c.suspect.from}`;
    case 'dead':
      return `dead ${c.dead.node}@${c.dead.incarnation} from ${c.dead.from}`;
  }
}

async function until(predicate: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PushPullActor with WorkerMergeExecutor', () => {
  function setup(n: number, options: Partial<WorkerMergeExecutorOptions> = {}) {
    const mirror = localMirror(n);
    const ex = executor(options);
    const supervisor = new Supervisor({ nodeName: SELF, clock: new RealClock(), random: new SeededRandom(5), logger: silentLogger() });
    supervisors.push(supervisor);
    const pushPull = new PushPullActor({
      name: SELF,
      pushPullIntervalMs: 0,
      tcpTimeoutMs: 5_000,
      maxPushPullEntries: MAX_ENTRIES,
      defaultPort: 7946,
      mergeExecutor: ex,
    });
    const membership = new StubMembership(mirror);
    const network = new StubNetwork();
    supervisor.spawn(network);
    supervisor.spawn(pushPull);
    supervisor.spawn(membership);
    supervisor.start();
    let nextId = 1;
    const join = async (states: wire.PushNodeState.$Properties[], decoded: boolean, view = false): Promise<actors.JoinResult> => {
      network.next = { states, decoded, view };
      const requestId = nextId++;
      supervisor.send(actors.JoinRequest.create({ requestId, seeds: ['127.0.0.1:7946'] }));
      await until(() => membership.joins.some((j) => j.requestId === requestId));
      return membership.joins.find((j) => j.requestId === requestId) as actors.JoinResult;
    };
    return { mirror, ex, pushPull, membership, network, supervisor, join };
  }

  for (const decoded of [true, false]) {
    it(`a 5,000-entry join state is merged on the worker and yields the inline claims (${decoded ? 'decoded by the network actor' : 'frame only'})`, async () => {
      const { mirror, ex, pushPull, membership, join } = setup(5000);
      await until(() => pushPull.mirrorSize === 5001);
      const states = remoteStates(5000);
      const expected = inlineDiff(frameOf(states), mirror).claims.map(claimText);
      const result = await join(states, decoded);
      expect(result.reached).toBe(1);
      expect(result.seeds[0]?.error).toBe('');
      expect(membership.claims).toEqual(expected);
      // The carried broadcast reached the user-messages actor either way (copied before the transfer,
      // or sent back by the worker).
      expect(membership.users.map((u) => Buffer.from(u.user?.payload ?? []).toString('hex'))).toEqual(['0909']);
      expect(pushPull.counters).toMatchObject({ offloaded: 1, failed: 0, mergeRetries: 0, entriesMerged: expected.length });
      expect(pushPull.counters.entriesSkipped).toBeGreaterThan(4000);
      expect(ex.stats.offloaded).toBe(1);
    });
  }

  it('below the threshold the merge stays inline', async () => {
    const { ex, pushPull, membership, join } = setup(100);
    await until(() => pushPull.mirrorSize === 101);
    const result = await join(remoteStates(100), true);
    expect(result.reached).toBe(1);
    expect(membership.claims.length).toBeGreaterThan(0);
    expect(pushPull.counters.offloaded).toBe(0);
    expect(ex.started).toBe(false);
    expect(ex.stats.inline).toBe(1);
  });

  it('a worker crash fails the push-pull in flight cleanly; the next one merges on the replacement', async () => {
    const { mirror, ex, pushPull, membership, join } = setup(2000, { workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'exit' } } });
    await until(() => pushPull.mirrorSize === 2001);
    const failed = await join(remoteStates(2000, [BOOM]), true);
    expect(failed.reached).toBe(0);
    expect(failed.seeds[0]?.error).toMatch(/^merge failed: merge worker failed: .*exited with code: 70/);
    expect(membership.claims).toEqual([]);
    expect(pushPull.counters).toMatchObject({ offloaded: 1, failed: 1 });

    const states = remoteStates(2000);
    const expected = inlineDiff(frameOf(states), mirror).claims.map(claimText);
    const ok = await join(states, true);
    expect(ok.reached).toBe(1);
    expect(membership.claims).toEqual(expected);
    expect(ex.stats.workersStarted).toBe(2);
  });

  it('a worker crash is retried inline when the decoded state is still intact (the frame was copied, not transferred)', async () => {
    const { mirror, pushPull, membership, join } = setup(2000, { workerData: { mergeWorkerTest: { crashOnName: BOOM, mode: 'exit' } } });
    await until(() => pushPull.mirrorSize === 2001);
    const states = remoteStates(2000, [BOOM]);
    const expected = inlineDiff(frameOf(states), mirror).claims.map(claimText);
    const result = await join(states, true, true);
    expect(result.reached).toBe(1);
    expect(result.seeds[0]?.error).toBe('');
    expect(membership.claims).toEqual(expected);
    expect(pushPull.counters).toMatchObject({ offloaded: 1, mergeRetries: 1, failed: 0 });
  });

  it('serves a 5,000-entry push-pull handed over as bytes only: replies at once, merges on the worker', async () => {
    const { mirror, pushPull, membership, network, supervisor } = setup(5000);
    await until(() => pushPull.mirrorSize === 5001);
    const states = remoteStates(5000);
    const expected = inlineDiff(frameOf(states), mirror).claims.map(claimText);
    const frame = new Uint8Array(codec.encodeStreamMessage(pushPullMessage(states, true)));
    supervisor.send(actors.StreamRequestReceived.create({ streamId: 7, from: { host: '10.9.9.9', port: 7946 }, requestBytes: frame }));
    await until(() => membership.claims.length === expected.length && membership.users.length === 1);
    expect(membership.claims).toEqual(expected);
    expect(network.replies).toHaveLength(1);
    const reply = network.replies[0]?.response?.pushPull;
    expect(reply?.header?.join).toBe(true);
    expect(reply?.states).toHaveLength(5001);
    expect(pushPull.counters).toMatchObject({ received: 1, offloaded: 1, failed: 0 });
  });

  it('a request frame that is not a push-pull gets an error reply', async () => {
    const { network, supervisor, pushPull } = setup(10);
    await until(() => pushPull.mirrorSize === 11);
    supervisor.send(actors.StreamRequestReceived.create({ streamId: 8, from: { host: '10.9.9.9', port: 7946 }, requestBytes: Uint8Array.from([1, 0x0a, 0x02, 0x0a, 0x00]) }));
    await until(() => network.replies.length === 1);
    expect(network.replies[0]?.response?.error?.error).toMatch(/unexpected response/);
  });
});
