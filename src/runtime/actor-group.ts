import type { Logger } from '../log.js';
import type { Actor } from './actor.js';
import type { MessageClass } from './message-type.js';
import type { Supervisor } from './supervisor.js';

/** What a group module's createActors is given inside the worker. */
export interface ActorGroupContext {
  nodeName: string;
  group: string;
  /** The `options` the host placed the group with (structured-cloned; MessagePorts transferred). */
  options: unknown;
  /** The worker's logger (forwarded to the host's logger when the host asked for it). */
  logger: Logger;
  /** The worker's supervisor: modules that report on their actors (metrics) read its stats. */
  supervisor: Supervisor;
}

/**
 * The module contract for actors placed on another thread. The module (given to the boundary by
 * path or URL) is imported inside the worker and must export `createActors`; it may export
 * `messageTypes`, the user's own generated message classes that cross the boundary, and
 * `stopGroup`, called after the group's actors stopped (to release what they shared: sockets,
 * thread pools) and before the worker reports that it stopped.
 */
export interface ActorGroupModule {
  createActors(options: ActorGroupContext): Actor[] | Promise<Actor[]>;
  messageTypes?: readonly MessageClass[];
  stopGroup?(): void | Promise<void>;
}

/** What the host passes to the worker in workerData. */
export interface ActorGroupWorkerData {
  group: string;
  nodeName: string;
  /** File URL (href) of the ActorGroupModule. */
  module: string;
  /** Type names the host side accepts: the worker forwards messages of these types to the host. */
  hostAccepts: string[];
  logLevel: string;
  /** Send the worker's log lines to the host as LogRecord messages instead of writing them to stderr. */
  forwardLogs?: boolean;
  /** Passed to createActors as `options`. */
  options?: unknown;
}
