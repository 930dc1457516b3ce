import { performance } from 'node:perf_hooks';

import { actors } from '../../gen/index.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { delayResolutionMs, threadDelaySampler, type DelayReader, type SharedDelaySampler } from './shared-delay-sampler.js';

export interface LoopMonitorOptions {
  /** How often the delay histogram is read (the probe interval: one verdict per probe round). */
  intervalMs: number;
  /** A delay at least this long is a stall (the probe timeout: an ack held up that long looks lost). */
  stallMs: number;
  /** Lifeguard's awareness ceiling: no single stall adds more than this. */
  maxDelta: number;
  /** Where delays are read; default the thread's shared sampler (one histogram per thread). */
  sampler?: SharedDelaySampler;
  /**
   * This thread's event loop busy time so far, ms (default perf_hooks' eventLoopUtilization().active):
   * a block cannot be longer than the loop was busy between two checks.
   */
  busyMs?: () => number;
}

const loopBusyMs = (): number => performance.eventLoopUtilization().active;

/**
 * Lets a node know when it is the slow one. It samples this thread's event-loop delay
 * (perf_hooks.monitorEventLoopDelay) and, when the loop stalled for at least a probe timeout since
 * the last check, raises the Lifeguard health score by one per probe interval the stall lasted:
 * the probe actor then stretches its probe interval and timeouts, so a node whose host blocks it
 * backs off instead of accusing healthy peers (memberlist only learns this from missed nacks and
 * refutations, which arrive after the false suspicions). It runs wherever the protocol actors run:
 * on the caller's thread in inline mode, where host stalls hit the protocol directly, and on the
 * protocol worker in isolated mode, where only the protocol's own work can stall it.
 */
export class LoopMonitorActor implements Actor {
  readonly name = 'loop-monitor';
  readonly accepts = [actors.LoopCheck];
  #ctx!: ActorContext;
  #reader: DelayReader | undefined;
  /** Stalls seen (each sent a LoopStall and an AwarenessDelta). */
  stalls = 0;
  /** The longest delay seen since start, ms. */
  maxDelayMs = 0;
  /** When the pending LoopCheck is due: its own lateness is a second measure of a stall. */
  #dueMs = 0;
  /** The loop's busy time at the previous check and at the one before it, ms. */
  #busyAtMs = 0;
  #busyAtPrevMs = 0;
  #warned = false;

  constructor(private readonly options: LoopMonitorOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    // One histogram per thread, shared: every node on this thread sees the same loop.
    this.#reader = (this.options.sampler ?? threadDelaySampler()).join(ctx.clock.now(), delayResolutionMs(this.options.stallMs));
    this.#busyAtMs = (this.options.busyMs ?? loopBusyMs)();
    this.#busyAtPrevMs = this.#busyAtMs;
    this.#scheduleCheck(true);
  }

  /**
   * Checks fall on every multiple of the interval on the clock, so every node on a thread checks in the
   * same wake-up (only the cadence matters: each check reads the worst delay since its previous one).
   * The next one is the grid point after the one just checked (at start: after now), skipping only grid
   * points a stall already carried into the past. So a block of at least an interval always covers a
   * check's due time, and that check's own lateness reads at least the block's length minus one interval,
   * whatever the histogram saw: the histogram records nothing until its second sample (a block in the
   * first sampling interval after it was enabled is not in it), and a check scheduled from `now` used to
   * skip the grid point less than half an interval away, both at start and after a late check.
   * Stepping from the due time also keeps a timer that fired a fraction of a millisecond early from
   * scheduling a second check at once.
   */
  #scheduleCheck(first = false): void {
    const now = this.#ctx.clock.now();
    const interval = this.options.intervalMs;
    let due = first ? now - (now % interval) + interval : this.#dueMs + interval;
    while (due <= now) due += interval;
    this.#dueMs = due;
    this.#ctx.schedule(due - now, actors.LoopCheck.create());
  }

  stop(): void {
    this.#reader?.leave();
    this.#reader = undefined;
  }

  receive(message: object): void {
    if (!(message instanceof actors.LoopCheck)) return;
    // The histogram can miss a stall (its late sample and this check may fall in one loop turn, in
    // the wrong order); a stall that covered this check's due time shows as the check's lateness.
    const lateMs = Math.max(0, this.#ctx.clock.now() - this.#dueMs);
    this.#scheduleCheck();
    // The histogram reads a block as at least its length, plus up to one sampling interval (half a
    // probe timeout, to keep its wake-ups few); the loop's busy time is a second upper bound, which
    // keeps a shorter block on an otherwise idle loop from reading as a stall. Over the last two check
    // intervals, not one: after a block, this check's timer and the histogram's late sample expire in
    // the same loop turn in either order, so the histogram may report a block one check late, when the
    // busy time of the latest interval alone would hide it (and the check's own lateness can be small).
    const busyAt = (this.options.busyMs ?? loopBusyMs)();
    const busyMs = busyAt - this.#busyAtPrevMs;
    this.#busyAtPrevMs = this.#busyAtMs;
    this.#busyAtMs = busyAt;
    const histogramMs = Math.min(this.#reader?.read(this.#ctx.clock.now()) ?? 0, busyMs);
    this.check(Math.max(histogramMs, lateMs));
  }

  /** Judges one check's worst delay (exposed for tests, which cannot stall a virtual clock's loop). */
  check(maxMs: number): void {
    this.maxDelayMs = Math.max(this.maxDelayMs, maxMs);
    if (maxMs < this.options.stallMs) return;
    this.stalls++;
    const delta = Math.min(this.options.maxDelta, Math.max(1, Math.floor(maxMs / this.options.intervalMs)));
    // Warn once, then debug: nodes sharing a stalled thread would each log every stall.
    const log = this.#warned ? this.#ctx.logger.debug.bind(this.#ctx.logger) : this.#ctx.logger.warn.bind(this.#ctx.logger);
    this.#warned = true;
    log({ stallMs: Math.round(maxMs), awarenessDelta: delta, stalls: this.stalls }, 'event loop stalled: raising our health score so we back off');
    this.#ctx.send(actors.AwarenessDelta.create({ delta }));
    this.#ctx.send(actors.LoopStall.create({ maxMs, awarenessDelta: delta }));
  }
}
