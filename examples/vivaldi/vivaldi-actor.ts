/**
 * Serf's network coordinates as a custom actor: every ack this node gives carries its coordinate, and
 * every direct probe that completes updates our coordinate from the peer's and the measured round
 * trip. Each node thereby learns the coordinate of every member it probes (all of them, round robin),
 * and can estimate the round trip between any two members, including pairs it never measured.
 *
 * Serf does the same through memberlist's PingDelegate (AckPayload / NotifyPingComplete); here the
 * probe actor publishes PingCompleted and takes AckPayloadUpdate, so no delegate is involved.
 */
import { actors, wire, type Actor, type ActorContext } from '../../src/index.js';
import { VivaldiClient, distance, type Coordinate, type VivaldiConfig } from './coordinate.js';
import { examples } from './gen/coordinate.js';

export import pb = examples.vivaldi;

/** The coordinate as ack payload bytes (examples.vivaldi.Coordinate, see coordinate.proto). */
export function encodeCoordinate(c: Coordinate): Uint8Array {
  return pb.Coordinate.encode({ vec: [...c.vec], error: c.error, adjustment: c.adjustment, height: c.height }).finish();
}

/**
 * Reads a peer's ack payload. Returns undefined for anything that is not a coordinate: an empty payload
 * (the peer runs no Vivaldi actor) or bytes that do not decode. Validity of the values is checked by
 * VivaldiClient.update.
 */
export function decodeCoordinate(payload: Uint8Array): Coordinate | undefined {
  if (payload.length === 0) return undefined;
  let m: pb.Coordinate;
  try {
    m = pb.Coordinate.decode(payload);
  } catch {
    return undefined;
  }
  if (m.vec.length === 0) return undefined;
  return { vec: [...m.vec], error: m.error, adjustment: m.adjustment, height: m.height };
}

export interface VivaldiActorOptions {
  /** Actor name, unique within the node. Default 'vivaldi'. */
  name?: string;
  /** Overrides of Serf's defaults (all nodes of a cluster must agree on `dimensionality`). */
  config?: Partial<VivaldiConfig>;
}

export class VivaldiActor implements Actor {
  readonly name: string;
  readonly accepts = [actors.PingCompleted, actors.MemberChanged, actors.MemberRemoved];
  // Losing the coordinate is harmless (it is re-learned within a few probes), so a crash restarts it.
  readonly restartPolicy = 'restart' as const;

  #ctx: ActorContext | undefined;
  #client: VivaldiClient | undefined;
  /** The latest coordinate each peer reported in an ack (ours is the client's). */
  #peers = new Map<string, Coordinate>();
  readonly #config: Partial<VivaldiConfig>;

  /** Updates applied. */
  updates = 0;
  /** Acks whose payload held no usable coordinate, or whose round trip was out of range. */
  rejected = 0;

  constructor(options: VivaldiActorOptions = {}) {
    this.name = options.name ?? 'vivaldi';
    this.#config = options.config ?? {};
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#peers = new Map();
    this.#client = new VivaldiClient(this.#config, () => ctx.random.next());
    // Acks carry a coordinate from the start: peers begin learning before our first probe completes.
    this.#publishPayload();
  }

  receive(message: object): void {
    if (message instanceof actors.PingCompleted) this.#onPingCompleted(message);
    else if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#forget(message.name);
  }

  /** Our own coordinate (undefined before start). */
  get coordinate(): Coordinate | undefined {
    return this.#client?.coordinate;
  }

  /** The latest known coordinate of `name` (this node included), or undefined when none is known. */
  coordinateOf(name: string): Coordinate | undefined {
    if (this.#ctx !== undefined && name === this.#ctx.nodeName) return this.#client?.coordinate;
    return this.#peers.get(name);
  }

  /** Members with a known coordinate, this node included, sorted. */
  members(): string[] {
    const names = [...this.#peers.keys()];
    if (this.#ctx !== undefined) names.push(this.#ctx.nodeName);
    return names.sort();
  }

  /**
   * The estimated round trip between two members in milliseconds (either may be this node), or
   * undefined when the coordinate of either is unknown. Works for pairs that never probed each other:
   * that is the point of coordinates.
   */
  estimateRttMs(a: string, b: string): number | undefined {
    const ca = this.coordinateOf(a);
    const cb = this.coordinateOf(b);
    if (ca === undefined || cb === undefined) return undefined;
    return distance(ca, cb) * 1000;
  }

  #onPingCompleted(m: actors.PingCompleted): void {
    const ctx = this.#ctx;
    const client = this.#client;
    if (ctx === undefined || client === undefined || !m.node) return;
    const other = decodeCoordinate(m.payload);
    if (other === undefined) {
      this.rejected++;
      return;
    }
    let updated: Coordinate;
    try {
      updated = client.update(m.node, other, m.rttMs / 1000);
    } catch (err) {
      // A peer's bad coordinate (or a wild measurement) is the peer's fault: drop it, never crash.
      this.rejected++;
      ctx.logger.debug({ peer: m.node, err }, 'vivaldi update rejected');
      return;
    }
    this.updates++;
    this.#peers.set(m.node, other);
    this.#publishPayload();
    // For whoever listens; when no actor accepts it, the router just counts it as undelivered.
    ctx.send(
      pb.CoordinateUpdated.create({
        node: ctx.nodeName,
        coordinate: { vec: [...updated.vec], error: updated.error, adjustment: updated.adjustment, height: updated.height },
        peer: m.node,
        rttMs: m.rttMs,
      }),
    );
  }

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (m.local || member === null || member === undefined || !member.name) return;
    const state = member.state ?? wire.MemberState.ALIVE;
    // A suspect member keeps its coordinate (it may refute); a dead or departed one is forgotten, so
    // estimates never use a coordinate from before a restart on another network path.
    if (state === wire.MemberState.DEAD || state === wire.MemberState.LEFT) this.#forget(member.name);
  }

  #forget(name: string): void {
    if (!name || (this.#ctx !== undefined && name === this.#ctx.nodeName)) return;
    this.#peers.delete(name);
    this.#client?.forget(name);
  }

  /** The probe actor attaches the latest AckPayloadUpdate to every ack it gives. */
  #publishPayload(): void {
    const client = this.#client;
    if (this.#ctx === undefined || client === undefined) return;
    this.#ctx.send(actors.AckPayloadUpdate.create({ payload: encodeCoordinate(client.coordinate) }));
  }
}
