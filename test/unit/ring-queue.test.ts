import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/random.js';
import { RingQueue } from '../../src/util/ring-queue.js';

describe('RingQueue', () => {
  it('keeps FIFO order across growth and wrap-around (100k interleaved ops vs a reference array)', () => {
    const rnd = new SeededRandom(42);
    const q = new RingQueue<number>(4);
    // Reference FIFO: an array plus a read index (no Array#shift, which would be O(n)).
    const ref: number[] = [];
    let refHead = 0;
    let next = 0;
    let maxSize = 0;
    let shifts = 0;
    // Mismatches are collected rather than asserted per op (100k expect calls would dominate the run).
    const mismatches: string[] = [];
    for (let op = 0; op < 100_000; op++) {
      // Phases bias towards pushing (growth) then towards shifting (drain), so the queue both grows
      // past several capacities and wraps around its buffer many times at each size.
      const phase = Math.floor(op / 10_000) % 2 === 0 ? 0.6 : 0.4;
      if (rnd.next() < phase) {
        q.push(next);
        ref.push(next);
        next++;
      } else {
        const got = q.shift();
        const want = refHead < ref.length ? ref[refHead++] : undefined;
        if (got !== want) mismatches.push(`op ${op}: shift() gave ${String(got)}, expected ${String(want)}`);
        if (got !== undefined) shifts++;
      }
      const refSize = ref.length - refHead;
      if (q.size !== refSize) mismatches.push(`op ${op}: size ${q.size}, expected ${refSize}`);
      const head = refSize > 0 ? ref[refHead] : undefined;
      if (q.peek() !== head) mismatches.push(`op ${op}: peek() gave ${String(q.peek())}, expected ${String(head)}`);
      if (refSize > maxSize) maxSize = refSize;
      if (mismatches.length > 10) break;
    }
    expect(mismatches).toEqual([]);
    // Drain the rest: still exact FIFO order.
    while (refHead < ref.length) expect(q.shift()).toBe(ref[refHead++]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    // The run really exercised growth (well past the initial 4 slots) and many shifts.
    expect(maxSize).toBeGreaterThan(256);
    expect(shifts).toBeGreaterThan(30_000);
  });

  it('wraps around without growing when push and shift alternate at a fixed depth', () => {
    const q = new RingQueue<number>(8);
    for (let i = 0; i < 5; i++) q.push(i);
    let expected = 0;
    for (let i = 5; i < 1000; i++) {
      q.push(i);
      expect(q.shift()).toBe(expected++);
      expect(q.size).toBe(5);
    }
    for (let i = 0; i < 5; i++) expect(q.shift()).toBe(expected++);
    expect(q.size).toBe(0);
  });

  it('grows correctly when full while the head is in the middle of the buffer', () => {
    const q = new RingQueue<string>(4);
    q.push('a');
    q.push('b');
    q.push('c');
    expect(q.shift()).toBe('a');
    expect(q.shift()).toBe('b');
    // head is now at index 2; fill to capacity (wrapping) and then force a grow.
    q.push('d');
    q.push('e');
    q.push('f');
    expect(q.size).toBe(4);
    q.push('g'); // grow with a wrapped layout
    q.push('h');
    expect(q.size).toBe(6);
    const out: (string | undefined)[] = [];
    while (q.size > 0) out.push(q.shift());
    expect(out).toEqual(['c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('peek returns the head without removing it, undefined when empty', () => {
    const q = new RingQueue<{ id: number }>();
    expect(q.peek()).toBeUndefined();
    const a = { id: 1 };
    const b = { id: 2 };
    q.push(a);
    q.push(b);
    expect(q.peek()).toBe(a);
    expect(q.peek()).toBe(a);
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(a);
    expect(q.peek()).toBe(b);
    expect(q.shift()).toBe(b);
    expect(q.peek()).toBeUndefined();
  });

  it('size tracks pushes and shifts, and shift on empty keeps size at 0', () => {
    const q = new RingQueue<number>(2);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.size).toBe(0);
    for (let i = 1; i <= 50; i++) {
      q.push(i);
      expect(q.size).toBe(i);
    }
    for (let i = 49; i >= 0; i--) {
      q.shift();
      expect(q.size).toBe(i);
    }
    expect(q.shift()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('clear empties the queue and it is usable again afterwards (FIFO from scratch)', () => {
    const q = new RingQueue<number>(4);
    for (let i = 0; i < 10; i++) q.push(i);
    q.shift();
    q.shift();
    q.clear();
    expect(q.size).toBe(0);
    expect(q.peek()).toBeUndefined();
    expect(q.shift()).toBeUndefined();
    for (let i = 100; i < 120; i++) q.push(i);
    expect(q.size).toBe(20);
    for (let i = 100; i < 120; i++) expect(q.shift()).toBe(i);
    expect(q.size).toBe(0);
  });

  it('supports falsy items (0, empty string, null) without confusing them with empty', () => {
    const q = new RingQueue<number | string | null>();
    q.push(0);
    q.push('');
    q.push(null);
    expect(q.size).toBe(3);
    expect(q.peek()).toBe(0);
    expect(q.shift()).toBe(0);
    expect(q.shift()).toBe('');
    expect(q.shift()).toBeNull();
    expect(q.size).toBe(0);
  });

  it('rounds a non-power-of-two initial capacity up and still keeps order', () => {
    const q = new RingQueue<number>(5); // -> 8 slots
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 7; i++) q.push(round * 10 + i);
      for (let i = 0; i < 7; i++) expect(q.shift()).toBe(round * 10 + i);
    }
    expect(q.size).toBe(0);
  });

  it('drains a 200k-item backlog completely and in order', () => {
    const q = new RingQueue<number>();
    const n = 200_000;
    for (let i = 0; i < n; i++) q.push(i);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += q.shift() as number;
    expect(sum).toBe((n * (n - 1)) / 2);
    expect(q.size).toBe(0);
  });
});
