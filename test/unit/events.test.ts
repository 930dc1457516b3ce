import { describe, expect, it } from 'vitest';
import { NodeEvents } from '../../src/events.js';
import type { Member } from '../../src/member.js';

const member = (name: string): Member => ({ name, addr: '127.0.0.1', port: 1, meta: new Uint8Array(), state: 'alive', incarnation: 1 });

describe('NodeEvents', () => {
  it('the iterator is bounded and reports how many events it dropped instead of growing', async () => {
    const ev = new NodeEvents(() => {});
    const it = ev.iterate(3);
    for (let i = 0; i < 10; i++) ev.emit('join', { member: member(`n${i}`) });
    const first = await it.next();
    expect(first.value).toEqual({ type: 'overflow', dropped: 7 });
    const rest = [await it.next(), await it.next(), await it.next()].map((r) => (r.value?.type === 'join' ? r.value.member.name : r.value?.type));
    expect(rest).toEqual(['n0', 'n1', 'n2']);
    ev.close();
    expect((await it.next()).done).toBe(true);
  });

  it('delivers in emit order to listeners and iterators; a throwing listener is reported and does not stop others', () => {
    const errors: unknown[] = [];
    const ev = new NodeEvents((e) => errors.push(e));
    const seen: string[] = [];
    ev.on('join', () => {
      throw new Error('bad listener');
    });
    ev.on('join', ({ member: m }) => seen.push(m.name));
    ev.emit('join', { member: member('a') });
    ev.emit('join', { member: member('b') });
    expect(seen).toEqual(['a', 'b']);
    expect(errors).toHaveLength(2);
  });

  it('a waiting iterator is woken by the next event, and return() ends it', async () => {
    const ev = new NodeEvents(() => {});
    const it = ev.iterate();
    const p = it.next();
    ev.emit('leave', { member: member('x'), reason: 'failed' });
    expect((await p).value).toMatchObject({ type: 'leave', reason: 'failed' });
    await it.return?.();
    ev.emit('leave', { member: member('y'), reason: 'left' });
    expect((await it.next()).done).toBe(true);
  });
});
