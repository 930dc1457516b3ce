import { describe, expect, it } from 'vitest';
import { BoundedPool, EMPTY_BYTES, internBytes, internString, internVersions } from '../../src/util/intern.js';
import { ProbeList } from '../../src/actors/probe/probe-list.js';
import { SeededRandom } from '../../src/random.js';

describe('interning', () => {
  it('returns one object for equal strings, bytes and version tuples', () => {
    const a = internString(['n', '0001'].join(''));
    const b = internString(`n${'0001'}`);
    expect(a).toBe(b);
    const m1 = internBytes(new Uint8Array([1, 2, 3]));
    const m2 = internBytes(new Uint8Array([9, 1, 2, 3]).subarray(1));
    expect(m1).toBe(m2);
    expect([...m1]).toEqual([1, 2, 3]);
    expect(internVersions([1, 5, 2, 2, 5, 4])).toBe(internVersions([1, 5, 2, 2, 5, 4]));
  });

  it('copies bytes out of the caller buffer and shares one empty array', () => {
    const datagram = new Uint8Array([7, 7, 42, 43]);
    const meta = internBytes(datagram.subarray(2));
    expect(meta.buffer).not.toBe(datagram.buffer);
    expect(meta.byteLength).toBe(meta.buffer.byteLength);
    expect(internBytes(new Uint8Array(0))).toBe(EMPTY_BYTES);
    expect(internBytes(undefined)).toBe(EMPTY_BYTES);
  });

  it('does not intern large byte strings (copies them)', () => {
    const big = new Uint8Array(600).fill(1);
    const x = internBytes(big);
    expect(x).not.toBe(big);
    expect(internBytes(big)).not.toBe(x);
  });

  it('a bounded pool starts over when full instead of growing', () => {
    const pool = new BoundedPool<string, number>(3);
    for (let i = 0; i < 10; i++) pool.set(`k${i}`, i);
    expect(pool.size).toBeLessThanOrEqual(3);
    expect(pool.clears).toBe(3);
    expect(pool.get('k9')).toBe(9);
  });
});

describe('ProbeList (one map of slots)', () => {
  it('visits every present member once per pass, drops removed ones at the wrap, keeps a re-added slot', () => {
    const list = new ProbeList(new SeededRandom(3));
    for (let i = 0; i < 50; i++) list.add(`m${i}`);
    list.remove('m7');
    list.remove('m8');
    list.add('m8'); // re-added before the wrap: keeps its slot, not a second one
    expect(list.size).toBe(49);
    expect(list.has('m7')).toBe(false);
    const seen: string[] = [];
    for (let i = 0; i < 49; i++) seen.push(list.next(() => true) as string);
    expect(new Set(seen).size).toBe(49);
    expect(seen).not.toContain('m7');
    // Next pass: the same 49 again, each once.
    const second = new Set<string>();
    for (let i = 0; i < 49; i++) second.add(list.next(() => true) as string);
    expect(second.size).toBe(49);
    expect(list.passes).toBe(1);
  });

  it('returns undefined when nothing is eligible, after at most one pass', () => {
    const list = new ProbeList(new SeededRandom(1));
    for (let i = 0; i < 5; i++) list.add(`m${i}`);
    let calls = 0;
    expect(
      list.next(() => {
        calls++;
        return false;
      }),
    ).toBeUndefined();
    expect(calls).toBeLessThanOrEqual(6);
  });
});
