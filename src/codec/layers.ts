/**
 * The outer layers of every datagram and stream frame (memberlist §2.5, in our tagged format). Each
 * layer announces itself with a FrameKind byte and appears at most once, in this order:
 *
 *   [FRAME_LABEL][len u8][label]                      when a cluster label is set
 *   [FRAME_ENCRYPTED][vsn][nonce 12][ciphertext‖tag]  when a key is installed and gossipVerifyOutgoing
 *   [FRAME_CRC32][crc32 u32 BE]                       when not encrypted (GCM already authenticates)
 *   [FRAME_COMPRESSED][length varint][deflate-raw]    when enableCompression and it saves bytes
 *   [FRAME_COMPOUND_V1][Compound]                     the inner codec's frame
 *
 * Sending builds them inside out (compress → CRC → encrypt → label); receiving strips them outside in,
 * and each failure is a stable drop reason: 'label-mismatch', 'decrypt-failed', 'bad-checksum',
 * 'decompress-limit', 'malformed'. The GCM additional data is [1 packet | 2 stream] ‖ label, so a
 * sealed packet cannot be replayed as a stream frame nor into a cluster with another label.
 *
 * Nothing here throws on input from the network; misuse of the options throws InvalidArgumentError.
 */
import { deflateRawSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';
import { wire } from '../gen/index.js';
import { AEAD_OVERHEAD, open as openSealed, seal } from '../security/aead.js';
import { crc32 } from '../security/crc32.js';
import type { Keyring } from '../security/keyring.js';
import { isPushPullFrame, ProtobufCodec } from './protobuf-codec.js';
import { compressFrameAsync, DEFER_INFLATE_FROM_BYTES, inflateFrame, inflateFrameHead, isCompressedFrame } from './compressed-frame.js';
import type { DecodeFailure, DecodeResult, LazyStreamFrame, PacketDestination, PartSizes, StreamFrame, StreamPeer, WireCodec, WireMessage, WireMessageInput } from './wire-codec.js';
import { PeerVersions } from './peer-versions.js';
import { PROTOCOL_COMPRESSION } from '../config.js';
import { bytesEqual } from '../util/bytes.js';

/** Where a body travels: the encryption's additional data differs, and so do the size limits. */
export type Channel = 'packet' | 'stream';

export const FRAME_LABEL: number = wire.FrameKind.FRAME_LABEL;
export const FRAME_ENCRYPTED: number = wire.FrameKind.FRAME_ENCRYPTED;
export const FRAME_CRC32: number = wire.FrameKind.FRAME_CRC32;
export const FRAME_COMPRESSED: number = wire.FrameKind.FRAME_COMPRESSED;

/** The longest label: its length is one byte (memberlist LabelMaxSize). */
export const LABEL_MAX_BYTES = 255;
/** Bytes the encrypted layer adds: its kind byte plus version, nonce and tag. */
export const ENCRYPTED_OVERHEAD = 1 + AEAD_OVERHEAD;
/** Bytes the checksum layer adds: its kind byte plus the CRC. */
export const CRC_OVERHEAD = 5;
/** Bodies shorter than this are never compressed: deflate cannot win much on them. */
export const DEFAULT_COMPRESSION_THRESHOLD = 256;
/** Above this, deflate at level 1: a multi-megabyte push-pull must not stall the event loop. */
const FAST_COMPRESSION_ABOVE = 64 * 1024;

function compressionLevel(bytes: number): number {
  return bytes > FAST_COMPRESSION_ABOVE ? zlibConstants.Z_BEST_SPEED : zlibConstants.Z_DEFAULT_COMPRESSION;
}

export interface LayerOptions {
  /** The cluster label ('' = none), at most 255 UTF-8 bytes. */
  label?: string;
  /**
   * Accept unlabeled traffic as if it carried our label (for proxies that strip it); traffic that
   * still carries a label is then refused. It never accepts a wrong label (memberlist semantics).
   */
  skipInboundLabelCheck?: boolean;
  /** The keys. Encryption is on while it holds at least one key. */
  keyring?: Keyring;
  /** With encryption on: refuse traffic that is not encrypted. Default true. */
  gossipVerifyIncoming?: boolean;
  /** With encryption on: encrypt what we send. Default true. */
  gossipVerifyOutgoing?: boolean;
  /** Compress bodies of at least `compressionThreshold` bytes when that makes them smaller. Default false. */
  enableCompression?: boolean;
  /** Default 256 bytes. */
  compressionThreshold?: number;
  /** Add a CRC32 to what is sent unencrypted. Default true. Received CRCs are always verified. */
  checksum?: boolean;
  /** Largest packet accepted, and largest a compressed packet may inflate to. Default 65507. */
  maxPacketBytes?: number;
  /** Largest a compressed stream frame may inflate to (config maxStreamFrameBytes). Default 20 MiB. */
  maxStreamFrameBytes?: number;
}

const utf8 = new TextEncoder();
const utf8Lossy = new TextDecoder('utf-8', { fatal: false });

/** The reasons a layer refuses its input. */
export type LayerFailure = Extract<
  DecodeFailure,
  'empty' | 'too-large' | 'malformed' | 'label-mismatch' | 'decrypt-failed' | 'bad-checksum' | 'decompress-limit'
>;

function fail(reason: LayerFailure, detail?: string): { ok: false; reason: LayerFailure; detail?: string } {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}


/** A label for a log line: quoted, control characters escaped, never longer than 255 bytes' worth. */
export function printableLabel(bytes: Uint8Array | string): string {
  const text = typeof bytes === 'string' ? bytes : utf8Lossy.decode(bytes);
  return JSON.stringify(text);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Reads a varint of at most 5 bytes (< 2^32) at `pos`: [value, next] or undefined. */
function readVarint(buf: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= buf.length) return undefined;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return value > 0xffff_ffff ? undefined : [value, pos];
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * The label, encryption, checksum and compression layers around an inner frame. One instance per
 * node; the keyring is read live, so keys installed or switched at run time apply to the next message.
 */
export class FrameLayers {
  readonly label: string;
  readonly skipInboundLabelCheck: boolean;
  readonly keyring: Keyring | undefined;
  readonly enableCompression: boolean;
  readonly compressionThreshold: number;
  readonly checksum: boolean;
  readonly maxPacketBytes: number;
  readonly maxStreamFrameBytes: number;
  #verifyIncoming: boolean;
  #verifyOutgoing: boolean;
  readonly #labelBytes: Uint8Array;
  /** [FRAME_LABEL][len][label], or empty without a label. */
  readonly #labelHeader: Uint8Array;
  readonly #aadPacket: Uint8Array;
  readonly #aadStream: Uint8Array;

  constructor(options: LayerOptions = {}) {
    const label = options.label ?? '';
    if (typeof label !== 'string') throw new InvalidArgumentError('label must be a string');
    this.#labelBytes = utf8.encode(label);
    if (this.#labelBytes.length > LABEL_MAX_BYTES) {
      throw new InvalidArgumentError(`label is ${this.#labelBytes.length} UTF-8 bytes; at most ${LABEL_MAX_BYTES}`);
    }
    const threshold = options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 0) {
      throw new InvalidArgumentError(`compressionThreshold must be a non-negative integer, got ${String(threshold)}`);
    }
    const maxPacket = options.maxPacketBytes ?? 65_507;
    const maxStream = options.maxStreamFrameBytes ?? 20 * 1024 * 1024;
    for (const [name, v] of [['maxPacketBytes', maxPacket], ['maxStreamFrameBytes', maxStream]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(v)}`);
    }
    this.label = label;
    this.skipInboundLabelCheck = options.skipInboundLabelCheck ?? false;
    this.keyring = options.keyring;
    this.enableCompression = options.enableCompression ?? false;
    this.compressionThreshold = threshold;
    this.checksum = options.checksum ?? true;
    this.maxPacketBytes = maxPacket;
    this.maxStreamFrameBytes = maxStream;
    this.#verifyIncoming = options.gossipVerifyIncoming ?? true;
    this.#verifyOutgoing = options.gossipVerifyOutgoing ?? true;
    const n = this.#labelBytes.length;
    this.#labelHeader = n === 0 ? new Uint8Array(0) : new Uint8Array(2 + n);
    if (n > 0) {
      this.#labelHeader[0] = FRAME_LABEL;
      this.#labelHeader[1] = n;
      this.#labelHeader.set(this.#labelBytes, 2);
    }
    this.#aadPacket = new Uint8Array(1 + n);
    this.#aadPacket[0] = 1;
    this.#aadPacket.set(this.#labelBytes, 1);
    this.#aadStream = new Uint8Array(1 + n);
    this.#aadStream[0] = 2;
    this.#aadStream.set(this.#labelBytes, 1);
  }

  /** Whether a key is installed (encryption configured). */
  get encryptionEnabled(): boolean {
    return this.keyring !== undefined && this.keyring.size > 0;
  }

  get gossipVerifyIncoming(): boolean {
    return this.#verifyIncoming;
  }

  get gossipVerifyOutgoing(): boolean {
    return this.#verifyOutgoing;
  }

  /**
   * Changes the rollout switches at run time (memberlist needs a restart for this): enabling
   * encryption on a live cluster is outgoing=false/incoming=false everywhere, then outgoing=true
   * everywhere, then incoming=true everywhere.
   */
  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void {
    if (flags.incoming !== undefined) this.#verifyIncoming = flags.incoming;
    if (flags.outgoing !== undefined) this.#verifyOutgoing = flags.outgoing;
  }

  /**
   * The most bytes seal() adds to a body (label header plus the larger of the encryption and checksum
   * layers; compression is only used when it saves bytes, so it adds none). Fixed for the lifetime of
   * the instance, so budgets computed from it stay valid when keys are installed later.
   */
  get overhead(): number {
    const crypto = this.keyring !== undefined ? ENCRYPTED_OVERHEAD : 0;
    const check = this.checksum ? CRC_OVERHEAD : 0;
    return this.#labelHeader.length + Math.max(crypto, check);
  }

  /**
   * Wraps an inner frame ([FrameKind][...]) in the outer layers. `compress` false leaves compression
   * out for a peer that announced a protocol version without it.
   */
  seal(inner: Uint8Array, channel: Channel, compress = true): Uint8Array {
    let body = inner;
    if (compress && this.enableCompression && inner.length >= this.compressionThreshold) body = this.#compress(inner);
    return this.sealCompressed(body, channel);
  }

  /**
   * seal() of a body that is already compressed (or must not be): what sealAsync finishes with.
   * The label, encryption and checksum layers, which are fast and need the keyring's current state.
   */
  sealCompressed(body: Uint8Array, channel: Channel): Uint8Array {
    const header = this.#labelHeader;
    const prefix = header.length;
    let out: Uint8Array;
    const primary = this.#verifyOutgoing ? this.keyring?.installed()[0] : undefined;
    if (primary !== undefined) {
      out = seal(primary, body, channel === 'packet' ? this.#aadPacket : this.#aadStream, prefix + 1);
      out[prefix] = FRAME_ENCRYPTED;
    } else if (this.checksum) {
      out = new Uint8Array(prefix + CRC_OVERHEAD + body.length);
      out[prefix] = FRAME_CRC32;
      new DataView(out.buffer, out.byteOffset + prefix + 1, 4).setUint32(0, crc32(body), false);
      out.set(body, prefix + CRC_OVERHEAD);
    } else if (prefix === 0) {
      return body;
    } else {
      out = new Uint8Array(prefix + body.length);
      out.set(body, prefix);
    }
    if (prefix > 0) out.set(header, 0);
    return out;
  }

  /**
   * seal(), with the compression of a large body (DEFER_INFLATE_FROM_BYTES or more: a full push-pull
   * state) done on libuv's thread pool, so a 10,000-member state is not deflated on the protocol
   * thread; a smaller body is sealed at once. Same bytes as seal().
   */
  sealDeferred(inner: Uint8Array, channel: Channel, compress = true): Uint8Array | Promise<Uint8Array> {
    if (!compress || !this.enableCompression || inner.length < this.compressionThreshold || inner.length < DEFER_INFLATE_FROM_BYTES) {
      return this.seal(inner, channel, compress);
    }
    return compressFrameAsync(inner, compressionLevel(inner.length)).then((body) => this.sealCompressed(body, channel));
  }

  /** [FRAME_COMPRESSED][length][deflate-raw], or `inner` itself when that is not strictly smaller. */
  #compress(inner: Uint8Array): Uint8Array {
    let deflated: Uint8Array;
    try {
      deflated = deflateRawSync(inner, {
        level: compressionLevel(inner.length),
      });
    } catch {
      return inner;
    }
    const size = 1 + varintSize(inner.length) + deflated.length;
    if (size >= inner.length) return inner;
    const out = new Uint8Array(size);
    out[0] = FRAME_COMPRESSED;
    const pos = writeVarint(out, 1, inner.length);
    out.set(deflated, pos);
    return out;
  }

  /**
   * Strips the outer layers and returns the inner frame, or why the input was refused. Never throws.
   * Size limits of the whole input are the caller's (the codec for packets, the framing for streams).
   * With `deferInflateFrom`, a body that declares at least that many bytes inflated is returned still
   * compressed ([FRAME_COMPRESSED]...), its declared size checked against the limit.
   */
  open(buf: Uint8Array, channel: Channel, deferInflateFrom?: number): DecodeResult<Uint8Array> {
    if (buf.length === 0) return fail('empty');
    let body = buf;
    const where = channel === 'packet' ? 'packet' : 'stream frame';

    // 1. Label.
    if (body[0] === FRAME_LABEL) {
      if (body.length < 2) return fail('malformed', 'truncated label header');
      const n = body[1] as number;
      if (n === 0) return fail('malformed', 'label header cannot be empty when present');
      if (body.length < 2 + n) return fail('malformed', 'truncated label header');
      const theirs = body.subarray(2, 2 + n);
      if (this.skipInboundLabelCheck) {
        return fail('label-mismatch', `${where} carries label ${printableLabel(theirs)} but skipInboundLabelCheck expects none`);
      }
      if (!bytesEqual(theirs, this.#labelBytes)) {
        return fail('label-mismatch', `${where} label ${printableLabel(theirs)}, ours ${printableLabel(this.label)}`);
      }
      body = body.subarray(2 + n);
    } else if (!this.skipInboundLabelCheck && this.#labelBytes.length > 0) {
      return fail('label-mismatch', `${where} without a label, ours ${printableLabel(this.label)}`);
    }
    if (body.length === 0) return fail('empty');

    // 2. Encryption.
    if (body[0] === FRAME_ENCRYPTED) {
      const keyring = this.keyring;
      if (keyring === undefined || keyring.size === 0) return fail('decrypt-failed', `encrypted ${where} but no key is installed`);
      const r = openSealed(keyring, body.subarray(1), channel === 'packet' ? this.#aadPacket : this.#aadStream);
      if (!r.ok) {
        return fail('decrypt-failed', r.reason === 'auth-failed' ? 'no installed key could decrypt it' : r.reason);
      }
      body = r.plaintext;
      if (body.length === 0) return fail('empty');
    } else if (this.encryptionEnabled && this.#verifyIncoming) {
      return fail('decrypt-failed', `${where} is not encrypted (gossipVerifyIncoming)`);
    }

    // 3. Checksum.
    if (body[0] === FRAME_CRC32) {
      if (body.length < CRC_OVERHEAD) return fail('malformed', 'truncated checksum header');
      const expected = new DataView(body.buffer, body.byteOffset + 1, 4).getUint32(0, false);
      const rest = body.subarray(CRC_OVERHEAD);
      if (crc32(rest) !== expected) return fail('bad-checksum', `invalid checksum on ${where}`);
      body = rest;
      if (body.length === 0) return fail('empty');
    }

    // 4. Compression.
    if (body[0] === FRAME_COMPRESSED) {
      const len = readVarint(body, 1);
      if (len === undefined) return fail('malformed', 'bad compressed length');
      const [size, start] = len;
      if (size === 0) return fail('malformed', 'compressed body of length 0');
      const limit = channel === 'packet' ? this.maxPacketBytes : this.maxStreamFrameBytes;
      // Checked before inflating, and inflation itself stops at the declared size: a bomb never
      // makes us allocate more than the limit.
      if (size > limit) return fail('decompress-limit', `declares ${size} bytes uncompressed, limit ${limit}`);
      // A large stream frame is left compressed for its consumer to inflate (see compressed-frame.ts).
      if (deferInflateFrom !== undefined && size >= deferInflateFrom) return { ok: true, value: body };
      let inflated: Uint8Array;
      try {
        inflated = inflateRawSync(body.subarray(start), { maxOutputLength: size });
      } catch (err) {
        if (errorCode(err) === 'ERR_BUFFER_TOO_LARGE') return fail('decompress-limit', `inflates beyond the declared ${size} bytes`);
        return fail('malformed', `cannot inflate: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (inflated.length !== size) return fail('malformed', `inflated to ${inflated.length} bytes, declared ${size}`);
      body = inflated;
    }
    return { ok: true, value: body };
  }
}

export interface LayeredCodecOptions extends LayerOptions {
  /** The codec of the innermost frame. Default: a ProtobufCodec with the limits below. */
  inner?: WireCodec;
  /** Most messages one packet may carry (ProtobufCodec maxParts). Default 4096. */
  maxParts?: number;
  /** Most member entries a push-pull may carry, counted before decoding. Default: unchecked here. */
  maxPushPullEntries?: number;
}

/**
 * The wire codec with the outer layers: a WireCodec (ProtobufCodec by default) whose packets and
 * stream messages are wrapped by FrameLayers. packetOverhead includes the label and the encryption
 * (or checksum) overhead, so the gossip budget computed from it keeps every packet within
 * udpBufferSize; partSize is the inner codec's (the layers wrap whole packets, not parts).
 */
export class LayeredCodec implements WireCodec {
  readonly name: string;
  readonly layers: FrameLayers;
  readonly inner: WireCodec;
  readonly packetOverhead: number;
  readonly partCacheKey: string | undefined;
  /** Members that announced a protocol without our compression layer (usually none). */
  readonly #peers = new PeerVersions(PROTOCOL_COMPRESSION);

  constructor(options: LayeredCodecOptions = {}) {
    this.layers = new FrameLayers(options);
    this.inner =
      options.inner ??
      new ProtobufCodec({
        maxPacketBytes: this.layers.maxPacketBytes,
        ...(options.maxParts !== undefined ? { maxParts: options.maxParts } : {}),
        ...(options.maxPushPullEntries !== undefined ? { maxPushPullEntries: options.maxPushPullEntries } : {}),
      });
    this.name = `${this.inner.name}+layers`;
    // The layers wrap packets, not parts: a part is the inner codec's.
    this.partCacheKey = this.inner.partCacheKey;
    this.packetOverhead = this.inner.packetOverhead + this.layers.overhead;
  }

  /** The keyring the layers encrypt with (undefined when encryption was not configured). */
  get keyring(): Keyring | undefined {
    return this.layers.keyring;
  }

  encodePart(message: WireMessageInput): Uint8Array {
    return this.inner.encodePart(message);
  }

  partSize(partLength: number): number {
    return this.inner.partSize(partLength);
  }

  encodePacket(messages: readonly WireMessageInput[], parts?: readonly Uint8Array[], to?: PacketDestination, sizes?: PartSizes): Uint8Array {
    const compress = to === undefined || !this.#peers.behind(to);
    return this.layers.seal(this.inner.encodePacket(messages, parts, to, sizes), 'packet', compress);
  }

  notePeer(name: string, peer: PacketDestination | undefined, protocolMax: number): void {
    this.#peers.note(name, peer, protocolMax);
  }

  decodePacket(buf: Uint8Array, sizes?: PartSizes): DecodeResult<WireMessage[]> {
    // The size of what arrived is checked before any layer looks at it.
    if (buf.length > this.layers.maxPacketBytes) return { ok: false, reason: 'too-large', detail: `${buf.length} bytes` };
    const opened = this.layers.open(buf, 'packet');
    if (!opened.ok) return opened;
    return this.inner.decodePacket(opened.value, sizes);
  }

  encodeStreamMessage(message: WireMessageInput, to?: StreamPeer): Uint8Array {
    // A dialled member is looked up by its endpoint; a requester by its host, since an inbound
    // stream's port is ephemeral (so a member behind on the same host keeps replies there plain).
    return this.layers.seal(this.inner.encodeStreamMessage(message), 'stream', this.#compressTo(to));
  }

  #compressTo(to: StreamPeer | undefined): boolean {
    return to === undefined || (to.port === undefined ? !this.#peers.behindOnHost(to.host) : !this.#peers.behind({ host: to.host, port: to.port }));
  }

  /** encodeStreamMessage, with a large body compressed off this thread (FrameLayers.sealDeferred). */
  encodeStreamMessageDeferred(message: WireMessageInput, to?: StreamPeer): Uint8Array | Promise<Uint8Array> {
    return this.layers.sealDeferred(this.inner.encodeStreamMessage(message), 'stream', this.#compressTo(to));
  }

  decodeStreamMessage(buf: Uint8Array): DecodeResult<WireMessage> {
    const r = this.decodeStreamFrame(buf);
    return r.ok ? { ok: true, value: r.value.message } : r;
  }

  decodeStreamFrameLazy(buf: Uint8Array): DecodeResult<LazyStreamFrame> {
    const opened = this.layers.open(buf, 'stream', DEFER_INFLATE_FROM_BYTES);
    if (!opened.ok) return opened;
    let inner = opened.value;
    if (isCompressedFrame(inner)) {
      // A large push-pull stays compressed: the merge inflates it (on the merge worker when it is
      // offloaded), so the protocol thread pays only for this first KiB. Anything else is inflated now.
      const head = inflateFrameHead(inner);
      if (head !== undefined && isPushPullFrame(head)) return { ok: true, value: { message: undefined, frame: inner } };
      const inflated = inflateFrame(inner, this.layers.maxStreamFrameBytes);
      if (!inflated.ok) return inflated;
      inner = inflated.value;
    }
    if (isPushPullFrame(inner)) return { ok: true, value: { message: undefined, frame: inner } };
    const r = this.inner.decodeStreamMessage(inner);
    return r.ok ? { ok: true, value: { message: r.value, frame: inner } } : r;
  }

  decodeStreamFrame(buf: Uint8Array): DecodeResult<StreamFrame> {
    const opened = this.layers.open(buf, 'stream');
    if (!opened.ok) return opened;
    const r = this.inner.decodeStreamMessage(opened.value);
    return r.ok ? { ok: true, value: { message: r.value, frame: opened.value } } : r;
  }
}
