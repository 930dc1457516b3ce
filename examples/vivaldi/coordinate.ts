/**
 * Vivaldi network coordinates as Serf implements them (hashicorp/serf `coordinate/`): pure, no I/O.
 *
 * Every node places itself in an 8-dimensional Euclidean space plus a "height" (the latency of its own
 * access link, which no position can explain), such that the distance between two coordinates
 * predicts the round trip between the two nodes. Each measured round trip to a peer, together with the
 * peer's coordinate, moves our coordinate like a spring: pushed away when the prediction was too
 * short, pulled closer when it was too long, by an amount weighted by how confident each side is.
 *
 * Units are Serf's: seconds. The constants (VivaldiErrorMax 1.5, CE = CC = 0.25, HeightMin 10 µs,
 * GravityRho 150) are only meaningful in seconds, so conversion to milliseconds happens at the edges.
 */

export interface VivaldiConfig {
  /** Euclidean dimensions (Serf: 8). Peers must agree; a coordinate of another size is rejected. */
  readonly dimensionality: number;
  /** Upper bound of a node's error estimate, and the error of a fresh coordinate (Serf: 1.5). */
  readonly vivaldiErrorMax: number;
  /** How fast the error estimate follows the observed relative error (Serf: 0.25). */
  readonly vivaldiCE: number;
  /** How far one observation moves the coordinate (Serf: 0.25). */
  readonly vivaldiCC: number;
  /** Samples in the adjustment window; 0 turns adjustments off (Serf: 20). */
  readonly adjustmentWindowSize: number;
  /** Smallest height in seconds (Serf: 10 µs). */
  readonly heightMin: number;
  /** Round trips per peer whose median is used, to shed one-off delays (Serf: 3). */
  readonly latencyFilterSize: number;
  /** Distance (seconds) at which gravity towards the origin reaches one unit of force (Serf: 150). */
  readonly gravityRho: number;
}

/** Serf's DefaultConfig(). */
export const DEFAULT_VIVALDI_CONFIG: Readonly<VivaldiConfig> = Object.freeze({
  dimensionality: 8,
  vivaldiErrorMax: 1.5,
  vivaldiCE: 0.25,
  vivaldiCC: 0.25,
  adjustmentWindowSize: 20,
  heightMin: 10.0e-6,
  latencyFilterSize: 3,
  gravityRho: 150.0,
});

/** A point in the coordinate space. Immutable: every operation returns a new one. */
export interface Coordinate {
  readonly vec: readonly number[];
  readonly error: number;
  readonly adjustment: number;
  readonly height: number;
}

/** Round trips above this are refused as measurement errors, as in Serf's Client.Update. */
export const MAX_RTT_SECONDS = 10;

/** Below this, two coordinates count as the same point (Serf's zeroThreshold). */
const ZERO_THRESHOLD = 1.0e-6;

/** A peer's coordinate or a round trip that an update must not use. */
export class CoordinateError extends Error {
  override readonly name = 'CoordinateError';
}

/** A fresh coordinate: the origin, with the largest error and the smallest height. */
export function newCoordinate(config: VivaldiConfig = DEFAULT_VIVALDI_CONFIG): Coordinate {
  return {
    vec: new Array<number>(config.dimensionality).fill(0),
    error: config.vivaldiErrorMax,
    adjustment: 0,
    height: config.heightMin,
  };
}

/** Every component is a finite number (a NaN would spread to every node that hears of it). */
export function isValidCoordinate(c: Coordinate): boolean {
  return (
    c.vec.every((x) => Number.isFinite(x)) &&
    Number.isFinite(c.error) &&
    Number.isFinite(c.adjustment) &&
    Number.isFinite(c.height)
  );
}

export function isCompatible(a: Coordinate, b: Coordinate): boolean {
  return a.vec.length === b.vec.length;
}

function magnitude(v: readonly number[]): number {
  let sum = 0;
  for (const x of v) sum += x * x;
  return Math.sqrt(sum);
}

/** Euclidean distance plus both heights, without adjustments (what the adjustment window learns from). */
export function rawDistance(a: Coordinate, b: Coordinate): number {
  let sum = 0;
  for (let i = 0; i < a.vec.length; i++) {
    const d = (a.vec[i] as number) - (b.vec[i] as number);
    sum += d * d;
  }
  return Math.sqrt(sum) + a.height + b.height;
}

/**
 * The estimated round trip between two coordinates, in seconds. The adjustments are added only when
 * the result stays positive: they are averages of residuals and may be negative, and a negative
 * round trip means nothing.
 */
export function distance(a: Coordinate, b: Coordinate): number {
  const dist = rawDistance(a, b);
  const adjusted = dist + a.adjustment + b.adjustment;
  return adjusted > 0 ? adjusted : dist;
}

/**
 * The unit vector pointing from `to` towards `from`, and the distance between them. Coincident points
 * (every node starts at the origin) get a random direction so that they can separate at all; the
 * magnitude is then reported as 0 so the height is left alone.
 */
function unitVectorAt(from: readonly number[], to: readonly number[], random: () => number): { unit: number[]; mag: number } {
  const diff = from.map((x, i) => x - (to[i] as number));
  const mag = magnitude(diff);
  if (mag > ZERO_THRESHOLD) return { unit: diff.map((x) => x / mag), mag };
  const rnd = diff.map(() => random() - 0.5);
  const rmag = magnitude(rnd);
  if (rmag > ZERO_THRESHOLD) return { unit: rnd.map((x) => x / rmag), mag: 0 };
  // Vanishingly unlikely with a real random source; any fixed direction will do.
  const axis = new Array<number>(from.length).fill(0);
  axis[0] = 1;
  return { unit: axis, mag: 0 };
}

/**
 * Moves `c` by `force` along the line from `other` to `c` (positive: away from `other`). The height
 * takes a share of the move in proportion to its part of the distance, so that latency which no
 * direction explains ends up in the heights (Serf's ApplyForce).
 */
export function applyForce(
  config: VivaldiConfig,
  c: Coordinate,
  force: number,
  other: Coordinate,
  random: () => number,
): Coordinate {
  const { unit, mag } = unitVectorAt(c.vec, other.vec, random);
  const vec = c.vec.map((x, i) => x + (unit[i] as number) * force);
  let height = c.height;
  if (mag > ZERO_THRESHOLD) {
    height = Math.max(((c.height + other.height) * force) / mag + c.height, config.heightMin);
  }
  return { vec, error: c.error, adjustment: c.adjustment, height };
}

/**
 * Serf's gravity: a pull towards the origin that grows with the square of the distance from it, so
 * the whole cluster cannot drift off together (every update is relative, nothing anchors it).
 */
export function applyGravity(config: VivaldiConfig, c: Coordinate, random: () => number): Coordinate {
  const origin = newCoordinate(config);
  const dist = distance(origin, c);
  const force = -1.0 * Math.pow(dist / config.gravityRho, 2);
  return applyForce(config, c, force, origin, random);
}

/**
 * One node's side of Vivaldi (Serf's coordinate.Client): its own coordinate, the latency filter per
 * peer and the adjustment window. Not shared between threads or nodes.
 */
export class VivaldiClient {
  readonly config: Readonly<VivaldiConfig>;
  #coord: Coordinate;
  readonly #random: () => number;
  readonly #adjustmentSamples: number[];
  #adjustmentIndex = 0;
  readonly #latencySamples = new Map<string, number[]>();
  /** Times the coordinate went invalid (non-finite) and was reset to the origin. */
  resets = 0;

  /**
   * @param random a uniform [0, 1) source, used only to separate coincident coordinates; pass a
   *   seeded one (such as `ctx.random.next`) for reproducible runs.
   */
  constructor(config: Partial<VivaldiConfig> = {}, random: () => number) {
    const merged: VivaldiConfig = { ...DEFAULT_VIVALDI_CONFIG, ...config };
    if (!(Number.isInteger(merged.dimensionality) && merged.dimensionality > 0)) {
      throw new RangeError(`dimensionality must be a positive integer, got ${merged.dimensionality}`);
    }
    if (!(Number.isInteger(merged.latencyFilterSize) && merged.latencyFilterSize > 0)) {
      throw new RangeError(`latencyFilterSize must be a positive integer, got ${merged.latencyFilterSize}`);
    }
    if (!(Number.isInteger(merged.adjustmentWindowSize) && merged.adjustmentWindowSize >= 0)) {
      throw new RangeError(`adjustmentWindowSize must be an integer >= 0, got ${merged.adjustmentWindowSize}`);
    }
    this.config = Object.freeze(merged);
    this.#random = random;
    this.#coord = newCoordinate(this.config);
    this.#adjustmentSamples = new Array<number>(this.config.adjustmentWindowSize).fill(0);
  }

  /** Our current coordinate. */
  get coordinate(): Coordinate {
    return this.#coord;
  }

  /** The estimated round trip (seconds) from us to `other`. */
  distanceTo(other: Coordinate): number {
    return distance(this.#coord, other);
  }

  /** Drops the latency samples of a peer that left, so a later comeback starts a fresh median. */
  forget(node: string): void {
    this.#latencySamples.delete(node);
  }

  /**
   * Applies one observation: `rttSeconds` was measured to `node`, whose coordinate is `other`.
   * Returns our new coordinate. Throws CoordinateError, changing nothing, when the peer's coordinate
   * is unusable (other dimensionality, non-finite) or the round trip is out of [0, 10 s].
   */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    if (!isCompatible(this.#coord, other)) {
      throw new CoordinateError(`dimensionality ${other.vec.length} differs from ours (${this.#coord.vec.length})`);
    }
    if (!isValidCoordinate(other)) throw new CoordinateError('coordinate has non-finite components');
    if (!(rttSeconds >= 0 && rttSeconds <= MAX_RTT_SECONDS)) {
      throw new CoordinateError(`round trip ${rttSeconds} s is outside [0, ${MAX_RTT_SECONDS}]`);
    }
    const rtt = this.#latencyFilter(node, rttSeconds);
    this.#updateVivaldi(other, rtt);
    this.#updateAdjustment(other, rtt);
    this.#coord = applyGravity(this.config, this.#coord, this.#random);
    if (!isValidCoordinate(this.#coord)) {
      // Serf's answer to a numeric blow-up: start over rather than publish a broken coordinate.
      this.resets++;
      this.#coord = newCoordinate(this.config);
    }
    return this.#coord;
  }

  /**
   * A moving median of the last `latencyFilterSize` round trips to this peer: one delayed packet
   * (a GC pause, a queue) does not yank the coordinate, a lasting change wins within a few probes.
   */
  #latencyFilter(node: string, rttSeconds: number): number {
    let samples = this.#latencySamples.get(node);
    if (samples === undefined) this.#latencySamples.set(node, (samples = []));
    samples.push(rttSeconds);
    if (samples.length > this.config.latencyFilterSize) samples.shift();
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
  }

  #updateVivaldi(other: Coordinate, rttSeconds: number): void {
    const cfg = this.config;
    const dist = distance(this.#coord, other);
    const rtt = Math.max(rttSeconds, ZERO_THRESHOLD);
    const wrongness = Math.abs(dist - rtt) / rtt;
    // Trust the side with the smaller error more: a confident peer moves us a lot, an unsure one little.
    const totalError = Math.max(this.#coord.error + other.error, ZERO_THRESHOLD);
    const weight = this.#coord.error / totalError;
    const error = Math.min(cfg.vivaldiCE * weight * wrongness + this.#coord.error * (1 - cfg.vivaldiCE * weight), cfg.vivaldiErrorMax);
    const force = cfg.vivaldiCC * weight * (rtt - dist);
    this.#coord = applyForce(cfg, { ...this.#coord, error }, force, other, this.#random);
  }

  /**
   * The adjustment is half the mean residual (measured minus raw distance) over the last window of
   * observations: a per-node correction for what the Euclidean model gets systematically wrong.
   * Half, because both ends of a pair add theirs.
   */
  #updateAdjustment(other: Coordinate, rttSeconds: number): void {
    const size = this.config.adjustmentWindowSize;
    if (size === 0) return;
    // The raw distance: the adjustments are what is being estimated, so they must not feed back.
    this.#adjustmentSamples[this.#adjustmentIndex] = rttSeconds - rawDistance(this.#coord, other);
    this.#adjustmentIndex = (this.#adjustmentIndex + 1) % size;
    let sum = 0;
    for (const s of this.#adjustmentSamples) sum += s;
    this.#coord = { ...this.#coord, adjustment: sum / (2 * size) };
  }
}
