/**
 * Pure rules of the reconnect actor (partition healing, Serf's reconnect): which addresses are worth a
 * push-pull, whether this node tries one this interval, and when an entry is given up.
 *
 * Nothing here reads time or randomness: the actor passes `nowMs` and a draw in [0, 1).
 */

export interface ReconnectAddress {
  readonly host: string;
  readonly port: number;
}

/** A member that died (not left), remembered after reaping: its last address and when it died. */
export interface DeadEntry extends ReconnectAddress {
  readonly name: string;
  /** Clock time of the death (the member's state_change_ms, or our clock when absent). */
  readonly diedAtMs: number;
}

/** A seed we joined through, with the time since which it has been unreachable (no alive member there). */
export interface SeedEntry extends ReconnectAddress {
  /** When it was learned or when the last alive member at its address stopped being alive. */
  readonly sinceMs: number;
}

export interface ReconnectView {
  readonly dead: ReadonlyMap<string, DeadEntry>;
  /** Seeds by address key. */
  readonly seeds: ReadonlyMap<string, SeedEntry>;
  /** Address keys of members alive or suspect in our table (ourselves included). */
  readonly liveAddresses: ReadonlySet<string>;
  /** Members alive or suspect in our table, ourselves included (Serf's numAlive). */
  readonly numAlive: number;
}

export function addressKey(a: ReconnectAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** An entry older than the give-up time is dropped (Serf's reconnect_timeout); 0 means never. */
export function expired(sinceMs: number, nowMs: number, reconnectTimeoutMs: number): boolean {
  return reconnectTimeoutMs > 0 && nowMs - sinceMs > reconnectTimeoutMs;
}

/**
 * Addresses to try, deduplicated by address, in a deterministic order (dead members by name, then
 * seeds by address): a dead member not given up whose address no live member holds now, and a seed
 * not given up whose address no live member holds.
 */
export function reconnectCandidates(view: ReconnectView, nowMs: number, reconnectTimeoutMs: number): ReconnectAddress[] {
  const out: ReconnectAddress[] = [];
  const seen = new Set<string>(view.liveAddresses);
  const dead = [...view.dead.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dead) {
    const key = addressKey(d);
    if (seen.has(key) || expired(d.diedAtMs, nowMs, reconnectTimeoutMs)) continue;
    seen.add(key);
    out.push({ host: d.host, port: d.port });
  }
  const seeds = [...view.seeds.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, s] of seeds) {
    if (seen.has(key) || expired(s.sinceMs, nowMs, reconnectTimeoutMs)) continue;
    seen.add(key);
    out.push({ host: s.host, port: s.port });
  }
  return out;
}

/**
 * Serf's reconnect throttle: try with probability failed / alive, so a large healthy cluster with one
 * failed member makes about one attempt per interval in total rather than one per node, while a node
 * that lost half the cluster (a partition) tries every interval.
 */
export function shouldAttempt(numCandidates: number, numAlive: number, draw: number): boolean {
  if (numCandidates <= 0) return false;
  const alive = Math.max(1, numAlive);
  const probability = Math.min(1, numCandidates / alive);
  return draw < probability;
}

/** Delay of the first tick: a random fraction of the interval, so nodes started together do not try in lockstep. */
export function firstDelayMs(intervalMs: number, draw: number): number {
  return Math.max(1, Math.floor(draw * intervalMs));
}
