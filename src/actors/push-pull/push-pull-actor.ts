import { lookup } from 'node:dns/promises';

import { actors, wire } from '../../gen/index.js';
import { fromWireAddress, toWireAddress } from '../../codec/address.js';
import type { HookRunner } from '../../delegates.js';
import type { Member } from '../../member.js';
import { RingQueue } from '../../util/ring-queue.js';
import { BoundedPool, DEFAULT_INTERN_CAPACITY, EMPTY_BYTES, internBytes, internString, internVersions } from '../../util/intern.js';
import { bytesEqual } from '../../util/bytes.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { pushPullScaleMs } from '../../timing.js';
import { endpointKey } from '../../transport/transport.js';
import { STATE_NAMES, versionFields, type ProtocolVersions } from '../membership/member-record.js';
import { ProtobufCodec } from '../../codec/protobuf-codec.js';
import { inflateFrame, isCompressedFrame, MAX_INFLATED_FRAME_BYTES } from '../../codec/compressed-frame.js';
import {
  checkEntryLimit,
  InlineMergeExecutor,
  isOffloading,
  type MergeDiff,
  type MergeExecutor,
  type MirrorEntry,
  type OffloadingMergeExecutor,
} from './merge.js';
import { decodeMergeDiff, peekPushPullHeader, type DecodedMergeDiff } from './merge-codec.js';
import { parseSeed, type HostResolver, type ParsedSeed } from './seeds.js';
import { NameMap } from '../../util/name-table.js';

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
  /**
   * Merge runner; default InlineMergeExecutor. An OffloadingMergeExecutor (WorkerMergeExecutor) merges
   * large states on a worker thread: the actor forwards every mirror change to it and continues when
   * the worker's MergeDone arrives. Whoever creates it closes it (the actor only borrows it).
   */
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
  /** Merges handed to a worker thread (OffloadingMergeExecutor). */
  offloaded: number;
  /** Offloaded merges that failed on the worker and were merged inline instead. */
  mergeRetries: number;
}

/** A mirror entry: what the merge needs, plus our push entry for the member, built once per change. */
interface MirrorRecord extends MirrorEntry {
  readonly push: wire.PushNodeState.$Properties;
  readonly alive: boolean;
}

/** What one merge starts from: the decoded state, the received frame, or both. */
interface MergeInput {
  /** Decoded on this thread; absent when only the frame arrived and it goes to the worker undecoded. */
  readonly remote?: wire.PushPull.$Properties;
  /** The encoded [FrameKind][Compound] frame the network actor kept (StreamResult.response_bytes). */
  readonly frame?: Uint8Array;
  readonly header: wire.PushPullHeader.$Properties;
}

/** A merge running on the worker, waiting for its MergeDone. */
interface PendingMerge {
  readonly from: actors.Endpoint;
  readonly done: (error: string | undefined) => void;
  /** The decoded state, still intact, for one inline retry if the worker fails; absent: fail instead. */
  readonly retry?: wire.PushPull.$Properties;
  /** What the merge needs besides the claims, taken before the frame left; absent: the worker sends it. */
  readonly rest?: MergeRest;
}

/** What a merge applies besides the claims. */
interface MergeRest {
  readonly broadcasts: readonly wire.UserMessage.$Properties[];
  readonly userState: Uint8Array | null | undefined;
  readonly join: boolean;
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
    actors.MergeDone,
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
    offloaded: 0,
    mergeRetries: 0,
  };
  readonly #executor: MergeExecutor;
  /** The executor when it can merge on a worker thread. */
  readonly #offload: OffloadingMergeExecutor | undefined;
  /** Decodes a push-pull frame that arrived undecoded but is merged here after all. */
  readonly #codec = new ProtobufCodec();
  /** Merges on the worker by their MergeDone id (never reset: a result after a restart is ignored). */
  #merges = new Map<number, PendingMerge>();
  #nextMergeId = 1;
  readonly #resolve: HostResolver;
  #ctx!: ActorContext;
  #running = false;
  /** Shared records (see mirrorRecord) in a dense table by member id (util/name-table.ts). */
  readonly #mirror = new NameMap<MirrorRecord>();
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
    this.#offload = isOffloading(this.#executor) ? this.#executor : undefined;
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
    this.#merges = new Map();
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
    else if (message instanceof actors.MergeDone) this.#onMergeDone(message);
  }

  // ───── the mirror ─────

  #onMemberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (member === null || member === undefined || !member.name) return;
    const record = mirrorRecord(member);
    this.#mirror.set(member.name, record);
    this.#numMembers = m.numMembers > 0 ? m.numMembers : this.#mirror.size;
    this.#offload?.mirrorChanged(member.name, record, this.#mirror);
  }

  #onMemberRemoved(m: actors.MemberRemoved): void {
    this.#mirror.delete(m.name);
    this.#numMembers = m.numMembers > 0 ? m.numMembers : this.#mirror.size;
    this.#offload?.mirrorChanged(m.name, undefined, this.#mirror);
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
    const finish = (error: string | undefined, merged: boolean): void => {
      if (merged) {
        const took = this.#ctx.clock.now() - pending.startedMs;
        this.counters.lastDurationMs = took;
        this.counters.totalDurationMs += took;
      }
      if (error !== undefined) {
        this.counters.failed++;
        // memberlist: "[ERR] Push/Pull with %s failed"; a failed join seed is reported in JoinResult.
        if (pending.join === undefined) this.#ctx.logger.warn({ peer, error }, 'push/pull failed');
        else this.#ctx.logger.debug({ peer, error }, 'join push/pull failed');
      }
      if (pending.join !== undefined) this.#joinStepDone(pending.join, error);
    };
    if (m.error) {
      finish(m.error, false);
      return;
    }
    const input = this.#input(m.response, m.responseBytes);
    if (typeof input === 'string') {
      finish(input, false);
      return;
    }
    const refusal = input.remote !== undefined ? this.#authorize(input.remote) : undefined;
    if (refusal !== undefined) {
      finish(refusal, true);
      return;
    }
    // A merge on the worker finishes the exchange (and the join step) when its MergeDone arrives.
    this.#merge(input, pending.to, (error) => finish(error, true));
  }

  /**
   * The state to merge: the decoded one, with the frame kept for a worker. A frame that arrived
   * undecoded (the network actor may leave push-pulls to the merge) is decoded here only when it will
   * not go to the worker: it is small, or the authorizeMerge hook must see every entry.
   */
  #input(decoded: wire.Message.$Properties | null | undefined, bytes: Uint8Array | null | undefined): MergeInput | string {
    const frame = bytes !== null && bytes !== undefined && bytes.length > 0 ? bytes : undefined;
    const remote = decoded?.pushPull;
    if (remote !== null && remote !== undefined) return { remote, header: remote.header ?? {}, ...(frame !== undefined ? { frame } : {}) };
    const header = decoded === null || decoded === undefined ? (frame !== undefined ? peekPushPullHeader(frame) : undefined) : undefined;
    if (header === undefined || frame === undefined) return `unexpected response ${kindText(decoded)} to a push/pull`;
    if (this.#offloads(header.nodes ?? 0, frame) && !this.#hasAuthorize()) return { header, frame };
    // Merged here after all: a frame left compressed is inflated here (the layers checked its size).
    const inner = isCompressedFrame(frame) ? inflateFrame(frame, MAX_INFLATED_FRAME_BYTES) : { ok: true as const, value: frame };
    if (!inner.ok) return `bad push/pull frame: ${inner.reason}${inner.detail ? ` (${inner.detail})` : ''}`;
    const r = this.#codec.decodeStreamMessage(inner.value);
    if (!r.ok) return `bad push/pull frame: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`;
    const pushPull = r.value.pushPull;
    if (pushPull === null || pushPull === undefined) return `unexpected response ${r.value.body ?? 'none'} to a push/pull`;
    return { remote: pushPull, header: pushPull.header ?? {}, frame: inner.value };
  }

  #hasAuthorize(): boolean {
    return this.options.hooks !== undefined && this.options.hooks.has('authorizeMerge');
  }

  /** Whether a state of `entries` entries in this frame goes to the worker. */
  #offloads(entries: number, frame: Uint8Array | undefined): boolean {
    return (
      this.#offload !== undefined &&
      frame !== undefined &&
      // The worker decodes with the protobuf codec (inflating first if need be): another wire format
      // stays inline.
      (frame[0] === wire.FrameKind.FRAME_COMPOUND_V1 || isCompressedFrame(frame)) &&
      this.#offload.offloads(entries)
    );
  }

  // ───── server side ─────

  #onStreamRequest(m: actors.StreamRequestReceived): void {
    const from = actors.Endpoint.create({ host: m.from?.host ?? '', port: m.from?.port ?? 0 });
    const peer = endpointKey(from);
    const input = this.#input(m.request, m.requestBytes);
    if (typeof input === 'string') {
      // Not a push-pull we can read (only possible for a frame handed over undecoded): say so
      // rather than leave the peer waiting for its timeout.
      this.counters.failed++;
      this.#ctx.logger.debug({ peer, error: input }, 'push/pull request refused');
      this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { error: { error: input } } }));
      return;
    }
    this.counters.received++;
    // memberlist readRemoteState refuses an oversized state before anything else, with an errResp.
    const limitError = checkEntryLimit(input.remote ?? { header: input.header }, { maxEntries: this.options.maxPushPullEntries });
    if (limitError !== undefined) {
      this.counters.failed++;
      this.counters.refused++;
      this.#ctx.logger.warn({ peer, error: limitError }, 'push/pull refused');
      this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { error: { error: limitError } } }));
      return;
    }
    // A refusal by the application goes back as the error the joiner sees (memberlist only fails
    // the server side's merge silently).
    const refusal = input.remote !== undefined ? this.#authorize(input.remote) : undefined;
    if (refusal !== undefined) {
      this.counters.refused++;
      this.#ctx.logger.info({ peer, reason: refusal }, 'push/pull refused by authorizeMerge');
      this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { error: { error: refusal } } }));
      return;
    }
    // Our state first (with the client's join flag), then the merge: the reply does not depend on it.
    this.#ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: this.#localState(input.header.join ?? false) }));
    this.#merge(input, from, (error) => {
      if (error === undefined) return;
      this.counters.failed++;
      this.#ctx.logger.warn({ peer, error }, 'push/pull merge failed');
    });
  }

  // ───── the merge ─────

  /**
   * Runs the merge, inline or on the worker, and calls `done` with its outcome (an error when the
   * remote state was refused or could not be merged): at once inline, at MergeDone from the worker.
   */
  #merge(input: MergeInput, from: actors.Endpoint, done: (error: string | undefined) => void): void {
    const entries = Math.max(input.remote?.states?.length ?? 0, input.header.nodes ?? 0);
    const offload = this.#offload;
    if (offload !== undefined && input.frame !== undefined && this.#offloads(entries, input.frame)) {
      const id = this.#nextMergeId;
      this.#nextMergeId = (this.#nextMergeId + 1) >>> 0 || 1;
      const frame = input.frame;
      const remote = input.remote;
      // A frame that owns its buffer is transferred: the buffer is detached here, and with it every
      // bytes field protobufjs decoded from it (they are views). So what the merge still needs (user
      // state, broadcasts: small) is copied first, and only a state decoded from other bytes is kept
      // for an inline retry. Without a decoded state the worker returns these with the diff.
      const transferred = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength;
      const pending: PendingMerge = {
        from,
        done,
        ...(remote !== undefined && !transferred ? { retry: remote } : {}),
        ...(remote !== undefined ? { rest: restOf(remote, transferred) } : {}),
      };
      this.#merges.set(id, pending);
      this.counters.offloaded++;
      const report = (result: { diff: Uint8Array } | { error: string }): void => {
        // Async work reports back as a message to self; after stop() nobody is listening.
        if (this.#running) this.#ctx.schedule(0, actors.MergeDone.create({ requestId: id, ...result }));
      };
      offload.mergeFrame(frame, this.#mirror, this.options.name, remote === undefined).then(
        (diff) => report({ diff }),
        (err: unknown) => report({ error: errorText(err) || 'merge worker failed' }),
      );
      return;
    }
    let remote = input.remote;
    if (remote === undefined) {
      // Unreachable while offloads() holds between #input and here (one receive): decode after all.
      const r = input.frame !== undefined ? this.#codec.decodeStreamMessage(input.frame) : undefined;
      const decoded = r !== undefined && r.ok ? r.value.pushPull : undefined;
      if (decoded === null || decoded === undefined) {
        done('merge failed: the push/pull could not be decoded');
        return;
      }
      remote = decoded;
    }
    done(this.#mergeInline(remote, from));
  }

  /** A worker merge finished: apply its diff; if the worker failed, merge inline once when possible, else fail. */
  #onMergeDone(m: actors.MergeDone): void {
    const p = this.#merges.get(m.requestId);
    if (p === undefined) return;
    this.#merges.delete(m.requestId);
    let failure: string | undefined = m.error || undefined;
    let diff: DecodedMergeDiff | undefined;
    if (failure === undefined) {
      try {
        diff = decodeMergeDiff(m.diff);
        failure = diff.error ?? (diff.staleMirror ? 'merge worker mirror out of sync' : undefined);
      } catch (err) {
        failure = `undecodable merge diff: ${errorText(err)}`;
      }
    }
    if (failure !== undefined || diff === undefined) {
      const error = failure ?? 'merge worker failed';
      if (p.retry === undefined) {
        // The frame went to the worker and died with it: the exchange fails cleanly (the next
        // periodic or repair push-pull syncs again).
        this.#ctx.logger.warn({ peer: endpointKey(p.from), error }, 'merge on the worker failed');
        p.done(`merge failed: ${error}`);
        return;
      }
      this.counters.mergeRetries++;
      this.#ctx.logger.warn({ peer: endpointKey(p.from), error }, 'merge on the worker failed, merging inline');
      p.done(this.#mergeInline(p.retry, p.from));
      return;
    }
    const extras = diff.extras;
    const rest: MergeRest = p.rest ?? {
      broadcasts: extras?.broadcasts ?? [],
      userState: extras?.userState,
      join: extras?.header.join ?? false,
    };
    p.done(this.#applyDiff(diff, p.from, rest));
  }

  /** The inline merge (the executor's synchronous path) and its application. */
  #mergeInline(remote: wire.PushPull.$Properties, from: actors.Endpoint): string | undefined {
    let diff: MergeDiff;
    try {
      diff = this.#executor.merge(remote, this.#mirror, this.options.name);
    } catch (err) {
      return `merge failed: ${errorText(err)}`;
    }
    return this.#applyDiff(diff, from, {
      broadcasts: remote.broadcasts ?? [],
      userState: remote.userState,
      join: remote.header?.join ?? false,
    });
  }

  /** Sends a diff's claims, the carried broadcasts and the user state; returns an error when refused. */
  #applyDiff(diff: MergeDiff, from: actors.Endpoint, rest: MergeRest): string | undefined {
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
    for (const user of rest.broadcasts) {
      if (user.origin) this.#ctx.send(actors.UserPacketReceived.create({ user, from }));
    }
    const userState = rest.userState;
    const hooks = this.options.hooks;
    if (userState && userState.length > 0 && hooks !== undefined && hooks.has('mergeRemoteState')) {
      const join = rest.join;
      hooks.run('mergeRemoteState', (d) => d.mergeRemoteState?.(new Uint8Array(userState), join), undefined);
    }
    this.counters.entriesMerged += diff.claims.length;
    this.counters.entriesSkipped += diff.skipped;
    if (diff.invalid > 0) this.#ctx.logger.debug({ peer: endpointKey(from), invalid: diff.invalid }, 'push/pull entries without a name dropped');
    return undefined;
  }
}

/** The non-claim part of a decoded push-pull; copied when its bytes are about to be detached. */
function restOf(remote: wire.PushPull.$Properties, copy: boolean): MergeRest {
  const userState = remote.userState;
  const broadcasts = remote.broadcasts ?? [];
  if (!copy) return { broadcasts, userState, join: remote.header?.join ?? false };
  return {
    // A round trip through the codec: an independent copy whatever fields UserMessage gains.
    broadcasts: broadcasts.map((b) => wire.UserMessage.decode(wire.UserMessage.encode(b).finish())),
    userState: userState && userState.length > 0 ? new Uint8Array(userState) : undefined,
    join: remote.header?.join ?? false,
  };
}

function kindText(m: wire.Message.$Properties | null | undefined): string {
  if (m === null || m === undefined) return 'none';
  const body = (m as { body?: string }).body;
  return body ?? 'none';
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

/**
 * The last mirror record built per member name, process-wide. A MirrorRecord has no node-local field
 * (no state-change time), so every node in the process that publishes the same version of a member
 * can hold the same immutable object: in a simulation of n nodes that is one record per member
 * version instead of n (see util/intern.ts). A cache, not state: a hit is reused only when it equals
 * what would be built.
 */
const lastMirrorRecord = new BoundedPool<string, MirrorRecord>(DEFAULT_INTERN_CAPACITY);

function sameVersions(a: ProtocolVersions | undefined, b: ProtocolVersions): boolean {
  if (a === b) return true;
  if (a === undefined) return false;
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The mirror entry of a published member: the shared one when an equal record exists. */
function mirrorRecord(m: actors.Member.$Properties): MirrorRecord {
  const name = m.name ?? '';
  const hit = lastMirrorRecord.get(name);
  if (
    hit !== undefined &&
    hit.incarnation === (m.incarnation ?? 0) &&
    hit.state === (m.state ?? wire.MemberState.ALIVE) &&
    hit.host === (m.addr?.host ?? '') &&
    hit.port === (m.addr?.port ?? 0) &&
    bytesEqual(hit.push.meta ?? EMPTY_BYTES, m.meta ?? EMPTY_BYTES) &&
    sameVersions(hit.vsn, vsnOfMember(m))
  ) {
    return hit;
  }
  const record = buildMirrorRecord(m);
  lastMirrorRecord.set(name, record);
  return record;
}

/** Builds the mirror entry (and our push entry) of a published member. */
function buildMirrorRecord(m: actors.Member.$Properties): MirrorRecord {
  const host = m.addr?.host ?? '';
  const port = m.addr?.port ?? 0;
  let ipv4 = 0;
  let ipv6: Uint8Array = EMPTY_BYTES;
  try {
    const w = toWireAddress(host);
    ipv4 = w.ipv4;
    ipv6 = w.ipv6.length === 0 ? EMPTY_BYTES : w.ipv6;
  } catch {
    // Not an IP literal (the membership actor only stores literals): pushed without an address.
  }
  const vsn = internVersions(vsnOfMember(m));
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
      name: internString(m.name ?? ''),
      ipv4,
      ipv6,
      port,
      meta: internBytes(m.meta),
      incarnation,
      state,
      ...versionFields(vsn),
    },
  };
}
