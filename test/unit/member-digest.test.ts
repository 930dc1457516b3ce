import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemberDigest, fnv1a } from '../../src/actors/probe/member-digest.js';

describe('MemberDigest', () => {
  it('is independent of the order members were added and removed in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 40 }), fc.integer(), (names, seed) => {
        const a = new MemberDigest();
        const b = new MemberDigest();
        for (const n of names) a.set(n, true);
        const shuffled = [...names].sort((x, y) => (fnv1a(x + seed) - fnv1a(y + seed)));
        for (const n of shuffled) b.set(n, true);
        // b also adds and removes an outsider on the way: no trace must remain.
        b.set('\u0000outsider', true);
        b.set('\u0000outsider', false);
        expect(a.value).toBe(b.value);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('differs when one member is missing, and set() is idempotent', () => {
    const full = new MemberDigest();
    const missing = new MemberDigest();
    for (let i = 0; i < 250; i++) {
      full.set(`node-${i}`, true);
      if (i !== 137) missing.set(`node-${i}`, true);
    }
    expect(missing.value).not.toBe(full.value);
    missing.set('node-137', true);
    missing.set('node-137', true);
    expect(missing.value).toBe(full.value);
    expect(missing.size).toBe(250);
  });

  it('is never 0, which on the wire means "not sent"', () => {
    expect(new MemberDigest().value).toBe(1);
  });
});
