/**
 * The merge worker's logic, free of threads so it can be tested in-process: the mirror of the member
 * table (applied from MergeMirrorUpdate), and the merge of a received frame against it with the same
 * mergeRemoteState the inline path uses. workers/merge-worker.ts is the piscina task around it.
 *
 * One worker thread serves every executor of a thread (shared-merge-pool.ts): MergeWorkerStates
 * keeps one MergeWorkerState (mirror) per executor id, and every task names its executor.
 */
import { inflateFrame, isCompressedFrame, MAX_INFLATED_FRAME_BYTES } from '../../codec/compressed-frame.js';
import { mergeEntries, type MirrorEntry, type RemoteEntries } from './merge.js';
// Not merge-codec.ts nor the generated module: the worker thread must not load protobufjs
// (merge-worker-wire.ts says why); test/unit/merge-worker-wire.test.ts checks the import graph.
import { decodeMirrorUpdate, decodePushPullFrame, encodeMergeDiff } from './merge-worker-wire.js';

/** host -> worker: merge this frame (transferred) against the mirror as of update `seq`. */
export interface MergeTask {
  readonly kind: 'merge';
  /** The executor whose mirror the frame is merged against (absent: 0). */
  readonly executor?: number;
  readonly frame: ArrayBuffer;
  readonly seq: number;
  readonly selfName: string;
  readonly maxEntries: number;
  /** Also return the header, user state and broadcasts (the host did not decode the frame). */
  readonly extras: boolean;
}

/** host -> worker: an encoded MergeMirrorUpdate (transferred). */
export interface MirrorTask {
  readonly kind: 'mirror';
  /** The executor whose mirror the update applies to (absent: 0). */
  readonly executor?: number;
  readonly update: ArrayBuffer;
}

/** host -> worker: the executor closed; forget its mirror. The result is true. */
export interface DropTask {
  readonly kind: 'drop';
  readonly executor: number;
}

export type MergeWorkerTask = MergeTask | MirrorTask | DropTask;

/** worker -> host for a MergeTask: the encoded MergeDiff; on a stale mirror the frame comes back too. */
export interface MergeTaskResult {
  readonly diff: ArrayBuffer;
  readonly frame?: ArrayBuffer;
}

/** worker -> host for a MirrorTask: whether the mirror is in sync after it (false: send a reset). */
export type MirrorTaskResult = boolean;

export class MergeWorkerState {
  readonly mirror = new Map<string, MirrorEntry>();
  /** The last update applied; undefined until the first reset (a fresh worker knows nothing). */
  #seq: number | undefined;

  get seq(): number | undefined {
    return this.#seq;
  }

  /** Applies an encoded MergeMirrorUpdate; returns whether the mirror is in sync afterwards. */
  applyUpdate(bytes: Uint8Array): MirrorTaskResult {
    const u = decodeMirrorUpdate(bytes);
    if (u.reset) {
      this.mirror.clear();
    } else if (this.#seq === undefined || this.#seq !== u.baseSeq) {
      // A delta for a mirror we do not have (a replaced worker): wait for the reset.
      this.#seq = undefined;
      return false;
    }
    for (const { name, entry } of u.entries) {
      if (entry === undefined) this.mirror.delete(name);
      else this.mirror.set(name, entry);
    }
    this.#seq = u.seq;
    return true;
  }

  /**
   * Decodes the frame and merges it. `inspect` sees the remote entries first (the test-only crash
   * switch of workers/merge-worker.ts).
   */
  merge(task: MergeTask, inspect?: (entries: RemoteEntries) => void): MergeTaskResult {
    if (this.#seq === undefined || this.#seq !== task.seq) {
      return { diff: encodeMergeDiff(undefined, { staleMirror: true }), frame: task.frame };
    }
    // A large push-pull arrives still compressed: inflating it is part of the merge, on this thread.
    let frame: Uint8Array = new Uint8Array(task.frame);
    if (isCompressedFrame(frame)) {
      const inflated = inflateFrame(frame, MAX_INFLATED_FRAME_BYTES);
      if (!inflated.ok) {
        return { diff: encodeMergeDiff(undefined, { error: `bad push-pull frame: ${inflated.reason}${inflated.detail ? ` (${inflated.detail})` : ''}` }) };
      }
      frame = inflated.value;
    }
    const decoded = decodePushPullFrame(frame);
    if (!decoded.ok) {
      if ('notPushPull' in decoded) return { diff: encodeMergeDiff(undefined, { error: 'not a push-pull' }) };
      return { diff: encodeMergeDiff(undefined, { error: `bad push-pull frame: ${decoded.reason}${decoded.detail ? ` (${decoded.detail})` : ''}` }) };
    }
    const { entries, header, raw } = decoded.value;
    inspect?.(entries);
    const diff = mergeEntries(entries, header?.nodes ?? 0, this.mirror, task.selfName, { maxEntries: task.maxEntries });
    return { diff: encodeMergeDiff(diff, task.extras ? { raw } : {}) };
  }
}

/**
 * The mirrors of every executor served by one worker thread, by executor id. A mirror is created by
 * the executor's first update (a fresh one is stale until its reset arrives) and dropped when the
 * executor closes. An id the worker does not know (a replacement thread) merges as stale and takes
 * deltas as out of sync, exactly like a fresh MergeWorkerState: the executor answers with a reset.
 */
export class MergeWorkerStates {
  readonly #states = new Map<number, MergeWorkerState>();

  /** Executors with a mirror here. */
  get size(): number {
    return this.#states.size;
  }

  /** The mirror of one executor, if it has one here. */
  get(executor: number): MergeWorkerState | undefined {
    return this.#states.get(executor);
  }

  applyUpdate(executor: number, bytes: Uint8Array): MirrorTaskResult {
    let state = this.#states.get(executor);
    if (state === undefined) {
      state = new MergeWorkerState();
      this.#states.set(executor, state);
    }
    return state.applyUpdate(bytes);
  }

  merge(task: MergeTask, inspect?: (entries: RemoteEntries) => void): MergeTaskResult {
    const state = this.#states.get(task.executor ?? 0);
    if (state === undefined) return { diff: encodeMergeDiff(undefined, { staleMirror: true }), frame: task.frame };
    return state.merge(task, inspect);
  }

  drop(executor: number): true {
    this.#states.delete(executor);
    return true;
  }
}
