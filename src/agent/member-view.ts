/**
 * The JSON shape of a member on the agent's HTTP endpoints (/members, /events) and how the
 * `members` command prints it.
 */
import type { Member, MemberStateName } from '../member.js';
import type { PeerHealth } from '../observability/protocol-observer.js';
import { formatHostPort } from './address.js';

export interface MemberView {
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  /** "host:port" ("[v6]:port"). */
  readonly address: string;
  readonly state: MemberStateName;
  readonly incarnation: number;
  /** The metadata bytes, base64. */
  readonly meta: string;
  /** The metadata as text when it is printable UTF-8, otherwise null. */
  readonly metaText: string | null;
  /** True for the node serving the endpoint. */
  readonly local: boolean;
  readonly health: HealthView;
}

/**
 * Health as seen from the serving node: its own Lifeguard score, and for every other member the
 * outcome and round-trip time of our last direct probe of it.
 */
export interface HealthView {
  /** Lifeguard local health score; only on the local member. */
  readonly score?: number;
  readonly lastProbe?: 'ack' | 'failed';
  readonly rttMs?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function metaText(meta: Uint8Array): string | null {
  if (meta.length === 0) return '';
  try {
    const text = decoder.decode(meta);
    // Control characters (other than tab) would garble a terminal table or a page.
    return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

export function memberView(
  m: Member,
  localName: string,
  healthScore: number,
  peer: (name: string) => PeerHealth | undefined,
): MemberView {
  const local = m.name === localName;
  let health: HealthView = {};
  if (local) health = { score: healthScore };
  else {
    const p = peer(m.name);
    if (p !== undefined) {
      health = {
        ...(p.lastProbe !== undefined ? { lastProbe: p.lastProbe } : {}),
        ...(p.lastRttMs !== undefined ? { rttMs: Math.round(p.lastRttMs * 1000) / 1000 } : {}),
      };
    }
  }
  return {
    name: m.name,
    addr: m.addr,
    port: m.port,
    address: formatHostPort(m.addr, m.port),
    state: m.state,
    incarnation: m.incarnation,
    meta: Buffer.from(m.meta).toString('base64'),
    metaText: metaText(m.meta),
    local,
    health,
  };
}

/** One short cell: "score 0" for the local node, "rtt 0.42 ms", "probe failed" or "-". */
export function healthText(h: HealthView | undefined): string {
  if (h === undefined) return '-';
  if (h.score !== undefined) return `score ${h.score}`;
  if (h.lastProbe === 'failed') return 'probe failed';
  if (h.rttMs !== undefined) return `rtt ${h.rttMs < 10 ? h.rttMs.toFixed(2) : h.rttMs.toFixed(1)} ms`;
  return '-';
}
