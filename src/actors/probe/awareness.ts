import { scaleTimeoutMs } from '../../timing.js';

/**
 * Lifeguard's local health multiplier (memberlist awareness.go): a score in [0, max − 1] that rises
 * when this node misses acks it should have got (failed probes without nacks, refutations) and falls
 * with every successful probe. A higher score stretches the probe interval, so a node that is itself
 * slow or overloaded accuses others less often. 0 means healthy.
 *
 * Pure state with no I/O; the probe actor owns one and publishes HealthChanged when it changes.
 */
export class Awareness {
  readonly #max: number;
  #score = 0;

  /** @param max AwarenessMaxMultiplier (>= 1; 1 pins the score at 0 and disables the back-off). */
  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** The current score, in [0, max − 1]. */
  get score(): number {
    return this.#score;
  }

  /** The upper bound of the multiplier (the score never exceeds max − 1). */
  get max(): number {
    return this.#max;
  }

  /**
   * Adds `delta` to the score, clamped to [0, max − 1]. Returns whether the score changed (memberlist
   * sets the health gauge only then; the probe actor publishes HealthChanged only then).
   */
  applyDelta(delta: number): boolean {
    const before = this.#score;
    const next = Math.min(this.#max - 1, Math.max(0, before + Math.trunc(delta)));
    this.#score = next;
    return next !== before;
  }

  /** `timeoutMs × (score + 1)`: what the probe interval stretches to while unhealthy. */
  scaleTimeout(timeoutMs: number): number {
    return scaleTimeoutMs(timeoutMs, this.#score);
  }
}
