/**
 * The production Transport: UDP (node:dgram) for packets and TCP (node:net) for streams, both on the
 * same port, like memberlist's NetTransport. Faults caused by the network or by peers never throw:
 * packets that cannot be sent or handled are counted as drops and logged.
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';

import { RealClock, type Clock } from '../clock.js';
import { InvalidArgumentError, TransportError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import {
  endpointKey,
  newTransportStats,
  type Conn,
  type ConnHandlers,
  type Endpoint,
  type Transport,
  type TransportHandlers,
  type TransportStats,
} from './transport.js';

export interface NetTransportOptions {
  /** An IP literal. "0.0.0.0" / "::" listen on every interface ("::" is dual stack). */
  bindAddr: string;
  /** 0 picks a free port (the same one for TCP and UDP). */
  bindPort: number;
  clock?: Clock;
  logger?: Logger;
  /** UDP SO_RCVBUF to ask for; default 4 MiB (node-stack.md §2e: the 208 KiB default loses bursts). */
  recvBufferSize?: number;
  /** Largest datagram sendPacket accepts; default 65507 (the IPv4 UDP payload limit). */
  maxPacketSize?: number;
}

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;
/** We halve a refused receive buffer size down to this before giving up and keeping the OS default. */
const MIN_RECV_BUFFER = 256 * 1024;
const DEFAULT_MAX_PACKET = 65507;
/** memberlist retries a port-0 bind this many times when the UDP side of the TCP-chosen port is taken. */
const BIND_ATTEMPTS = 10;

export class NetTransport implements Transport {
  readonly kind = 'udp+tcp';
  readonly localAddress: Endpoint;
  readonly #stats: TransportStats = newTransportStats();
  readonly #udp: dgram.Socket;
  readonly #tcp: net.Server;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxPacketSize: number;
  /** A udp6 socket bound to "::" also serves IPv4 peers, but only through IPv4-mapped addresses. */
  readonly #udpIsV6: boolean;
  readonly #conns = new Set<NetConn>();
  /** Every TCP socket not yet closed (dialing, open, or closing), with a promise of its 'close'. */
  readonly #sockets = new Map<net.Socket, Promise<void>>();
  /** Dials in progress, so that shutdown can abort them and release their sockets. */
  readonly #dials = new Set<(error: Error) => void>();
  #handlers: TransportHandlers | undefined;
  #closed = false;
  #shutdown: Promise<void> | undefined;

  private constructor(udp: dgram.Socket, tcp: net.Server, udpIsV6: boolean, localAddress: Endpoint, clock: Clock, log: Logger, maxPacketSize: number) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.#udpIsV6 = udpIsV6;
    this.localAddress = localAddress;
    this.#clock = clock;
    this.#log = log;
    this.#maxPacketSize = maxPacketSize;
    udp.on('message', (msg, rinfo) => this.#onPacket(msg, rinfo));
    udp.on('error', (err) => this.#log.warn({ err }, 'udp socket error'));
    tcp.on('connection', (socket) => this.#onConnection(socket));
    tcp.on('error', (err) => this.#log.warn({ err }, 'tcp listener error'));
  }

  /** Binds TCP, then UDP on the same port. Rejects with a TransportError when the port cannot be had. */
  static async create(options: NetTransportOptions): Promise<NetTransport> {
    const family = net.isIP(options.bindAddr);
    if (family === 0) throw new InvalidArgumentError(`bindAddr must be an IP literal, got "${options.bindAddr}"`);
    if (!Number.isInteger(options.bindPort) || options.bindPort < 0 || options.bindPort > 65535) {
      throw new InvalidArgumentError(`bindPort must be an integer in 0..65535, got ${options.bindPort}`);
    }
    const clock = options.clock ?? new RealClock();
    const log = options.logger ?? silentLogger();
    const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET;
    const attempts = options.bindPort === 0 ? BIND_ATTEMPTS : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const tcp = net.createServer({ allowHalfOpen: true, noDelay: true });
      try {
        await listen(tcp, options.bindAddr, options.bindPort);
      } catch (err) {
        throw new TransportError(`cannot listen on tcp ${options.bindAddr}:${options.bindPort}: ${errMessage(err)}`, 'ERR_TRANSPORT', { cause: err });
      }
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup });
      try {
        await bindUdp(udp, options.bindAddr, port);
      } catch (err) {
        lastError = err;
        await closeServer(tcp);
        // Another process may own UDP on the port the kernel gave TCP: pick a new port and try again.
        if (options.bindPort === 0 && errCode(err) === 'EADDRINUSE') {
          log.debug({ port, attempt }, 'udp port taken, retrying bind');
          continue;
        }
        throw new TransportError(`cannot bind udp ${options.bindAddr}:${port}: ${errMessage(err)}`, 'ERR_TRANSPORT', { cause: err });
      }
      setRecvBuffer(udp, options.recvBufferSize ?? DEFAULT_RECV_BUFFER, log);
      const transport = new NetTransport(udp, tcp, family === 6, { host: options.bindAddr, port }, clock, log, maxPacketSize);
      log.debug({ addr: endpointKey(transport.localAddress) }, 'transport bound');
      return transport;
    }
    throw new TransportError(`cannot bind udp and tcp on a common port after ${BIND_ATTEMPTS} attempts`, 'ERR_TRANSPORT', { cause: lastError });
  }

  get stats(): Readonly<TransportStats> {
    return this.#stats;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }

  sendPacket(to: Endpoint, buf: Uint8Array): boolean {
    if (this.#closed || buf.length > this.#maxPacketSize) {
      this.#stats.packetsDropped++;
      return false;
    }
    const host = this.#udpIsV6 && net.isIPv4(to.host) ? `::ffff:${to.host}` : to.host;
    try {
      // dgram keeps a reference to the buffer when the kernel queue is full (EAGAIN) and sends it later;
      // the copy lets the caller reuse its buffer at once. It costs far less than the send itself (§2e).
      this.#udp.send(Buffer.from(buf), to.port, host, this.#onSent);
    } catch (err) {
      this.#stats.packetsDropped++;
      this.#log.warn({ err, to: endpointKey(to) }, 'udp send failed');
      return false;
    }
    this.#stats.packetsSent++;
    this.#stats.bytesSent += buf.length;
    if (this.#log.isLevelEnabled('trace')) this.#log.trace({ to: endpointKey(to), bytes: buf.length }, 'packet sent');
    return true;
  }

  /** One shared callback rather than a closure per packet: only errors need handling. */
  readonly #onSent = (err: Error | null): void => {
    if (err === null) return;
    this.#stats.packetsDropped++;
    this.#log.warn({ err }, 'udp send failed');
  };

  dial(to: Endpoint, timeoutMs: number): Promise<Conn> {
    if (this.#closed) return Promise.reject(new TransportError('transport is shut down', 'ERR_TRANSPORT'));
    const key = endpointKey(to);
    return new Promise<Conn>((resolve, reject) => {
      const socket = net.connect({ host: to.host, port: to.port, allowHalfOpen: true, noDelay: true });
      this.#watch(socket);
      let timer: { cancel(): void } | undefined;
      const finish = (error: Error | undefined): void => {
        this.#dials.delete(finish);
        timer?.cancel();
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        if (error === undefined) {
          this.#stats.streamsOpened++;
          resolve(this.#track(socket));
        } else {
          // A late error from the abandoned socket must not become an unhandled 'error' event.
          socket.on('error', () => undefined);
          socket.destroy();
          reject(error);
        }
      };
      const onConnect = (): void => finish(undefined);
      const onError = (err: Error): void =>
        finish(new TransportError(`dial ${key} failed: ${err.message}`, 'ERR_TRANSPORT', { cause: err }));
      socket.once('connect', onConnect);
      socket.once('error', onError);
      this.#dials.add(finish);
      timer = this.#clock.setTimer(timeoutMs, () =>
        finish(new TransportError(`dial ${key} timed out after ${timeoutMs} ms`, 'ERR_DIAL_TIMEOUT')),
      );
    });
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#closed = true;
    const error = new TransportError('transport shut down', 'ERR_STREAM_CLOSED');
    for (const abort of [...this.#dials]) abort(new TransportError('transport shut down during dial', 'ERR_TRANSPORT'));
    for (const conn of [...this.#conns]) conn.destroy(error);
    const closed = Promise.all([
      ...this.#sockets.values(),
      closeServer(this.#tcp),
      new Promise<void>((resolve) => this.#udp.close(() => resolve())),
    ]);
    // A socket that does not report 'close' must not hang shutdown (a test run saw one TCP socket
    // linger, rarely). After a grace period every remaining socket is destroyed outright. This is a
    // wall-clock bound on process hygiene, not protocol timing, so it does not use the node's clock.
    let grace: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      grace = setTimeout(() => {
        this.#log.warn({ sockets: this.#sockets.size }, 'sockets still open after shutdown grace period: destroying them');
        for (const socket of this.#sockets.keys()) socket.destroy();
        resolve();
      }, 2000);
      grace.unref();
    });
    await Promise.race([closed, forced]);
    clearTimeout(grace);
    // dgram and net.Server emit 'close' when they ask libuv to close the handle, but libuv only releases
    // it in the "close callbacks" phase, which follows the check phase of that loop iteration. A second
    // setImmediate runs after that phase, so once shutdown resolves nothing of this transport is left.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#log.debug({ addr: endpointKey(this.localAddress) }, 'transport shut down');
  }

  #onPacket(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const from: Endpoint = { host: unmapIpv4(rinfo.address), port: rinfo.port };
    this.#stats.packetsReceived++;
    this.#stats.bytesReceived += msg.length;
    const handlers = this.#handlers;
    // An empty datagram carries no message; drop it here so no decoder has to special-case it.
    if (msg.length === 0 || handlers === undefined) {
      this.#stats.packetsDropped++;
      return;
    }
    if (this.#log.isLevelEnabled('trace')) this.#log.trace({ from: endpointKey(from), bytes: msg.length }, 'packet received');
    try {
      handlers.packet(msg, from, this.#clock.now());
    } catch (err) {
      this.#stats.packetsDropped++;
      this.#log.warn({ err, from: endpointKey(from) }, 'packet handler threw');
    }
  }

  #onConnection(socket: net.Socket): void {
    this.#watch(socket);
    const handlers = this.#handlers;
    if (this.#closed || handlers === undefined) {
      // A reset, so the dialer sees a refusal rather than a clean end it might wait on while half open.
      socket.resetAndDestroy();
      return;
    }
    this.#stats.streamsAccepted++;
    const conn = this.#track(socket);
    try {
      handlers.stream(conn);
    } catch (err) {
      this.#stats.packetsDropped++;
      this.#log.warn({ err, remote: endpointKey(conn.remote) }, 'stream handler threw');
      conn.destroy(err instanceof Error ? err : new TransportError(String(err)));
    }
  }

  #watch(socket: net.Socket): void {
    this.#sockets.set(
      socket,
      new Promise<void>((resolve) =>
        socket.once('close', () => {
          this.#sockets.delete(socket);
          resolve();
        }),
      ),
    );
  }

  #track(socket: net.Socket): NetConn {
    const conn = new NetConn(socket, this.#log, (c) => this.#conns.delete(c));
    this.#conns.add(conn);
    return conn;
  }
}

/**
 * A TCP connection as a Conn. Until `setHandlers` the socket stays paused (no 'data' listener), so early
 * data waits in the socket's buffer and TCP flow control, not in an unbounded array of ours.
 */
class NetConn implements Conn {
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly #socket: net.Socket;
  readonly #log: Logger;
  readonly #onGone: (conn: NetConn) => void;
  #handlers: ConnHandlers | undefined;
  #ended = false;
  #destroyed = false;
  /** Set once the socket has closed; `undefined` inside means a clean close. */
  #closeResult: { error: Error | undefined } | undefined;
  #closeDelivered = false;
  #error: Error | undefined;

  constructor(socket: net.Socket, log: Logger, onGone: (conn: NetConn) => void) {
    this.#socket = socket;
    this.#log = log;
    this.#onGone = onGone;
    socket.setNoDelay(true);
    this.remote = { host: unmapIpv4(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    this.local = { host: unmapIpv4(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    socket.on('error', (err) => {
      // The first error explains the close; ECONNRESET and friends are the peer's doing, not a bug here.
      this.#error ??= new TransportError(`stream ${endpointKey(this.remote)}: ${err.message}`, 'ERR_STREAM_CLOSED', { cause: err });
    });
    socket.once('close', () => {
      this.#closeResult = { error: this.#error };
      this.#onGone(this);
      this.#deliverClose();
    });
  }

  get writable(): boolean {
    return !this.#ended && !this.#destroyed && this.#closeResult === undefined && this.#socket.writable;
  }

  setHandlers(handlers: ConnHandlers): void {
    const first = this.#handlers === undefined;
    this.#handlers = handlers;
    if (!first) return;
    this.#socket.on('data', (chunk: Buffer) => {
      try {
        this.#handlers?.data(chunk);
      } catch (err) {
        this.#handlerThrew(err);
      }
    });
    this.#socket.on('end', () => {
      try {
        this.#handlers?.end();
      } catch (err) {
        this.#handlerThrew(err);
      }
    });
    this.#deliverClose();
  }

  write(data: Uint8Array): boolean {
    if (!this.writable) return false;
    // Copied so that the caller may reuse its buffer: net keeps a reference while the kernel is busy.
    this.#socket.write(Buffer.from(data));
    return true;
  }

  end(): void {
    if (this.#ended || this.#destroyed) return;
    this.#ended = true;
    this.#socket.end();
  }

  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#error ??= error;
    // A reset, not a FIN: the peer must see an abnormal close, not a clean end of stream.
    if (this.#socket.destroyed) return;
    if (this.#ended) {
      // Our FIN is already on its way (end()): libuv cannot reset a socket with a shutdown request
      // pending, and the handle then never closes: no 'close', and a process that hangs at exit
      // spinning in its handle cleanup. A plain destroy closes it.
      this.#socket.destroy();
      return;
    }
    try {
      this.#socket.resetAndDestroy();
    } catch {
      // resetAndDestroy throws when the handle is already gone; a plain destroy still releases it.
      this.#socket.destroy();
    }
  }

  #deliverClose(): void {
    const result = this.#closeResult;
    const handlers = this.#handlers;
    if (result === undefined || handlers === undefined || this.#closeDelivered) return;
    this.#closeDelivered = true;
    try {
      handlers.close(result.error);
    } catch (err) {
      this.#log.warn({ err, remote: endpointKey(this.remote) }, 'stream close handler threw');
    }
  }

  #handlerThrew(err: unknown): void {
    this.#log.warn({ err, remote: endpointKey(this.remote) }, 'stream handler threw; destroying the stream');
    this.destroy(err instanceof Error ? err : new TransportError(String(err), 'ERR_STREAM_CLOSED'));
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

function bindUdp(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Asks for `wanted` bytes, halving on refusal down to MIN_RECV_BUFFER; the OS default stays otherwise. */
function setRecvBuffer(socket: dgram.Socket, wanted: number, log: Logger): void {
  for (let size = wanted; size >= MIN_RECV_BUFFER; size = Math.floor(size / 2)) {
    try {
      socket.setRecvBufferSize(size);
      // Linux clamps silently to net.core.rmem_max and reports double the granted size.
      log.debug({ asked: size, granted: socket.getRecvBufferSize() }, 'udp receive buffer set');
      return;
    } catch (err) {
      log.warn({ err, size }, 'udp receive buffer size refused');
    }
  }
  log.warn({ size: socket.getRecvBufferSize() }, 'keeping the default udp receive buffer size');
}

/** "::ffff:10.0.0.1" (an IPv4 peer of a dual-stack socket) → "10.0.0.1", so one peer has one address. */
function unmapIpv4(address: string): string {
  if (address.startsWith('::ffff:')) {
    const v4 = address.slice(7);
    if (net.isIPv4(v4)) return v4;
  }
  return address;
}

function errCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * dgram passes every destination of every send through its lookup (dns.lookup by default), which
 * for an IP literal still costs a deferred callback and two closures per packet. Member addresses
 * are literals, so answer those at once; anything else still goes to the resolver.
 */
export function literalLookup(
  hostname: string,
  options: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = net.isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}
