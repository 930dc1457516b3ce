/**
 * The default stream framing of the network actor, for codecs that bring none (the protobuf codec):
 * every stream message is one length-prefixed frame (src/transport/framing.ts), decoded lazily so a
 * push-pull travels on undecoded. memberlist's own wire has no prefix and supplies its framing instead
 * (WireCodec.streamFraming).
 */
import type { DecodeResult, LazyStreamFrame, StreamFraming, StreamPeer, StreamReader, WireCodec } from '../../codec/wire-codec.js';
import { encodeFrame, FrameDecoder } from '../../transport/framing.js';

export function lengthPrefixedFraming(codec: WireCodec, maxFrameBytes: number): StreamFraming {
  const encode = (m: Parameters<WireCodec['encodeStreamMessage']>[0], to?: StreamPeer): Uint8Array => encodeFrame(codec.encodeStreamMessage(m, to));
  const deferred = codec.encodeStreamMessageDeferred?.bind(codec);
  return {
    encodeRequest: encode,
    encodeResponse: encode,
    ...(deferred !== undefined
      ? {
          encodeDeferred: (m: Parameters<WireCodec['encodeStreamMessage']>[0], to?: StreamPeer): Uint8Array | Promise<Uint8Array> => {
            const body = deferred(m, to);
            return body instanceof Uint8Array ? encodeFrame(body) : body.then(encodeFrame);
          },
        }
      : {}),
    reader: (): StreamReader => new LengthPrefixedReader(codec, maxFrameBytes),
  };
}

class LengthPrefixedReader implements StreamReader {
  readonly #decoder: FrameDecoder;
  #done = false;

  constructor(
    private readonly codec: WireCodec,
    maxFrameBytes: number,
  ) {
    this.#decoder = new FrameDecoder(maxFrameBytes);
  }

  push(chunk: Uint8Array): DecodeResult<LazyStreamFrame> | undefined {
    if (this.#done) return undefined;
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#done = true;
      return { ok: false, reason: 'too-large', detail: err instanceof Error ? err.message : String(err) };
    }
    const payload = frames[0];
    if (payload === undefined) return undefined;
    this.#done = true;
    return this.#decode(payload);
  }

  #decode(payload: Uint8Array): DecodeResult<LazyStreamFrame> {
    // A push-pull is handed on undecoded: the push-pull actor reads its header and decodes or offloads
    // it, so a 10,000-member state is never decoded twice, nor on this thread when a worker merges it.
    const codec = this.codec;
    if (codec.decodeStreamFrameLazy !== undefined) return codec.decodeStreamFrameLazy(payload);
    if (codec.decodeStreamFrame !== undefined) return codec.decodeStreamFrame(payload);
    const r = codec.decodeStreamMessage(payload);
    return r.ok ? { ok: true, value: { message: r.value, frame: payload } } : r;
  }
}
