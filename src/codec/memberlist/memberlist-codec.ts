/**
 * HashiCorp memberlist's wire format (protocol versions 2 to 5, reference §2), behind the same
 * WireCodec seam as the protobuf codec, so a node created with `wire: 'memberlist'` joins a Go
 * memberlist cluster with the same actors.
 *
 * Packets, sent inside out and received outside in (net.go rawSendMsgPacket / ingestPacket):
 *
 *   [244][len][label]            when a label is set (memberlist >= 0.3; 0.2.2 has no labels)
 *   [vsn][nonce][sealed]         when a key is installed and gossipVerifyOutgoing; AAD = the label
 *   [12][crc32 BE]               only to a peer that announced protocol max >= 5 (§13.7)
 *   [9][compress{Algo,Buf}]      when enableCompression and the LZW form is strictly shorter
 *   [7][n][n × u16 len][parts]   when more than one message; more than 255 nest as compounds
 *   [type][msgpack struct]       one message
 *
 * Streams have no length prefix: see MemberlistStreamReader and streamFraming below.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { InstalledKey, Keyring } from '../../security/keyring.js';
import { crc32 } from '../../security/crc32.js';
import { bytesEqual } from '../../util/bytes.js';
import { fromWireAddress } from '../address.js';
import type {
  DecodeFailure,
  DecodeResult,
  LazyStreamFrame,
  PacketDestination,
  PartSizes,
  StreamFraming,
  StreamFrame,
  StreamReader,
  WireCodec,
  WireMessage,
  WireMessageInput,
  WireMessageKind,
} from '../wire-codec.js';
import {
  decryptPayload,
  encryptedLength,
  encryptPayload,
  ENCRYPT_V0_MAX_OVERHEAD,
  ENCRYPT_V1_OVERHEAD,
  type EncryptionVersion,
  type NonceSource,
} from './encryption.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { decodeCompress, decodeStruct, encodeCompress, encodePacketMessage, encodeStreamBody, MsgType, userMessage } from './messages.js';
import { MsgpackIncomplete, MsgpackReader, type IntStyle } from './msgpack.js';
import { MemberlistStreamReader, type StreamReadContext } from './stream-reader.js';

export interface MemberlistCodecOptions {
  /** The cluster label ('' = none), at most 255 UTF-8 bytes. memberlist 0.2.2 has no labels. */
  label?: string;
  /** Accept unlabeled traffic as if it carried our label; labeled traffic is then refused. */
  skipInboundLabelCheck?: boolean;
  /** The keys; encryption is on while it holds one. */
  keyring?: Keyring;
  /** With encryption on: refuse what is not encrypted (else it is read as plaintext). Default true. */
  gossipVerifyIncoming?: boolean;
  /** With encryption on: encrypt what we send. Default true. */
  gossipVerifyOutgoing?: boolean;
  /** Compress packets when it saves bytes, and streams always (memberlist EnableCompression). Default false. */
  enableCompression?: boolean;
  /** Our ProtocolVersion: 1 seals with encryption version 0 (padded), 2 and later with version 1. Default 2. */
  protocolVersion?: number;
  /** How Go `int` fields above 127 are written. Default 'unsigned' (what Debian's 0.2.2 writes); both decoders read both. */
  intStyle?: IntStyle;
  /** Largest datagram accepted. Default 65507. */
  maxPacketBytes?: number;
  /** Largest encrypted stream frame, and largest plain stream message. Default 20 MiB (memberlist maxPushStateBytes). */
  maxStreamBytes?: number;
  /** Most messages one datagram may carry, compounds flattened. Default 4096. */
  maxParts?: number;
  /** Most node states a push-pull may announce. Default 1 Mi (memberlist HEAD). */
  maxPushPullEntries?: number;
  /** Where nonces come from; tests pass a fixed one to reproduce the reference vectors. */
  nonceSource?: NonceSource;
}

/** Most parts one compound holds: its count is one byte. */
const MAX_COMPOUND_PARTS = 255;
/** Compounds and compression nest; real senders nest at most two deep. */
const MAX_NESTING = 4;
/** Peers whose protocol max we remember for CRC gating; the oldest is forgotten beyond this. */
const MAX_KNOWN_PEERS = 65_536;
const CRC_OVERHEAD = 5;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

const PART_KINDS: Readonly<Record<number, WireMessageKind>> = {
  [MsgType.ping]: 'ping',
  [MsgType.indirectPing]: 'indirectPing',
  [MsgType.ackResp]: 'ack',
  [MsgType.suspect]: 'suspect',
  [MsgType.alive]: 'alive',
  [MsgType.dead]: 'dead',
  [MsgType.pushPull]: 'pushPull',
  [MsgType.user]: 'user',
  [MsgType.nackResp]: 'nack',
  [MsgType.err]: 'error',
};

class PacketFailure extends Error {
  constructor(
    readonly reason: DecodeFailure,
    detail: string,
  ) {
    super(detail);
  }
}

export class MemberlistCodec implements WireCodec {
  readonly name = 'memberlist';
  readonly packetOverhead: number;
  readonly label: string;
  readonly keyring: Keyring | undefined;
  readonly enableCompression: boolean;
  readonly streamFraming: StreamFraming;
  readonly #labelBytes: Uint8Array;
  readonly #labelHeader: Uint8Array;
  readonly #skipInboundLabelCheck: boolean;
  readonly #verifyIncoming: boolean;
  readonly #verifyOutgoing: boolean;
  readonly #encryptionVersion: EncryptionVersion;
  readonly #intStyle: IntStyle;
  /** encodePart depends on the message and the int style only (see WireCodec.partCacheKey). */
  readonly partCacheKey: string;
  readonly #maxPacketBytes: number;
  readonly #maxStreamBytes: number;
  readonly #maxParts: number;
  readonly #maxEntries: number;
  readonly #nonceSource: NonceSource | undefined;
  /** "host:port" → the protocol max that peer announced (alive messages and push-pull states). */
  readonly #peerProtocolMax = new Map<string, number>();
  readonly #streamContext: StreamReadContext;
  /** Where #push writes message sizes during one decodePacket call (undefined otherwise). */
  #sizes: PartSizes | undefined;

  constructor(options: MemberlistCodecOptions = {}) {
    this.label = options.label ?? '';
    this.#labelBytes = utf8.encode(this.label);
    if (this.#labelBytes.length > 255) throw new InvalidArgumentError(`label is ${this.#labelBytes.length} UTF-8 bytes; at most 255`);
    this.#labelHeader = this.#labelBytes.length === 0 ? EMPTY : Uint8Array.of(MsgType.hasLabel, this.#labelBytes.length, ...this.#labelBytes);
    this.#skipInboundLabelCheck = options.skipInboundLabelCheck ?? false;
    this.keyring = options.keyring;
    this.#verifyIncoming = options.gossipVerifyIncoming ?? true;
    this.#verifyOutgoing = options.gossipVerifyOutgoing ?? true;
    this.enableCompression = options.enableCompression ?? false;
    const pv = options.protocolVersion ?? 2;
    this.#encryptionVersion = pv < 2 ? 0 : 1;
    this.#intStyle = options.intStyle ?? 'unsigned';
    this.partCacheKey = `memberlist/${this.#intStyle}`;
    this.#maxPacketBytes = options.maxPacketBytes ?? 65_507;
    this.#maxStreamBytes = options.maxStreamBytes ?? 20 * 1024 * 1024;
    this.#maxParts = options.maxParts ?? 4096;
    this.#maxEntries = options.maxPushPullEntries ?? 1024 * 1024;
    this.#nonceSource = options.nonceSource;
    // Budgets must hold for every packet: the compound header, the label, the largest encryption
    // overhead when a keyring exists, and a CRC (which memberlist itself forgets to count).
    const crypto = this.keyring !== undefined ? (this.#encryptionVersion === 0 ? ENCRYPT_V0_MAX_OVERHEAD : ENCRYPT_V1_OVERHEAD) : 0;
    this.packetOverhead = 2 + this.#labelHeader.length + crypto + CRC_OVERHEAD;
    const keys = (): readonly InstalledKey[] => this.keyring?.installed() ?? [];
    this.#streamContext = {
      labelBytes: this.#labelBytes,
      skipInboundLabelCheck: this.#skipInboundLabelCheck,
      keys,
      verifyIncoming: this.#verifyIncoming,
      maxStreamBytes: this.#maxStreamBytes,
      maxDecompressedBytes: 2 * this.#maxStreamBytes,
      maxEntries: this.#maxEntries,
      maxPayloadBytes: this.#maxStreamBytes,
      observe: (m) => this.#observe(m),
    };
    this.streamFraming = {
      encodeRequest: (m) => this.#withLabel(this.encodeStreamMessage(m)),
      encodeResponse: (m) => this.encodeStreamMessage(m),
      reader: (role): StreamReader => new MemberlistStreamReader(this.#streamContext, role),
    };
  }

  // ───── parts and packets ─────

  /** [type][body]; empty for what the memberlist wire cannot carry (the packet then leaves it out). */
  encodePart(message: WireMessageInput): Uint8Array {
    return encodePacketMessage(message, { intStyle: this.#intStyle }) ?? EMPTY;
  }

  partSize(partLength: number): number {
    return partLength + 2;
  }

  partKind(part: Uint8Array): WireMessageKind | undefined {
    return part.length === 0 ? undefined : PART_KINDS[part[0] as number];
  }

  /** The protocol max a peer announced, or undefined when we have not heard it. */
  peerProtocolMax(host: string, port: number): number | undefined {
    return this.#peerProtocolMax.get(`${host}:${port}`);
  }

  encodePacket(messages: readonly WireMessageInput[], parts: readonly Uint8Array[] = [], to?: PacketDestination, sizes?: PartSizes): Uint8Array {
    const all: Uint8Array[] = [];
    for (const m of messages) {
      const p = this.encodePart(m);
      if (p.length > 0) all.push(p);
      sizes?.push(p.length);
    }
    for (const p of parts) {
      if (p.length > 0) all.push(p);
      sizes?.push(p.length);
    }
    let msg = all.length === 1 ? (all[0] as Uint8Array) : compound(all);
    if (this.enableCompression) {
      const c = encodeCompress(lzwCompress(msg));
      if (c.length < msg.length) msg = c;
    }
    // memberlist adds the CRC only for a peer it knows speaks protocol 5 (net.go rawSendMsgPacket).
    if (to !== undefined && (this.peerProtocolMax(to.host, to.port) ?? 0) >= 5) {
      const out = new Uint8Array(CRC_OVERHEAD + msg.length);
      out[0] = MsgType.hasCrc;
      new DataView(out.buffer).setUint32(1, crc32(msg), false);
      out.set(msg, CRC_OVERHEAD);
      msg = out;
    }
    const primary = this.#verifyOutgoing ? this.keyring?.installed()[0] : undefined;
    if (primary !== undefined) msg = encryptPayload(this.#encryptionVersion, primary, msg, this.#labelBytes, this.#nonceSource);
    return this.#withLabel(msg);
  }

  decodePacket(buf: Uint8Array, sizes?: PartSizes): DecodeResult<WireMessage[]> {
    if (buf.length > this.#maxPacketBytes) return { ok: false, reason: 'too-large', detail: `${buf.length} bytes` };
    if (buf.length === 0) return { ok: false, reason: 'empty' };
    let body = buf;
    // 1. Label (label.go RemoveLabelHeaderFromPacket).
    if (body[0] === MsgType.hasLabel) {
      if (body.length < 2) return { ok: false, reason: 'malformed', detail: 'truncated label header' };
      const n = body[1] as number;
      if (n === 0) return { ok: false, reason: 'malformed', detail: 'label header cannot be empty when present' };
      if (body.length < 2 + n) return { ok: false, reason: 'malformed', detail: 'truncated label header' };
      if (this.#skipInboundLabelCheck) return { ok: false, reason: 'label-mismatch', detail: 'unexpected double packet label header' };
      if (!bytesEqual(body.subarray(2, 2 + n), this.#labelBytes)) {
        return { ok: false, reason: 'label-mismatch', detail: 'discarding packet with unacceptable label' };
      }
      body = body.subarray(2 + n);
    } else if (!this.#skipInboundLabelCheck && this.#labelBytes.length > 0) {
      return { ok: false, reason: 'label-mismatch', detail: 'discarding packet without a label' };
    }
    // 2. Encryption: with gossipVerifyIncoming off, what does not decrypt is read as plaintext.
    const keys = this.keyring?.installed() ?? [];
    if (keys.length > 0) {
      const d = decryptPayload(keys, body, this.#labelBytes);
      if (d.ok) body = d.plaintext;
      else if (this.#verifyIncoming) return { ok: false, reason: 'decrypt-failed', detail: d.detail };
    }
    // 3. CRC, at the top level only.
    if (body.length >= CRC_OVERHEAD && body[0] === MsgType.hasCrc) {
      const expected = new DataView(body.buffer, body.byteOffset + 1, 4).getUint32(0, false);
      body = body.subarray(CRC_OVERHEAD);
      if (crc32(body) !== expected) return { ok: false, reason: 'bad-checksum', detail: 'invalid checksum for UDP packet' };
    }
    // 4. The messages (net.go handleCommand, recursive through compounds and compression).
    const out: WireMessage[] = [];
    this.#sizes = sizes;
    try {
      this.#command(body, out, 0);
    } catch (err) {
      if (err instanceof PacketFailure) return { ok: false, reason: err.reason, detail: err.message };
      if (err instanceof MsgpackIncomplete) return { ok: false, reason: 'malformed', detail: 'truncated message' };
      return { ok: false, reason: 'malformed', detail: err instanceof Error ? err.message : String(err) };
    } finally {
      this.#sizes = undefined;
    }
    for (const m of out) this.#observe(m);
    return { ok: true, value: out };
  }

  #command(buf: Uint8Array, out: WireMessage[], depth: number): void {
    if (buf.length === 0) throw new PacketFailure('empty', 'missing message type byte');
    if (depth > MAX_NESTING) throw new PacketFailure('malformed', 'messages nested too deeply');
    const type = buf[0] as number;
    switch (type) {
      case MsgType.compound: {
        if (buf.length < 2) throw new PacketFailure('malformed', 'missing compound length byte');
        const n = buf[1] as number;
        let offset = 2 + 2 * n;
        if (buf.length < offset) throw new PacketFailure('malformed', 'truncated len slice');
        for (let i = 0; i < n; i++) {
          const len = ((buf[2 + 2 * i] as number) << 8) | (buf[3 + 2 * i] as number);
          // memberlist keeps the parts before a truncated one ("Compound request had %d truncated
          // messages") rather than refusing the packet.
          if (offset + len > buf.length) break;
          this.#command(buf.subarray(offset, offset + len), out, depth + 1);
          offset += len;
        }
        return;
      }
      case MsgType.compress: {
        const v = new MsgpackReader(buf, 1).value();
        const c = decodeCompress(v);
        if (c.algo !== 0) throw new PacketFailure('malformed', `cannot decompress unknown algorithm ${c.algo}`);
        const r = lzwDecompress(c.buf, this.#maxPacketBytes);
        if (!r.ok) {
          throw new PacketFailure(r.reason === 'too-large' ? 'decompress-limit' : 'malformed', `failed to decompress payload: ${r.reason}`);
        }
        this.#command(r.value, out, depth + 1);
        return;
      }
      case MsgType.user:
        this.#push(out, userMessage(buf.slice(1)), buf.length);
        return;
      case MsgType.ping:
      case MsgType.indirectPing:
      case MsgType.ackResp:
      case MsgType.suspect:
      case MsgType.alive:
      case MsgType.dead:
      case MsgType.nackResp:
      case MsgType.err:
        this.#push(out, decodeStruct(type, new MsgpackReader(buf, 1).value()), buf.length);
        return;
      default:
        throw new PacketFailure('unknown-frame', `msg type (${type}) not supported`);
    }
  }

  #push(out: WireMessage[], m: WireMessage, size: number): void {
    if (out.length >= this.#maxParts) throw new PacketFailure('too-many-parts', `more than ${this.#maxParts} messages`);
    out.push(m);
    this.#sizes?.push(size);
  }

  /** Remembers the protocol max of every peer that announces itself, for CRC gating. */
  #observe(m: WireMessage): void {
    if (m.alive) this.#note(m.alive.ipv4, m.alive.ipv6, m.alive.port, m.alive.protocolMax);
    else if (m.pushPull) for (const s of m.pushPull.states ?? []) this.#note(s.ipv4, s.ipv6, s.port, s.protocolMax);
  }

  #note(ipv4: number | null | undefined, ipv6: Uint8Array | null | undefined, port: number | null | undefined, pmax: number | null | undefined): void {
    const host = fromWireAddress(ipv4, ipv6);
    if (host === undefined || !port) return;
    this.#remember(host, port, pmax ?? 0);
  }

  /**
   * The membership actor's view of a member (memberlist reads PMax from its nodeMap, which push-pulls
   * fill too, not only the alives this codec happens to decode). A member that left is kept: its
   * address may still answer, and the map is bounded.
   */
  notePeer(_name: string, peer: PacketDestination | undefined, protocolMax: number): void {
    if (peer !== undefined) this.#remember(peer.host, peer.port, protocolMax);
  }

  #remember(host: string, port: number, value: number): void {
    const key = `${host}:${port}`;
    if (this.#peerProtocolMax.get(key) === value) return;
    this.#peerProtocolMax.delete(key);
    if (this.#peerProtocolMax.size >= MAX_KNOWN_PEERS) {
      const oldest = this.#peerProtocolMax.keys().next().value;
      if (oldest !== undefined) this.#peerProtocolMax.delete(oldest);
    }
    this.#peerProtocolMax.set(key, value);
  }

  // ───── streams ─────

  /**
   * One stream message as memberlist's rawSendMsgStream writes it, without the label header (only a
   * dialled stream starts with it: streamFraming.encodeRequest). Compression is applied always when
   * enabled, even when larger, as memberlist does on streams.
   */
  encodeStreamMessage(message: WireMessageInput): Uint8Array {
    let body = encodeStreamBody(message, { intStyle: this.#intStyle });
    if (body === undefined) throw new InvalidArgumentError('the memberlist wire cannot carry this message on a stream');
    if (this.enableCompression) body = encodeCompress(lzwCompress(body));
    const primary = this.#verifyOutgoing ? this.keyring?.installed()[0] : undefined;
    if (primary === undefined) return body;
    const len = encryptedLength(this.#encryptionVersion, body.length);
    const header = new Uint8Array(5);
    header[0] = MsgType.encrypt;
    new DataView(header.buffer).setUint32(1, len, false);
    const aad = new Uint8Array(5 + this.#labelBytes.length);
    aad.set(header);
    aad.set(this.#labelBytes, 5);
    const sealed = encryptPayload(this.#encryptionVersion, primary, body, aad, this.#nonceSource);
    const out = new Uint8Array(5 + sealed.length);
    out.set(header);
    out.set(sealed, 5);
    return out;
  }

  /** Decodes one whole reply (no label header) as a stream reader would. */
  decodeStreamMessage(buf: Uint8Array): DecodeResult<WireMessage> {
    const r = this.decodeStreamFrame(buf);
    return r.ok ? { ok: true, value: r.value.message } : r;
  }

  decodeStreamFrame(buf: Uint8Array): DecodeResult<StreamFrame> {
    const r = this.#readWhole(buf, 'response');
    if (!r.ok) return r;
    const message = r.value.message;
    if (message === undefined) return { ok: false, reason: 'malformed', detail: 'no message' };
    return { ok: true, value: { message, frame: r.value.frame } };
  }

  /** Decodes one whole request as it arrives on an accepted stream (label header included). */
  decodeStreamRequest(buf: Uint8Array): DecodeResult<LazyStreamFrame> {
    return this.#readWhole(buf, 'request');
  }

  #readWhole(buf: Uint8Array, role: 'request' | 'response'): DecodeResult<LazyStreamFrame> {
    if (buf.length === 0) return { ok: false, reason: 'empty' };
    const r = new MemberlistStreamReader(this.#streamContext, role).push(buf);
    return r ?? { ok: false, reason: 'malformed', detail: 'truncated stream message' };
  }

  #withLabel(msg: Uint8Array): Uint8Array {
    if (this.#labelHeader.length === 0) return msg;
    const out = new Uint8Array(this.#labelHeader.length + msg.length);
    out.set(this.#labelHeader);
    out.set(msg, this.#labelHeader.length);
    return out;
  }
}

/**
 * [7][n][n × u16 BE length][parts]. More than 255 parts become compounds of compounds (a Go receiver
 * handles a compound inside a compound), instead of 0.2.2's wrapped count byte (#239).
 */
export function compound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) {
    const groups: Uint8Array[] = [];
    for (let i = 0; i < parts.length; i += MAX_COMPOUND_PARTS) groups.push(compound(parts.slice(i, i + MAX_COMPOUND_PARTS)));
    return compound(groups);
  }
  let size = 2 + 2 * parts.length;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  out[0] = MsgType.compound;
  out[1] = parts.length;
  let pos = 2 + 2 * parts.length;
  parts.forEach((p, i) => {
    out[2 + 2 * i] = p.length >>> 8;
    out[3 + 2 * i] = p.length & 0xff;
    out.set(p, pos);
    pos += p.length;
  });
  return out;
}
