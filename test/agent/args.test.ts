/** The CLI's pure parts, in-process: flags, addresses, key files, the member table, pretty logs. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMembersTable, membersUrl, parseAgentArgs } from '../../src/agent/cli.js';
import { UsageError, parseHostPort } from '../../src/agent/address.js';
import { readKeyFile } from '../../src/agent/agent.js';
import { formatLine } from '../../src/agent/pretty-log.js';
import type { MemberView } from '../../src/agent/member-view.js';

describe('parseAgentArgs', () => {
  it('has safe defaults: lan preset, 0.0.0.0:7946, JSON logs at info, no HTTP', () => {
    expect(parseAgentArgs([])).toEqual({ bindAddr: '0.0.0.0', bindPort: 7946, join: [], profile: 'lan', logLevel: 'info', logFormat: 'json' });
  });

  it('reads every flag', () => {
    const o = parseAgentArgs([
      '--name', 'api-1', '--bind', '10.0.0.5:8000', '--advertise', 'api-1.internal:9000', '--join', 'a:7946', '--join', '[fd00::1]:7946',
      '--preset', 'wan', '--key-file', '/etc/key', '--label', 'prod', '--meta', 'zone=a', '--set', 'probeIntervalMs=500',
      '--set', 'cidrsAllowed=["10.0.0.0/8"]', '--set', 'dnsConfigPath=/x', '--http', ':8080', '--leave-timeout', '2000',
      '--log-level', 'debug', '--log-format', 'pretty',
    ]);
    expect(o).toEqual({
      name: 'api-1',
      bindAddr: '10.0.0.5',
      bindPort: 8000,
      advertiseAddr: 'api-1.internal',
      advertisePort: 9000,
      join: ['a:7946', '[fd00::1]:7946'],
      profile: 'wan',
      keyFile: '/etc/key',
      label: 'prod',
      meta: 'zone=a',
      config: { probeIntervalMs: 500, cidrsAllowed: ['10.0.0.0/8'], dnsConfigPath: '/x' },
      http: { host: '127.0.0.1', port: 8080 },
      leaveTimeoutMs: 2000,
      logLevel: 'debug',
      logFormat: 'pretty',
    });
    expect(parseAgentArgs(['--profile', 'local', '--bind', ':0'])).toMatchObject({ profile: 'local', bindAddr: '0.0.0.0', bindPort: 0 });
    expect(parseAgentArgs(['--help'])).toBe('help');
  });

  it('rejects bad values with a UsageError naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bind', '1.2.3.4:99999'], /--bind: port must be an integer in \[0, 65535\]/],
      [['--bind', '1.2.3.4:x'], /--bind: port/],
      [['--http', '127.0.0.1'], /--http needs a port/],
      [['--preset', 'fast'], /--preset must be lan, wan or local/],
      [['--preset', 'lan', '--profile', 'wan'], /same flag/],
      [['--log-level', 'loud'], /--log-level must be one of/],
      [['--log-format', 'xml'], /--log-format must be json or pretty/],
      [['--leave-timeout', '-1'], /--leave-timeout/],
      [['--set', 'probeIntervalMs'], /--set needs KEY=VALUE/],
      [['--set', 'bindPort=1'], /--set bindPort: use the dedicated flag/],
      [['--join', ':7946'], /--join: ":7946" has no host/],
      [['--name', ' '], /--name must not be empty/],
      [['--nope'], /unknown option "--nope"/],
    ];
    for (const [args, message] of cases) {
      expect(() => parseAgentArgs(args), args.join(' ')).toThrow(UsageError);
      expect(() => parseAgentArgs(args), args.join(' ')).toThrow(message);
    }
  });
});

describe('addresses', () => {
  it('parses host, host:port, :port, [v6], [v6]:port and bare IPv6', () => {
    expect(parseHostPort('a.example', 'x')).toEqual({ host: 'a.example', port: undefined });
    expect(parseHostPort('1.2.3.4:80', 'x')).toEqual({ host: '1.2.3.4', port: 80 });
    expect(parseHostPort(':80', 'x')).toEqual({ host: '', port: 80 });
    expect(parseHostPort('[::1]', 'x')).toEqual({ host: '::1', port: undefined });
    expect(parseHostPort('[::1]:7946', 'x')).toEqual({ host: '::1', port: 7946 });
    expect(parseHostPort('fd00::1', 'x')).toEqual({ host: 'fd00::1', port: undefined });
    expect(() => parseHostPort('a:b:c', 'x')).toThrow(/write IPv6 with a port as \[addr\]:port/);
    expect(() => parseHostPort('[::1', 'x')).toThrow(/missing "\]"/);
  });

  it('builds the /members URL from an address or a URL', () => {
    expect(membersUrl('127.0.0.1:8080').href).toBe('http://127.0.0.1:8080/members');
    expect(membersUrl(':8080').href).toBe('http://127.0.0.1:8080/members');
    expect(membersUrl('[::1]:8080/').href).toBe('http://[::1]:8080/members');
    expect(membersUrl('http://status.local:8080/agent').href).toBe('http://status.local:8080/agent/members');
    expect(() => membersUrl('127.0.0.1')).toThrow(/needs a port/);
  });
});

describe('readKeyFile', () => {
  it('accepts base64 keys of 16, 24 and 32 bytes, and refuses the rest on one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memberlist-keys-'));
    try {
      for (const n of [16, 24, 32]) {
        const file = join(dir, `k${n}`);
        const key = Buffer.alloc(n, n);
        writeFileSync(file, `  ${key.toString('base64')}\n`);
        expect(Buffer.from(await readKeyFile(file))).toEqual(key);
      }
      writeFileSync(join(dir, 'k20'), Buffer.alloc(20).toString('base64'));
      await expect(readKeyFile(join(dir, 'k20'))).rejects.toThrow(/the key is 20 bytes; it must be 16, 24 or 32/);
      writeFileSync(join(dir, 'empty'), '\n');
      await expect(readKeyFile(join(dir, 'empty'))).rejects.toThrow(/not base64/);
      writeFileSync(join(dir, 'junk'), 'c2VjcmV0!!c2VjcmV0');
      await expect(readKeyFile(join(dir, 'junk'))).rejects.toThrow(/not base64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('formatMembersTable', () => {
  const view = (name: string, state: MemberView['state'], extra: Partial<MemberView> = {}): MemberView => ({
    name,
    addr: '10.0.0.1',
    port: 7946,
    address: '10.0.0.1:7946',
    state,
    incarnation: 3,
    meta: '',
    metaText: '',
    local: false,
    health: {},
    ...extra,
  });

  it('aligns the columns, marks the answering agent, summarises the states', () => {
    const text = formatMembersTable([
      view('api-1', 'alive', { local: true, health: { score: 0 }, meta: 'em9uZT1h', metaText: 'zone=a' }),
      view('api-22', 'suspect', { health: { lastProbe: 'failed' } }),
      view('db', 'dead', { health: { lastProbe: 'ack', rttMs: 0.4321 }, meta: 'AAEC', metaText: null }),
    ]);
    expect(text.split('\n')).toEqual([
      'NAME     ADDRESS        STATE    INCARNATION  HEALTH        META',
      'api-1 *  10.0.0.1:7946  alive    3            score 0       zone=a',
      'api-22   10.0.0.1:7946  suspect  3            probe failed  -',
      'db       10.0.0.1:7946  dead     3            rtt 0.43 ms   (3 bytes)',
      '3 member(s): 1 alive, 1 suspect, 1 dead; * = the agent answering',
      '',
    ]);
    expect(formatMembersTable([view('a', 'alive')], true)).toContain('\x1b[32malive\x1b[0m');
  });
});

describe('pretty logs', () => {
  it('turns a pino line into time, level, [node/actor], message and key=value pairs', () => {
    const line = JSON.stringify({ level: 40, time: '2026-01-02T03:04:05.678Z', pid: 1, hostname: 'h', node: 'api-1', actor: 'probe', member: 'db', n: 2, msg: 'probe failed' });
    expect(formatLine(line)).toMatch(/^\d\d:\d\d:\d\d\.678 WARN {2}\[api-1\/probe\] probe failed member=db n=2$/);
    const err = JSON.stringify({ level: 50, time: 0, msg: 'boom', err: { type: 'Error', message: 'bad\nthing', stack: 'Error: bad\n    at x' } });
    expect(formatLine(err)).toMatch(/ERROR boom err="Error: bad\\nthing"$/);
    expect(formatLine('not json')).toBe('not json');
    expect(formatLine(JSON.stringify({ level: 30, time: 0, msg: 'x', text: 'two words' }))).toMatch(/text="two words"$/);
  });
});
