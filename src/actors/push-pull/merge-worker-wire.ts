/**
 * The merge worker's side of its protobuf messages, written on proto-wire.ts instead of protobufjs so
 * that the worker thread never loads protobufjs or the generated module (4.3 MiB of RSS per thread,
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

// worker.proto MergeMirrorUpdate / MergeMirrorEntry
const UPDATE_SEQ = 1;
const UPDATE_BASE_SEQ = 2;
const UPDATE_RESET = 3;
const UPDATE_ENTRIES = 4;
const ENTRY_NAME = 1;
const ENTRY_INCARNATION = 2;
const ENTRY_STATE = 3;
const ENTRY_HOST = 4;
const ENTRY_PORT = 5;
const ENTRY_PROTOCOL_MIN = 6;
const ENTRY_DELEGATE_CUR = 11;
const ENTRY_REMOVED = 12;
const ENTRY_HAS_HOST = 13;
const ENTRY_HAS_PORT = 14;

// wire.proto Compound / Message / PushPull / PushPullHeader / PushNodeState / UserMessage
const COMPOUND_PARTS = 1;
const MESSAGE_PUSH_PULL = 8;
const PUSH_PULL_HEADER = 1;
const PUSH_PULL_STATES = 2;
const PUSH_PULL_USER_STATE = 3;
const PUSH_PULL_BROADCASTS = 4;
const HEADER_NODES = 1;
const HEADER_USER_STATE_LEN = 2;
const HEADER_JOIN = 3;
const STATE_NAME = 1;
const STATE_IPV4 = 2;
const STATE_IPV6 = 3;
const STATE_PORT = 4;
const STATE_META = 5;
const STATE_INCARNATION = 6;
const STATE_STATE = 7;
const STATE_PROTOCOL_MIN = 8;
const STATE_DELEGATE_CUR = 13;
/** How checkFields reads a known field: a varint, bytes, or a string (which must be valid UTF-8). */
type FieldKind = 'varint' | 'bytes' | 'string';
/** UserMessage by field number: payload, origin, seq, key, from. */
const USER_MESSAGE_FIELDS: readonly (FieldKind | undefined)[] = [undefined, 'bytes', 'string', 'varint', 'string', 'string'];
const HEADER_WIRE_TYPES: readonly number[] = [-1, WIRE_VARINT, WIRE_VARINT, WIRE_VARINT];

// worker.proto MergeDiff / MergeClaim; wire.proto Alive / Suspect / Dead
const DIFF_CLAIMS = 1;
const DIFF_SKIPPED = 2;
const DIFF_INVALID = 3;
const DIFF_REFUSED = 4;
const DIFF_STALE_MIRROR = 5;
const DIFF_ERROR = 6;
const DIFF_HEADER = 7;
const DIFF_USER_STATE = 8;
const DIFF_BROADCASTS = 9;
const CLAIM_ALIVE = 1;
const CLAIM_SUSPECT = 2;
const CLAIM_DEAD = 3;
const ALIVE_INCARNATION = 1;
const ALIVE_NODE = 2;
const ALIVE_IPV4 = 3;
const ALIVE_IPV6 = 4;
const ALIVE_PORT = 5;
const ALIVE_META = 6;
const ALIVE_PROTOCOL_MIN = 7;
const NOTICE_INCARNATION = 1;
const NOTICE_NODE = 2;
const NOTICE_FROM = 3;

/** Field numbers, for the schema check in the tests. */
export const FIELD_NUMBERS = {
  MergeMirrorUpdate: { seq: UPDATE_SEQ, baseSeq: UPDATE_BASE_SEQ, reset: UPDATE_RESET, entries: UPDATE_ENTRIES },
  MergeMirrorEntry: {
    name: ENTRY_NAME,
    incarnation: ENTRY_INCARNATION,
    state: ENTRY_STATE,
    host: ENTRY_HOST,
    port: ENTRY_PORT,
    protocolMin: ENTRY_PROTOCOL_MIN,
    protocolMax: ENTRY_PROTOCOL_MIN + 1,
    protocolCur: ENTRY_PROTOCOL_MIN + 2,
    delegateMin: ENTRY_PROTOCOL_MIN + 3,
    delegateMax: ENTRY_PROTOCOL_MIN + 4,
    delegateCur: ENTRY_DELEGATE_CUR,
    removed: ENTRY_REMOVED,
    hasHost: ENTRY_HAS_HOST,
    hasPort: ENTRY_HAS_PORT,
  },
  Compound: { parts: COMPOUND_PARTS },
  Message: { pushPull: MESSAGE_PUSH_PULL },
  PushPull: { header: PUSH_PULL_HEADER, states: PUSH_PULL_STATES, userState: PUSH_PULL_USER_STATE, broadcasts: PUSH_PULL_BROADCASTS },
  PushPullHeader: { nodes: HEADER_NODES, userStateLen: HEADER_USER_STATE_LEN, join: HEADER_JOIN },
  PushNodeState: {
    name: STATE_NAME,
    ipv4: STATE_IPV4,
    ipv6: STATE_IPV6,
    port: STATE_PORT,
    meta: STATE_META,
    incarnation: STATE_INCARNATION,
    state: STATE_STATE,
    protocolMin: STATE_PROTOCOL_MIN,
    protocolMax: STATE_PROTOCOL_MIN + 1,
    protocolCur: STATE_PROTOCOL_MIN + 2,
    delegateMin: STATE_PROTOCOL_MIN + 3,
    delegateMax: STATE_PROTOCOL_MIN + 4,
    delegateCur: STATE_DELEGATE_CUR,
  },
  UserMessage: { payload: 1, origin: 2, seq: 3, key: 4, from: 5 },
  MergeDiff: {
    claims: DIFF_CLAIMS,
    skipped: DIFF_SKIPPED,
    invalid: DIFF_INVALID,
    refused: DIFF_REFUSED,
    staleMirror: DIFF_STALE_MIRROR,
    error: DIFF_ERROR,
    header: DIFF_HEADER,
    userState: DIFF_USER_STATE,
    broadcasts: DIFF_BROADCASTS,
  },
  MergeClaim: { alive: CLAIM_ALIVE, suspect: CLAIM_SUSPECT, dead: CLAIM_DEAD },
  Alive: {
    incarnation: ALIVE_INCARNATION,
    node: ALIVE_NODE,
    ipv4: ALIVE_IPV4,
    ipv6: ALIVE_IPV6,
    port: ALIVE_PORT,
    meta: ALIVE_META,
    protocolMin: ALIVE_PROTOCOL_MIN,
    protocolMax: ALIVE_PROTOCOL_MIN + 1,
    protocolCur: ALIVE_PROTOCOL_MIN + 2,
    delegateMin: ALIVE_PROTOCOL_MIN + 3,
    delegateMax: ALIVE_PROTOCOL_MIN + 4,
    delegateCur: ALIVE_PROTOCOL_MIN + 5,
  },
  Suspect: { incarnation: NOTICE_INCARNATION, node: NOTICE_NODE, from: NOTICE_FROM },
  Dead: { incarnation: NOTICE_INCARNATION, node: NOTICE_NODE, from: NOTICE_FROM },
} as const;

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
    if (field === ENTRY_NAME && wireTypeIs(r, wt, WIRE_LEN)) name = r.string();
    else if (field === ENTRY_INCARNATION && wireTypeIs(r, wt, WIRE_VARINT)) incarnation = r.uint32();
    else if (field === ENTRY_STATE && wireTypeIs(r, wt, WIRE_VARINT)) state = r.int32() as wire.MemberState;
    else if (field === ENTRY_HOST && wireTypeIs(r, wt, WIRE_LEN)) host = r.string();
    else if (field === ENTRY_PORT && wireTypeIs(r, wt, WIRE_VARINT)) port = r.uint32();
    else if (field >= ENTRY_PROTOCOL_MIN && field <= ENTRY_DELEGATE_CUR && wireTypeIs(r, wt, WIRE_VARINT)) vsn[field - ENTRY_PROTOCOL_MIN] = r.uint32();
    else if (field === ENTRY_REMOVED && wireTypeIs(r, wt, WIRE_VARINT)) removed = r.bool();
    else if (field === ENTRY_HAS_HOST && wireTypeIs(r, wt, WIRE_VARINT)) hasHost = r.bool();
    else if (field === ENTRY_HAS_PORT && wireTypeIs(r, wt, WIRE_VARINT)) hasPort = r.bool();
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
    if (field === UPDATE_SEQ && wireTypeIs(r, wt, WIRE_VARINT)) seq = r.uint32();
    else if (field === UPDATE_BASE_SEQ && wireTypeIs(r, wt, WIRE_VARINT)) baseSeq = r.uint32();
    else if (field === UPDATE_RESET && wireTypeIs(r, wt, WIRE_VARINT)) reset = r.bool();
    else if (field === UPDATE_ENTRIES && wireTypeIs(r, wt, WIRE_LEN)) {
      const saved = r.enter();
      const e = decodeMirrorEntry(r);
      r.leave(saved);
      if (!r.failed) entries.push(e);
    } else r.skip(wt);
  }
  if (r.failed) throw new Error('malformed merge mirror update');
  return { seq, baseSeq, reset, entries };
}

/** Slots per entry in FrameEntries' columns (EntryView.store / fill). */
const SLOTS = 16;

/**
 * One PushNodeState read in place from the frame: the scalars are fields, the name and the bytes fields
 * are made only when read (the merge reads a name once per entry, a meta only for the claims it makes).
 * FrameEntries refills the same object for every entry, from numbers it stored when the frame was read.
 */
class EntryView implements RemoteEntry {
  ipv4 = 0;
  port = 0;
  incarnation = 0;
  state: wire.MemberState = MemberState.ALIVE;
  protocolMin = 0;
  protocolMax = 0;
  protocolCur = 0;
  delegateMin = 0;
  delegateMax = 0;
  delegateCur = 0;
  #name: string | undefined;
  #nameStart = 0;
  #nameEnd = 0;
  #ipv6Start = 0;
  #ipv6End = 0;
  #metaStart = 0;
  #metaEnd = 0;

  constructor(readonly frame: Uint8Array) {}

  get name(): string {
    this.#name ??= utf8Text(this.frame, this.#nameStart, this.#nameEnd) ?? '';
    return this.#name;
  }

  get ipv6(): Uint8Array {
    return this.#ipv6End > this.#ipv6Start ? this.frame.subarray(this.#ipv6Start, this.#ipv6End) : EMPTY;
  }

  get meta(): Uint8Array {
    return this.#metaEnd > this.#metaStart ? this.frame.subarray(this.#metaStart, this.#metaEnd) : EMPTY;
  }

  /**
   * Reads the entry the reader has entered (the last occurrence of a field wins, as in the generated
   * decoder). False when it is malformed: a known field of another wire type, or a name that is not
   * UTF-8 (the generated decoder refuses both).
   */
  load(r: ProtoReader): boolean {
    this.#name = undefined;
    this.#nameStart = this.#nameEnd = this.#ipv6Start = this.#ipv6End = this.#metaStart = this.#metaEnd = 0;
    this.ipv4 = this.port = this.incarnation = 0;
    this.state = MemberState.ALIVE;
    this.protocolMin = this.protocolMax = this.protocolCur = this.delegateMin = this.delegateMax = this.delegateCur = 0;
    while (!r.done) {
      const tag = r.tag();
      const wt = tag & 7;
      const field = tag >>> 3;
      switch (field) {
        case STATE_NAME:
          if (wireTypeIs(r, wt, WIRE_LEN) && r.span()) {
            this.#nameStart = r.spanStart;
            this.#nameEnd = r.spanEnd;
          }
          break;
        case STATE_IPV4:
          if (wireTypeIs(r, wt, WIRE_FIXED32)) this.ipv4 = r.fixed32();
          break;
        case STATE_IPV6:
          if (wireTypeIs(r, wt, WIRE_LEN) && r.span()) {
            this.#ipv6Start = r.spanStart;
            this.#ipv6End = r.spanEnd;
          }
          break;
        case STATE_PORT:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.port = r.uint32();
          break;
        case STATE_META:
          if (wireTypeIs(r, wt, WIRE_LEN) && r.span()) {
            this.#metaStart = r.spanStart;
            this.#metaEnd = r.spanEnd;
          }
          break;
        case STATE_INCARNATION:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.incarnation = r.uint32();
          break;
        case STATE_STATE:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.state = r.int32() as wire.MemberState;
          break;
        case STATE_PROTOCOL_MIN:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.protocolMin = r.uint32();
          break;
        case STATE_PROTOCOL_MIN + 1:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.protocolMax = r.uint32();
          break;
        case STATE_PROTOCOL_MIN + 2:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.protocolCur = r.uint32();
          break;
        case STATE_PROTOCOL_MIN + 3:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.delegateMin = r.uint32();
          break;
        case STATE_PROTOCOL_MIN + 4:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.delegateMax = r.uint32();
          break;
        case STATE_DELEGATE_CUR:
          if (wireTypeIs(r, wt, WIRE_VARINT)) this.delegateCur = r.uint32();
          break;
        default:
          r.skip(wt);
      }
    }
    return !r.failed && isUtf8(this.frame, this.#nameStart, this.#nameEnd);
  }

  /** Writes what load() read into `c` from `at` (SLOTS numbers). */
  store(c: Uint32Array, at: number): void {
    c[at] = this.#nameStart;
    c[at + 1] = this.#nameEnd;
    c[at + 2] = this.#ipv6Start;
    c[at + 3] = this.#ipv6End;
    c[at + 4] = this.#metaStart;
    c[at + 5] = this.#metaEnd;
    c[at + 6] = this.ipv4;
    c[at + 7] = this.port;
    c[at + 8] = this.incarnation;
    c[at + 9] = this.state;
    c[at + 10] = this.protocolMin;
    c[at + 11] = this.protocolMax;
    c[at + 12] = this.protocolCur;
    c[at + 13] = this.delegateMin;
    c[at + 14] = this.delegateMax;
    c[at + 15] = this.delegateCur;
  }

  /** Becomes the entry stored at `at`. */
  fill(c: Uint32Array, at: number): void {
    this.#name = undefined;
    this.#nameStart = c[at] as number;
    this.#nameEnd = c[at + 1] as number;
    this.#ipv6Start = c[at + 2] as number;
    this.#ipv6End = c[at + 3] as number;
    this.#metaStart = c[at + 4] as number;
    this.#metaEnd = c[at + 5] as number;
    this.ipv4 = c[at + 6] as number;
    this.port = c[at + 7] as number;
    this.incarnation = c[at + 8] as number;
    // Stored as uint32; the enum is an int32 on the wire.
    this.state = ((c[at + 9] as number) | 0) as wire.MemberState;
    this.protocolMin = c[at + 10] as number;
    this.protocolMax = c[at + 11] as number;
    this.protocolCur = c[at + 12] as number;
    this.delegateMin = c[at + 13] as number;
    this.delegateMax = c[at + 14] as number;
    this.delegateCur = c[at + 15] as number;
  }
}

/**
 * The entries of a push-pull frame as numbers: each entry's scalars and the bounds of its name and bytes
 * fields, SLOTS per entry in one typed array (off the V8 heap), filled while the frame is read. A pass
 * refills one EntryView from them, so the merge's passes cost no parsing and no objects per entry.
 */
class FrameEntries implements RemoteEntries {
  #columns: Uint32Array;
  #count = 0;

  /** `expected`: the entries counted on the bytes beforehand, so the columns are allocated once. */
  constructor(
    readonly frame: Uint8Array,
    expected: number,
  ) {
    this.#columns = new Uint32Array(SLOTS * Math.max(1, expected));
  }

  get count(): number {
    return this.#count;
  }

  add(e: EntryView): void {
    const at = this.#count * SLOTS;
    if (at + SLOTS > this.#columns.length) {
      const grown = new Uint32Array(this.#columns.length * 2);
      grown.set(this.#columns);
      this.#columns = grown;
    }
    e.store(this.#columns, at);
    this.#count++;
  }

  each(visit: (e: RemoteEntry) => boolean | void): void {
    const e = new EntryView(this.frame);
    const c = this.#columns;
    for (let i = 0; i < this.#count; i++) {
      e.fill(c, i * SLOTS);
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
    if (field < HEADER_WIRE_TYPES.length && !wireTypeIs(r, wt, HEADER_WIRE_TYPES[field] as number)) break;
    if (field === HEADER_NODES) nodes = r.uint32();
    else if (field === HEADER_USER_STATE_LEN) userStateLen = r.uint32();
    else if (field === HEADER_JOIN) join = r.bool();
    else r.skip(wt);
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
    if (tag >>> 3 === COMPOUND_PARTS && wireTypeIs(r, tag & 7, WIRE_LEN)) {
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
    if (tag >>> 3 === MESSAGE_PUSH_PULL && wireTypeIs(r, tag & 7, WIRE_LEN) && r.span()) {
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
  const entries = new FrameEntries(frame, Math.max(0, scanField(frame, pushPullStart, pushPullEnd, PUSH_PULL_STATES)));
  const view = new EntryView(frame);
  let userState: Uint8Array = EMPTY;
  const broadcasts: Uint8Array[] = [];
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field > PUSH_PULL_BROADCASTS) {
      r.skip(wt);
      continue;
    }
    if (!wireTypeIs(r, wt, WIRE_LEN)) break;
    if (field === PUSH_PULL_USER_STATE) {
      userState = r.bytes();
      continue;
    }
    const saved = r.enter();
    const start = r.pos;
    const end = r.end;
    if (field === PUSH_PULL_STATES) {
      if (!view.load(r)) return malformed(`invalid member entry ${entries.count}`);
      entries.add(view);
    } else if (field === PUSH_PULL_HEADER) {
      header = decodeHeader(r);
      if (header === undefined) return malformed('invalid push-pull header');
      headerBytes = frame.subarray(start, end);
    } else if (field === PUSH_PULL_BROADCASTS) {
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
  const claim = w.fork(DIFF_CLAIMS);
  switch (c.kind) {
    case 'alive': {
      const a = c.alive;
      const m = w.fork(CLAIM_ALIVE);
      w.uint32(ALIVE_INCARNATION, a.incarnation ?? 0)
        .string(ALIVE_NODE, a.node ?? '')
        .fixed32(ALIVE_IPV4, a.ipv4 ?? 0)
        .bytes(ALIVE_IPV6, a.ipv6 ?? EMPTY)
        .uint32(ALIVE_PORT, a.port ?? 0)
        .bytes(ALIVE_META, a.meta ?? EMPTY)
        .uint32(ALIVE_PROTOCOL_MIN, a.protocolMin ?? 0)
        .uint32(ALIVE_PROTOCOL_MIN + 1, a.protocolMax ?? 0)
        .uint32(ALIVE_PROTOCOL_MIN + 2, a.protocolCur ?? 0)
        .uint32(ALIVE_PROTOCOL_MIN + 3, a.delegateMin ?? 0)
        .uint32(ALIVE_PROTOCOL_MIN + 4, a.delegateMax ?? 0)
        .uint32(ALIVE_PROTOCOL_MIN + 5, a.delegateCur ?? 0)
        .join(m);
      break;
    }
    case 'suspect':
    case 'dead': {
      const n = c.kind === 'suspect' ? c.suspect : c.dead;
      const m = w.fork(c.kind === 'suspect' ? CLAIM_SUSPECT : CLAIM_DEAD);
      w.uint32(NOTICE_INCARNATION, n.incarnation ?? 0)
        .string(NOTICE_NODE, n.node ?? '')
        .string(NOTICE_FROM, n.from ?? '')
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
  const w = new ProtoWriter(diff === undefined ? 64 : 64 + diff.claims.length * 96);
  if (diff !== undefined) {
    for (const c of diff.claims) writeClaim(w, c);
    w.uint32(DIFF_SKIPPED, diff.skipped).uint32(DIFF_INVALID, diff.invalid).string(DIFF_REFUSED, diff.refused ?? '');
  }
  w.bool(DIFF_STALE_MIRROR, extras.staleMirror ?? false).string(DIFF_ERROR, extras.error ?? '');
  const raw = extras.raw;
  if (raw !== undefined) {
    w.bytes(DIFF_HEADER, raw.header ?? EMPTY, true).bytes(DIFF_USER_STATE, raw.userState);
    for (const b of raw.broadcasts) w.bytes(DIFF_BROADCASTS, b, true);
  }
  return w.finish().buffer as ArrayBuffer;
}
