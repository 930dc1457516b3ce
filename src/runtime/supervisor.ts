import type { Clock, TimerHandle } from '../clock.js';
import { ActorError, InvalidArgumentError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Random } from '../random.js';
import type { Actor, ActorContext, RestartPolicy } from './actor.js';
import { Dispatcher, type Runnable } from './dispatcher.js';
import { Mailbox } from './mailbox.js';
import { classOf, type MessageClass } from './message-type.js';

export interface SupervisorOptions {
  nodeName: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Messages an actor's mailbox holds before new ones are dropped. */
  mailboxCapacity?: number;
  /** Messages processed per drain before yielding to I/O. */
  drainBudget?: number;
  /** Restarts allowed per actor within `restartWindowMs` before the node is failed. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

/** Counters of one actor, for metrics and tests. */
export interface ActorStats {
  name: string;
  received: number;
  mailboxDepth: number;
  dropped: number;
  crashes: number;
  restarts: number;
}

type CellState = 'new' | 'running' | 'stopped';

/** The supervisor's record of one actor: mailbox, timers, restart history. */
class ActorCell implements Runnable {
  readonly mailbox: Mailbox;
  readonly timers = new Set<TimerHandle>();
  readonly restartTimes: number[] = [];
  state: CellState = 'new';
  received = 0;
  crashes = 0;
  restarts = 0;
  context!: ActorContext;

  constructor(
    readonly actor: Actor,
    capacity: number,
    readonly runOne: (message: object) => void,
  ) {
    this.mailbox = new Mailbox(capacity);
  }

  get policy(): RestartPolicy {
    return this.actor.restartPolicy ?? 'restart';
  }
}

export type FailureListener = (error: ActorError) => void;

/**
 * Routes messages by type to the actors that accept them, starts actors in order and stops them in
 * reverse, and restarts a crashed actor by its policy within a restart budget. Past the budget (or
 * on an 'escalate' actor's crash) it reports a failure; the node then shuts down with an `error` event.
 */
export class Supervisor {
  readonly nodeName: string;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #mailboxCapacity: number;
  readonly #maxRestarts: number;
  readonly #restartWindowMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #cells: ActorCell[] = [];
  readonly #byName = new Map<string, ActorCell>();
  readonly #routes = new Map<MessageClass, ActorCell[]>();
  readonly #failureListeners: FailureListener[] = [];
  #running = false;
  #stopped = false;
  #failed = false;
  /** Messages sent that no actor accepts (not an error: e.g. events nobody subscribed to). */
  undelivered = 0;

  constructor(options: SupervisorOptions) {
    this.nodeName = options.nodeName;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#logger = options.logger;
    this.#mailboxCapacity = options.mailboxCapacity ?? 65_536;
    this.#maxRestarts = options.maxRestarts ?? 5;
    this.#restartWindowMs = options.restartWindowMs ?? 60_000;
    this.#dispatcher = new Dispatcher(options.clock, options.drainBudget ?? 1024);
  }

  get running(): boolean {
    return this.#running && !this.#stopped;
  }

  onFailure(listener: FailureListener): void {
    this.#failureListeners.push(listener);
  }

  /**
   * Adds an actor. Before start() it joins the start order; on a running supervisor it starts at once
   * (this is how custom actors are added to a live node).
   */
  spawn(actor: Actor): void {
    if (this.#stopped) throw new ActorError(actor.name, 'cannot spawn on a stopped node');
    if (typeof actor.name !== 'string' || actor.name.length === 0) {
      throw new InvalidArgumentError('an actor needs a non-empty name');
    }
    if (this.#byName.has(actor.name)) throw new ActorError(actor.name, 'an actor with this name already exists');
    if (!Array.isArray(actor.accepts)) throw new ActorError(actor.name, '`accepts` must be an array of message classes');
    for (const t of actor.accepts) {
      if (typeof t !== 'function' || typeof t.getTypeUrl !== 'function') {
        throw new ActorError(actor.name, '`accepts` must hold generated protobuf message classes');
      }
    }
    const cell: ActorCell = new ActorCell(actor, this.#mailboxCapacity, (m) => this.#runOne(cell, m));
    cell.context = this.#makeContext(cell);
    this.#cells.push(cell);
    this.#byName.set(actor.name, cell);
    for (const t of actor.accepts) {
      let list = this.#routes.get(t);
      if (list === undefined) this.#routes.set(t, (list = []));
      list.push(cell);
    }
    if (this.#running) this.#startCell(cell);
  }

  /** Starts every actor in the order they were added. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const cell of [...this.#cells]) {
      if (cell.state === 'new') this.#startCell(cell);
      if (this.#failed) return;
    }
  }

  /** Routes a message from outside the actors (the node facade, a transport, a thread boundary). */
  send(message: object): void {
    this.#route(message, undefined);
  }

  /** Routes a message to every acceptor except `exclude` (used by thread boundaries to avoid echoes). */
  sendExcept(message: object, exclude: string): void {
    this.#route(message, this.#byName.get(exclude));
  }

  /** The message classes that at least one actor accepts. */
  acceptedTypes(): MessageClass[] {
    return [...this.#routes.entries()].filter(([, cells]) => cells.some((c) => c.state !== 'stopped')).map(([t]) => t);
  }

  /** The message classes accepted by at least one running actor other than `name` (a thread boundary asks what the rest of its side wants). */
  acceptedTypesExcept(name: string): MessageClass[] {
    return [...this.#routes.entries()].filter(([, cells]) => cells.some((c) => c.state !== 'stopped' && c.actor.name !== name)).map(([t]) => t);
  }

  /** Whether an actor of this name is present and not stopped. */
  has(name: string): boolean {
    const c = this.#byName.get(name);
    return c !== undefined && c.state !== 'stopped';
  }

  stats(): ActorStats[] {
    return this.#cells.map((c) => ({
      name: c.actor.name,
      received: c.received,
      mailboxDepth: c.mailbox.size,
      dropped: c.mailbox.dropped,
      crashes: c.crashes,
      restarts: c.restarts,
    }));
  }

  /** Stops every actor in reverse start order and cancels their timers. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#dispatcher.stop();
    for (const cell of [...this.#cells].reverse()) await this.#stopCell(cell);
  }

  #route(message: object, exclude: ActorCell | undefined): void {
    if (this.#stopped) return;
    const type = classOf(message);
    const cells = type === undefined ? undefined : this.#routes.get(type);
    if (cells === undefined || cells.length === 0) {
      this.undelivered++;
      return;
    }
    let delivered = false;
    for (const cell of cells) {
      if (cell === exclude || cell.state === 'stopped') continue;
      this.#enqueue(cell, message);
      delivered = true;
    }
    if (!delivered) this.undelivered++;
  }

  #enqueue(cell: ActorCell, message: object): void {
    if (!cell.mailbox.offer(message)) {
      // Rate-limited by powers of two so an overload does not turn into a logging storm.
      const d = cell.mailbox.dropped;
      if ((d & (d - 1)) === 0) {
        this.#logger.warn({ actor: cell.actor.name, dropped: d }, 'mailbox full, dropping message');
      }
      return;
    }
    // A cell that has not started keeps its messages; #startCell readies the mailbox.
    if (cell.state === 'running') this.#dispatcher.ready(cell);
  }

  #makeContext(cell: ActorCell): ActorContext {
    const logger = this.#logger.child({ actor: cell.actor.name });
    return {
      self: cell.actor.name,
      nodeName: this.nodeName,
      clock: this.#clock,
      random: this.#random,
      logger,
      send: (message: object) => this.#route(message, cell),
      schedule: (delayMs: number, message: object): TimerHandle => {
        const handle = this.#clock.setTimer(delayMs, () => {
          cell.timers.delete(tracked);
          if (cell.state === 'running') this.#enqueue(cell, message);
        });
        const tracked: TimerHandle = {
          cancel: () => {
            cell.timers.delete(tracked);
            handle.cancel();
          },
        };
        // The wrapper is what the actor holds and what the set tracks; the clock never runs the
        // callback synchronously, so `tracked` exists by the time it fires.
        cell.timers.add(tracked);
        return tracked;
      },
    };
  }

  #runOne(cell: ActorCell, message: object): void {
    if (cell.state !== 'running') return;
    cell.received++;
    try {
      cell.actor.receive(message);
    } catch (err) {
      this.#crashed(cell, err, 'receive');
    }
  }

  #startCell(cell: ActorCell): void {
    try {
      cell.actor.start?.(cell.context);
      cell.state = 'running';
      if (cell.mailbox.size > 0) this.#dispatcher.ready(cell);
    } catch (err) {
      cell.state = 'running';
      this.#crashed(cell, err, 'start');
    }
  }

  async #stopCell(cell: ActorCell): Promise<void> {
    if (cell.state === 'stopped') return;
    cell.state = 'stopped';
    this.#cancelTimers(cell);
    cell.mailbox.clear();
    try {
      await cell.actor.stop?.();
    } catch (err) {
      this.#logger.warn({ actor: cell.actor.name, err }, 'actor stop failed');
    }
  }

  #cancelTimers(cell: ActorCell): void {
    for (const t of [...cell.timers]) t.cancel();
    cell.timers.clear();
  }

  #crashed(cell: ActorCell, err: unknown, phase: 'receive' | 'start'): void {
    cell.crashes++;
    const error = err instanceof Error ? err : new Error(String(err));
    this.#logger.error({ actor: cell.actor.name, err: error, phase }, 'actor crashed');
    switch (cell.policy) {
      case 'stop':
        void this.#stopCell(cell);
        return;
      case 'escalate':
        this.#fail(new ActorError(cell.actor.name, `crashed in ${phase}: ${error.message}`, { cause: error }));
        return;
      case 'restart': {
        const now = this.#clock.now();
        const recent = cell.restartTimes.filter((t) => now - t < this.#restartWindowMs);
        if (recent.length >= this.#maxRestarts) {
          this.#fail(
            new ActorError(
              cell.actor.name,
              `crashed ${recent.length + 1} times within ${this.#restartWindowMs} ms (restart budget ${this.#maxRestarts}): ${error.message}`,
              { cause: error },
            ),
          );
          return;
        }
        recent.push(now);
        cell.restartTimes.length = 0;
        cell.restartTimes.push(...recent);
        cell.restarts++;
        this.#restart(cell);
        return;
      }
      default: {
        const never: never = cell.policy;
        throw new ActorError(cell.actor.name, `unknown restart policy ${String(never)}`);
      }
    }
  }

  #restart(cell: ActorCell): void {
    this.#cancelTimers(cell);
    try {
      const r = cell.actor.stop?.();
      if (r instanceof Promise) r.catch((e: unknown) => this.#logger.warn({ actor: cell.actor.name, err: e }, 'stop during restart failed'));
    } catch (e) {
      this.#logger.warn({ actor: cell.actor.name, err: e }, 'stop during restart failed');
    }
    this.#logger.warn({ actor: cell.actor.name, restarts: cell.restarts }, 'restarting actor');
    this.#startCell(cell);
  }

  #fail(error: ActorError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#dispatcher.stop();
    for (const l of this.#failureListeners) {
      try {
        l(error);
      } catch (e) {
        this.#logger.error({ err: e }, 'failure listener threw');
      }
    }
  }
}
