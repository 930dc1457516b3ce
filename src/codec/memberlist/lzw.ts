/**
 * Go's compress/lzw with LSB bit order and 8-bit literals, ported from writer.go and reader.go so the
 * output is bit for bit what memberlist's compressPayload writes (reference §2.5, §13.4). Generic npm
 * LZW packages use MSB order or TIFF's "early change", or omit the clear and EOF codes, and a Go node
 * would refuse or misread them.
 *
 * The stream: a leading clear code (256), variable-width codes of 9 to 12 bits packed LSB first, the
 * width growing when the next implied code reaches 512, 1024 and 2048, a clear and reset when it
 * reaches 4095, and an EOF code (257) after the last code.
 */

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH;
const EOF_CODE = CLEAR + 1;
const MAX_CODE = (1 << 12) - 1;
const MAX_WIDTH = 12;
const TABLE_SIZE = 4 * (1 << 12);
const TABLE_MASK = TABLE_SIZE - 1;
const INVALID_CODE = -1;

/** Compresses `input` exactly as Go's lzw.NewWriter(w, lzw.LSB, 8) followed by one Write and Close. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  let out = new Uint8Array(Math.max(16, (input.length >> 1) + 16));
  let o = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = CLEAR + 1;
  let overflow = CLEAR << 1;
  // Go's hash table: key (12-bit prefix code << 8 | byte) << 12 | code; 0 is an empty slot. Keys fit
  // 20 bits, so entries fit 32 bits; stored unsigned.
  const table = new Uint32Array(TABLE_SIZE);

  const emit = (c: number): void => {
    bits |= c << nBits;
    nBits += width;
    while (nBits >= 8) {
      if (o === out.length) {
        const next = new Uint8Array(out.length * 2);
        next.set(out);
        out = next;
      }
      out[o++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** incHi: true when the codes ran out and the writer was reset (the key is then not inserted). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      emit(CLEAR);
      width = LIT_WIDTH + 1;
      hi = CLEAR + 1;
      overflow = CLEAR << 1;
      table.fill(0);
      return true;
    }
    return false;
  };

  let code = INVALID_CODE;
  if (input.length > 0) {
    emit(CLEAR);
    code = input[0] as number;
    loop: for (let i = 1; i < input.length; i++) {
      const literal = input[i] as number;
      const key = (code << 8) | literal;
      let hash = ((key >>> 12) ^ key) & TABLE_MASK;
      for (let h = hash, t = table[hash] as number; t !== 0; ) {
        if (key === t >>> 12) {
          code = t & MAX_CODE;
          continue loop;
        }
        h = (h + 1) & TABLE_MASK;
        t = table[h] as number;
      }
      emit(code);
      code = literal;
      if (incHi()) continue;
      for (;;) {
        if (table[hash] === 0) {
          table[hash] = ((key << 12) | hi) >>> 0;
          break;
        }
        hash = (hash + 1) & TABLE_MASK;
      }
    }
  }
  // Close.
  if (code !== INVALID_CODE) {
    emit(code);
    incHi();
  } else {
    emit(CLEAR);
  }
  emit(EOF_CODE);
  if (nBits > 0) {
    if (o === out.length) {
      const next = new Uint8Array(out.length + 1);
      next.set(out);
      out = next;
    }
    out[o++] = bits & 0xff;
  }
  return out.subarray(0, o);
}

export type LzwResult = { ok: true; value: Uint8Array } | { ok: false; reason: 'truncated' | 'invalid-code' | 'too-large' };

/**
 * Decompresses like Go's lzw.NewReader(r, lzw.LSB, 8) read to the end: a stream without its EOF code
 * is an error (io.ErrUnexpectedEOF), bytes after the EOF code are ignored, and a leading clear code is
 * optional. Output beyond `maxOutput` bytes stops it ('too-large': memberlist HEAD's decompression
 * limit). Never throws.
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): LzwResult {
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const INVALID = 0xffff;
  let out = new Uint8Array(Math.min(Math.max(64, input.length * 3), maxOutput + 1));
  let o = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF_CODE;
  let overflow = 1 << width;
  let last = INVALID;
  let pos = 0;
  // Scratch for one expansion, filled backwards (at most 4096 bytes).
  const scratch = new Uint8Array(1 << MAX_WIDTH);

  const grow = (need: number): boolean => {
    if (o + need > maxOutput) return false;
    if (o + need <= out.length) return true;
    let size = out.length * 2;
    while (size < o + need) size *= 2;
    const next = new Uint8Array(Math.min(size, maxOutput));
    next.set(out.subarray(0, o));
    out = next;
    return true;
  };

  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) return { ok: false, reason: 'truncated' };
      bits |= (input[pos++] as number) << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      if (!grow(1)) return { ok: false, reason: 'too-large' };
      out[o++] = code;
      if (last !== INVALID) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF_CODE;
      overflow = 1 << width;
      last = INVALID;
      continue;
    } else if (code === EOF_CODE) {
      return { ok: true, value: out.subarray(0, o) };
    } else if (code <= hi) {
      let c = code;
      let i = scratch.length - 1;
      if (code === hi && last !== INVALID) {
        // code == hi: the last expansion followed by its own first byte.
        c = last;
        while (c >= CLEAR) c = prefix[c] as number;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c] as number;
        c = prefix[c] as number;
      }
      scratch[i] = c;
      const n = scratch.length - i;
      if (!grow(n)) return { ok: false, reason: 'too-large' };
      out.set(scratch.subarray(i), o);
      o += n;
      if (last !== INVALID) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      return { ok: false, reason: 'invalid-code' };
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = INVALID;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
}
