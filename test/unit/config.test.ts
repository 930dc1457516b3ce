import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  PRESETS,
  type MemberlistConfig,
  type NodeConfigOptions,
  parseCidr,
  type Profile,
  resolveConfig,
} from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

/** Runs `fn`, expects a ConfigError and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Resolves options that the type system would refuse (wrong types, unknown keys): what JS callers can pass. */
function resolveUntyped(options: Record<string, unknown>, ignoredKeys?: readonly string[]): MemberlistConfig {
  return resolveConfig(options as NodeConfigOptions, ignoredKeys);
}

describe('presets', () => {
  // memberlist config.go DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig (reference §8).
  const perProfile: ReadonlyArray<[keyof MemberlistConfig, number, number, number]> = [
    ['tcpTimeoutMs', 10_000, 30_000, 1_000],
    ['indirectChecks', 3, 3, 1],
    ['retransmitMult', 4, 4, 2],
    ['suspicionMult', 4, 6, 3],
    ['suspicionMaxTimeoutMult', 6, 6, 6],
    ['pushPullIntervalMs', 30_000, 60_000, 15_000],
    ['probeIntervalMs', 1_000, 5_000, 1_000],
    ['probeTimeoutMs', 500, 3_000, 200],
    ['gossipIntervalMs', 200, 500, 100],
    ['gossipNodes', 3, 4, 3],
    ['gossipToTheDeadMs', 30_000, 60_000, 15_000],
  ];
  it.each(perProfile)('%s: lan %i, wan %i, local %i', (field, lan, wan, local) => {
    expect(PRESETS.lan[field as keyof typeof PRESETS.lan]).toBe(lan);
    expect(PRESETS.wan[field as keyof typeof PRESETS.wan]).toBe(wan);
    expect(PRESETS.local[field as keyof typeof PRESETS.local]).toBe(local);
  });

  const shared: Partial<MemberlistConfig> = {
    bindAddr: '0.0.0.0',
    bindPort: 7946,
    advertiseAddr: '',
    advertisePort: 7946,
    protocolVersion: 2,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    secretKey: null,
    label: '',
    skipInboundLabelCheck: false,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    dnsConfigPath: '/etc/resolv.conf',
    handoffQueueDepth: 1024,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
    requireNodeNames: false,
    cidrsAllowed: [],
    queueCheckIntervalMs: 30_000,
    metaMaxSize: 512,
    maxPacketSize: 65_507,
    maxStreamFrameBytes: 20 * 1024 * 1024,
    maxPushPullEntries: 1_048_576,
    maxConcurrentPushPulls: 128,
    mailboxDrainBudget: 1024,
    actorMaxRestarts: 5,
    actorRestartWindowMs: 60_000,
  };
  it.each(['lan', 'wan', 'local'] as const)('%s shares the profile-independent defaults', (profile) => {
    expect(PRESETS[profile]).toMatchObject(shared);
  });

  it('every preset defines exactly the config keys but name', () => {
    const keys = CONFIG_KEYS.filter((k) => k !== 'name').sort();
    for (const profile of ['lan', 'wan', 'local'] as const) {
      expect(Object.keys(PRESETS[profile]).sort()).toEqual(keys);
    }
  });

  it('presets are frozen', () => {
    expect(Object.isFrozen(PRESETS)).toBe(true);
    expect(Object.isFrozen(PRESETS.lan)).toBe(true);
    expect(Object.isFrozen(PRESETS.lan.cidrsAllowed)).toBe(true);
  });
});

describe('resolveConfig: defaults and overrides', () => {
  it('defaults to the LAN profile and the host name', () => {
    const config = resolveConfig({});
    expect(config).toEqual({ ...PRESETS.lan, name: hostname() });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each(['lan', 'wan', 'local'] as const)('profile %s starts from its preset', (profile: Profile) => {
    expect(resolveConfig({ profile, name: 'n1' })).toEqual({ ...PRESETS[profile], name: 'n1' });
  });

  it('applies overrides on top of the profile', () => {
    const config = resolveConfig({
      profile: 'wan',
      name: 'node-a',
      probeIntervalMs: 2000,
      probeTimeoutMs: 1500,
      gossipNodes: 0,
      label: 'prod',
      cidrsAllowed: [' 10.0.0.0/8 ', 'fd00::/8'],
      bindAddr: '127.0.0.1',
      bindPort: 0,
    });
    expect(config.name).toBe('node-a');
    expect(config.probeIntervalMs).toBe(2000);
    expect(config.probeTimeoutMs).toBe(1500);
    expect(config.gossipNodes).toBe(0);
    expect(config.label).toBe('prod');
    expect(config.cidrsAllowed).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(config.bindAddr).toBe('127.0.0.1');
    expect(config.bindPort).toBe(0);
    // Untouched fields keep the WAN values.
    expect(config.suspicionMult).toBe(6);
    expect(config.gossipIntervalMs).toBe(500);
  });

  it('treats undefined as "not set"', () => {
    expect(resolveConfig({ name: 'n', probeIntervalMs: undefined }).probeIntervalMs).toBe(1000);
  });

  it('copies the secret key so later changes to the caller buffer have no effect', () => {
    const key = new Uint8Array(16).fill(7);
    const config = resolveConfig({ name: 'n', secretKey: key });
    key.fill(0);
    expect(config.secretKey).toEqual(new Uint8Array(16).fill(7));
  });

  it.each([16, 24, 32])('accepts a %i-byte key, Buffer included', (length) => {
    expect(resolveConfig({ name: 'n', secretKey: Buffer.alloc(length, 1) }).secretKey?.length).toBe(length);
  });

  it('accepts zero to disable the intervals memberlist lets zero disable', () => {
    const config = resolveConfig({ name: 'n', probeIntervalMs: 0, gossipIntervalMs: 0, pushPullIntervalMs: 0 });
    expect([config.probeIntervalMs, config.gossipIntervalMs, config.pushPullIntervalMs]).toEqual([0, 0, 0]);
  });

  it('allows probeTimeoutMs above probeIntervalMs when probing is off', () => {
    expect(resolveConfig({ name: 'n', probeIntervalMs: 0, probeTimeoutMs: 5000 }).probeTimeoutMs).toBe(5000);
  });

  it('accepts a consistent delegate protocol range', () => {
    const config = resolveConfig({
      name: 'n',
      delegateProtocolVersion: 2,
      delegateProtocolMin: 1,
      delegateProtocolMax: 3,
    });
    expect([config.delegateProtocolMin, config.delegateProtocolVersion, config.delegateProtocolMax]).toEqual([1, 2, 3]);
  });

  it('accepts IPv6 bind and advertise addresses', () => {
    const config = resolveConfig({ name: 'n', bindAddr: '::', advertiseAddr: '::1' });
    expect(config.bindAddr).toBe('::');
    expect(config.advertiseAddr).toBe('::1');
  });

  it('accepts a 255-byte multi-byte name and label', () => {
    const name = 'é'.repeat(127) + 'x'; // 127 × 2 + 1 = 255 bytes
    expect(resolveConfig({ name, label: name }).label).toBe(name);
  });
});

describe('resolveConfig: unknown keys', () => {
  it.each([
    ['probeIntervall', 'probeIntervalMs'],
    ['probeInterval', 'probeIntervalMs'],
    ['ProbeInterval', 'probeIntervalMs'],
    ['TCPTimeout', 'tcpTimeoutMs'],
    ['GossipToTheDeadTime', 'gossipToTheDeadMs'],
    ['sucpicionMult', 'suspicionMult'],
    ['profil', 'profile'],
    ['cidrAllowed', 'cidrsAllowed'],
  ])('%s suggests %s', (key, suggestion) => {
    const err = configError(() => resolveUntyped({ [key]: 1 }));
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.field).toBe(key);
    expect(err.message).toBe(`invalid config "${key}": is not a config option; did you mean "${suggestion}"?`);
  });

  it('does not guess for a key unlike any option', () => {
    const err = configError(() => resolveUntyped({ frobnicate: true }));
    expect(err.message).toBe('invalid config "frobnicate": is not a config option');
  });

  it('rejects an unknown key even when its value is undefined', () => {
    expect(configError(() => resolveUntyped({ probeIntervall: undefined })).field).toBe('probeIntervall');
  });

  it('skips ignored keys (the facade options)', () => {
    const config = resolveUntyped(
      { name: 'n', logger: {}, transport: {}, clock: {}, random: {}, network: {} },
      ['logger', 'transport', 'clock', 'random', 'network'],
    );
    expect(config).not.toHaveProperty('logger');
    expect(config.name).toBe('n');
  });

  it('rejects a non-object', () => {
    const err = configError(() => resolveConfig(null as unknown as NodeConfigOptions));
    expect(err.field).toBe('options');
  });
});

describe('resolveConfig: validation', () => {
  // [field, bad value, a fragment the message must contain]. Each case alone on a valid LAN config.
  const cases: ReadonlyArray<[string, unknown, string]> = [
    ['profile', 'metro', "one of 'lan', 'wan', 'local'"],
    ['name', '', 'non-empty string'],
    ['name', 'x'.repeat(256), 'at most 255 UTF-8 bytes'],
    ['name', 'é'.repeat(128), '(256 bytes)'],
    ['name', 42, 'string'],
    ['bindAddr', 'localhost', "'0.0.0.0'"],
    ['bindAddr', 'localhost', "'127.0.0.1'"],
    ['bindAddr', '1.2.3', 'IP address literal'],
    ['bindAddr', 0, 'IP address literal'],
    ['bindPort', -1, 'integer in [0, 65535]'],
    ['bindPort', 65_536, 'integer in [0, 65535]'],
    ['bindPort', 79.5, 'integer'],
    ['bindPort', '7946', 'got "7946"'],
    ['advertiseAddr', 'example.com', 'IP address literal'],
    ['advertiseAddr', '0.0.0.0', 'not a wildcard'],
    ['advertiseAddr', '::', 'not a wildcard'],
    ['advertiseAddr', null, 'got null'],
    ['advertisePort', 70_000, 'integer in [0, 65535]'],
    ['protocolVersion', 0, 'integer in [1, 5]'],
    ['protocolVersion', 6, 'integer in [1, 5]'],
    ['protocolVersion', 2.5, 'integer in [1, 5]'],
    ['tcpTimeoutMs', 0, 'milliseconds in [1, 2147483647]'],
    ['tcpTimeoutMs', 2 ** 31, 'milliseconds in [1, 2147483647]'],
    ['tcpTimeoutMs', 1.5, 'whole number of milliseconds'],
    ['indirectChecks', -1, 'integer >= 0'],
    ['retransmitMult', 0, 'integer >= 1'],
    ['suspicionMult', 0, 'integer >= 1'],
    ['suspicionMaxTimeoutMult', 0, 'integer >= 1'],
    ['pushPullIntervalMs', -1, '0 disables periodic push/pull'],
    ['pushPullIntervalMs', Number.NaN, 'got NaN'],
    ['probeIntervalMs', -1, '0 disables probing'],
    ['probeIntervalMs', Infinity, 'got Infinity'],
    ['probeTimeoutMs', 0, 'milliseconds in [1,'],
    ['probeTimeoutMs', 2000, 'must be <= probeIntervalMs (1000) so a probe can reach its indirect stage; got 2000'],
    ['disableTcpPings', 'false', 'true or false'],
    ['awarenessMaxMultiplier', 0, 'integer >= 1'],
    ['gossipIntervalMs', -200, '0 disables gossip rounds'],
    ['gossipNodes', -1, 'integer >= 0'],
    ['gossipToTheDeadMs', -1, 'milliseconds'],
    ['gossipVerifyIncoming', 1, 'true or false'],
    ['gossipVerifyOutgoing', null, 'true or false'],
    ['enableCompression', 'yes', 'true or false'],
    ['secretKey', new Uint8Array(15), '16, 24 or 32 bytes'],
    ['secretKey', new Uint8Array(64), 'got a Uint8Array of 64 bytes'],
    ['secretKey', 'c2VjcmV0', 'Uint8Array'],
    ['label', 'l'.repeat(256), 'at most 255 UTF-8 bytes'],
    ['label', 5, 'string'],
    ['skipInboundLabelCheck', 0, 'true or false'],
    ['wire', 'msgpack', "'protobuf' or 'memberlist'"],
    ['delegateProtocolVersion', 256, 'integer in [0, 255]'],
    ['delegateProtocolMin', -1, 'integer in [0, 255]'],
    ['delegateProtocolMax', 1.5, 'integer in [0, 255]'],
    ['handoffQueueDepth', 0, 'drops every inbound gossip message'],
    ['udpBufferSize', 63, 'integer in [64, 65507]'],
    ['udpBufferSize', 65_508, 'integer in [64, 65507]'],
    ['deadNodeReclaimTimeMs', -5, 'milliseconds'],
    ['requireNodeNames', 'true', 'true or false'],
    ['cidrsAllowed', '10.0.0.0/8', 'array of CIDR strings'],
    ['cidrsAllowed', ['10.0.0.0/8', '10.0.0.0'], 'entry 1 is not a valid CIDR'],
    ['cidrsAllowed', ['10.0.0.0/33'], 'not a valid CIDR'],
    ['cidrsAllowed', ['fd00::/129'], 'not a valid CIDR'],
    ['cidrsAllowed', ['fe80::1%eth0/64'], 'not a valid CIDR'],
    ['cidrsAllowed', [42], 'not a valid CIDR'],
    ['queueCheckIntervalMs', 0, 'makes the check spin'],
    ['dnsConfigPath', null, 'a string'],
    ['metaMaxSize', -1, 'integer in [0, 65535]'],
    ['metaMaxSize', 65_536, 'integer in [0, 65535]'],
    ['maxPacketSize', 65_508, 'integer in [64, 65507]'],
    ['maxPacketSize', 63, 'integer in [64, 65507]'],
    ['maxStreamFrameBytes', 1000, 'at least maxPacketSize (65507)'],
    ['maxStreamFrameBytes', 2 ** 30 + 1, 'integer in [65507, 1073741824]'],
    ['maxPushPullEntries', 0, 'integer >= 1'],
    ['maxConcurrentPushPulls', 0, 'integer >= 1'],
    ['mailboxDrainBudget', 0, 'integer >= 1'],
    ['actorMaxRestarts', -1, 'integer >= 0'],
    ['actorRestartWindowMs', 0, 'milliseconds in [1,'],
    ['reconnectIntervalMs', -1, 'milliseconds in [0,'],
    ['reconnectTimeoutMs', 1.5, 'milliseconds in [0,'],
  ];

  it.each(cases)('%s = %o is rejected', (field, value, fragment) => {
    const err = configError(() => resolveUntyped({ name: 'n', [field]: value }));
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`invalid config "${field}": `)).toBe(true);
    expect(err.message).toContain(fragment);
  });

  it('validates every config field', () => {
    const covered = new Set(cases.map(([field]) => field));
    const uncovered = CONFIG_KEYS.filter((k) => !covered.has(k));
    expect(uncovered).toEqual([]);
  });

  it('prints the exact probe timeout message', () => {
    const err = configError(() => resolveConfig({ name: 'n', probeTimeoutMs: 2000 }));
    expect(err.message).toBe(
      'invalid config "probeTimeoutMs": must be <= probeIntervalMs (1000) so a probe can reach its indirect stage; got 2000',
    );
  });

  it('checks udpBufferSize against a lowered maxPacketSize', () => {
    const err = configError(() => resolveConfig({ name: 'n', maxPacketSize: 1200 }));
    expect(err.field).toBe('udpBufferSize');
    expect(err.message).toContain('at most maxPacketSize (1200)');
  });

  it('rejects a delegate version outside its own range', () => {
    const err = configError(() => resolveConfig({ name: 'n', delegateProtocolVersion: 2 }));
    expect(err.field).toBe('delegateProtocolVersion');
    expect(err.message).toContain('[0, 0]');
  });

  it('rejects delegateProtocolMin above delegateProtocolMax', () => {
    const err = configError(() =>
      resolveConfig({ name: 'n', delegateProtocolMin: 3, delegateProtocolMax: 1, delegateProtocolVersion: 2 }),
    );
    expect(err.field).toBe('delegateProtocolMin');
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 4 }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 4 }],
    ['192.168.1.7/32', { address: '192.168.1.7', prefix: 32, family: 4 }],
    ['  fd00::/8 ', { address: 'fd00::', prefix: 8, family: 6 }],
    ['::1/128', { address: '::1', prefix: 128, family: 6 }],
  ])('%s parses', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each(['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0/8', '10.0.0.0/08', '10.0.0.0/-1', '::/129', 'host/8', ''])(
    '%o does not parse',
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );
});
