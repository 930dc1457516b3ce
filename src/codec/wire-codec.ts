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
  | 'too-many-parts';

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
  /** Bytes a part of `partLength` bytes adds to a packet (framing overhead included). */
  partSize(partLength: number): number;
  /** Fixed bytes every packet carries besides its parts. */
  readonly packetOverhead: number;
  /** Builds one datagram from messages and already-encoded parts, in that order. */
  encodePacket(messages: readonly WireMessageInput[], parts?: readonly Uint8Array[]): Uint8Array;
  /** Decodes one datagram into its messages. */
  decodePacket(buf: Uint8Array): DecodeResult<WireMessage[]>;
  /** Encodes the payload of one stream frame (one request or response). */
  encodeStreamMessage(message: WireMessageInput): Uint8Array;
  decodeStreamMessage(buf: Uint8Array): DecodeResult<WireMessage>;
}

const KINDS = ['ping', 'indirectPing', 'ack', 'nack', 'suspect', 'alive', 'dead', 'pushPull', 'user', 'error'] as const;
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
