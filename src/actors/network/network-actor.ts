import { actors } from '../../gen/index.js';
import type { TimerHandle } from '../../clock.js';
import { kindOf, kindOfPart, type PartSizes, type StreamFraming, type StreamReader, type WireCodec, type StreamPeer, type WireMessage, type WireMessageInput } from '../../codec/wire-codec.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { CidrFilter } from '../../security/cidr.js';
import { endpointKey, type Conn, type Endpoint, type Transport } from '../../transport/transport.js';
import { lengthPrefixedFraming } from './length-prefixed-framing.js';
import { NetworkCounters } from './network-counters.js';

export interface NetworkActorOptions {
  /**
   * Our node name. A TCP ping naming another node is refused without an ack (memberlist handleConn),
   * so a reused address never acks for a member that is gone. Default: the supervisor's node name.
   */
  name?: string;
  /**
   * Compress large stream frames (full push-pull states) on libuv's thread pool: their bytes arrive
   * later, as a promise. Default false, which keeps every encode synchronous (simulations on a
   * virtual clock need that); nodes on real sockets turn it on.
   */
  compressOffThread?: boolean;
  /** Largest stream frame read, checked before allocating (config maxStreamFrameBytes). Default 20 MiB. */
  maxStreamFrameBytes?: number;
  /**
   * Inbound streams in flight at once; more are refused (closed at once and counted). memberlist's
   * maxPushPullRequests: 128. Default 128.
   */
  maxConcurrentStreams?: number;
  /**
   * How long an inbound stream may take from accept to our reply (memberlist sets one deadline of
   * TCPTimeout on the whole server side), and the deadline of an outbound request without its own
   * timeout. Default 10 s (config tcpTimeoutMs on LAN).
   */
  streamTimeoutMs?: number;
  /**
   * Source networks allowed to send us packets and open streams (config cidrsAllowed); traffic from
   * elsewhere is dropped ('cidr-denied', 'stream-cidr-denied'). Empty or absent allows everyone.
   */
  cidrsAllowed?: readonly string[];
  /**
   * At most one warning per peer and reason within this interval for traffic refused by the security
   * layers (label mismatch, decryption failure); every drop is still counted. Default 60 s.
   */
  securityLogIntervalMs?: number;
}

/** Drop reasons of the security layers that deserve a warning naming the peer (rate-limited). */
const LOGGED_REASONS: ReadonlySet<string> = new Set(['label-mismatch', 'decrypt-failed']);
/** Peers remembered by the warning rate limiter; the oldest is forgotten beyond this. */
const SECURITY_LOG_PEERS = 1024;

const DEFAULT_MAX_STREAM_FRAME_BYTES = 20 * 1024 * 1024;
const DEFAULT_MAX_CONCURRENT_STREAMS = 128;
const DEFAULT_STREAM_TIMEOUT_MS = 10_000;

/** Stream traffic, kept apart from the datagram counters so packet rates stay meaningful. */
export interface StreamCounters {
  /** Outbound streams dialled and connected. */
  opened: number;
  /** Inbound streams accepted (refused ones are not counted here). */
  accepted: number;
  /** Inbound streams refused because maxConcurrentStreams were in flight. */
  refused: number;
  /** Outbound requests that ended with an error (dial, timeout, peer error, bad frame). */
  failed: number;
  /** Inbound streams that timed out before a reply. */
  timedOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** A stream we dialled: one request out, at most one response in. */
interface OutboundStream {
  readonly key: number;
  readonly requestId: number;
  readonly requester: string;
  readonly expectReply: boolean;
  readonly to: Endpoint;
  readonly timeoutMs: number;
  readonly timer: TimerHandle;
  conn: Conn | undefined;
  reader: StreamReader | undefined;
  /** Bytes of the reply read so far (counted against its kind once it is complete). */
  bytesRead: number;
  /** The StreamResult has been emitted; the conn only lingers until it closes (or the deadline). */
  done: boolean;
}

/** A stream a peer dialled: one request in, at most one reply out. */
interface InboundStream {
  readonly id: number;
  readonly conn: Conn;
  readonly from: actors.Endpoint;
  readonly reader: StreamReader;
  readonly timer: TimerHandle;
  /** Bytes of the request read so far (counted against its kind once it is complete). */
  bytesRead: number;
  phase: 'reading' | 'awaiting-reply' | 'done';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The only actor that touches the network: it owns the Transport (UDP socket and TCP listener) and
 * the wire codec. Outbound, it encodes SendPacket into one datagram. Inbound, it decodes each
 * datagram and publishes one actor message per protocol message; bad input is dropped, counted by
 * reason and logged, and never reaches another actor.
 *
 * Streams carry exactly one framed message each way (memberlist §2.6). Outbound, a StreamRequest
 * dials, writes its frame, reads one response frame when one is expected and reports StreamResult.
 * Inbound, the request frame is read and decoded here: a ping is acked at once (memberlist
 * handleConn), a user message is published as UserPacketReceived, and a push/pull is published as
 * StreamRequestReceived; the conn is held until the handler's StreamReply (or the deadline).
 *
 * Conn callbacks run outside `receive`, like the packet handler: they only touch this actor's own
 * stream tables and publish messages. Deadlines are clock timers (ctx.clock), released at stop().
 */
export class NetworkActor implements Actor {
  readonly name = 'network';
  // Member changes only tell the codec which peers announced an older protocol (compression, CRC).
  readonly accepts = [actors.SendPacket, actors.StreamRequest, actors.StreamReply, actors.MemberChanged, actors.MemberRemoved];
  readonly counters = new NetworkCounters();
  readonly streamCounters: StreamCounters = { opened: 0, accepted: 0, refused: 0, failed: 0, timedOut: 0, bytesIn: 0, bytesOut: 0 };
  /** Scratch list the codec fills with message sizes, reused for every packet (one actor, one thread). */
  readonly #sizes: PartSizes = [];
  readonly #maxFrameBytes: number;
  readonly #maxConcurrent: number;
  readonly #streamTimeoutMs: number;
  readonly #cidrs: CidrFilter;
  readonly #securityLogIntervalMs: number;
  /** How stream messages are delimited: the codec's own, or length-prefixed frames. */
  readonly #framing: StreamFraming;
  readonly #compressOffThread: boolean;
  /** "reason peer" → when we last warned about it. */
  readonly #securityLogged = new Map<string, number>();
  #ctx!: ActorContext;
  #selfName = '';
  #running = false;
  #nextOutKey = 1;
  #nextInId = 1;
  #outbound = new Map<number, OutboundStream>();
  #inbound = new Map<number, InboundStream>();

  constructor(
    private readonly transport: Transport,
    private readonly codec: WireCodec,
    private readonly options: NetworkActorOptions = {},
  ) {
    this.#maxFrameBytes = options.maxStreamFrameBytes ?? DEFAULT_MAX_STREAM_FRAME_BYTES;
    this.#maxConcurrent = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    this.#streamTimeoutMs = options.streamTimeoutMs ?? DEFAULT_STREAM_TIMEOUT_MS;
    this.#cidrs = CidrFilter.compile(options.cidrsAllowed ?? []);
    this.#securityLogIntervalMs = options.securityLogIntervalMs ?? 60_000;
    this.#framing = codec.streamFraming ?? lengthPrefixedFraming(codec, this.#maxFrameBytes);
    this.#compressOffThread = options.compressOffThread ?? false;
  }

  /** Inbound streams open right now (reading, waiting for a reply, or closing). */
  get inboundStreams(): number {
    return this.#inbound.size;
  }

  /** Outbound streams open or dialling right now. */
  get outboundStreams(): number {
    return this.#outbound.size;
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#selfName = this.options.name ?? ctx.nodeName;
    this.#running = true;
    this.#outbound = new Map();
    this.#inbound = new Map();
    this.transport.setHandlers({
      packet: (buf, from, at) => this.#onPacket(buf, from, at),
      stream: (conn) => this.#onStream(conn),
    });
  }

  receive(message: object): void {
    if (message instanceof actors.SendPacket) this.#send(message);
    else if (message instanceof actors.StreamRequest) this.#openStream(message);
    else if (message instanceof actors.StreamReply) this.#reply(message);
    else if (message instanceof actors.MemberChanged) this.#memberChanged(message);
    else if (message instanceof actors.MemberRemoved) this.codec.notePeer?.(message.name, undefined, 0);
  }

  #memberChanged(m: actors.MemberChanged): void {
    const member = m.member;
    if (this.codec.notePeer === undefined || m.local || member === null || member === undefined) return;
    const addr = member.addr;
    const peer = addr !== null && addr !== undefined && addr.host && addr.port ? { host: addr.host, port: addr.port } : undefined;
    this.codec.notePeer(member.name ?? '', peer, member.protocolMax ?? 0);
  }

  /** Destroys every stream and cancels every deadline. Transport shutdown stays with its owner. */
  stop(): void {
    this.#running = false;
    for (const s of this.#outbound.values()) {
      s.timer.cancel();
      s.conn?.destroy();
    }
    for (const s of this.#inbound.values()) {
      s.timer.cancel();
      s.conn.destroy();
    }
    this.#outbound.clear();
    this.#inbound.clear();
  }

  // ───── datagrams ─────

  #send(m: actors.SendPacket): void {
    const to = m.to;
    if (to === null || to === undefined || !to.host || !to.port) {
      this.counters.dropOut('no-address');
      return;
    }
    const sizes = this.#sizes;
    sizes.length = 0;
    const buf = this.codec.encodePacket(m.messages, m.piggyback, { host: to.host, port: to.port }, sizes);
    let i = 0;
    for (const msg of m.messages) this.counters.countOut(kindOf(msg) ?? 'unknown', sizes[i++] ?? 0);
    for (const part of m.piggyback) {
      this.counters.countOut((this.codec.partKind ? this.codec.partKind(part) : kindOfPart(part)) ?? 'unknown', sizes[i++] ?? 0);
    }
    this.counters.piggybackOut += m.piggyback.length;
    if (this.transport.sendPacket({ host: to.host, port: to.port }, buf)) {
      this.counters.packetsOut++;
      this.counters.bytesOut += buf.length;
    } else {
      this.counters.dropOut('transport');
    }
  }

  #onPacket(buf: Uint8Array, from: Endpoint, receivedAtMs: number): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += buf.length;
    if (!this.#cidrs.allows(from.host)) {
      this.counters.dropIn('cidr-denied');
      this.#ctx.logger.debug({ from }, 'dropped packet from a source outside cidrsAllowed');
      return;
    }
    const sizes = this.#sizes;
    sizes.length = 0;
    const decoded = this.codec.decodePacket(buf, sizes);
    if (!decoded.ok) {
      this.counters.dropIn(decoded.reason);
      this.#ctx.logger.debug({ from, reason: decoded.reason, detail: decoded.detail }, 'dropped bad packet');
      this.#securityWarning(decoded.reason, from, decoded.detail);
      return;
    }
    const fromEndpoint = actors.Endpoint.create({ host: from.host, port: from.port });
    const messages = decoded.value;
    for (let i = 0; i < messages.length; i++) this.#dispatch(messages[i] as WireMessage, fromEndpoint, receivedAtMs, sizes[i] ?? 0);
  }

  #dispatch(msg: WireMessage, from: actors.Endpoint, receivedAtMs: number, bytes: number): void {
    const body = msg.body;
    this.counters.countIn(body ?? 'empty', bytes);
    switch (body) {
      case 'ping':
        this.#ctx.send(actors.PingReceived.create({ ping: msg.ping, from, receivedAtMs }));
        return;
      case 'indirectPing':
        this.#ctx.send(actors.IndirectPingReceived.create({ request: msg.indirectPing, from, receivedAtMs }));
        return;
      case 'ack':
        this.#ctx.send(actors.AckReceived.create({ ack: msg.ack, from, receivedAtMs }));
        return;
      case 'nack':
        this.#ctx.send(actors.NackReceived.create({ nack: msg.nack, from, receivedAtMs }));
        return;
      case 'alive':
        this.#ctx.send(actors.AliveReceived.create({ alive: msg.alive, from }));
        return;
      case 'suspect':
        this.#ctx.send(actors.SuspectReceived.create({ suspect: msg.suspect, from }));
        return;
      case 'dead':
        this.#ctx.send(actors.DeadReceived.create({ dead: msg.dead, from }));
        return;
      case 'user':
        this.#ctx.send(actors.UserPacketReceived.create({ user: msg.user, from }));
        return;
      case 'keyCommand':
        this.#ctx.send(actors.KeyCommandReceived.create({ command: msg.keyCommand, from }));
        return;
      case 'keyAck':
        this.#ctx.send(actors.KeyAckReceived.create({ ack: msg.keyAck, from }));
        return;
      case 'pushPull':
      case 'error':
      case undefined:
        // Stream-only messages (or an empty part) have no business in a datagram: drop and count.
        this.counters.dropIn(`unexpected-${body ?? 'empty'}`);
        return;
      default: {
        const never: never = body;
        this.counters.dropIn(`unknown-${String(never)}`);
      }
    }
  }

  // ───── outbound streams ─────

  #openStream(m: actors.StreamRequest): void {
    const requester = m.requester;
    const to = m.to;
    if (to === null || to === undefined || !to.host || !to.port || m.request === null || m.request === undefined) {
      this.counters.dropOut('stream-invalid-request');
      this.#ctx.send(
        actors.StreamResult.create({ requestId: m.requestId, requester, error: 'invalid stream request: no address or no message' }),
      );
      return;
    }
    let frame: Uint8Array | Promise<Uint8Array>;
    try {
      frame = this.#encode(m.request, { host: to.host, port: to.port }, 'request');
    } catch (err) {
      this.counters.dropOut('stream-encode');
      this.#ctx.send(actors.StreamResult.create({ requestId: m.requestId, requester, error: `cannot encode request: ${errorText(err)}` }));
      return;
    }
    const endpoint: Endpoint = { host: to.host, port: to.port };
    const timeoutMs = m.timeoutMs > 0 ? m.timeoutMs : this.#streamTimeoutMs;
    const key = this.#nextOutKey++;
    const stream: OutboundStream = {
      key,
      requestId: m.requestId,
      requester,
      expectReply: m.expectReply,
      to: endpoint,
      timeoutMs,
      // The whole exchange (dial, write, read) is bounded by one deadline, like memberlist's
      // SetDeadline; after a success the same deadline bounds how long the conn may linger.
      timer: this.#ctx.clock.setTimer(timeoutMs, () => this.#outboundDeadline(key)),
      conn: undefined,
      reader: undefined,
      bytesRead: 0,
      done: false,
    };
    this.#outbound.set(key, stream);
    const kind = kindOf(m.request) ?? 'unknown';
    // A large frame is still being compressed off this thread while we dial; both must finish.
    const ready = frame instanceof Uint8Array ? undefined : frame;
    this.transport.dial(endpoint, timeoutMs).then(
      (conn) => {
        if (ready === undefined) this.#dialed(key, conn, frame as Uint8Array, kind);
        else {
          ready.then(
            (f) => this.#dialed(key, conn, f, kind),
            (err: unknown) => {
              conn.destroy();
              const s = this.#outbound.get(key);
              if (s !== undefined && !s.done) this.#failOutbound(s, 'stream-encode', `cannot encode request: ${errorText(err)}`);
            },
          );
        }
      },
      (err: unknown) => {
        const s = this.#outbound.get(key);
        if (s === undefined || s.done) return;
        this.#failOutbound(s, 'stream-dial', `dial ${endpointKey(endpoint)} failed: ${errorText(err)}`);
      },
    );
  }

  #dialed(key: number, conn: Conn, frame: Uint8Array, kind: string): void {
    const s = this.#outbound.get(key);
    if (s === undefined || s.done || !this.#running) {
      // Timed out (or stopped) while dialling: nobody waits for this conn any more.
      conn.destroy();
      return;
    }
    s.conn = conn;
    this.streamCounters.opened++;
    conn.setHandlers({
      data: (chunk) => this.#outboundData(s, chunk),
      end: () => {
        if (!s.done && s.expectReply) this.#failOutbound(s, 'stream-eof', 'stream ended before a response');
      },
      close: (error) => this.#outboundClosed(s, error),
    });
    if (!conn.write(frame)) {
      this.#failOutbound(s, 'stream-write', `write to ${endpointKey(s.to)} failed: stream closed`);
      return;
    }
    this.counters.countOut(kind, frame.length);
    this.streamCounters.bytesOut += frame.length;
    if (!s.expectReply) {
      // A one-way message (reliable user message): finish our side, report it written, and let the
      // conn close when the peer finishes too.
      conn.end();
      this.#completeOutbound(s, undefined, undefined);
      return;
    }
    s.reader = this.#framing.reader('response');
  }

  #outboundData(s: OutboundStream, chunk: Uint8Array): void {
    if (s.done) return;
    this.streamCounters.bytesIn += chunk.length;
    s.bytesRead += chunk.length;
    if (s.reader === undefined) {
      // Nothing is expected on a one-way stream; it is already done, so this is unreachable in practice.
      return;
    }
    const decoded = s.reader.push(chunk);
    if (decoded === undefined) return;
    if (!decoded.ok) {
      if (decoded.reason === 'too-large') {
        this.#failOutbound(s, 'stream-frame-too-large', `response refused: ${decoded.detail ?? ''}`);
        return;
      }
      this.#securityWarning(decoded.reason, s.to, decoded.detail);
      this.#failOutbound(s, `stream-${decoded.reason}`, `bad response frame: ${decoded.reason}${decoded.detail ? ` (${decoded.detail})` : ''}`);
      return;
    }
    const response = decoded.value.message;
    if (response === undefined) {
      // An undecoded push-pull reply: the frame is the response.
      this.counters.countIn('pushPull', s.bytesRead);
      s.conn?.end();
      this.#completeOutbound(s, undefined, ownedFrame(decoded.value.frame));
      return;
    }
    this.counters.countIn(response.body ?? 'empty', s.bytesRead);
    if (response.body === 'error') {
      this.#failOutbound(s, 'stream-remote-error', `remote error: ${response.error?.error ?? ''}`);
      return;
    }
    s.conn?.end();
    this.#completeOutbound(s, response, ownedFrame(decoded.value.frame));
  }

  #outboundClosed(s: OutboundStream, error: Error | undefined): void {
    if (this.#outbound.get(s.key) === s) {
      s.timer.cancel();
      this.#outbound.delete(s.key);
    }
    if (!s.done) {
      this.#failOutbound(s, 'stream-closed', `stream closed before a response${error ? `: ${error.message}` : ''}`);
    }
  }

  #outboundDeadline(key: number): void {
    const s = this.#outbound.get(key);
    if (s === undefined) return;
    if (s.done) {
      // The exchange finished; the peer never closed its side. Release the conn.
      this.#outbound.delete(key);
      s.conn?.destroy();
      return;
    }
    this.#failOutbound(s, 'stream-timeout', `stream to ${endpointKey(s.to)} timed out after ${s.timeoutMs} ms`);
  }

  #completeOutbound(s: OutboundStream, response: WireMessage | undefined, responseBytes: Uint8Array | undefined): void {
    s.done = true;
    this.#ctx.send(
      actors.StreamResult.create({
        requestId: s.requestId,
        requester: s.requester,
        ...(response !== undefined ? { response } : {}),
        ...(responseBytes !== undefined ? { responseBytes } : {}),
      }),
    );
  }

  #failOutbound(s: OutboundStream, reason: string, error: string): void {
    if (s.done) return;
    s.done = true;
    this.counters.dropOut(reason);
    this.streamCounters.failed++;
    this.#ctx.logger.debug({ to: endpointKey(s.to), requester: s.requester, requestId: s.requestId, error }, 'stream request failed');
    s.timer.cancel();
    this.#outbound.delete(s.key);
    s.conn?.destroy();
    this.#ctx.send(actors.StreamResult.create({ requestId: s.requestId, requester: s.requester, error }));
  }

  // ───── inbound streams ─────

  #onStream(conn: Conn): void {
    if (!this.#running) {
      this.counters.dropIn('stream-stopped');
      conn.destroy();
      return;
    }
    if (this.#inbound.size >= this.#maxConcurrent) {
      // memberlist: "Too many pending push/pull requests" and close.
      this.counters.dropIn('stream-limit');
      this.streamCounters.refused++;
      this.#ctx.logger.debug({ from: endpointKey(conn.remote), inFlight: this.#inbound.size }, 'too many inbound streams, refusing');
      conn.destroy();
      return;
    }
    if (!this.#cidrs.allows(conn.remote.host)) {
      this.counters.dropIn('stream-cidr-denied');
      this.#ctx.logger.debug({ from: endpointKey(conn.remote) }, 'refused stream from a source outside cidrsAllowed');
      conn.destroy();
      return;
    }
    const id = this.#nextInId;
    this.#nextInId = (this.#nextInId + 1) >>> 0 || 1;
    const s: InboundStream = {
      id,
      conn,
      from: actors.Endpoint.create({ host: conn.remote.host, port: conn.remote.port }),
      reader: this.#framing.reader('request'),
      timer: this.#ctx.clock.setTimer(this.#streamTimeoutMs, () => this.#inboundDeadline(id)),
      bytesRead: 0,
      phase: 'reading',
    };
    this.#inbound.set(id, s);
    this.streamCounters.accepted++;
    conn.setHandlers({
      data: (chunk) => this.#inboundData(s, chunk),
      end: () => {
        if (s.phase === 'reading') this.#refuseInbound(s, 'stream-truncated', undefined);
      },
      close: (error) => this.#inboundClosed(s, error),
    });
  }

  #inboundData(s: InboundStream, chunk: Uint8Array): void {
    this.streamCounters.bytesIn += chunk.length;
    // One request per stream: anything after it is ignored.
    if (s.phase !== 'reading') return;
    s.bytesRead += chunk.length;
    const decoded = s.reader.push(chunk);
    if (decoded === undefined) return;
    if (!decoded.ok) {
      if (decoded.reason === 'too-large') {
        this.#refuseInbound(s, 'stream-frame-too-large', decoded.detail ?? 'stream message too large');
        return;
      }
      this.#securityWarning(decoded.reason, s.conn.remote, decoded.detail);
      this.#refuseInbound(s, `stream-${decoded.reason}`, `bad request frame: ${decoded.reason}`);
      return;
    }
    this.#handleRequest(s, decoded.value.message, decoded.value.frame);
  }

  #handleRequest(s: InboundStream, msg: WireMessage | undefined, payload: Uint8Array): void {
    if (msg === undefined) {
      // An undecoded push-pull request (see #decodeStream).
      this.counters.countIn('pushPull', s.bytesRead);
      s.phase = 'awaiting-reply';
      this.#ctx.send(actors.StreamRequestReceived.create({ streamId: s.id, from: s.from, requestBytes: ownedFrame(payload) }));
      return;
    }
    const body = msg.body;
    this.counters.countIn(body ?? 'empty', s.bytesRead);
    switch (body) {
      case 'ping': {
        const ping = msg.ping;
        const target = ping?.node ?? '';
        if (target !== '' && target !== this.#selfName) {
          // memberlist: "Got ping for unexpected node"; close without an ack.
          this.counters.dropIn('stream-ping-wrong-node');
          this.#ctx.logger.debug({ from: endpointKey(s.conn.remote), node: target }, 'tcp ping for another node');
          this.#finishInbound(s, undefined);
          return;
        }
        this.#finishInbound(s, { ack: { seqNo: ping?.seqNo ?? 0 } });
        return;
      }
      case 'user':
        this.#ctx.send(actors.UserPacketReceived.create({ user: msg.user, from: s.from, reliable: true }));
        this.#finishInbound(s, undefined);
        return;
      case 'pushPull':
        s.phase = 'awaiting-reply';
        this.#ctx.send(
          actors.StreamRequestReceived.create({ streamId: s.id, from: s.from, request: msg, requestBytes: ownedFrame(payload) }),
        );
        return;
      case 'indirectPing':
      case 'ack':
      case 'nack':
      case 'suspect':
      case 'alive':
      case 'dead':
      case 'error':
      case 'keyCommand':
      case 'keyAck':
      case undefined:
        // memberlist: "Received invalid msgType".
        this.#refuseInbound(s, `stream-unexpected-${body ?? 'empty'}`, `unexpected stream message ${body ?? 'empty'}`);
        return;
      default: {
        const never: never = body;
        this.#refuseInbound(s, `stream-unknown-${String(never)}`, 'unknown stream message');
      }
    }
  }

  #reply(m: actors.StreamReply): void {
    const s = this.#inbound.get(m.streamId);
    if (s === undefined || s.phase !== 'awaiting-reply') {
      // Timed out or closed by the peer before the handler answered.
      this.counters.dropOut('stream-reply-late');
      return;
    }
    if (m.closeOnly || m.response === null || m.response === undefined) {
      this.#finishInbound(s, undefined);
      return;
    }
    this.#finishInbound(s, m.response);
  }

  /** Writes the reply (if any), finishes our side and lets the conn close when the peer finishes. */
  #finishInbound(s: InboundStream, response: WireMessageInput | undefined): void {
    s.phase = 'done';
    if (response !== undefined) {
      let frame: Uint8Array | Promise<Uint8Array> | undefined;
      try {
        frame = this.#encode(response, { host: s.conn.remote.host }, 'response');
      } catch (err) {
        this.counters.dropOut('stream-encode');
        this.#ctx.logger.debug({ err: errorText(err) }, 'cannot encode stream reply');
      }
      if (frame instanceof Promise) {
        // Compressed off this thread (a large push-pull reply): written when ready. The stream's
        // deadline still applies; a conn closed meanwhile refuses the write (counted below).
        frame.then(
          (f) => this.#writeReply(s, response, f),
          (err: unknown) => {
            this.counters.dropOut('stream-encode');
            this.#ctx.logger.debug({ err: errorText(err) }, 'cannot encode stream reply');
            s.conn.end();
          },
        );
        return;
      }
      if (frame !== undefined) {
        this.#writeReply(s, response, frame);
        return;
      }
    }
    s.conn.end();
  }

  /** Writes a reply and finishes our side. */
  #writeReply(s: InboundStream, response: WireMessageInput, frame: Uint8Array): void {
    if (s.conn.write(frame)) {
      this.counters.countOut(kindOf(response) ?? 'unknown', frame.length);
      this.streamCounters.bytesOut += frame.length;
    } else {
      this.counters.dropOut('stream-write');
    }
    s.conn.end();
  }

  /** One stream message's bytes; a promise when the framing compresses a large one off this thread. */
  #encode(message: WireMessageInput, to: StreamPeer, role: 'request' | 'response'): Uint8Array | Promise<Uint8Array> {
    const framing = this.#framing;
    if (this.#compressOffThread && framing.encodeDeferred !== undefined) return framing.encodeDeferred(message, to);
    return role === 'request' ? framing.encodeRequest(message, to) : framing.encodeResponse(message, to);
  }

  /**
   * Refuses a request: memberlist answers a stream it cannot read with an errResp, which the client
   * reports as "remote error: ...". We do the same, then finish our side.
   */
  #refuseInbound(s: InboundStream, reason: string, error: string | undefined): void {
    this.counters.dropIn(reason);
    this.#ctx.logger.debug({ from: endpointKey(s.conn.remote), reason, error }, 'inbound stream refused');
    this.#finishInbound(s, error === undefined ? undefined : { error: { error } });
  }

  #inboundClosed(s: InboundStream, error: Error | undefined): void {
    s.timer.cancel();
    if (this.#inbound.get(s.id) === s) this.#inbound.delete(s.id);
    if (s.phase !== 'done') {
      this.counters.dropIn('stream-closed');
      this.#ctx.logger.debug({ from: endpointKey(s.conn.remote), err: error?.message }, 'inbound stream closed before it was answered');
      s.phase = 'done';
    }
  }

  /**
   * A clear warning for traffic the security layers refused (another cluster's label, a key we do not
   * hold), at most once per peer and reason per interval so a misconfigured neighbour cannot flood
   * the log. Every drop is counted regardless.
   */
  #securityWarning(reason: string, peer: Endpoint, detail: string | undefined): void {
    if (!LOGGED_REASONS.has(reason)) return;
    const key = `${reason} ${endpointKey(peer)}`;
    const now = this.#ctx.clock.now();
    const last = this.#securityLogged.get(key);
    if (last !== undefined && now - last < this.#securityLogIntervalMs) return;
    this.#securityLogged.delete(key);
    if (this.#securityLogged.size >= SECURITY_LOG_PEERS) {
      const oldest = this.#securityLogged.keys().next().value;
      if (oldest !== undefined) this.#securityLogged.delete(oldest);
    }
    this.#securityLogged.set(key, now);
    const from = endpointKey(peer);
    if (reason === 'label-mismatch') {
      this.#ctx.logger.warn({ from, reason, detail }, `discarding traffic from ${from} with an unacceptable cluster label: ${detail ?? ''}`);
    } else {
      this.#ctx.logger.warn({ from, reason, detail }, `discarding traffic from ${from} that we cannot decrypt: ${detail ?? ''}`);
    }
  }

  #inboundDeadline(id: number): void {
    const s = this.#inbound.get(id);
    if (s === undefined) return;
    this.#inbound.delete(id);
    if (s.phase !== 'done') {
      this.counters.dropIn('stream-timeout');
      this.streamCounters.timedOut++;
      this.#ctx.logger.debug({ from: endpointKey(s.conn.remote), phase: s.phase }, 'inbound stream timed out');
      s.phase = 'done';
    }
    s.conn.destroy();
  }
}

/**
 * The frame payload as a buffer of its own: a frame inside a larger chunk is a view, and a message that
 * keeps it (or transfers it to a worker) must not pin or move the whole chunk.
 */
function ownedFrame(payload: Uint8Array): Uint8Array {
  return payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength ? payload : payload.slice();
}
