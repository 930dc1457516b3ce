/**
 * The host's side of the protobuf forms that cross the merge worker's boundary (proto/worker.proto,
 * "push-pull merge worker"): it encodes mirror updates and decodes the worker's diff with the
 * generated code. The worker's side (merge-worker-wire.ts) reads and writes the same messages
 * without protobufjs; test/unit/merge-worker-wire.test.ts checks the two against each other, and
 * merge-equivalence.test.ts that the worker's diff decodes into exactly the MergeDiff that
 * mergeRemoteState returns inline.
 */
import protobuf from 'protobufjs/minimal.js';
import { wire, worker } from '../../gen/index.js';
import { ownedArrayBuffer } from '../../runtime/envelope.js';
import { inflateFrameHead, isCompressedFrame } from '../../codec/compressed-frame.js';
import type { MergeClaim, MergeDiff, MirrorEntry } from './merge.js';
import { versionFields, vsnOfAlive } from '../membership/member-record.js';

/** A MergeDiff as the worker returns it: the diff, or why nothing was merged, and the extras. */
export interface DecodedMergeDiff extends MergeDiff {
  /** The worker's mirror was out of date: nothing merged (the executor resends the mirror). */
  readonly staleMirror: boolean;
  /** The frame could not be merged (not a push-pull, undecodable): nothing merged. */
  readonly error?: string;
  /** Present when the merge was asked for extras (the caller did not decode the frame). */
  readonly extras?: {
    readonly header: wire.PushPullHeader.$Properties;
    readonly userState: Uint8Array;
    readonly broadcasts: wire.UserMessage.$Properties[];
  };
}

const { Reader } = protobuf;

export function mirrorEntryToProto(name: string, e: MirrorEntry | undefined): worker.MergeMirrorEntry.$Properties {
  if (e === undefined) return { name, removed: true };
  const v = e.vsn;
  return {
    name,
    incarnation: e.incarnation,
    state: e.state,
    host: e.host ?? '',
    port: e.port ?? 0,
    hasHost: e.host !== undefined,
    hasPort: e.port !== undefined,
    protocolMin: v?.[0] ?? 0,
    protocolMax: v?.[1] ?? 0,
    protocolCur: v?.[2] ?? 0,
    delegateMin: v?.[3] ?? 0,
    delegateMax: v?.[4] ?? 0,
    delegateCur: v?.[5] ?? 0,
  };
}

/** An update of the worker's mirror as a transferable buffer. */
export function encodeMirrorUpdate(update: worker.MergeMirrorUpdate.$Properties): ArrayBuffer {
  return ownedArrayBuffer(worker.MergeMirrorUpdate.encode(update).finish());
}

/** A plain Uint8Array over the same bytes (decoded bytes are Node Buffers). */
function view(b: Uint8Array | null | undefined): Uint8Array {
  if (b === null || b === undefined || b.byteLength === 0) return new Uint8Array(0);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The claim shape claimOf builds, from its decoded protobuf form. */
function claimFromProto(p: worker.MergeClaim.$Properties): MergeClaim | undefined {
  if (p.alive !== null && p.alive !== undefined) {
    const a = p.alive;
    return {
      kind: 'alive',
      alive: {
        incarnation: a.incarnation ?? 0,
        node: a.node ?? '',
        ipv4: a.ipv4 ?? 0,
        ipv6: view(a.ipv6),
        port: a.port ?? 0,
        meta: view(a.meta),
        ...versionFields(vsnOfAlive(a)),
      },
    };
  }
  if (p.suspect !== null && p.suspect !== undefined) {
    const s = p.suspect;
    return { kind: 'suspect', suspect: { incarnation: s.incarnation ?? 0, node: s.node ?? '', from: s.from ?? '' } };
  }
  if (p.dead !== null && p.dead !== undefined) {
    const d = p.dead;
    return { kind: 'dead', dead: { incarnation: d.incarnation ?? 0, node: d.node ?? '', from: d.from ?? '' } };
  }
  return undefined;
}

/** Decodes the worker's diff bytes. Throws on bytes that are not a MergeDiff. */
export function decodeMergeDiff(bytes: Uint8Array): DecodedMergeDiff {
  const m = worker.MergeDiff.decode(bytes);
  const claims: MergeClaim[] = [];
  for (const p of m.claims) {
    const c = claimFromProto(p);
    if (c !== undefined) claims.push(c);
  }
  const header = m.header;
  return {
    claims,
    skipped: m.skipped,
    invalid: m.invalid,
    ...(m.refused !== '' ? { refused: m.refused } : {}),
    staleMirror: m.staleMirror,
    ...(m.error !== '' ? { error: m.error } : {}),
    ...(header !== null && header !== undefined
      ? { extras: { header, userState: view(m.userState), broadcasts: m.broadcasts } }
      : {}),
  };
}

/** The length-delimited field `field` at the top level of `buf` (its first occurrence), or undefined. */
function lengthDelimited(buf: Uint8Array, field: number, truncated = false): Uint8Array | undefined {
  const r = Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) {
      const len = r.uint32();
      // `truncated`: buf is only the first bytes of a frame, so the field may run past its end.
      if (r.pos + len > r.len) return truncated ? buf.subarray(r.pos) : undefined;
      return buf.subarray(r.pos, r.pos + len);
    }
    r.skipType(tag & 7);
  }
  return undefined;
}

/** Field numbers on the path frame -> Compound.parts -> Message.push_pull -> PushPull.header. */
const COMPOUND_PARTS = 1;
const MESSAGE_PUSH_PULL = 8;
const PUSH_PULL_HEADER = 1;

/**
 * Reads the header of a push-pull stream frame ([FRAME_COMPOUND_V1][Compound of one Message]) without
 * decoding its states, so the push-pull actor can choose inline or worker on bytes alone. The header
 * is field 1 and encoders write it first, so this reads a few bytes. Returns undefined when the frame
 * is not a push-pull; an empty header when it has none. Never throws.
 */
export function peekPushPullHeader(frame: Uint8Array): wire.PushPullHeader | undefined {
  // A frame left compressed (a large push-pull): its header is in the first inflated bytes.
  if (isCompressedFrame(frame)) {
    const head = inflateFrameHead(frame);
    return head === undefined ? undefined : peekHeader(head, true);
  }
  return peekHeader(frame, false);
}

function peekHeader(frame: Uint8Array, truncated: boolean): wire.PushPullHeader | undefined {
  if (frame.length < 2 || frame[0] !== wire.FrameKind.FRAME_COMPOUND_V1) return undefined;
  try {
    const part = lengthDelimited(frame.subarray(1), COMPOUND_PARTS, truncated);
    if (part === undefined) return undefined;
    const pushPull = lengthDelimited(part, MESSAGE_PUSH_PULL, truncated);
    if (pushPull === undefined) return undefined;
    const header = lengthDelimited(pushPull, PUSH_PULL_HEADER);
    return header === undefined ? wire.PushPullHeader.create() : wire.PushPullHeader.decode(header);
  } catch {
    return undefined;
  }
}
