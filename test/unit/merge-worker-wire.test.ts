/**
 * The merge worker's own protobuf code (merge-worker-wire.ts on proto-wire.ts) against protobufjs:
 * its field numbers and enum values are the schemas', it reads every random MergeMirrorUpdate and
 * push-pull frame the generated encoder writes exactly as the generated decoder does, its MergeDiff
 * decodes on the host into the diff it was given, bad bytes never make it throw, and the worker
 * thread that uses it loads neither protobufjs nor the generated module (the point of it).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { wire, worker } from '../../src/gen/index.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { FrameKind, MemberState } from '../../src/codec/wire-enums.js';
import { ProtoReader, ProtoWriter } from '../../src/codec/proto-wire.js';
import { decodeMergeDiff, encodeMirrorUpdate, mirrorEntryToProto } from '../../src/actors/push-pull/merge-codec.js';
import { decodeMirrorUpdate, decodePushPullFrame, encodeMergeDiff, FIELD_NUMBERS, VERSION_FIELDS_AFTER_FIRST } from '../../src/actors/push-pull/merge-worker-wire.js';
import type { MergeClaim, MergeDiff, MirrorEntry, RemoteEntries } from '../../src/actors/push-pull/merge.js';

const codec = new ProtobufCodec();
const root = protobuf.loadSync(['wire.proto', 'worker.proto'].map((f) => fileURLToPath(new URL(`../../proto/${f}`, import.meta.url))));

/** Values as plain data: bytes (Buffer or Uint8Array) as arrays, protobufjs instances as own fields. */
function plain(d: unknown): unknown {
  if (d instanceof Uint8Array) return Array.from(d);
  if (Array.isArray(d)) return d.map(plain);
  if (d !== null && typeof d === 'object') return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, plain(v)]));
  return d;
}

/** The entries as plain objects with every field, read in one pass (each entry copied out as visited). */
function snapshot(entries: RemoteEntries): unknown[] {
  const out: unknown[] = [];
  entries.each((e) => {
    out.push(
      plain({
        name: e.name,
        ipv4: e.ipv4,
        ipv6: e.ipv6,
        port: e.port,
        meta: e.meta,
        incarnation: e.incarnation,
        state: e.state,
        protocolMin: e.protocolMin,
        protocolMax: e.protocolMax,
        protocolCur: e.protocolCur,
        delegateMin: e.delegateMin,
        delegateMax: e.delegateMax,
        delegateCur: e.delegateCur,
      }),
    );
  });
  return out;
}

const u32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }));
const text = fc.oneof(fc.constantFrom('', 'n1', 'node-0042'), fc.string({ maxLength: 70 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const bytes = fc.uint8Array({ maxLength: 40 });
/** Known states, an unknown future one, and a negative one (an int32 enum on the wire). */
const state = fc.constantFrom(0, 1, 2, 3, 7, -1) as fc.Arbitrary<wire.MemberState>;

const nodeState: fc.Arbitrary<wire.PushNodeState.$Properties> = fc.record(
  {
    name: text,
    ipv4: u32,
    ipv6: bytes,
    port: u32,
    meta: bytes,
    incarnation: u32,
    state,
    protocolMin: u32,
    protocolMax: u32,
    protocolCur: u32,
    delegateMin: u32,
    delegateMax: u32,
    delegateCur: u32,
  },
  { requiredKeys: [] },
);

const userMessage: fc.Arbitrary<wire.UserMessage.$Properties> = fc.record({ payload: bytes, origin: text, seq: u32, key: text, from: text }, { requiredKeys: [] });

const pushPull: fc.Arbitrary<wire.PushPull.$Properties> = fc.record(
  {
    header: fc.record({ nodes: u32, userStateLen: u32, join: fc.boolean() }, { requiredKeys: [] }),
    states: fc.array(nodeState, { maxLength: 8 }),
    userState: bytes,
    broadcasts: fc.array(userMessage, { maxLength: 3 }),
  },
  { requiredKeys: ['states'] },
);

describe('schema agreement', () => {
  it('field numbers are the ones in proto/', () => {
    for (const [message, fields] of Object.entries(FIELD_NUMBERS)) {
      const pkg = message.startsWith('Merge') ? 'memberlist.worker' : 'memberlist.wire';
      const type = root.lookupType(`${pkg}.${message}`);
      const named: Array<[string, number]> = Object.entries(fields);
      // The version fields follow the first one, in order.
      const first = (fields as { protocolMin?: number }).protocolMin;
      if (first !== undefined) VERSION_FIELDS_AFTER_FIRST.forEach((f, i) => named.push([f, first + i + 1]));
      for (const [field, id] of named) {
        expect({ message, field, id: type.fields[field]?.id }).toEqual({ message, field, id });
      }
    }
  });

  it('the enum values are the generated ones', () => {
    expect({ ...MemberState }).toEqual({ ...wire.MemberState });
    expect({ ...FrameKind }).toEqual({ ...wire.FrameKind });
  });
});

describe('ProtoReader and ProtoWriter', () => {
  it('round-trip every field kind, including lengths that need more than one length byte', () => {
    fc.assert(
      fc.property(u32, fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), u32, (n, s, b, f) => {
        const w = new ProtoWriter(4);
        const m = w.fork(1);
        w.uint32(1, n).string(2, s).bytes(3, b).fixed32(4, f).bool(5, true);
        w.join(m);
        const out = w.finish();
        const r = new ProtoReader(out);
        expect(r.tag()).toBe((1 << 3) | 2);
        const saved = r.enter();
        expect(r.end).toBe(out.length);
        const got: Record<number, unknown> = {};
        while (!r.done) {
          const tag = r.tag();
          const field = tag >>> 3;
          got[field] = field === 1 ? r.uint32() : field === 2 ? r.string() : field === 3 ? Array.from(r.bytes()) : field === 4 ? r.fixed32() : r.bool();
        }
        expect(r.failed).toBe(false);
        r.leave(saved);
        expect(r.done).toBe(true);
        // Zeros and empties are proto3 defaults: not written.
        const want: Record<number, unknown> = { 5: true };
        if (n !== 0) want[1] = n;
        if (s !== '') want[2] = s;
        if (b.length > 0) want[3] = Array.from(b);
        if (f !== 0) want[4] = f;
        expect(got).toEqual(want);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('reads a ten-byte varint as its low 32 bits, and fails on eleven', () => {
    const neg = wire.PushNodeState.encode({ state: -1 as wire.MemberState }).finish();
    const r = new ProtoReader(neg);
    r.tag();
    expect(r.int32()).toBe(-1);
    expect(r.failed).toBe(false);
    const eleven = new ProtoReader(Uint8Array.from([...new Array<number>(10).fill(0xff), 0x01]));
    eleven.uint32();
    expect(eleven.failed).toBe(true);
  });
});

describe('MergeMirrorUpdate: the worker reads what the host writes', () => {
  const entry = fc.record({
    name: text,
    removed: fc.boolean(),
    incarnation: u32,
    state: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<wire.MemberState>,
    host: fc.option(fc.constantFrom('10.0.0.1', '::1', ''), { nil: undefined }),
    port: fc.option(u32, { nil: undefined }),
    vsn: fc.option(fc.tuple(u32, u32, u32, u32, u32, u32), { nil: undefined }),
  });

  it('equals the entries as the host knew them (an absent vsn reads as zeros)', () => {
    fc.assert(
      fc.property(u32, u32, fc.boolean(), fc.array(entry, { maxLength: 10 }), (seq, baseSeq, reset, entries) => {
        const mirror = entries.map((e): [string, MirrorEntry | undefined] => [
          e.name,
          e.removed
            ? undefined
            : {
                incarnation: e.incarnation,
                state: e.state,
                ...(e.host !== undefined ? { host: e.host } : {}),
                ...(e.port !== undefined ? { port: e.port } : {}),
                ...(e.vsn !== undefined ? { vsn: e.vsn } : {}),
              },
        ]);
        const bytes = new Uint8Array(encodeMirrorUpdate({ seq, baseSeq, reset, entries: mirror.map(([n, e]) => mirrorEntryToProto(n, e)) }));
        const got = decodeMirrorUpdate(bytes);
        expect({ seq: got.seq, baseSeq: got.baseSeq, reset: got.reset }).toEqual({ seq, baseSeq, reset });
        expect(got.entries).toEqual(mirror.map(([name, e]) => ({ name, entry: e === undefined ? undefined : { ...e, vsn: e.vsn ?? [0, 0, 0, 0, 0, 0] } })));
      }),
      { numRuns: 500, seed: 21 },
    );
  });

  it('on random bytes either reads an update or throws its own error, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        try {
          decodeMirrorUpdate(b);
        } catch (err) {
          expect((err as Error).message).toBe('malformed merge mirror update');
        }
      }),
      { numRuns: 2000, seed: 23 },
    );
  });

  it('throws on bytes that are not one (the task fails; the host resets the mirror)', () => {
    expect(() => decodeMirrorUpdate(Uint8Array.from([0x22, 0x05, 0x0a]))).toThrow(/malformed/);
    expect(() => decodeMirrorUpdate(Uint8Array.from([0x08]))).toThrow(/malformed/);
    // seq (field 1) sent as bytes: a wire type the schema does not declare.
    expect(() => decodeMirrorUpdate(Uint8Array.from([0x0a, 0x00]))).toThrow(/malformed/);
  });
});

describe('push-pull frames: the worker reads what the generated decoder reads', () => {
  it('states and header equal the generated decoder; the raw extras decode to the same header, user state and broadcasts', () => {
    fc.assert(
      fc.property(pushPull, (p) => {
        const frame = codec.encodeStreamMessage({ pushPull: p });
        const ref = codec.decodeStreamMessage(frame);
        if (!ref.ok || !ref.value.pushPull) throw new Error('reference decode failed');
        const want = ref.value.pushPull as wire.PushPull;
        const got = decodePushPullFrame(frame);
        if (!got.ok) throw new Error(`lite decode failed: ${JSON.stringify(got)}`);
        const { entries, header, raw } = got.value;
        const wantStates = plain(want.states.map((s) => wire.PushNodeState.toObject(s as wire.PushNodeState, { defaults: true })));
        expect(entries.count).toBe(want.states.length);
        // Twice: every pass reads the same entries again from the bytes.
        expect(snapshot(entries)).toEqual(wantStates);
        expect(snapshot(entries)).toEqual(wantStates);
        expect(header === undefined).toBe(want.header === null || want.header === undefined);
        if (header !== undefined) expect(header).toEqual(wire.PushPullHeader.toObject(want.header as wire.PushPullHeader, { defaults: true }));
        expect(Array.from(raw.userState)).toEqual(Array.from(want.userState));
        expect(raw.header === undefined ? undefined : plain(wire.PushPullHeader.decode(raw.header))).toEqual(want.header ? plain(want.header) : undefined);
        expect(raw.broadcasts.map((b) => plain(wire.UserMessage.decode(b)))).toEqual(want.broadcasts.map(plain));
      }),
      { numRuns: 1000, seed: 31 },
    );
  });

  it('tells a well-formed frame of another message from a malformed one', () => {
    expect(decodePushPullFrame(codec.encodeStreamMessage({ ping: { seqNo: 1, node: 'x' } }))).toEqual({ ok: false, notPushPull: true });
    expect(decodePushPullFrame(new Uint8Array(0))).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodePushPullFrame(Uint8Array.from([7, 0]))).toMatchObject({ ok: false, reason: 'unknown-frame' });
    const two = codec.encodePacket([{ pushPull: { states: [] } }, { pushPull: { states: [] } }]);
    expect(decodePushPullFrame(two)).toMatchObject({ ok: false, reason: 'malformed', detail: 'stream frame with 2 messages' });
    // A member entry whose name (field 1) is a varint.
    const badEntry = codec.encodeStreamMessage({ pushPull: { states: [{ name: 'a' }] } });
    const at = badEntry.indexOf(0x0a, badEntry.indexOf(0x12));
    const mutated = Uint8Array.from(badEntry);
    mutated[at] = 0x08;
    expect(decodePushPullFrame(mutated)).toMatchObject({ ok: false, reason: 'malformed' });
    // A name that is not UTF-8: the generated decoder refuses it, and so does the worker's.
    const named = codec.encodeStreamMessage({ pushPull: { states: [{ name: 'ab' }] } });
    const badName = Uint8Array.from(named);
    badName[named.indexOf(0x61)] = 0xff;
    expect(codec.decodeStreamMessage(badName).ok).toBe(false);
    expect(decodePushPullFrame(badName)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('never throws on random bytes after a compound frame kind', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        const got = decodePushPullFrame(Uint8Array.from([1, ...b]));
        if (got.ok) {
          // Whatever it accepted, the merge can read every entry of, twice.
          expect(snapshot(got.value.entries)).toEqual(snapshot(got.value.entries));
        }
      }),
      { numRuns: 3000, seed: 43 },
    );
  });

  it('never throws on truncated or random bytes, and what it accepts the host can decode', () => {
    fc.assert(
      fc.property(pushPull, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 }), (p, cutAt, noise) => {
        // Bad UTF-8 in a string is malformed too (the generated decoders verify proto3 strings).
        const frame = codec.encodeStreamMessage({ pushPull: p });
        const cut = frame.subarray(0, 1 + (cutAt % frame.length));
        const flipped = Uint8Array.from(frame);
        for (let i = 0; i < noise.length; i++) flipped[1 + ((cutAt + i * 7) % (frame.length - 1 || 1))] = noise[i] as number;
        for (const bytes of [cut, flipped]) {
          const got = decodePushPullFrame(bytes);
          if (!got.ok) continue;
          // Accepted extras go back raw; the host's generated decoder must read them.
          const diff = decodeMergeDiff(new Uint8Array(encodeMergeDiff({ claims: [], skipped: 0, invalid: 0 }, { raw: got.value.raw })));
          expect(diff.extras).toBeDefined();
        }
      }),
      { numRuns: 1500, seed: 41 },
    );
  });
});

describe('MergeDiff: what the worker writes, the host reads back as the same diff', () => {
  const claim: fc.Arbitrary<MergeClaim> = fc.oneof(
    fc
      .record({ incarnation: u32, node: text, ipv4: u32, ipv6: bytes, port: u32, meta: bytes, v: fc.tuple(u32, u32, u32, u32, u32, u32) })
      .map(({ v, ...a }) => ({
        kind: 'alive' as const,
        alive: { ...a, protocolMin: v[0], protocolMax: v[1], protocolCur: v[2], delegateMin: v[3], delegateMax: v[4], delegateCur: v[5] },
      })),
    fc.record({ incarnation: u32, node: text, from: text }).map((suspect) => ({ kind: 'suspect' as const, suspect })),
    fc.record({ incarnation: u32, node: text, from: text }).map((dead) => ({ kind: 'dead' as const, dead })),
  );
  const diff: fc.Arbitrary<MergeDiff> = fc.record({
    claims: fc.array(claim, { maxLength: 12 }),
    skipped: u32,
    invalid: u32,
    refused: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
  }).map((d) => ({ claims: d.claims, skipped: d.skipped, invalid: d.invalid, ...(d.refused !== undefined ? { refused: d.refused } : {}) }));

  it('claims, counts and refusal survive the trip; so do the extras, and the flags', () => {
    fc.assert(
      fc.property(diff, fc.option(pushPull, { nil: undefined }), fc.boolean(), fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: undefined }), (d, p, stale, error) => {
        let raw;
        if (p !== undefined) {
          const decoded = decodePushPullFrame(codec.encodeStreamMessage({ pushPull: p }));
          if (!decoded.ok) throw new Error('frame did not decode');
          raw = decoded.value.raw;
        }
        const got = decodeMergeDiff(new Uint8Array(encodeMergeDiff(d, { staleMirror: stale, ...(error !== undefined ? { error } : {}), ...(raw !== undefined ? { raw } : {}) })));
        const { staleMirror, error: gotError, extras, ...rest } = got;
        expect(plain(rest)).toEqual(plain(d));
        expect(staleMirror).toBe(stale);
        expect(gotError).toBe(error);
        if (p === undefined) {
          expect(extras).toBeUndefined();
        } else {
          // As the host's decoder reads the same push-pull encoded by protobufjs.
          const ref = wire.PushPull.decode(wire.PushPull.encode(p).finish());
          expect(plain(extras?.header)).toEqual(plain(ref.header ?? wire.PushPullHeader.create()));
          expect(Array.from(extras?.userState ?? [])).toEqual(Array.from(ref.userState));
          expect(plain(extras?.broadcasts)).toEqual(plain(ref.broadcasts));
        }
      }),
      { numRuns: 1000, seed: 51 },
    );
  });

  it('an empty diff is stale-mirror or error only', () => {
    expect(decodeMergeDiff(new Uint8Array(encodeMergeDiff(undefined, { staleMirror: true })))).toEqual({ claims: [], skipped: 0, invalid: 0, staleMirror: true });
    const m = worker.MergeDiff.decode(new Uint8Array(encodeMergeDiff(undefined, { error: 'bad' })));
    expect(m.error).toBe('bad');
  });
});

describe('the merge worker thread', () => {
  it('loads neither protobufjs nor the generated module', async () => {
    const bootstrap = fileURLToPath(new URL('../../workers/tsx-bootstrap.mjs', import.meta.url));
    const probe = pathToFileURL(fileURLToPath(new URL('../fixtures/loaded-modules-probe.mjs', import.meta.url))).href;
    const load = async (target: string): Promise<string[]> => {
      const w = new Worker(bootstrap, { workerData: { __entry: probe, target: new URL(target, import.meta.url).href } });
      try {
        return await new Promise<string[]>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
      } finally {
        await w.terminate();
      }
    };
    const protobufjs = (mods: string[]): string[] => mods.filter((m) => m.includes('/protobufjs/'));
    // The probe sees protobufjs where it is loaded: the generated module loads it.
    expect(protobufjs(await load('../../src/gen/index.ts')).length).toBeGreaterThan(0);
    expect(protobufjs(await load('../../workers/merge-worker.ts'))).toEqual([]);
  });
});
