/**
 * The `memberlist-ts` CLI as operators run it: real child processes (`node --import tsx
 * src/agent/cli.ts ...`) on 127.0.0.1 with port 0, talking to nodes in this process and to each other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { waitForCluster } from '../helpers/wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'agent', 'cli.ts');

const FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2000,
};

/** A CLI process: its output so far, a way to wait for a line, and its exit. */
interface Cli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, limitMs?: number): Promise<RegExpMatchArray>;
}

const running = new Set<ChildProcess>();

function cli(args: readonly string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', MEMBERLIST_TS_DEBUG: '' },
  });
  running.add(child);
  const waiters = new Set<() => void>();
  const c: Cli = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    ),
    waitFor(pattern, limitMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = pattern.exec(c.stdout);
          if (m === null) return false;
          waiters.delete(check2);
          clearTimeout(guard);
          resolve(m);
          return true;
        };
        const check2 = (): void => void check();
        const guard = setTimeout(() => {
          waiters.delete(check2);
          reject(new Error(`no line matching ${pattern} within ${limitMs} ms; stdout:\n${c.stdout}\nstderr:\n${c.stderr}`));
        }, limitMs);
        if (!check()) waiters.add(check2);
      });
    },
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    c.stdout += d;
    for (const w of [...waiters]) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (c.stderr += d));
  return c;
}

/** Runs a CLI command to completion. */
async function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = cli(args);
  const { code } = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

/**
 * A loopback address no other test binds: a port released on 127.0.0.1 can be taken at once by one of the
 * thousands of nodes other test files bind there (port 0), and a join would then reach it.
 */
const UNUSED_HOST = '127.254.254.254';

/** A TCP port that nothing listens on at UNUSED_HOST (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, UNUSED_HOST, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr was:\n${stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m); // no stack trace
}

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

describe('memberlist-ts CLI: usage errors', () => {
  it('an unknown flag gives one line and exit code 2', async () => {
    const r = await run(['agent', '--bogus']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /^memberlist-ts agent: unknown option "--bogus"/);
  });

  it('a bad value, a missing value, an unknown command and a stray argument are one-line errors too', async () => {
    const [preset, missing, command, stray, members] = await Promise.all([
      run(['agent', '--preset', 'fast']),
      run(['agent', '--name']),
      run(['agnet']),
      run(['agent', 'extra']),
      run(['members']),
    ]);
    expect(preset.code).toBe(2);
    expectOneLineError(preset.stderr, /--preset must be lan, wan or local; got "fast"/);
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /--name/);
    expect(command.code).toBe(2);
    expectOneLineError(command.stderr, /unknown command "agnet"/);
    expect(stray.code).toBe(2);
    expectOneLineError(stray.stderr, /unexpected argument "extra"/);
    expect(members.code).toBe(2);
    expectOneLineError(members.stderr, /--http ADDR:PORT is required/);
  });

  it('--help prints the flags and exits 0', async () => {
    const r = await run(['agent', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--name', '--bind', '--advertise', '--join', '--preset', '--key-file', '--label', '--log-level', '--log-format', '--http']) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('memberlist-ts CLI: runtime errors', () => {
  it('an unreachable join gives one line and exit code 1', async () => {
    const port = await closedPort();
    const r = await run(['agent', '--name', 'lonely', '--bind', '127.0.0.1:0', '--preset', 'local', '--log-level', 'silent', '--join', `${UNUSED_HOST}:${port}`]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, new RegExp(`^memberlist-ts agent: join failed: no seed answered \\(127\\.254\\.254\\.254:${port}: .*ECONNREFUSED`));
  });

  it('a bad key file, a bind address in use and an unreachable --http are one-line errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memberlist-cli-'));
    try {
      writeFileSync(join(dir, 'short.key'), Buffer.alloc(10, 1).toString('base64'));
      writeFileSync(join(dir, 'garbage.key'), 'this is not base64 at all!');
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const busy = (blocker.address() as { port: number }).port;
      const port = await closedPort();
      const [short, garbage, missing, inUse, members] = await Promise.all([
        run(['agent', '--bind', '127.0.0.1:0', '--key-file', join(dir, 'short.key')]),
        run(['agent', '--bind', '127.0.0.1:0', '--key-file', join(dir, 'garbage.key')]),
        run(['agent', '--bind', '127.0.0.1:0', '--key-file', join(dir, 'nope.key')]),
        run(['agent', '--bind', '127.0.0.1:0', '--log-level', 'silent', '--http', `127.0.0.1:${busy}`]),
        run(['members', '--http', `${UNUSED_HOST}:${port}`]),
      ]);
      blocker.close();
      expect(short.code).toBe(1);
      expectOneLineError(short.stderr, /key file .*the key is 10 bytes; it must be 16, 24 or 32/);
      expect(garbage.code).toBe(1);
      expectOneLineError(garbage.stderr, /key file .*not base64/);
      expect(missing.code).toBe(1);
      expectOneLineError(missing.stderr, /key file .*cannot read it \(ENOENT\)/);
      expect(inUse.code).toBe(1);
      expectOneLineError(inUse.stderr, /cannot serve HTTP status on 127\.0\.0\.1:\d+: EADDRINUSE/);
      expect(members.code).toBe(1);
      expectOneLineError(members.stderr, /^memberlist-ts members: cannot reach http:\/\/127\.254\.254\.254:\d+\/members: ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('memberlist-ts agent with HTTP status, joined to a node in this process', () => {
  let seed: MemberlistNode;
  let agent: Cli;
  let base = '';
  let keyDir = '';

  beforeAll(async () => {
    seed = await createNode({ ...FAST, name: 'seed' });
    keyDir = mkdtempSync(join(tmpdir(), 'memberlist-key-'));
    const keyFile = join(keyDir, 'cluster.key');
    writeFileSync(keyFile, `${Buffer.alloc(32, 7).toString('base64')}\n`);
    // The seed runs without the key: the key file is only checked to load here (encryption is
    // tested with the transport). The label stays '' on both sides for the same reason.
    agent = cli([
      'agent',
      '--name', 'agent-1',
      '--bind', '127.0.0.1:0',
      '--preset', 'local',
      '--meta', 'role=web',
      '--set', 'probeIntervalMs=200', '--set', 'probeTimeoutMs=100', '--set', 'gossipIntervalMs=50',
      '--join', `127.0.0.1:${seed.address.port}`,
      '--http', '127.0.0.1:0',
      '--log-format', 'pretty',
      '--log-level', 'info',
    ]);
    base = (await agent.waitFor(/http status on (http:\/\/127\.0\.0\.1:\d+\/)/))[1] ?? '';
    await agent.waitFor(/joined 1 seed address/);
    await waitForCluster([seed], () => seed.numMembers() === 2, 15_000);
  }, 60_000);

  afterAll(async () => {
    agent.child.kill('SIGKILL');
    await seed.shutdown();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('prints where it listens, then serves /members, /health and /metrics', async () => {
    expect(agent.stdout).toMatch(/^memberlist-ts agent "agent-1" listening on 127\.0\.0\.1:\d+ \(advertising 127\.0\.0\.1:\d+\)$/m);

    const members = (await (await fetch(`${base}members`)).json()) as Array<Record<string, unknown>>;
    expect(members.map((m) => m['name'])).toEqual(['agent-1', 'seed']);
    const self = members.find((m) => m['name'] === 'agent-1');
    expect(self).toMatchObject({ state: 'alive', local: true, metaText: 'role=web', health: { score: 0 } });
    expect(members.find((m) => m['name'] === 'seed')).toMatchObject({ state: 'alive', local: false, address: `127.0.0.1:${seed.address.port}` });

    const health = await fetch(`${base}health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'healthy', node: 'agent-1', members: { alive: 2, suspect: 0, dead: 0, left: 0 } });

    // Let a few probes happen so the probe counters are non-zero.
    await new Promise((r) => setTimeout(r, 800));
    const res = await fetch(`${base}metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      expect(m, `malformed sample line: ${line}`).not.toBeNull();
      samples.set(m?.[1] ?? '', Number(m?.[2]));
    }
    expect(samples.get('memberlist_node_instances{node_state="alive"}')).toBe(2);
    expect(samples.get('memberlist_health_score')).toBe(0);
    expect(samples.get('memberlist_msg_sent_total{type="ping"}')).toBeGreaterThan(0);
    expect(samples.get('memberlist_udp_bytes_total{direction="out"}')).toBeGreaterThan(0);
    expect(samples.get('memberlist_probes_total{result="ack"}')).toBeGreaterThan(0);
    expect(samples.get('memberlist_push_pull_total{direction="outbound",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('memberlist_push_pull_duration_seconds_count{direction="outbound"}')).toBeGreaterThanOrEqual(1);
    expect(samples.has('memberlist_event_loop_delay_seconds{quantile="0.99"}')).toBe(true);
    expect(text).toContain('# TYPE memberlist_push_pull_duration_seconds histogram');

    expect((await fetch(`${base}nope`)).status).toBe(404);
  });

  it('`members --http` prints the table, and JSON with --json', async () => {
    const address = base.replace(/^http:\/\//, '').replace(/\/$/, '');
    const table = await run(['members', '--http', address]);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ADDRESS\s+STATE\s+INCARNATION\s+HEALTH\s+META$/);
    expect(lines[1]).toMatch(/^agent-1 \*\s+127\.0\.0\.1:\d+\s+alive\s+\d+\s+score 0\s+role=web$/);
    expect(lines[2]).toMatch(new RegExp(`^seed\\s+127\\.0\\.0\\.1:${seed.address.port}\\s+alive\\s+\\d+\\s+(rtt [\\d.]+ ms|-)\\s+-$`));
    expect(lines[3]).toMatch(/^2 member\(s\): 2 alive/);

    const json = await run(['members', '--http', base, '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as Array<{ name: string; state: string; incarnation: number }>;
    expect(parsed.map((m) => [m.name, m.state])).toEqual([
      ['agent-1', 'alive'],
      ['seed', 'alive'],
    ]);
  });

  it('SIGTERM leaves gracefully (the cluster records "left") and exits 0', async () => {
    const reasons: string[] = [];
    seed.on('leave', ({ member, reason }) => void (member.name === 'agent-1' && reasons.push(reason)));
    agent.child.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(0);
    expect(agent.stdout).toMatch(/leaving the cluster \(SIGTERM\)\nmemberlist-ts left the cluster; exiting\n$/);
    // pretty logs on stderr: readable lines, not JSON
    expect(agent.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[agent-1\] node started/m);
    expect(agent.stderr).not.toMatch(/^\{/m);
    await waitForCluster([seed], () => seed.members().find((m) => m.name === 'agent-1')?.state === 'left', 10_000);
    expect(reasons).toEqual(['left']);
    // The HTTP server was closed with the node.
    await expect(fetch(`${base}health`)).rejects.toThrow();
  });
});

describe('memberlist-ts agent: a second signal', () => {
  let seed: MemberlistNode;
  beforeAll(async () => {
    seed = await createNode({ ...FAST, name: 'seed-2' });
  });
  afterAll(async () => {
    await seed.shutdown();
  });

  it('exits at once while the graceful leave is still running', async () => {
    // Slow gossip and probing on the agent: its leave broadcast needs seconds to be sent enough times.
    const agent = cli([
      'agent', '--name', 'slow-leaver', '--bind', '127.0.0.1:0', '--preset', 'local', '--log-level', 'warn',
      '--set', 'gossipIntervalMs=10000', '--set', 'probeIntervalMs=10000', '--leave-timeout', '20000',
      '--join', `127.0.0.1:${seed.address.port}`,
    ]);
    await agent.waitFor(/joined 1 seed address/);
    agent.child.kill('SIGTERM');
    await agent.waitFor(/leaving the cluster \(SIGTERM\)/);
    const t0 = performance.now();
    agent.child.kill('SIGINT');
    const { code } = await agent.exited;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(code).toBe(130);
    expect(agent.stdout).toMatch(/second SIGINT: exiting now/);
    expect(agent.stdout).not.toMatch(/left the cluster; exiting/);
    expect(agent.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);
});
