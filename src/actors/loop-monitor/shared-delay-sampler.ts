import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The part of perf_hooks' IntervalHistogram the sampler uses (values in ns), so tests can fake it. */
export interface DelayHistogram {
  readonly count: number;
  readonly max: number;
  enable(): boolean | void;
  disable(): boolean | void;
  reset(): void;
}

/** One loop monitor's view of the shared histogram. */
export interface DelayReader {
  /** The worst event-loop delay (ms) since this reader's previous read (or since it joined). */
  read(nowMs: number): number;
  /** Stops reading; the histogram is disabled when the last reader leaves. */
  leave(): void;
}

/** One read of the histogram: the worst delay since the read before it, by sequence number. */
interface Mark {
  readonly seq: number;
  readonly atMs: number;
  readonly maxMs: number;
}

/**
 * Shares one event-loop delay histogram among every loop monitor on a thread. A histogram samples
 * with its own libuv timer (every 10 ms here), so N inline nodes in one process used to wake the
 * loop 100·N times a second just to sample the same loop: at 10 nodes that was most of the
 * process's idle wake-ups. The thread's delay is the same for all of them, so one histogram does.
 *
 * Each reader still gets exactly "the worst delay since my previous read": every read by any reader
 * takes the histogram's max and resets it, recording a mark; a reader's answer is the max of the
 * marks after its previous one. Those marks tile its window exactly (its own previous read left a
 * mark at the window's start). The marks are kept as a monotonic queue (each one larger than every
 * later one), so the answer is the first mark after the reader's previous one, found by binary search;
 * marks older than `horizonMs` are dropped (a reader that did not read for that long gets the worst
 * delay of the horizon).
 */
export class SharedDelaySampler {
  readonly #create: (resolutionMs: number) => DelayHistogram;
  readonly #horizonMs: number;
  #histogram: DelayHistogram | undefined;
  /** The histogram's sampling interval: the finest any reader asked for. */
  #resolutionMs = Number.POSITIVE_INFINITY;
  #readers = 0;
  #seq = 0;
  /** Marks with strictly decreasing maxMs, increasing seq. */
  #marks: Mark[] = [];

  constructor(create: (resolutionMs: number) => DelayHistogram, horizonMs = 60_000) {
    this.#create = create;
    this.#horizonMs = horizonMs;
  }

  /** Readers now joined (for tests). */
  get readers(): number {
    return this.#readers;
  }

  /** The histogram's sampling interval now (Infinity while nobody reads). */
  get resolutionMs(): number {
    return this.#resolutionMs;
  }

  /**
   * A new reader whose window starts at `nowMs` (the caller's clock, used only to age marks out),
   * sampled at least every `resolutionMs` (a finer request replaces the histogram by a finer one).
   */
  join(nowMs: number, resolutionMs = DEFAULT_RESOLUTION_MS): DelayReader {
    if (this.#readers++ === 0) {
      this.#marks = [];
      this.#resolutionMs = resolutionMs;
      this.#histogram = this.#create(resolutionMs);
      this.#histogram.enable();
    } else if (resolutionMs < this.#resolutionMs) {
      // Keep what the coarser one saw as a mark, then sample finer from now on.
      this.#take(nowMs);
      this.#histogram?.disable();
      this.#resolutionMs = resolutionMs;
      this.#histogram = this.#create(resolutionMs);
      this.#histogram.enable();
    }
    // The reader's window starts now: take what the histogram holds, so it is not counted in it.
    let last = this.#take(nowMs);
    let left = false;
    return {
      read: (nowMs: number): number => {
        if (left) return 0;
        const before = last;
        last = this.#take(nowMs);
        return this.#maxAfter(before);
      },
      leave: (): void => {
        if (left) return;
        left = true;
        if (--this.#readers === 0) {
          this.#histogram?.disable();
          this.#histogram = undefined;
          this.#resolutionMs = Number.POSITIVE_INFINITY;
          this.#marks = [];
        }
      },
    };
  }

  /** Records the histogram's max since the last take as a new mark; returns the mark's seq. */
  #take(nowMs: number): number {
    const h = this.#histogram;
    const maxMs = h === undefined || h.count === 0 ? 0 : h.max / 1e6;
    h?.reset();
    const seq = ++this.#seq;
    const marks = this.#marks;
    // A mark no larger than the new one can never be a window's answer again: any window that holds
    // it also holds the new one.
    while (marks.length > 0 && (marks[marks.length - 1] as Mark).maxMs <= maxMs) marks.pop();
    marks.push({ seq, atMs: nowMs, maxMs });
    let drop = 0;
    while (drop < marks.length - 1 && (marks[drop] as Mark).atMs < nowMs - this.#horizonMs) drop++;
    if (drop > 0) marks.splice(0, drop);
    return seq;
  }

  /** The worst delay among marks after `seq` (the first such mark, the queue being decreasing). */
  #maxAfter(seq: number): number {
    const marks = this.#marks;
    let lo = 0;
    let hi = marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((marks[mid] as Mark).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < marks.length ? (marks[lo] as Mark).maxMs : 0;
  }
}

const DEFAULT_RESOLUTION_MS = 10;

/**
 * The sampling interval for stalls of `stallMs` or more (a probe timeout): half of it, at least 10 ms.
 * perf_hooks records the whole time between two runs of its sampling timer, so a block of B ms reads
 * as at least B (and less than B + the interval): a coarse interval never misses a stall, it can only
 * over-read a shorter block, which the loop monitor bounds by the loop's busy time (LoopMonitorActor).
 * Except before its second sample: the first one only starts the clock, so a block within the first
 * interval after the histogram is enabled is not recorded; the loop monitor's own check lateness
 * covers a block long enough to matter (at least a check interval).
 * Every sample is a wake-up of the thread: at a tenth of the threshold they were 50 a second per
 * thread (200 ms probe timeout), half of an idle 10-node process's wake-ups; at half, 10.
 */
export function delayResolutionMs(stallMs: number): number {
  return Math.max(DEFAULT_RESOLUTION_MS, Math.floor(stallMs / 2));
}

/** The thread's sampler (module state is per thread: each worker loads its own copy). */
let threadSampler: SharedDelaySampler | undefined;
export function threadDelaySampler(): SharedDelaySampler {
  threadSampler ??= new SharedDelaySampler((resolution) => monitorEventLoopDelay({ resolution }));
  return threadSampler;
}
