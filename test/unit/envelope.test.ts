import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actors, builtinRegistry, wire, worker } from '../../src/gen/index.js';
import { BatchSender } from '../../src/runtime/batch-sender.js';
import {
  decodeFrame,
  encodeBatch,
  encodeControl,
  ownedArrayBuffer,
  toEnvelope,
  type DecodedFrame,
} from '../../src/runtime/envelope.js';
import { MessageRegistry, typeNameOf } from '../../src/runtime/message-type.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

// Frame tags (BoundaryFrame is a const enum; the values are part of the boundary protocol).
const TAG_BATCH = 1;
const TAG_CONTROL = 2;

const registry = builtinRegistry();

function pingReceived(seqNo: number): actors.PingReceived {
  return actors.PingReceived.create({
    ping: wire.Ping.create({
      seqNo,
      node: 'target',
      sourceIpv4: 0x7f000001,
      sourceIpv6: new Uint8Array(0),
      sourcePort: 7946,
      sourceNode: 'me',
    }),
    from: { host: '10.0.0.1', port: 7946 },
    receivedAtMs: 1234.5,
  });
}

function memberChanged(): actors.MemberChanged {
  return actors.MemberChanged.create({
    member: actors.Member.create({
      name: 'node-a',
      addr: { host: '10.0.0.2', port: 7000 },
      meta: new Uint8Array([1, 2, 3, 250]),
      incarnation: 7,
      state: wire.MemberState.SUSPECT,
      stateChangeMs: 99.25,
      protocolMin: 1,
      protocolMax: 5,
      protocolCur: 2,
      delegateMin: 0,
      delegateMax: 1,
      delegateCur: 1,
    }),
    previous: actors.Member.create({ name: 'node-a', incarnation: 6, state: wire.MemberState.ALIVE }),
    local: false,
    numMembers: 12,
  });
}

/** A plain, comparable view of a message with proto3 defaults filled in (absent == default on the wire). */
function norm(m: object): unknown {
  const ctor = m.constructor as unknown as { toObject(m: object, o: object): unknown };
  return ctor.toObject(m, { defaults: true, bytes: Array, longs: Number, enums: Number });
}

function asBatch(frame: DecodedFrame): { messages: object[]; unknownTypes: string[] } {
  if (frame.kind !== 'batch') throw new Error(`expected a batch frame, got ${JSON.stringify(frame)}`);
  return frame;
}

describe('encodeBatch / decodeFrame', () => {
  it('round-trips several message types, nested messages included, in order', () => {
    const original: object[] = [
      pingReceived(1),
      memberChanged(),
      actors.ProbeTick.create({ round: 42 }),
      pingReceived(2),
      wire.Ping.create({ seqNo: 3, node: 'direct' }),
    ];
    const buf = encodeBatch(original);
    const { messages, unknownTypes } = asBatch(decodeFrame(buf, registry));
    expect(unknownTypes).toEqual([]);
    expect(messages).toHaveLength(original.length);
    messages.forEach((m, i) => {
      const o = original[i] as object;
      expect(m.constructor).toBe(o.constructor);
      expect(norm(m)).toEqual(norm(o));
    });

    const p = messages[0] as actors.PingReceived;
    expect(p.ping?.seqNo).toBe(1);
    expect(p.ping?.sourceIpv4).toBe(0x7f000001);
    expect(p.ping?.sourceNode).toBe('me');
    expect(p.from?.host).toBe('10.0.0.1');
    expect(p.receivedAtMs).toBe(1234.5);

    const mc = messages[1] as actors.MemberChanged;
    expect(mc).toBeInstanceOf(actors.MemberChanged);
    expect(mc.member?.name).toBe('node-a');
    expect(mc.member?.state).toBe(wire.MemberState.SUSPECT);
    expect([...(mc.member?.meta ?? [])]).toEqual([1, 2, 3, 250]);
    expect(mc.member?.addr?.port).toBe(7000);
    expect(mc.member?.stateChangeMs).toBe(99.25);
    expect(mc.previous?.incarnation).toBe(6);
    expect(mc.numMembers).toBe(12);

    expect((messages[2] as actors.ProbeTick).round).toBe(42);
    expect((messages[4] as wire.Ping).node).toBe('direct');
  });

  it('round-trips an empty batch', () => {
    const buf = encodeBatch([]);
    expect(buf.byteLength).toBe(1);
    const frame = asBatch(decodeFrame(buf, registry));
    expect(frame.messages).toEqual([]);
    expect(frame.unknownTypes).toEqual([]);
  });

  it('round-trips arbitrary ping contents (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seqNo: fc.nat({ max: 0xffffffff }),
            node: fc.string(),
            port: fc.nat({ max: 65535 }),
            at: fc.double({ noNaN: true }),
          }),
          { maxLength: 20 },
        ),
        (specs) => {
          const msgs = specs.map((s) =>
            actors.PingReceived.create({
              ping: { seqNo: s.seqNo, node: s.node },
              from: { host: 'h', port: s.port },
              receivedAtMs: s.at,
            }),
          );
          const { messages } = asBatch(decodeFrame(encodeBatch(msgs), registry));
          expect(messages.map(norm)).toEqual(msgs.map(norm));
        },
      ),
      { seed: 17, numRuns: 100 },
    );
  });

  it('returns an owned ArrayBuffer: exactly the frame bytes, tag first, not a slice of a shared pool', () => {
    const buf = encodeBatch([actors.ProbeTick.create({ round: 1 })]);
    expect(buf).toBeInstanceOf(ArrayBuffer);
    const bytes = new Uint8Array(buf);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes[0]).toBe(TAG_BATCH);
    const expectedBody = worker.Batch.encode(
      worker.Batch.create({ envelopes: [toEnvelope(actors.ProbeTick.create({ round: 1 }))] }),
    ).finish();
    expect(buf.byteLength).toBe(expectedBody.byteLength + 1);
    expect([...bytes.subarray(1)]).toEqual([...expectedBody]);
    // Far smaller than Node's 8 KiB Buffer pool slab.
    expect(buf.byteLength).toBeLessThan(64);
  });

  it('ownedArrayBuffer copies a pooled Buffer view into a buffer of exactly its size', () => {
    const pooled = Buffer.from([9, 8, 7]);
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength); // really a pool view
    const out = ownedArrayBuffer(pooled);
    expect(out.byteLength).toBe(3);
    expect([...new Uint8Array(out)]).toEqual([9, 8, 7]);
    const tagged = ownedArrayBuffer(pooled, 5);
    expect([...new Uint8Array(tagged)]).toEqual([5, 9, 8, 7]);
    // A copy: later writes to the source do not show through.
    pooled[0] = 0;
    expect(new Uint8Array(out)[0]).toBe(9);
  });

  it('is transferable: posting with a transfer list detaches it, and the receiver decodes it', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const original = [pingReceived(5), memberChanged()];
      const buf = encodeBatch(original);
      const size = buf.byteLength;
      expect(size).toBeGreaterThan(1);
      const received = once(port2, 'message');
      port1.postMessage(buf, [buf]);
      expect(buf.byteLength).toBe(0); // detached: moved, not copied
      const [data] = (await received) as [unknown];
      expect(data).toBeInstanceOf(ArrayBuffer);
      expect((data as ArrayBuffer).byteLength).toBe(size);
      const { messages, unknownTypes } = asBatch(decodeFrame(data, registry));
      expect(unknownTypes).toEqual([]);
      expect(messages.map(norm)).toEqual(original.map(norm));
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('a control frame is transferable too', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const buf = encodeControl(worker.ThreadControl.create({ stop: { group: 'g' } }));
      const received = once(port2, 'message');
      port1.postMessage(buf, [buf]);
      expect(buf.byteLength).toBe(0);
      const [data] = (await received) as [unknown];
      const frame = decodeFrame(data, registry);
      expect(frame.kind).toBe('control');
      if (frame.kind === 'control') expect(frame.control.stop?.group).toBe('g');
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('reports unknown type names instead of throwing, and still decodes the known messages', () => {
    const partial = new MessageRegistry().register(actors.ProbeTick);
    const buf = encodeBatch([
      actors.ProbeTick.create({ round: 1 }),
      pingReceived(1),
      actors.ProbeTick.create({ round: 2 }),
      memberChanged(),
    ]);
    const { messages, unknownTypes } = asBatch(decodeFrame(buf, partial));
    expect(messages.map((m) => (m as actors.ProbeTick).round)).toEqual([1, 2]);
    expect(unknownTypes).toEqual([typeNameOf(actors.PingReceived), 'memberlist.actors.MemberChanged']);
  });

  it('reports a made-up type name from a hand-built envelope', () => {
    const batch = worker.Batch.create({
      envelopes: [
        { type: 'acme.custom.Thing', body: new Uint8Array([8, 1]) },
        { type: '', body: new Uint8Array(0) },
      ],
    });
    const buf = ownedArrayBuffer(worker.Batch.encode(batch).finish(), TAG_BATCH);
    const { messages, unknownTypes } = asBatch(decodeFrame(buf, registry));
    expect(messages).toEqual([]);
    expect(unknownTypes).toEqual(['acme.custom.Thing', '']);
  });

  it('round-trips control frames', () => {
    const controls = [
      worker.ThreadControl.create({ start: { group: 'g1', node: 'n1' } }),
      worker.ThreadControl.create({ started: { group: 'g1', accepts: ['memberlist.actors.ProbeTick', 'x.Y'] } }),
      worker.ThreadControl.create({ stop: { group: 'g1' } }),
      worker.ThreadControl.create({ stopped: { group: 'g1' } }),
      worker.ThreadControl.create({ failed: { group: 'g1', actor: 'probe', error: 'boom' } }),
    ];
    const kinds: string[] = [];
    for (const c of controls) {
      const buf = encodeControl(c);
      expect(buf).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(buf)[0]).toBe(TAG_CONTROL);
      const frame = decodeFrame(buf, registry);
      if (frame.kind !== 'control') throw new Error(`expected control, got ${frame.kind}`);
      expect(frame.control).toBeInstanceOf(worker.ThreadControl);
      expect(norm(frame.control)).toEqual(norm(c));
      kinds.push(String(frame.control.kind));
    }
    expect(kinds).toEqual(['start', 'started', 'stop', 'stopped', 'failed']);
  });

  it('gives kind "invalid" for things that are not a non-empty ArrayBuffer', () => {
    const bad: unknown[] = [
      undefined,
      null,
      'text',
      42,
      {},
      new ArrayBuffer(0),
      new Uint8Array([TAG_BATCH]), // a view, not an ArrayBuffer
      Buffer.from([TAG_BATCH]),
      new SharedArrayBuffer(4),
    ];
    for (const b of bad) expect(decodeFrame(b, registry).kind).toBe('invalid');
  });

  it('gives kind "invalid" for an unknown frame tag, with a reason', () => {
    for (const tag of [0, 3, 255]) {
      const frame = decodeFrame(new Uint8Array([tag, 1, 2, 3]).buffer, registry);
      expect(frame.kind).toBe('invalid');
      if (frame.kind === 'invalid') expect(frame.reason).toMatch(/tag/);
    }
  });

  it('gives kind "invalid" for truncated or garbage bodies (never throws)', () => {
    const good = new Uint8Array(encodeBatch([pingReceived(1), memberChanged()]));
    const cases: Uint8Array[] = [
      good.subarray(0, good.length - 3), // truncated
      new Uint8Array([TAG_BATCH, 0x0a, 0xff]), // length-delimited field whose length runs past the end
      new Uint8Array([TAG_BATCH, 0x0a, 0x05, 0x0a]), // envelope claims 5 bytes, has 1
      new Uint8Array([TAG_BATCH, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // bad varint
      new Uint8Array([TAG_BATCH, 0x0f]), // wire type 7 does not exist
      new Uint8Array([TAG_CONTROL, 0x0a, 0xff]),
    ];
    for (const c of cases) {
      const copy = new Uint8Array(c); // an exact ArrayBuffer
      let frame: DecodedFrame | undefined;
      expect(() => (frame = decodeFrame(copy.buffer, registry))).not.toThrow();
      expect(frame?.kind).toBe('invalid');
      if (frame?.kind === 'invalid') expect(frame.reason.length).toBeGreaterThan(0);
    }
  });

  it('gives kind "invalid" when a known type has an undecodable body', () => {
    const batch = worker.Batch.create({
      envelopes: [{ type: 'memberlist.actors.PingReceived', body: new Uint8Array([0x0a, 0x50, 0x01]) }],
    });
    const frame = decodeFrame(ownedArrayBuffer(worker.Batch.encode(batch).finish(), TAG_BATCH), registry);
    expect(frame.kind).toBe('invalid');
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(TAG_BATCH, TAG_CONTROL, 7), (body, tag) => {
        const buf = ownedArrayBuffer(body, tag);
        const frame = decodeFrame(buf, registry);
        expect(['batch', 'control', 'invalid']).toContain(frame.kind);
        if (tag === 7) expect(frame.kind).toBe('invalid');
      }),
      { seed: 3, numRuns: 2000 },
    );
  });

  it('toEnvelope refuses objects that are not generated messages', () => {
    expect(() => toEnvelope({ round: 1 })).toThrow(TypeError);
    expect(() => encodeBatch([{}])).toThrow(TypeError);
    const env = toEnvelope(actors.ProbeTick.create({ round: 3 }));
    expect(env.type).toBe('memberlist.actors.ProbeTick');
    expect(actors.ProbeTick.decode(env.body).round).toBe(3);
  });
});

describe('BatchSender', () => {
  it('posts everything added in one synchronous burst as a single batch, in a microtask', () => {
    const clock = new VirtualClock();
    const posted: ArrayBuffer[] = [];
    const sender = new BatchSender(clock, (b) => posted.push(b));
    for (let i = 1; i <= 50; i++) sender.add(actors.ProbeTick.create({ round: i }));
    expect(posted).toHaveLength(0);
    clock.runDue();
    expect(posted).toHaveLength(1);
    const { messages } = asBatch(decodeFrame(posted[0], registry));
    expect(messages.map((m) => (m as actors.ProbeTick).round)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // The next burst is a new batch.
    sender.add(actors.ProbeTick.create({ round: 51 }));
    clock.runDue();
    expect(posted).toHaveLength(2);
  });

  it('posts nothing for an empty flush, and nothing after close()', () => {
    const clock = new VirtualClock();
    const posted: ArrayBuffer[] = [];
    const sender = new BatchSender(clock, (b) => posted.push(b));
    sender.flush();
    expect(posted).toHaveLength(0);
    sender.add(actors.ProbeTick.create({ round: 1 }));
    sender.close();
    clock.runDue();
    sender.add(actors.ProbeTick.create({ round: 2 }));
    clock.runDue();
    expect(posted).toHaveLength(0);
  });
});
