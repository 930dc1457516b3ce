/**
 * Seed addresses for join (memberlist resolveAddr / ensurePort / hasPort, reference §7): an optional
 * "nodeName/" prefix, then "host:port", "host", "[v6]:port", "[v6]" or a bare IPv6 literal. A missing
 * port is the default port. IP literals need no resolution; names resolve to every address.
 */
import { isIP } from 'node:net';

export interface ParsedSeed {
  /** The seed as given. */
  readonly seed: string;
  /** memberlist's optional "nodeName/" prefix (kept for logs; names are not enforced). */
  readonly nodeName?: string;
  /** An IP literal or a name to resolve (no brackets). */
  readonly host: string;
  readonly port: number;
  /** Whether `host` is an IP literal (no DNS needed). */
  readonly isIp: boolean;
}

export type SeedParse = { readonly ok: true; readonly value: ParsedSeed } | { readonly ok: false; readonly error: string };

/** memberlist hasPort: brackets decide for "[v6]..."; otherwise exactly one colon means a port. */
function hasPort(s: string): boolean {
  if (s.lastIndexOf('[') === 0) return s.lastIndexOf(':') > s.lastIndexOf(']');
  let colons = 0;
  for (const c of s) if (c === ':') colons++;
  return colons === 1;
}

function stripBrackets(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === '[' || s[start] === ']')) start++;
  while (end > start && (s[end - 1] === '[' || s[end - 1] === ']')) end--;
  return s.slice(start, end);
}

/** Parses one seed. `defaultPort` fills a missing port (memberlist uses BindPort). */
export function parseSeed(seed: string, defaultPort: number): SeedParse {
  let rest = seed.trim();
  if (rest === '') return { ok: false, error: 'empty seed address' };
  let nodeName: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (slash === 0) return { ok: false, error: 'empty node name provided' };
    nodeName = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  let host: string;
  let port: number;
  if (hasPort(rest)) {
    const colon = rest.lastIndexOf(':');
    const hostPart = rest.slice(0, colon);
    const portPart = rest.slice(colon + 1);
    if (hostPart.startsWith('[')) {
      if (!hostPart.endsWith(']')) return { ok: false, error: `missing ']' in address "${rest}"` };
      host = hostPart.slice(1, -1);
    } else {
      if (hostPart.includes('[') || hostPart.includes(']')) return { ok: false, error: `unexpected bracket in address "${rest}"` };
      host = hostPart;
    }
    if (!/^[0-9]{1,5}$/.test(portPart)) return { ok: false, error: `invalid port "${portPart}" in "${rest}"` };
    port = Number(portPart);
  } else {
    host = stripBrackets(rest);
    port = defaultPort;
  }
  if (host === '') return { ok: false, error: `missing host in "${rest}"` };
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, error: port === 0 ? `no port in "${rest}" and no default port` : `port ${port} out of range in "${rest}"` };
  }
  const family = isIP(host);
  if (family === 0 && (/[\s/[\]]/.test(host) || host.includes(':'))) {
    return { ok: false, error: `invalid host "${host}"` };
  }
  return { ok: true, value: { seed, ...(nodeName !== undefined ? { nodeName } : {}), host, port, isIp: family !== 0 } };
}

/** Resolves a host name to all of its addresses (A and AAAA). Injected so tests and simulations need no DNS. */
export type HostResolver = (host: string) => Promise<string[]>;
