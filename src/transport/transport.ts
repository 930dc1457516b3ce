/**
 * The Transport seam (memberlist's Transport shape, reference §1.4): best-effort packets and reliable
 * byte streams. Only the network actor talks to a Transport. Two implementations pass one contract
 * suite (test/contract): NetTransport (node:dgram + node:net) and MemoryTransport (src/testing).
 *
 * Streams carry raw bytes, like memberlist's net.Conn: message framing is a separate layer
 * (./framing.ts) so that a wire codec with its own stream format can sit on the same transport.
 */

/** A host and port. `host` is an IP literal ("127.0.0.1", "::1"); names are resolved before this point. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Receives what a transport hears. Handlers must not throw; a throw is caught and counted as a drop. */
export interface TransportHandlers {
  /** One datagram. `buf` may be a view into a buffer the transport reuses after the call: copy what you keep. */
  packet(buf: Uint8Array, from: Endpoint, receivedAtMs: number): void;
  /** An inbound stream was accepted. */
  stream(conn: Conn): void;
}

/** Callbacks of one stream. Set them at once: data that arrives before is buffered until they are set. */
export interface ConnHandlers {
  data(chunk: Uint8Array): void;
  /** The remote side finished writing (half close). */
  end(): void;
  /** The stream is gone. `error` is set when it ended abnormally (reset, timeout, crash). Called once. */
  close(error?: Error): void;
}

/** A reliable, ordered, bidirectional byte stream (a TCP connection or its in-memory twin). */
export interface Conn {
  readonly remote: Endpoint;
  readonly local: Endpoint;
  /** Whether the stream can still be written. */
  readonly writable: boolean;
  setHandlers(handlers: ConnHandlers): void;
  /** Queues bytes for the peer. Returns false (and writes nothing) once the stream is closed or ended. */
  write(data: Uint8Array): boolean;
  /** Finishes our side; the peer's `end` fires after the queued data. */
  end(): void;
  /** Closes both directions at once. The peer sees `close` with an error. Idempotent. */
  destroy(error?: Error): void;
}

/** Counters every transport keeps; read by metrics and by tests. */
export interface TransportStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Packets dropped on send (socket error, unreachable) or on receive (no handler, handler threw). */
  packetsDropped: number;
  streamsOpened: number;
  streamsAccepted: number;
}

export interface Transport {
  /** "udp+tcp" or "memory": for logs. */
  readonly kind: string;
  /** The address actually bound (port 0 resolved to the real port). */
  readonly localAddress: Endpoint;
  /** Installs the receive callbacks. Until then, inbound packets are dropped and inbound streams refused. */
  setHandlers(handlers: TransportHandlers): void;
  /**
   * Sends one datagram, best effort. Never throws for network faults: returns false when the packet
   * could not be handed to the network (closed transport, oversized, local error), counted as a drop.
   */
  sendPacket(to: Endpoint, buf: Uint8Array): boolean;
  /** Opens a stream. Rejects with a TransportError (code ERR_DIAL_TIMEOUT on timeout) when it cannot. */
  dial(to: Endpoint, timeoutMs: number): Promise<Conn>;
  readonly stats: Readonly<TransportStats>;
  /** Releases every socket and timer. Open streams are destroyed. Idempotent. */
  shutdown(): Promise<void>;
}

export function endpointKey(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function newTransportStats(): TransportStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsDropped: 0,
    streamsOpened: 0,
    streamsAccepted: 0,
  };
}
