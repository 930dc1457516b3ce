/**
 * Address arguments of the agent CLI: "host", "host:port", ":port", "[v6]", "[v6]:port" and bare IPv6
 * literals, and host-name resolution for the bind and advertise addresses (the config needs IP
 * literals; seeds given to join are resolved by the node itself).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A usage problem in an argument: the CLI prints its message on one line and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A runtime failure the CLI reports on one line (exit code 1): bind, join, key file, HTTP. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
}

export interface HostPort {
  /** '' when only a port was given. */
  readonly host: string;
  /** undefined when no port was given. */
  readonly port: number | undefined;
}

/** Splits an address argument; `what` names the flag in error messages. */
export function parseHostPort(text: string, what: string): HostPort {
  const value = text.trim();
  if (value === '') throw new UsageError(`${what}: empty address`);
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) throw new UsageError(`${what}: missing "]" in ${JSON.stringify(text)}`);
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new UsageError(`${what}: unexpected ${JSON.stringify(rest)} after "]" in ${JSON.stringify(text)}`);
      portText = rest.slice(1);
    }
  } else {
    const colons = value.split(':').length - 1;
    if (colons === 0) host = value;
    else if (colons === 1) {
      const i = value.indexOf(':');
      host = value.slice(0, i);
      portText = value.slice(i + 1);
    } else {
      // Several colons and no brackets: a bare IPv6 literal without a port.
      if (isIP(value) !== 6) throw new UsageError(`${what}: ${JSON.stringify(text)} is not an address; write IPv6 with a port as [addr]:port`);
      host = value;
    }
  }
  return { host, port: portText === undefined ? undefined : parsePort(portText, what) };
}

export function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new UsageError(`${what}: port must be an integer in [0, 65535]; got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** An IP literal for `host`: itself when it is one, otherwise the first address the resolver gives. */
export async function resolveHost(host: string, what: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    const { address } = await lookup(host);
    return address;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new AgentError(`${what}: cannot resolve ${JSON.stringify(host)}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

/** "host:port", bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
