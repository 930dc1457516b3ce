/**
 * The push/pull merge (memberlist mergeRemoteState, reference §7) as a pure function of the remote
 * state and a read-only mirror of our member table: it returns the claims to apply, and the membership
 * actor (the single writer) applies them with its usual alive/suspect/dead rules. Nothing here touches
 * actors or time, so the same function can run inline or on a worker thread.
 */
// Types only from the generated code: this module runs on the merge worker, which must not load it
// (src/codec/proto-wire.ts).
import type { wire } from '../../gen/index.js';
import { fromWireAddress } from '../../codec/address.js';
import { MemberState } from '../../codec/wire-enums.js';
import { versionFields, vsnOfAlive, type ProtocolVersions } from '../membership/protocol-versions.js';

/** What the merge needs to know about one local member. */
export interface MirrorEntry {
  readonly incarnation: number;
  readonly state: wire.MemberState;
  /** Advertised address: an alive entry with another address is never skipped (conflict or reclaim). */
  readonly host?: string;
  readonly port?: number;
  /** [pmin, pmax, pcur, dmin, dmax, dcur]; absent means version 0 throughout. */
  readonly vsn?: ProtocolVersions;
}

/** One claim for the membership actor, as the message bodies it already handles. */
export type MergeClaim =
  | { readonly kind: 'alive'; readonly alive: wire.Alive.$Properties }
  | { readonly kind: 'dead'; readonly dead: wire.Dead.$Properties }
  | { readonly kind: 'suspect'; readonly suspect: wire.Suspect.$Properties };

export interface MergeDiff {
  /** Set when the remote state was refused as a whole (entry limit, incompatible versions): no claims. */
  readonly refused?: string;
  readonly claims: MergeClaim[];
  /** Entries the mirror proves stale (no effect on the member table), not turned into claims. */
  readonly skipped: number;
  /** Entries without a name, dropped. */
  readonly invalid: number;
}

export interface MergeLimits {
  /** Most entries one remote state may carry (config maxPushPullEntries). */
  readonly maxEntries: number;
}

/** Runs merges. The inline one calls mergeRemoteState; a worker-thread executor can replace it. */
export interface MergeExecutor {
  /** The synchronous merge (inline): every executor can do it, offloading ones for small states and retries. */
  merge(remote: wire.PushPull.$Properties, mirror: ReadonlyMap<string, MirrorEntry>, selfName: string): MergeDiff;
}

/**
 * An executor that can also merge off the calling thread (WorkerMergeExecutor). The push-pull actor
 * asks `offloads(entries)` per merge; when true it hands over the received frame and continues when
 * the promise settles, as a MergeDone message to itself (an actor never awaits in receive).
 */
export interface OffloadingMergeExecutor extends MergeExecutor {
  /** Whether a remote state of `entries` entries goes to the worker (at or above the threshold, pool open). */
  offloads(entries: number): boolean;
  /**
   * Merges a received stream frame ([FRAME_COMPOUND_V1][Compound] holding one push-pull) against the
   * worker's mirror. The frame's ArrayBuffer is transferred (detached here) when the frame owns it
   * outright, else copied first. Resolves with an encoded memberlist.worker.MergeDiff (decode it with
   * decodeMergeDiff); `extras` asks for the header, user state and broadcasts too (a caller that did
   * not decode the frame). Rejects when the merge could not run (the worker died with it, closed).
   */
  mergeFrame(frame: Uint8Array, mirror: ReadonlyMap<string, MirrorEntry>, selfName: string, extras?: boolean): Promise<Uint8Array>;
  /** One change of the member table (entry undefined: removed), forwarded to the worker's mirror. */
  mirrorChanged(name: string, entry: MirrorEntry | undefined, mirror: ReadonlyMap<string, MirrorEntry>): void;
}

/** Whether an executor can offload (structural check; executors are plain objects to the actor). */
export function isOffloading(e: MergeExecutor): e is OffloadingMergeExecutor {
  const o = e as Partial<OffloadingMergeExecutor>;
  return typeof o.offloads === 'function' && typeof o.mergeFrame === 'function' && typeof o.mirrorChanged === 'function';
}

export class InlineMergeExecutor implements MergeExecutor {
  constructor(private readonly limits: MergeLimits) {}

  merge(remote: wire.PushPull.$Properties, mirror: ReadonlyMap<string, MirrorEntry>, selfName: string): MergeDiff {
    return mergeRemoteState(remote, mirror, selfName, this.limits);
  }
}

/** memberlist's Vsn is bytes: its range search starts from 255 for the maxima. */
const MAX_VERSION = 255;

function remoteVsn(e: wire.PushNodeState.$Properties): ProtocolVersions {
  return [e.protocolMin ?? 0, e.protocolMax ?? 0, e.protocolCur ?? 0, e.delegateMin ?? 0, e.delegateMax ?? 0, e.delegateCur ?? 0];
}

function hasVersions(v: ProtocolVersions): boolean {
  return v.some((x) => x !== 0);
}

const ZERO_VSN: ProtocolVersions = [0, 0, 0, 0, 0, 0];

/** One remote member entry as the merge reads it. */
export type RemoteEntry = wire.PushNodeState.$Properties;

/**
 * The entries of a remote state as the merge reads them: their number and passes over them in order.
 * The inline path's are the decoded objects (entriesOf); the merge worker's are numbers read once from
 * the frame, and every pass refills one object from them (merge-worker-wire.ts), so that a 10,000-entry
 * state never lives as 10,000 objects and the worker's young generation stays small.
 */
export interface RemoteEntries {
  readonly count: number;
  /**
   * Visits the entries in order until `visit` returns true. The object visited may be the same one,
   * refilled, for every entry: read what you need, and copy what you keep.
   */
  each(visit: (e: RemoteEntry) => boolean | void): void;
}

/** The RemoteEntries of decoded entries. */
export function entriesOf(states: readonly RemoteEntry[]): RemoteEntries {
  return {
    count: states.length,
    each(visit): void {
      for (const e of states) if (visit(e) === true) return;
    },
  };
}

/** The entry-count check, on its own so a server can refuse before replying (memberlist readRemoteState). */
export function checkEntryLimit(remote: wire.PushPull.$Properties, limits: MergeLimits): string | undefined {
  return entryLimitError(remote.states?.length ?? 0, remote.header?.nodes ?? 0, limits);
}

function entryLimitError(entries: number, claimed: number, limits: MergeLimits): string | undefined {
  const n = Math.max(entries, claimed);
  if (n > limits.maxEntries) return `remote state has ${n} entries, more than the limit of ${limits.maxEntries}`;
  return undefined;
}

/**
 * memberlist verifyProtocol: the version range every alive member (remote and local) understands must
 * contain the current version of every member, of any state. An entry whose protocol fields are all 0
 * is memberlist's empty Vsn: it does not narrow the range, and its current versions count as 0, so it
 * fails the check whenever some alive member has a minimum above 0. Returns the error, or undefined.
 */
export function verifyProtocol(remote: RemoteEntries | readonly RemoteEntry[], mirror: ReadonlyMap<string, MirrorEntry>): string | undefined {
  const entries = isEntryList(remote) ? entriesOf(remote) : remote;
  let maxpmin = 0;
  let minpmax = MAX_VERSION;
  let maxdmin = 0;
  let mindmax = MAX_VERSION;
  const narrow = (v: ProtocolVersions): void => {
    if (v[0] > maxpmin) maxpmin = v[0];
    if (v[1] < minpmax) minpmax = v[1];
    if (v[3] > maxdmin) maxdmin = v[3];
    if (v[4] < mindmax) mindmax = v[4];
  };
  entries.each((e) => {
    if ((e.state ?? MemberState.ALIVE) !== MemberState.ALIVE) return;
    const v = remoteVsn(e);
    if (hasVersions(v)) narrow(v);
  });
  for (const e of mirror.values()) {
    if (e.state !== MemberState.ALIVE) continue;
    narrow(e.vsn ?? ZERO_VSN);
  }
  const check = (name: string, v: ProtocolVersions): string | undefined => {
    if (v[2] < maxpmin || v[2] > minpmax) {
      return `Node '${name}' protocol version (${v[2]}) is incompatible: [${maxpmin}, ${minpmax}]`;
    }
    if (v[5] < maxdmin || v[5] > mindmax) {
      return `Node '${name}' delegate protocol version (${v[5]}) is incompatible: [${maxdmin}, ${mindmax}]`;
    }
    return undefined;
  };
  let remoteError: string | undefined;
  entries.each((e) => {
    // The name is read only for the entry that fails (reading it allocates on the worker's entries).
    const v = remoteVsn(e);
    if (check('', v) === undefined) return false;
    remoteError = check(e.name ?? '', v);
    return true;
  });
  if (remoteError !== undefined) return remoteError;
  // The local members are checked in no particular order (memberlist ranges over a Go map); the
  // error names the smallest failing name, so that the verdict does not depend on the mirror's
  // iteration order (the worker's mirror is built by updates and need not iterate like ours).
  let first: { name: string; err: string } | undefined;
  for (const [name, e] of mirror) {
    if (first !== undefined && name >= first.name) continue;
    const err = check(name, e.vsn ?? ZERO_VSN);
    if (err !== undefined) first = { name, err };
  }
  return first?.err;
}

/**
 * How bad a claim is for the skip rule: alive < suspect < left (the wire enum order). Remote Dead and
 * Suspect both become a suspect claim (memberlist downgrades remote death to suspicion).
 */
function claimSeverity(state: wire.MemberState): wire.MemberState {
  switch (state) {
    case MemberState.ALIVE:
      return MemberState.ALIVE;
    case MemberState.SUSPECT:
    case MemberState.DEAD:
      return MemberState.SUSPECT;
    case MemberState.LEFT:
      return MemberState.LEFT;
    default:
      // An unknown future state: never skip it on severity grounds.
      return MemberState.LEFT;
  }
}

/**
 * Whether `local` proves the remote entry has no effect on the member table, so it need not become a
 * claim. Stale means a higher local incarnation, or the same incarnation with a state at least as bad
 * as the claim. Never skipped: an entry about ourselves at or above our incarnation (it may force a
 * refutation, or be an alive with other meta), an entry about a member we do not know (the mirror may
 * lag the membership actor), and an alive with a different address (memberlist checks conflicts and
 * reclaims before incarnations).
 */
export function isStale(e: wire.PushNodeState.$Properties, local: MirrorEntry | undefined, isSelf: boolean): boolean {
  if (local === undefined) return false;
  const inc = e.incarnation ?? 0;
  if (isSelf) return inc < local.incarnation;
  const state = e.state ?? MemberState.ALIVE;
  if (state === MemberState.ALIVE && local.host !== undefined) {
    const host = fromWireAddress(e.ipv4, e.ipv6);
    if (host !== local.host || (e.port ?? 0) !== local.port) return false;
  }
  if (inc < local.incarnation) return true;
  return inc === local.incarnation && local.state >= claimSeverity(state);
}

/** The claim memberlist's mergeState makes of one remote entry. */
export function claimOf(e: wire.PushNodeState.$Properties, selfName: string): MergeClaim {
  const name = e.name ?? '';
  const incarnation = e.incarnation ?? 0;
  switch (e.state ?? MemberState.ALIVE) {
    case MemberState.ALIVE:
      return {
        kind: 'alive',
        alive: {
          incarnation,
          node: name,
          ipv4: e.ipv4 ?? 0,
          ipv6: e.ipv6 ?? new Uint8Array(0),
          port: e.port ?? 0,
          meta: e.meta ?? new Uint8Array(0),
          ...versionFields(vsnOfAlive(e)),
        },
      };
    case MemberState.LEFT:
      // from == node: the receiver records a graceful leave.
      return { kind: 'dead', dead: { incarnation, node: name, from: name } };
    default:
      // Dead or Suspect: remote death is only a suspicion here, accused by us; about us it forces a
      // refutation.
      return { kind: 'suspect', suspect: { incarnation, node: name, from: selfName } };
  }
}

function isEntryList(remote: RemoteEntries | readonly RemoteEntry[]): remote is readonly RemoteEntry[] {
  return Array.isArray(remote);
}

/** memberlist mergeRemoteState without the delegates: limit, verifyProtocol, then one claim per entry. */
export function mergeRemoteState(
  remote: wire.PushPull.$Properties,
  mirror: ReadonlyMap<string, MirrorEntry>,
  selfName: string,
  limits: MergeLimits,
): MergeDiff {
  return mergeEntries(entriesOf(remote.states ?? []), remote.header?.nodes ?? 0, mirror, selfName, limits);
}

/**
 * The merge itself, over entries read in passes (the worker's come from the frame's bytes):
 * mergeRemoteState is this on decoded entries, so both paths run the same code.
 */
export function mergeEntries(
  entries: RemoteEntries,
  claimedNodes: number,
  mirror: ReadonlyMap<string, MirrorEntry>,
  selfName: string,
  limits: MergeLimits,
): MergeDiff {
  const limitError = entryLimitError(entries.count, claimedNodes, limits);
  if (limitError !== undefined) return { refused: limitError, claims: [], skipped: 0, invalid: 0 };
  const versionError = verifyProtocol(entries, mirror);
  if (versionError !== undefined) return { refused: versionError, claims: [], skipped: 0, invalid: 0 };
  const claims: MergeClaim[] = [];
  let skipped = 0;
  let invalid = 0;
  entries.each((e) => {
    const name = e.name ?? '';
    if (name === '') {
      invalid++;
      return;
    }
    if (isStale(e, mirror.get(name), name === selfName)) {
      skipped++;
      return;
    }
    claims.push(claimOf(e, selfName));
  });
  return { claims, skipped, invalid };
}
