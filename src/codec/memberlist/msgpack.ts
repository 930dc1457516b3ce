/**
 * The msgpack subset memberlist speaks, written byte for byte as go-msgpack's default
 * `MsgpackHandle{}` writes it (reference §2.3, §13.1) and read as leniently as go-msgpack reads it.
 *
 * Why not an npm msgpack library: they write str8 (0xd9) and bin (0xc4..0xc6), and Debian's
 * go-msgpack 0.5.5 (memberlist 0.2.2) refuses bin for a string field. go-msgpack with WriteExt=false
 * writes every string and byte slice in the old "raw" family only: fixstr, raw16 (0xda), raw32 (0xdb).
 */
import { withRoom } from '../../util/bytes.js';

/** How `int` fields (Nodes, UserStateLen, UserMsgLen, State) above 127 are written. */
export type IntStyle =
  /** go-msgpack 0.5.x (memberlist 0.2.2, Debian): any value >= 0 as an unsigned int (cc/cd/ce). */
  | 'unsigned'
  /** go-msgpack v2 (memberlist >= 0.5): signed forms (d1/d2/d3) above 127. */
  | 'signed';

const utf8 = new TextEncoder();

/** A growable output buffer with the writers memberlist's structs need. */
export class MsgpackWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(initial = 128) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#pos;
  }

  #reserve(n: number): void {
    const next = withRoom(this.#buf, this.#pos, n);
    if (next === this.#buf) return;
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  byte(b: number): this {
    this.#reserve(1);
    this.#buf[this.#pos++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#reserve(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** A struct: fixmap (every memberlist struct has fewer than 16 fields). */
  map(fields: number): this {
    return this.byte(0x80 | fields);
  }

  /** A map key or string field: the raw family, never str8. */
  str(s: string): this {
    return this.raw(utf8.encode(s));
  }

  /** A []byte field: the raw family (fixstr / da / db); `null` is nil (0xc0), as Go writes a nil slice. */
  raw(b: Uint8Array | null): this {
    if (b === null) return this.byte(0xc0);
    const n = b.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n < 0x10000) {
      this.#reserve(3);
      this.#buf[this.#pos] = 0xda;
      this.#view.setUint16(this.#pos + 1, n, false);
      this.#pos += 3;
    } else {
      this.#reserve(5);
      this.#buf[this.#pos] = 0xdb;
      this.#view.setUint32(this.#pos + 1, n, false);
      this.#pos += 5;
    }
    return this.bytes(b);
  }

  /** An unsigned field (uint8/16/32): the shortest form. */
  uint(n: number): this {
    if (n < 0x80) return this.byte(n);
    if (n < 0x100) return this.byte(0xcc).byte(n);
    this.#reserve(5);
    if (n < 0x10000) {
      this.#buf[this.#pos] = 0xcd;
      this.#view.setUint16(this.#pos + 1, n, false);
      this.#pos += 3;
    } else {
      this.#buf[this.#pos] = 0xce;
      this.#view.setUint32(this.#pos + 1, n >>> 0, false);
      this.#pos += 5;
    }
    return this;
  }

  /** A Go `int` field (never negative in memberlist), in the chosen library's style. */
  int(n: number, style: IntStyle): this {
    if (n < 0x80 || style === 'unsigned') return this.uint(n);
    this.#reserve(5);
    if (n < 0x8000) {
      this.#buf[this.#pos] = 0xd1;
      this.#view.setInt16(this.#pos + 1, n, false);
      this.#pos += 3;
    } else {
      this.#buf[this.#pos] = 0xd2;
      this.#view.setInt32(this.#pos + 1, n, false);
      this.#pos += 5;
    }
    return this;
  }

  bool(b: boolean): this {
    return this.byte(b ? 0xc3 : 0xc2);
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** A decoded msgpack value. Strings, raw and bin all decode to bytes: the field decides what they mean. */
export type MsgpackValue = null | boolean | number | Uint8Array | MsgpackValue[] | MsgpackMap;

/** A decoded map; keys that are strings (all memberlist keys) are decoded as text. */
export class MsgpackMap {
  constructor(readonly entries: ReadonlyMap<string, MsgpackValue>) {}
  get(key: string): MsgpackValue | undefined {
    return this.entries.get(key);
  }
}

/** The input ends inside a value: a stream reader waits for more bytes. */
export class MsgpackIncomplete extends Error {
  constructor(readonly needAtLeast: number) {
    super('incomplete msgpack value');
  }
}

/** The input is not msgpack memberlist could have written (or would accept). */
export class MsgpackMalformed extends Error {}

/** Nesting deeper than this is refused: memberlist structs are flat, so this only stops hostile input. */
const MAX_DEPTH = 8;
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads one msgpack value at `pos` in `buf[0..end)`. Throws MsgpackIncomplete when `end` is reached
 * inside the value (with a lower bound of the bytes needed) and MsgpackMalformed for input that
 * go-msgpack would refuse. Callers turn both into DecodeResult failures; nothing escapes the codec.
 */
export class MsgpackReader {
  pos: number;
  readonly #view: DataView;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new MsgpackIncomplete(this.pos + n);
  }

  #u8(): number {
    this.#need(1);
    return this.buf[this.pos++] as number;
  }

  #u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  #u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  #take(n: number): Uint8Array {
    this.#need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  value(depth = 0): MsgpackValue {
    if (depth > MAX_DEPTH) throw new MsgpackMalformed('msgpack nested too deeply');
    const b = this.#u8();
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b < 0x90) return this.#map(b & 0x0f, depth);
    if (b < 0xa0) return this.#array(b & 0x0f, depth);
    if (b < 0xc0) return this.#take(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.#take(this.#u8());
      case 0xc5:
        return this.#take(this.#u16());
      case 0xc6:
        return this.#take(this.#u32());
      case 0xca: {
        this.#need(4);
        const v = this.#view.getFloat32(this.pos, false);
        this.pos += 4;
        return v;
      }
      case 0xcb: {
        this.#need(8);
        const v = this.#view.getFloat64(this.pos, false);
        this.pos += 8;
        return v;
      }
      case 0xcc:
        return this.#u8();
      case 0xcd:
        return this.#u16();
      case 0xce:
        return this.#u32();
      case 0xcf: {
        const hi = this.#u32();
        const lo = this.#u32();
        // Beyond 2^53 precision is lost, but every memberlist integer field is at most 32 bits, so
        // such a value fails the field's range check either way.
        return hi * 0x1_0000_0000 + lo;
      }
      case 0xd0: {
        const v = this.#u8();
        return v >= 0x80 ? v - 0x100 : v;
      }
      case 0xd1: {
        const v = this.#u16();
        return v >= 0x8000 ? v - 0x10000 : v;
      }
      case 0xd2: {
        this.#need(4);
        const v = this.#view.getInt32(this.pos, false);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        this.#need(8);
        const hi = this.#view.getInt32(this.pos, false);
        const lo = this.#view.getUint32(this.pos + 4, false);
        this.pos += 8;
        return hi * 0x1_0000_0000 + lo;
      }
      case 0xd9:
        return this.#take(this.#u8());
      case 0xda:
        return this.#take(this.#u16());
      case 0xdb:
        return this.#take(this.#u32());
      case 0xdc:
        return this.#array(this.#u16(), depth);
      case 0xdd:
        return this.#array(this.#u32(), depth);
      case 0xde:
        return this.#map(this.#u16(), depth);
      case 0xdf:
        return this.#map(this.#u32(), depth);
      default:
        // 0xc1 (never used) and the ext family: memberlist has no ext types.
        throw new MsgpackMalformed(`unsupported msgpack descriptor 0x${b.toString(16)}`);
    }
  }

  #array(n: number, depth: number): MsgpackValue[] {
    // Every element takes at least one byte: a count beyond what is left cannot be honest, and must
    // not make us allocate for it.
    if (n > this.end - this.pos) throw new MsgpackIncomplete(this.pos + n);
    const out: MsgpackValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  #map(n: number, depth: number): MsgpackMap {
    if (2 * n > this.end - this.pos) throw new MsgpackIncomplete(this.pos + 2 * n);
    const entries = new Map<string, MsgpackValue>();
    for (let i = 0; i < n; i++) {
      const key = this.value(depth + 1);
      const value = this.value(depth + 1);
      // Struct keys are field names; a non-string key can match no field, so it is skipped like an
      // unknown key.
      if (key instanceof Uint8Array) entries.set(utf8Decoder.decode(key), value);
    }
    return new MsgpackMap(entries);
  }
}

/** Reads one complete value from `buf` at `pos`: the value and where it ends. Throws like MsgpackReader. */
export function readValue(buf: Uint8Array, pos = 0, end = buf.length): { value: MsgpackValue; end: number } {
  const r = new MsgpackReader(buf, pos, end);
  const value = r.value();
  return { value, end: r.pos };
}
