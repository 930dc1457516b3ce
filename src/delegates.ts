import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import type { Member } from './member.js';

/**
 * Application hooks (memberlist's Delegate family, reference §9), each optional. They run on the
 * protocol thread, called by the actor that owns the moment: keep them fast. A hook that throws is
 * caught, logged and counted, and the protocol goes on with the documented fallback; a hook slower
 * than `slowHookMs` is counted and logged.
 */
export interface Delegates {
  /** Bytes sent with every push-pull we start or answer (Delegate.LocalState). Fallback: none. */
  localState?(join: boolean): Uint8Array | undefined;
  /** The remote side's localState bytes from a push-pull (Delegate.MergeRemoteState). */
  mergeRemoteState?(state: Uint8Array, join: boolean): void;
  /**
   * Vets the members a push-pull would merge (MergeDelegate.NotifyMerge). Return a reason string
   * (or throw) to refuse: the merge is skipped and a joiner gets an error with the reason.
   * Fallback when it throws: refuse (fail closed).
   */
  authorizeMerge?(peers: readonly Member[], context: { join: boolean }): string | undefined | void;
  /** Vets a member's alive message (AliveDelegate.NotifyAlive). Return a reason to ignore it. Fallback when it throws: ignore it. */
  authorizeAlive?(member: Member): string | undefined | void;
  /** Payload sent with each ack we give (PingDelegate.AckPayload). Fallback: empty. */
  ackPayload?(): Uint8Array | undefined;
  /** A probe we sent was acked directly (PingDelegate.NotifyPingComplete). */
  onPingComplete?(member: Member, rttMs: number, payload: Uint8Array): void;
  /** Two addresses claim one name; the newer claim was refused (ConflictDelegate). */
  notifyConflict?(existing: Member, other: Member): void;
}

export type HookName = keyof Delegates;

/** Counters per hook: calls, throws, and calls slower than the threshold. */
export interface HookStats {
  calls: number;
  errors: number;
  slow: number;
  /** Isolated mode: calls the host did not answer within the hook timeout (the fallback was used). */
  timeouts?: number;
}

/**
 * Calls user hooks safely: a throw becomes the fallback value and a warning, never an actor crash
 * (an actor that crashes on a user's bug would restart and hit the same bug again).
 */
export class HookRunner {
  readonly stats = new Map<HookName, HookStats>();

  constructor(
    readonly delegates: Delegates,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly slowHookMs = 10,
  ) {}

  has(hook: HookName): boolean {
    return typeof this.delegates[hook] === 'function';
  }

  /** Runs `call` (which invokes the hook) and returns its result, or `fallback` if it throws. */
  run<T>(hook: HookName, call: (d: Delegates) => T, fallback: T): { value: T; failed: boolean; error?: unknown } {
    const s = this.#stats(hook);
    s.calls++;
    const start = this.clock.now();
    try {
      const value = call(this.delegates);
      if (value instanceof Promise) {
        // Hooks are synchronous; an async one would leave the protocol waiting. Its rejection is
        // still caught so it cannot become an unhandled rejection in the host.
        value.catch((err: unknown) => this.#failed(hook, err));
      }
      return { value, failed: false };
    } catch (error) {
      this.#failed(hook, error);
      return { value: fallback, failed: true, error };
    } finally {
      const took = this.clock.now() - start;
      if (took > this.slowHookMs) {
        s.slow++;
        this.logger.warn({ hook, tookMs: Math.round(took) }, 'slow delegate hook: it runs on the protocol thread');
      }
    }
  }

  #failed(hook: HookName, error: unknown): void {
    this.#stats(hook).errors++;
    this.logger.warn({ hook, err: error }, 'delegate hook threw');
  }

  #stats(hook: HookName): HookStats {
    let s = this.stats.get(hook);
    if (s === undefined) this.stats.set(hook, (s = { calls: 0, errors: 0, slow: 0 }));
    return s;
  }
}
