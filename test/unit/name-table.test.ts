import { describe, expect, it } from 'vitest';
import { wire } from '../../src/gen/index.js';
import { ProbeList } from '../../src/actors/probe/probe-list.js';
import { shareMember, sharedMemberOf } from '../../src/actors/membership/shared-member.js';
import { MemberTable } from '../../src/actors/membership/member-table.js';
import { encodePartShared } from '../../src/codec/shared-parts.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { SeededRandom } from '../../src/random.js';
import { memberIds, NameBytes, NameMap, NameNumbers, valueIds } from '../../src/util/name-table.js';

/** Names no other test in this file uses, so registry counts are this test's own. */
let unique = 0;
const fresh = (): string => `nt-${process.pid}-${unique++}`;

describe('dense name tables (util/name-table.ts)', () => {
  it('NameMap behaves as a Map for get, has, set, delete, size and iteration', () => {
    const m = new NameMap<number>();
    const [a, b, c] = [fresh(), fresh(), fresh()];
    m.set(a, 1).set(b, 0).set(c, 3);
    expect(m.size).toBe(3);
    expect(m.get(b)).toBe(0); // 0 is a value, not an empty slot
    expect(m.has(c)).toBe(true);
    expect(m.get(fresh())).toBeUndefined();
    m.set(a, 10);
    expect(m.size).toBe(3);
    expect(m.delete(b)).toBe(true);
    expect(m.delete(b)).toBe(false);
    expect(m.size).toBe(2);
    expect(new Map(m)).toEqual(new Map([[a, 10], [c, 3]]));
    expect([...m.keys()].sort()).toEqual([a, c].sort());
    expect([...m.values()].sort((x, y) => x - y)).toEqual([3, 10]);
    const seen: string[] = [];
    m.forEach((_v, k) => seen.push(k));
    expect(seen.sort()).toEqual([a, c].sort());
  });

  it('ids are shared by every table, counted per holder and recycled when the last one lets go', () => {
    const name = fresh();
    const m = new NameMap<string>();
    const f = new NameBytes();
    const n = new NameNumbers();
    m.set(name, 'x');
    const id = memberIds.idOf(name);
    expect(id).toBeDefined();
    f.set(name, 1);
    n.set(name, 12.5);
    expect(memberIds.idOf(name)).toBe(id);
    m.delete(name);
    f.set(name, 0);
    expect(memberIds.idOf(name)).toBe(id); // NameNumbers still holds it
    n.delete(name);
    expect(memberIds.idOf(name)).toBeUndefined();
    // The freed id goes to the next new name.
    const next = fresh();
    m.set(next, 'y');
    expect(memberIds.idOf(next)).toBe(id);
    m.clear();
    expect(memberIds.idOf(next)).toBeUndefined();
  });

  it('clear() releases every id a table holds; a cleared empty table releases nothing twice', () => {
    const names = [fresh(), fresh(), fresh()];
    const before = memberIds.size;
    const m = new NameMap<number>();
    names.forEach((x, i) => m.set(x, i));
    expect(memberIds.size).toBe(before + 3);
    m.clear();
    m.clear();
    expect(memberIds.size).toBe(before);
    expect(m.size).toBe(0);
  });

  it('NameMap values are held by id: one id per value across tables, forgotten when no slot holds it', () => {
    const before = valueIds.size;
    const a = new NameMap<{ v: number }>();
    const b = new NameMap<{ v: number }>();
    const [x, y] = [fresh(), fresh()];
    const v1 = Object.freeze({ v: 1 });
    const v2 = Object.freeze({ v: 2 });
    a.set(x, v1).set(y, v1);
    b.set(x, v1);
    expect(valueIds.size).toBe(before + 1); // three slots, one value
    expect(a.get(y)).toBe(v1);
    a.set(x, v2); // overwrite: v1 still held by a[y] and b[x]
    expect(valueIds.size).toBe(before + 2);
    expect([a.get(x), a.get(y), b.get(x)]).toEqual([v2, v1, v1]);
    a.set(x, v2); // the same value again changes nothing
    expect(a.size).toBe(2);
    a.delete(y);
    b.clear();
    expect(valueIds.size).toBe(before + 1); // v1 forgotten
    a.clear();
    expect(valueIds.size).toBe(before);
    expect(a.get(x)).toBeUndefined();
    expect(() => a.set(x, undefined as unknown as { v: number })).toThrow(RangeError);
  });

  it('NameBytes treats 0 as absent; NameNumbers stores any number but NaN', () => {
    const f = new NameBytes();
    const x = fresh();
    expect(f.get(x)).toBe(0);
    f.set(x, 2);
    expect([f.get(x), f.size]).toEqual([2, 1]);
    f.set(x, 0);
    expect([f.get(x), f.size]).toEqual([0, 0]);
    const n = new NameNumbers();
    n.set(x, 0);
    n.set(x, -1.5);
    expect([n.get(x), n.size]).toEqual([-1.5, 1]);
    expect(() => n.set(x, Number.NaN)).toThrow(RangeError);
    n.clear();
    expect(n.get(x)).toBeUndefined();
  });
});

describe('shared member versions', () => {
  const base = { host: '10.0.0.1', port: 7946, meta: new Uint8Array(0), incarnation: 1, state: wire.MemberState.ALIVE, vsn: [1, 5, 5, 2, 5, 4] as const };

  it('equal versions are one frozen object; any difference makes another', () => {
    const name = fresh();
    const a = shareMember({ name, ...base });
    const b = shareMember({ name, ...base, meta: new Uint8Array(0), vsn: [1, 5, 5, 2, 5, 4] });
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    const c = shareMember({ name, ...base, incarnation: 2 });
    expect(c).not.toBe(a);
    expect(c.incarnation).toBe(2);
    // From a published message with the same fields: the same object again.
    const fromMessage = sharedMemberOf({
      name,
      addr: { host: base.host, port: base.port },
      meta: new Uint8Array(0),
      incarnation: 2,
      state: wire.MemberState.ALIVE,
      protocolMin: 1,
      protocolMax: 5,
      protocolCur: 5,
      delegateMin: 2,
      delegateMax: 5,
      delegateCur: 4,
    });
    expect(fromMessage).toBe(c);
  });

  it('MemberTable keeps the node-local state-change time beside the shared version', () => {
    const t = new MemberTable();
    const name = fresh();
    t.set({ name, ...base, stateChangeMs: 5 });
    t.set({ name: fresh(), ...base, stateChangeMs: 6 });
    expect(t.get(name)).toEqual({ name, ...base, vsn: [1, 5, 5, 2, 5, 4], stateChangeMs: 5 });
    expect(t.size).toBe(2);
    t.delete(name);
    expect(t.get(name)).toBeUndefined();
    expect([...t.values()].map((r) => r.stateChangeMs)).toEqual([6]);
    t.clear();
  });

  it('parts of frozen messages are encoded once per codec kind; others every time', () => {
    const codec = new ProtobufCodec();
    const frozen = Object.freeze({ alive: Object.freeze({ node: 'x', incarnation: 3, port: 1, ipv4: 1 }) });
    const p1 = encodePartShared(codec, frozen);
    expect(encodePartShared(new ProtobufCodec(), frozen)).toBe(p1);
    expect([...p1]).toEqual([...codec.encodePart(frozen)]);
    expect(p1.byteLength).toBe(p1.buffer.byteLength); // its own buffer, not a pool slab
    const open = { alive: { node: 'x', incarnation: 3, port: 1, ipv4: 1 } };
    expect(encodePartShared(codec, open)).not.toBe(encodePartShared(codec, open));
  });
});

describe('ProbeList.sample', () => {
  it('draws k distinct eligible members, never the excluded one, and falls back to a scan', () => {
    const random = new SeededRandom(3);
    const list = new ProbeList(random);
    const names = Array.from({ length: 40 }, () => fresh());
    for (const n of names) list.add(n);
    list.remove(names[0] as string);
    const eligible = new Set(names.slice(0, 20));
    for (let i = 0; i < 50; i++) {
      const s = list.sample(3, names[1], (n) => eligible.has(n), 18, random);
      expect(s).toHaveLength(3);
      expect(new Set(s).size).toBe(3);
      for (const n of s) {
        expect(eligible.has(n)).toBe(true);
        expect(n).not.toBe(names[1]);
        expect(n).not.toBe(names[0]); // removed
      }
    }
    // Few eligible: all of them, via the scan.
    expect(list.sample(3, undefined, (n) => n === names[5] || n === names[6], 2, random).sort()).toEqual(
      [names[5], names[6]].sort(),
    );
    expect(list.sample(3, undefined, () => false, 0, random)).toEqual([]);
    list.clear();
  });
});
