/**
 * The merge worker's side of its protobuf messages, written on proto-wire.ts instead of protobufjs so
 * that the worker thread never loads protobufjs or the generated module (3–4 MiB of RSS per thread,
 * `benchmarks/worker-footprint.ts --piscina`). It reads what the worker receives (a MergeMirrorUpdate,
 * a push-pull stream frame) and writes what it returns (a MergeDiff); the host keeps using the
 * generated code for the other direction (merge-codec.ts). A push-pull's entries are not decoded into
 * objects: the merge reads them from the frame's bytes pass by pass (FrameEntries), so the worker keeps
 * no 10,000 objects alive during a merge. test/unit/merge-worker-wire.test.ts checks every function
 * here against protobufjs on random messages.
 *
 * Field numbers are proto/wire.proto's and proto/worker.proto's; the test compares them with the
 * schemas, so a renumbered field fails there rather than on the wire.
 */
import type { wire } from '../../gen/index.js';
import { scanField } from '../../codec/field-scan.js';
import { isUtf8, ProtoReader, ProtoWriter, utf8Text, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from '../../codec/proto-wire.js';
import { FrameKind, MemberState } from '../../codec/wire-enums.js';
import type { DecodeResult } from '../../codec/wire-codec.js';
import type { MergeClaim, MergeDiff, MirrorEntry, RemoteEntries, RemoteEntry } from './merge.js';

const EMPTY = new Uint8Array(0);

/** One decoded MergeMirrorUpdate: the entry is undefined for a removed member. */
export interface MirrorUpdate {
  readonly seq: number;
  readonly baseSeq: number;
  readonly reset: boolean;
  readonly entries: ReadonlyArray<{ readonly name: string; readonly entry: MirrorEntry | undefined }>;
}

/**
 * A push-pull as the worker needs it: the entries, read from the frame on each of the merge's passes
 * (mergeEntries), the header's node count, and the header, user state and broadcasts as the bytes they
 * arrived in (returned to the host unchanged, when it asks for them, instead of being decoded here and
 * encoded again).
 */
export interface WorkerPushPull {
  readonly entries: RemoteEntries;
  readonly header: wire.PushPullHeader.$Properties | undefined;
  readonly raw: { readonly header: Uint8Array | undefined; readonly userState: Uint8Array; readonly broadcasts: Uint8Array[] };
}

/** What the worker returns besides the diff: why nothing was merged, or the extras the host asked for. */
export interface WorkerDiffExtras {
  readonly staleMirror?: boolean;
  readonly error?: string;
  readonly raw?: WorkerPushPull['raw'];
}

/**
 * The field numbers of the messages read and written here, from proto/worker.proto and proto/wire.proto
 * (test/unit/merge-worker-wire.test.ts compares every one with the schemas). The six version fields
 * follow each other in every message, so only the first is named.
 */
export const FIELD_NUMBERS = {
  MergeMirrorUpdate: { seq: 1, baseSeq: 2, reset: 3, entries: 4 },
  MergeMirrorEntry: { name: 1, incarnation: 2, state: 3, host: 4, port: 5, protocolMin: 6, removed: 12, hasHost: 13, hasPort: 14 },
  Compound: { parts: 1 },
  Message: { pushPull: 8 },
  PushPull: { header: 1, states: 2, userState: 3, broadcasts: 4 },
  PushPullHeader: { nodes: 1, userStateLen: 2, join: 3 },
  PushNodeState: { name: 1, ipv4: 2, ipv6: 3, port: 4, meta: 5, incarnation: 6, state: 7, protocolMin: 8 },
  UserMessage: { payload: 1, origin: 2, seq: 3, key: 4, from: 5 },
  MergeDiff: { claims: 1, skipped: 2, invalid: 3, refused: 4, staleMirror: 5, error: 6, header: 7, userState: 8, broadcasts: 9 },
  MergeClaim: { alive: 1, suspect: 2, dead: 3 },
  Alive: { incarnation: 1, node: 2, ipv4: 3, ipv6: 4, port: 5, meta: 6, protocolMin: 7 },
  Suspect: { incarnation: 1, node: 2, from: 3 },
  Dead: { incarnation: 1, node: 2, from: 3 },
} as const;

/** The version fields after the first: protocolMax, protocolCur, delegateMin, delegateMax, delegateCur. */
export const VERSION_FIELDS_AFTER_FIRST = ['protocolMax', 'protocolCur', 'delegateMin', 'delegateMax', 'delegateCur'] as const;

const F = FIELD_NUMBERS;
/** Fields per Vsn: protocol min/max/cur, delegate min/max/cur. */
const VSN_FIELDS = 6;

/** How checkFields reads a known field: a varint, bytes, or a string (which must be valid UTF-8). */
type FieldKind = 'varint' | 'bytes' | 'string';
/** UserMessage by field number: payload, origin, seq, key, from. */
const USER_MESSAGE_FIELDS: readonly (FieldKind | undefined)[] = [undefined, 'bytes', 'string', 'varint', 'string', 'string'];

/** Whether a field has its declared wire type; another one makes the message malformed. */
function wireTypeIs(r: ProtoReader, wireType: number, expected: number): boolean {
  if (wireType === expected) return true;
  r.failed = true;
  return false;
}

type Vsn = [number, number, number, number, number, number];

/**
 * The previous entry's versions, reused when equal: nearly every member runs the same versions, so the
 * mirror of 10,000 members holds one tuple instead of 10,000 (~1 MiB of the worker's heap).
 */
let lastVsn: Readonly<Vsn> = [0, 0, 0, 0, 0, 0];

function sharedVsn(v: Vsn): Readonly<Vsn> {
  const l = lastVsn;
  if (l[0] === v[0] && l[1] === v[1] && l[2] === v[2] && l[3] === v[3] && l[4] === v[4] && l[5] === v[5]) return l;
  lastVsn = Object.freeze(v);
  return lastVsn;
}

function decodeMirrorEntry(r: ProtoReader): { name: string; entry: MirrorEntry | undefined } {
  let name = '';
  let incarnation = 0;
  let state: wire.MemberState = MemberState.ALIVE;
  let host = '';
  let port = 0;
  const vsn: Vsn = [0, 0, 0, 0, 0, 0];
  let removed = false;
  let hasHost = false;
  let hasPort = false;
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    const E = F.MergeMirrorEntry;
    const v = field - E.protocolMin;
    if (field === E.name && wireTypeIs(r, wt, WIRE_LEN)) name = r.string();
    else if (field === E.incarnation && wireTypeIs(r, wt, WIRE_VARINT)) incarnation = r.uint32();
    else if (field === E.state && wireTypeIs(r, wt, WIRE_VARINT)) state = r.int32() as wire.MemberState;
    else if (field === E.host && wireTypeIs(r, wt, WIRE_LEN)) host = r.string();
    else if (field === E.port && wireTypeIs(r, wt, WIRE_VARINT)) port = r.uint32();
    else if (v >= 0 && v < VSN_FIELDS && wireTypeIs(r, wt, WIRE_VARINT)) vsn[v] = r.uint32();
    else if (field === E.removed && wireTypeIs(r, wt, WIRE_VARINT)) removed = r.bool();
    else if (field === E.hasHost && wireTypeIs(r, wt, WIRE_VARINT)) hasHost = r.bool();
    else if (field === E.hasPort && wireTypeIs(r, wt, WIRE_VARINT)) hasPort = r.bool();
    else r.skip(wt);
  }
  if (removed) return { name, entry: undefined };
  // As merge-codec.ts mirrorEntryToProto wrote it: an absent vsn and an all-zero one merge alike.
  const entry: MirrorEntry = {
    incarnation,
    state,
    ...(hasHost ? { host } : {}),
    ...(hasPort ? { port } : {}),
    vsn: sharedVsn(vsn),
  };
  return { name, entry };
}

/** Decodes a MergeMirrorUpdate (the host's encodeMirrorUpdate). Throws on bytes that are not one. */
export function decodeMirrorUpdate(bytes: Uint8Array): MirrorUpdate {
  const r = new ProtoReader(bytes);
  let seq = 0;
  let baseSeq = 0;
  let reset = false;
  const entries: Array<{ name: string; entry: MirrorEntry | undefined }> = [];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    const U = F.MergeMirrorUpdate;
    if (field === U.seq && wireTypeIs(r, wt, WIRE_VARINT)) seq = r.uint32();
    else if (field === U.baseSeq && wireTypeIs(r, wt, WIRE_VARINT)) baseSeq = r.uint32();
    else if (field === U.reset && wireTypeIs(r, wt, WIRE_VARINT)) reset = r.bool();
    else if (field === U.entries && wireTypeIs(r, wt, WIRE_LEN)) {
      const saved = r.enter();
      const e = decodeMirrorEntry(r);
      r.leave(saved);
      if (!r.failed) entries.push(e);
    } else r.skip(wt);
  }
  if (r.failed) throw new Error('malformed merge mirror update');
  return { seq, baseSeq, reset, entries };
}

// One push-pull entry in FrameEntries' columns: SLOTS numbers from `at`.
const NAME_START = 0;
const NAME_END = 1;
const IPV6_START = 2;
const IPV6_END = 3;
const META_START = 4;
const META_END = 5;
const IPV4 = 6;
const PORT = 7;
const INCARNATION = 8;
const STATE = 9;
const VSN = 10;
const SLOTS = VSN + VSN_FIELDS;

/**
 * Reads the PushNodeState the reader has entered into c[at, at + SLOTS): its scalars, and the bounds of
 * its name, ipv6 and meta in the frame (the last occurrence of a field wins, as in the generated
 * decoder). False when it is malformed: a known field of another wire type, or a name that is not
 * UTF-8 (the generated decoder refuses both).
 */
function readEntry(r: ProtoReader, c: Uint32Array, at: number): boolean {
  c.fill(0, at, at + SLOTS);
  const S = F.PushNodeState;
  while (!r.done) {
    const tag = r.tag();
    const wt = tag & 7;
    const field = tag >>> 3;
    const v = field - S.protocolMin;
    if ((field === S.name || field === S.ipv6 || field === S.meta) && wireTypeIs(r, wt, WIRE_LEN)) {
      if (!r.span()) break;
      const slot = field === S.name ? NAME_START : field === S.ipv6 ? IPV6_START : META_START;
      c[at + slot] = r.spanStart;
      c[at + slot + 1] = r.spanEnd;
    } else if (field === S.ipv4 && wireTypeIs(r, wt, WIRE_FIXED32)) c[at + IPV4] = r.fixed32();
    else if (field === S.port && wireTypeIs(r, wt, WIRE_VARINT)) c[at + PORT] = r.uint32();
    else if (field === S.incarnation && wireTypeIs(r, wt, WIRE_VARINT)) c[at + INCARNATION] = r.uint32();
    // An int32 on the wire, kept as its 32 bits (EntryView.state reads it back signed).
    else if (field === S.state && wireTypeIs(r, wt, WIRE_VARINT)) c[at + STATE] = r.int32();
    else if (v >= 0 && v < VSN_FIELDS && wireTypeIs(r, wt, WIRE_VARINT)) c[at + VSN + v] = r.uint32();
    else r.skip(wt);
  }
  return !r.failed && isUtf8(r.buf, c[at + NAME_START] as number, c[at + NAME_END] as number);
}

/**
 * One entry of FrameEntries as the merge reads it: each property reads its slot, the name and the
 * bytes fields are made only when read (the merge reads a name once per entry, a meta only for the
 * claims it makes). FrameEntries moves the same view from entry to entry.
 */
class EntryView implements RemoteEntry {
  at = 0;
  #name: string | undefined;

  constructor(
    readonly frame: Uint8Array,
    readonly c: Uint32Array,
  ) {}

  /** Becomes the entry at slot `at`. */
  moveTo(at: number): void {
    this.at = at;
    this.#name = undefined;
  }

  get name(): string {
    this.#name ??= utf8Text(this.frame, this.c[this.at + NAME_START] as number, this.c[this.at + NAME_END] as number) ?? '';
    return this.#name;
  }

  get ipv6(): Uint8Array {
    return this.#bytes(IPV6_START);
  }

  get meta(): Uint8Array {
    return this.#bytes(META_START);
  }

  #bytes(slot: number): Uint8Array {
    const start = this.c[this.at + slot] as number;
    const end = this.c[this.at + slot + 1] as number;
    return end > start ? this.frame.subarray(start, end) : EMPTY;
  }

  get ipv4(): number {
    return this.c[this.at + IPV4] as number;
  }

  get port(): number {
    return this.c[this.at + PORT] as number;
  }

  get incarnation(): number {
    return this.c[this.at + INCARNATION] as number;
  }

  get state(): wire.MemberState {
    return ((this.c[this.at + STATE] as number) | 0) as wire.MemberState;
  }

  get protocolMin(): number {
    return this.c[this.at + VSN] as number;
  }

  get protocolMax(): number {
    return this.c[this.at + VSN + 1] as number;
  }

  get protocolCur(): number {
    return this.c[this.at + VSN + 2] as number;
  }

  get delegateMin(): number {
    return this.c[this.at + VSN + 3] as number;
  }

  get delegateMax(): number {
    return this.c[this.at + VSN + 4] as number;
  }

  get delegateCur(): number {
    return this.c[this.at + VSN + 5] as number;
  }
}

/**
 * The entries of a push-pull frame as numbers, SLOTS per entry in one typed array (off the V8 heap),
 * filled while the frame is read. A pass moves one EntryView over them, so the merge's passes cost no
 * parsing and no objects per entry.
 */
class FrameEntries implements RemoteEntries {
  readonly #columns: Uint32Array;
  #count = 0;

  /** `capacity`: the entries counted on the bytes beforehand, so the columns are allocated once. */
  constructor(
    readonly frame: Uint8Array,
    readonly capacity: number,
  ) {
    this.#columns = new Uint32Array(SLOTS * capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** Reads the entry the reader has entered; false when it is malformed or beyond the capacity. */
  read(r: ProtoReader): boolean {
    if (this.#count === this.capacity) return false;
    if (!readEntry(r, this.#columns, this.#count * SLOTS)) return false;
    this.#count++;
    return true;
  }

  each(visit: (e: RemoteEntry) => boolean | void): void {
    const e = new EntryView(this.frame, this.#columns);
    for (let at = 0; at < this.#count * SLOTS; at += SLOTS) {
      e.moveTo(at);
      if (visit(e) === true) return;
    }
  }
}

/**
 * Whether the message the reader has entered is well formed and its known fields (`kinds` by field
 * number) have their declared wire types and valid UTF-8 strings, so that the host's generated decoder
 * reads it back without error.
 */
function checkFields(r: ProtoReader, kinds: readonly (FieldKind | undefined)[]): boolean {
  while (!r.done) {
    const tag = r.tag();
    const wt = tag & 7;
    const kind = kinds[tag >>> 3];
    if (kind === undefined) r.skip(wt);
    else if (!wireTypeIs(r, wt, kind === 'varint' ? WIRE_VARINT : WIRE_LEN)) break;
    else if (kind === 'varint') r.uint32();
    else if (!r.span()) break;
    else if (kind === 'string' && !isUtf8(r.buf, r.spanStart, r.spanEnd)) return false;
  }
  return !r.failed;
}

/** Reads a PushPullHeader: the reader has entered it. */
function decodeHeader(r: ProtoReader): wire.PushPullHeader.$Properties | undefined {
  let nodes = 0;
  let userStateLen = 0;
  let join = false;
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    const H = F.PushPullHeader;
    if (field !== H.nodes && field !== H.userStateLen && field !== H.join) r.skip(wt);
    else if (!wireTypeIs(r, wt, WIRE_VARINT)) break;
    else if (field === H.nodes) nodes = r.uint32();
    else if (field === H.userStateLen) userStateLen = r.uint32();
    else join = r.bool();
  }
  return r.failed ? undefined : { nodes, userStateLen, join };
}

function malformed(detail: string): DecodeResult<never> {
  return { ok: false, reason: 'malformed', detail };
}

/**
 * Decodes a push-pull stream frame ([FRAME_COMPOUND_V1][Compound of one Message with push_pull]).
 * Stricter than the generated decoder: a known field with another wire type makes the frame
 * malformed (protobufjs would read it as its declared type). `notPushPull` is set when the frame is
 * well formed but its message is something else.
 */
export function decodePushPullFrame(frame: Uint8Array): DecodeResult<WorkerPushPull> | { ok: false; notPushPull: true } {
  if (frame.length === 0) return { ok: false, reason: 'empty' };
  if (frame[0] !== FrameKind.FRAME_COMPOUND_V1) return { ok: false, reason: 'unknown-frame', detail: `frame kind ${String(frame[0])}` };
  const r = new ProtoReader(frame, 1);
  // Compound: exactly one part.
  let parts = 0;
  let partStart = 0;
  let partEnd = 0;
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === F.Compound.parts && wireTypeIs(r, tag & 7, WIRE_LEN)) {
      if (r.span()) parts++;
      partStart = r.spanStart;
      partEnd = r.spanEnd;
    } else r.skip(tag & 7);
  }
  if (r.failed) return malformed('invalid compound encoding');
  if (parts !== 1) return malformed(`stream frame with ${parts} messages`);

  // Message: its push_pull body. The last occurrence wins, as in the generated decoder; other bodies
  // are skipped unread.
  r.pos = partStart;
  r.end = partEnd;
  let pushPullStart = -1;
  let pushPullEnd = -1;
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === F.Message.pushPull && wireTypeIs(r, tag & 7, WIRE_LEN) && r.span()) {
      pushPullStart = r.spanStart;
      pushPullEnd = r.spanEnd;
    } else r.skip(tag & 7);
  }
  if (r.failed) return malformed('invalid message encoding');
  if (pushPullStart < 0) return { ok: false, notPushPull: true };

  r.pos = pushPullStart;
  r.end = pushPullEnd;
  let header: wire.PushPullHeader.$Properties | undefined;
  let headerBytes: Uint8Array | undefined;
  // Every entry is read once, here: a malformed frame is refused before any of it is merged.
  const entries = new FrameEntries(frame, Math.max(0, scanField(frame, pushPullStart, pushPullEnd, F.PushPull.states)));
  let userState: Uint8Array = EMPTY;
  const broadcasts: Uint8Array[] = [];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field > F.PushPull.broadcasts) {
      r.skip(wt);
      continue;
    }
    if (!wireTypeIs(r, wt, WIRE_LEN)) break;
    if (field === F.PushPull.userState) {
      userState = r.bytes();
      continue;
    }
    const saved = r.enter();
    const start = r.pos;
    const end = r.end;
    if (field === F.PushPull.states) {
      if (!entries.read(r)) return malformed(`invalid member entry ${entries.count}`);
    } else if (field === F.PushPull.header) {
      header = decodeHeader(r);
      if (header === undefined) return malformed('invalid push-pull header');
      headerBytes = frame.subarray(start, end);
    } else if (field === F.PushPull.broadcasts) {
      if (!checkFields(r, USER_MESSAGE_FIELDS)) return malformed(`invalid broadcast ${broadcasts.length}`);
      broadcasts.push(frame.subarray(start, end));
    }
    r.leave(saved);
  }
  if (r.failed) return malformed('invalid push-pull encoding');
  return {
    ok: true,
    value: {
      entries,
      header,
      raw: { header: headerBytes, userState, broadcasts },
    },
  };
}

function writeClaim(w: ProtoWriter, c: MergeClaim): void {
  const claim = w.fork(F.MergeDiff.claims);
  switch (c.kind) {
    case 'alive': {
      const a = c.alive;
      const A = F.Alive;
      const m = w.fork(F.MergeClaim.alive);
      w.uint32(A.incarnation, a.incarnation ?? 0)
        .string(A.node, a.node ?? '')
        .fixed32(A.ipv4, a.ipv4 ?? 0)
        .bytes(A.ipv6, a.ipv6 ?? EMPTY)
        .uint32(A.port, a.port ?? 0)
        .bytes(A.meta, a.meta ?? EMPTY)
        .uint32(A.protocolMin, a.protocolMin ?? 0)
        .uint32(A.protocolMin + 1, a.protocolMax ?? 0)
        .uint32(A.protocolMin + 2, a.protocolCur ?? 0)
        .uint32(A.protocolMin + 3, a.delegateMin ?? 0)
        .uint32(A.protocolMin + 4, a.delegateMax ?? 0)
        .uint32(A.protocolMin + 5, a.delegateCur ?? 0)
        .join(m);
      break;
    }
    case 'suspect':
    case 'dead': {
      // Suspect and Dead have the same fields (the test checks both against the schema).
      const n = c.kind === 'suspect' ? c.suspect : c.dead;
      const m = w.fork(c.kind === 'suspect' ? F.MergeClaim.suspect : F.MergeClaim.dead);
      w.uint32(F.Suspect.incarnation, n.incarnation ?? 0)
        .string(F.Suspect.node, n.node ?? '')
        .string(F.Suspect.from, n.from ?? '')
        .join(m);
      break;
    }
    default: {
      const never: never = c;
      throw new TypeError(`unknown claim ${String(never)}`);
    }
  }
  w.join(claim);
}

/**
 * Encodes a MergeDiff (decoded on the host by merge-codec.ts decodeMergeDiff) into a buffer of its
 * own. With `raw`, the push-pull's header, user state and broadcasts go back as they arrived (a header
 * is always written then, empty when the frame had none, so the host sees that extras are present).
 */
export function encodeMergeDiff(diff: MergeDiff | undefined, extras: WorkerDiffExtras = {}): ArrayBuffer {
  const D = F.MergeDiff;
  const w = new ProtoWriter(diff === undefined ? 64 : 64 + diff.claims.length * 96);
  if (diff !== undefined) {
    for (const c of diff.claims) writeClaim(w, c);
    w.uint32(D.skipped, diff.skipped).uint32(D.invalid, diff.invalid).string(D.refused, diff.refused ?? '');
  }
  w.bool(D.staleMirror, extras.staleMirror ?? false).string(D.error, extras.error ?? '');
  const raw = extras.raw;
  if (raw !== undefined) {
    w.bytes(D.header, raw.header ?? EMPTY, true).bytes(D.userState, raw.userState);
    for (const b of raw.broadcasts) w.bytes(D.broadcasts, b, true);
  }
  return w.finish().buffer as ArrayBuffer;
}
