import { wire } from '../gen/index.js';
import { scanField, SCAN_MALFORMED } from './field-scan.js';
import { varintSize, writeVarint } from './proto-wire.js';
import type { DecodeResult, LazyStreamFrame, PacketDestination, PartSizes, WireCodec, WireMessage, WireMessageInput } from './wire-codec.js';

/** Field 1, wire type 2 (length-delimited): the tag of Compound.parts. */
const PARTS_TAG = 0x0a;
/** Compound.parts, Message.push_pull and PushPull.states field numbers (proto/wire.proto). */
const COMPOUND_PARTS = 1;
const MESSAGE_PUSH_PULL = 8;
const PUSH_PULL_STATES = 2;

export interface ProtobufCodecLimits {
  /** Largest datagram accepted. */
  maxPacketBytes: number;
  /** Most messages one datagram may carry (counted before decoding). */
  maxParts: number;
  /**
   * Most member entries a push-pull stream message may carry, counted on the bytes before decoding
   * (config maxPushPullEntries). Default: no limit here (the push-pull actor checks after decoding).
   */
  maxPushPullEntries: number;
}

/**
 * The default wire format: [FrameKind][Compound] with protobufjs static code. A compound is built by
 * concatenating parts (tag, length, encoded Message), so a queued broadcast is encoded once and
 * piggybacked as bytes on every packet that carries it.
 */
export class ProtobufCodec implements WireCodec {
  readonly name = 'protobuf';
  readonly packetOverhead = 1;
  /** encodePart depends on the message only (see WireCodec.partCacheKey). */
  readonly partCacheKey = 'protobuf';
  readonly #limits: ProtobufCodecLimits;

  constructor(limits: Partial<ProtobufCodecLimits> = {}) {
    this.#limits = {
      maxPacketBytes: limits.maxPacketBytes ?? 65_507,
      maxParts: limits.maxParts ?? 4096,
      maxPushPullEntries: limits.maxPushPullEntries ?? Number.POSITIVE_INFINITY,
    };
  }

  encodePart(message: WireMessageInput): Uint8Array {
    return wire.Message.encode(message).finish();
  }

  partSize(partLength: number): number {
    return 1 + varintSize(partLength) + partLength;
  }

  encodePacket(messages: readonly WireMessageInput[], parts: readonly Uint8Array[] = [], _to?: PacketDestination, sizes?: PartSizes): Uint8Array {
    const encoded = messages.map((m) => this.encodePart(m));
    let total = this.packetOverhead;
    for (const list of [encoded, parts]) {
      for (const p of list) {
        const size = this.partSize(p.length);
        total += size;
        sizes?.push(size);
      }
    }
    const out = new Uint8Array(total);
    out[0] = wire.FrameKind.FRAME_COMPOUND_V1;
    let pos = 1;
    for (const list of [encoded, parts]) {
      for (const p of list) {
        out[pos++] = PARTS_TAG;
        pos = writeVarint(out, pos, p.length);
        out.set(p, pos);
        pos += p.length;
      }
    }
    return out;
  }

  decodePacket(buf: Uint8Array, sizes?: PartSizes): DecodeResult<WireMessage[]> {
    if (buf.length > this.#limits.maxPacketBytes) return { ok: false, reason: 'too-large', detail: `${buf.length} bytes` };
    return this.#decodeCompound(buf, sizes);
  }

  /** A datagram or a stream frame: [FrameKind][Compound]. Size limits are the caller's. */
  #decodeCompound(buf: Uint8Array, sizes?: PartSizes): DecodeResult<WireMessage[]> {
    if (buf.length === 0) return { ok: false, reason: 'empty' };
    if (buf[0] !== wire.FrameKind.FRAME_COMPOUND_V1) {
      return { ok: false, reason: 'unknown-frame', detail: `frame kind ${String(buf[0])}` };
    }
    // Count the parts on the bytes first: a packet of many tiny parts must not make us build them all.
    // The same pass reads each part's size for the bytes-by-type counters (one entry per part, in order).
    const visit = sizes === undefined ? undefined : (start: number, end: number): boolean => (sizes.push(this.partSize(end - start)), true);
    const parts = scanField(buf, 1, buf.length, COMPOUND_PARTS, this.#limits.maxParts, visit);
    if (parts === SCAN_MALFORMED) return { ok: false, reason: 'malformed', detail: 'invalid compound encoding' };
    if (parts > this.#limits.maxParts) return { ok: false, reason: 'too-many-parts', detail: `more than ${this.#limits.maxParts} parts` };
    let compound: wire.Compound;
    try {
      compound = wire.Compound.decode(buf.subarray(1));
    } catch (err) {
      return { ok: false, reason: 'malformed', detail: err instanceof Error ? err.message : String(err) };
    }
    if (compound.parts.length > this.#limits.maxParts) {
      return { ok: false, reason: 'too-many-parts', detail: `${compound.parts.length} parts` };
    }
    return { ok: true, value: compound.parts as WireMessage[] };
  }

  encodeStreamMessage(message: WireMessageInput): Uint8Array {
    return this.encodePacket([message]);
  }

  decodeStreamFrameLazy(buf: Uint8Array): DecodeResult<LazyStreamFrame> {
    if (isPushPullFrame(buf)) return { ok: true, value: { message: undefined, frame: buf } };
    const r = this.decodeStreamMessage(buf);
    return r.ok ? { ok: true, value: { message: r.value, frame: buf } } : r;
  }

  decodeStreamMessage(buf: Uint8Array): DecodeResult<WireMessage> {
    // Stream frames are bounded by the framing layer (maxStreamFrameBytes) before they get here.
    const maxEntries = this.#limits.maxPushPullEntries;
    if (maxEntries !== Number.POSITIVE_INFINITY && buf.length > 1 && buf[0] === wire.FrameKind.FRAME_COMPOUND_V1) {
      const entries = countPushPullEntries(buf, maxEntries);
      if (entries > maxEntries) {
        return { ok: false, reason: 'too-many-entries', detail: `push-pull with more than ${maxEntries} entries` };
      }
    }
    const r = this.#decodeCompound(buf);
    if (!r.ok) return r;
    if (r.value.length !== 1) return { ok: false, reason: 'malformed', detail: `stream frame with ${r.value.length} messages` };
    return { ok: true, value: r.value[0] as WireMessage };
  }
}

/**
 * Member entries of every push-pull in a [FrameKind][Compound] frame, counted on the bytes (an upper
 * bound of what decoding yields); stops once above `stopAbove`. A scan that cannot finish returns 0 and
 * leaves the verdict to the decoder.
 */
function countPushPullEntries(buf: Uint8Array, stopAbove: number): number {
  let total = 0;
  scanField(buf, 1, buf.length, COMPOUND_PARTS, Number.POSITIVE_INFINITY, (ps, pe) => {
    scanField(buf, ps, pe, MESSAGE_PUSH_PULL, Number.POSITIVE_INFINITY, (qs, qe) => {
      const n = scanField(buf, qs, qe, PUSH_PULL_STATES, stopAbove - total);
      if (n > 0) total += n;
      return total <= stopAbove;
    });
    return total <= stopAbove;
  });
  return total;
}

/** Tag of Message.push_pull (field 8, length-delimited). */
const PUSH_PULL_TAG = 0x42;

/**
 * Whether an inner frame ([FrameKind][Compound]) holds a push-pull as its first part, read from the
 * first few bytes without decoding anything.
 */
export function isPushPullFrame(frame: Uint8Array): boolean {
  if (frame.length < 4 || frame[0] !== wire.FrameKind.FRAME_COMPOUND_V1 || frame[1] !== PARTS_TAG) return false;
  let pos = 2;
  for (let shift = 0; pos < frame.length && shift < 35; shift += 7) {
    if (((frame[pos++] as number) & 0x80) === 0) return frame[pos] === PUSH_PULL_TAG;
  }
  return false;
}
