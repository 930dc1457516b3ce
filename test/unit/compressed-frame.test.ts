/**
 * A large compressed push-pull is left compressed by the codec (LayeredCodec.decodeStreamFrameLazy)
 * and inflated where it is merged: the merge worker (MergeWorkerState) or the push-pull actor. Small
 * frames and other messages are inflated by the codec as before.
 */
import { describe, expect, it } from 'vitest';
import { LayeredCodec } from '../../src/codec/layers.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import {
  compressedHeader,
  DEFER_INFLATE_FROM_BYTES,
  inflateFrame,
  inflateFrameHead,
  isCompressedFrame,
} from '../../src/codec/compressed-frame.js';
import { decodeMergeDiff, encodeMirrorUpdate, peekPushPullHeader } from '../../src/actors/push-pull/merge-codec.js';
import { MergeWorkerState } from '../../src/actors/push-pull/merge-worker-core.js';

const plain = new ProtobufCodec();

function pushPull(n: number): { pushPull: { header: { nodes: number; join: boolean }; states: Array<Record<string, unknown>> } } {
  const states = Array.from({ length: n }, (_, i) => ({ name: `node-${i}`, ipv4: 0x7f000001 + i, port: 7946, incarnation: 1 + (i % 7), state: 0 }));
  return { pushPull: { header: { nodes: n, join: false }, states } };
}

describe('large stream frames are compressed off the protocol thread', () => {
  const codec = new LayeredCodec({ enableCompression: true });

  it('gives the same bytes as the synchronous encode, as a promise only for a large frame', async () => {
    const big = codec.encodeStreamMessageDeferred(pushPull(5000));
    expect(big).toBeInstanceOf(Promise);
    expect(Buffer.from(await big).equals(Buffer.from(codec.encodeStreamMessage(pushPull(5000))))).toBe(true);
    const small = codec.encodeStreamMessageDeferred(pushPull(20));
    expect(small).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(small as Uint8Array).equals(Buffer.from(codec.encodeStreamMessage(pushPull(20))))).toBe(true);
    // Without compression (or for a peer that announced no compression layer) nothing is deferred.
    expect(new LayeredCodec({ enableCompression: false }).encodeStreamMessageDeferred(pushPull(5000))).toBeInstanceOf(Uint8Array);
  });

  it('a deferred frame decodes like any other (left compressed, merged by the worker)', async () => {
    const frame = await codec.encodeStreamMessageDeferred(pushPull(4000));
    const r = codec.decodeStreamFrameLazy(frame);
    expect(r.ok && isCompressedFrame(r.value.frame) && peekPushPullHeader(r.value.frame)?.nodes === 4000).toBe(true);
  });
});

describe('large push-pulls stay compressed until they are merged', () => {
  const codec = new LayeredCodec({ enableCompression: true });

  it('leaves a push-pull above the threshold compressed, with its header readable from the first KiB', () => {
    const wireFrame = codec.encodeStreamMessage(pushPull(5000));
    const r = codec.decodeStreamFrameLazy(wireFrame);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.message).toBeUndefined();
    const frame = r.value.frame;
    expect(isCompressedFrame(frame)).toBe(true);
    expect(compressedHeader(frame)?.size).toBeGreaterThanOrEqual(DEFER_INFLATE_FROM_BYTES);
    expect(peekPushPullHeader(frame)?.nodes).toBe(5000);
    // The inflated frame is the plain codec's frame, byte for byte.
    const inflated = inflateFrame(frame, 20 * 1024 * 1024);
    expect(inflated.ok && Buffer.from(inflated.value).equals(Buffer.from(plain.encodeStreamMessage(pushPull(5000))))).toBe(true);
  });

  it('inflates small push-pulls and other large messages at once, as before', () => {
    const small = codec.decodeStreamFrameLazy(codec.encodeStreamMessage(pushPull(20)));
    expect(small.ok && !isCompressedFrame(small.value.frame) && small.value.message === undefined).toBe(true);
    const user = { user: { payload: new Uint8Array(200_000).fill(7) } };
    const big = codec.decodeStreamFrameLazy(codec.encodeStreamMessage(user));
    expect(big.ok).toBe(true);
    if (!big.ok) return;
    expect(big.value.message?.body).toBe('user');
    expect(isCompressedFrame(big.value.frame)).toBe(false);
  });

  it('still refuses a frame that declares more than maxStreamFrameBytes', () => {
    const tight = new LayeredCodec({ enableCompression: true, maxStreamFrameBytes: DEFER_INFLATE_FROM_BYTES + 10 });
    const r = tight.decodeStreamFrameLazy(codec.encodeStreamMessage(pushPull(5000)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe('decompress-limit');
  });

  it('refuses a frame that inflates beyond its declared size, and never throws on a truncated one', () => {
    const r = codec.decodeStreamFrameLazy(codec.encodeStreamMessage(pushPull(5000)));
    if (!r.ok) throw new Error('encode');
    const frame = r.value.frame.slice();
    frame[1] = (frame[1] as number) - 1; // declared size one less (the varint's low byte)
    const lied = inflateFrame(frame, 1 << 30);
    expect(lied.ok).toBe(false);
    if (!lied.ok) expect(['decompress-limit', 'malformed']).toContain(lied.reason);
    expect(inflateFrame(r.value.frame.subarray(0, 100), 1 << 30).ok).toBe(false);
    expect(inflateFrameHead(new Uint8Array([0, 1, 2]))).toBeUndefined();
  });

  it('the merge worker inflates a compressed frame and merges it like the plain one', () => {
    const core = new MergeWorkerState();
    expect(core.applyUpdate(new Uint8Array(encodeMirrorUpdate({ seq: 1, baseSeq: 0, reset: true, entries: [] })))).toBe(true);
    const r = codec.decodeStreamFrameLazy(codec.encodeStreamMessage(pushPull(3000)));
    if (!r.ok) throw new Error('encode');
    const merge = (frame: Uint8Array) =>
      decodeMergeDiff(new Uint8Array(core.merge({ kind: 'merge', frame: frame.slice().buffer as ArrayBuffer, seq: 1, selfName: 'self', maxEntries: 10_000, extras: true }).diff));
    const compressed = merge(r.value.frame);
    const inflated = merge(plain.encodeStreamMessage(pushPull(3000)));
    expect(compressed.error).toBeUndefined();
    expect(compressed.claims.length).toBe(3000);
    expect(compressed.claims).toEqual(inflated.claims);
  });
});
