import { describe, expect, it } from 'vitest';
import { MemberlistError, UnknownMessageTypeError } from '../../src/errors.js';
import { actors, builtinRegistry, memberlist, wire, worker } from '../../src/gen/index.js';
import { classOf, MessageRegistry, typeNameOf, type MessageClass } from '../../src/runtime/message-type.js';

describe('builtinRegistry', () => {
  it('knows the built-in wire, actor and worker message types by their full names', () => {
    const r = builtinRegistry();
    const cases: [string, MessageClass][] = [
      ['memberlist.wire.Ping', wire.Ping],
      ['memberlist.wire.Compound', wire.Compound],
      ['memberlist.wire.Message', wire.Message],
      ['memberlist.actors.PingReceived', actors.PingReceived],
      ['memberlist.actors.ProbeTick', actors.ProbeTick],
      ['memberlist.actors.MemberChanged', actors.MemberChanged],
      ['memberlist.actors.Member', actors.Member],
      ['memberlist.worker.Envelope', worker.Envelope],
      ['memberlist.worker.Batch', worker.Batch],
      ['memberlist.worker.ThreadControl', worker.ThreadControl],
    ];
    for (const [name, cls] of cases) {
      expect(r.has(name)).toBe(true);
      expect(r.get(name)).toBe(cls);
    }
  });

  it('registers every generated class and nothing else (enums are not message types)', () => {
    const r = builtinRegistry();
    const names = r.names();
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).toMatch(/^memberlist\.(wire|actors|worker)\.[A-Z]\w*$/);
      expect(typeNameOf(r.get(n))).toBe(n);
    }
    expect(r.has('memberlist.wire.MemberState')).toBe(false);
    expect(r.has('memberlist.wire.FrameKind')).toBe(false);
    // Every class of the three generated packages is present.
    let classes = 0;
    for (const pkg of [memberlist.wire, memberlist.actors, memberlist.worker]) {
      for (const v of Object.values(pkg)) {
        if (typeof v === 'function' && typeof (v as Partial<MessageClass>).getTypeUrl === 'function') {
          classes++;
          expect(r.has(typeNameOf(v as MessageClass))).toBe(true);
        }
      }
    }
    expect(names).toHaveLength(classes);
    expect(classes).toBeGreaterThan(20);
  });

  it('returns a fresh registry each time (registering into one does not affect another)', () => {
    const a = builtinRegistry();
    const b = builtinRegistry();
    class Custom {
      static getTypeUrl(prefix = 'type.googleapis.com'): string {
        return `${prefix}/acme.Custom`;
      }
      static encode(): never {
        throw new Error('unused');
      }
      static decode(): never {
        throw new Error('unused');
      }
    }
    a.register(Custom as unknown as MessageClass);
    expect(a.has('acme.Custom')).toBe(true);
    expect(b.has('acme.Custom')).toBe(false);
  });
});

describe('MessageRegistry', () => {
  it('get() of an unknown name throws UnknownMessageTypeError with code ERR_UNKNOWN_MESSAGE_TYPE', () => {
    const r = builtinRegistry();
    let caught: unknown;
    try {
      r.get('memberlist.wire.NoSuchThing');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnknownMessageTypeError);
    expect(caught).toBeInstanceOf(MemberlistError);
    expect((caught as UnknownMessageTypeError).code).toBe('ERR_UNKNOWN_MESSAGE_TYPE');
    expect((caught as Error).message).toContain('memberlist.wire.NoSuchThing');
    expect((caught as Error).name).toBe('UnknownMessageTypeError');
    expect(() => r.get('')).toThrow(UnknownMessageTypeError);
    // Names are exact: no short names, no type-URL prefixes, case-sensitive.
    expect(r.has('Ping')).toBe(false);
    expect(r.has('wire.Ping')).toBe(false);
    expect(r.has('/memberlist.wire.Ping')).toBe(false);
    expect(r.has('type.googleapis.com/memberlist.wire.Ping')).toBe(false);
    expect(r.has('memberlist.wire.ping')).toBe(false);
  });

  it('register() adds user classes (chainable), has/get/names see them', () => {
    const r = new MessageRegistry();
    expect(r.names()).toEqual([]);
    expect(r.register(wire.Ping, actors.ProbeTick)).toBe(r);
    expect(r.names().sort()).toEqual(['memberlist.actors.ProbeTick', 'memberlist.wire.Ping']);
    expect(r.get('memberlist.wire.Ping')).toBe(wire.Ping);
    expect(r.has('memberlist.wire.Ack')).toBe(false);
    // Registering again is harmless.
    r.register(wire.Ping);
    expect(r.names()).toHaveLength(2);
  });

  it('registerNamespace() walks nested namespaces', () => {
    const r = new MessageRegistry().registerNamespace({ outer: { inner: { Ping: wire.Ping } }, n: 3, s: 'x', z: null });
    expect(r.names()).toEqual(['memberlist.wire.Ping']);
  });
});

describe('typeNameOf / classOf', () => {
  it('typeNameOf gives the fully qualified protobuf name without a type-URL prefix', () => {
    expect(typeNameOf(wire.Ping)).toBe('memberlist.wire.Ping');
    expect(typeNameOf(actors.PingReceived)).toBe('memberlist.actors.PingReceived');
    expect(typeNameOf(worker.Envelope)).toBe('memberlist.worker.Envelope');
    expect(typeNameOf(actors.MemberChanged)).toBe('memberlist.actors.MemberChanged');
  });

  it('typeNameOf also handles a class whose URL has no leading slash', () => {
    const cls = { getTypeUrl: () => 'acme.Thing' } as unknown as MessageClass;
    expect(typeNameOf(cls)).toBe('acme.Thing');
  });

  it('classOf returns the generated class of an instance (create, new and decode)', () => {
    expect(classOf(wire.Ping.create({ seqNo: 1 }))).toBe(wire.Ping);
    expect(classOf(new actors.ProbeTick({ round: 1 }))).toBe(actors.ProbeTick);
    const decoded = actors.ProbeTick.decode(actors.ProbeTick.encode({ round: 9 }).finish());
    expect(classOf(decoded)).toBe(actors.ProbeTick);
  });

  it('classOf returns undefined for plain objects and other non-generated objects', () => {
    expect(classOf({})).toBeUndefined();
    expect(classOf({ seqNo: 1, node: 'x' })).toBeUndefined();
    expect(classOf(Object.create(null) as object)).toBeUndefined();
    expect(classOf([])).toBeUndefined();
    expect(classOf(new Map())).toBeUndefined();
    expect(classOf(new Uint8Array(2))).toBeUndefined();
    expect(classOf({ constructor: 'memberlist.wire.Ping' })).toBeUndefined();
    // The plain-object form of a message is not a message.
    expect(classOf(wire.Ping.toObject(wire.Ping.create({ seqNo: 1 })))).toBeUndefined();
  });
});
