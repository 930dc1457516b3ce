/**
 * The merge worker pool behind WorkerMergeExecutor: one piscina pool with one worker thread
 * (`minThreads: 1, maxThreads: 1, idleTimeout: Infinity`), shared by default by every executor of
 * the calling thread whose pool options are the same (a process running 1,000 nodes on one thread
 * gets one merge thread, not 1,000). Each executor's mirror lives in the worker under its executor id
 * (merge-worker-core.ts MergeWorkerStates); merges of all executors queue in piscina's queue.
 *
 * - Reference count: an executor attaches at its first offloaded merge and releases the pool when it
 *   closes. Releasing sends a 'drop' task (the worker forgets that executor's mirror); the last
 *   release destroys the pool (the thread ends) and takes the pool out of the registry, so the next
 *   executor starts a fresh one.
 * - Generation: bumped whenever the worker thread is lost (it died, or was terminated because a
 *   merge timed out). Every mirror lived in that thread, so every executor compares the generation it
 *   last sent a reset at with this one and resends its whole mirror before its next task.
 * - Failures in a row (no success between them) are counted per pool: a worker that cannot start, or
 *   dies on every task, disables the pool for every executor attached (they merge inline from then
 *   on) and destroys it.
 * - Sharing key: the task module, execArgv, resourceLimits, workerData (as JSON) and
 *   maxConsecutiveFailures. Executors that differ in any of them get pools of their own (tests that
 *   inject `workerData.mergeWorkerTest` share a pool only with executors given the same switch).
 *   `sharedPool: false` gives an executor a private pool, as before sharing.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { MergeWorkerTask } from './merge-worker-core.js';

/** Whether this module runs from TypeScript source (vitest, tsx) rather than from dist/. */
const fromSource = import.meta.url.endsWith('.ts');

/** The task module and the execArgv that lets piscina import it. */
export function defaultMergeTaskModule(): { filename: string; execArgv?: string[] } {
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

export interface MergePoolOptions {
  /** The piscina task module (path or file URL); default dist/workers/merge-worker.js, or the .ts from source. */
  filename?: string | URL;
  /** Merged over `{ maxYoungGenerationSizeMb: 96 }` (decoding is GC-bound). */
  resourceLimits?: ResourceLimits;
  workerData?: Record<string, unknown>;
  /** Failures in a row after which the pool is given up on (at least 1). */
  maxConsecutiveFailures: number;
}

/** What a pool tells the executors attached to it. */
export interface MergePoolMember {
  /** A worker thread of the pool started (or was already running when the member attached). */
  workerStarted(): void;
  /** A worker thread of the pool stopped (died, was terminated, or the pool was destroyed). */
  workerStopped(): void;
  /** The pool reported an error that no task of anyone received (a worker error between tasks). */
  poolError(error: string): void;
  /** The pool failed too often in a row and was given up on: merge inline from now on. */
  disabled(reason: string): void;
}

/** A read-only view of a pool, for metrics and tests. */
export interface MergePoolInfo {
  /** Shared by the executors of this thread (false: one executor's private pool). */
  readonly shared: boolean;
  /** Executors attached now. */
  readonly executors: number;
  /** Worker threads alive now (0 or 1). */
  readonly threads: number;
  /** Worker threads started and stopped over the pool's life. */
  readonly workersStarted: number;
  readonly workersStopped: number;
  /** Worker threads lost while the pool was open (each one took every executor's mirror). */
  readonly generation: number;
  /** Why the pool was given up on, or undefined while it works. */
  readonly disabled: string | undefined;
}

/** Shared pools of this thread (module state is per thread), by sharing key. */
const registry = new Map<string, MergePool>();

/** Shared merge pools open on this thread (tests: one per set of pool options, none once all closed). */
export function openMergePools(): number {
  return registry.size;
}

function sharingKey(options: MergePoolOptions): string | undefined {
  const f = options.filename;
  try {
    return JSON.stringify([
      f === undefined ? null : f instanceof URL ? f.href : f,
      options.resourceLimits ?? null,
      options.workerData ?? null,
      options.maxConsecutiveFailures,
    ]);
  } catch {
    // workerData that is not JSON (a BigInt, a cycle): a pool of its own.
    return undefined;
  }
}

/**
 * Attaches `member` to a pool: the shared pool of this thread for these options (created if there
 * is none), or a private one when `shared` is false. The pool's first thread starts now.
 */
export function acquireMergePool(options: MergePoolOptions, member: MergePoolMember, shared: boolean): MergePool {
  const key = shared ? sharingKey(options) : undefined;
  let pool = key === undefined ? undefined : registry.get(key);
  if (pool === undefined) {
    pool = new MergePool(options, key);
    if (key !== undefined) registry.set(key, pool);
  }
  pool.attach(member);
  return pool;
}

/** At most this many tasks are in piscina at once: one running, one waiting (so the worker never idles between tasks). */
const MAX_HANDED_OVER = 2;

/**
 * One task given to the pool: its result, and its abort, which piscina also listens to (it is the
 * AbortSignal-like object handed to piscina.run).
 */
export class PoolTask {
  readonly task: MergeWorkerTask;
  readonly transferList: ArrayBuffer[] | undefined;
  readonly result: Promise<unknown>;
  aborted = false;
  reason: unknown;
  /** Given to piscina (an abort then is piscina's business). */
  handedOver = false;
  /** Whether the task had reached the worker when it was aborted (false: it was still waiting). */
  reachedWorker = false;
  /** Set by the pool when handed over: whether this is the task the worker runs now. */
  isRunning: (() => boolean) | undefined;
  #settled = false;
  #resolve!: (value: unknown) => void;
  #reject!: (err: unknown) => void;
  #listener: (() => void) | undefined;

  constructor(task: MergeWorkerTask, transferList: ArrayBuffer[] | undefined) {
    this.task = task;
    this.transferList = transferList;
    this.result = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Abandons the task (a timeout): see MergePool.run. */
  abort(reason: unknown): void {
    if (this.aborted || this.#settled) return;
    this.aborted = true;
    this.reason = reason;
    this.reachedWorker = this.isRunning?.() ?? false;
    if (!this.handedOver) {
      // Still in the pool's queue: it is skipped there.
      this.fail(new Error(`aborted: ${reason instanceof Error ? reason.message : String(reason)}`));
      return;
    }
    this.#listener?.();
  }

  succeed(value: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(value);
  }

  fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }

  // piscina's AbortSignalEventTarget
  addEventListener(_name: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_name: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }
}

/** Why the pool aborted the tasks piscina held when no thread was left to run them. */
class StuckError extends Error {}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class MergePool implements MergePoolInfo {
  readonly #piscina: Piscina<MergeWorkerTask, unknown>;
  readonly #key: string | undefined;
  readonly #maxConsecutiveFailures: number;
  readonly #members = new Set<MergePoolMember>();
  /** Tasks not yet handed to piscina, in order; and how many piscina holds. */
  readonly #queue: PoolTask[] = [];
  readonly #handedOver = new Set<PoolTask>();
  /** The last error a worker reported, for the failures of tasks stuck behind a thread that could not start. */
  #lastWorkerError = 'the worker thread exited';
  #workersStarted = 0;
  #workersStopped = 0;
  #generation = 0;
  #consecutiveFailures = 0;
  #disabled: string | undefined;
  /** Set once the pool is being destroyed (last release, or given up on), before piscina is told. */
  #closing = false;
  #destroying: Promise<void> | undefined;

  constructor(options: MergePoolOptions, key: string | undefined) {
    this.#key = key;
    this.#maxConsecutiveFailures = Math.max(1, options.maxConsecutiveFailures);
    const task = defaultMergeTaskModule();
    const given = options.filename;
    const filename = given === undefined ? task.filename : given instanceof URL ? fileURLToPath(given) : given;
    const piscina = new Piscina<MergeWorkerTask, unknown>({
      filename,
      minThreads: 1,
      maxThreads: 1,
      // The mirrors live in the thread: it must never be retired for idleness.
      idleTimeout: Infinity,
      resourceLimits: { maxYoungGenerationSizeMb: 96, ...options.resourceLimits },
      ...(task.execArgv !== undefined ? { execArgv: task.execArgv } : {}),
      workerData: { ...options.workerData },
    });
    piscina.on('workerCreate', () => {
      this.#workersStarted++;
      for (const m of this.#members) m.workerStarted();
    });
    piscina.on('workerDestroy', () => {
      this.#workersStopped++;
      // A thread lost while the pool is open took every executor's mirror with it.
      if (!this.#closing) this.#generation++;
      for (const m of this.#members) m.workerStopped();
      // piscina decides on a replacement right after this event.
      queueMicrotask(() => this.#unstickIfNoThread(this.#lastWorkerError));
    });
    // Without a listener, a worker error with no task in flight would be thrown as an 'error' event.
    piscina.on('error', (err: unknown) => {
      if (this.#closing) return;
      const error = errorText(err);
      this.#lastWorkerError = error;
      for (const m of this.#members) m.poolError(error);
      this.failed(error);
    });
    this.#piscina = piscina;
  }

  get shared(): boolean {
    return this.#key !== undefined;
  }

  get executors(): number {
    return this.#members.size;
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  get workersStarted(): number {
    return this.#workersStarted;
  }

  get workersStopped(): number {
    return this.#workersStopped;
  }

  get generation(): number {
    return this.#generation;
  }

  get disabled(): string | undefined {
    return this.#disabled;
  }

  attach(member: MergePoolMember): void {
    this.#members.add(member);
    // A thread already running counts as started for the newcomer (its own stats start there).
    for (let i = this.#workersStarted - this.#workersStopped; i > 0; i--) member.workerStarted();
  }

  /**
   * Runs a task. Tasks run in the order they are given, whoever gives them: the pool keeps its own
   * FIFO queue and hands piscina at most two at a time (one running, one waiting), because piscina's
   * queue is not FIFO: a task with an AbortSignal that finds the worker busy goes to a "skip queue"
   * served before tasks without one, and a task taken off a queue but not placed goes back at the
   * tail. A merge overtaking the mirror update sent before it would find its mirror stale.
   * `abort()` on the returned task: still in this queue, it is just removed; in piscina, it is taken
   * out of piscina's queue, or its thread is terminated when it is running (a hung merge).
   */
  run(task: MergeWorkerTask, transferList?: ArrayBuffer[]): PoolTask {
    const t = new PoolTask(task, transferList);
    if (this.#closing) {
      t.fail(new Error(this.#disabled !== undefined ? `merge worker disabled: ${this.#disabled}` : 'merge pool closed'));
      return t;
    }
    this.#queue.push(t);
    this.#pump();
    return t;
  }

  #pump(): void {
    while (this.#handedOver.size < MAX_HANDED_OVER && this.#queue.length > 0 && !this.#closing) {
      const t = this.#queue.shift() as PoolTask;
      if (t.aborted) continue; // already rejected by abort()
      this.#handedOver.add(t);
      t.handedOver = true;
      // piscina runs what it holds in order (at most two, see run()): the oldest is the one running.
      t.isRunning = () => this.#handedOver.values().next().value === t;
      // The task is its own abort signal for piscina (a plain object: no EventTarget per task).
      this.#piscina.run(t.task, { ...(t.transferList !== undefined ? { transferList: t.transferList } : {}), signal: t }).then(
        (result) => {
          this.#handedOver.delete(t);
          t.succeed(result);
          this.#pump();
        },
        (err: unknown) => {
          this.#handedOver.delete(t);
          // Aborted by the pool (a worker that could not start): say so rather than "aborted".
          t.fail(t.reason instanceof StuckError ? t.reason : err);
          this.#pump();
        },
      );
    }
  }

  /**
   * After a worker dies, piscina starts a replacement only if the dead one had finished starting;
   * one that failed while starting is not replaced until the next task is given to piscina. The
   * tasks piscina holds would wait forever (and this queue behind them): they are aborted (none is
   * running, there is no thread) and fail as worker failures, and the next task handed over makes
   * piscina try a new thread. A worker that can never start thus fails task after task until the
   * failures in a row give the pool up.
   */
  #unstickIfNoThread(error: string): void {
    if (this.#closing || this.#piscina.threads.length > 0 || this.#handedOver.size === 0) return;
    const stuck = new StuckError(`merge worker could not start: ${error}`);
    for (const t of [...this.#handedOver]) t.abort(stuck);
  }

  /** A task succeeded: the failures in a row start over. */
  succeeded(): void {
    this.#consecutiveFailures = 0;
  }

  /**
   * A task failed (the worker died, threw, or a merge timed out). After maxConsecutiveFailures in a
   * row the pool is given up on: every member is disabled and the pool destroyed (piscina replaces a
   * dead worker forever, even one that cannot start; queued merges must reject, not wait on that).
   */
  failed(error: string): void {
    if (this.#closing) return;
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures < this.#maxConsecutiveFailures) return;
    const reason = `${this.#consecutiveFailures} worker failures in a row, the last: ${error}`;
    this.#disabled = reason;
    this.#destroy();
    for (const m of this.#members) m.disabled(reason);
  }

  /**
   * Detaches `member` (its executor closed). Others still attached: the worker drops the member's
   * mirror (after the member's tasks still queued). The last one: the pool is destroyed, its thread
   * ends, and the promise resolves once it has.
   */
  async release(member: MergePoolMember, executorId: number): Promise<void> {
    if (!this.#members.has(member)) return;
    if (!this.#closing && this.#members.size > 1) {
      this.#members.delete(member);
      this.run({ kind: 'drop', executor: executorId }).result.then(
        () => undefined,
        () => undefined, // a lost worker lost the mirror anyway
      );
      return;
    }
    // The last member sees its thread stop (its stats balance), then leaves.
    try {
      await this.#destroy();
    } finally {
      this.#members.delete(member);
    }
  }

  #destroy(): Promise<void> {
    if (this.#destroying === undefined) {
      this.#closing = true;
      if (this.#key !== undefined && registry.get(this.#key) === this) registry.delete(this.#key);
      for (const t of this.#queue.splice(0)) t.fail(new Error('Terminating worker thread'));
      this.#destroying = this.#piscina.destroy();
    }
    return this.#destroying;
  }
}
