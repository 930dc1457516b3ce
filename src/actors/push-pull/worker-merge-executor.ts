/**
 * Push-pull merges on a worker thread (node-stack.md §2c, §4 item 3). Below `threshold` entries the
 * merge stays inline (it costs about 0.5 µs per entry); from there the received frame is transferred
 * to a one-thread piscina pool whose worker keeps a mirror of the member table and returns only the
 * diff, as transferred protobuf bytes. The main thread pays a few tens of µs to hand the frame over
 * and about 1 µs per diff entry to apply the result.
 *
 * The mirror: the push-pull actor reports every change (mirrorChanged); changes are coalesced by
 * name and sent once per drain (a microtask) as a numbered MergeMirrorUpdate. A fresh worker first
 * gets the whole mirror (reset), which is also how it is rebuilt after a crash. Every merge carries
 * the number of the last update sent, and a worker whose mirror is not at that number returns the
 * frame untouched ("stale"): the executor sends a reset and the frame again, once.
 *
 * A worker that dies takes the merge it was running with it: that promise rejects (the push-pull
 * actor retries inline or fails the exchange), piscina starts a replacement, and the next update is a
 * reset. The pool starts lazily at the first offloaded merge and is destroyed by close().
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { wire } from '../../gen/index.js';
import { RealClock, type Clock } from '../../clock.js';
import { ownedArrayBuffer } from '../../runtime/envelope.js';
import { encodeMirrorUpdate, mirrorEntryToProto } from './merge-codec.js';
import { mergeRemoteState, type MergeDiff, type MirrorEntry, type OffloadingMergeExecutor } from './merge.js';
import type { MergeTask, MergeTaskResult, MergeWorkerTask, MirrorTask, MirrorTaskResult } from './merge-worker-core.js';

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
   * How long one offloaded merge may take, queueing included, before it is abandoned (the worker is
   * replaced and the promise rejects). Default 30 s: a 100k-entry merge takes about 0.3 s.
   */
  mergeTimeoutMs?: number;
  /**
   * After this many task failures in a row with no success between them (a worker that cannot start,
   * or dies on every task), the executor stops offloading for good: the pool is destroyed and every
   * merge stays inline. Default 3.
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

/** Counters of the executor, for metrics and tests. */
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
  /** Tasks that failed because the worker died or threw. */
  workerFailures: number;
}

/** Whether this module runs from TypeScript source (vitest, tsx) rather than from dist/. */
const fromSource = import.meta.url.endsWith('.ts');

/** The task module and the execArgv that lets piscina import it. */
function defaultTaskModule(): { filename: string; execArgv?: string[] } {
  if (!fromSource) return { filename: fileURLToPath(new URL('../../../workers/merge-worker.js', import.meta.url)) };
  // Node cannot import .ts by itself (node-stack.md §1.4): the pool's threads load tsx's loader
  // first. Its path is resolved here, so it does not depend on the working directory.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return {
    filename: fileURLToPath(new URL('../../../workers/merge-worker.ts', import.meta.url)),
    // Only the loader: the parent's execArgv may hold options a worker refuses (-e, --input-type).
    execArgv: ['--import', tsxLoader],
  };
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
  readonly #options: WorkerMergeExecutorOptions;
  readonly #clock: Pick<Clock, 'microtask' | 'setTimer'>;
  readonly #mergeTimeoutMs: number;
  readonly #maxConsecutiveFailures: number;
  #pool: Piscina<MergeWorkerTask, unknown> | undefined;
  /** The destruction of a pool given up on (disabled), awaited by close(). */
  #destroying: Promise<void> | undefined;
  #closed = false;
  /** Set when the worker failed too often in a row: merges stay inline from then on. */
  #disabled: string | undefined;
  #consecutiveFailures = 0;
  /** The push-pull actor's mirror (the same Map for the actor's life): the source of resets. */
  #mirror: ReadonlyMap<string, MirrorEntry> = new Map();
  /** Changes not yet sent, coalesced by name (undefined: removed). */
  #pending = new Map<string, MirrorEntry | undefined>();
  #flushScheduled = false;
  /** Number of the last update sent (uint32, wraps); the worker's mirror is valid at this number. */
  #seq = 0;
  /** Bumped by each reset: a failure reported by a task sent before the last reset needs no new one. */
  #generation = 0;
  #needsReset = true;

  constructor(options: WorkerMergeExecutorOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    const threshold = options.threshold ?? DEFAULT_MERGE_OFFLOAD_THRESHOLD;
    if (!(threshold >= 0)) throw new RangeError('threshold must be >= 0');
    this.threshold = threshold;
    this.#options = options;
    this.#clock = options.clock ?? new RealClock();
    this.#mergeTimeoutMs = options.mergeTimeoutMs ?? 30_000;
    this.#maxConsecutiveFailures = Math.max(1, options.maxConsecutiveFailures ?? 3);
  }

  /** Whether the pool is running (it starts at the first offloaded merge). */
  get started(): boolean {
    return this.#pool !== undefined;
  }

  /** Why offloading stopped for good (the worker kept failing), or undefined while it works. */
  get disabled(): string | undefined {
    return this.#disabled;
  }

  /** Worker threads alive now (0 or 1). */
  get threads(): number {
    return this.#pool?.threads.length ?? 0;
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
    // Before the pool starts there is nothing to update: its first task is a reset.
    if (this.#pool === undefined || this.#closed || this.#disabled !== undefined) return;
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
    this.#ensurePool();
    // Updates go first: the worker merges against the mirror as of this moment.
    this.#flush();
    return this.#runMerge(buffer, selfName, extras, 0);
  }

  /** Destroys the pool (the worker thread ends; merges in flight reject). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.destroy();
    if (this.#destroying !== undefined) await this.#destroying;
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

  #ensurePool(): Piscina<MergeWorkerTask, unknown> {
    if (this.#pool !== undefined) return this.#pool;
    const task = defaultTaskModule();
    const given = this.#options.filename;
    const filename = given === undefined ? task.filename : given instanceof URL ? fileURLToPath(given) : given;
    const pool = new Piscina<MergeWorkerTask, unknown>({
      filename,
      minThreads: 1,
      maxThreads: 1,
      // The mirror lives in the thread: it must never be retired for idleness.
      idleTimeout: Infinity,
      resourceLimits: { maxYoungGenerationSizeMb: 96, ...this.#options.resourceLimits },
      ...(task.execArgv !== undefined ? { execArgv: task.execArgv } : {}),
      workerData: { ...this.#options.workerData },
    });
    pool.on('workerCreate', () => {
      this.stats.workersStarted++;
      this.#options.onEvent?.({ type: 'worker-started', count: this.stats.workersStarted });
    });
    pool.on('workerDestroy', () => {
      this.stats.workersStopped++;
      this.#options.onEvent?.({ type: 'worker-stopped', count: this.stats.workersStopped });
    });
    // Without a listener, a worker error with no task in flight would be thrown as an 'error' event.
    pool.on('error', (err: unknown) => this.#taskFailed(this.#generation, err));
    this.#pool = pool;
    this.#needsReset = true;
    return pool;
  }

  /** Sends the pending changes (or the whole mirror when a reset is due) as one update. */
  #flush(): void {
    this.#flushScheduled = false;
    const pool = this.#pool;
    if (pool === undefined || this.#closed) return;
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
      this.stats.resets++;
    }
    this.stats.mirrorUpdates++;
    this.stats.mirrorEntriesSent += entries.length;
    const update = encodeMirrorUpdate({ seq: this.#seq, baseSeq, reset, entries });
    const generation = this.#generation;
    const task: MirrorTask = { kind: 'mirror', update };
    pool.run(task, { transferList: [update] }).then(
      (inSync) => {
        this.#consecutiveFailures = 0;
        if ((inSync as MirrorTaskResult) !== true) this.#outOfSync(generation);
      },
      (err: unknown) => this.#taskFailed(generation, err),
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

  #taskFailed(generation: number, err: unknown): void {
    if (this.#closed || this.#disabled !== undefined) return;
    this.stats.workerFailures++;
    const error = errorText(err);
    this.#options.onEvent?.({ type: 'worker-failed', error });
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= this.#maxConsecutiveFailures) {
      // piscina replaces a dead worker forever, even one that cannot start: stop here, so that
      // queued merges reject (and go inline) instead of waiting on a crash loop.
      this.#disable(`${this.#consecutiveFailures} worker failures in a row, the last: ${error}`);
      return;
    }
    // A task that died may have left the mirror half-applied, or the thread may be new: rebuild it.
    this.#outOfSync(generation);
  }

  #disable(reason: string): void {
    this.#disabled = reason;
    this.#pending.clear();
    this.#options.onEvent?.({ type: 'disabled', error: reason });
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) this.#destroying = pool.destroy();
  }

  async #runMerge(frame: ArrayBuffer, selfName: string, extras: boolean, attempt: number): Promise<Uint8Array> {
    const pool = this.#pool;
    if (pool === undefined || this.#closed) throw new Error('merge executor closed');
    const generation = this.#generation;
    const task: MergeTask = { kind: 'merge', frame, seq: this.#seq, selfName, maxEntries: this.#options.maxEntries, extras };
    // A merge that takes too long is abandoned: piscina ends the thread running it (a replacement
    // starts and gets a reset) or drops it from the queue.
    const abort = new AbortController();
    const timer = this.#clock.setTimer(this.#mergeTimeoutMs, () => abort.abort(new Error(`no result within ${this.#mergeTimeoutMs} ms`)));
    let result: MergeTaskResult;
    try {
      result = (await pool.run(task, { transferList: [frame], signal: abort.signal })) as MergeTaskResult;
    } catch (err) {
      this.stats.failed++;
      this.#taskFailed(generation, err);
      const why = abort.signal.aborted ? `timed out: no result within ${this.#mergeTimeoutMs} ms` : errorText(err);
      throw new Error(`merge worker failed: ${why}`);
    } finally {
      timer.cancel();
    }
    this.#consecutiveFailures = 0;
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
