/**
 * The merge worker's logic, free of threads so it can be tested in-process: the mirror of the member
 * table (applied from MergeMirrorUpdate), and the merge of a received frame against it with the same
 * mergeRemoteState the inline path uses. workers/merge-worker.ts is the piscina task around it.
 */
import { inflateFrame, isCompressedFrame, MAX_INFLATED_FRAME_BYTES } from '../../codec/compressed-frame.js';
import { worker } from '../../gen/index.js';
import { ProtobufCodec } from '../../codec/protobuf-codec.js';
import type { wire } from '../../gen/index.js';
import { encodeMergeDiff, mirrorEntryFromProto } from './merge-codec.js';
import { mergeRemoteState, type MirrorEntry } from './merge.js';

/** host -> worker: merge this frame (transferred) against the mirror as of update `seq`. */
export interface MergeTask {
  readonly kind: 'merge';
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
  readonly update: ArrayBuffer;
}

export type MergeWorkerTask = MergeTask | MirrorTask;

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
  readonly #codec = new ProtobufCodec();

  get seq(): number | undefined {
    return this.#seq;
  }

  /** Applies an encoded MergeMirrorUpdate; returns whether the mirror is in sync afterwards. */
  applyUpdate(bytes: Uint8Array): MirrorTaskResult {
    const u = worker.MergeMirrorUpdate.decode(bytes);
    if (u.reset) {
      this.mirror.clear();
    } else if (this.#seq === undefined || this.#seq !== u.baseSeq) {
      // A delta for a mirror we do not have (a replaced worker): wait for the reset.
      this.#seq = undefined;
      return false;
    }
    for (const e of u.entries) {
      const name = e.name ?? '';
      if (e.removed) this.mirror.delete(name);
      else this.mirror.set(name, mirrorEntryFromProto(e));
    }
    this.#seq = u.seq;
    return true;
  }

  /**
   * Decodes the frame and merges it. `inspect` sees the decoded remote first (the test-only crash
   * switch of workers/merge-worker.ts).
   */
  merge(task: MergeTask, inspect?: (remote: wire.PushPull.$Properties) => void): MergeTaskResult {
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
    const decoded = this.#codec.decodeStreamMessage(frame);
    if (!decoded.ok) {
      return { diff: encodeMergeDiff(undefined, { error: `bad push-pull frame: ${decoded.reason}${decoded.detail ? ` (${decoded.detail})` : ''}` }) };
    }
    const remote = decoded.value.pushPull;
    if (remote === null || remote === undefined) {
      return { diff: encodeMergeDiff(undefined, { error: `not a push-pull: ${decoded.value.body ?? 'empty'}` }) };
    }
    inspect?.(remote);
    const diff = mergeRemoteState(remote, this.mirror, task.selfName, { maxEntries: task.maxEntries });
    return { diff: encodeMergeDiff(diff, task.extras ? { remote } : {}) };
  }
}
