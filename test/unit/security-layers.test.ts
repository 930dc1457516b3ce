/**
 * The outer layers of packets and stream frames (src/codec/layers.ts) and LayeredCodec: labels,
 * encryption with rollout switches, checksums, compression and its limits, and the overhead the gossip
 * budget relies on.
 */
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CRC_OVERHEAD,
  ENCRYPTED_OVERHEAD,
  FRAME_COMPRESSED,
  FRAME_CRC32,
  FRAME_ENCRYPTED,
  FRAME_LABEL,
  FrameLayers,
  LayeredCodec,
  type LayeredCodecOptions,
} from '../../src/codec/layers.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import type { DecodeResult, WireMessageInput } from '../../src/codec/wire-codec.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { wire } from '../../src/gen/index.js';
import { Keyring } from '../../src/security/keyring.js';

const K1 = new Uint8Array(16).fill(1);
const K2 = new Uint8Array(32).fill(2);
const K3 = new Uint8Array(24).fill(3);

const ping: WireMessageInput = { ping: { seqNo: 7, node: 'b', sourceNode: 'a', sourcePort: 7946, sourceIpv4: 0x7f000001 } };
const bigAlive = (i: number): WireMessageInput => ({
  alive: { incarnation: i, node: `node-${i}`, port: 7946, ipv4: 0x0a000000 + i, meta: new TextEncoder().encode('zone=eu-west-1a;rack=r12;'.repeat(4)) },
});

function reason<T>(r: DecodeResult<T>): string {
  return r.ok ? 'ok' : r.reason;
}

function codec(options: LayeredCodecOptions = {}): LayeredCodec {
  return new LayeredCodec(options);
}

function firstSeq(r: DecodeResult<wire.Message[]>): number | undefined {
  return r.ok ? (r.value[0]?.ping?.seqNo ?? undefined) : undefined;
}

describe('LayeredCodec without layers', () => {
  it('is byte-identical to ProtobufCodec except for the checksum, which it verifies', () => {
    const plain = codec({ checksum: false });
    const inner = new ProtobufCodec();
    expect(plain.encodePacket([ping])).toEqual(inner.encodePacket([ping]));
    expect(plain.packetOverhead).toBe(inner.packetOverhead);
    const checked = codec();
    const buf = checked.encodePacket([ping]);
    expect(buf[0]).toBe(FRAME_CRC32);
    expect(buf.length).toBe(inner.encodePacket([ping]).length + CRC_OVERHEAD);
    expect(checked.packetOverhead).toBe(1 + CRC_OVERHEAD);
    // Both accept each other: the checksum is verified when present, not required.
    expect(firstSeq(plain.decodePacket(buf))).toBe(7);
    expect(firstSeq(checked.decodePacket(inner.encodePacket([ping])))).toBe(7);
  });

  it('stream messages round trip through the layers', () => {
    const c = codec({ label: 'prod', keyring: new Keyring([K1]), enableCompression: true });
    const msg: WireMessageInput = { pushPull: { header: { nodes: 50, join: true }, states: Array.from({ length: 50 }, (_, i) => bigAlive(i).alive as wire.PushNodeState.$Properties) } };
    const buf = c.encodeStreamMessage(msg);
    const r = c.decodeStreamMessage(buf);
    expect(r.ok && r.value.pushPull?.states?.length).toBe(50);
  });
});

describe('labels', () => {
  it('prefixes [FRAME_LABEL][len][label] and accepts only the same label', () => {
    const prod = codec({ label: 'prod' });
    const buf = prod.encodePacket([ping]);
    expect([...buf.subarray(0, 6)]).toEqual([FRAME_LABEL, 4, ...new TextEncoder().encode('prod')]);
    expect(prod.packetOverhead).toBe(1 + 6 + CRC_OVERHEAD);
    expect(firstSeq(prod.decodePacket(buf))).toBe(7);
    const staging = codec({ label: 'staging' });
    const r = staging.decodePacket(buf);
    expect(r).toMatchObject({ ok: false, reason: 'label-mismatch' });
    expect(!r.ok && r.detail).toBe('packet label "prod", ours "staging"');
  });

  it('a labeled node drops unlabeled traffic and an unlabeled node drops labeled traffic', () => {
    const labeled = codec({ label: 'prod' });
    const unlabeled = codec();
    expect(reason(labeled.decodePacket(unlabeled.encodePacket([ping])))).toBe('label-mismatch');
    expect(reason(unlabeled.decodePacket(labeled.encodePacket([ping])))).toBe('label-mismatch');
    expect(reason(labeled.decodeStreamMessage(unlabeled.encodeStreamMessage(ping)))).toBe('label-mismatch');
    expect(reason(unlabeled.decodeStreamMessage(labeled.encodeStreamMessage(ping)))).toBe('label-mismatch');
  });

  it('skipInboundLabelCheck accepts unlabeled traffic as ours and refuses any label, even our own', () => {
    const skip = codec({ label: 'prod', skipInboundLabelCheck: true });
    expect(firstSeq(skip.decodePacket(codec().encodePacket([ping])))).toBe(7);
    expect(reason(skip.decodePacket(codec({ label: 'prod' }).encodePacket([ping])))).toBe('label-mismatch');
    expect(reason(skip.decodePacket(codec({ label: 'other' }).encodePacket([ping])))).toBe('label-mismatch');
    // The label is still the encryption's additional data: a proxy that strips it keeps packets valid.
    const ring = new Keyring([K1]);
    const sender = new FrameLayers({ label: 'prod', keyring: ring });
    const stripped = sender.seal(new ProtobufCodec().encodePacket([ping]), 'packet').subarray(2 + 4);
    expect(firstSeq(codec({ label: 'prod', skipInboundLabelCheck: true, keyring: ring }).decodePacket(stripped))).toBe(7);
    expect(reason(codec({ label: 'other', skipInboundLabelCheck: true, keyring: ring }).decodePacket(stripped))).toBe('decrypt-failed');
  });

  it('empty or truncated label headers are malformed; labels over 255 bytes are refused', () => {
    const c = codec({ label: 'prod' });
    expect(reason(c.decodePacket(new Uint8Array([FRAME_LABEL])))).toBe('malformed');
    expect(reason(c.decodePacket(new Uint8Array([FRAME_LABEL, 0, 1])))).toBe('malformed');
    expect(reason(c.decodePacket(new Uint8Array([FRAME_LABEL, 9, 1, 2])))).toBe('malformed');
    expect(reason(c.decodePacket(new Uint8Array([FRAME_LABEL, 4, ...new TextEncoder().encode('prod')])))).toBe('empty');
    expect(() => codec({ label: 'é'.repeat(128) })).toThrow(InvalidArgumentError);
    expect(() => codec({ label: 'x'.repeat(255) })).not.toThrow();
  });
});

describe('encryption', () => {
  it('every packet and stream frame is sealed with the primary key; the other side decrypts with any key', () => {
    const a = codec({ keyring: new Keyring([K1]) });
    const b = codec({ keyring: new Keyring([K2, K1]) });
    const buf = a.encodePacket([ping]);
    expect(buf[0]).toBe(FRAME_ENCRYPTED);
    expect(a.packetOverhead).toBe(1 + ENCRYPTED_OVERHEAD);
    expect(Buffer.from(buf).includes(Buffer.from('sourceNode'))).toBe(false);
    expect(firstSeq(b.decodePacket(buf))).toBe(7);
    expect(reason(a.decodePacket(b.encodePacket([ping])))).toBe('decrypt-failed');
    const frame = a.encodeStreamMessage(ping);
    expect(frame[0]).toBe(FRAME_ENCRYPTED);
    expect(b.decodeStreamMessage(frame).ok).toBe(true);
  });

  it('a wrong key, a tampered byte, plaintext while verifying, and ciphertext without keys are refused', () => {
    const a = codec({ keyring: new Keyring([K1]), label: 'x' });
    const wrong = codec({ keyring: new Keyring([K3]), label: 'x' });
    const buf = a.encodePacket([ping]);
    expect(reason(wrong.decodePacket(buf))).toBe('decrypt-failed');
    for (let i = 3; i < buf.length; i++) {
      const t = new Uint8Array(buf);
      t[i] = (t[i] as number) ^ 0x40;
      expect(reason(a.decodePacket(t))).not.toBe('ok');
    }
    const r = a.decodePacket(codec({ label: 'x' }).encodePacket([ping]));
    expect(r).toMatchObject({ ok: false, reason: 'decrypt-failed', detail: 'packet is not encrypted (gossipVerifyIncoming)' });
    expect(reason(codec({ label: 'x' }).decodePacket(buf))).toBe('decrypt-failed');
    expect(reason(codec({ label: 'x', keyring: new Keyring() }).decodePacket(buf))).toBe('decrypt-failed');
  });

  it('a packet sealed for packets is not accepted as a stream frame (domain-separated AAD)', () => {
    const ring = new Keyring([K1]);
    const layers = new FrameLayers({ keyring: ring });
    const inner = new ProtobufCodec().encodeStreamMessage(ping);
    const asPacket = layers.seal(inner, 'packet');
    expect(reason(layers.open(asPacket, 'stream'))).toBe('decrypt-failed');
    expect(layers.open(asPacket, 'packet').ok).toBe(true);
  });

  it('rolling enablement: outgoing/incoming switches as memberlist does it', () => {
    const plainNode = codec();
    // Step 1: the key is installed everywhere, nobody encrypts or requires it yet.
    const step1 = codec({ keyring: new Keyring([K1]), gossipVerifyIncoming: false, gossipVerifyOutgoing: false });
    expect(step1.encodePacket([ping])[0]).toBe(FRAME_CRC32);
    expect(step1.decodePacket(plainNode.encodePacket([ping])).ok).toBe(true);
    // Step 2: everyone encrypts, plaintext still accepted.
    const step2 = codec({ keyring: new Keyring([K1]), gossipVerifyIncoming: false, gossipVerifyOutgoing: true });
    expect(step1.decodePacket(step2.encodePacket([ping])).ok).toBe(true);
    expect(step2.decodePacket(step1.encodePacket([ping])).ok).toBe(true);
    // Step 3: everyone requires it.
    const step3 = codec({ keyring: new Keyring([K1]) });
    expect(step3.decodePacket(step2.encodePacket([ping])).ok).toBe(true);
    expect(reason(step3.decodePacket(step1.encodePacket([ping])))).toBe('decrypt-failed');
    // The same switches at run time.
    step1.layers.setGossipVerify({ outgoing: true });
    expect(step1.encodePacket([ping])[0]).toBe(FRAME_ENCRYPTED);
    step1.layers.setGossipVerify({ incoming: true });
    expect(reason(step1.decodePacket(plainNode.encodePacket([ping])))).toBe('decrypt-failed');
  });

  it('zero-downtime rotation at the codec level: install, use, remove, with traffic both ways at every step', () => {
    const rings = [new Keyring([K1]), new Keyring([K1]), new Keyring([K1])];
    const codecs = rings.map((keyring) => codec({ keyring, label: 'c' }));
    const allTalk = (): void => {
      for (const a of codecs) for (const b of codecs) expect(firstSeq(b.decodePacket(a.encodePacket([ping])))).toBe(7);
    };
    allTalk();
    for (const r of rings) {
      r.install(K2);
      allTalk();
    }
    for (const r of rings) {
      r.use(K2);
      allTalk(); // half switched: each side still holds the other's primary
    }
    for (const r of rings) {
      r.remove(K1);
      allTalk();
    }
    // A node that only holds the old key is now out.
    expect(reason(codecs[0]!.decodePacket(codec({ keyring: new Keyring([K1]), label: 'c' }).encodePacket([ping])))).toBe('decrypt-failed');
  });
});

describe('checksum', () => {
  it('detects any single-byte corruption of an unencrypted packet (property)', () => {
    const c = codec({ label: 'prod' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (seq, at, xor) => {
        const buf = c.encodePacket([{ ping: { seqNo: seq, node: 'target', sourceNode: 'me' } }]);
        const i = at % buf.length;
        const t = new Uint8Array(buf);
        t[i] = (t[i] as number) ^ xor;
        const r = c.decodePacket(t);
        // Whatever byte is hit (label, checksum, body), the packet never decodes as valid.
        expect(r.ok).toBe(false);
        if (i >= 6 + CRC_OVERHEAD || (i > 6 && i < 6 + CRC_OVERHEAD)) expect(reason(r)).toBe('bad-checksum');
      }),
      { seed: 5, numRuns: 500 },
    );
  });
});

describe('compression', () => {
  const many = Array.from({ length: 10 }, (_, i) => bigAlive(i));

  it('compresses only above the threshold and only when smaller', () => {
    const c = codec({ enableCompression: true, checksum: false });
    const inner = new ProtobufCodec();
    expect(c.encodePacket([ping])).toEqual(inner.encodePacket([ping])); // below 256 bytes: untouched
    const big = c.encodePacket(many);
    expect(big[0]).toBe(FRAME_COMPRESSED);
    expect(big.length).toBeLessThan(inner.encodePacket(many).length);
    const r = c.decodePacket(big);
    expect(r.ok && r.value.map((m) => m.alive?.node)).toEqual(many.map((m) => m.alive?.node));
    // Incompressible: random meta of 1 KB is left as it is.
    const noise = { alive: { node: 'n', meta: new Uint8Array(Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 24)) } };
    const rnd = c.encodePacket([noise]);
    const plain = inner.encodePacket([noise]);
    expect(rnd[0] === FRAME_COMPRESSED ? rnd.length < plain.length : rnd.length === plain.length).toBe(true);
    // Disabled: never compressed, but still accepted from others.
    const off = codec({ checksum: false });
    expect(off.encodePacket(many)).toEqual(inner.encodePacket(many));
    expect(off.decodePacket(big).ok).toBe(true);
  });

  it('is negotiated by protocol version: a member that announced a protocol max below 5 gets it plain', () => {
    const c = codec({ enableCompression: true, checksum: false });
    const old = { host: '10.0.0.9', port: 7946 };
    const current = { host: '10.0.0.10', port: 7946 };
    const sameHostAsOld = { host: '10.0.0.9', port: 7947 };
    const compressed = (buf: Uint8Array): boolean => buf[0] === FRAME_COMPRESSED;
    const pushPull: WireMessageInput = { pushPull: { header: { nodes: 10 }, states: many.map((m) => ({ name: m.alive?.node, meta: m.alive?.meta })) } };
    c.notePeer('old', old, 4);
    c.notePeer('current', current, 5);
    c.notePeer('unannounced', sameHostAsOld, 0); // 0: never announced, taken as current (memberlist)
    expect(compressed(c.encodePacket(many, [], old))).toBe(false);
    expect(compressed(c.encodePacket(many, [], current))).toBe(true);
    expect(compressed(c.encodePacket(many, [], sameHostAsOld))).toBe(true);
    expect(compressed(c.encodePacket(many, [], { host: '10.0.0.11', port: 1 }))).toBe(true); // never heard of
    // Streams we dial: by endpoint. Replies: by the requester's host (its port is ephemeral).
    expect(compressed(c.encodeStreamMessage(pushPull, old))).toBe(false);
    expect(compressed(c.encodeStreamMessage(pushPull, sameHostAsOld))).toBe(true);
    expect(compressed(c.encodeStreamMessage(pushPull, { host: old.host }))).toBe(false);
    expect(compressed(c.encodeStreamMessage(pushPull, { host: current.host }))).toBe(true);
    // What the old member sends, compressed or not, is still read; plain frames decode everywhere.
    expect(c.decodePacket(c.encodePacket(many, [], old)).ok).toBe(true);
    // It upgrades (a new alive announcing 5), then leaves the table: compressed again both times.
    c.notePeer('old', old, 5);
    expect(compressed(c.encodePacket(many, [], old))).toBe(true);
    c.notePeer('old', old, 4);
    c.notePeer('old', undefined, 0);
    expect(compressed(c.encodePacket(many, [], old))).toBe(true);
    expect(compressed(c.encodeStreamMessage(pushPull, { host: old.host }))).toBe(true);
    // It moves to another address while behind: the old endpoint is freed, the new one is plain.
    c.notePeer('old', old, 4);
    c.notePeer('old', current, 4);
    expect(compressed(c.encodePacket(many, [], old))).toBe(true);
    expect(compressed(c.encodePacket(many, [], current))).toBe(false);
  });

  it('composes with the checksum and encryption (compress, then CRC or encrypt, then label)', () => {
    const ring = new Keyring([K2]);
    for (const options of [{ label: 'L' }, { label: 'L', keyring: ring }] as LayeredCodecOptions[]) {
      const c = codec({ ...options, enableCompression: true });
      const buf = c.encodePacket(many);
      expect(buf.length).toBeLessThan(new ProtobufCodec().encodePacket(many).length);
      expect(c.decodePacket(buf).ok).toBe(true);
    }
    const layers = new FrameLayers({ enableCompression: true });
    const sealed = layers.seal(new ProtobufCodec().encodePacket(many), 'packet');
    expect([sealed[0], sealed[5]]).toEqual([FRAME_CRC32, FRAME_COMPRESSED]);
  });

  it('refuses a decompression bomb before inflating it, and one that lies about its size while inflating', () => {
    const layers = new FrameLayers({ maxPacketBytes: 65_507, maxStreamFrameBytes: 1_000_000, checksum: false });
    const zeros = new Uint8Array(50_000_000);
    const deflated = deflateRawSync(zeros);
    const frame = (declared: number[]): Uint8Array => new Uint8Array([FRAME_COMPRESSED, ...declared, ...deflated]);
    // Declares 50 MB (varint): refused from the header.
    const declares50M = [0x80 | (50_000_000 & 0x7f), 0x80 | ((50_000_000 >>> 7) & 0x7f), 0x80 | ((50_000_000 >>> 14) & 0x7f), 50_000_000 >>> 21];
    const before = process.memoryUsage().arrayBuffers;
    expect(layers.open(frame(declares50M), 'stream')).toMatchObject({ ok: false, reason: 'decompress-limit' });
    // Declares 60 000 bytes (within the packet limit) but holds 50 MB: inflation stops at 60 000.
    const r = layers.open(frame([0xe0, 0xd4, 0x03]), 'packet');
    expect(r).toMatchObject({ ok: false, reason: 'decompress-limit' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10_000_000);
    // A packet limit applies to packets, the stream limit to streams.
    const mid = deflateRawSync(new Uint8Array(100_000));
    const declares100k = [0xa0, 0x8d, 0x06];
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, ...declares100k, ...mid]), 'packet'))).toBe('decompress-limit');
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, ...declares100k, ...mid]), 'stream'))).toBe('ok');
  });

  it('bad compressed bodies are malformed, never thrown', () => {
    const layers = new FrameLayers();
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED]), 'packet'))).toBe('malformed');
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, 0]), 'packet'))).toBe('malformed');
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, 0xff, 0xff, 0xff, 0xff, 0xff, 1]), 'packet'))).toBe('malformed');
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, 10, 1, 2, 3]), 'packet'))).toBe('malformed');
    const short = deflateRawSync(new Uint8Array(5));
    expect(reason(layers.open(new Uint8Array([FRAME_COMPRESSED, 10, ...short]), 'packet'))).toBe('malformed');
  });
});

describe('overhead and limits', () => {
  it('a packet filled to the gossip budget stays within udpBufferSize with the largest label and encryption', () => {
    const udpBufferSize = 1400;
    // Compression off: the worst case (compression only ever shrinks a packet).
    const c = codec({ label: 'L'.repeat(255), keyring: new Keyring([K2]) });
    const parts: Uint8Array[] = [];
    let budget = udpBufferSize - c.packetOverhead;
    for (let i = 0; ; i++) {
      const part = c.encodePart(bigAlive(i));
      if (c.partSize(part.length) > budget) break;
      budget -= c.partSize(part.length);
      parts.push(part);
    }
    const buf = c.encodePacket([], parts);
    expect(buf.length).toBeLessThanOrEqual(udpBufferSize);
    expect(buf.length).toBeGreaterThan(udpBufferSize - 200);
    expect(c.packetOverhead).toBe(1 + 257 + ENCRYPTED_OVERHEAD);
  });

  it('a keyring given empty still reserves the encryption overhead (keys may be installed later)', () => {
    const ring = new Keyring();
    const c = codec({ keyring: ring });
    expect(c.packetOverhead).toBe(1 + ENCRYPTED_OVERHEAD);
    expect(c.encodePacket([ping])[0]).toBe(FRAME_CRC32);
    ring.install(K1);
    expect(c.encodePacket([ping])[0]).toBe(FRAME_ENCRYPTED);
  });

  it('packets over maxPacketBytes are refused before any layer runs', () => {
    const c = codec({ maxPacketBytes: 100 });
    expect(reason(c.decodePacket(new Uint8Array(101)))).toBe('too-large');
  });

  it('compound parts are counted on the bytes before decoding', () => {
    const c = codec({ maxParts: 10, checksum: false });
    const tiny = new ProtobufCodec().encodePart({ nack: { seqNo: 1 } });
    const eleven = new ProtobufCodec().encodePacket([], Array.from({ length: 11 }, () => tiny));
    expect(c.decodePacket(eleven)).toMatchObject({ ok: false, reason: 'too-many-parts' });
    const ten = new ProtobufCodec().encodePacket([], Array.from({ length: 10 }, () => tiny));
    expect(c.decodePacket(ten).ok).toBe(true);
    // Broken length prefixes are malformed without reaching protobufjs.
    expect(reason(c.decodePacket(new Uint8Array([1, 0x0a, 0x7f, 1])))).toBe('malformed');
  });

  it('push-pull entries are counted on the bytes before decoding when maxPushPullEntries is set', () => {
    const c = codec({ maxPushPullEntries: 5 });
    const pp = (n: number): WireMessageInput => ({
      pushPull: { header: { nodes: n }, states: Array.from({ length: n }, (_, i) => ({ name: `n${i}`, incarnation: 1 })) },
    });
    expect(c.decodeStreamMessage(c.encodeStreamMessage(pp(5))).ok).toBe(true);
    expect(c.decodeStreamMessage(c.encodeStreamMessage(pp(6)))).toMatchObject({ ok: false, reason: 'too-many-entries' });
    expect(codec().decodeStreamMessage(c.encodeStreamMessage(pp(600))).ok).toBe(true);
  });
});
