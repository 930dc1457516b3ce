/**
 * The compression layer of a stream frame ([FRAME_COMPRESSED][inflated length varint][deflate-raw]),
 * inflated by whoever consumes the frame rather than by the codec. A large push-pull arrives
 * compressed: inflating a 10,000-member state takes milliseconds, and the thread that merges it (the
 * merge worker) is the one that should pay them, not the protocol thread that must answer pings. The
 * codec inflates only the first bytes, to see what the frame is (LayeredCodec.decodeStreamFrameLazy).
 *
 * Nothing here throws on input from the network.
 */
import { constants as zlibConstants, deflateRaw, inflateRawSync } from 'node:zlib';
import { FrameKind } from './wire-enums.js';
import type { DecodeResult } from './wire-codec.js';

export const FRAME_COMPRESSED: number = FrameKind.FRAME_COMPRESSED;

/** Compressed stream frames that declare at least this many bytes inflated are left compressed. */
export const DEFER_INFLATE_FROM_BYTES = 64 * 1024;

/**
 * The limit for inflating a frame the layers already let through: they checked its declared size
 * against maxStreamFrameBytes, and inflation never goes past the declared size.
 */
export const MAX_INFLATED_FRAME_BYTES = 0xffff_ffff;

/** Compressed bytes inflated to classify a frame: enough for the push-pull header at any level. */
const HEAD_INPUT_BYTES = 1024;
/** At most this much of the head is kept (deflate can expand 1 KiB to about 1 MiB). */
const HEAD_OUTPUT_BYTES = 64 * 1024;

/** The declared inflated size and where the deflate stream starts, or undefined if malformed. */
export function compressedHeader(frame: Uint8Array): { size: number; start: number } | undefined {
  if (frame.length < 2 || frame[0] !== FRAME_COMPRESSED) return undefined;
  let size = 0;
  let pos = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= frame.length) return undefined;
    const b = frame[pos++] as number;
    size += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return size === 0 || size > 0xffff_ffff ? undefined : { size, start: pos };
  }
  return undefined;
}

/** Whether a frame still carries the compression layer. */
export function isCompressedFrame(frame: Uint8Array): boolean {
  return frame.length > 0 && frame[0] === FRAME_COMPRESSED;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Inflates a compressed frame to its inner frame. The declared size is checked against `limit` before
 * inflating, and inflation stops at the declared size: a bomb never allocates more than that.
 */
export function inflateFrame(frame: Uint8Array, limit: number): DecodeResult<Uint8Array> {
  const h = compressedHeader(frame);
  if (h === undefined) return { ok: false, reason: 'malformed', detail: 'bad compressed length' };
  if (h.size > limit) return { ok: false, reason: 'decompress-limit', detail: `declares ${h.size} bytes uncompressed, limit ${limit}` };
  let inflated: Uint8Array;
  try {
    inflated = inflateRawSync(frame.subarray(h.start), { maxOutputLength: h.size });
  } catch (err) {
    if (errorCode(err) === 'ERR_BUFFER_TOO_LARGE') return { ok: false, reason: 'decompress-limit', detail: `inflates beyond the declared ${h.size} bytes` };
    return { ok: false, reason: 'malformed', detail: `cannot inflate: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (inflated.length !== h.size) return { ok: false, reason: 'malformed', detail: `inflated to ${inflated.length} bytes, declared ${h.size}` };
  return { ok: true, value: inflated };
}

/**
 * The first bytes of a compressed frame's inner frame (inflating only its first KiB), or undefined
 * when they cannot be read. Enough to tell a push-pull and read its header.
 */
export function inflateFrameHead(frame: Uint8Array): Uint8Array | undefined {
  const h = compressedHeader(frame);
  if (h === undefined) return undefined;
  try {
    const head = inflateRawSync(frame.subarray(h.start, h.start + HEAD_INPUT_BYTES), {
      // A truncated input: return what it inflates to instead of failing on the missing end.
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: Math.min(h.size, HEAD_OUTPUT_BYTES),
    });
    return head.length > 0 ? head : undefined;
  } catch {
    return undefined;
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * [FRAME_COMPRESSED][length][deflate-raw] of `inner`, deflated on libuv's thread pool (zlib's async
 * API) rather than on the calling thread; `inner` itself when that is not strictly smaller or zlib
 * fails, as FrameLayers' synchronous compression does. The same zlib settings give the same bytes.
 * Never rejects.
 */
export function compressFrameAsync(inner: Uint8Array, level: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    deflateRaw(inner, { level }, (err, deflated) => {
      if (err !== null) {
        resolve(inner);
        return;
      }
      const len = varintBytes(inner.length);
      const size = 1 + len.length + deflated.length;
      if (size >= inner.length) {
        resolve(inner);
        return;
      }
      const out = new Uint8Array(size);
      out[0] = FRAME_COMPRESSED;
      out.set(len, 1);
      out.set(deflated, 1 + len.length);
      resolve(out);
    });
  });
}
