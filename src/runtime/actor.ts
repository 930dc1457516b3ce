import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { Random } from '../random.js';
import type { MessageClass } from './message-type.js';

/**
 * What the supervisor does when an actor's `receive` (or `start`) throws:
 * - 'restart': stop it, then start it again (its `start` re-initialises its state), within the
 *   supervisor's restart budget; past the budget the node shuts down with an `error` event.
 * - 'stop': remove the actor; the node goes on without it (for optional custom actors).
 * - 'escalate': shut the node down at once.
 */
export type RestartPolicy = 'restart' | 'stop' | 'escalate';

/** Given to an actor at start: its only way to reach the outside world. */
export interface ActorContext {
  /** The actor's name, unique within the node. */
  readonly self: string;
  /** The node this actor belongs to. */
  readonly nodeName: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Routes a message to every actor that accepts its type (other than the sender). Never throws for a lack of receivers. */
  send(message: object): void;
  /** Delivers `message` to this actor after `delayMs`: timers are messages to self. */
  schedule(delayMs: number, message: object): TimerHandle;
}

/**
 * An actor owns its state outright and reacts to messages one at a time. It never awaits inside
 * `receive`: asynchronous work (a TCP exchange, a worker task) reports back as a message.
 */
export interface Actor {
  /** Unique within a node; used for logs, metrics and restart bookkeeping. */
  readonly name: string;
  /** The message classes this actor receives. The router delivers nothing else to it. */
  readonly accepts: readonly MessageClass[];
  /** Defaults to 'restart'. */
  readonly restartPolicy?: RestartPolicy;
  /** Called before the first message and again after a restart: (re)initialise all state here. */
  start?(ctx: ActorContext): void;
  receive(message: object): void;
  /** Called at node shutdown (reverse start order) and before a restart. Release timers and resources. */
  stop?(): void | Promise<void>;
}
