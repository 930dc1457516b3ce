/**
 * Reads the one memberlist message a stream carries each way (net.go readStream, reference §2.6):
 *
 *   [244][len][label]          only at the start of a dialled stream (read on the accepting side)
 *   [10][u32 len][sealed]      when the sender encrypts; AAD = those 5 bytes ‖ label
 *   [9][msgpack compress]      when the sender compresses (inside the encryption)
 *   [type][body]               the message, parsed incrementally (StreamBodyParser)
 *
 * Chunks are appended to one growing buffer (amortised doubling), and every step resumes where the
 * last one stopped. Bad input never throws out of push(): it is a DecodeResult failure.
 */
import type { InstalledKey } from '../../security/keyring.js';
import { bytesEqual } from '../../util/bytes.js';
import type { DecodeFailure, DecodeResult, LazyStreamFrame, StreamReader, WireMessage } from '../wire-codec.js';
import { decryptPayload } from './encryption.js';
import { lzwDecompress } from './lzw.js';
import { decodeCompress, MsgType } from './messages.js';
import { MsgpackIncomplete, MsgpackMalformed, MsgpackReader } from './msgpack.js';
import { StreamBodyParser, StreamLimitExceeded, type StreamBodyLimits } from './stream-body.js';

/** What the reader needs from its codec: the security settings and the limits, read live. */
export interface StreamReadContext extends StreamBodyLimits {
  readonly labelBytes: Uint8Array;
  readonly skipInboundLabelCheck: boolean;
  /** Installed keys, primary first; empty when encryption is off. */
  keys(): readonly InstalledKey[];
  readonly verifyIncoming: boolean;
  /** Largest encrypted frame, and largest plain stream, in bytes (memberlist maxPushStateBytes). */
  readonly maxStreamBytes: number;
  /** Largest a compressed body may inflate to (memberlist HEAD maxDecompressedBytes). */
  readonly maxDecompressedBytes: number;
  /** Called with every message read, so the codec can learn peers' protocol versions. */
  observe(message: WireMessage): void;
}

type Failure = { ok: false; reason: DecodeFailure; detail?: string };

function fail(reason: DecodeFailure, detail: string): Failure {
  return { ok: false, reason, detail };
}

export class MemberlistStreamReader implements StreamReader {
  #buf = new Uint8Array(0);
  #len = 0;
  /** Where the next layer starts: after the label header, then the type byte of the body. */
  #pos = 0;
  #stage: 'label' | 'outer' | 'plain' | 'done';
  #needAtLeast = 0;
  #body: StreamBodyParser | undefined;

  constructor(
    private readonly ctx: StreamReadContext,
    role: 'request' | 'response',
  ) {
    // Only the dialling side writes the label header (labelWrappedTransport.Dial): a reply has none.
    this.#stage = role === 'request' ? 'label' : 'outer';
  }

  push(chunk: Uint8Array): DecodeResult<LazyStreamFrame> | undefined {
    if (this.#stage === 'done') return undefined;
    if (this.#len + chunk.length > this.ctx.maxStreamBytes + 5 + 257) {
      this.#stage = 'done';
      return fail('too-large', `stream message beyond ${this.ctx.maxStreamBytes} bytes`);
    }
    this.#append(chunk);
    if (this.#len < this.#needAtLeast) return undefined;
    let r: DecodeResult<LazyStreamFrame> | undefined;
    try {
      r = this.#advance();
    } catch (err) {
      if (err instanceof MsgpackIncomplete) {
        this.#needAtLeast = err.needAtLeast;
        return undefined;
      }
      r = failureOf(err);
    }
    if (r !== undefined) {
      this.#stage = 'done';
      if (r.ok && r.value.message !== undefined) this.ctx.observe(r.value.message);
    }
    return r;
  }

  #append(chunk: Uint8Array): void {
    if (this.#len + chunk.length > this.#buf.length) {
      let size = Math.max(256, this.#buf.length * 2);
      while (size < this.#len + chunk.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  #advance(): DecodeResult<LazyStreamFrame> | undefined {
    const buf = this.#buf;
    const ctx = this.ctx;
    if (this.#stage === 'label') {
      if (this.#len < 1) return undefined;
      if (buf[0] === MsgType.hasLabel) {
        if (this.#len < 2) return undefined;
        const n = buf[1] as number;
        if (n === 0) return fail('malformed', 'label header cannot be empty when present');
        if (this.#len < 2 + n) return undefined;
        const theirs = buf.subarray(2, 2 + n);
        if (ctx.skipInboundLabelCheck) return fail('label-mismatch', 'stream carries a label but skipInboundLabelCheck expects none');
        if (!bytesEqual(theirs, ctx.labelBytes)) return fail('label-mismatch', 'stream label does not match ours');
        this.#pos = 2 + n;
      } else if (!ctx.skipInboundLabelCheck && ctx.labelBytes.length > 0) {
        return fail('label-mismatch', 'stream without a label, but we have one');
      }
      this.#stage = 'outer';
    }
    if (this.#stage === 'outer') {
      if (this.#len <= this.#pos) return undefined;
      const type = buf[this.#pos] as number;
      const keys = ctx.keys();
      if (type === MsgType.encrypt) {
        if (keys.length === 0) return fail('decrypt-failed', 'remote state is encrypted and encryption is not configured');
        if (this.#len < this.#pos + 5) return undefined;
        const size = new DataView(buf.buffer, buf.byteOffset + this.#pos + 1, 4).getUint32(0, false);
        if (size > ctx.maxStreamBytes) return fail('too-large', `remote node state is larger than limit (${size})`);
        const end = this.#pos + 5 + size;
        if (this.#len < end) {
          this.#needAtLeast = end;
          return undefined;
        }
        const header = buf.subarray(this.#pos, this.#pos + 5);
        const aad = new Uint8Array(5 + ctx.labelBytes.length);
        aad.set(header, 0);
        aad.set(ctx.labelBytes, 5);
        const d = decryptPayload(keys, buf.subarray(this.#pos + 5, end), aad);
        if (!d.ok) return fail('decrypt-failed', d.detail);
        return this.#complete(d.plaintext, true);
      }
      if (keys.length > 0 && ctx.verifyIncoming) {
        return fail('decrypt-failed', 'encryption is configured but remote state is not encrypted');
      }
      if (type === MsgType.compress) {
        const r = new MsgpackReader(buf, this.#pos + 1, this.#len);
        const v = r.value();
        return this.#complete(this.#inflate(v), false);
      }
      this.#body = new StreamBodyParser(this.#pos, ctx);
      this.#stage = 'plain';
    }
    const body = this.#body;
    if (body === undefined) return undefined;
    const r = body.step(buf, this.#len);
    if (r === undefined) return undefined;
    return { ok: true, value: { message: r.message, frame: buf.slice(this.#pos, r.end) } };
  }

  #inflate(v: Parameters<typeof decodeCompress>[0]): Uint8Array | Failure {
    const c = decodeCompress(v);
    if (c.algo !== 0) return fail('malformed', `cannot decompress unknown algorithm ${c.algo}`);
    const out = lzwDecompress(c.buf, this.ctx.maxDecompressedBytes);
    if (!out.ok) {
      return out.reason === 'too-large'
        ? fail('decompress-limit', `decompressed beyond ${this.ctx.maxDecompressedBytes} bytes`)
        : fail('malformed', `failed to decompress payload: ${out.reason}`);
    }
    if (out.value.length === 0) return fail('malformed', 'empty decompressed payload');
    return out.value;
  }

  /** A whole body that arrived sealed or compressed: it must hold one complete message. */
  #complete(plain: Uint8Array | Failure, mayBeCompressed: boolean): DecodeResult<LazyStreamFrame> {
    if (!(plain instanceof Uint8Array)) return plain;
    let body = plain;
    if (body.length === 0) return fail('empty', 'empty stream message');
    if (mayBeCompressed && body[0] === MsgType.compress) {
      let v;
      try {
        v = new MsgpackReader(body, 1).value();
      } catch (err) {
        return failureOf(err);
      }
      const inflated = this.#inflate(v);
      if (!(inflated instanceof Uint8Array)) return inflated;
      body = inflated;
    }
    try {
      const r = new StreamBodyParser(0, this.ctx).step(body, body.length);
      if (r === undefined) return fail('malformed', 'truncated stream message');
      return { ok: true, value: { message: r.message, frame: body.subarray(0, r.end) } };
    } catch (err) {
      return failureOf(err);
    }
  }
}

function failureOf(err: unknown): Failure {
  if (err instanceof StreamLimitExceeded) return fail(err.reason, err.message);
  if (err instanceof MsgpackIncomplete) return fail('malformed', 'truncated message');
  if (err instanceof MsgpackMalformed) return fail('malformed', err.message);
  return fail('malformed', err instanceof Error ? err.message : String(err));
}
