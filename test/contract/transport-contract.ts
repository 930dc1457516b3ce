/**
 * The behaviour every Transport must show, run against NetTransport (real sockets) and MemoryTransport
 * (simulated network). Tests never sleep: they wait through the harness's `settle`, which polls real
 * I/O for the net transport and advances the virtual clock for the memory network. Likewise a transport
 * promise is only awaited through `settled`, since on a virtual clock nothing happens until time moves.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest';

import { TransportError } from '../../src/errors.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import type { Conn, Endpoint, Transport, TransportHandlers } from '../../src/transport/transport.js';

export interface TransportPair {
  a: Transport;
  b: Transport;
  /** Lets the network run until `predicate` holds; rejects when it does not within a bounded time. */
  settle(predicate: () => boolean): Promise<void>;
  /** Shuts both transports down (they may already be shut down) and releases the harness. */
  cleanup(): Promise<void>;
}

export interface TransportHarness {
  make(): Promise<TransportPair>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const enc = (s: string): Uint8Array => encoder.encode(s);
const dec = (b: Uint8Array): string => decoder.decode(b);

interface ReceivedPacket {
  data: string;
  from: Endpoint;
  at: number;
}

/** What a Conn reported, in order. */
interface ConnRecord {
  events: Array<'data' | 'end' | 'close'>;
  chunks: Uint8Array[];
  ended: boolean;
  closed: boolean;
  closeCount: number;
  closeError: Error | undefined;
  bytes(): Uint8Array;
  text(): string;
}

function record(conn: Conn): ConnRecord {
  const rec: ConnRecord = {
    events: [],
    chunks: [],
    ended: false,
    closed: false,
    closeCount: 0,
    closeError: undefined,
    bytes: () => concat(rec.chunks),
    text: () => dec(rec.bytes()),
  };
  conn.setHandlers({
    data: (chunk) => {
      rec.events.push('data');
      rec.chunks.push(chunk.slice());
    },
    end: () => {
      rec.events.push('end');
      rec.ended = true;
    },
    close: (error) => {
      rec.events.push('close');
      rec.closed = true;
      rec.closeCount++;
      rec.closeError = error;
    },
  });
  return rec;
}

function concat(chunks: ReadonlyArray<Uint8Array>): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Handlers that record packets and accepted streams. */
function listener(): { handlers: TransportHandlers; packets: ReceivedPacket[]; accepted: Conn[] } {
  const packets: ReceivedPacket[] = [];
  const accepted: Conn[] = [];
  return {
    packets,
    accepted,
    handlers: {
      packet: (buf, from, at) => packets.push({ data: dec(buf), from, at }),
      stream: (conn) => accepted.push(conn),
    },
  };
}

/** A byte pattern that makes misordered or lost chunks visible. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function transportContract(name: string, harness: TransportHarness): void {
  describe(`Transport contract: ${name}`, { timeout: 20_000 }, () => {
    let pair: TransportPair;

    beforeEach(async () => {
      pair = await harness.make();
    });

    afterEach(async () => {
      await pair.cleanup();
    });

    /** Awaits a transport promise while letting the network run. */
    async function settled<T>(promise: Promise<T>): Promise<T> {
      let done = false;
      promise.then(
        () => (done = true),
        () => (done = true),
      );
      await pair.settle(() => done);
      return promise;
    }

    /** Dials b from a and returns both ends, recorded. */
    async function connect(): Promise<{ conn: Conn; accepted: Conn; aSide: ConnRecord; bSide: ConnRecord }> {
      const b = listener();
      pair.b.setHandlers(b.handlers);
      const conn = await settled(pair.a.dial(pair.b.localAddress, 2_000));
      const aSide = record(conn);
      await pair.settle(() => b.accepted.length === 1);
      const accepted = b.accepted[0] as Conn;
      return { conn, accepted, aSide, bSide: record(accepted) };
    }

    describe('packets', () => {
      it('delivers a packet with its bytes, the sender address and a receive time', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        expect(pair.a.sendPacket(pair.b.localAddress, enc('ping'))).toBe(true);
        await pair.settle(() => b.packets.length === 1);
        const got = b.packets[0] as ReceivedPacket;
        expect(got.data).toBe('ping');
        expect(got.from).toEqual(pair.a.localAddress);
        expect(Number.isFinite(got.at)).toBe(true);
      });

      it('copies the buffer at send, so the sender may reuse it at once', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        const buf = enc('original');
        pair.a.sendPacket(pair.b.localAddress, buf);
        buf.fill(0x78);
        await pair.settle(() => b.packets.length === 1);
        expect(b.packets[0]?.data).toBe('original');
      });

      it('delivers several packets', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        const sent = Array.from({ length: 50 }, (_, i) => `packet-${i}`);
        for (const s of sent) expect(pair.a.sendPacket(pair.b.localAddress, enc(s))).toBe(true);
        await pair.settle(() => b.packets.length === sent.length);
        expect(b.packets.map((p) => p.data).sort()).toEqual([...sent].sort());
      });

      it('carries packets both ways', async () => {
        const a = listener();
        const b = listener();
        pair.a.setHandlers(a.handlers);
        pair.b.setHandlers(b.handlers);
        pair.a.sendPacket(pair.b.localAddress, enc('to b'));
        pair.b.sendPacket(pair.a.localAddress, enc('to a'));
        await pair.settle(() => a.packets.length === 1 && b.packets.length === 1);
        expect(a.packets[0]?.data).toBe('to a');
        expect(a.packets[0]?.from).toEqual(pair.b.localAddress);
        expect(b.packets[0]?.data).toBe('to b');
      });

      it('counts packets and bytes on both sides', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        for (const size of [10, 200, 3000]) pair.a.sendPacket(pair.b.localAddress, new Uint8Array(size).fill(65));
        await pair.settle(() => b.packets.length === 3);
        expect(pair.a.stats).toMatchObject({ packetsSent: 3, bytesSent: 3210, packetsDropped: 0 });
        expect(pair.b.stats).toMatchObject({ packetsReceived: 3, bytesReceived: 3210, packetsDropped: 0 });
      });

      it('drops zero-length packets on receive', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        pair.a.sendPacket(pair.b.localAddress, new Uint8Array(0));
        pair.a.sendPacket(pair.b.localAddress, enc('marker'));
        await pair.settle(() => b.packets.length === 1 && pair.b.stats.packetsDropped === 1);
        expect(b.packets.map((p) => p.data)).toEqual(['marker']);
      });

      it('refuses an oversized packet with false and counts a drop', () => {
        expect(pair.a.sendPacket(pair.b.localAddress, new Uint8Array(70_000))).toBe(false);
        expect(pair.a.stats.packetsDropped).toBe(1);
        expect(pair.a.stats.packetsSent).toBe(0);
      });

      it('drops packets that arrive before handlers are set', async () => {
        pair.a.sendPacket(pair.b.localAddress, enc('too early'));
        await pair.settle(() => pair.b.stats.packetsDropped === 1);
        const b = listener();
        pair.b.setHandlers(b.handlers);
        pair.a.sendPacket(pair.b.localAddress, enc('on time'));
        await pair.settle(() => b.packets.length === 1);
        expect(b.packets.map((p) => p.data)).toEqual(['on time']);
      });

      it('survives a throwing packet handler and counts the packet as dropped', async () => {
        const seen: string[] = [];
        pair.b.setHandlers({
          packet: (buf) => {
            seen.push(dec(buf));
            if (seen.length === 1) throw new Error('handler bug');
          },
          stream: (conn) => conn.destroy(),
        });
        pair.a.sendPacket(pair.b.localAddress, enc('first'));
        await pair.settle(() => seen.length === 1);
        pair.a.sendPacket(pair.b.localAddress, enc('second'));
        await pair.settle(() => seen.length === 2);
        expect(seen).toEqual(['first', 'second']);
        expect(pair.b.stats.packetsDropped).toBe(1);
      });

      it('returns false from sendPacket after shutdown and counts a drop', async () => {
        await pair.a.shutdown();
        expect(pair.a.sendPacket(pair.b.localAddress, enc('x'))).toBe(false);
        expect(pair.a.stats.packetsDropped).toBe(1);
      });
    });

    describe('streams', () => {
      it('carries data both ways and half-closes: end arrives after all data, then both close cleanly', async () => {
        const { conn, accepted, aSide, bSide } = await connect();
        expect(conn.writable).toBe(true);
        expect(conn.write(enc('hello '))).toBe(true);
        expect(conn.write(enc('world'))).toBe(true);
        conn.end();
        expect(conn.writable).toBe(false);
        expect(conn.write(enc('too late'))).toBe(false);
        await pair.settle(() => bSide.ended);
        expect(bSide.text()).toBe('hello world');
        expect(bSide.events.at(-1)).toBe('end');
        expect(bSide.closed).toBe(false);

        // Half open: the side that received `end` can still answer.
        expect(accepted.writable).toBe(true);
        expect(accepted.write(enc('reply'))).toBe(true);
        accepted.end();
        await pair.settle(() => aSide.closed && bSide.closed);
        expect(aSide.text()).toBe('reply');
        expect(aSide.events.slice(-2)).toEqual(['end', 'close']);
        expect(aSide.closeError).toBeUndefined();
        expect(bSide.closeError).toBeUndefined();
        expect(aSide.closeCount).toBe(1);
        expect(bSide.closeCount).toBe(1);
        expect(pair.a.stats.streamsOpened).toBe(1);
        expect(pair.b.stats.streamsAccepted).toBe(1);
      });

      it('reports the endpoints of a stream', async () => {
        const { conn, accepted } = await connect();
        expect(conn.remote).toEqual(pair.b.localAddress);
        expect(conn.local.host).toBe(pair.a.localAddress.host);
        expect(accepted.local).toEqual(pair.b.localAddress);
        expect(accepted.remote.host).toBe(pair.a.localAddress.host);
      });

      it('moves a 5 MiB payload intact and in order', async () => {
        const { conn, bSide } = await connect();
        const payload = pattern(5 * 1024 * 1024, 42);
        const chunk = 64 * 1024;
        for (let at = 0; at < payload.length; at += chunk) {
          expect(conn.write(payload.subarray(at, at + chunk))).toBe(true);
        }
        conn.end();
        await pair.settle(() => bSide.ended);
        const got = bSide.bytes();
        expect(got.length).toBe(payload.length);
        expect(Buffer.compare(got, payload)).toBe(0);
      });

      it('copies written data, so the writer may reuse its buffer at once', async () => {
        const { conn, bSide } = await connect();
        const buf = enc('original');
        conn.write(buf);
        buf.fill(0x78);
        conn.end();
        await pair.settle(() => bSide.ended);
        expect(bSide.text()).toBe('original');
      });

      it('carries frames that FrameDecoder reassembles across arbitrary chunk boundaries', async () => {
        const { conn, accepted } = await connect();
        const frames: string[] = [];
        let ended = false;
        const frameDecoder = new FrameDecoder(1024 * 1024);
        accepted.setHandlers({
          data: (chunk) => {
            for (const f of frameDecoder.push(chunk)) frames.push(dec(f));
          },
          end: () => (ended = true),
          close: () => undefined,
        });
        const sent = ['', 'a', 'hello frame', 'x'.repeat(100_000), 'last'];
        const wire = concat(sent.map((s) => encodeFrame(enc(s))));
        // Write in awkward pieces: headers and payloads are split in every possible way.
        const sizes = [1, 3, 2, 7, 4, 1000, 5, 65_536];
        let at = 0;
        for (let i = 0; at < wire.length; i++) {
          const n = sizes[i % sizes.length] as number;
          conn.write(wire.subarray(at, at + n));
          at += n;
        }
        conn.end();
        await pair.settle(() => ended);
        expect(frames).toEqual(sent);
        expect(frameDecoder.pendingBytes).toBe(0);
      });

      it('buffers data that arrives before the acceptor sets its handlers', async () => {
        const b = listener();
        pair.b.setHandlers(b.handlers);
        const conn = await settled(pair.a.dial(pair.b.localAddress, 2_000));
        record(conn);
        await pair.settle(() => b.accepted.length === 1);
        conn.write(enc('early data'));
        conn.end();
        // A packet sent after the stream data is a barrier: once it is in, the data has had time to land.
        pair.a.sendPacket(pair.b.localAddress, enc('barrier'));
        await pair.settle(() => b.packets.length === 1);
        const bSide = record(b.accepted[0] as Conn);
        await pair.settle(() => bSide.ended);
        expect(bSide.text()).toBe('early data');
      });

      it('destroy closes both sides once; the peer sees an error', async () => {
        const { conn, aSide, bSide } = await connect();
        conn.destroy(new Error('boom'));
        expect(conn.writable).toBe(false);
        expect(conn.write(enc('x'))).toBe(false);
        conn.destroy(); // idempotent
        await pair.settle(() => aSide.closed && bSide.closed);
        expect(bSide.closeError).toBeInstanceOf(Error);
        expect(aSide.closeError?.message).toBe('boom');
        // One more round trip, so that a second close would have had time to show up.
        const b = listener();
        pair.b.setHandlers(b.handlers);
        pair.a.sendPacket(pair.b.localAddress, enc('barrier'));
        await pair.settle(() => b.packets.length === 1);
        expect(aSide.closeCount).toBe(1);
        expect(bSide.closeCount).toBe(1);
      });

      it('rejects a dial to an address where nothing listens', async () => {
        const target = pair.b.localAddress;
        await pair.b.shutdown();
        const error = await settled(pair.a.dial(target, 1_000)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TransportError);
        expect(['ERR_TRANSPORT', 'ERR_DIAL_TIMEOUT']).toContain((error as TransportError).code);
      });

      it('refuses inbound streams until the transport has handlers', async () => {
        const outcome = await settled(pair.a.dial(pair.b.localAddress, 2_000)).then(
          (conn) => conn,
          (e: unknown) => e,
        );
        if (outcome instanceof Error) {
          expect((outcome as TransportError).code).toBe('ERR_TRANSPORT');
        } else {
          // TCP completes the handshake in the kernel; the transport then closes the stream at once.
          const aSide = record(outcome as Conn);
          await pair.settle(() => aSide.closed);
        }
        expect(pair.b.stats.streamsAccepted).toBe(0);
      });

      it('survives a throwing stream handler: the stream is destroyed and counted as a drop', async () => {
        pair.b.setHandlers({
          packet: () => undefined,
          stream: () => {
            throw new Error('handler bug');
          },
        });
        const outcome = await settled(pair.a.dial(pair.b.localAddress, 2_000)).then(
          (conn) => conn,
          (e: unknown) => e,
        );
        // Over TCP the reset may overtake the handshake's completion, failing the dial itself.
        if (!(outcome instanceof Error)) {
          const aSide = record(outcome as Conn);
          await pair.settle(() => aSide.closed);
          expect(aSide.closeError).toBeInstanceOf(Error);
        }
        await pair.settle(() => pair.b.stats.packetsDropped === 1);
        expect(pair.b.stats.streamsAccepted).toBe(1);
      });

      it('rejects a dial after shutdown', async () => {
        await pair.a.shutdown();
        const error = await settled(pair.a.dial(pair.b.localAddress, 1_000)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TransportError);
      });
    });

    describe('shutdown', () => {
      it('is idempotent and closes open streams on both ends', async () => {
        const { aSide, bSide } = await connect();
        await Promise.all([pair.b.shutdown(), pair.b.shutdown()]);
        await pair.b.shutdown();
        await pair.settle(() => aSide.closed && bSide.closed);
        expect(aSide.closeError).toBeInstanceOf(Error);
        expect(bSide.closeError).toBeInstanceOf(Error);
        expect(aSide.closeCount).toBe(1);
        expect(bSide.closeCount).toBe(1);
        expect(pair.b.sendPacket(pair.a.localAddress, enc('x'))).toBe(false);
      });
    });
  });
}
