/**
 * The plaintext body of a memberlist stream, parsed incrementally (reference §2.6, §2.7, §13.3).
 * A memberlist stream has no length prefix: a push-pull is [6], a msgpack header, `Nodes` msgpack node
 * states and then `UserStateLen` raw bytes, with nothing to say where it ends but those counts. So the
 * parser resumes where it stopped each time more bytes arrive: a state already read is never read
 * again, and a large push-pull arriving in many chunks costs time linear in its size.
 */
import type { wire } from '../../gen/index.js';
import type { WireMessage } from '../wire-codec.js';
import {
  decodePushNodeState,
  decodePushPullHeader,
  decodeStruct,
  decodeUserMsgLen,
  MsgType,
  pushPullMessage,
  userMessage,
  type PushPullHeader,
} from './messages.js';
import { MsgpackIncomplete, MsgpackMalformed, MsgpackReader } from './msgpack.js';

/** A limit a peer's counts exceed: the reader reports it with its own drop reason. */
export class StreamLimitExceeded extends Error {
  constructor(
    readonly reason: 'too-many-entries' | 'too-large',
    detail: string,
  ) {
    super(detail);
  }
}

export interface StreamBodyLimits {
  /** Most node states a push-pull may announce (HEAD: 1 Mi; config maxPushPullEntries). */
  maxEntries: number;
  /** Most bytes of user state or of a user message (HEAD: 20 MiB each). */
  maxPayloadBytes: number;
}

/**
 * One stream message body starting at its type byte. `step` is called with everything received so
 * far; it returns the message and where it ended, or undefined while more bytes are needed (throwing
 * MsgpackMalformed or StreamLimitExceeded for bad input).
 */
export class StreamBodyParser {
  #pos: number;
  #needAtLeast = 0;
  #header: PushPullHeader | undefined;
  #states: wire.PushNodeState[] = [];
  #userLen = -1;

  constructor(
    readonly start: number,
    private readonly limits: StreamBodyLimits,
  ) {
    this.#pos = start + 1;
  }

  step(buf: Uint8Array, end: number): { message: WireMessage; end: number } | undefined {
    if (end < this.#needAtLeast || end <= this.start) return undefined;
    const type = buf[this.start] as number;
    try {
      switch (type) {
        case MsgType.pushPull:
          return this.#pushPull(buf, end);
        case MsgType.user:
          return this.#user(buf, end);
        case MsgType.ping:
        case MsgType.indirectPing:
        case MsgType.ackResp:
        case MsgType.suspect:
        case MsgType.alive:
        case MsgType.dead:
        case MsgType.nackResp:
        case MsgType.err: {
          const r = new MsgpackReader(buf, this.#pos, end);
          const v = r.value();
          return { message: decodeStruct(type, v), end: r.pos };
        }
        default:
          throw new MsgpackMalformed(`Received invalid msgType (${type})`);
      }
    } catch (err) {
      if (err instanceof MsgpackIncomplete) {
        this.#needAtLeast = err.needAtLeast;
        return undefined;
      }
      throw err;
    }
  }

  #pushPull(buf: Uint8Array, end: number): { message: WireMessage; end: number } | undefined {
    if (this.#header === undefined) {
      const r = new MsgpackReader(buf, this.#pos, end);
      const header = decodePushPullHeader(r.value());
      // Checked before a single state is read (memberlist HEAD #357: counts must not pre-allocate).
      if (header.nodes > this.limits.maxEntries) {
        throw new StreamLimitExceeded('too-many-entries', `push-pull announces ${header.nodes} nodes, limit ${this.limits.maxEntries}`);
      }
      if (header.userStateLen > this.limits.maxPayloadBytes) {
        throw new StreamLimitExceeded('too-large', `user state of ${header.userStateLen} bytes, limit ${this.limits.maxPayloadBytes}`);
      }
      this.#header = header;
      this.#pos = r.pos;
    }
    const header = this.#header;
    while (this.#states.length < header.nodes) {
      const r = new MsgpackReader(buf, this.#pos, end);
      this.#states.push(decodePushNodeState(r.value()));
      this.#pos = r.pos;
    }
    if (end < this.#pos + header.userStateLen) {
      this.#needAtLeast = this.#pos + header.userStateLen;
      return undefined;
    }
    const userState = buf.slice(this.#pos, this.#pos + header.userStateLen);
    return { message: pushPullMessage(header, this.#states, userState), end: this.#pos + header.userStateLen };
  }

  #user(buf: Uint8Array, end: number): { message: WireMessage; end: number } | undefined {
    if (this.#userLen < 0) {
      const r = new MsgpackReader(buf, this.#pos, end);
      const len = decodeUserMsgLen(r.value());
      if (len > this.limits.maxPayloadBytes) {
        throw new StreamLimitExceeded('too-large', `user message of ${len} bytes, limit ${this.limits.maxPayloadBytes}`);
      }
      this.#userLen = len;
      this.#pos = r.pos;
    }
    if (end < this.#pos + this.#userLen) {
      this.#needAtLeast = this.#pos + this.#userLen;
      return undefined;
    }
    return { message: userMessage(buf.slice(this.#pos, this.#pos + this.#userLen)), end: this.#pos + this.#userLen };
  }
}
