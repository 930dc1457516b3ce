/**
 * Byte-exact tests of the memberlist wire codec against every vector of reference §2.9 (produced by
 * running memberlist 0.2.2 under Go 1.19 + go-msgpack 0.5.5, and HEAD with go-msgpack v2): our
 * encoder writes exactly those bytes, and our decoder reads them back to the same message.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemberlistCodec, compound } from '../../src/codec/memberlist/memberlist-codec.js';
import { encodePacketMessage, encodeStreamBody } from '../../src/codec/memberlist/messages.js';
import { decryptPayload, encryptPayload } from '../../src/codec/memberlist/encryption.js';
import { lzwCompress, lzwDecompress } from '../../src/codec/memberlist/lzw.js';
import { Keyring } from '../../src/security/keyring.js';
import type { WireMessage, WireMessageInput } from '../../src/codec/wire-codec.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const LOCALHOST = 0x7f000001;
const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const fixedNonce = (nonce: Uint8Array): void => {
  for (let i = 0; i < 12; i++) nonce[i] = i + 1;
};
const VSN = { protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 0, delegateMax: 0, delegateCur: 0 };

const V = {
  ping: '0085a44e6f6465a66e6f64652d62a55365714e6f01aa536f7572636541646472a47f000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a',
  pingBare: '0082a44e6f6465a66e6f64652d62a55365714e6f01',
  indirect:
    '0188a44e61636bc3a44e6f6465a66e6f64652d63a4506f7274cd1f0aa55365714e6f02aa536f7572636541646472a47f000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0aa6546172676574a40a000002',
  ackNil: '0282a75061796c6f6164c0a55365714e6f01',
  ack300: '0282a75061796c6f6164a3010203a55365714e6fcd012c',
  nack: '0b81a55365714e6f02',
  err: '0d81a54572726f72a4626f6f6d',
  suspect: '0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62',
  alive: '0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea6010502000000',
  alive16:
    '0486a441646472b000000000000000000000ffff0a000001ab496e6361726e6174696f6ece00011170a44d657461a16da44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea6010502000000',
  dead: '0583a446726f6da66e6f64652d61ab496e6361726e6174696f6e02a44e6f6465a66e6f64652d61',
  ppHdrJoin: '0683a44a6f696ec3a54e6f64657302ac5573657253746174654c656e00',
  ppHdr022: '0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ece00011170',
  ppHdrHead: '0683a44a6f696ec2a54e6f646573d100c8ac5573657253746174654c656ed200011170',
  userHdr022: '0881aa557365724d73674c656ecd012c',
  userHdrHead: '0881aa557365724d73674c656ed1012c',
  nodeState: '87a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e616d65a66e6f64652d61a4506f7274cd1f0aa5537461746500a356736ea6010502000000',
  suspect40: `0383a446726f6da161ab496e6361726e6174696f6e01a44e6f6465da0028${'78'.repeat(40)}`,
  compressHello: '0982a4416c676f00a3427566b200d19461c3e60d0881040d222c787060c180',
  compressEmpty: '0982a4416c676f00a3427566a3000302',
  compressAlive:
    '0982a4416c676f00a3427566da00460009182215840c1939a4fe0000106055123763c2c87113864e9a376e02906a52864e1860a49cbc2153c6949b91655a842105e58d1c3acd3e281865658e1b53010a0858082020',
  crcPing: '0c86148b66',
  encV1:
    '010102030405060708090a0b0c0680cc685c913a635633692080bac866a4baa932ef0bbf0328d75832a5ed082e611891476c396e819933131c92e08813a1fe91f8175d8c89c24cc50b542dbaafb3bb4a86e0c459c83526b8d48b78f3035959fd65c4',
  encV0:
    '000102030405060708090a0b0c0680cc685c913a635633692080bac866a4baa932ef0bbf0328d75832a5ed082e611891476c396e819933131c92e08813a1fe91f8175d8c89c24cc50b542dbaafb3bb4a86e0ec872c0a42ec64824fac0b4056eea831a0f03c4c0cfde72d17d2b1',
  encStreamHello: '0a00000022010102030405060708090a0b0c6e60044a5cd60cf1583345eecba93ab8056e609774',
  pushPull:
    '0683a44a6f696ec3a54e6f64657301ac5573657253746174654c656e0287a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e616d65a66e6f64652d61a4506f7274cd1f0aa5537461746500a356736ea60105020000007573',
  pushPullCompressed:
    '0982a4416c676f00a3427566da006b000d0c22a5e44d1a37c34a397943a6cc9c00acaacc2923670a9d3074ca3029e346c0215241c8909143ea0f00000156257133268c1c3718d3bc7113805493321781917212a64d19536e189669118614943772e834fba0a094458c65008cb232c78da90005049c0450674e40',
};

const M: Record<string, WireMessageInput> = {
  ping: { ping: { seqNo: 1, node: 'node-b', sourceIpv4: LOCALHOST, sourcePort: 7946, sourceNode: 'node-a' } },
  pingBare: { ping: { seqNo: 1, node: 'node-b' } },
  indirect: {
    indirectPing: {
      seqNo: 2,
      targetIpv4: 0x0a000002,
      targetPort: 7946,
      node: 'node-c',
      nack: true,
      sourceIpv4: LOCALHOST,
      sourcePort: 7946,
      sourceNode: 'node-a',
    },
  },
  ackNil: { ack: { seqNo: 1 } },
  ack300: { ack: { seqNo: 300, payload: Uint8Array.of(1, 2, 3) } },
  nack: { nack: { seqNo: 2 } },
  err: { error: { error: 'boom' } },
  suspect: { suspect: { incarnation: 3, node: 'node-b', from: 'node-a' } },
  alive: { alive: { incarnation: 1, node: 'node-a', ipv4: LOCALHOST, port: 7946, ...VSN } },
  alive16: {
    alive: { incarnation: 70000, node: 'node-a', ipv6: hex('00000000000000000000ffff0a000001'), port: 7946, meta: utf8('m'), ...VSN },
  },
  dead: { dead: { incarnation: 2, node: 'node-a', from: 'node-a' } },
  suspect40: { suspect: { incarnation: 1, node: 'x'.repeat(40), from: 'a' } },
};

const plain = (): MemberlistCodec => new MemberlistCodec();

/** The set fields of a decoded message as a plain object (defaults and empty bytes dropped). */
function fields(m: WireMessage | WireMessageInput): Record<string, unknown> {
  const body = Object.entries(m).find(([k, v]) => k !== 'body' && v !== null && v !== undefined && typeof v === 'object');
  if (body === undefined) return {};
  const out: Record<string, unknown> = { kind: body[0] };
  for (const [k, v] of Object.entries(body[1] as object)) {
    if (v === 0 || v === '' || v === false || v === null || v === undefined) continue;
    if (v instanceof Uint8Array) {
      if (v.length > 0) out[k] = toHex(v);
      continue;
    }
    out[k] = v;
  }
  return out;
}

describe('memberlist codec: packet messages (§2.9)', () => {
  for (const name of Object.keys(M)) {
    it(`${name}: encodes to the reference bytes and decodes back`, () => {
      const codec = plain();
      const msg = M[name] as WireMessageInput;
      const bytes = codec.encodePacket([msg]);
      expect(toHex(bytes)).toBe(V[name as keyof typeof V]);
      const decoded = codec.decodePacket(hex(V[name as keyof typeof V]));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      expect(decoded.value).toHaveLength(1);
      expect(fields(decoded.value[0] as WireMessage)).toEqual(fields(msg));
      // And what we decoded encodes to the same bytes again (addresses kept as sent, §13.6).
      expect(toHex(codec.encodePacket(decoded.value))).toBe(V[name as keyof typeof V]);
    });
  }

  it('the typical sizes of §2.9: ping 69, ack 18, alive 62, suspect 39, indirect 95', () => {
    const enc = (m: WireMessageInput): number => (encodePacketMessage(m, { intStyle: 'unsigned' }) as Uint8Array).length;
    expect([enc(M.ping!), enc(M.ackNil!), enc(M.alive!), enc(M.suspect!), enc(M.indirect!)]).toEqual([69, 18, 62, 39, 95]);
  });

  it('a 40-byte name is str16 (da 00 28), never str8', () => {
    expect(toHex(plain().encodePart(M.suspect40!))).toContain('da0028');
    expect(toHex(plain().encodePart(M.suspect40!))).not.toContain('d928');
  });

  it('compound [PING, SUSPECT] is [7][2][69][39][parts], and decodes to both', () => {
    const expected = `07020045${'0027'}${V.ping}${V.suspect}`;
    const codec = plain();
    expect(toHex(codec.encodePacket([M.ping!, M.suspect!]))).toBe(expected);
    // Pre-encoded parts (the gossip actor's piggyback) make the same packet.
    expect(toHex(codec.encodePacket([M.ping!], [codec.encodePart(M.suspect!)]))).toBe(expected);
    const d = codec.decodePacket(hex(expected));
    expect(d.ok && d.value.map((m) => m.body)).toEqual(['ping', 'suspect']);
    // Each message's size for the bytes-by-type counters, both ways: 69 and 39 bytes.
    const sent: number[] = [];
    codec.encodePacket([M.ping!], [codec.encodePart(M.suspect!)], undefined, sent);
    const received: number[] = [];
    codec.decodePacket(hex(expected), received);
    expect(sent).toEqual([69, 39]);
    expect(received).toEqual([69, 39]);
  });

  it('a truncated compound keeps the parts before the truncated one (memberlist semantics)', () => {
    const full = hex(`07020045${'0027'}${V.ping}${V.suspect}`);
    const d = plain().decodePacket(full.subarray(0, full.length - 3));
    expect(d.ok && d.value.map((m) => m.body)).toEqual(['ping']);
  });

  it('more than 255 parts nest as compounds of compounds, and every part comes back', () => {
    const parts = Array.from({ length: 600 }, (_, i) => plain().encodePart({ nack: { seqNo: i } }));
    const packet = compound(parts);
    expect(packet[0]).toBe(7);
    expect(packet[1]).toBe(3);
    const d = plain().decodePacket(packet);
    expect(d.ok && d.value.map((m) => m.nack?.seqNo)).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('a user message on a packet is its raw bytes after the type byte', () => {
    const codec = plain();
    expect(toHex(codec.encodePacket([{ user: { payload: utf8('hi'), from: 'dropped', origin: '' } }]))).toBe('086869');
    const d = codec.decodePacket(hex('086869'));
    expect(d.ok && toHex(d.value[0]!.user!.payload!)).toBe('6869');
  });

  it('messages the memberlist wire cannot carry (key rotation) are left out of the packet', () => {
    const codec = plain();
    expect(codec.encodePart({ keyCommand: { id: 1, origin: 'a', op: 1 } })).toHaveLength(0);
    expect(toHex(codec.encodePacket([M.nack!, { keyAck: { id: 1, node: 'a' } }]))).toBe(V.nack);
  });
});

describe('memberlist codec: push-pull and user headers (§2.9)', () => {
  const state = { name: 'node-a', ipv4: LOCALHOST, port: 7946, incarnation: 1, state: 0, ...VSN };

  it('the pushNodeState and header bytes inside a push-pull stream', () => {
    const body = encodeStreamBody({ pushPull: { header: { join: true }, states: [state, state] } }, { intStyle: 'unsigned' }) as Uint8Array;
    expect(toHex(body)).toBe(V.ppHdrJoin + V.nodeState + V.nodeState);
  });

  it('int fields above 127: 0.2.2 writes unsigned (cc/ce), HEAD signed (d1/d2); both decode', () => {
    const states = Array.from({ length: 200 }, () => state);
    const msg: WireMessageInput = { pushPull: { header: { join: false }, states, userState: new Uint8Array(70000) } };
    const old = encodeStreamBody(msg, { intStyle: 'unsigned' }) as Uint8Array;
    const head = encodeStreamBody(msg, { intStyle: 'signed' }) as Uint8Array;
    expect(toHex(old.subarray(0, V.ppHdr022.length / 2))).toBe(V.ppHdr022);
    expect(toHex(head.subarray(0, V.ppHdrHead.length / 2))).toBe(V.ppHdrHead);
    for (const bytes of [old, head]) {
      const d = plain().decodeStreamMessage(bytes);
      expect(d.ok && d.value.pushPull?.states?.length).toBe(200);
      expect(d.ok && d.value.pushPull?.userState?.length).toBe(70000);
    }
  });

  it('user message header on a stream: 0.2.2 cd 012c, HEAD d1 012c, followed by the raw bytes', () => {
    const payload = new Uint8Array(300).fill(7);
    const old = encodeStreamBody({ user: { payload } }, { intStyle: 'unsigned' }) as Uint8Array;
    const head = encodeStreamBody({ user: { payload } }, { intStyle: 'signed' }) as Uint8Array;
    expect(toHex(old.subarray(0, 16))).toBe(V.userHdr022);
    expect(toHex(head.subarray(0, 16))).toBe(V.userHdrHead);
    for (const b of [old, head]) {
      const d = plain().decodeStreamMessage(b);
      expect(d.ok && d.value.user?.payload).toEqual(payload);
    }
  });

  const pushPullMsg: WireMessageInput = { pushPull: { header: { join: true }, states: [state], userState: utf8('us') } };

  it('a push-pull stream (99 B) and the same compressed (122 B: streams always compress)', () => {
    expect(toHex(plain().encodeStreamMessage(pushPullMsg))).toBe(V.pushPull);
    const compressed = new MemberlistCodec({ enableCompression: true });
    expect(toHex(compressed.encodeStreamMessage(pushPullMsg))).toBe(V.pushPullCompressed);
  });

  for (const [name, vector] of [['plain', V.pushPull], ['compressed', V.pushPullCompressed]] as const) {
    it(`the ${name} push-pull stream is read back one byte at a time`, () => {
      const reader = plain().streamFraming.reader('response');
      const bytes = hex(vector);
      let result;
      for (let i = 0; i < bytes.length; i++) {
        result = reader.push(bytes.subarray(i, i + 1));
        if (i < bytes.length - 1) expect(result).toBeUndefined();
      }
      expect(result?.ok).toBe(true);
      if (!result?.ok) return;
      const pp = result.value.message?.pushPull;
      expect(pp?.header?.join).toBe(true);
      expect(pp?.states?.map((s) => fields({ pushPull: s } as WireMessageInput))).toEqual([fields({ pushPull: state } as WireMessageInput)]);
      expect(new TextDecoder().decode(pp?.userState ?? new Uint8Array())).toBe('us');
    });
  }
});

describe('memberlist codec: LZW (§13.4)', () => {
  it('"hello hello hello hello", "" and the alive message compress to the reference bytes', () => {
    const wrap = (b: Uint8Array): string => {
      const lz = lzwCompress(b);
      // [9] + {Algo:0, Buf:raw}
      const prefix = lz.length < 32 ? `0982a4416c676f00a3427566${(0xa0 | lz.length).toString(16)}` : `0982a4416c676f00a3427566da${lz.length.toString(16).padStart(4, '0')}`;
      return prefix + toHex(lz);
    };
    expect(wrap(utf8('hello hello hello hello'))).toBe(V.compressHello);
    expect(wrap(new Uint8Array(0))).toBe(V.compressEmpty);
    expect(wrap(hex(V.alive))).toBe(V.compressAlive);
  });

  it('the compressed alive (85 B > 62 B) is not used on a packet, but is read when a peer sends it', () => {
    const c = new MemberlistCodec({ enableCompression: true });
    expect(toHex(c.encodePacket([M.alive!]))).toBe(V.alive);
    const d = plain().decodePacket(hex(V.compressAlive));
    expect(d.ok && fields(d.value[0]!)).toEqual(fields(M.alive!));
    const h = plain().decodePacket(hex(V.compressHello));
    // "hello hello..." is not a message: type 'h' (0x68) is refused, counted, never thrown.
    expect(h.ok).toBe(false);
  });

  it('LZW_10000: 9176 bytes, the reference sha256, and it decompresses back', () => {
    const input = Uint8Array.from({ length: 10000 }, (_, i) => (i * i + Math.floor(i / 7)) % 251);
    const out = lzwCompress(input);
    expect(out.length).toBe(9176);
    expect(toHex(out.subarray(0, 16))).toBe('00010420900042061232824829a32792');
    expect(createHash('sha256').update(out).digest('hex')).toBe('88e81f4c40f2a81834c9c8d2ddf65e5eaa0f0ada1d1b0340d42fd9651e28c304');
    const back = lzwDecompress(out, 1 << 20);
    expect(back.ok && back.value).toEqual(input);
  });

  it('round-trips long and repetitive inputs across code-table resets; truncation and limits are errors', () => {
    const inputs = [new Uint8Array(200_000).fill(65), Uint8Array.from({ length: 300_000 }, (_, i) => (i * 2654435761) >>> 24), utf8('a'.repeat(5000) + 'ab'.repeat(5000))];
    for (const input of inputs) {
      const out = lzwCompress(input);
      const back = lzwDecompress(out, input.length);
      expect(back.ok && back.value.length).toBe(input.length);
      expect(back.ok && Buffer.compare(Buffer.from(back.value), Buffer.from(input))).toBe(0);
      expect(lzwDecompress(out.subarray(0, out.length - 2), input.length)).toEqual({ ok: false, reason: 'truncated' });
      expect(lzwDecompress(out, input.length - 1)).toEqual({ ok: false, reason: 'too-large' });
    }
  });
});

describe('memberlist codec: CRC, encryption and label (§2.5, §2.6)', () => {
  it('CRC(PING) = 0c 86148b66 ‖ PING, sent only to a peer that announced protocol max >= 5', () => {
    const codec = plain();
    const to = { host: '127.0.0.1', port: 7946 };
    expect(toHex(codec.encodePacket([M.ping!], [], to))).toBe(V.ping);
    // node-a at 127.0.0.1:7946 announces [1,5,2,...]: from now on packets to it carry the CRC.
    expect(codec.decodePacket(hex(V.alive)).ok).toBe(true);
    expect(toHex(codec.encodePacket([M.ping!], [], to))).toBe(V.crcPing + V.ping);
    const back = codec.decodePacket(hex(V.crcPing + V.ping));
    expect(back.ok && back.value[0]?.body).toBe('ping');
    const corrupt = hex(V.crcPing + V.ping);
    corrupt[10] = (corrupt[10] as number) ^ 1;
    expect(codec.decodePacket(corrupt)).toMatchObject({ ok: false, reason: 'bad-checksum' });
  });

  it('a peer announcing protocol max 4 gets no CRC', () => {
    const codec = plain();
    codec.decodePacket(codec.encodePacket([{ alive: { ...M.alive!.alive, protocolMax: 4 } }]));
    expect(toHex(codec.encodePacket([M.ping!], [], { host: '127.0.0.1', port: 7946 }))).toBe(V.ping);
  });

  it('encryption v1 (protocol version >= 2) and v0 (protocol version 1, PKCS7) of PING', () => {
    const v1 = new MemberlistCodec({ keyring: new Keyring([KEY]), nonceSource: fixedNonce });
    expect(toHex(v1.encodePacket([M.ping!]))).toBe(V.encV1);
    const v0 = new MemberlistCodec({ keyring: new Keyring([KEY]), nonceSource: fixedNonce, protocolVersion: 1 });
    expect(toHex(v0.encodePacket([M.ping!]))).toBe(V.encV0);
    for (const vector of [V.encV1, V.encV0]) {
      // Both versions are read by either codec.
      const d = v1.decodePacket(hex(vector));
      expect(d.ok && fields(d.value[0]!)).toEqual(fields(M.ping!));
    }
  });

  it('the encrypted stream frame of "hello": AAD = [10][len] ‖ label', () => {
    const key = new Keyring([KEY]).installed()[0]!;
    const sealed = encryptPayload(1, key, utf8('hello'), hex('0a00000022'), fixedNonce);
    expect(`0a00000022${toHex(sealed)}`).toBe(V.encStreamHello);
    const d = decryptPayload([key], hex(V.encStreamHello).subarray(5), hex('0a00000022'));
    expect(d.ok && new TextDecoder().decode(d.plaintext)).toBe('hello');
  });

  it('an encrypted push-pull stream crosses through the reader; a wrong key or plaintext is refused', () => {
    const a = new MemberlistCodec({ keyring: new Keyring([KEY]) });
    const bytes = a.encodeStreamMessage({ pushPull: { header: { join: false }, states: [], userState: utf8('x') } });
    expect(bytes[0]).toBe(10);
    expect(a.decodeStreamMessage(bytes).ok).toBe(true);
    const wrong = new MemberlistCodec({ keyring: new Keyring([new Uint8Array(16).fill(9)]) });
    expect(wrong.decodeStreamMessage(bytes)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    expect(a.decodeStreamMessage(hex(V.pushPull))).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    expect(plain().decodeStreamMessage(bytes)).toMatchObject({ ok: false, reason: 'decrypt-failed' });
  });

  it('wrong key on a packet: refused; with gossipVerifyIncoming off, plaintext is still read', () => {
    const a = new MemberlistCodec({ keyring: new Keyring([KEY]) });
    const wrong = new MemberlistCodec({ keyring: new Keyring([new Uint8Array(16).fill(9)]) });
    expect(wrong.decodePacket(a.encodePacket([M.ping!]))).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    expect(a.decodePacket(hex(V.ping))).toMatchObject({ ok: false, reason: 'decrypt-failed' });
    const lenient = new MemberlistCodec({ keyring: new Keyring([KEY]), gossipVerifyIncoming: false });
    expect(lenient.decodePacket(hex(V.ping)).ok).toBe(true);
  });

  it('label header [244][len][label] on packets and dialled streams; a wrong or missing label is refused', () => {
    const a = new MemberlistCodec({ label: 'blue', keyring: new Keyring([KEY]) });
    const packet = a.encodePacket([M.ping!]);
    expect(toHex(packet.subarray(0, 6))).toBe(`f404${toHex(utf8('blue'))}`);
    expect(a.decodePacket(packet).ok).toBe(true);
    const red = new MemberlistCodec({ label: 'red', keyring: new Keyring([KEY]) });
    expect(red.decodePacket(packet)).toMatchObject({ ok: false, reason: 'label-mismatch' });
    expect(new MemberlistCodec({ keyring: new Keyring([KEY]) }).decodePacket(packet).ok).toBe(false);
    expect(a.decodePacket(hex(V.ping))).toMatchObject({ ok: false, reason: 'label-mismatch' });

    const request = a.streamFraming.encodeRequest(M.ping!);
    expect(toHex(request.subarray(0, 6))).toBe(`f404${toHex(utf8('blue'))}`);
    expect(request[6]).toBe(10);
    expect(a.streamFraming.reader('request').push(request)).toMatchObject({ ok: true });
    expect(red.streamFraming.reader('request').push(request)).toMatchObject({ ok: false, reason: 'label-mismatch' });
    // The reply carries no label, but its AAD includes it.
    const reply = a.streamFraming.encodeResponse(M.ackNil!);
    expect(reply[0]).toBe(10);
    expect(a.streamFraming.reader('response').push(reply)).toMatchObject({ ok: true });
  });
});

describe('memberlist codec: decoding tolerance and bad input', () => {
  it('accepts any key order, unknown keys, str8/bin/int arrays for bytes, any int width that fits', () => {
    // ack {SeqNo: u32 1, Extra: 1, Payload: bin8 [1,2]} in that order.
    const d = plain().decodePacket(hex('0283a55365714e6fce00000001a54578747261c3a75061796c6f6164c4020102'));
    expect(d.ok && d.value[0]?.ack?.seqNo).toBe(1);
    expect(d.ok && toHex(d.value[0]!.ack!.payload!)).toBe('0102');
    // alive with Vsn as an array of ints and Node as str8.
    const a = plain().decodePacket(hex('0482a356736e96010502000000a44e6f6465d9016e'));
    expect(a.ok && a.value[0]?.alive?.protocolMax).toBe(5);
    expect(a.ok && a.value[0]?.alive?.node).toBe('n');
  });

  it('refuses a value that does not fit its field (65536 in a uint16 Port), never throws', () => {
    const bad = plain().decodePacket(hex('0481a4506f7274ce00010000'));
    expect(bad).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('garbage of every length is a failure result, never an exception', () => {
    const codec = new MemberlistCodec({ enableCompression: true });
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let n = 0; n < 2000; n++) {
      const buf = Uint8Array.from({ length: n % 90 }, rnd);
      if (buf.length > 0) buf[0] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 244, 6][n % 14] as number;
      expect(() => codec.decodePacket(buf)).not.toThrow();
      expect(() => codec.streamFraming.reader(n % 2 ? 'request' : 'response').push(buf)).not.toThrow();
    }
  });

  it('a push-pull announcing more nodes than the limit is refused before reading them', () => {
    const codec = new MemberlistCodec({ maxPushPullEntries: 10 });
    const r = codec.streamFraming.reader('request').push(hex(V.ppHdr022));
    expect(r).toMatchObject({ ok: false, reason: 'too-many-entries' });
  });
});
