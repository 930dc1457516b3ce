// The main job: a local cluster of real nodes on 127.0.0.1 exchanging SWIM pings and acks.
// `npm run demo -- --nodes 8 --seconds 5 --profile local`
import { parseArgs } from 'node:util';
import { actors, createNode, type Actor, type MemberlistNode, type Profile } from '../src/index.js';
import { toWireAddress } from '../src/codec/address.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    profile: { type: 'string', default: 'lan' },
  },
});
const count = Number(values.nodes);
const seconds = Number(values.seconds);
const profile = values.profile as Profile;
if (!Number.isInteger(count) || count < 2 || count > 500) {
  console.error('--nodes must be an integer from 2 to 500');
  process.exit(2);
}
if (!(seconds > 0)) {
  console.error('--seconds must be a positive number');
  process.exit(2);
}

// Introduces `about` to `node` as gossip would: an alive message delivered through its actors.
function introduce(node: MemberlistNode, about: MemberlistNode): void {
  const addr = toWireAddress(about.advertiseAddress.host);
  node.send(
    actors.AliveReceived.create({
      alive: { node: about.name, incarnation: 1, ipv4: addr.ipv4, ipv6: addr.ipv6, port: about.advertiseAddress.port, protocolMin: 1, protocolMax: 5, protocolCur: 2 },
      from: { host: about.advertiseAddress.host, port: about.advertiseAddress.port },
    }),
  );
}

const rtts: number[] = [];
function rttRecorder(): Actor {
  return {
    name: 'demo-rtt',
    accepts: [actors.PingCompleted],
    receive(m) {
      if (m instanceof actors.PingCompleted) rtts.push(m.rttMs);
    },
  };
}

const started = performance.now();
const nodes: MemberlistNode[] = [];
for (let i = 0; i < count; i++) {
  const node = await createNode({ name: `node-${i}`, bindAddr: '127.0.0.1', bindPort: 0, profile });
  node.spawn(rttRecorder());
  nodes.push(node);
}
console.log(`started ${count} nodes (profile ${profile}) in ${(performance.now() - started).toFixed(0)} ms`);
for (const a of nodes) for (const b of nodes) if (a !== b) introduce(a, b);

const tick = setInterval(() => {
  const known = nodes.map((n) => n.numMembers());
  console.log(`t=${((performance.now() - started) / 1000).toFixed(1)}s members known per node: min ${Math.min(...known)} max ${Math.max(...known)}; acks so far: ${rtts.length}`);
}, 1000);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(tick);

const sorted = [...rtts].sort((x, y) => x - y);
const pct = (p: number): string => (sorted.length === 0 ? '-' : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(3));
console.table([
  {
    nodes: count,
    profile,
    'probes acked': rtts.length,
    'rtt p50 ms': pct(50),
    'rtt p99 ms': pct(99),
    'packets out': nodes.reduce((s, n) => s + n.metrics().packetsOut, 0),
    'drops in': nodes.reduce((s, n) => s + Object.values(n.metrics().dropsIn).reduce((a, b) => a + b, 0), 0),
  },
]);
await Promise.all(nodes.map((n) => n.shutdown()));
console.log('all nodes shut down');
