import type { Actor } from './actor.js';
import type { MessageClass } from './message-type.js';

/**
 * The module contract for actors placed on another thread. The module (given to the boundary by
 * path or URL) is imported inside the worker and must export `createActors`; it may export
 * `messageTypes`, the user's own generated message classes that cross the boundary.
 */
export interface ActorGroupModule {
  createActors(options: { nodeName: string; group: string }): Actor[] | Promise<Actor[]>;
  messageTypes?: readonly MessageClass[];
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
}
