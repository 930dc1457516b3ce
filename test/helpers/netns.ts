// Two network namespaces joined by a veth pair, as two test "hosts" for real partitions.
//
// The hosts use loopback-range addresses (127.77.0.1 and 127.77.0.2 by default), never private or public
// ones. That needs, inside each namespace, `lo` reduced to 127.0.0.1/32 (otherwise all of 127/8 is local
// and nothing reaches the veth) and `route_localnet=1` on `all` and on the veth. The partition is made by
// taking one end of the veth down (no iptables or tc needed); bringing it up heals it.
import { execFileSync } from 'node:child_process';

export interface NetnsAvailability {
  readonly ok: boolean;
  /** Why the netns scenarios cannot run here (empty when they can). */
  readonly reason: string;
}

function run(cmd: string, args: readonly string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function tryRun(cmd: string, args: readonly string[]): string | undefined {
  try {
    run(cmd, args);
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; message?: string };
    return (e.stderr?.toString().trim() || e.message || String(err)).split('\n')[0];
  }
}

/** Checks, by trying it, whether this process may create namespaces and veth pairs. Leaves nothing behind. */
export function netnsAvailability(): NetnsAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (platform is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (not running as uid 0)' };
  const probe = `mlts-probe-${process.pid}`;
  const addErr = tryRun('ip', ['netns', 'add', probe]);
  if (addErr !== undefined) return { ok: false, reason: `\`ip netns add\` failed: ${addErr}` };
  try {
    const vethErr = tryRun('ip', ['-n', probe, 'link', 'add', 'mltsp0', 'type', 'veth', 'peer', 'name', 'mltsp1']);
    if (vethErr !== undefined) return { ok: false, reason: `creating a veth pair failed: ${vethErr}` };
    const sysErr = tryRun('ip', ['netns', 'exec', probe, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1']);
    if (sysErr !== undefined) return { ok: false, reason: `sysctl route_localnet in a namespace failed: ${sysErr}` };
    return { ok: true, reason: '' };
  } finally {
    tryRun('ip', ['netns', 'del', probe]);
  }
}

export interface NetnsPair {
  readonly nsA: string;
  readonly nsB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** Takes host A's end of the veth down: nothing crosses in either direction. */
  cut(): void;
  /** Brings it back up. */
  heal(): void;
  /** Deletes both namespaces (and with them the veth pair). Idempotent; never throws. */
  destroy(): void;
}

/** Creates namespaces `${prefix}-a` and `${prefix}-b` joined by a veth pair. Cleans up after itself if any step fails. */
export function createNetnsPair(prefix: string, addrA = '127.77.0.1', addrB = '127.77.0.2'): NetnsPair {
  const nsA = `${prefix}-a`;
  const nsB = `${prefix}-b`;
  // Interface names are at most 15 characters.
  const tag = String(process.pid % 1_000_000);
  const vethA = `mlva${tag}`;
  const vethB = `mlvb${tag}`;
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    tryRun('ip', ['netns', 'del', nsA]);
    tryRun('ip', ['netns', 'del', nsB]);
  };
  try {
    run('ip', ['netns', 'add', nsA]);
    run('ip', ['netns', 'add', nsB]);
    run('ip', ['-n', nsA, 'link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB]);
    for (const [ns, veth, addr] of [
      [nsA, vethA, addrA],
      [nsB, vethB, addrB],
    ] as const) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
      run('ip', ['-n', ns, 'addr', 'add', '127.0.0.1/32', 'dev', 'lo']);
      run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1']);
      run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.conf.${veth}.route_localnet=1`]);
      run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', veth]);
      run('ip', ['-n', ns, 'link', 'set', veth, 'up']);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    nsA,
    nsB,
    addrA,
    addrB,
    cut: () => run('ip', ['-n', nsA, 'link', 'set', vethA, 'down']),
    heal: () => run('ip', ['-n', nsA, 'link', 'set', vethA, 'up']),
    destroy,
  };
}
