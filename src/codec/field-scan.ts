/**
 * A pre-decode scan of protobuf bytes: counts length-delimited occurrences of one field without
 * decoding anything, so that limits (compound parts, push-pull entries) are checked before protobufjs
 * allocates an object per element. It never throws and never allocates per field.
 */

/** The scan could not be completed: the bytes are not valid protobuf at this level. */
export const SCAN_MALFORMED = -1;
/** The bytes use groups (wire types 3/4), which this scan does not follow: the caller decides after decoding. */
export const SCAN_UNSUPPORTED = -2;

/** Reads a varint of at most 10 bytes at `pos`; returns the next position, or -1 when truncated or too long. */
function skipVarint(buf: Uint8Array, pos: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return -1;
    if (((buf[pos++] as number) & 0x80) === 0) return pos;
  }
  return -1;
}

/**
 * Reads a varint that must fit in 32 bits (a tag or a length) into `out[0]`; returns the next
 * position or -1.
 */
function readVarint32(buf: Uint8Array, pos: number, end: number, out: number[]): number {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return -1;
    const b = buf[pos++] as number;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) {
      if (value > 0xffff_ffff) return -1;
      out[0] = value;
      return pos;
    }
    shift += 7;
  }
  return -1;
}

/**
 * Calls `visit(start, end)` for every length-delimited occurrence of `field` in buf[start, end) and
 * returns how many there were, or SCAN_MALFORMED / SCAN_UNSUPPORTED. Stops early (returning the count
 * so far plus one) once the count exceeds `stopAbove`.
 */
export function scanField(
  buf: Uint8Array,
  start: number,
  end: number,
  field: number,
  stopAbove = Number.POSITIVE_INFINITY,
  visit?: (start: number, end: number) => boolean,
): number {
  const v: number[] = [0];
  let pos = start;
  let count = 0;
  while (pos < end) {
    pos = readVarint32(buf, pos, end, v);
    if (pos < 0) return SCAN_MALFORMED;
    const tag = v[0] as number;
    const wireType = tag & 7;
    const number = tag >>> 3;
    switch (wireType) {
      case 0:
        pos = skipVarint(buf, pos, end);
        if (pos < 0) return SCAN_MALFORMED;
        break;
      case 1:
        pos += 8;
        if (pos > end) return SCAN_MALFORMED;
        break;
      case 5:
        pos += 4;
        if (pos > end) return SCAN_MALFORMED;
        break;
      case 2: {
        pos = readVarint32(buf, pos, end, v);
        if (pos < 0) return SCAN_MALFORMED;
        const len = v[0] as number;
        if (len > end - pos) return SCAN_MALFORMED;
        if (number === field) {
          count++;
          if (count > stopAbove) return count;
          if (visit !== undefined && !visit(pos, pos + len)) return SCAN_MALFORMED;
        }
        pos += len;
        break;
      }
      case 3:
      case 4:
        return SCAN_UNSUPPORTED;
      default:
        return SCAN_MALFORMED;
    }
  }
  return count;
}
