/**
 * Property-based fuzzing (fast-check, fixed seeds, bounded runs) of every decoder and of the whole
 * receive path. Nothing may escape as an exception: each decoder returns ok or one of the known
 * failure reasons; a real node fed random and mutated datagrams and streams keeps running, keeps its
 * member table consistent and its memory bounded. Each target prints how many inputs it tried.
 */
import { deflateRawSync } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FRAME_COMPRESSED, FRAME_CRC32, FRAME_ENCRYPTED, FRAME_LABEL, FrameLayers, LayeredCodec, type LayeredCodecOptions } from '../../src/codec/layers.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import type { DecodeFailure, DecodeResult, WireCodec, WireMessageInput } from '../../src/codec/wire-codec.js';
import { TransportError } from '../../src/errors.js';
import { wire } from '../../src/gen/index.js';
import { createNode, type MemberlistNode } from '../../src/node.js';
import { open as aeadOpen, sealPrimary } from '../../src/security/aead.js';
import { Keyring } from '../../src/security/keyring.js';
import { MemoryNetwork, SeededRandom, VirtualClock } from '../../src/testing/index.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import type { Conn, Transport } from '../../src/transport/transport.js';
import { LayeredTransport, layersWiredInCreateNode, TripwireTransport } from './layered-transport.js';

const SEED = 0x5eed;
/** Runs per LayeredCodec property; the other targets are sized relative to it. */
const RUNS = 3_000;
const KEY_A = new Uint8Array(32).fill(0xa1);
const KEY_B = new Uint8Array(16).fill(0xb2);
const KEY_C = new Uint8Array(24).fill(0xc3);

const REASONS: ReadonlySet<DecodeFailure> = new Set<DecodeFailure>([
  'empty',
  'too-large',
  'unknown-frame',
  'malformed',
  'too-many-parts',
  'too-many-entries',
  'label-mismatch',
  'decrypt-failed',
  'bad-checksum',
  'decompress-limit',
]);

const tried = new Map<string, number>();
function count(target: string, n = 1): void {
  tried.set(target, (tried.get(target) ?? 0) + n);
}
afterAll(() => {
  let total = 0;
  for (const [target, n] of tried) {
    console.log(`[fuzz] ${target}: ${n} inputs`);
    total += n;
  }
  console.log(`[fuzz] total: ${total} inputs over ${tried.size} targets`);
});

function expectResult<T>(r: DecodeResult<T>): void {
  if (!r.ok) expect(REASONS.has(r.reason), `unknown reason ${r.reason}`).toBe(true);
}

// ───── arbitraries ─────

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const port = fc.integer({ min: 0, max: 65_535 });
const name = fc.oneof(fc.constantFrom('target', 'a', 'b', 'c', ''), fc.string({ maxLength: 12 }));
const smallBytes = fc.uint8Array({ maxLength: 40 });
const v6 = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 16, maxLength: 16 }), smallBytes);
const state = fc.integer({ min: 0, max: 5 });
const vsn = fc.integer({ min: 0, max: 6 });

const aliveBody = fc.record({
  incarnation: u32,
  node: name,
  ipv4: u32,
  ipv6: v6,
  port,
  meta: smallBytes,
  protocolMin: vsn,
  protocolMax: vsn,
  protocolCur: vsn,
  delegateMin: vsn,
  delegateMax: vsn,
  delegateCur: vsn,
});

const pushNodeState = fc.record({
  name,
  ipv4: u32,
  ipv6: v6,
  port,
  meta: smallBytes,
  incarnation: u32,
  state,
  protocolMin: vsn,
  protocolMax: vsn,
  protocolCur: vsn,
});

const userBody = fc.record({ payload: smallBytes, origin: name, seq: u32, key: name, from: name });

const message: fc.Arbitrary<WireMessageInput> = fc.oneof(
  fc.record({ seqNo: u32, node: name, sourceIpv4: u32, sourceIpv6: v6, sourcePort: port, sourceNode: name, membersDigest: u32 }).map((ping) => ({ ping })),
  fc
    .record({ seqNo: u32, targetIpv4: u32, targetIpv6: v6, targetPort: port, node: name, nack: fc.boolean(), sourceIpv4: u32, sourcePort: port, sourceNode: name })
    .map((indirectPing) => ({ indirectPing })),
  fc.record({ seqNo: u32, payload: smallBytes, membersDigest: u32 }).map((ack) => ({ ack })),
  fc.record({ seqNo: u32 }).map((nack) => ({ nack })),
  fc.record({ incarnation: u32, node: name, from: name }).map((suspect) => ({ suspect })),
  aliveBody.map((alive) => ({ alive })),
  fc.record({ incarnation: u32, node: name, from: name }).map((dead) => ({ dead })),
  userBody.map((user) => ({ user })),
  fc
    .record({
      header: fc.record({ nodes: fc.integer({ min: 0, max: 1 << 20 }), userStateLen: u32, join: fc.boolean() }),
      states: fc.array(pushNodeState, { maxLength: 5 }),
      userState: smallBytes,
      broadcasts: fc.array(userBody, { maxLength: 2 }),
    })
    .map((pushPull) => ({ pushPull })),
  fc.record({ error: fc.string({ maxLength: 20 }) }).map((error) => ({ error })),
);

type Mutation = { op: 'flip' | 'set' | 'truncate' | 'insert' | 'delete' | 'append' | 'max'; at: number; value: number; n: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'set', 'truncate', 'insert', 'delete', 'append', 'max'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  n: fc.integer({ min: 1, max: 16 }),
});

function mutate(buf: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = new Uint8Array(buf);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case 'flip':
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << (m.value & 7));
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'max': // a length or varint byte pushed to its extreme
        for (let i = at; i < Math.min(b.length, at + m.n); i++) b[i] = 0xff;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = new Uint8Array([...b.subarray(0, at), ...new Uint8Array(m.n).fill(m.value), ...b.subarray(at)]);
        break;
      case 'delete':
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.n)]);
        break;
      case 'append':
        b = new Uint8Array([...b, ...new Uint8Array(m.n).fill(m.value)]);
        break;
    }
  }
  return b;
}

const randomBytes = fc.uint8Array({ maxLength: 1_500 });
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });
const messages = fc.array(message, { minLength: 1, maxLength: 6 });

/** The codec configurations under test: each a receiver and the matching sender. */
const CONFIGS: Record<string, LayeredCodecOptions> = {
  plain: {},
  label: { label: 'fuzz-cluster' },
  key: { keyring: new Keyring([KEY_A, KEY_B]) },
  'label+key+compression': { label: 'fuzz', keyring: new Keyring([KEY_A, KEY_C]), enableCompression: true, compressionThreshold: 32 },
  'compression+skipLabel': { label: 'fuzz', skipInboundLabelCheck: true, enableCompression: true, compressionThreshold: 16 },
  'key+rollout': { keyring: new Keyring([KEY_B]), gossipVerifyIncoming: false, gossipVerifyOutgoing: false, maxParts: 8, maxPushPullEntries: 3 },
};

/** Garbage that gets past the outer layers of `layers`, so the inner decoders see it. */
function structured(layers: FrameLayers): fc.Arbitrary<{ packet: Uint8Array; stream: Uint8Array }> {
  return fc
    .tuple(fc.uint8Array({ maxLength: 600 }), fc.constantFrom('sealed', 'sealed-compound', 'compressed', 'compressed-raw', 'header'), fc.integer({ min: 0, max: 255 }))
    .map(([body, shape, b]) => {
      let inner: Uint8Array;
      switch (shape) {
        case 'sealed':
          inner = body;
          break;
        case 'sealed-compound':
          inner = new Uint8Array([wire.FrameKind.FRAME_COMPOUND_V1, ...body]);
          break;
        case 'compressed': {
          const plain = new Uint8Array([wire.FrameKind.FRAME_COMPOUND_V1, ...body]);
          const deflated = deflateRawSync(plain);
          const declared = b % 3 === 0 ? plain.length : b * 97;
          inner = new Uint8Array([FRAME_COMPRESSED, ...varint(declared), ...deflated]);
          break;
        }
        case 'compressed-raw':
          inner = new Uint8Array([FRAME_COMPRESSED, ...body]);
          break;
        default:
          inner = new Uint8Array([[FRAME_LABEL, FRAME_ENCRYPTED, FRAME_CRC32, FRAME_COMPRESSED][b & 3] as number, ...body]);
      }
      return { packet: layers.seal(inner, 'packet'), stream: layers.seal(inner, 'stream') };
    });
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function decodeBoth(codec: WireCodec, buf: Uint8Array): void {
  expectResult(codec.decodePacket(buf));
  expectResult(codec.decodeStreamMessage(buf));
}

// ───── decoders ─────

describe('decoders never throw', () => {
  it('ProtobufCodec: random bytes, mutated valid packets and stream frames', () => {
    const codec = new ProtobufCodec({ maxParts: 64 });
    fc.assert(
      fc.property(randomBytes, (buf) => {
        count('ProtobufCodec random');
        decodeBoth(codec, buf);
        decodeBoth(codec, new Uint8Array([wire.FrameKind.FRAME_COMPOUND_V1, ...buf]));
      }),
      { seed: SEED, numRuns: 2 * RUNS },
    );
    fc.assert(
      fc.property(messages, mutations, (msgs, muts) => {
        count('ProtobufCodec mutated');
        const packet = codec.encodePacket(msgs);
        const ok = codec.decodePacket(packet);
        expect(ok.ok && ok.value.length).toBe(msgs.length);
        decodeBoth(codec, mutate(packet, muts));
        decodeBoth(codec, mutate(codec.encodeStreamMessage(msgs[0] as WireMessageInput), muts));
      }),
      { seed: SEED + 1, numRuns: 2 * RUNS },
    );
  });

  for (const [label, options] of Object.entries(CONFIGS)) {
    it(`LayeredCodec (${label}): random, mutated valid and structured inputs`, () => {
      const receiver = new LayeredCodec(options);
      // A receiver with skipInboundLabelCheck expects its traffic with the label stripped (by a proxy).
      const sender = new LayeredCodec(options.skipInboundLabelCheck === true ? { ...options, label: '' } : options);
      const others = Object.values(CONFIGS).map((o) => new LayeredCodec(o));
      fc.assert(
        fc.property(randomBytes, (buf) => {
          count(`LayeredCodec ${label} random`);
          decodeBoth(receiver, buf);
        }),
        { seed: SEED + 2, numRuns: RUNS },
      );
      fc.assert(
        fc.property(messages, mutations, fc.nat(), (msgs, muts, pick) => {
          count(`LayeredCodec ${label} mutated`);
          const packet = sender.encodePacket(msgs);
          const clean = receiver.decodePacket(packet);
          if (!('maxParts' in options)) expect(clean.ok).toBe(true);
          decodeBoth(receiver, mutate(packet, muts));
          decodeBoth(receiver, mutate(sender.encodeStreamMessage(msgs[0] as WireMessageInput), muts));
          // Traffic of another configuration, intact and mutated.
          const other = others[pick % others.length] as LayeredCodec;
          const foreign = other.encodePacket(msgs);
          decodeBoth(receiver, foreign);
          decodeBoth(receiver, mutate(foreign, muts));
        }),
        { seed: SEED + 3, numRuns: RUNS },
      );
      fc.assert(
        fc.property(structured(sender.layers), mutations, fc.boolean(), ({ packet, stream }, muts, doMutate) => {
          count(`LayeredCodec ${label} structured`);
          expectResult(receiver.decodePacket(doMutate ? mutate(packet, muts) : packet));
          expectResult(receiver.decodeStreamMessage(doMutate ? mutate(stream, muts) : stream));
        }),
        { seed: SEED + 4, numRuns: RUNS },
      );
    });
  }

  it('FrameDecoder: random chunks either yield frames or throw its own frame-too-large error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        count('FrameDecoder random chunks');
        const decoder = new FrameDecoder(100);
        let failed = false;
        for (const chunk of chunks) {
          try {
            for (const f of decoder.push(chunk)) expect(f.length).toBeLessThanOrEqual(100);
            expect(failed).toBe(false);
          } catch (err) {
            expect(err).toBeInstanceOf(TransportError);
            expect((err as TransportError).code).toBe('ERR_FRAME_TOO_LARGE');
            failed = true;
          }
          expect(decoder.pendingBytes).toBeLessThanOrEqual(104 + 64);
        }
      }),
      { seed: SEED + 5, numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (payloads, cuts) => {
        count('FrameDecoder split frames');
        const stream = new Uint8Array(payloads.reduce((n, p) => n + 4 + p.length, 0));
        let pos = 0;
        for (const p of payloads) {
          stream.set(encodeFrame(p), pos);
          pos += 4 + p.length;
        }
        const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder(300);
        const out: Uint8Array[] = [];
        let from = 0;
        for (const at of [...points, stream.length]) {
          out.push(...decoder.push(stream.slice(from, at)));
          from = at;
        }
        expect(out.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
      }),
      { seed: SEED + 6, numRuns: RUNS },
    );
  });

  it('keyring decryption: random bytes and mutated sealed messages', () => {
    const ring = new Keyring([KEY_A, KEY_B, KEY_C]);
    const aad = new TextEncoder().encode('fuzz');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (buf) => {
        count('Keyring decrypt random');
        const r = aeadOpen(ring, buf, aad);
        expect(r.ok).toBe(false);
        const versioned = aeadOpen(ring, new Uint8Array([1, ...buf]), aad);
        expect(versioned.ok).toBe(false);
      }),
      { seed: SEED + 7, numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), mutations, (plain, muts) => {
        count('Keyring decrypt mutated');
        const sealed = sealPrimary(ring, plain, aad) as Uint8Array;
        const intact = aeadOpen(ring, sealed, aad);
        expect(intact.ok && [...intact.plaintext]).toEqual([...plain]);
        const mutated = mutate(sealed, muts);
        const r = aeadOpen(ring, mutated, aad);
        // A mutation that changes nothing (a truncate at the end...) may still open; any change may not.
        if (r.ok) expect([...mutated]).toEqual([...sealed]);
      }),
      { seed: SEED + 8, numRuns: RUNS },
    );
  });
});

// ───── the whole receive path ─────

function gcNow(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const VALID_STATES = new Set(['alive', 'suspect', 'dead', 'left']);

interface NodeUnderFuzz {
  node: MemberlistNode;
  clock: VirtualClock;
  raw: Transport;
  received: Uint8Array[];
  trips: TripwireTransport[];
  layers: FrameLayers | undefined;
  layered: LayeredTransport | undefined;
  network: MemoryNetwork;
}

/** Where the layers run: around the node's transport, or in the node's own codec (from its config). */
type Via = 'transport' | 'config';

async function startNode(layerOptions: LayeredCodecOptions | undefined, via: Via): Promise<NodeUnderFuzz> {
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random: new SeededRandom(SEED), latencyMs: 1 });
  const innerTrip = new TripwireTransport(network.createTransport({ host: '127.0.0.10' }));
  const layered = layerOptions === undefined || via === 'config' ? innerTrip : new LayeredTransport(innerTrip, new FrameLayers(layerOptions));
  const outerTrip = new TripwireTransport(layered);
  const config =
    via === 'config' && layerOptions !== undefined
      ? { label: layerOptions.label ?? '', secretKey: layerOptions.keyring?.primary ?? null, enableCompression: layerOptions.enableCompression ?? false }
      : {};
  const node = await createNode({ name: 'target', clock, random: new SeededRandom(SEED + 1), transport: outerTrip, profile: 'local', ...config });
  const raw = network.createTransport({ host: '127.0.0.20' });
  const received: Uint8Array[] = [];
  raw.setHandlers({ packet: (buf) => void received.push(new Uint8Array(buf)), stream: (conn) => conn.destroy() });
  return {
    node,
    clock,
    raw,
    received,
    trips: [innerTrip, outerTrip],
    layers: layerOptions === undefined ? undefined : new FrameLayers(layerOptions),
    layered: layered instanceof LayeredTransport ? layered : undefined,
    network,
  };
}

async function run(t: NodeUnderFuzz, ms: number, stepMs = 10): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    t.clock.advance(stepMs);
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function checkInvariants(t: NodeUnderFuzz, maxMembers: number): void {
  const { node } = t;
  expect(node.running).toBe(true);
  const members = node.members();
  const names = members.map((m) => m.name);
  expect(new Set(names).size).toBe(names.length);
  for (const m of members) expect(VALID_STATES.has(m.state)).toBe(true);
  expect(node.localMember?.state).toBe('alive');
  expect(members.length).toBeLessThanOrEqual(maxMembers);
  for (const trip of t.trips) expect(trip.escaped).toEqual([]);
  for (const a of node.metrics().actors) expect({ actor: a.name, crashes: a.crashes }).toEqual({ actor: a.name, crashes: 0 });
}

const datagram = (seal: (b: Uint8Array) => Uint8Array, layers: FrameLayers | undefined): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 3, arbitrary: randomBytes },
    { weight: 3, arbitrary: fc.tuple(messages, mutations).map(([m, muts]) => mutate(seal(new ProtobufCodec().encodePacket(m)), muts)) },
    { weight: 2, arbitrary: messages.map((m) => seal(new ProtobufCodec().encodePacket(m))) },
    ...(layers === undefined ? [] : [{ weight: 2, arbitrary: structured(layers).map((s) => s.packet) }]),
  );

const streamInput = (seal: (b: Uint8Array) => Uint8Array): fc.Arbitrary<Uint8Array[]> =>
  fc.oneof(
    fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 3 }),
    fc.tuple(message, mutations).map(([m, muts]) => [mutate(encodeFrame(seal(new ProtobufCodec().encodeStreamMessage(m))), muts)]),
    message.map((m) => [encodeFrame(seal(new ProtobufCodec().encodeStreamMessage(m)))]),
    fc.uint8Array({ maxLength: 100 }).map((b) => [new Uint8Array([0xff, 0xff, 0xff, 0xff, ...b])]),
  );

async function fuzzNode(target: string, layerOptions: LayeredCodecOptions | undefined, packets: number, streams: number, via: Via = 'transport'): Promise<void> {
  const gc = gcNow();
  const t = await startNode(layerOptions, via);
  const seal = (b: Uint8Array): Uint8Array => (t.layers === undefined ? b : t.layers.seal(b, 'packet'));
  const sealStream = (b: Uint8Array): Uint8Array => (t.layers === undefined ? b : t.layers.seal(b, 'stream'));
  const to = t.node.advertiseAddress;
  try {
    await run(t, 100);
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const inputs = fc.sample(datagram(seal, t.layers), { seed: SEED + 9, numRuns: packets });
    for (let i = 0; i < inputs.length; i++) {
      t.raw.sendPacket(to, inputs[i] as Uint8Array);
      count(`node receive path (${target}) datagrams`);
      if (i % 50 === 49) {
        await run(t, 30);
        checkInvariants(t, 1 + i * 10);
      }
    }
    const streamInputs = fc.sample(streamInput(sealStream), { seed: SEED + 10, numRuns: streams });
    for (const chunks of streamInputs) {
      count(`node receive path (${target}) streams`);
      let conn: Conn | undefined;
      t.raw.dial(to, 1_000).then(
        (c) => (conn = c),
        () => undefined,
      );
      for (let i = 0; i < 10 && conn === undefined; i++) await run(t, 1, 1);
      if (conn === undefined) continue;
      const c: Conn = conn;
      c.setHandlers({ data: () => {}, end: () => c.end(), close: () => {} });
      for (const chunk of chunks) c.write(chunk);
      if (chunks.length % 2 === 0) c.end();
      await run(t, 5, 1);
    }
    // Every stream deadline (tcpTimeout 1 s on the local profile) passes.
    await run(t, 3_000, 50);
    checkInvariants(t, 1 + (packets + streams) * 10);
    gc?.();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    const m = t.node.metrics();
    const accepted = Object.entries(m.messagesIn).map(([k, v]) => `${k}=${v}`).join(' ');
    const dropped = Object.entries(m.dropsIn).map(([k, v]) => `${k}=${v}`).join(' ');
    const layerDrops = t.layered === undefined ? '' : ` | layers dropped ${[...t.layered.drops].map(([k, v]) => `${k}=${v}`).join(' ')}`;
    console.log(
      `[fuzz] node receive path (${target}): ${t.node.members().length} members known, heap growth ${(growth / 1e6).toFixed(1)} MB${gc ? '' : ' (no gc)'}\n` +
        `  messages in: ${accepted}\n  node drops: ${dropped}${layerDrops}`,
    );
    expect(growth).toBeLessThan(96 * 1024 * 1024);

    // Still serving: a valid ping gets its ack.
    t.received.length = 0;
    const ping: WireMessageInput = { ping: { seqNo: 4242, node: 'target', sourceNode: 'raw', sourceIpv4: 0x7f000014, sourcePort: 7946 } };
    t.raw.sendPacket(to, seal(new ProtobufCodec().encodePacket([ping])));
    await run(t, 20, 1);
    const acks = t.received
      .map((buf) => (t.layers === undefined ? { ok: true as const, value: buf } : t.layers.open(buf, 'packet')))
      // A LayeredCodec without options reads both a plain packet and one with a checksum or compression
      // (what the node sends once createNode builds a LayeredCodec from its config).
      .flatMap((r) => (r.ok ? [new LayeredCodec().decodePacket(r.value)] : []))
      .flatMap((r) => (r.ok ? r.value : []))
      .filter((m) => m.ack?.seqNo === 4242);
    expect(acks).toHaveLength(1);
  } finally {
    await t.node.shutdown();
    await t.raw.shutdown();
  }
}

const wired = await layersWiredInCreateNode();

describe('the whole receive path', () => {
  it('a plain node survives random and mutated datagrams and streams', async () => {
    await fuzzNode('plain', undefined, 10_000, 1_000);
  });

  it('a labeled, encrypted, compressing node survives random, mutated and structured datagrams and streams', async () => {
    await fuzzNode('label+key+compression', { label: 'fuzz', keyring: new Keyring([KEY_A]), enableCompression: true, compressionThreshold: 32 }, 10_000, 1_000);
  });

  it.skipIf(!wired)('a node configured with label, secretKey and compression (createNode wiring) survives the same', async () => {
    await fuzzNode('config label+secretKey', { label: 'fuzz', keyring: new Keyring([KEY_A]), enableCompression: true }, 5_000, 500, 'config');
  });
});
