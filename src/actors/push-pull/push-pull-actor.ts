import { lookup } from 'node:dns/promises';

import { actors, wire } from '../../gen/index.js';
import { fromWireAddress, toWireAddress } from '../../codec/address.js';
import type { HookRunner } from '../../delegates.js';
import type { Member } from '../../member.js';
import { RingQueue } from '../../util/ring-queue.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { pushPullScaleMs } from '../../timing.js';
import { endpointKey } from '../../transport/transport.js';
import { STATE_NAMES, type ProtocolVersions } from '../membership/member-record.js';
import { checkEntryLimit, InlineMergeExecutor, type MergeDiff, type MergeExecutor, type MirrorEntry } from './merge.js';
import { parseSeed, type HostResolver, type ParsedSeed } from './seeds.js';

export interface PushPullOptions {
  /** Our node name (the accuser of merged suspicions, and excluded from periodic targets). */
  name: string;
  /** Periodic full-state sync interval before scaling; 0 disables periodic push/pull (join still works). */
  pushPullIntervalMs: number;
  /** Deadline of one push/pull exchange (dial, write, read). */
  tcpTimeoutMs: number;
  /** Most entries a remote state may carry (config maxPushPullEntries). */
  maxPushPullEntries: number;
  /** Port for a seed given without one (memberlist uses BindPort). */
  defaultPort: number;
  /** Merge runner; default InlineMergeExecutor. */
  mergeExecutor?: MergeExecutor;
  /** Name resolution; default node:dns lookup with all: true. */
  resolve?: HostResolver;
  /**
   * Least time between two digest-triggered push-pulls (DigestMismatch from the probe actor); 0
   * disables them. The node passes its probe interval: at most one repair sync per probe.
   */
  digestSyncCooldownMs?: number;
  /** Application hooks: localState, mergeRemoteState and authorizeMerge are called from here. */
  hooks?: HookRunner;
  /** Most recent broadcasts carried in a push-pull (default 128). */
  maxRecentBroadcasts?: number;
  /** How long a broadcast is carried in push-pulls (default: two scaled push-pull intervals, at least 60 s). */
  recentBroadcastMaxAgeMs?: number;
}

/** Counters of the push-pull actor, read by metrics and tests. */
export interface PushPullCounters {
  /** Push/pulls we started (join and periodic). */
  sent: number;
  /** Push/pulls peers started with us (served). */
  received: number;
  /** Exchanges that failed (stream error, bad response, refused merge). */
  failed: number;
  /** Remote states refused as a whole (entry limit, incompatible versions). */
  refused: number;
  /** Claims sent to the membership actor. */
  entriesMerged: number;
  /** Remote entries skipped as proven stale by the mirror. */
  entriesSkipped: number;
  /** Duration of the last completed outbound exchange, and the sum over all of them (request to merge). */
  lastDurationMs: number;
  totalDurationMs: number;
}

/** A mirror entry: what the merge needs, plus our push entry for the member, built once per change. */
interface MirrorRecord extends MirrorEntry {
  readonly push: wire.PushNodeState.$Properties;
  readonly alive: boolean;
}

/** Join progress for one JoinRequest. */
interface PendingJoin {
  readonly requestId: number;
  readonly results: actors.JoinSeedResult[];
  outstanding: number;
  reached: number;
}

/** An outbound exchange waiting for its StreamResult. */
interface PendingExchange {
  readonly startedMs: number;
  readonly to: actors.Endpoint;
  /** The join it belongs to, with the index of its seed result; absent for a periodic push/pull. */
  readonly join?: { readonly id: number; readonly index: number };
}

/** Resolution outcome of one seed, before it is reported as SeedsResolved. */
interface Resolution {
  readonly seed: string;
  readonly addresses: ReadonlyArray<{ host: string; port: number }>;
  readonly error?: string;
}

async function dnsResolve(host: string): Promise<string[]> {
  const all = await lookup(host, { all: true });
  return all.map((a) => a.address);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Splits the "host:port" / "[v6]:port" text that SeedsResolved carries (always produced by endpointKey). */
function splitAddress(address: string): { host: string; port: number } | undefined {
  const parsed = parseSeed(address, 0);
  return parsed.ok ? { host: parsed.value.host, port: parsed.value.port } : undefined;
}

/**
 * Push/pull (memberlist §7): join through seeds, periodic full-state sync with one random alive member,
 * and the server side of both. It keeps a read-only mirror of the member table from MemberChanged /
 * MemberRemoved (the membership actor is the single writer): the mirror is what we push, and it lets
 * the merge skip entries it proves stale. The merge itself runs behind a MergeExecutor and yields
 * claims (AliveReceived, SuspectReceived, DeadReceived) that the membership actor applies.
 */
export class PushPullActor implements Actor {
  readonly name = 'push-pull';
  readonly accepts = [
    actors.MemberChanged,
    actors.MemberRemoved,
    actors.JoinRequest,
    actors.SeedsResolved,
    actors.PushPullTick,
    actors.StreamResult,
    actors.StreamRequestReceived,
    actors.DigestMismatch,
    actors.RecentBroadcast,
  ];
  readonly counters: PushPullCounters = {
    sent: 0,
    received: 0,
    failed: 0,
    refused: 0,
    entriesMerged: 0,
    entriesSkipped: 0,
    lastDurationMs: 0,
    totalDurationMs: 0,
  };
  readonly #executor: MergeExecutor;
  readonly #resolve: HostResolver;
  #ctx!: ActorContext;
  #running = false;
  #mirror = new Map<string, MirrorRecord>();
  #numMembers = 0;
  #nextRequestId = 1;
  #nextJoinId = 1;
  #round = 0;
  /** Request id of the periodic push/pull in flight (0: none). */
  #periodic = 0;
  /** Recent user broadcasts carried in push-pulls, oldest first (bounded by count and age). */
  #recent = new RingQueue<{ atMs: number; user: wire.UserMessage.$Properties }>(16);
  /** Request id of the digest-triggered push/pull in flight (0: none), and when it started. */
  #repair = 0;
  #lastRepairMs = Number.NEGATIVE_INFINITY;
  /** Push-pulls started because a probe ack's member digest differed from ours. */
  digestSyncs = 0;
  #exchanges = new Map<number, PendingExchange>();
  #joins = new Map<number, PendingJoin>();
  /** JoinRequests waiting for DNS, keyed by their internal join id. */
  #resolving = new Map<number, number>();

  constructor(private readonly options: PushPullOptions) {
    this.#executor = options.mergeExecutor ?? new InlineMergeExecutor({ maxEntries: options.maxPushPullEntries });
    this.#resolve = options.resolve ?? dnsResolve;
  }

  /** Members in the mirror (every state), for tests. */
  get mirrorSize(): number {
    return this.#mirror.size;
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#running = true;
    // The mirror survives a restart on purpose: the membership actor publishes each change once and
    // has no snapshot request, so a cleared mirror would push an empty state until members change.
    this.#exchanges = new Map();
    this.#joins = new Map();
    this.#resolving = new Map();
    this.#periodic = 0;
    this.#numMembers = 0;
    const interval = this.options.pushPullIntervalMs;
    // memberlist staggers the first push/pull by a random fraction of the interval, so nodes started
    // together do not sync in lockstep.
    if (interval > 0) ctx.schedule(ctx.random.next() * interval, actors.PushPullTick.create({ round: 0 }));
  }

  stop(): void {
    this.#running = false;
  }

  receive(message: object): void {
    if (message instanceof actors.MemberChanged) this.#onMemberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.#onMemberRemoved(message);
    else if (message instanceof actors.StreamResult) this.#onStreamResult(message);
    else if (message instanceof actors.StreamRequestReceived) this.#onStreamRequest(message);
    else if (message instanceof actors.PushPullTick) this.#onTick();
    else if (message instanceof actors.DigestMismatch) this.#onDigestMismatch(message);
    else if (message instanceof actors.RecentBroadcast) this.#onRecentBroadcast(message);
    else if (message instanceof actors.JoinRequest) this.#onJoin(message);
    else if (message instanceof actors.SeedsResolved) this.#onSeedsResolved(message);
  }

  // ───── the mirror ─────

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    this.#mirror.set(member.name, mirrorRecord(member));
    this.#numMembers = m.numMembers > 0 ? m.numMembers : this.#mirror.size;
  }

  #onMemberRemoved(m: actors.MemberRemoved): void {
    this.#mirror.delete(m.name);
    this.#numMembers = m.numMembers > 0 ? m.numMembers : this.#mirror.size;
  }

  /** Our full state, every entry in any state, self included (memberlist sendLocalState). */
  #localState(join: boolean): wire.Message.$Properties {
    const states: wire.PushNodeState.$Properties[] = [];
    for (const r of this.#mirror.values()) states.push(r.push);
    const hooks = this.options.hooks;
    let userState: Uint8Array | undefined;
    if (hooks !== undefined && hooks.has('localState')) {
      const v = hooks.run('localState', (d) => d.localState?.(join), undefined).value;
      if (v instanceof Uint8Array && v.length > 0) userState = v;
    }
    return {
      pushPull: {
        header: { nodes: states.length, userStateLen: userState?.length ?? 0, join },
        states,
        userState: userState ?? null,
        broadcasts: this.#recentBroadcasts(),
      },
    };
  }

  #onRecentBroadcast(m: actors.RecentBroadcast): void {
    if (m.user === null || m.user === undefined) return;
    this.#recent.push({ atMs: this.#ctx.clock.now(), user: m.user });
    while (this.#recent.size > (this.options.maxRecentBroadcasts ?? 128)) this.#recent.shift();
  }

  #recentBroadcasts(): wire.UserMessage.$Properties[] {
    const maxAge =
      this.options.recentBroadcastMaxAgeMs ??
      Math.max(60_000, 2 * pushPullScaleMs(this.options.pushPullIntervalMs, Math.max(this.#numMembers, this.#mirror.size)));
    const oldest = this.#ctx.clock.now() - maxAge;
    while (this.#recent.size > 0 && (this.#recent.peek()?.atMs ?? 0) < oldest) this.#recent.shift();
    return [...this.#recent].map((e) => e.user);
  }

  /**
   * authorizeMerge (MergeDelegate): the application may refuse the members a push-pull would merge.
   * Returns the refusal text, which a joiner receives as its error.
   */
  #authorize(remote: wire.PushPull.$Properties): string | undefined {
    const hooks = this.options.hooks;
    if (hooks === undefined || !hooks.has('authorizeMerge')) return undefined;
    const peers = (remote.states ?? []).map(memberOfPushState);
    const join = remote.header?.join ?? false;
    const r = hooks.run('authorizeMerge', (d) => d.authorizeMerge?.(peers, { join }), undefined);
    if (r.failed) return `merge refused: authorizeMerge threw: ${errorText(r.error)}`;
    return typeof r.value === 'string' ? `merge refused: ${r.value}` : undefined;
  }

  // ───── periodic push/pull ─────

  #onTick(): void {
    if (!this.#running) return;
    this.#round++;
    const interval = this.options.pushPullIntervalMs;
    this.#ctx.schedule(pushPullScaleMs(interval, Math.max(this.#numMembers, this.#mirror.size)), actors.PushPullTick.create({ round: this.#round }));
    // memberlist runs one periodic push/pull at a time (the ticker goroutine waits for it).
    const inFlight = this.#exchanges.get(this.#periodic);
    if (inFlight !== undefined) {
      // The network actor reports every request by its deadline; a result lost to a restart must not
      // stop periodic syncs forever.
      if (this.#ctx.clock.now() - inFlight.startedMs <= 2 * this.options.tcpTimeoutMs) return;
      this.#exchanges.delete(this.#periodic);
    }
    const candidates: MirrorRecord[] = [];
    for (const [name, r] of this.#mirror) if (r.alive && name !== this.options.name) candidates.push(r);
    if (candidates.length === 0) return;
    const target = candidates[this.#ctx.random.int(candidates.length)] as MirrorRecord;
    if (target.host === undefined || target.port === undefined) return;
    this.#periodic = this.#exchange({ host: target.host, port: target.port }, false, undefined);
  }

  // ───── digest-triggered repair ─────

  /**
   * A probed member knows a different set of live members: sync with it now. One repair at a time
   * and at most one per cooldown, so a cluster in churn (where digests differ for a moment anyway)
   * pays at most one extra push-pull per node per probe interval, and a converged one pays nothing.
   */
  #onDigestMismatch(m: actors.DigestMismatch): void {
    const cooldown = this.options.digestSyncCooldownMs ?? 0;
    if (!this.#running || cooldown <= 0 || !m.addr?.host || !m.addr.port) return;
    if (this.#repair !== 0 && this.#exchanges.has(this.#repair)) return;
    const now = this.#ctx.clock.now();
    if (now - this.#lastRepairMs < cooldown) return;
    this.#lastRepairMs = now;
    this.digestSyncs++;
    this.#repair = this.#exchange({ host: m.addr.host, port: m.addr.port }, false, undefined);
  }

  // ───── join ─────

  #onJoin(m: actors.JoinRequest): void {
    const joinId = this.#nextJoinId++;
    // Results keep the order of the seeds; names need DNS, literals and parse errors do not.
    const resolutions: Array<Resolution | Promise<Resolution>> = m.seeds.map((seed): Resolution | Promise<Resolution> => {
      const parsed = parseSeed(seed, this.options.defaultPort);
      if (!parsed.ok) return { seed, addresses: [], error: parsed.error };
      if (parsed.value.isIp) return { seed, addresses: [{ host: parsed.value.host, port: parsed.value.port }] };
      return this.#lookup(parsed.value);
    });
    if (resolutions.every((r): r is Resolution => !(r instanceof Promise))) {
      this.#startJoin(joinId, m.requestId, resolutions);
      return;
    }
    this.#resolving.set(joinId, m.requestId);
    void Promise.all(resolutions).then((resolved) => {
      if (!this.#running) return;
      // Async work reports back as a message to self (a send would not be routed to the sender).
      // Its request_id is our internal join id, which maps back to the JoinRequest's id.
      this.#ctx.schedule(
        0,
        actors.SeedsResolved.create({
          requestId: joinId,
          resolved: resolved.flatMap((r): actors.JoinSeedResult.$Properties[] =>
            r.error !== undefined
              ? [{ seed: r.seed, error: r.error }]
              : r.addresses.map((a) => ({ seed: r.seed, address: endpointKey(a) })),
          ),
        }),
      );
    });
  }

  async #lookup(seed: ParsedSeed): Promise<Resolution> {
    try {
      const hosts = [...new Set(await this.#resolve(seed.host))];
      if (hosts.length === 0) return { seed: seed.seed, addresses: [], error: `no addresses found for ${seed.host}` };
      return { seed: seed.seed, addresses: hosts.map((host) => ({ host, port: seed.port })) };
    } catch (err) {
      return { seed: seed.seed, addresses: [], error: `failed to resolve ${seed.host}: ${errorText(err)}` };
    }
  }

  #onSeedsResolved(m: actors.SeedsResolved): void {
    const requestId = this.#resolving.get(m.requestId);
    if (requestId === undefined) return;
    this.#resolving.delete(m.requestId);
    const resolutions: Resolution[] = [];
    for (const r of m.resolved) {
      const seed = r.seed ?? '';
      const address = r.address ? splitAddress(r.address) : undefined;
      if (r.error || address === undefined) resolutions.push({ seed, addresses: [], error: r.error || `bad address ${r.address ?? ''}` });
      else resolutions.push({ seed, addresses: [address] });
    }
    this.#startJoin(m.requestId, requestId, resolutions);
  }

  /** Starts a push/pull (join = true) with every resolved address at once; seeds that failed are reported. */
  #startJoin(joinId: number, requestId: number, resolutions: Resolution[]): void {
    const join: PendingJoin = { requestId, results: [], outstanding: 0, reached: 0 };
    const targets: Array<{ index: number; host: string; port: number }> = [];
    for (const r of resolutions) {
      if (r.error !== undefined) {
        join.results.push(actors.JoinSeedResult.create({ seed: r.seed, error: r.error }));
        continue;
      }
      for (const a of r.addresses) {
        targets.push({ index: join.results.length, ...a });
        join.results.push(actors.JoinSeedResult.create({ seed: r.seed, address: endpointKey(a) }));
      }
    }
    join.outstanding = targets.length;
    if (targets.length === 0) {
      this.#finishJoin(join);
      return;
    }
    this.#joins.set(joinId, join);
    for (const t of targets) this.#exchange({ host: t.host, port: t.port }, true, { id: joinId, index: t.index });
  }

  #joinStepDone(ref: { id: number; index: number }, error: string | undefined): void {
    const join = this.#joins.get(ref.id);
    if (join === undefined) return;
    const result = join.results[ref.index];
    if (result !== undefined && error !== undefined) result.error = error;
    if (error === undefined) join.reached++;
    join.outstanding--;
    if (join.outstanding === 0) {
      this.#joins.delete(ref.id);
      this.#finishJoin(join);
    }
  }

  #finishJoin(join: PendingJoin): void {
    this.#ctx.logger.info({ reached: join.reached, seeds: join.results.length }, 'join finished');
    this.#ctx.send(actors.JoinResult.create({ requestId: join.requestId, reached: join.reached, seeds: join.results }));
  }

  // ───── the exchange (client side) ─────

  /** Sends our state to `to` and returns the request id its StreamResult will carry. */
  #exchange(to: { host: string; port: number }, join: boolean, joinRef: { id: number; index: number } | undefined): number {
    const requestId = this.#nextRequestId;
    this.#nextRequestId = (this.#nextRequestId + 1) >>> 0 || 1;
    this.#exchanges.set(requestId, {
      startedMs: this.#ctx.clock.now(),
      to: actors.Endpoint.create(to),
      ...(joinRef !== undefined ? { join: joinRef } : {}),
    });
    this.counters.sent++;
    this.#ctx.send(
      actors.StreamRequest.create({
        requestId,
        requester: this.name,
        to,
        request: this.#localState(join),
        expectReply: true,
        timeoutMs: this.options.tcpTimeoutMs,
      }),
    );
    return requestId;
  }

  #onStreamResult(m: actors.StreamResult): void {
    if (m.requester !== this.name) return;
    const pending = this.#exchanges.get(m.requestId);
    if (pending === undefined) return;
    this.#exchanges.delete(m.requestId);
    const peer = endpointKey(pending.to);
    let error: string | undefined = m.error || undefined;
    if (error === undefined) {
      const remote = m.response?.pushPull;
      if (remote === null || remote === undefined) {
        error = `unexpected response ${m.response?.body ?? 'none'} to a push/pull`;
      } else {
        error = this.#authorize(remote) ?? this.#merge(remote, pending.to);
        const took = this.#ctx.clock.now() - pending.startedMs;
        this.counters.lastDurationMs = took;
        this.counters.totalDurationMs += took;
      }
    }
    if (error !== undefined) {
      this.counters.failed++;
      // memberlist: "[ERR] Push/Pull with %s failed"; a failed join seed is reported in JoinResult.
      if (pending.join === undefined) this.#ctx.logger.warn({ peer, error }, 'push/pull failed');
      else this.#ctx.logger.debug({ peer, error }, 'join push/pull failed');
    }
    if (pending.join !== undefined) this.#joinStepDone(pending.join, error);
  }

  // ───── server side ─────

  #onStreamRequest(m: actors.StreamRequestReceived): void {
    const remote = m.request?.pushPull;
    if (remote === null || remote === undefined) return;
    this.counters.received++;
    const from = actors.Endpoint.create({ host: m.from?.host ?? '', port: m.from?.port ?? 0 });
    const peer = endpointKey(from);
    // memberlist readRemoteState refuses an oversized state before anything else, with an errResp.
    const limitError = checkEntryLimit(remote, { maxEntries: this.options.maxPushPullEntries });
    if (limitError !== undefined) {
      this.counters.failed++;
      this.counters.refused++;
      this.#ctx.logger.warn({ peer, error: limitError }, 'push/pull refused');
      this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { error: { error: limitError } } }));
      return;
    }
    // A refusal by the application goes back as the error the joiner sees (memberlist only fails
    // the server side's merge silently).
    const refusal = this.#authorize(remote);
    if (refusal !== undefined) {
      this.counters.refused++;
      this.#ctx.logger.info({ peer, reason: refusal }, 'push/pull refused by authorizeMerge');
      this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { error: { error: refusal } } }));
      return;
    }
    // Our state first (with the client's join flag), then the merge: the reply does not depend on it.
    this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: this.#localState(remote.header?.join ?? false) }));
    const error = this.#merge(remote, from);
    if (error !== undefined) {
      this.counters.failed++;
      this.#ctx.logger.warn({ peer, error }, 'push/pull merge failed');
    }
  }

  // ───── the merge ─────

  /** Runs the merge and sends its claims; returns an error when the remote state was refused. */
  #merge(remote: wire.PushPull.$Properties, from: actors.Endpoint): string | undefined {
    let diff: MergeDiff;
    try {
      diff = this.#executor.merge(remote, this.#mirror, this.options.name);
    } catch (err) {
      return `merge failed: ${errorText(err)}`;
    }
    if (diff.refused !== undefined) {
      this.counters.refused++;
      return diff.refused;
    }
    for (const c of diff.claims) {
      switch (c.kind) {
        case 'alive':
          this.#ctx.send(actors.AliveReceived.create({ alive: c.alive, from }));
          break;
        case 'dead':
          this.#ctx.send(actors.DeadReceived.create({ dead: c.dead, from }));
          break;
        case 'suspect':
          this.#ctx.send(actors.SuspectReceived.create({ suspect: c.suspect, from }));
          break;
        default: {
          const never: never = c;
          return `unknown claim ${String(never)}`;
        }
      }
    }
    // Broadcasts the epidemic may have missed: the user-messages actor delivers each at most once.
    for (const user of remote.broadcasts ?? []) {
      if (user.origin) this.#ctx.send(actors.UserPacketReceived.create({ user, from }));
    }
    const userState = remote.userState;
    const hooks = this.options.hooks;
    if (userState && userState.length > 0 && hooks !== undefined && hooks.has('mergeRemoteState')) {
      const join = remote.header?.join ?? false;
      hooks.run('mergeRemoteState', (d) => d.mergeRemoteState?.(new Uint8Array(userState), join), undefined);
    }
    this.counters.entriesMerged += diff.claims.length;
    this.counters.entriesSkipped += diff.skipped;
    if (diff.invalid > 0) this.#ctx.logger.debug({ peer: endpointKey(from), invalid: diff.invalid }, 'push/pull entries without a name dropped');
    return undefined;
  }
}

function memberOfPushState(p: wire.PushNodeState.$Properties): Member {
  return {
    name: p.name ?? '',
    addr: fromWireAddress(p.ipv4, p.ipv6) ?? '',
    port: p.port ?? 0,
    meta: p.meta ? new Uint8Array(p.meta) : new Uint8Array(0),
    state: STATE_NAMES[p.state ?? 0] ?? 'alive',
    incarnation: p.incarnation ?? 0,
  };
}

function vsnOfMember(m: actors.Member.$Properties): ProtocolVersions {
  return [m.protocolMin ?? 0, m.protocolMax ?? 0, m.protocolCur ?? 0, m.delegateMin ?? 0, m.delegateMax ?? 0, m.delegateCur ?? 0];
}

/** Builds the mirror entry (and our push entry) of a published member. */
function mirrorRecord(m: actors.Member.$Properties): MirrorRecord {
  const host = m.addr?.host ?? '';
  const port = m.addr?.port ?? 0;
  let ipv4 = 0;
  let ipv6: Uint8Array = new Uint8Array(0);
  try {
    const w = toWireAddress(host);
    ipv4 = w.ipv4;
    ipv6 = w.ipv6;
  } catch {
    // Not an IP literal (the membership actor only stores literals): pushed without an address.
  }
  const vsn = vsnOfMember(m);
  const incarnation = m.incarnation ?? 0;
  const state = m.state ?? wire.MemberState.ALIVE;
  return {
    incarnation,
    state,
    host,
    port,
    vsn,
    alive: state === wire.MemberState.ALIVE,
    push: {
      name: m.name ?? '',
      ipv4,
      ipv6,
      port,
      meta: m.meta ?? new Uint8Array(0),
      incarnation,
      state,
      protocolMin: vsn[0],
      protocolMax: vsn[1],
      protocolCur: vsn[2],
      delegateMin: vsn[3],
      delegateMax: vsn[4],
      delegateCur: vsn[5],
    },
  };
}
