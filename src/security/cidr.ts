/**
 * Source-address filtering (memberlist's CIDRsAllowed): parse the configured blocks once, then test
 * each packet's and stream's source address. An empty list allows every address, as memberlist's code
 * does. Matching follows Go's IPNet.Contains: an IPv4 block also matches the IPv4-mapped IPv6 form of
 * its addresses (::ffff:10.0.0.1 is in 10.0.0.0/8), and an IPv4 address is compared with IPv6 blocks
 * in its mapped form (10.0.0.1 is in ::ffff:0:0/96).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseCidr } from '../config.js';
import { InvalidArgumentError } from '../errors.js';

/** A parsed block: network address bytes (4 or 16) and prefix length. */
interface Block {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** The 4 bytes of a dotted-quad IPv4 literal, or undefined. */
export function parseIPv4(text: string): Uint8Array | undefined {
  if (!isIPv4(text)) return undefined;
  const parts = text.split('.');
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

/** The 16 bytes of an IPv6 literal (zone stripped; embedded dotted quad allowed), or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  if (!isIPv6(addr)) return undefined;
  let head = addr;
  let v4: Uint8Array | undefined;
  const lastColon = addr.lastIndexOf(':');
  if (addr.includes('.', lastColon)) {
    v4 = parseIPv4(addr.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    head = addr.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const right = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] as string).split(':')) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >>> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

function mapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or undefined. */
function unmapped(v6: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return undefined;
  if (v6[10] !== 0xff || v6[11] !== 0xff) return undefined;
  return v6.subarray(12);
}

function inBlock(addr: Uint8Array, block: Block): boolean {
  if (addr.length !== block.bytes.length) return false;
  const full = block.prefix >>> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== block.bytes[i]) return false;
  const bits = block.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((addr[full] as number) & mask) === ((block.bytes[full] as number) & mask);
}

/** Whether the IP literal `ip` lies in the CIDR block `cidr` (e.g. '10.0.0.0/8'). False for anything unparsable. */
export function ipInCidr(ip: string, cidr: string): boolean {
  try {
    return CidrFilter.compile([cidr]).allows(ip);
  } catch {
    return false;
  }
}

/** A compiled list of allowed CIDR blocks. */
export class CidrFilter {
  readonly #v4: Block[];
  readonly #v6: Block[];

  private constructor(v4: Block[], v6: Block[]) {
    this.#v4 = v4;
    this.#v6 = v6;
  }

  /**
   * Parses the blocks (config.cidrsAllowed); the network address is masked to its prefix as Go does.
   * @throws InvalidArgumentError naming an entry that is not a CIDR.
   */
  static compile(cidrs: readonly string[]): CidrFilter {
    const v4: Block[] = [];
    const v6: Block[] = [];
    cidrs.forEach((text, i) => {
      const c = typeof text === 'string' ? parseCidr(text) : null;
      const bytes = c === null ? undefined : c.family === 4 ? parseIPv4(c.address) : parseIPv6(c.address);
      if (c === null || bytes === undefined) throw new InvalidArgumentError(`cidrsAllowed[${i}] is not a CIDR block: ${String(text)}`);
      (c.family === 4 ? v4 : v6).push({ bytes, prefix: c.prefix });
    });
    return new CidrFilter(v4, v6);
  }

  /** True when no block is configured: every address is allowed. */
  get allowsAll(): boolean {
    return this.#v4.length === 0 && this.#v6.length === 0;
  }

  /** Whether traffic from the IP literal `host` is allowed. An unparsable host is refused (unless the list is empty). */
  allows(host: string): boolean {
    if (this.allowsAll) return true;
    const v4 = parseIPv4(host);
    if (v4 !== undefined) {
      if (this.#v4.some((b) => inBlock(v4, b))) return true;
      if (this.#v6.length === 0) return false;
      const m = mapped(v4);
      return this.#v6.some((b) => inBlock(m, b));
    }
    const v6 = parseIPv6(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
    if (v6 === undefined) return false;
    if (this.#v6.some((b) => inBlock(v6, b))) return true;
    const inner = unmapped(v6);
    return inner !== undefined && this.#v4.some((b) => inBlock(inner, b));
  }
}
