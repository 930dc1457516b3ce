/**
 * Traffic counters of the network actor: packets and bytes each way, messages by kind, and drops by
 * reason. Read by node.metrics() and by tests; drops are never thrown.
 */
export class NetworkCounters {
  packetsIn = 0;
  packetsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Pre-encoded parts sent (a packet's own messages from the gossip actor, and piggybacked broadcasts). */
  piggybackOut = 0;
  readonly messagesIn = new Map<string, number>();
  readonly messagesOut = new Map<string, number>();
  /**
   * Bytes by message kind. A datagram's message counts its own encoded part (before the packet's
   * envelope: label, encryption, checksum, compression), so the kinds add up to the payload, and
   * the envelope is the difference with bytesIn/bytesOut; a stream message counts its whole frame
   * as it crossed the wire (one message per stream).
   */
  readonly messageBytesIn = new Map<string, number>();
  readonly messageBytesOut = new Map<string, number>();
  readonly dropsIn = new Map<string, number>();
  readonly dropsOut = new Map<string, number>();

  countIn(kind: string, bytes: number): void {
    this.messagesIn.set(kind, (this.messagesIn.get(kind) ?? 0) + 1);
    this.messageBytesIn.set(kind, (this.messageBytesIn.get(kind) ?? 0) + bytes);
  }

  countOut(kind: string, bytes: number): void {
    this.messagesOut.set(kind, (this.messagesOut.get(kind) ?? 0) + 1);
    this.messageBytesOut.set(kind, (this.messageBytesOut.get(kind) ?? 0) + bytes);
  }

  dropIn(reason: string): void {
    this.dropsIn.set(reason, (this.dropsIn.get(reason) ?? 0) + 1);
  }

  dropOut(reason: string): void {
    this.dropsOut.set(reason, (this.dropsOut.get(reason) ?? 0) + 1);
  }

  totalDropsIn(): number {
    let n = 0;
    for (const v of this.dropsIn.values()) n += v;
    return n;
  }
}
