/**
 * Event-loop delay, measured with perf_hooks.monitorEventLoopDelay: how late the loop runs timers,
 * which is how late probes, acks and gossip go out. A membership process whose loop stalls for longer
 * than probeTimeoutMs gets its peers suspected (and itself suspected by them).
 *
 * perf_hooks records the time between two runs of its sampling timer, which includes the sampling
 * period itself; the snapshot subtracts it, so an idle loop reads ~0, not ~resolutionMs.
 *
 * The monitor reports over a sliding window: the histogram is reset every `windowMs`, and a snapshot
 * reports the window that just completed when the current one is still nearly empty, so a scrape
 * right after a reset does not read zeros.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopDelaySnapshot {
  /** Delays in seconds. */
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** Samples in the reported window. */
  readonly count: number;
  /** Length of the reported window so far, in seconds. */
  readonly windowSeconds: number;
}

const NS = 1e9;

export class EventLoopDelayMonitor {
  readonly #histogram: IntervalHistogram;
  readonly #windowMs: number;
  readonly #resolutionNs: number;
  #windowStart = performance.now();
  #previous: EventLoopDelaySnapshot | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param resolutionMs sampling period of the delay timer (perf_hooks' resolution), default 20 ms.
   * @param windowMs how long a window lasts before the histogram is reset, default 60 s.
   */
  constructor(options: { resolutionMs?: number; windowMs?: number } = {}) {
    const resolutionMs = options.resolutionMs ?? 20;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#resolutionNs = resolutionMs * 1e6;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  start(): this {
    if (this.#timer !== undefined) return this;
    this.#histogram.enable();
    this.#windowStart = performance.now();
    this.#timer = setInterval(() => this.#rotate(), this.#windowMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram.disable();
  }

  /** The current window, or the previous one while the current holds fewer than 10 samples. */
  snapshot(): EventLoopDelaySnapshot {
    const current = this.#read();
    if (current.count < 10 && this.#previous !== undefined) return this.#previous;
    return current;
  }

  #rotate(): void {
    this.#previous = this.#read();
    this.#histogram.reset();
    this.#windowStart = performance.now();
  }

  #read(): EventLoopDelaySnapshot {
    const h = this.#histogram;
    const count = h.count;
    const late = (ns: number): number => (count === 0 || !Number.isFinite(ns) ? 0 : Math.max(0, ns - this.#resolutionNs) / NS);
    return {
      min: late(h.min),
      max: late(h.max),
      mean: late(h.mean),
      p50: late(h.percentile(50)),
      p90: late(h.percentile(90)),
      p99: late(h.percentile(99)),
      count,
      windowSeconds: (performance.now() - this.#windowStart) / 1000,
    };
  }
}
