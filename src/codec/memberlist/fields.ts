/**
 * Typed reads of struct fields from a decoded msgpack map, with go-msgpack's decoding tolerance
 * (reference §2.3): keys in any order, unknown keys skipped, a missing key or nil is the zero value,
 * any integer width or sign is accepted as long as the value fits the Go field, and a []byte field
 * accepts str, bin or an array of small ints. A value that does not fit throws MsgpackMalformed.
 */
import { MsgpackMalformed, MsgpackMap, type MsgpackValue } from './msgpack.js';

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The struct itself: memberlist bodies are maps. */
export function asStruct(v: MsgpackValue, what: string): MsgpackMap {
  if (v instanceof MsgpackMap) return v;
  throw new MsgpackMalformed(`${what}: expected a map`);
}

/** An unsigned Go field of at most `max` (uint8 255, uint16 65535, uint32 4294967295). */
export function uintField(m: MsgpackMap, key: string, max: number): number {
  const v = m.get(key);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new MsgpackMalformed(`field ${key}: ${describe(v)} does not fit an unsigned field of at most ${max}`);
  }
  return v;
}

/** A Go `int` field (64-bit): any integer. */
export function intField(m: MsgpackMap, key: string): number {
  const v = m.get(key);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new MsgpackMalformed(`field ${key}: ${describe(v)} is not an integer`);
  return v;
}

export function boolField(m: MsgpackMap, key: string): boolean {
  const v = m.get(key);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new MsgpackMalformed(`field ${key}: ${describe(v)} is not a bool`);
  return v;
}

/** A []byte field (addresses, meta, payloads, Vsn). */
export function bytesField(m: MsgpackMap, key: string): Uint8Array {
  const v = m.get(key);
  if (v === undefined || v === null) return EMPTY;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    const out = new Uint8Array(v.length);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) {
        throw new MsgpackMalformed(`field ${key}: array element ${describe(x)} is not a byte`);
      }
      out[i] = x;
    });
    return out;
  }
  throw new MsgpackMalformed(`field ${key}: ${describe(v)} is not bytes`);
}

/** A string field. Bin is accepted here (go-msgpack v2 does); we never write it. */
export function stringField(m: MsgpackMap, key: string): string {
  const v = m.get(key);
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return utf8.decode(v);
  throw new MsgpackMalformed(`field ${key}: ${describe(v)} is not a string`);
}

function describe(v: MsgpackValue): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v instanceof MsgpackMap) return 'a map';
  if (Array.isArray(v)) return 'an array';
  return String(v);
}
