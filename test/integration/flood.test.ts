import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { waitForCluster } from '../helpers/wait.js';

// The local preset's own timings (probe every 1 s, 200 ms timeout), tcpTimeoutMs 1 s.
const FAST = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' as const };

// The flooder runs in its own process, as an attacker would: in this process it would starve the
// peers' event loop too and measure the test harness instead of the node.
const FLOODER = `
const dgram = require('node:dgram');
const { randomBytes } = require('node:crypto');
const [port, ms, perTick] = process.argv.slice(1).map(Number);
const udp = dgram.createSocket('udp4');
const end = Date.now() + ms;
let sent = 0;
(function tick() {
  if (Date.now() >= end) { udp.close(); process.stdout.write(String(sent)); return; }
  for (let k = 0; k < perTick; k++) {
    const buf = randomBytes(1 + Math.floor(Math.random() * 1400));
    if (k % 3 === 0) buf[0] = 1 + (k % 5); // a valid-looking frame kind, garbage after it
    udp.send(buf, port, '127.0.0.1');
    sent++;
  }
  setTimeout(tick, 1);
})();
`;

describe('flood: garbage datagrams and half-open streams at a node over real sockets', () => {
  const nodes: MemberlistNode[] = [];
  const sockets: net.Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  it('the target keeps probing, counts the drops, and is never suspected by its peers', async () => {
    for (let i = 0; i < 4; i++) nodes.push(await createNode({ ...FAST, name: `flood-${i}` }));
    const target = nodes[0] as MemberlistNode;
    const seed = `127.0.0.1:${target.address.port}`;
    await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 4), 10_000);
    let accusations = 0;
    for (const n of nodes.slice(1)) n.on('suspect', ({ member }) => void (member.name === target.name && accusations++));
    for (const n of nodes.slice(1)) n.on('leave', ({ member }) => void (member.name === target.name && accusations++));
    const pingsBefore = target.metrics().messagesOut['ping'] ?? 0;

    // 200 half-open TCP streams: connect and send a frame header that promises bytes never sent.
    for (let i = 0; i < 200; i++) {
      const s = net.connect({ host: '127.0.0.1', port: target.address.port });
      s.on('error', () => {});
      s.on('connect', () => s.write(Buffer.from([0, 0, 0x10, 0])));
      sockets.push(s);
    }
    // 5 seconds of garbage datagrams from another process (random sizes and bytes, a third of them
    // starting with a valid-looking frame kind), about 20 per millisecond.
    const sent = await new Promise<number>((resolve, reject) => {
      execFile(process.execPath, ['-e', FLOODER, String(target.address.port), '5000', '20'], (err, stdout) =>
        err ? reject(err) : resolve(Number(stdout)),
      );
    });
    // Let the half-open streams hit their read timeout and the last probes finish.
    await new Promise((r) => setTimeout(r, 1500));

    const m = target.metrics();
    const dropsIn = Object.values(m.dropsIn).reduce((a, b) => a + b, 0);
    expect(sent).toBeGreaterThan(1000);
    // The kernel drops what overflows the receive buffer; everything that reached the node was
    // refused and counted, not processed.
    expect(dropsIn).toBeGreaterThan(1000);
    console.log('flood drops by reason', JSON.stringify(m.dropsIn));
    // Every half-open stream was refused or timed out, and counted.
    const streamDrops = Object.entries(m.dropsIn).filter(([k]) => k.startsWith('stream-')).reduce((a, [, v]) => a + v, 0);
    expect(streamDrops).toBeGreaterThanOrEqual(200);
    expect((m.messagesOut['ping'] ?? 0) - pingsBefore).toBeGreaterThan(5);
    expect(m.actors.every((a) => a.crashes === 0)).toBe(true);
    expect(accusations).toBe(0);
    for (const n of nodes) expect(n.numMembers()).toBe(4);
  });
});
