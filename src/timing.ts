/**
 * The timing formulas of SWIM + Lifeguard exactly as memberlist computes them (util.go, suspicion.go,
 * awareness.go, state.go). They are pure functions of numbers so that every actor, the simulator and the
 * tests share one definition; an off-by-one here changes detection times cluster-wide.
 *
 * Durations are milliseconds. memberlist works in integer nanoseconds; where it floors (to whole
 * milliseconds of node scale, or of remaining suspicion time) we floor at the same point, so the results
 * match its test tables value for value.
 */

/** Above this many nodes the push/pull interval starts to grow (memberlist util.go `pushPullScaleThreshold`). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * The minimum suspicion timeout: how long a suspect is given to refute before it is declared dead when no
 * other member confirms the suspicion (memberlist `suspicionTimeout`).
 *
 * `mult × floor(max(1, log10(max(1, n))) × 1000) × intervalMs / 1000`. memberlist's doc comment says
 * log(N+1), but the code uses log10(N) floored at 1, so every cluster of up to 10 nodes gets
 * `mult × interval`. The node scale is floored to thousandths, as memberlist does by converting it to an
 * integer Duration. The result can carry a fraction of a millisecond (memberlist keeps nanoseconds), e.g.
 * mult 5, n 50, interval 100 ms gives 849 ms.
 *
 * @param mult SuspicionMult.
 * @param n the estimated number of nodes, self included.
 * @param intervalMs ProbeInterval (unscaled: awareness does not stretch suspicion).
 */
export function suspicionTimeoutMs(mult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Multiply the integers first and divide once, so the result is correctly rounded rather than
  // accumulating error from an intermediate /1000.
  return (mult * Math.floor(nodeScale * 1000) * intervalMs) / 1000;
}

/**
 * How many times a broadcast is piggybacked or gossiped before it is dropped from the queue (memberlist
 * `retransmitLimit`): `mult × ceil(log10(n + 1))`. n = 0 gives 0; with mult 4, n 1–9 gives 4, 10–99 gives 8,
 * 100–999 gives 12. Re-evaluated on every send because n changes.
 *
 * @param mult RetransmitMult.
 * @param n the estimated number of nodes, self included.
 */
export function retransmitLimit(mult: number, n: number): number {
  const nodeScale = Math.ceil(Math.log10(n + 1));
  return mult * nodeScale;
}

/**
 * The push/pull interval scaled to cluster size (memberlist `pushPullScale`), so the TCP full-state sync
 * load per node stays bounded as the cluster grows: up to 32 nodes the interval itself, then
 * `interval × (ceil(log2 n − log2 32) + 1)`: 33–64 → 2×, 65–128 → 3×, 129–256 → 4×.
 *
 * @param intervalMs PushPullInterval.
 * @param n the estimated number of nodes, self included.
 */
export function pushPullScaleMs(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Lifeguard's accelerated suspicion: the time left on a suspicion timer after `confirmations` independent
 * members have confirmed it (memberlist `remainingSuspicionTime`).
 *
 * `frac = ln(n + 1) / ln(k + 1)`, `raw = max − frac × (max − min)` computed in seconds as memberlist does,
 * floored to whole milliseconds and clamped up to `min`; the result is that minus `elapsedMs` and may be
 * negative, meaning "fire now". With min 2 s, max 30 s, k 3: n 0 → 30 s, 1 → 16 s, 2 → 7.810 s, 3 → 2 s
 * (before subtracting elapsed time).
 *
 * k ≤ 0 means no confirmations are expected: memberlist never calls this then (its timer simply runs for
 * `min`), and its formula would divide by ln(1) = 0; we return `min − elapsed`, the same deadline.
 *
 * @param confirmations n, the independent confirmations received so far (the accuser does not count).
 * @param k the confirmations that bring the timeout down to `min` (see {@link suspicionK}).
 * @param elapsedMs time since the suspicion started.
 * @param minMs {@link suspicionTimeoutMs}.
 * @param maxMs SuspicionMaxTimeoutMult × minMs.
 */
export function remainingSuspicionTimeMs(
  confirmations: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  if (k <= 0) return minMs - elapsedMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const maxS = maxMs / 1000;
  const minS = minMs / 1000;
  const raw = maxS - frac * (maxS - minS);
  const timeoutMs = Math.max(minMs, Math.floor(1000 * raw));
  return timeoutMs - elapsedMs;
}

/**
 * The number of independent confirmations that shrink a suspicion timer from max to min (memberlist
 * `suspectNode`): `suspicionMult − 2`, but 0 when the cluster is too small to supply that many
 * confirmers (`n − 2 < k`: the suspect and the accuser cannot confirm), and never negative. With k = 0 the
 * timer runs for the minimum timeout from the start.
 *
 * @param suspicionMult SuspicionMult.
 * @param n the estimated number of nodes, self included.
 */
export function suspicionK(suspicionMult: number, n: number): number {
  const k = suspicionMult - 2;
  if (k <= 0 || n - 2 < k) return 0;
  return k;
}

/**
 * Lifeguard's local health multiplier applied to a timeout (memberlist `awareness.ScaleTimeout`):
 * `timeout × (score + 1)`. memberlist scales only the probe interval with it, never ProbeTimeout,
 * suspicion timeouts or gossip.
 *
 * @param timeoutMs the unscaled timeout.
 * @param healthScore the awareness score, in [0, AwarenessMaxMultiplier − 1].
 */
export function scaleTimeoutMs(timeoutMs: number, healthScore: number): number {
  return timeoutMs * (healthScore + 1);
}
