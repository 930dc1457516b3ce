import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { TransportError } from '../../src/errors.js';
import { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from '../../src/transport/framing.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function concat(chunks: ReadonlyArray<Uint8Array>): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function frameTooLarge(fn: () => unknown): TransportError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ERR_FRAME_TOO_LARGE');
    return err as TransportError;
  }
  throw new Error('expected ERR_FRAME_TOO_LARGE');
}

describe('encodeFrame', () => {
  it('prefixes the payload with its length as a big-endian u32', () => {
    const frame = encodeFrame(enc('abc'));
    expect([...frame]).toEqual([0, 0, 0, 3, 97, 98, 99]);
    const big = encodeFrame(new Uint8Array(0x010203));
    expect([...big.subarray(0, FRAME_HEADER_BYTES)]).toEqual([0, 1, 2, 3]);
  });

  it('encodes an empty payload as a bare header', () => {
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
  });

  it('copies the payload', () => {
    const payload = enc('xyz');
    const frame = encodeFrame(payload);
    payload.fill(0);
    expect(dec(frame.subarray(FRAME_HEADER_BYTES))).toBe('xyz');
  });

  it('handles a payload that is a view into a larger buffer', () => {
    const backing = enc('..payload..');
    expect(dec(encodeFrame(backing.subarray(2, 9)).subarray(FRAME_HEADER_BYTES))).toBe('payload');
  });
});

describe('FrameDecoder', () => {
  it('returns a frame pushed in one chunk', () => {
    const d = new FrameDecoder(1024);
    expect(d.push(encodeFrame(enc('hello'))).map(dec)).toEqual(['hello']);
    expect(d.pendingBytes).toBe(0);
  });

  it('returns several frames from one chunk, in order, including empty ones', () => {
    const d = new FrameDecoder(1024);
    const wire = concat(['one', '', 'three'].map((s) => encodeFrame(enc(s))));
    expect(d.push(wire).map(dec)).toEqual(['one', '', 'three']);
  });

  it('reassembles a frame pushed one byte at a time and tracks pending bytes', () => {
    const d = new FrameDecoder(1024);
    const wire = encodeFrame(enc('split'));
    const out: string[] = [];
    for (let i = 0; i < wire.length; i++) {
      const frames = d.push(wire.subarray(i, i + 1));
      out.push(...frames.map(dec));
      if (i < wire.length - 1) {
        expect(frames).toEqual([]);
        expect(d.pendingBytes).toBe(i + 1);
      }
    }
    expect(out).toEqual(['split']);
    expect(d.pendingBytes).toBe(0);
  });

  it('keeps the tail of a chunk for the next frame', () => {
    const d = new FrameDecoder(1024);
    const wire = concat([encodeFrame(enc('first')), encodeFrame(enc('second'))]);
    const cut = FRAME_HEADER_BYTES + 5 + 2; // first frame and two bytes of the second header
    expect(d.push(wire.subarray(0, cut)).map(dec)).toEqual(['first']);
    expect(d.pendingBytes).toBe(2);
    expect(d.push(wire.subarray(cut)).map(dec)).toEqual(['second']);
  });

  it('ignores empty chunks', () => {
    const d = new FrameDecoder(16);
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.pendingBytes).toBe(0);
  });

  it('accepts a frame of exactly the limit', () => {
    const d = new FrameDecoder(8);
    expect(d.push(encodeFrame(new Uint8Array(8))).map((f) => f.length)).toEqual([8]);
  });

  it('rejects an oversized length from the header alone, before any payload arrives', () => {
    const d = new FrameDecoder(1024 * 1024);
    // A 4 GiB declaration: the decoder must refuse it without waiting for (or allocating) the payload.
    frameTooLarge(() => d.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])));
  });

  it('rejects a frame one byte over the limit, also after frames that were fine', () => {
    const d = new FrameDecoder(8);
    const wire = concat([encodeFrame(new Uint8Array(8)), encodeFrame(new Uint8Array(9))]);
    frameTooLarge(() => d.push(wire));
  });

  it('stays failed after rejecting a frame, since the stream is out of sync', () => {
    const d = new FrameDecoder(4);
    frameTooLarge(() => d.push(encodeFrame(new Uint8Array(5))));
    frameTooLarge(() => d.push(encodeFrame(new Uint8Array(1))));
  });

  it('rejects an invalid limit', () => {
    expect(() => new FrameDecoder(-1)).toThrow(TransportError);
    expect(() => new FrameDecoder(1.5)).toThrow(TransportError);
  });

  it('decodes a large frame from many tiny chunks in linear time', () => {
    // 2 MiB in 8-byte chunks is 262k pushes: re-concatenating the buffer on each push would copy
    // hundreds of gigabytes and time out, a chunk queue copies each byte once.
    const payload = new Uint8Array(2 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const wire = encodeFrame(payload);
    const d = new FrameDecoder(payload.length);
    const frames: Uint8Array[] = [];
    const started = performance.now();
    for (let at = 0; at < wire.length; at += 8) frames.push(...d.push(wire.subarray(at, at + 8)));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(frames.length).toBe(1);
    expect(Buffer.compare(frames[0] as Uint8Array, payload)).toBe(0);
  });

  it('decodes any frames split at any points (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (payloads, cuts) => {
          const wire = concat(payloads.map(encodeFrame));
          const d = new FrameDecoder(300);
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const n = cuts[i % cuts.length] as number;
            out.push(...d.push(wire.subarray(at, at + n)).map((f) => f.slice()));
            at += n;
          }
          expect(out.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
          expect(d.pendingBytes).toBe(0);
        },
      ),
    );
  });
});
