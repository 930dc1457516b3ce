import { describe, expect, it } from 'vitest';
import { cryptoSeededRandom, SeededRandom, type Random } from '../../src/random.js';

function draws(r: Random, n: number): number[] {
  return Array.from({ length: n }, () => r.uint32());
}

describe('SeededRandom', () => {
  it('the same seed gives the same sequence (uint32, next, int, shuffle)', () => {
    const a = new SeededRandom(12345);
    const b = new SeededRandom(12345);
    expect(draws(a, 1000)).toEqual(draws(b, 1000));
    expect(Array.from({ length: 100 }, () => a.next())).toEqual(Array.from({ length: 100 }, () => b.next()));
    expect(Array.from({ length: 100 }, () => a.int(37))).toEqual(Array.from({ length: 100 }, () => b.int(37)));
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(a.shuffle([...items])).toEqual(b.shuffle([...items]));
  });

  it('the default seed is fixed (two default generators agree)', () => {
    expect(draws(new SeededRandom(), 100)).toEqual(draws(new SeededRandom(), 100));
  });

  it('different seeds give different sequences (including adjacent seeds and 0)', () => {
    const seeds = [0, 1, 2, 3, 42, 0xffffffff, 0x9e3779b9, 123456789];
    const firsts = seeds.map((s) => draws(new SeededRandom(s), 8).join(','));
    expect(new Set(firsts).size).toBe(seeds.length);
    // Not merely different in one position: adjacent seeds disagree almost everywhere.
    const x = draws(new SeededRandom(1), 1000);
    const y = draws(new SeededRandom(2), 1000);
    const same = x.filter((v, i) => v === y[i]).length;
    expect(same).toBeLessThan(5);
  });

  it('uint32 stays in [0, 2^32) and next in [0, 1)', () => {
    const r = new SeededRandom(7);
    for (let i = 0; i < 100_000; i++) {
      const u = r.uint32();
      if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) expect.fail(`uint32 out of range: ${u}`);
      const f = r.next();
      if (!(f >= 0 && f < 1)) expect.fail(`next out of range: ${f}`);
    }
  });

  it('int(n) is an integer in [0, n) for many n, and int(1) is always 0', () => {
    const r = new SeededRandom(99);
    for (const n of [1, 2, 3, 7, 10, 100, 1000, 2 ** 31, 2 ** 32]) {
      for (let i = 0; i < 5000; i++) {
        const v = r.int(n);
        if (!(Number.isInteger(v) && v >= 0 && v < n)) expect.fail(`int(${n}) gave ${v}`);
      }
    }
    for (let i = 0; i < 100; i++) expect(r.int(1)).toBe(0);
  });

  it('int(n) is roughly uniform: chi-square over 100k draws (fixed seed)', () => {
    const r = new SeededRandom(2024);
    const n = 10;
    const draws = 100_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) counts[r.int(n)]++;
    const expected = draws / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: p = 0.001 at 27.9. With a fixed seed this is deterministic.
    expect(chi2).toBeLessThan(27.9);
    for (const c of counts) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.05);
  });

  it('int(n) is roughly uniform for a non-power-of-two n with many buckets', () => {
    const r = new SeededRandom(31337);
    const n = 37;
    const total = 111_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < total; i++) counts[r.int(n)]++;
    const expected = total / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 36 degrees of freedom: p = 0.001 at 67.98.
    expect(chi2).toBeLessThan(68);
  });

  it('next() has a roughly uniform distribution over ten bins', () => {
    const r = new SeededRandom(5);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[Math.floor(r.next() * 10)]++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('shuffle returns the same array, permuted in place (a permutation of the input)', () => {
    const r = new SeededRandom(3);
    for (const len of [0, 1, 2, 3, 10, 1000]) {
      const items = Array.from({ length: len }, (_, i) => `x${i}`);
      const copy = [...items];
      const out = r.shuffle(items);
      expect(out).toBe(items);
      expect([...out].sort()).toEqual([...copy].sort());
      expect(out).toHaveLength(len);
    }
    // A long shuffle actually moves things.
    const big = Array.from({ length: 1000 }, (_, i) => i);
    r.shuffle(big);
    const fixedPoints = big.filter((v, i) => v === i).length;
    expect(fixedPoints).toBeLessThan(20);
  });

  it('shuffle gives every permutation of 3 items roughly equally often (Fisher–Yates, not biased)', () => {
    const r = new SeededRandom(11);
    const counts = new Map<string, number>();
    const rounds = 60_000;
    for (let i = 0; i < rounds; i++) {
      const key = r.shuffle(['a', 'b', 'c']).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const expected = rounds / 6;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 5 degrees of freedom: p = 0.001 at 20.5. A naive "swap with any index" shuffle scores in the hundreds.
    expect(chi2).toBeLessThan(20.5);
  });

  it('fork is deterministic: the same parent state forks the same child', () => {
    const a = new SeededRandom(77);
    const b = new SeededRandom(77);
    expect(draws(a.fork(), 100)).toEqual(draws(b.fork(), 100));
  });

  it('fork gives an independent stream: differs from the parent and from sibling forks', () => {
    const parent = new SeededRandom(77);
    const f1 = parent.fork();
    const f2 = parent.fork();
    const p = draws(parent, 1000);
    const s1 = draws(f1, 1000);
    const s2 = draws(f2, 1000);
    const overlap = (x: number[], y: number[]): number => x.filter((v, i) => v === y[i]).length;
    expect(overlap(s1, s2)).toBeLessThan(5);
    expect(overlap(s1, p)).toBeLessThan(5);
    expect(overlap(s2, p)).toBeLessThan(5);
    // Not a shifted copy of the parent either.
    const pSet = new Set(p);
    expect(s1.filter((v) => pSet.has(v)).length).toBeLessThan(5);
  });

  it('drawing from a fork does not disturb the parent (and vice versa)', () => {
    const a = new SeededRandom(500);
    const b = new SeededRandom(500);
    const fa = a.fork();
    const fb = b.fork();
    draws(fa, 10_000); // only a's child is used
    expect(draws(a, 100)).toEqual(draws(b, 100));
    // The children still agree with each other at the same position, whatever the parents did.
    draws(fb, 10_000);
    expect(draws(fa, 100)).toEqual(draws(fb, 100));
  });
});

describe('cryptoSeededRandom', () => {
  it('returns a working generator; two of them are (practically) never the same stream', () => {
    const a = cryptoSeededRandom();
    const b = cryptoSeededRandom();
    const x = draws(a, 16);
    const y = draws(b, 16);
    for (const v of x) expect(v >= 0 && v < 2 ** 32).toBe(true);
    expect(x).not.toEqual(y);
  });
});
