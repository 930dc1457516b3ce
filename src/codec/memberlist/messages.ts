/**
 * memberlist's message structs (net.go, reference §2.4) mapped to and from our wire messages
 * (proto/wire.proto). Each body is [type byte][msgpack map]; map keys are the Go field names in
 * ascending byte order, as go-msgpack writes them, with the omitempty fields of ping and indirect ping.
 *
 * What the memberlist wire cannot carry is dropped on the way out: our probe digests, a broadcast's
 * origin/seq/key, the sender name of a direct message, push-pull broadcasts and key-rotation messages
 * (memberlist has none of them). Addresses travel as the raw bytes we hold: 4 bytes in `ipv4`, any
 * other length (16 for IPv6 and for IPv4-mapped addresses a Go node advertises) in `ipv6`, so a
 * relayed address keeps the exact bytes the peer sent (§13.6).
 */
import { wire } from '../../gen/index.js';
import type { WireMessage, WireMessageInput } from '../wire-codec.js';
import { asStruct, boolField, bytesField, intField, stringField, uintField } from './fields.js';
import { MsgpackMalformed, MsgpackWriter, type IntStyle, type MsgpackMap, type MsgpackValue } from './msgpack.js';

/** memberlist messageType values (net.go, "ONLY APPEND"). */
export const MsgType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
  /** label.go: the label header, outermost on packets and at the start of a dialled stream. */
  hasLabel: 244,
} as const;

const U16 = 0xffff;
const U32 = 0xffff_ffff;
const EMPTY = new Uint8Array(0);

// ───── addresses and versions ─────

/** The raw address bytes we hold for (ipv4, ipv6); null when we hold none (written as nil). */
export function addrBytes(ipv4: number | null | undefined, ipv6: Uint8Array | null | undefined): Uint8Array | null {
  if (ipv6 !== null && ipv6 !== undefined && ipv6.length > 0) return ipv6;
  if (ipv4 !== null && ipv4 !== undefined && ipv4 !== 0) {
    const v = ipv4 >>> 0;
    return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  return null;
}

/** Raw address bytes as we hold them: 4 bytes as an integer, anything else verbatim. */
export function splitAddr(b: Uint8Array): { ipv4: number; ipv6: Uint8Array } {
  if (b.length === 4) return { ipv4: (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0, ipv6: EMPTY };
  return { ipv4: 0, ipv6: b.length === 0 ? EMPTY : b.slice() };
}

interface Versions {
  protocolMin?: number | null;
  protocolMax?: number | null;
  protocolCur?: number | null;
  delegateMin?: number | null;
  delegateMax?: number | null;
  delegateCur?: number | null;
}

/** Always the full 6-byte Vsn: verifyProtocol rejects a push-pull with any shorter one (§13.7). */
function vsnBytes(v: Versions): Uint8Array {
  return Uint8Array.of(
    (v.protocolMin ?? 0) & 0xff,
    (v.protocolMax ?? 0) & 0xff,
    (v.protocolCur ?? 0) & 0xff,
    (v.delegateMin ?? 0) & 0xff,
    (v.delegateMax ?? 0) & 0xff,
    (v.delegateCur ?? 0) & 0xff,
  );
}

/** A short Vsn leaves the missing versions at 0, as HEAD's verifyProtocol treats it. */
function versionsOf(vsn: Uint8Array): Required<{ [K in keyof Versions]: number }> {
  return {
    protocolMin: vsn[0] ?? 0,
    protocolMax: vsn[1] ?? 0,
    protocolCur: vsn[2] ?? 0,
    delegateMin: vsn[3] ?? 0,
    delegateMax: vsn[4] ?? 0,
    delegateCur: vsn[5] ?? 0,
  };
}

function nonEmpty(b: Uint8Array | null | undefined): Uint8Array | null {
  return b !== null && b !== undefined && b.length > 0 ? b : null;
}

// ───── encoding ─────

export interface EncodeOptions {
  intStyle: IntStyle;
}

/**
 * One message as a packet part: [type][body]. Undefined for what the memberlist wire cannot carry
 * (push-pull, which only travels on streams, and our key-rotation messages).
 */
export function encodePacketMessage(m: WireMessageInput, o: EncodeOptions): Uint8Array | undefined {
  const w = new MsgpackWriter(96);
  if (m.ping) {
    const p = m.ping;
    const src = addrBytes(p.sourceIpv4, p.sourceIpv6);
    const node = p.sourceNode ?? '';
    const port = p.sourcePort ?? 0;
    w.byte(MsgType.ping).map(2 + (src ? 1 : 0) + (node ? 1 : 0) + (port ? 1 : 0));
    w.str('Node').str(p.node ?? '');
    w.str('SeqNo').uint(p.seqNo ?? 0);
    if (src) w.str('SourceAddr').raw(src);
    if (node) w.str('SourceNode').str(node);
    if (port) w.str('SourcePort').uint(port);
  } else if (m.indirectPing) {
    const p = m.indirectPing;
    const src = addrBytes(p.sourceIpv4, p.sourceIpv6);
    const node = p.sourceNode ?? '';
    const port = p.sourcePort ?? 0;
    w.byte(MsgType.indirectPing).map(5 + (src ? 1 : 0) + (node ? 1 : 0) + (port ? 1 : 0));
    w.str('Nack').bool(p.nack ?? false);
    w.str('Node').str(p.node ?? '');
    w.str('Port').uint(p.targetPort ?? 0);
    w.str('SeqNo').uint(p.seqNo ?? 0);
    if (src) w.str('SourceAddr').raw(src);
    if (node) w.str('SourceNode').str(node);
    if (port) w.str('SourcePort').uint(port);
    w.str('Target').raw(addrBytes(p.targetIpv4, p.targetIpv6));
  } else if (m.ack) {
    w.byte(MsgType.ackResp).map(2);
    w.str('Payload').raw(nonEmpty(m.ack.payload));
    w.str('SeqNo').uint(m.ack.seqNo ?? 0);
  } else if (m.nack) {
    w.byte(MsgType.nackResp).map(1).str('SeqNo').uint(m.nack.seqNo ?? 0);
  } else if (m.suspect || m.dead) {
    const s = (m.suspect ?? m.dead) as { incarnation?: number | null; node?: string | null; from?: string | null };
    w.byte(m.suspect ? MsgType.suspect : MsgType.dead).map(3);
    w.str('From').str(s.from ?? '');
    w.str('Incarnation').uint(s.incarnation ?? 0);
    w.str('Node').str(s.node ?? '');
  } else if (m.alive) {
    const a = m.alive;
    w.byte(MsgType.alive).map(6);
    w.str('Addr').raw(addrBytes(a.ipv4, a.ipv6));
    w.str('Incarnation').uint(a.incarnation ?? 0);
    w.str('Meta').raw(nonEmpty(a.meta));
    w.str('Node').str(a.node ?? '');
    w.str('Port').uint(a.port ?? 0);
    w.str('Vsn').raw(vsnBytes(a));
  } else if (m.user) {
    // On a packet a user message is its raw bytes after the type (memberlist handleUser).
    w.byte(MsgType.user).bytes(m.user.payload ?? EMPTY);
  } else if (m.error) {
    w.byte(MsgType.err).map(1).str('Error').str(m.error.error ?? '');
  } else {
    return undefined;
  }
  return w.finish();
}

/**
 * One message as the body of a stream (before compression and encryption): a push-pull is the
 * header, every node state and the raw user state; a user message is its header and raw bytes;
 * anything else is as on a packet. Undefined for what the memberlist wire cannot carry.
 */
export function encodeStreamBody(m: WireMessageInput, o: EncodeOptions): Uint8Array | undefined {
  if (m.pushPull) {
    const pp = m.pushPull;
    const states = pp.states ?? [];
    const userState = pp.userState ?? EMPTY;
    const w = new MsgpackWriter(64 + states.length * 96 + userState.length);
    w.byte(MsgType.pushPull).map(3);
    w.str('Join').bool(pp.header?.join ?? false);
    w.str('Nodes').int(states.length, o.intStyle);
    w.str('UserStateLen').int(userState.length, o.intStyle);
    for (const s of states) {
      w.map(7);
      w.str('Addr').raw(addrBytes(s.ipv4, s.ipv6));
      w.str('Incarnation').uint(s.incarnation ?? 0);
      w.str('Meta').raw(nonEmpty(s.meta));
      w.str('Name').str(s.name ?? '');
      w.str('Port').uint(s.port ?? 0);
      w.str('State').int(s.state ?? 0, o.intStyle);
      w.str('Vsn').raw(vsnBytes(s));
    }
    w.bytes(userState);
    return w.finish();
  }
  if (m.user) {
    const payload = m.user.payload ?? EMPTY;
    const w = new MsgpackWriter(32 + payload.length);
    w.byte(MsgType.user).map(1).str('UserMsgLen').int(payload.length, o.intStyle);
    w.bytes(payload);
    return w.finish();
  }
  return encodePacketMessage(m, o);
}

// ───── decoding ─────

/** Decodes the struct body of a packet message of `type` (not compound, compress or user). */
export function decodeStruct(type: number, v: MsgpackValue): WireMessage {
  switch (type) {
    case MsgType.ping: {
      const m = asStruct(v, 'ping');
      const src = splitAddr(bytesField(m, 'SourceAddr'));
      return wire.Message.create({
        ping: wire.Ping.create({
          seqNo: uintField(m, 'SeqNo', U32),
          node: stringField(m, 'Node'),
          sourceIpv4: src.ipv4,
          sourceIpv6: src.ipv6,
          sourcePort: uintField(m, 'SourcePort', U16),
          sourceNode: stringField(m, 'SourceNode'),
        }),
      });
    }
    case MsgType.indirectPing: {
      const m = asStruct(v, 'indirect ping');
      const src = splitAddr(bytesField(m, 'SourceAddr'));
      const target = splitAddr(bytesField(m, 'Target'));
      return wire.Message.create({
        indirectPing: wire.IndirectPing.create({
          seqNo: uintField(m, 'SeqNo', U32),
          targetIpv4: target.ipv4,
          targetIpv6: target.ipv6,
          targetPort: uintField(m, 'Port', U16),
          node: stringField(m, 'Node'),
          nack: boolField(m, 'Nack'),
          sourceIpv4: src.ipv4,
          sourceIpv6: src.ipv6,
          sourcePort: uintField(m, 'SourcePort', U16),
          sourceNode: stringField(m, 'SourceNode'),
        }),
      });
    }
    case MsgType.ackResp: {
      const m = asStruct(v, 'ack');
      return wire.Message.create({ ack: wire.Ack.create({ seqNo: uintField(m, 'SeqNo', U32), payload: bytesField(m, 'Payload') }) });
    }
    case MsgType.nackResp: {
      const m = asStruct(v, 'nack');
      return wire.Message.create({ nack: wire.Nack.create({ seqNo: uintField(m, 'SeqNo', U32) }) });
    }
    case MsgType.suspect:
    case MsgType.dead: {
      const m = asStruct(v, type === MsgType.suspect ? 'suspect' : 'dead');
      const body = { incarnation: uintField(m, 'Incarnation', U32), node: stringField(m, 'Node'), from: stringField(m, 'From') };
      return type === MsgType.suspect
        ? wire.Message.create({ suspect: wire.Suspect.create(body) })
        : wire.Message.create({ dead: wire.Dead.create(body) });
    }
    case MsgType.alive: {
      const m = asStruct(v, 'alive');
      const addr = splitAddr(bytesField(m, 'Addr'));
      return wire.Message.create({
        alive: wire.Alive.create({
          incarnation: uintField(m, 'Incarnation', U32),
          node: stringField(m, 'Node'),
          ipv4: addr.ipv4,
          ipv6: addr.ipv6,
          port: uintField(m, 'Port', U16),
          meta: bytesField(m, 'Meta').slice(),
          ...versionsOf(bytesField(m, 'Vsn')),
        }),
      });
    }
    case MsgType.err: {
      const m = asStruct(v, 'error');
      return wire.Message.create({ error: wire.ErrorResponse.create({ error: stringField(m, 'Error') }) });
    }
    default:
      throw new MsgpackMalformed(`msg type (${type}) not supported`);
  }
}

/** The push-pull header: counts come first so the reader checks them before reading entries. */
export interface PushPullHeader {
  join: boolean;
  nodes: number;
  userStateLen: number;
}

export function decodePushPullHeader(v: MsgpackValue): PushPullHeader {
  const m = asStruct(v, 'push-pull header');
  const nodes = intField(m, 'Nodes');
  const userStateLen = intField(m, 'UserStateLen');
  if (nodes < 0 || userStateLen < 0) throw new MsgpackMalformed('negative push-pull count');
  return { join: boolField(m, 'Join'), nodes, userStateLen };
}

export function decodePushNodeState(v: MsgpackValue): wire.PushNodeState {
  const m: MsgpackMap = asStruct(v, 'push node state');
  const addr = splitAddr(bytesField(m, 'Addr'));
  const state = intField(m, 'State');
  if (state < 0 || state > 3) throw new MsgpackMalformed(`push node state ${state} unknown`);
  return wire.PushNodeState.create({
    name: stringField(m, 'Name'),
    ipv4: addr.ipv4,
    ipv6: addr.ipv6,
    port: uintField(m, 'Port', U16),
    meta: bytesField(m, 'Meta').slice(),
    incarnation: uintField(m, 'Incarnation', U32),
    state,
    ...versionsOf(bytesField(m, 'Vsn')),
  });
}

export function pushPullMessage(header: PushPullHeader, states: wire.PushNodeState[], userState: Uint8Array): WireMessage {
  return wire.Message.create({
    pushPull: wire.PushPull.create({
      header: wire.PushPullHeader.create({ nodes: header.nodes, userStateLen: header.userStateLen, join: header.join }),
      states,
      userState,
    }),
  });
}

/** The stream user message header (userMsgHeader). */
export function decodeUserMsgLen(v: MsgpackValue): number {
  const len = intField(asStruct(v, 'user message header'), 'UserMsgLen');
  if (len < 0) throw new MsgpackMalformed('negative user message length');
  return len;
}

export function userMessage(payload: Uint8Array): WireMessage {
  return wire.Message.create({ user: wire.UserMessage.create({ payload }) });
}

/** The compress struct: Algo (only LZW, 0) and the compressed bytes. */
export function decodeCompress(v: MsgpackValue): { algo: number; buf: Uint8Array } {
  const m = asStruct(v, 'compress');
  return { algo: uintField(m, 'Algo', 0xff), buf: bytesField(m, 'Buf') };
}

export function encodeCompress(compressed: Uint8Array): Uint8Array {
  const w = new MsgpackWriter(compressed.length + 24);
  w.byte(MsgType.compress).map(2).str('Algo').uint(0).str('Buf').raw(compressed);
  return w.finish();
}
