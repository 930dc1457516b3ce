import { describe, expect, it } from 'vitest';
import { parseSeed } from '../../src/actors/push-pull/seeds.js';

describe('parseSeed (memberlist resolveAddr / ensurePort / hasPort)', () => {
  it.each<[string, { host: string; port: number; isIp: boolean; nodeName?: string }]>([
    ['10.0.0.1:8000', { host: '10.0.0.1', port: 8000, isIp: true }],
    ['10.0.0.1', { host: '10.0.0.1', port: 7946, isIp: true }],
    ['example.com:9000', { host: 'example.com', port: 9000, isIp: false }],
    ['example.com', { host: 'example.com', port: 7946, isIp: false }],
    ['localhost:1', { host: 'localhost', port: 1, isIp: false }],
    ['[::1]:8000', { host: '::1', port: 8000, isIp: true }],
    ['[::1]', { host: '::1', port: 7946, isIp: true }],
    ['::1', { host: '::1', port: 7946, isIp: true }],
    ['fd00::1:2', { host: 'fd00::1:2', port: 7946, isIp: true }],
    ['[fd00::1:2]:65535', { host: 'fd00::1:2', port: 65535, isIp: true }],
    ['node-a/10.0.0.2:8000', { host: '10.0.0.2', port: 8000, isIp: true, nodeName: 'node-a' }],
    ['node-b/[::1]:8001', { host: '::1', port: 8001, isIp: true, nodeName: 'node-b' }],
    ['  10.0.0.3:1234  ', { host: '10.0.0.3', port: 1234, isIp: true }],
  ])('%s', (seed, expected) => {
    const r = parseSeed(seed, 7946);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject(expected);
    expect(r.value.seed).toBe(seed);
    if (expected.nodeName === undefined) expect(r.value.nodeName).toBeUndefined();
  });

  it.each<[string, RegExp]>([
    ['', /empty seed/],
    ['   ', /empty seed/],
    ['/10.0.0.1:80', /empty node name/],
    ['10.0.0.1:', /invalid port/],
    ['10.0.0.1:http', /invalid port/],
    ['10.0.0.1:70000', /out of range/],
    ['10.0.0.1:0', /no port/],
    ['[::1:80', /missing '\]'|invalid host/],
    [':80', /missing host/],
    ['bad host:80', /invalid host/],
  ])('%j is refused', (seed, error) => {
    const r = parseSeed(seed, 7946);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(error);
  });

  it('a seed without a port and no default port is refused', () => {
    const r = parseSeed('10.0.0.1', 0);
    expect(r).toEqual({ ok: false, error: 'no port in "10.0.0.1" and no default port' });
  });
});
