// The main job: a local cluster of real nodes on 127.0.0.1, on default settings. It forms the
// cluster through one seed, kills one node without a leave and shows its detection, makes another
// node leave, and ends with a table of the measured times.
//   npm run demo -- --nodes 25 --profile lan --threading isolated
import { parseArgs } from 'node:util';
import { createNode, type MemberlistNode, type Profile, type Threading } from '../src/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '25' },
    profile: { type: 'string', default: 'lan' },
    timeout: { type: 'string', default: '120' },
    // Each node's protocol actors on its own worker thread (the default) or all on this thread.
    threading: { type: 'string', default: 'isolated' },
  },
});
const threading = values.threading as Threading;
const count = Number(values.nodes);
const profile = values.profile as Profile;
const limitMs = Number(values.timeout) * 1000;
if (!Number.isInteger(count) || count < 3 || count > 1000) fail('--nodes must be an integer from 3 to 1000');
if (!['lan', 'wan', 'local'].includes(profile)) fail("--profile must be 'lan', 'wan' or 'local'");
if (!(limitMs > 0)) fail('--timeout must be a positive number of seconds');
if (threading !== 'isolated' && threading !== 'inline') fail("--threading must be 'isolated' or 'inline'");

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(2);
}

const tty = process.stdout.isTTY === true;
const t0 = performance.now();
const since = (t: number): string => `${((performance.now() - t) / 1000).toFixed(2)} s`;
let lastLine = '';
function progress(line: string): void {
  if (tty) {
    process.stdout.write(`\r\x1b[2K${line}`);
  } else if (line !== lastLine) {
    console.log(line);
  }
  lastLine = line;
}
function done(line: string): void {
  if (tty) process.stdout.write('\r\x1b[2K');
  console.log(line);
  lastLine = '';
}
function bar(k: number, n: number): string {
  const width = 30;
  const fill = Math.round((k / n) * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${k}/${n}`;
}

/** Re-evaluates `check` on every membership event (and on a slow tick for the progress line). */
async function until(nodes: MemberlistNode[], check: () => boolean, show: () => string): Promise<boolean> {
  const started = performance.now();
  return new Promise((resolve) => {
    const evaluate = (): void => {
      progress(show());
      if (check()) finish(true);
      else if (performance.now() - started > limitMs) finish(false);
    };
    const finish = (ok: boolean): void => {
      clearInterval(tick);
      for (const n of nodes) for (const ev of events) n.off(ev, evaluate);
      resolve(ok);
    };
    const events = ['join', 'leave', 'suspect', 'alive'] as const;
    for (const n of nodes) for (const ev of events) n.on(ev, evaluate);
    const tick = setInterval(evaluate, tty ? 100 : 1000);
    evaluate();
  });
}

const stateOf = (n: MemberlistNode, name: string): string | undefined => n.members().find((m) => m.name === name)?.state;
const rows: Array<Record<string, string | number>> = [];

const nodes: MemberlistNode[] = [];
for (let i = 0; i < count; i++) nodes.push(await createNode({ name: `node-${String(i).padStart(2, '0')}`, bindAddr: '127.0.0.1', bindPort: 0, profile, threading }));
done(`started ${count} nodes on 127.0.0.1 (profile ${profile}, threading ${threading}) in ${since(t0)}`);

// 1. Form the cluster: everyone joins through node-00.
const seed = `127.0.0.1:${nodes[0]?.address.port}`;
const tJoin = performance.now();
const joins = await Promise.allSettled(nodes.slice(1).map((n) => n.join([seed])));
const joinErrors = joins.filter((j) => j.status === 'rejected').length;
const knowsAll = (): number => nodes.filter((n) => n.numMembers() === count).length;
const converged = await until(nodes, () => knowsAll() === count, () => `converging  ${bar(knowsAll(), count)} nodes know all ${count} members`);
const convergeMs = performance.now() - tJoin;
done(converged ? `converged: every node knows all ${count} members after ${since(tJoin)}` : `not converged within ${values.timeout} s (${knowsAll()}/${count})`);
rows.push({ phase: 'join through one seed', 'all nodes (s)': +(convergeMs / 1000).toFixed(2), detail: `${count} nodes, ${joinErrors} join errors` });

// 2. Kill a node without a leave and watch the others detect it.
const victim = nodes[Math.floor(count / 2)] as MemberlistNode;
const observers = nodes.filter((n) => n !== victim);
await victim.shutdown();
const tKill = performance.now();
let firstSuspect: number | undefined;
let firstDead: number | undefined;
const suspects = (): number => observers.filter((n) => stateOf(n, victim.name) === 'suspect').length;
const deads = (): number => observers.filter((n) => stateOf(n, victim.name) === 'dead').length;
const detected = await until(
  observers,
  () => {
    if (firstSuspect === undefined && (suspects() > 0 || deads() > 0)) firstSuspect = performance.now() - tKill;
    if (firstDead === undefined && deads() > 0) firstDead = performance.now() - tKill;
    return deads() === observers.length;
  },
  () => `detecting ${victim.name}  suspect at ${suspects()}  dead at ${bar(deads(), observers.length)}`,
);
const allDead = performance.now() - tKill;
done(detected ? `${victim.name} killed: first suspected after ${((firstSuspect ?? 0) / 1000).toFixed(2)} s, dead everywhere after ${since(tKill)}` : `${victim.name} not declared dead everywhere within ${values.timeout} s`);
rows.push({ phase: `kill ${victim.name} (no leave)`, 'first suspect (s)': +((firstSuspect ?? NaN) / 1000).toFixed(2), 'first dead (s)': +((firstDead ?? NaN) / 1000).toFixed(2), 'all nodes (s)': +(allDead / 1000).toFixed(2) });

// 3. A graceful leave.
const leaver = nodes[1] as MemberlistNode;
const stayers = observers.filter((n) => n !== leaver);
const tLeave = performance.now();
await leaver.leave(5000);
const lefts = (): number => stayers.filter((n) => stateOf(n, leaver.name) === 'left').length;
const leftEverywhere = await until(stayers, () => lefts() === stayers.length, () => `leaving ${leaver.name}  seen as left by ${bar(lefts(), stayers.length)}`);
const allLeft = performance.now() - tLeave;
await leaver.shutdown();
done(leftEverywhere ? `${leaver.name} left: seen as left (not failed) by all after ${since(tLeave)}` : `${leaver.name}'s leave not seen everywhere within ${values.timeout} s`);
rows.push({ phase: `leave ${leaver.name}`, 'all nodes (s)': +(allLeft / 1000).toFixed(2) });

console.log(`\nsummary (${count} nodes, profile ${profile}, real UDP/TCP on 127.0.0.1):`);
console.table(rows);
const m = nodes.map((n) => n.metrics());
console.log(`traffic: ${m.reduce((s, x) => s + x.packetsOut, 0)} packets and ${(m.reduce((s, x) => s + x.bytesOut, 0) / 1024).toFixed(1)} KiB sent over ${since(t0)}; ${m.reduce((s, x) => s + Object.values(x.dropsIn).reduce((a, b) => a + b, 0), 0)} inbound drops`);
await Promise.all(nodes.map((n) => n.shutdown()));
console.log('all nodes shut down');
if (!converged || !detected || !leftEverywhere) process.exitCode = 1;
