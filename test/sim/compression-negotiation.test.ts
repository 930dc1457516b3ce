/**
 * Compression negotiated by protocol version, on a MemoryNetwork and virtual time: real nodes learn
 * (from gossip, through the membership actor) that one member announced protocol max 4, and from then
 * on send it every packet and stream frame without the compression layer, while a member announcing 5
 * keeps getting compressed ones. Both members are raw endpoints that answer pings, so they stay alive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_COMPRESSED, FRAME_CRC32, LayeredCodec } from '../../src/codec/layers.js';
import { FrameDecoder } from '../../src/transport/framing.js';
import type { MemberlistNode } from '../../src/node.js';
import { SimulatedCluster } from '../../src/testing/index.js';
import type { MemoryTransport } from '../../src/testing/memory-network.js';

/** A member we play by hand: announces `protocolMax`, acks pings, records what reaches it. */
class RawMember {
  readonly codec = new LayeredCodec();
  /** Datagrams and stream frames whose body is at least the compression threshold, by compressed or not. */
  readonly large = { compressed: 0, plain: 0 };
  streamFrames = 0;

  constructor(
    readonly name: string,
    readonly transport: MemoryTransport,
    readonly protocolMax: number,
  ) {
    transport.setHandlers({
      packet: (buf, from) => {
        this.#count(buf);
        const r = this.codec.decodePacket(buf);
        if (!r.ok) return;
        for (const m of r.value) {
          if (m.ping) this.transport.sendPacket(from, this.codec.encodePacket([{ ack: { seqNo: m.ping.seqNo } }]));
        }
      },
      stream: (conn) => {
        const decoder = new FrameDecoder(1 << 24);
        conn.setHandlers({
          data: (chunk) => {
            const [frame] = decoder.push(chunk);
            if (frame === undefined) return;
            this.streamFrames++;
            this.#count(frame);
            conn.destroy();
          },
          end: () => {},
          close: () => {},
        });
      },
    });
  }

  /** Our alive, as a datagram a real node accepts. */
  alive(): Uint8Array {
    const a = this.transport.localAddress;
    const [o1, o2, o3, o4] = a.host.split('.').map(Number) as [number, number, number, number];
    const ipv4 = ((o1 << 24) | (o2 << 16) | (o3 << 8) | o4) >>> 0;
    return this.codec.encodePacket([
      {
        alive: {
          incarnation: 1,
          node: this.name,
          ipv4,
          port: a.port,
          protocolMin: 1,
          protocolMax: this.protocolMax,
          protocolCur: 2,
          delegateMin: 0,
          delegateMax: 0,
          delegateCur: 0,
        },
      },
    ]);
  }

  #count(buf: Uint8Array): void {
    // Unencrypted, no label: [FRAME_CRC32][crc u32][body]; the body is compressed or the compound.
    if (buf[0] !== FRAME_CRC32 || buf.length < 5 + 256) return;
    if (buf[5] === FRAME_COMPRESSED) this.large.compressed++;
    else this.large.plain++;
  }
}

describe('compression negotiated by protocol version', () => {
  let cluster: SimulatedCluster | undefined;
  afterEach(async () => {
    await cluster?.shutdown();
    cluster = undefined;
  });

  it('members that announced protocol max 4 get everything plain; members at 5 get compressed payloads', async () => {
    const c = new SimulatedCluster({ seed: 7, network: { latencyMs: 1 }, nodeOptions: { profile: 'local', enableCompression: true } });
    cluster = c;
    const nodes = await c.addNodes(4);
    await c.joinAll(0);
    const old = new RawMember('old', c.network.createTransport({}), 4);
    const current = new RawMember('current', c.network.createTransport({}), 5);
    const seed = nodes[0] as MemberlistNode;
    for (const raw of [old, current]) raw.transport.sendPacket(seed.advertiseAddress, raw.alive());
    const known = await c.runUntil(() => nodes.every((n) => n.members().filter((m) => m.name === 'old' || m.name === 'current').length === 2), 30_000);
    expect(known, 'every node learns both raw members').toBeDefined();

    // Compressible gossip large enough to be compressed (>= 256 bytes per packet), from every node.
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(8));
    for (let round = 0; round < 20; round++) {
      for (const [i, n] of nodes.entries()) void n.broadcast(text, { key: `k-${i}` });
      await c.runFor(2_000);
    }
    // Push-pull streams to both (the local preset pushes every 15 s to a random member).
    await c.runFor(120_000);

    expect(nodes.every((n) => n.members().find((m) => m.name === 'old')?.state === 'alive')).toBe(true);
    expect(current.large.compressed, 'the control member does get compressed payloads').toBeGreaterThan(0);
    expect(old.large.plain, 'large payloads did reach the old member').toBeGreaterThan(0);
    expect(old.large.compressed).toBe(0);
    expect(old.streamFrames, 'push-pull streams reached the old member').toBeGreaterThan(0);
  });
});
