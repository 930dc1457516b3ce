/**
 * NetTransport against the transport contract on real UDP/TCP sockets (IPv4 loopback, and IPv6 loopback
 * where the host has it), plus what only a real-socket transport has: port binding, the dial timer on
 * the injected clock, address mapping on dual-stack sockets and releasing every handle on shutdown.
 */
import * as dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, TransportError } from '../../src/errors.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { literalLookup, NetTransport } from '../../src/transport/net-transport.js';
import type { Endpoint } from '../../src/transport/transport.js';
import { transportContract, type TransportPair } from './transport-contract.js';

const SETTLE_LIMIT_MS = 5_000;

/** Polls with real I/O in between, since the sockets are real; bounded so that a failure cannot hang. */
async function settleReal(predicate: () => boolean): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > SETTLE_LIMIT_MS) throw new Error(`condition not met within ${SETTLE_LIMIT_MS} ms`);
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

function netHarness(bindAddr: string): { make(): Promise<TransportPair> } {
  return {
    async make() {
      const a = await NetTransport.create({ bindAddr, bindPort: 0 });
      const b = await NetTransport.create({ bindAddr, bindPort: 0 });
      return {
        a,
        b,
        settle: settleReal,
        cleanup: async () => {
          await Promise.all([a.shutdown(), b.shutdown()]);
        },
      };
    },
  };
}

async function canBind(address: string): Promise<boolean> {
  const socket = dgram.createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0 }, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

const ipv6 = await canBind('::1');

transportContract('NetTransport 127.0.0.1', netHarness('127.0.0.1'));

if (ipv6) {
  transportContract('NetTransport [::1]', netHarness('::1'));
} else {
  describe.skip('Transport contract: NetTransport [::1] (skipped: this host cannot bind ::1)', () => {
    it('needs IPv6 loopback', () => undefined);
  });
}

/** Socket handles of this process, by kind: what would keep it alive after the tests. */
function socketHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (/^(TCP|UDP|Connect)/.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

describe('NetTransport', () => {
  it('binds TCP and UDP on one port, taking a free one for port 0', async () => {
    const t = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    try {
      expect(t.kind).toBe('udp+tcp');
      expect(t.localAddress.host).toBe('127.0.0.1');
      expect(t.localAddress.port).toBeGreaterThan(0);
      // Both protocols answer on that port: a stream to it is accepted, a packet to it is received.
      const got: Endpoint[] = [];
      let accepted = 0;
      t.setHandlers({ packet: (_buf, from) => got.push(from), stream: () => accepted++ });
      expect(t.sendPacket(t.localAddress, new Uint8Array([1]))).toBe(true);
      await t.dial(t.localAddress, 2_000);
      await settleReal(() => got.length === 1 && accepted === 1);
      expect(got[0]).toEqual(t.localAddress);
    } finally {
      await t.shutdown();
    }
  });

  it('rejects a port that is taken with ERR_TRANSPORT', async () => {
    const first = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    try {
      const error = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: first.localAddress.port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).code).toBe('ERR_TRANSPORT');
    } finally {
      await first.shutdown();
    }
  });

  it('rejects a bind address that is not an IP literal', async () => {
    await expect(NetTransport.create({ bindAddr: 'localhost', bindPort: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('stamps received packets with the injected clock', async () => {
    const clock = new VirtualClock(12_345);
    const a = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    const b = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0, clock });
    try {
      const times: number[] = [];
      b.setHandlers({ packet: (_buf, _from, at) => times.push(at), stream: (conn) => conn.destroy() });
      a.sendPacket(b.localAddress, new Uint8Array([1]));
      await settleReal(() => times.length === 1);
      expect(times).toEqual([12_345]);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('times a dial out on its clock with ERR_DIAL_TIMEOUT', async () => {
    const clock = new VirtualClock();
    const a = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0, clock });
    const b = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    try {
      b.setHandlers({ packet: () => undefined, stream: (conn) => conn.destroy() });
      const dial = a.dial(b.localAddress, 500);
      // The connect cannot complete before the event loop turns, so the timer wins deterministically.
      clock.advance(499);
      let settled = false;
      dial.then(
        () => (settled = true),
        () => (settled = true),
      );
      await Promise.resolve();
      expect(settled).toBe(false);
      clock.advance(1);
      const error = await dial.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).code).toBe('ERR_DIAL_TIMEOUT');
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  it('counts an asynchronous send failure as a drop', async () => {
    const t = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    try {
      // An IPv6 destination cannot be reached from a udp4 socket; dgram reports it after returning.
      expect(t.sendPacket({ host: '::1', port: 9 }, new Uint8Array([1]))).toBe(true);
      await settleReal(() => t.stats.packetsDropped === 1);
    } finally {
      await t.shutdown();
    }
  });

  it('leaves no socket handles behind once shutdown resolves', async () => {
    const before = socketHandles();
    const t = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    expect(socketHandles()).not.toEqual(before);
    await t.shutdown();
    expect(socketHandles()).toEqual(before);
  });

  it('closes a stream destroyed after its own end() (a reset cannot follow a FIN: it used to never close)', async () => {
    const a = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    const b = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    b.setHandlers({ packet: () => undefined, stream: (c) => c.setHandlers({ data: () => undefined, end: () => undefined, close: () => undefined }) });
    const conn = await a.dial(b.localAddress, 2_000);
    let closed = false;
    conn.setHandlers({ data: () => undefined, end: () => undefined, close: () => void (closed = true) });
    conn.end();
    conn.destroy(new TransportError('gone'));
    await settleReal(() => closed);
    // And shutdown does not wait on it (it used to hang, then spin at process exit).
    await a.shutdown();
    await b.shutdown();
    expect(closed).toBe(true);
  });

  it('leaves no socket handles behind after shutdown, even with open streams and a dial in flight', async () => {
    const before = socketHandles();
    const a = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    const b = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
    let accepted = 0;
    b.setHandlers({ packet: () => undefined, stream: () => accepted++ });
    const conn = await a.dial(b.localAddress, 2_000);
    conn.setHandlers({ data: () => undefined, end: () => undefined, close: () => undefined });
    await settleReal(() => accepted === 1);
    // A dial that is still connecting when shutdown starts must be aborted and its socket released.
    const pending = a.dial(b.localAddress, 2_000).then(
      () => 'connected',
      (e: unknown) => (e as TransportError).code,
    );
    expect(socketHandles()).not.toEqual(before);
    await a.shutdown();
    expect(await pending).toBe('ERR_TRANSPORT');
    await b.shutdown();
    // Checked straight away: shutdown itself must wait until libuv has let go of the handles.
    expect(socketHandles()).toEqual(before);
  });

  it('answers an IP literal destination at once and sends anything else to the resolver', async () => {
    const answers: Array<[string, number]> = [];
    literalLookup('127.0.0.1', 4, (err, address, family) => {
      expect(err).toBeNull();
      answers.push([address, family]);
    });
    literalLookup('::1', 6, (_err, address, family) => answers.push([address, family]));
    // Synchronously: no deferred callback per packet.
    expect(answers).toEqual([
      ['127.0.0.1', 4],
      ['::1', 6],
    ]);
    const resolved = await new Promise<[NodeJS.ErrnoException | null, string]>((resolve) =>
      literalLookup('localhost', 4, (err, address) => resolve([err, address])),
    );
    expect(resolved).toEqual([null, '127.0.0.1']);
    expect(answers).toHaveLength(2);
  });

  describe.skipIf(!ipv6)('dual stack (skipped when this host cannot bind ::1)', () => {
    it('on "::" serves IPv4 peers and reports them by their IPv4 address', async () => {
      const v6 = await NetTransport.create({ bindAddr: '::', bindPort: 0 });
      const v4 = await NetTransport.create({ bindAddr: '127.0.0.1', bindPort: 0 });
      try {
        const atV6: Endpoint[] = [];
        const atV4: Endpoint[] = [];
        v6.setHandlers({ packet: (_b, from) => atV6.push(from), stream: (c) => c.destroy() });
        v4.setHandlers({ packet: (_b, from) => atV4.push(from), stream: (c) => c.destroy() });
        v4.sendPacket({ host: '127.0.0.1', port: v6.localAddress.port }, new Uint8Array([1]));
        await settleReal(() => atV6.length === 1);
        expect(atV6[0]).toEqual(v4.localAddress);
        // And back: an IPv4 destination from the udp6 socket.
        v6.sendPacket(v4.localAddress, new Uint8Array([2]));
        await settleReal(() => atV4.length === 1);
        expect(atV4[0]).toEqual({ host: '127.0.0.1', port: v6.localAddress.port });
      } finally {
        await Promise.all([v6.shutdown(), v4.shutdown()]);
      }
    });
  });
});
