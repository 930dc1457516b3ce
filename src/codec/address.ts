import { isIPv4, isIPv6 } from 'node:net';

/**
 * Wire addresses: IPv4 as a 32-bit integer (fixed32, one scalar instead of a 4-byte Buffer view per
 * decode, node-stack.md §2a) with a 16-byte alternative for IPv6. Actors and transports use text.
 */
export interface WireAddress {
  ipv4: number;
  ipv6: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function ipv4ToInt(host: string): number {
  const p = host.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Expands an IPv6 literal to its 16 bytes. */
export function ipv6ToBytes(host: string): Uint8Array {
  const zone = host.indexOf('%');
  const h = zone >= 0 ? host.slice(0, zone) : host;
  const out = new Uint8Array(16);
  let head = h;
  let tail = '';
  const dbl = h.indexOf('::');
  if (dbl >= 0) {
    head = h.slice(0, dbl);
    tail = h.slice(dbl + 2);
  }
  const parse = (s: string): number[] => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = ipv4ToInt(g);
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const hg = parse(head);
  const tg = parse(tail);
  const all = [...hg, ...new Array<number>(8 - hg.length - tg.length).fill(0), ...tg];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

export function bytesToIpv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 prints it.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function toWireAddress(host: string): WireAddress {
  if (isIPv4(host)) return { ipv4: ipv4ToInt(host), ipv6: EMPTY };
  if (isIPv6(host)) return { ipv4: 0, ipv6: ipv6ToBytes(host) };
  throw new TypeError(`not an IP literal: ${host}`);
}

/** Text form of a wire address; undefined when neither form is valid (a malformed peer message). */
export function fromWireAddress(ipv4: number | null | undefined, ipv6: Uint8Array | null | undefined): string | undefined {
  if (ipv6 !== null && ipv6 !== undefined && ipv6.length > 0) return ipv6.length === 16 ? bytesToIpv6(ipv6) : undefined;
  if (ipv4 !== null && ipv4 !== undefined && ipv4 !== 0) return intToIpv4(ipv4);
  return undefined;
}
