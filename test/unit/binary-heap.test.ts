import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../src/util/binary-heap.js';

const numLess = (a: number, b: number): boolean => a < b;

function drain<T>(h: BinaryHeap<T>): T[] {
  const out: T[] = [];
  while (h.size > 0) out.push(h.pop() as T);
  return out;
}

describe('BinaryHeap', () => {
  it('pops in ascending comparator order for random inputs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 300 }), (xs) => {
        const h = new BinaryHeap<number>(numLess);
        for (const x of xs) h.push(x);
        expect(h.size).toBe(xs.length);
        expect(drain(h)).toEqual([...xs].sort((a, b) => a - b));
        expect(h.pop()).toBeUndefined();
      }),
      { seed: 1234, numRuns: 300 },
    );
  });

  it('honours the comparator (max-heap with a reversed comparator, doubles included)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }).map((x) => (x === 0 ? 0 : x)), { maxLength: 200 }), (xs) => {
        const h = new BinaryHeap<number>((a, b) => a > b);
        for (const x of xs) h.push(x);
        expect(drain(h)).toEqual([...xs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
      }),
      { seed: 99, numRuns: 200 },
    );
  });

  it('keeps order under interleaved push and pop (model-based against a sorted array)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), value: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const h = new BinaryHeap<number>(numLess);
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            h.push(o.value);
            model.push(o.value);
            model.sort((a, b) => a - b);
          } else {
            expect(h.pop()).toBe(model.shift());
          }
          expect(h.size).toBe(model.length);
          expect(h.peek()).toBe(model[0]);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('is stable for equal keys when the comparator breaks ties by insertion sequence', () => {
    interface Item {
      key: number;
      seq: number;
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 300 }), (keys) => {
        const h = new BinaryHeap<Item>((a, b) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq));
        keys.forEach((key, seq) => h.push({ key, seq }));
        const out = drain(h);
        const expected = keys.map((key, seq) => ({ key, seq })).sort((a, b) => a.key - b.key || a.seq - b.seq);
        expect(out).toEqual(expected);
      }),
      { seed: 5, numRuns: 200 },
    );
  });

  it('peek returns the minimum without removing it; undefined when empty', () => {
    const h = new BinaryHeap<number>(numLess);
    expect(h.peek()).toBeUndefined();
    expect(h.pop()).toBeUndefined();
    h.push(5);
    expect(h.peek()).toBe(5);
    h.push(3);
    h.push(8);
    h.push(1);
    expect(h.peek()).toBe(1);
    expect(h.size).toBe(4);
    expect(h.pop()).toBe(1);
    expect(h.peek()).toBe(3);
    expect(h.size).toBe(3);
  });

  it('size counts items and clear empties the heap, which stays usable', () => {
    const h = new BinaryHeap<number>(numLess);
    for (let i = 10; i > 0; i--) h.push(i);
    expect(h.size).toBe(10);
    h.clear();
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
    expect(h.pop()).toBeUndefined();
    h.push(2);
    h.push(1);
    expect(h.size).toBe(2);
    expect(drain(h)).toEqual([1, 2]);
  });

  it('handles a single item and popping down to empty', () => {
    const h = new BinaryHeap<string>((a, b) => a < b);
    h.push('only');
    expect(h.pop()).toBe('only');
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
  });

  it('handles a large random input (10k) in order', () => {
    const h = new BinaryHeap<number>(numLess);
    const xs: number[] = [];
    let s = 12345;
    for (let i = 0; i < 10_000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      xs.push(s % 1000);
      h.push(s % 1000);
    }
    expect(drain(h)).toEqual(xs.sort((a, b) => a - b));
  });
});
