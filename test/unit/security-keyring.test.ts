/**
 * The security primitives: keyring semantics (memberlist keyring.go), AES-GCM sealing with every key
 * size, CRC32 and the CIDR filter.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { AEAD_OVERHEAD, open, openWith, seal, sealPrimary } from '../../src/security/aead.js';
import { CidrFilter, ipInCidr, parseIPv6 } from '../../src/security/cidr.js';
import { crc32, crc32Table, nativeCrc32 } from '../../src/security/crc32.js';
import { Keyring, validateKey } from '../../src/security/keyring.js';

const key = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function expectCode(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a throw');
}

describe('Keyring', () => {
  it('accepts 16, 24 and 32-byte keys and refuses every other size or type', () => {
    for (const n of [16, 24, 32]) expect(() => validateKey(key(n, 1))).not.toThrow();
    for (const n of [0, 1, 15, 17, 31, 33, 64]) expectCode(() => validateKey(key(n, 1)), /16, 24 or 32/);
    expectCode(() => validateKey('0123456789abcdef'), /Uint8Array/);
    expectCode(() => new Keyring([key(16, 1), key(20, 2)]), /keys\[1\] is 20 bytes/);
    expectCode(() => new Keyring([], key(8, 1)), /primary is 8 bytes/);
  });

  it('puts the primary first; defaults to the first key; installs a primary missing from the keys', () => {
    const a = key(16, 1);
    const b = key(24, 2);
    const c = key(32, 3);
    expect(new Keyring([a, b, c]).list()).toEqual([a, b, c]);
    expect(new Keyring([a, b, c], c).list()).toEqual([c, a, b]);
    expect(new Keyring([a], b).list()).toEqual([b, a]);
    expect(new Keyring([a, a, b]).size).toBe(2);
    const empty = new Keyring();
    expect(empty.size).toBe(0);
    expect(empty.primary).toBeUndefined();
    expect(empty.list()).toEqual([]);
  });

  it('install: a no-op when present; the first key of an empty ring becomes the primary', () => {
    const ring = new Keyring();
    ring.install(key(16, 1));
    expect(ring.primary).toEqual(key(16, 1));
    ring.install(key(32, 2));
    ring.install(key(16, 1));
    expect(ring.list()).toEqual([key(16, 1), key(32, 2)]);
    expect(ring.version).toBe(2);
  });

  it('use: makes an installed key primary, refuses a key that is not installed', () => {
    const ring = new Keyring([key(16, 1), key(16, 2), key(16, 3)]);
    ring.use(key(16, 3));
    expect(ring.list()).toEqual([key(16, 3), key(16, 1), key(16, 2)]);
    expectCode(() => ring.use(key(16, 9)), /not installed/);
    expect(ring.primary).toEqual(key(16, 3));
  });

  it('remove: refuses the primary, ignores an unknown key', () => {
    const ring = new Keyring([key(16, 1), key(16, 2)]);
    expectCode(() => ring.remove(key(16, 1)), /primary/);
    ring.remove(key(16, 7));
    ring.remove(key(16, 2));
    expect(ring.list()).toEqual([key(16, 1)]);
    expect(ring.has(key(16, 1))).toBe(true);
    expect(ring.has(key(16, 2))).toBe(false);
  });

  it('copies keys in and out: a caller mutating its buffers never changes the ring', () => {
    const a = key(16, 1);
    const ring = new Keyring([a]);
    a.fill(9);
    const listed = ring.list();
    (listed[0] as Uint8Array).fill(8);
    const primary = ring.primary as Uint8Array;
    primary.fill(7);
    expect(ring.list()).toEqual([key(16, 1)]);
  });
});

describe('AES-GCM sealing', () => {
  it('round trips with 16, 24 and 32-byte keys; overhead is 29 bytes; nonces differ', () => {
    for (const n of [16, 24, 32]) {
      const ring = new Keyring([randomBytes(n)]);
      const msg = text(`hello with AES-${n * 8}`);
      const a = sealPrimary(ring, msg, text('aad')) as Uint8Array;
      const b = sealPrimary(ring, msg, text('aad')) as Uint8Array;
      expect(a.length).toBe(msg.length + AEAD_OVERHEAD);
      expect(a[0]).toBe(1);
      expect(Buffer.from(a.subarray(1, 13)).equals(Buffer.from(b.subarray(1, 13)))).toBe(false);
      const r = open(ring, a, text('aad'));
      expect(r.ok && Buffer.from(r.plaintext).toString()).toBe(`hello with AES-${n * 8}`);
    }
  });

  it('an empty plaintext seals and opens', () => {
    const ring = new Keyring([key(32, 5)]);
    const r = open(ring, sealPrimary(ring, new Uint8Array(0)) as Uint8Array);
    expect(r.ok && r.plaintext.length).toBe(0);
  });

  it('a wrong key, a wrong AAD, an empty ring, a short or unversioned message all fail without throwing', () => {
    const right = new Keyring([key(16, 1)]);
    const wrong = new Keyring([key(16, 2), key(32, 3)]);
    const sealed = sealPrimary(right, text('secret'), text('L')) as Uint8Array;
    expect(open(wrong, sealed, text('L'))).toEqual({ ok: false, reason: 'auth-failed' });
    expect(open(right, sealed, text('M'))).toEqual({ ok: false, reason: 'auth-failed' });
    expect(open(right, sealed)).toEqual({ ok: false, reason: 'auth-failed' });
    expect(open(new Keyring(), sealed, text('L'))).toEqual({ ok: false, reason: 'no-keys' });
    expect(open(right, sealed.subarray(0, 28), text('L'))).toEqual({ ok: false, reason: 'too-short' });
    const v0 = new Uint8Array(sealed);
    v0[0] = 0;
    expect(open(right, v0, text('L'))).toEqual({ ok: false, reason: 'bad-version' });
  });

  it('any single bit flipped anywhere is refused (property)', () => {
    const ring = new Keyring([key(24, 4)]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (msg, at, bit) => {
        const sealed = sealPrimary(ring, msg, text('aad')) as Uint8Array;
        const i = at % sealed.length;
        sealed[i] = (sealed[i] as number) ^ (1 << bit);
        const r = open(ring, sealed, text('aad'));
        expect(r.ok).toBe(false);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('decryption tries every key, primary first, and reports which one worked', () => {
    const oldKey = key(16, 1);
    const newKey = key(32, 2);
    const sender = new Keyring([oldKey]);
    const receiver = new Keyring([newKey, oldKey]);
    const r = open(receiver, sealPrimary(sender, text('x')) as Uint8Array);
    expect(r.ok && r.keyIndex).toBe(1);
    const installed = receiver.installed();
    const sealedNew = seal(installed[0]!, text('y'));
    expect(openWith(installed[1]!, sealedNew)).toBeUndefined();
    expect(open(receiver, sealedNew).ok && open(receiver, sealedNew)).toMatchObject({ keyIndex: 0 });
  });
});

describe('crc32', () => {
  it('matches the IEEE check value and the table implementation', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32Table(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(typeof nativeCrc32).toBe('boolean');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 50 }), (a, b) => {
        expect(crc32(a)).toBe(crc32Table(a));
        const ab = new Uint8Array([...a, ...b]);
        expect(crc32(b, crc32(a))).toBe(crc32(ab));
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('CIDR filter', () => {
  it('an empty list allows everything', () => {
    const f = CidrFilter.compile([]);
    expect(f.allowsAll).toBe(true);
    expect(f.allows('1.2.3.4')).toBe(true);
    expect(f.allows('not an ip')).toBe(true);
  });

  it('matches IPv4 and IPv6 blocks by prefix, with Go IPNet.Contains semantics for mapped addresses', () => {
    expect(ipInCidr('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(ipInCidr('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(ipInCidr('192.168.1.77', '192.168.1.64/26')).toBe(true);
    expect(ipInCidr('192.168.1.128', '192.168.1.64/26')).toBe(false);
    expect(ipInCidr('10.9.9.9', '10.1.2.3/8')).toBe(true); // the network address is masked, as Go does
    expect(ipInCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(ipInCidr('1.2.3.4', '1.2.3.4/32')).toBe(true);
    expect(ipInCidr('1.2.3.5', '1.2.3.4/32')).toBe(false);
    expect(ipInCidr('fd00::1', 'fd00::/8')).toBe(true);
    expect(ipInCidr('fe80::1%eth0', 'fe80::/10')).toBe(true);
    expect(ipInCidr('fe00::1', 'fd00::/8')).toBe(false);
    expect(ipInCidr('::1', '::1/128')).toBe(true);
    expect(ipInCidr('2001:db8::8:800:200c:417a', '2001:db8::/32')).toBe(true);
    expect(ipInCidr('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(true);
    expect(ipInCidr('10.0.0.1', '::ffff:0:0/96')).toBe(true);
    expect(ipInCidr('10.0.0.1', 'fd00::/8')).toBe(false);
    expect(ipInCidr('fd00::1', '10.0.0.0/8')).toBe(false);
    expect(ipInCidr('not-an-ip', '10.0.0.0/8')).toBe(false);
    expect(ipInCidr('10.0.0.1', 'garbage')).toBe(false);
  });

  it('several blocks: any one admits', () => {
    const f = CidrFilter.compile(['10.0.0.0/8', ' 127.0.0.0/8 ', 'fd00::/8']);
    expect(f.allows('127.0.0.2')).toBe(true);
    expect(f.allows('10.200.0.1')).toBe(true);
    expect(f.allows('fd12::3')).toBe(true);
    expect(f.allows('192.168.0.1')).toBe(false);
    expect(() => CidrFilter.compile(['10.0.0.0/33'])).toThrow(InvalidArgumentError);
  });

  it('parses IPv6 forms like node:net does (property against a 16-byte round trip)', () => {
    expect(parseIPv6('::')).toEqual(new Uint8Array(16));
    expect(parseIPv6('1::')?.[1]).toBe(1);
    expect(parseIPv6('::1.2.3.4')?.subarray(12)).toEqual(new Uint8Array([1, 2, 3, 4]));
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const bytes = parseIPv6(ip);
        expect(bytes).toBeDefined();
        const groups: string[] = [];
        for (let i = 0; i < 16; i += 2) groups.push((((bytes as Uint8Array)[i] as number) * 256 + ((bytes as Uint8Array)[i + 1] as number)).toString(16));
        // The full form of the parsed bytes parses back to the same bytes.
        expect(parseIPv6(groups.join(':'))).toEqual(bytes);
        expect(ipInCidr(ip, `${groups.join(':')}/128`)).toBe(true);
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
