/**
 * Length-prefixed message framing over a byte stream (a Conn): each frame is a u32 big-endian payload
 * length followed by the payload. Streams deliver arbitrary chunk boundaries, so the decoder must cope
 * with a frame split over many chunks and with many frames in one chunk.
 */
import { TransportError } from '../errors.js';

/** Size of the length prefix in bytes. */
export const FRAME_HEADER_BYTES = 4;

/** The largest length a u32 prefix can express. */
const MAX_U32 = 0xffff_ffff;

/** Returns [u32 BE length][payload] as one new buffer (one write per frame keeps frames atomic on a Conn). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_U32) {
    throw new TransportError(`frame payload of ${payload.length} bytes exceeds the u32 length prefix`, 'ERR_FRAME_TOO_LARGE');
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES).setUint32(0, payload.length, false);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder. `push` takes ownership of each chunk: a returned frame that lies inside one chunk
 * is a view into it (no copy), and only frames spanning chunks are assembled into a new buffer. Chunks
 * are kept in a queue rather than concatenated on every push, so decoding is linear in the bytes seen
 * even when a large frame arrives in thousands of small chunks.
 *
 * After it throws (oversized frame) the stream is out of sync and the decoder refuses further input;
 * the caller should destroy the Conn.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Unconsumed chunks; chunks before #head are spent and are dropped in batches by #compact. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes of #chunks[#head] already consumed. */
  #headOffset = 0;
  /** Unconsumed bytes across #chunks. */
  #buffered = 0;
  /** Payload length of the frame being read once its header is consumed, else -1. */
  #expected = -1;
  #failed: TransportError | undefined;

  constructor(maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new TransportError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
    }
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned in a frame (a consumed header of the frame in progress included). */
  get pendingBytes(): number {
    return this.#buffered + (this.#expected >= 0 ? FRAME_HEADER_BYTES : 0);
  }

  /** Adds a chunk and returns every frame it completes, in order (possibly none). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed !== undefined) throw this.#failed;
    const frames: Uint8Array[] = [];
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const header = this.#take(FRAME_HEADER_BYTES);
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
        // Checked before anything is allocated for the payload: a corrupt or hostile length must not
        // make us reserve gigabytes.
        if (length > this.#maxFrameBytes) {
          this.#failed = new TransportError(
            `frame of ${length} bytes exceeds the limit of ${this.#maxFrameBytes} bytes`,
            'ERR_FRAME_TOO_LARGE',
          );
          this.#chunks = [];
          this.#head = 0;
          this.#headOffset = 0;
          this.#buffered = 0;
          throw this.#failed;
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      frames.push(this.#take(this.#expected));
      this.#expected = -1;
    }
    this.#compact();
    return frames;
  }

  /** Removes `n` bytes (n <= #buffered) from the front of the queue. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[this.#head] as Uint8Array | undefined;
    if (n === 0 || first === undefined) return new Uint8Array(0);
    const available = first.length - this.#headOffset;
    if (available >= n) {
      const view = first.subarray(this.#headOffset, this.#headOffset + n);
      this.#advance(n, available);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head] as Uint8Array;
      const left = chunk.length - this.#headOffset;
      const step = Math.min(left, n - filled);
      out.set(chunk.subarray(this.#headOffset, this.#headOffset + step), filled);
      filled += step;
      this.#advance(step, left);
    }
    return out;
  }

  #advance(n: number, availableInHead: number): void {
    this.#buffered -= n;
    if (n === availableInHead) {
      this.#head++;
      this.#headOffset = 0;
    } else {
      this.#headOffset += n;
    }
  }

  /** Drops spent chunk slots; amortised O(1) per chunk, unlike Array#shift on every consume. */
  #compact(): void {
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
