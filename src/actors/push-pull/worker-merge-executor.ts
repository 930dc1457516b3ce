/**
 * Push-pull merges on a worker thread (node-stack.md §2c, §4 item 3). Below `threshold` entries the
 * merge stays inline (it costs about 0.5 µs per entry); from there the received frame is transferred
 * to a one-thread piscina pool whose worker keeps a mirror of the member table and returns only the
 * diff, as transferred protobuf bytes. The main thread pays a few tens of µs to hand the frame over
 * and about 1 µs per diff entry to apply the result.
 *
 * The pool is shared (shared-merge-pool.ts): by default every executor of a thread with the same pool
 * options uses one pool and one worker thread, which keeps each executor's mirror under the
 * executor's id; merges of all executors queue there. `sharedPool: false` gives a private pool.
 *
 * The mirror: the push-pull actor reports every change (mirrorChanged); changes are coalesced by
 * name and sent once per drain (a microtask) as a numbered MergeMirrorUpdate. A fresh worker first
 * gets the whole mirror (reset), which is also how it is rebuilt after a crash. Every merge carries
 * the number of the last update sent, and a worker whose mirror is not at that number returns the
 * frame untouched ("stale"): the executor sends a reset and the frame again, once.
 *
 * A worker that dies takes the merge it was running with it: that promise rejects (the push-pull
 * actor retries inline or fails the exchange), piscina starts a replacement, and the next update is a
 * reset. With a shared pool the dead thread also held the other executors' mirrors: the pool's
 * generation moves on, and every executor whose last reset is of an older generation sends a reset
 * before its next task (not at once: 1,000 executors resync over their next merges, not in one burst;
 * changes meanwhile are not sent one by one, the reset carries them). Tasks already queued for the
 * dead thread reach the replacement and come back stale, as above. The pool is attached lazily at the
 * first offloaded merge and released by close() (the last executor's close destroys it).
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { wire } from '../../gen/index.js';
import { RealClock, type Clock } from '../../clock.js';
import { ownedArrayBuffer } from '../../runtime/envelope.js';
import { encodeMirrorUpdate, mirrorEntryToProto } from './merge-codec.js';
import { mergeRemoteState, type MergeDiff, type MirrorEntry, type OffloadingMergeExecutor } from './merge.js';
import type { MergeTask, MergeTaskResult, MirrorTask, MirrorTaskResult } from './merge-worker-core.js';
import { acquireMergePool, type MergePool, type MergePoolInfo, type MergePoolMember } from './shared-merge-pool.js';

/** Default entry count from which merges go to the worker (node-stack.md §0: offload from 1-3k). */
export const DEFAULT_MERGE_OFFLOAD_THRESHOLD = 1000;

export interface WorkerMergeExecutorOptions {
  /** Most entries a remote state may carry (config maxPushPullEntries). */
  maxEntries: number;
  /** Remote states with at least this many entries are merged on the worker (default 1,000). */
  threshold?: number;
  /**
   * Heap limits of the worker thread. maxYoungGenerationSizeMb defaults to 96: decoding is GC-bound,
   * and a large young generation halves a 10k-entry decode in a fresh heap (48 is not enough).
   */
  resourceLimits?: ResourceLimits;
  /** The piscina task module (path or file URL); default dist/workers/merge-worker.js, or the .ts from source. */
  filename?: string | URL;
  /** Extra workerData for the worker (tests: `{ mergeWorkerTest: { crashOnName, mode } }`). */
  workerData?: Record<string, unknown>;
  /**
   * Share the merge pool (one worker thread) with the other executors of this thread (default true).
   * Executors share only when filename, resourceLimits, workerData (compared as JSON: keep it plain
   * data) and maxConsecutiveFailures are equal; otherwise each set of options has a pool of its own.
   * false: a private pool for this executor alone (one thread per executor, as before sharing).
   */
  sharedPool?: boolean;
  /**
   * How long one offloaded merge may take, queueing included, before it is abandoned (the worker is
   * replaced and the promise rejects). Default 30 s: a 100k-entry merge takes about 0.3 s. With a
   * shared pool the queue holds every executor's merges: one that times out still waiting is only
   * dropped from the queue (not a worker failure, no thread replaced, no resync).
   */
  mergeTimeoutMs?: number;
  /**
   * After this many task failures in a row with no success between them (a worker that cannot start,
   * or dies on every task), the executor stops offloading for good: the pool is destroyed and every
   * merge stays inline. Default 3. With a shared pool the failures are counted across its executors
   * and giving up disables every one of them.
   */
  maxConsecutiveFailures?: number;
  /** Batches mirror updates per drain (microtask) and times merges out (setTimer); default the real clock. */
  clock?: Pick<Clock, 'microtask' | 'setTimer'>;
  /** Pool events for logs: a worker started (the first one, or a replacement), stopped, or failed. */
  onEvent?: (event: MergeWorkerEvent) => void;
}

export type MergeWorkerEvent =
  | { readonly type: 'worker-started'; readonly count: number }
  | { readonly type: 'worker-stopped'; readonly count: number }
  | { readonly type: 'worker-failed'; readonly error: string }
  | { readonly type: 'disabled'; readonly error: string };

/**
 * Counters of the executor, for metrics and tests. The worker counters are what this executor saw of
 * its pool's thread while it was attached: with a shared pool an executor that attaches to a running
 * thread counts it as started, another executor's crash counts as a stop and the replacement as a
 * start, and an executor that closes while others keep the pool leaves started > stopped (the thread
 * goes on). `pool` gives the pool's own totals.
 */
export interface WorkerMergeStats {
  /** Merges run inline through merge() (small states, retries). */
  inline: number;
  /** Merges sent to the worker (resubmissions after a stale mirror not counted). */
  offloaded: number;
  /** Offloaded merges that failed (rejected promises). */
  failed: number;
  /** Mirror updates sent (resets included) and entries they carried. */
  mirrorUpdates: number;
  mirrorEntriesSent: number;
  /** Full mirror snapshots sent (worker start, after a crash or a stale mirror). */
  resets: number;
  /** Merges the worker returned unmerged because its mirror was stale, then sent again. */
  staleResubmits: number;
  /** Worker threads started (the first plus replacements), and stopped (died, or destroyed by close). */
  workersStarted: number;
  workersStopped: number;
  /**
   * This executor's tasks that failed because the worker died or threw (or timed out), plus pool
   * errors no task received. Another executor's merge killing the shared thread is not counted here
   * (it shows as workersStopped / workersStarted, and a reset).
   */
  workerFailures: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A frame's bytes as a buffer this side may transfer. A frame that owns its buffer outright gives it
 * up at once: the buffer is moved (not copied) into a new ArrayBuffer and the caller's is detached
 * now, even if the task waits in the pool's queue before it is posted to the worker.
 */
function transferableBuffer(frame: Uint8Array): ArrayBuffer {
  const b = frame.buffer;
  if (b instanceof ArrayBuffer && frame.byteOffset === 0 && frame.byteLength === b.byteLength) return structuredClone(b, { transfer: [b] });
  // A view (a Node Buffer pool slab, part of a larger read): transferring its buffer would move or
  // copy bytes that are not ours, so copy the frame out (node-stack.md §2a).
  return ownedArrayBuffer(frame);
}

/** Executor ids, unique on this thread (the key of each executor's mirror in a shared worker). */
let nextExecutorId = 1;

export class WorkerMergeExecutor implements OffloadingMergeExecutor {
  readonly stats: WorkerMergeStats = {
    inline: 0,
    offloaded: 0,
    failed: 0,
    mirrorUpdates: 0,
    mirrorEntriesSent: 0,
    resets: 0,
    staleResubmits: 0,
    workersStarted: 0,
    workersStopped: 0,
    workerFailures: 0,
  };
  readonly threshold: number;
  /** This executor's key in the worker (its mirror there), unique on this thread. */
  readonly id = nextExecutorId++;
  readonly #options: WorkerMergeExecutorOptions;
  readonly #clock: Pick<Clock, 'microtask' | 'setTimer'>;
  readonly #mergeTimeoutMs: number;
  readonly #maxConsecutiveFailures: number;
  readonly #member: MergePoolMember;
  #pool: MergePool | undefined;
  /** The release of a pool given up on (disabled), awaited by close(). */
  #releasing: Promise<void> | undefined;
  #closed = false;
  /** Set when the worker failed too often in a row: merges stay inline from then on. */
  #disabled: string | undefined;
  /** The push-pull actor's mirror (the same Map for the actor's life): the source of resets. */
  #mirror: ReadonlyMap<string, MirrorEntry> = new Map();
  /** Changes not yet sent, coalesced by name (undefined: removed). */
  #pending = new Map<string, MirrorEntry | undefined>();
  #flushScheduled = false;
  /** Number of the last update sent (uint32, wraps); the worker's mirror is valid at this number. */
  #seq = 0;
  /** Bumped by each reset: a failure reported by a task sent before the last reset needs no new one. */
  #generation = 0;
  /** The pool's generation (worker threads lost) when the last reset was sent: another means resend. */
  #poolGeneration = -1;
  #needsReset = true;
  /** Rejects of the merges in flight: close() rejects them at once (a shared pool goes on). */
  readonly #inFlight = new Set<(err: Error) => void>();

  constructor(options: WorkerMergeExecutorOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    const threshold = options.threshold ?? DEFAULT_MERGE_OFFLOAD_THRESHOLD;
    if (!(threshold >= 0)) throw new RangeError('threshold must be >= 0');
    this.threshold = threshold;
    this.#options = options;
    this.#clock = options.clock ?? new RealClock();
    this.#mergeTimeoutMs = options.mergeTimeoutMs ?? 30_000;
    this.#maxConsecutiveFailures = Math.max(1, options.maxConsecutiveFailures ?? 3);
    this.#member = {
      workerStarted: () => {
        this.stats.workersStarted++;
        this.#options.onEvent?.({ type: 'worker-started', count: this.stats.workersStarted });
      },
      workerStopped: () => {
        this.stats.workersStopped++;
        this.#options.onEvent?.({ type: 'worker-stopped', count: this.stats.workersStopped });
      },
      poolError: (error) => this.#taskFailed(this.#generation, error, false),
      disabled: (reason) => this.#disable(reason),
    };
  }

  /** Whether the pool is attached (it is at the first offloaded merge). */
  get started(): boolean {
    return this.#pool !== undefined;
  }

  /** Why offloading stopped for good (the worker kept failing), or undefined while it works. */
  get disabled(): string | undefined {
    return this.#disabled;
  }

  /** Worker threads alive now in this executor's pool (0 or 1; shared with its other executors). */
  get threads(): number {
    return this.#pool?.threads ?? 0;
  }

  /** The pool this executor uses (shared or private), while attached. */
  get pool(): MergePoolInfo | undefined {
    return this.#pool;
  }

  merge(remote: wire.PushPull.$Properties, mirror: ReadonlyMap<string, MirrorEntry>, selfName: string): MergeDiff {
    this.stats.inline++;
    return mergeRemoteState(remote, mirror, selfName, { maxEntries: this.#options.maxEntries });
  }

  offloads(entries: number): boolean {
    return !this.#closed && this.#disabled === undefined && entries >= this.threshold;
  }

  mirrorChanged(name: string, entry: MirrorEntry | undefined, mirror: ReadonlyMap<string, MirrorEntry>): void {
    this.#follow(mirror);
    // Before the pool is attached there is nothing to update: its first task is a reset.
    const pool = this.#pool;
    if (pool === undefined || this.#closed || this.#disabled !== undefined) return;
    if (pool.generation !== this.#poolGeneration) this.#needsReset = true;
    // A reset is due anyway (the worker lost our mirror): it carries this change, with our next task.
    if (this.#needsReset) {
      this.#pending.clear();
      return;
    }
    this.#pending.set(name, entry);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#clock.microtask(() => this.#flush());
    }
  }

  mergeFrame(frame: Uint8Array, mirror: ReadonlyMap<string, MirrorEntry>, selfName: string, extras = false): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error('merge executor closed'));
    if (this.#disabled !== undefined) return Promise.reject(new Error(`merge worker disabled: ${this.#disabled}`));
    this.#follow(mirror);
    this.stats.offloaded++;
    const buffer = transferableBuffer(frame);
    this.#attach();
    // Updates go first: the worker merges against the mirror as of this moment.
    this.#flush();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#inFlight.add(reject);
      this.#runMerge(buffer, selfName, extras, 0).then(
        (diff) => {
          this.#inFlight.delete(reject);
          resolve(diff);
        },
        (err: unknown) => {
          this.#inFlight.delete(reject);
          reject(err as Error);
        },
      );
    });
  }

  /**
   * Releases the pool: merges in flight reject now, the worker forgets this executor's mirror, and
   * the pool is destroyed when this was its last executor (its thread ends). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    const closed = new Error('merge executor closed');
    for (const reject of this.#inFlight) reject(closed);
    this.#inFlight.clear();
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.release(this.#member, this.id);
    if (this.#releasing !== undefined) await this.#releasing;
  }

  // ───── internals ─────

  /**
   * The executor follows one mirror (the push-pull actor's Map, the same object for its life). Given
   * another one, the worker's copy is rebuilt from it: its changes were never reported.
   */
  #follow(mirror: ReadonlyMap<string, MirrorEntry>): void {
    if (mirror === this.#mirror) return;
    this.#mirror = mirror;
    this.#pending.clear();
    this.#needsReset = true;
  }

  #attach(): MergePool {
    if (this.#pool !== undefined) return this.#pool;
    const pool = acquireMergePool(
      {
        ...(this.#options.filename !== undefined ? { filename: this.#options.filename } : {}),
        ...(this.#options.resourceLimits !== undefined ? { resourceLimits: this.#options.resourceLimits } : {}),
        ...(this.#options.workerData !== undefined ? { workerData: this.#options.workerData } : {}),
        maxConsecutiveFailures: this.#maxConsecutiveFailures,
      },
      this.#member,
      this.#options.sharedPool ?? true,
    );
    this.#pool = pool;
    this.#needsReset = true;
    return pool;
  }

  /** Sends the pending changes (or the whole mirror when a reset is due) as one update. */
  #flush(): void {
    this.#flushScheduled = false;
    const pool = this.#pool;
    if (pool === undefined || this.#closed || this.#disabled !== undefined) return;
    // The thread that held our mirror is gone (another executor's merge may have killed it).
    if (pool.generation !== this.#poolGeneration) this.#needsReset = true;
    if (!this.#needsReset && this.#pending.size === 0) return;
    const reset = this.#needsReset;
    const source: Iterable<[string, MirrorEntry | undefined]> = reset ? this.#mirror : this.#pending;
    const entries = [];
    for (const [name, e] of source) entries.push(mirrorEntryToProto(name, e));
    this.#pending.clear();
    const baseSeq = this.#seq;
    this.#seq = (this.#seq + 1) >>> 0;
    if (reset) {
      this.#needsReset = false;
      this.#generation++;
      this.#poolGeneration = pool.generation;
      this.stats.resets++;
    }
    this.stats.mirrorUpdates++;
    this.stats.mirrorEntriesSent += entries.length;
    const update = encodeMirrorUpdate({ seq: this.#seq, baseSeq, reset, entries });
    const generation = this.#generation;
    const task: MirrorTask = { kind: 'mirror', executor: this.id, update };
    pool.run(task, [update]).result.then(
      (inSync) => {
        pool.succeeded();
        if ((inSync as MirrorTaskResult) !== true) this.#outOfSync(generation);
      },
      (err: unknown) => this.#taskFailed(generation, errorText(err), true),
    );
  }

  /** The worker's mirror is not what we think (a replaced worker): schedule a reset, once per generation. */
  #outOfSync(generation: number): void {
    if (this.#closed || generation !== this.#generation) return;
    this.#needsReset = true;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#clock.microtask(() => this.#flush());
    }
  }

  /**
   * One of our tasks failed (`ownTask`), or the pool reported an error no task received. Counted
   * toward the pool's failures in a row (an error event is counted by the pool itself, once).
   */
  #taskFailed(generation: number, error: string, ownTask: boolean): void {
    if (this.#closed || this.#disabled !== undefined) return;
    this.stats.workerFailures++;
    this.#options.onEvent?.({ type: 'worker-failed', error });
    if (ownTask) this.#pool?.failed(error);
    if (this.#disabled !== undefined) return;
    // A task that died may have left the mirror half-applied, or the thread may be new: rebuild it.
    this.#outOfSync(generation);
  }

  /** The pool was given up on (too many failures in a row, counted across its executors). */
  #disable(reason: string): void {
    if (this.#disabled !== undefined) return;
    this.#disabled = reason;
    this.#pending.clear();
    this.#options.onEvent?.({ type: 'disabled', error: reason });
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) this.#releasing = pool.release(this.#member, this.id);
  }

  async #runMerge(frame: ArrayBuffer, selfName: string, extras: boolean, attempt: number): Promise<Uint8Array> {
    const pool = this.#pool;
    if (pool === undefined || this.#closed) throw new Error(this.#disabled !== undefined ? `merge worker disabled: ${this.#disabled}` : 'merge executor closed');
    const generation = this.#generation;
    const task: MergeTask = { kind: 'merge', executor: this.id, frame, seq: this.#seq, selfName, maxEntries: this.#options.maxEntries, extras };
    // A merge that takes too long is abandoned: piscina ends the thread running it (a replacement
    // starts, and every executor of the pool resends its mirror) or it is dropped from the queue.
    const running = pool.run(task, [frame]);
    let timedOut = false;
    const timer = this.#clock.setTimer(this.#mergeTimeoutMs, () => {
      timedOut = true;
      running.abort(new Error(`no result within ${this.#mergeTimeoutMs} ms`));
    });
    let result: MergeTaskResult;
    try {
      result = (await running.result) as MergeTaskResult;
    } catch (err) {
      this.stats.failed++;
      // Timed out still waiting in the pool's queue (behind other executors' merges): the worker did
      // not fail and never saw the frame, so neither a worker failure nor a resync.
      if (timedOut && !running.reachedWorker) throw new Error(`merge worker failed: timed out: no result within ${this.#mergeTimeoutMs} ms (still queued)`);
      this.#taskFailed(generation, errorText(err), true);
      const why = timedOut ? `timed out: no result within ${this.#mergeTimeoutMs} ms` : errorText(err);
      throw new Error(`merge worker failed: ${why}`);
    } finally {
      timer.cancel();
    }
    pool.succeeded();
    if (result.frame !== undefined) {
      // The worker's mirror was stale (a replacement that has not had its reset yet).
      if (attempt > 0 || this.#closed) {
        this.stats.failed++;
        throw new Error('merge worker mirror out of sync');
      }
      this.stats.staleResubmits++;
      this.#outOfSync(generation);
      this.#flush();
      return this.#runMerge(result.frame, selfName, extras, attempt + 1);
    }
    return new Uint8Array(result.diff);
  }
}
