/**
 * Which members announced a protocol max below what a wire feature needs, so a codec can leave the
 * feature out of what it sends them (memberlist gates the packet CRC on the peer's PMax the same way).
 *
 * It holds only the exceptions: a cluster whose members all speak the current protocol costs nothing
 * here, which matters at 10,000 members per node. A peer never heard of (a seed before the join) is
 * treated as current; every member we probe or gossip to has announced its versions in its alive.
 */
import { endpointKey } from '../transport/transport.js';

export interface PeerEndpoint {
  readonly host: string;
  readonly port: number;
}

export class PeerVersions {
  /** name -> endpoint key, for members below `needed`. */
  readonly #behind = new Map<string, string>();
  /** endpoint key -> how many of those members announce it (two names can claim one during a conflict). */
  readonly #endpoints = new Map<string, number>();
  /** host -> members below `needed` on it, for replies on inbound streams (whose port is ephemeral). */
  readonly #hosts = new Map<string, number>();

  constructor(readonly needed: number) {}

  /**
   * What a member announced: its endpoint and protocol max (0: not announced, taken as current, as
   * memberlist does for nacks and TCP pings). `undefined` endpoint: the member left the table.
   */
  note(name: string, peer: PeerEndpoint | undefined, protocolMax: number): void {
    const behind = peer !== undefined && protocolMax > 0 && protocolMax < this.needed;
    // Every member change passes here: a current member we never listed costs one map lookup, no key.
    const previous = this.#behind.size > 0 ? this.#behind.get(name) : undefined;
    if (!behind && previous === undefined) return;
    const key = behind ? endpointKey(peer as PeerEndpoint) : undefined;
    if (previous !== undefined && (!behind || previous !== key)) {
      this.#behind.delete(name);
      decrement(this.#endpoints, previous);
      decrement(this.#hosts, hostOf(previous));
    }
    if (behind && key !== undefined && previous !== key) {
      this.#behind.set(name, key);
      increment(this.#endpoints, key);
      increment(this.#hosts, (peer as PeerEndpoint).host);
    }
  }

  /** Whether the member at this endpoint announced a protocol max below `needed`. */
  behind(peer: PeerEndpoint): boolean {
    return this.#endpoints.size > 0 && this.#endpoints.has(endpointKey(peer));
  }

  /** Whether any member on this host announced a protocol max below `needed`. */
  behindOnHost(host: string): boolean {
    return this.#hosts.size > 0 && this.#hosts.has(host);
  }

  /** Members below `needed` right now. */
  get size(): number {
    return this.#behind.size;
  }
}

function hostOf(key: string): string {
  // endpointKey is host:port, with IPv6 hosts in brackets; the port never contains ':'.
  const host = key.slice(0, key.lastIndexOf(':'));
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
