import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isPushPullFrame, ProtobufCodec } from '../../src/codec/protobuf-codec.js';

describe('isPushPullFrame', () => {
  const codec = new ProtobufCodec();
  it('recognises a push-pull frame from its first bytes, whatever its size', () => {
    for (const n of [0, 1, 200, 5000]) {
      const states = Array.from({ length: n }, (_, i) => ({ name: `node-${i}`, ipv4: 0x7f000001, port: 7946, incarnation: 1 }));
      const frame = codec.encodeStreamMessage({ pushPull: { header: { nodes: n, join: true }, states } });
      expect(isPushPullFrame(frame)).toBe(true);
    }
  });

  it('says no for other messages, and never throws on garbage', () => {
    expect(isPushPullFrame(codec.encodeStreamMessage({ ping: { seqNo: 1, node: 'a' } }))).toBe(false);
    expect(isPushPullFrame(codec.encodeStreamMessage({ error: { error: 'no' } }))).toBe(false);
    expect(isPushPullFrame(new Uint8Array([1, 0x0a]))).toBe(false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => typeof isPushPullFrame(b) === 'boolean'), { seed: 3, numRuns: 2000 });
  });
});
