import { remainingSuspicionTimeMs } from '../../timing.js';

export interface SuspicionParams {
  /** The accuser: pre-inserted into the confirmations, so it cannot confirm its own accusation. */
  from: string;
  /** Independent confirmations that bring the timeout down to `minMs` (memberlist's k). */
  k: number;
  minMs: number;
  maxMs: number;
  /** Clock time the suspicion started. */
  startMs: number;
}

/** What a confirmation did. `remainingMs` ≤ 0 means the timer must fire now. */
export type ConfirmOutcome = { accepted: false } | { accepted: true; remainingMs: number };

/**
 * One suspicion's accounting (memberlist suspicion.go) without the timer itself: the suspicion actor
 * owns the timer and asks this state how long it should run. Lifeguard's accelerated suspicion: the
 * timeout starts at `max` when confirmations are expected (k ≥ 1), else at `min`, and each
 * independent confirmation shrinks it along ln(n + 1) / ln(k + 1) toward `min`.
 */
export class SuspicionState {
  readonly k: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly startMs: number;
  readonly #confirmations: Set<string>;
  #n = 0;

  constructor(p: SuspicionParams) {
    this.k = Math.max(0, Math.floor(p.k));
    this.minMs = p.minMs;
    this.maxMs = p.maxMs;
    this.startMs = p.startMs;
    this.#confirmations = new Set([p.from]);
  }

  /** Independent confirmations accepted so far (the accuser is not counted). */
  get confirmations(): number {
    return this.#n;
  }

  /** The timeout the timer starts with: `max` if k ≥ 1, else `min`. */
  get initialTimeoutMs(): number {
    return this.k >= 1 ? this.maxMs : this.minMs;
  }

  /** Whether it timed out with fewer confirmations than expected (memberlist.degraded.timeout). */
  get degraded(): boolean {
    return this.k > 0 && this.#n < this.k;
  }

  /** Time left at `nowMs` given the confirmations so far (negative when overdue). */
  remainingMs(nowMs: number): number {
    if (this.#n === 0) return this.initialTimeoutMs - (nowMs - this.startMs);
    return remainingSuspicionTimeMs(this.#n, this.k, nowMs - this.startMs, this.minMs, this.maxMs);
  }

  /**
   * memberlist's Confirm: accepted only from a member not seen before (never the accuser) while fewer
   * than k confirmations have arrived; then returns the new remaining time.
   */
  confirm(from: string, nowMs: number): ConfirmOutcome {
    if (this.#n >= this.k) return { accepted: false };
    if (this.#confirmations.has(from)) return { accepted: false };
    this.#confirmations.add(from);
    this.#n++;
    return { accepted: true, remainingMs: this.remainingMs(nowMs) };
  }
}
