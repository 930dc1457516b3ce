/**
 * The protobuf wire format without protobufjs: a reader and a writer of tags, varints, fixed32 and
 * length-delimited fields, for code that must not load the generated module. The merge worker is
 * that code: with protobufjs and our generated classes its thread took 3–4 MiB more RSS before any
 * work (`benchmarks/worker-footprint.ts --piscina`), and its merges kept far more heap
 * (`benchmarks/merge-thread-rss.ts`); the host's RSS growth at 10,000 members pays for both (issue 5
 * part 4, benchmarks/RESULTS.md "Issue 5, fifth pass"). Message-specific decoders on top of this live next to
 * their users (src/actors/push-pull/merge-worker-wire.ts); tests check them against protobufjs.
 *
 * The reader never throws: every read reports failure by setting `failed` and returning a zero value,
 * and callers check `failed` once per message. Groups (wire types 3 and 4) are not supported and
 * count as malformed: no schema of ours uses them.
 */
import { withRoom } from '../util/bytes.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Bytes a varint of the unsigned 32-bit value `n` takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** Writes `n` (unsigned 32-bit) as a varint at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

/** Strict, as the generated decoders are (protobufjs verifies proto3 strings): bad UTF-8 fails the read. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
/** Below this length an ASCII string is built by hand: cheaper than a TextDecoder call. */
const SHORT_STRING = 48;

export class ProtoReader {
  pos: number;
  /** Set by the first read that ran past the end or met a malformed encoding. */
  failed = false;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    /** Where the current message ends (moved by enter/leave while a sub-message is read). */
    public end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.failed || this.pos >= this.end;
  }

  #fail(): number {
    this.failed = true;
    this.pos = this.end;
    return 0;
  }

  /**
   * A varint read as an unsigned 32-bit value (the low 32 bits of a longer one, as protobufjs's
   * uint32 does). At most 10 bytes.
   */
  uint32(): number {
    const buf = this.buf;
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) return this.#fail();
      const b = buf[this.pos++] as number;
      if (i < 5) value |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return value >>> 0;
    }
    return this.#fail();
  }

  /** A varint as a signed 32-bit value (protobuf int32 and enums). */
  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  fixed32(): number {
    if (this.end - this.pos < 4) return this.#fail();
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }

  /** A length-delimited field's bytes, as a view of the buffer (no copy). */
  bytes(): Uint8Array {
    return this.span() ? this.buf.subarray(this.spanStart, this.spanEnd) : EMPTY;
  }

  /**
   * Enters the sub-message of a length-delimited field: reads continue inside it (`done` at its end)
   * until `leave(saved)` with the value returned here. One reader serves every level, so decoding
   * 10,000 entries allocates no reader per entry.
   */
  enter(): number {
    const saved = this.end;
    if (!this.span()) return saved;
    this.pos = this.spanStart;
    this.end = this.spanEnd;
    return saved;
  }

  /** Leaves the sub-message entered last, past whatever of it was not read. */
  leave(saved: number): void {
    this.pos = this.end;
    this.end = saved;
  }

  string(): string {
    if (!this.span()) return '';
    const text = utf8Text(this.buf, this.spanStart, this.spanEnd);
    if (text === undefined) this.#fail();
    return text ?? '';
  }

  /** Start and end of the field `span()` passed last. */
  spanStart = 0;
  spanEnd = 0;

  /**
   * Passes a length-delimited field without making a view of it: its bounds are left in
   * spanStart/spanEnd. False (and `failed`) when it runs past the end.
   */
  span(): boolean {
    const len = this.uint32();
    if (this.failed) return false;
    if (len > this.end - this.pos) {
      this.#fail();
      return false;
    }
    this.spanStart = this.pos;
    this.pos += len;
    this.spanEnd = this.pos;
    return true;
  }

  /** The next tag (field number << 3 | wire type); 0 with `failed` set when none can be read. */
  tag(): number {
    const t = this.uint32();
    // Field number 0 is invalid in every message.
    if (!this.failed && t >>> 3 === 0) return this.#fail();
    return t;
  }

  /** Skips a field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) this.#fail();
        else this.pos += 8;
        return;
      case WIRE_LEN:
        this.span();
        return;
      case WIRE_FIXED32:
        if (this.end - this.pos < 4) this.#fail();
        else this.pos += 4;
        return;
      default:
        this.#fail();
    }
  }
}

const EMPTY = new Uint8Array(0);

/** The text of buf[start, end) as strict UTF-8, or undefined when it is not UTF-8. */
export function utf8Text(buf: Uint8Array, start: number, end: number): string | undefined {
  if (end - start < SHORT_STRING) {
    for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return decodeUtf8(buf, start, end);
    // ASCII: one flat string, no call into the decoder (names are short and ASCII).
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return decodeUtf8(buf, start, end);
}

/** Whether buf[start, end) is UTF-8, without making a string of ASCII text. */
export function isUtf8(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return decodeUtf8(buf, i, end) !== undefined;
  return true;
}

function decodeUtf8(buf: Uint8Array, start: number, end: number): string | undefined {
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Appends fields to a growing buffer. A sub-message is written in place: `fork()` reserves one byte
 * for its length and `join(mark)` writes the length, moving the body when it needs more bytes.
 */
export class ProtoWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
  }

  #room(n: number): void {
    this.#buf = withRoom(this.#buf, this.#pos, n);
  }

  #varint(n: number): void {
    this.#room(5);
    this.#pos = writeVarint(this.#buf, this.#pos, n >>> 0);
  }

  tag(field: number, wireType: number): this {
    this.#varint(((field << 3) | wireType) >>> 0);
    return this;
  }

  /** A uint32 or enum field, left out when 0 (proto3's default). */
  uint32(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.uint32(field, value ? 1 : 0);
  }

  fixed32(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, WIRE_FIXED32);
    this.#room(4);
    const b = this.#buf;
    const v = value >>> 0;
    b[this.#pos++] = v & 0xff;
    b[this.#pos++] = (v >>> 8) & 0xff;
    b[this.#pos++] = (v >>> 16) & 0xff;
    b[this.#pos++] = v >>> 24;
    return this;
  }

  /** A bytes field, left out when empty unless `always` (a sub-message that must be present). */
  bytes(field: number, value: Uint8Array, always = false): this {
    if (value.length === 0 && !always) return this;
    this.tag(field, WIRE_LEN);
    this.#varint(value.length);
    this.#room(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  string(field: number, value: string): this {
    if (value === '') return this;
    // At most 3 bytes per UTF-16 unit; encodeInto writes straight into our buffer.
    const max = value.length * 3;
    this.tag(field, WIRE_LEN);
    const mark = this.#pos;
    const lenBytes = varintSize(max);
    this.#room(lenBytes + max);
    const { written } = utf8Encoder.encodeInto(value, this.#buf.subarray(mark + lenBytes, mark + lenBytes + max));
    const actual = varintSize(written);
    if (actual !== lenBytes) this.#buf.copyWithin(mark + actual, mark + lenBytes, mark + lenBytes + written);
    this.#pos = writeVarint(this.#buf, mark, written) + written;
    return this;
  }

  /** Starts a sub-message field: returns the mark `join` needs. */
  fork(field: number): number {
    this.tag(field, WIRE_LEN);
    this.#room(1);
    const mark = this.#pos;
    this.#pos++;
    return mark;
  }

  /** Ends the sub-message started at `mark`, writing its length before it. */
  join(mark: number): this {
    const len = this.#pos - mark - 1;
    const size = varintSize(len);
    if (size > 1) {
      this.#room(size - 1);
      this.#buf.copyWithin(mark + size, mark + 1, this.#pos);
      this.#pos += size - 1;
    }
    writeVarint(this.#buf, mark, len);
    return this;
  }

  /** The bytes written, in an ArrayBuffer of their own (transferable without copying more). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}
