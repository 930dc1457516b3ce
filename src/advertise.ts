import { networkInterfaces } from 'node:os';
import type { Endpoint } from './transport/transport.js';

/**
 * The address other members should use to reach us (memberlist's FinalAdvertiseAddr, reference
 * §1.4): the configured advertise address if any (with advertisePort); otherwise the bound address,
 * or, when bound to a wildcard, the first non-internal address of this host (loopback as a last resort).
 */
export function advertiseEndpoint(bound: Endpoint, advertiseAddr: string, advertisePort: number): Endpoint {
  if (advertiseAddr !== '') return { host: advertiseAddr, port: advertisePort > 0 ? advertisePort : bound.port };
  if (bound.host !== '0.0.0.0' && bound.host !== '::') return bound;
  const wantV6 = bound.host === '::';
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (!ni.internal && (ni.family === 'IPv4' || (wantV6 && ni.family === 'IPv6' && !ni.address.startsWith('fe80')))) {
        return { host: ni.address, port: bound.port };
      }
    }
  }
  return { host: wantV6 ? '::1' : '127.0.0.1', port: bound.port };
}
