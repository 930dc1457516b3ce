import { actors } from '../../gen/index.js';
import { kindOf, type WireCodec, type WireMessage } from '../../codec/wire-codec.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import type { Conn, Endpoint, Transport } from '../../transport/transport.js';
import { NetworkCounters } from './network-counters.js';

/**
 * The only actor that touches the network: it owns the Transport (UDP socket and TCP listener) and
 * the wire codec. Outbound, it encodes SendPacket into one datagram. Inbound, it decodes each
 * datagram and publishes one actor message per protocol message; bad input is dropped, counted by
 * reason and logged, and never reaches another actor.
 */
export class NetworkActor implements Actor {
  readonly name = 'network';
  readonly accepts = [actors.SendPacket];
  readonly counters = new NetworkCounters();
  #ctx!: ActorContext;

  constructor(
    private readonly transport: Transport,
    private readonly codec: WireCodec,
  ) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.transport.setHandlers({
      packet: (buf, from, at) => this.#onPacket(buf, from, at),
      stream: (conn) => this.#onStream(conn),
    });
  }

  receive(message: object): void {
    if (message instanceof actors.SendPacket) this.#send(message);
  }

  #send(m: actors.SendPacket): void {
    const to = m.to;
    if (to === null || to === undefined || !to.host || !to.port) {
      this.counters.dropOut('no-address');
      return;
    }
    const buf = this.codec.encodePacket(m.messages, m.piggyback);
    for (const msg of m.messages) this.counters.countOut(kindOf(msg) ?? 'unknown');
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
    const decoded = this.codec.decodePacket(buf);
    if (!decoded.ok) {
      this.counters.dropIn(decoded.reason);
      this.#ctx.logger.debug({ from, reason: decoded.reason, detail: decoded.detail }, 'dropped bad packet');
      return;
    }
    const fromEndpoint = actors.Endpoint.create({ host: from.host, port: from.port });
    for (const msg of decoded.value) this.#dispatch(msg, fromEndpoint, receivedAtMs);
  }

  #dispatch(msg: WireMessage, from: actors.Endpoint, receivedAtMs: number): void {
    const body = msg.body;
    this.counters.countIn(body ?? 'empty');
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
      case 'dead':
      case 'user':
      case 'pushPull':
      case 'error':
      case undefined:
        // Not valid in a datagram at this protocol stage (or an empty part): drop and count.
        this.counters.dropIn(`unexpected-${body ?? 'empty'}`);
        return;
      default: {
        const never: never = body;
        this.counters.dropIn(`unknown-${String(never)}`);
      }
    }
  }

  #onStream(conn: Conn): void {
    // Stream requests (push-pull, fallback ping, reliable user messages) arrive with the SWIM core;
    // until a handler is registered, refuse the stream rather than let it hang open.
    this.counters.dropIn('stream-unhandled');
    conn.destroy();
  }
}
