/**
 * The agent's HTTP status server (node:http; it binds only the address it is given):
 *
 * | path | what |
 * |---|---|
 * | `/` | the live cluster page (one HTML document, vanilla JS, no build step) |
 * | `/members` | JSON array of MemberView, sorted by name |
 * | `/health` | JSON summary; 200 while the node runs, 503 once it has stopped |
 * | `/metrics` | Prometheus text format (see src/observability/prometheus.ts) |
 * | `/events` | server-sent events: `hello` (everything so far), then `member` and `tick` |
 *
 * Everything is bounded: at most `maxClients` event streams (more get 503), a client whose unsent
 * data passes 1 MiB is dropped, the event history holds `historySize` entries and the rate history
 * `rateHistorySize` points. close() ends every stream and connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemberlistNode } from '../node.js';
import type { NodeEventMap } from '../events.js';
import type { Member } from '../member.js';
import type { Logger } from '../log.js';
import { ProtocolObserver } from '../observability/protocol-observer.js';
import { EventLoopDelayMonitor } from '../observability/event-loop.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../observability/prometheus.js';
import { memberView, type MemberView } from './member-view.js';
import { formatHostPort } from './address.js';
import { PAGE_HTML } from './page.js';

export interface StatusServerOptions {
  readonly node: MemberlistNode;
  /** Address to bind, an IP literal or host name (e.g. 127.0.0.1). */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see `address`). */
  readonly port: number;
  /** An observer already spawned on the node; otherwise the server spawns its own. */
  readonly observer?: ProtocolObserver;
  /** Event-loop delay for /metrics; otherwise the server keeps its own monitor. */
  readonly eventLoop?: EventLoopDelayMonitor;
  readonly logger?: Logger;
  /** Period of the metrics tick on /events, in ms (default 1000). */
  readonly tickMs?: number;
  /** Member events kept for new page clients (default 200). */
  readonly historySize?: number;
  /** Rate points kept for the charts (default 120). */
  readonly rateHistorySize?: number;
  /** Concurrent /events clients (default 32). */
  readonly maxClients?: number;
}

/** One entry of the recent-events list. */
export interface EventEntry {
  readonly time: number;
  readonly type: 'join' | 'leave' | 'update' | 'suspect' | 'alive' | 'conflict';
  readonly name: string;
  readonly state: string;
  readonly incarnation: number;
  readonly detail: string;
}

/** Message rates over one tick, per second. */
export interface RatePoint {
  readonly time: number;
  readonly msgsIn: number;
  readonly msgsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly in: Readonly<Record<string, number>>;
  readonly out: Readonly<Record<string, number>>;
}

const MAX_BUFFERED_BYTES = 1 << 20;
/** Above this many members, ticks carry the full member list only every tenth time. */
const FULL_LIST_EVERY_TICK_LIMIT = 500;

/** A bounded FIFO that drops its oldest entry when full. */
class Ring<T> {
  readonly #items: T[] = [];
  constructor(readonly capacity: number) {}
  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.capacity) this.#items.shift();
  }
  toArray(): T[] {
    return [...this.#items];
  }
}

interface Counters {
  time: number;
  bytesIn: number;
  bytesOut: number;
  in: Record<string, number>;
  out: Record<string, number>;
}

export class StatusServer {
  readonly #server: Server;
  readonly #node: MemberlistNode;
  readonly #observer: ProtocolObserver;
  readonly #eventLoop: EventLoopDelayMonitor;
  readonly #ownEventLoop: boolean;
  readonly #logger: Logger | undefined;
  readonly #clients = new Set<ServerResponse>();
  readonly #history: Ring<EventEntry>;
  readonly #rates: Ring<RatePoint>;
  readonly #maxClients: number;
  readonly #tickMs: number;
  readonly #startedAt = Date.now();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Kept from start, so that it can still be read (for messages) after close(). */
  readonly #address: { host: string; port: number };
  #last: Counters;
  #ticks = 0;
  #closed = false;

  private constructor(server: Server, options: StatusServerOptions, observer: ProtocolObserver) {
    this.#server = server;
    const bound = server.address() as AddressInfo;
    this.#address = { host: bound.address, port: bound.port };
    this.#node = options.node;
    this.#observer = observer;
    this.#ownEventLoop = options.eventLoop === undefined;
    this.#eventLoop = options.eventLoop ?? new EventLoopDelayMonitor().start();
    this.#logger = options.logger;
    this.#history = new Ring(options.historySize ?? 200);
    this.#rates = new Ring(options.rateHistorySize ?? 120);
    this.#maxClients = options.maxClients ?? 32;
    this.#tickMs = options.tickMs ?? 1000;
    this.#last = this.#counters();
    this.#unsubscribe = this.#subscribe();
  }

  /** Binds the server and starts the tick. Rejects (e.g. EADDRINUSE) without leaving anything open. */
  static async start(options: StatusServerOptions): Promise<StatusServer> {
    let observer = options.observer;
    if (observer === undefined) {
      observer = new ProtocolObserver('http-status-observer');
      options.node.spawn(observer);
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const status = new StatusServer(server, options, observer);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => status.#handle(req, res));
    server.on('error', (err) => status.#logger?.warn({ err }, 'http status server error'));
    status.#timer = setInterval(() => status.#tick(), status.#tickMs);
    return status;
  }

  /** The bound address (port 0 resolved); still readable after close(). */
  get address(): { host: string; port: number } {
    return { ...this.#address };
  }

  /** "http://host:port/". */
  get url(): string {
    const { host, port } = this.address;
    return `http://${formatHostPort(host, port)}/`;
  }

  /** The observer whose counters /metrics reports. */
  get observer(): ProtocolObserver {
    return this.#observer;
  }

  /** Ends every event stream and connection and unbinds. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    if (this.#ownEventLoop) this.#eventLoop.stop();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  // ───── requests ─────

  #handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      const path = new URL(req.url ?? '/', 'http://status.invalid').pathname;
      switch (path) {
        case '/':
        case '/index.html':
          return this.#send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, {
            'Content-Security-Policy':
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
          });
        case '/members':
          return this.#json(res, 200, this.#memberViews());
        case '/health':
          return this.#health(res);
        case '/metrics':
          return this.#send(res, 200, PROMETHEUS_CONTENT_TYPE, this.#metricsText());
        case '/events':
          return this.#events(res);
        default:
          return this.#send(res, 404, 'text/plain; charset=utf-8', 'not found: try /, /members, /health, /metrics, /events\n');
      }
    } catch (err) {
      this.#logger?.warn({ err }, 'http status request failed');
      if (!res.headersSent) this.#send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    }
  }

  #send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  #json(res: ServerResponse, status: number, value: unknown): void {
    this.#send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
  }

  #memberViews(): MemberView[] {
    const node = this.#node;
    const score = node.running ? node.healthScore : 0;
    return node
      .members()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((m) => memberView(m, node.name, score, (n) => this.#observer.peer(n)));
  }

  #health(res: ServerResponse): void {
    const node = this.#node;
    const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of node.members()) counts[m.state] = (counts[m.state] ?? 0) + 1;
    const running = node.running;
    const score = running ? node.healthScore : 0;
    this.#json(res, running ? 200 : 503, {
      status: !running ? 'stopped' : score > 0 ? 'degraded' : 'healthy',
      node: node.name,
      address: formatHostPort(node.address.host, node.address.port),
      advertise: formatHostPort(node.advertiseAddress.host, node.advertiseAddress.port),
      healthScore: score,
      members: counts,
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
    });
  }

  #metricsText(): string {
    const node = this.#node;
    return renderPrometheus({
      metrics: node.metrics(),
      members: node.members(),
      protocol: this.#observer.stats(),
      eventLoop: this.#eventLoop.snapshot(),
    });
  }

  #events(res: ServerResponse): void {
    if (this.#clients.size >= this.#maxClients) {
      this.#send(res, 503, 'text/plain; charset=utf-8', `too many event streams (at most ${this.#maxClients})\n`, { 'Retry-After': '5' });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.#clients.add(res);
    const drop = (): void => void this.#clients.delete(res);
    res.on('close', drop);
    res.on('error', drop);
    res.write(`retry: 2000\n\n`);
    this.#write(res, 'hello', {
      node: this.#node.name,
      address: formatHostPort(this.#node.address.host, this.#node.address.port),
      tickMs: this.#tickMs,
      healthScore: this.#node.running ? this.#node.healthScore : 0,
      members: this.#memberViews(),
      events: this.#history.toArray(),
      rates: this.#rates.toArray(),
    });
  }

  #write(res: ServerResponse, event: string, data: unknown): void {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      // A client that does not read is dropped rather than buffered without bound.
      this.#clients.delete(res);
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #broadcast(event: string, data: unknown): void {
    for (const res of [...this.#clients]) this.#write(res, event, data);
  }

  // ───── node events and the tick ─────

  #subscribe(): () => void {
    const node = this.#node;
    const record = (type: EventEntry['type'], member: Member, detail = ''): void => {
      const entry: EventEntry = { time: Date.now(), type, name: member.name, state: member.state, incarnation: member.incarnation, detail };
      this.#history.push(entry);
      if (this.#clients.size === 0) return;
      const score = node.running ? node.healthScore : 0;
      this.#broadcast('member', { event: entry, member: memberView(member, node.name, score, (n) => this.#observer.peer(n)) });
    };
    const on = {
      join: (e: NodeEventMap['join']) => record('join', e.member),
      leave: (e: NodeEventMap['leave']) => record('leave', e.member, e.reason),
      update: (e: NodeEventMap['update']) => record('update', e.member, describeUpdate(e.old, e.member)),
      suspect: (e: NodeEventMap['suspect']) => record('suspect', e.member),
      alive: (e: NodeEventMap['alive']) => record('alive', e.member, 'refuted'),
      conflict: (e: NodeEventMap['conflict']) =>
        record('conflict', e.other, `address ${formatHostPort(e.other.addr, e.other.port)} conflicts with ${formatHostPort(e.existing.addr, e.existing.port)}`),
    };
    node.on('join', on.join).on('leave', on.leave).on('update', on.update).on('suspect', on.suspect).on('alive', on.alive).on('conflict', on.conflict);
    return () => {
      node.off('join', on.join).off('leave', on.leave).off('update', on.update).off('suspect', on.suspect).off('alive', on.alive).off('conflict', on.conflict);
    };
  }

  #counters(): Counters {
    const m = this.#node.metrics();
    return { time: performance.now(), bytesIn: m.bytesIn, bytesOut: m.bytesOut, in: { ...m.messagesIn }, out: { ...m.messagesOut } };
  }

  #tick(): void {
    if (!this.#node.running) return;
    this.#ticks++;
    const now = this.#counters();
    const dt = Math.max(1e-3, (now.time - this.#last.time) / 1000);
    const rates = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.keys(a).map((k) => [k, round(((a[k] ?? 0) - (b[k] ?? 0)) / dt)]));
    const inRates = rates(now.in, this.#last.in);
    const outRates = rates(now.out, this.#last.out);
    const sum = (r: Record<string, number>): number => round(Object.values(r).reduce((s, v) => s + v, 0));
    const point: RatePoint = {
      time: Date.now(),
      msgsIn: sum(inRates),
      msgsOut: sum(outRates),
      bytesIn: round((now.bytesIn - this.#last.bytesIn) / dt),
      bytesOut: round((now.bytesOut - this.#last.bytesOut) / dt),
      in: inRates,
      out: outRates,
    };
    this.#last = now;
    this.#rates.push(point);
    if (this.#clients.size === 0) return;
    const n = this.#node.numMembers();
    const withMembers = n <= FULL_LIST_EVERY_TICK_LIMIT || this.#ticks % 10 === 0;
    const el = this.#eventLoop.snapshot();
    this.#broadcast('tick', {
      rate: point,
      healthScore: this.#node.healthScore,
      eventLoopP99Ms: round(el.p99 * 1000),
      ...(withMembers ? { members: this.#memberViews() } : {}),
    });
  }
}

function describeUpdate(old: Member, now: Member): string {
  const changes: string[] = [];
  if (old.addr !== now.addr || old.port !== now.port) changes.push(`address ${formatHostPort(now.addr, now.port)}`);
  if (Buffer.compare(Buffer.from(old.meta), Buffer.from(now.meta)) !== 0) changes.push('meta');
  return changes.length === 0 ? 'updated' : `${changes.join(', ')} changed`;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
