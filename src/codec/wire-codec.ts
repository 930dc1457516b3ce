import type { wire } from '../gen/index.js';

/** A decoded protocol message (exactly one body field set, `body` names it). */
export type WireMessage = ReturnType<typeof wire.Message.decode>;
/** What a sender hands the codec: any of the message bodies. */
export type WireMessageInput = wire.Message.$Properties;

/** Why a packet or frame was refused. Stable strings: they label drop counters. */
export type DecodeFailure =
  | 'empty'
  | 'too-large'
  | 'unknown-frame'
  | 'malformed'
  | 'too-many-parts'
  /** A push-pull claims more member entries than maxPushPullEntries (checked before decoding). */
  | 'too-many-entries'
  /** Outer layers (src/codec/layers.ts): another cluster's label, or none where one is required. */
  | 'label-mismatch'
  /** Encrypted with no installed key, not encrypted while gossipVerifyIncoming, or not authentic. */
  | 'decrypt-failed'
  /** The CRC32 of an unencrypted packet or frame does not match. */
  | 'bad-checksum'
  /** A compressed body would inflate beyond the packet or frame limit (decompression bomb). */
  | 'decompress-limit';

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: DecodeFailure; detail?: string };

/**
 * The wire format seam: the network actor encodes and decodes through this interface only, so a
 * second format (memberlist's msgpack wire, issue 9) can replace the protobuf one without touching
 * any actor. Decoders never throw: bad input from the network is a DecodeResult failure.
 */
export interface WireCodec {
  readonly name: string;
  /** Encodes one message as a compound part, ready to queue and piggyback many times. */
  encodePart(message: WireMessageInput): Uint8Array;
  /**
   * Set when encodePart is a pure function of the message, equal for every codec with the same key:
   * then the part of an immutable (frozen) message may be encoded once and shared by every node in the
   * thread (codec/shared-parts.ts). Undefined: never shared.
   */
  readonly partCacheKey?: string;
  /** Bytes a part of `partLength` bytes adds to a packet (framing overhead included). */
  partSize(partLength: number): number;
  /** Fixed bytes every packet carries besides its parts. */
  readonly packetOverhead: number;
  /**
   * Builds one datagram from messages and already-encoded parts, in that order. `to` is where it
   * goes: a codec may gate features on what that peer announced (memberlist's CRC needs its PMax >= 5).
   * `sizes`, when given, receives the encoded size of each message then each part, in that order
   * (see PartSizes).
   */
  encodePacket(messages: readonly WireMessageInput[], parts?: readonly Uint8Array[], to?: PacketDestination, sizes?: PartSizes): Uint8Array;
  /** Decodes one datagram into its messages; `sizes`, when given, receives each one's encoded size. */
  decodePacket(buf: Uint8Array, sizes?: PartSizes): DecodeResult<WireMessage[]>;
  /**
   * Encodes the payload of one stream frame (one request or response). `to` is the peer: the member
   * we dialled, or for a reply the requester's host only (an inbound stream's port is ephemeral).
   */
  encodeStreamMessage(message: WireMessageInput, to?: StreamPeer): Uint8Array;
  decodeStreamMessage(buf: Uint8Array): DecodeResult<WireMessage>;
  /**
   * Optional: encodeStreamMessage, except that a large frame may come as a promise because its
   * compression runs off the calling thread (LayeredCodec). Same bytes as encodeStreamMessage.
   */
  encodeStreamMessageDeferred?(message: WireMessageInput, to?: StreamPeer): Uint8Array | Promise<Uint8Array>;
  /**
   * Optional, for codecs with outer layers (LayeredCodec): decodes a stream frame like
   * decodeStreamMessage and also returns the inner frame ([FrameKind][Compound], label, encryption,
   * checksum and compression removed), which is what the network actor hands on as requestBytes /
   * responseBytes (a push-pull merged on a worker is decoded there with the protobuf codec).
   */
  decodeStreamFrame?(buf: Uint8Array): DecodeResult<StreamFrame>;
  /**
   * Like decodeStreamFrame, but a push-pull is left undecoded (`message` undefined, `frame` set): a
   * full state is decoded where it is merged (the push-pull actor, or its worker thread for large
   * states), not on the network actor's thread. A large push-pull's frame may still carry the
   * compression layer ([FRAME_COMPRESSED]..., see codec/compressed-frame.ts): it is inflated where it
   * is merged too. Codecs without it decode every frame.
   */
  decodeStreamFrameLazy?(buf: Uint8Array): DecodeResult<LazyStreamFrame>;
  /**
   * Optional: how messages are delimited on a stream. Without it the network actor length-prefixes
   * each stream message (src/transport/framing.ts); memberlist's streams have no prefix (a sequence
   * of msgpack values read incrementally), so its codec brings its own reader and writer.
   */
  readonly streamFraming?: StreamFraming;
  /** Optional: which body an encoded part carries, for counters (default: kindOfPart, protobuf tags). */
  partKind?(part: Uint8Array): WireMessageKind | undefined;
  /**
   * Optional: what a member announced, from the membership actor's changes (its endpoint and protocol
   * max; `peer` undefined when it left the table), so the codec can gate wire features per peer by
   * protocol version: our compression layer, memberlist's CRC.
   */
  notePeer?(name: string, peer: PacketDestination | undefined, protocolMax: number): void;
}

/** Who a stream message goes to: a dialled member's endpoint, or a requester's host (no port). */
export interface StreamPeer {
  readonly host: string;
  readonly port?: number;
}

/**
 * Where a codec writes the encoded size of each message of a datagram, in bytes: the message's part
 * with its own delimiting, before the packet's envelope (label, encryption, checksum, compression).
 * Feeds the bytes-by-message-type counters; a caller that does not count passes nothing.
 */
export type PartSizes = number[];

/** The peer a datagram is sent to. */
export interface PacketDestination {
  readonly host: string;
  readonly port: number;
}

/** Stream delimiting supplied by a codec (see WireCodec.streamFraming). */
export interface StreamFraming {
  /** The bytes of one request on a stream we dialled (any per-connection header included). */
  encodeRequest(message: WireMessageInput, to?: StreamPeer): Uint8Array;
  /**
   * Optional: encodeRequest / encodeResponse whose large frames may come as a promise (compressed off
   * the protocol thread). The network actor prefers these when present.
   */
  encodeDeferred?(message: WireMessageInput, to?: StreamPeer): Uint8Array | Promise<Uint8Array>;
  /** The bytes of the one reply on a stream a peer dialled (`to`: the requester's host). */
  encodeResponse(message: WireMessageInput, to?: StreamPeer): Uint8Array;
  /** A reader of the one message expected: the request on an accepted stream, the reply on a dialled one. */
  reader(role: 'request' | 'response'): StreamReader;
}

/** Reads one message from a stream, chunk by chunk. Never throws: bad input is a failure result. */
export interface StreamReader {
  /** Undefined while the message is incomplete; then its result, once (later chunks are ignored). */
  push(chunk: Uint8Array): DecodeResult<LazyStreamFrame> | undefined;
}

/** A stream frame whose push-pull, if it is one, is not decoded yet. */
export interface LazyStreamFrame {
  readonly message: WireMessage | undefined;
  readonly frame: Uint8Array;
}

/** A decoded stream message and the inner frame it was decoded from. */
export interface StreamFrame {
  readonly message: WireMessage;
  readonly frame: Uint8Array;
}

const KINDS = ['ping', 'indirectPing', 'ack', 'nack', 'suspect', 'alive', 'dead', 'pushPull', 'user', 'error', 'keyCommand', 'keyAck'] as const;
export type WireMessageKind = (typeof KINDS)[number];

/**
 * Which body a message carries. Decoded messages have `body`; messages built as plain objects (what
 * actors put in SendPacket) do not, so the set field decides.
 */
export function kindOf(m: WireMessageInput): WireMessageKind | undefined {
  if (m.body !== undefined && m.body !== null) return m.body;
  for (const k of KINDS) if (m[k] !== undefined && m[k] !== null) return k;
  return undefined;
}

/**
 * Which body an already-encoded part carries, read from its first byte (the oneof field tag; every
 * field number is below 16, so the tag is one byte). Lets the network actor count pre-encoded parts
 * by kind without decoding them.
 */
export function kindOfPart(part: Uint8Array): WireMessageKind | undefined {
  const tag = part[0];
  if (tag === undefined || (tag & 7) !== 2) return undefined;
  return KINDS[(tag >> 3) - 1];
}
