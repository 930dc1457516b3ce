import { Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { worker as wk } from '../gen/index.js';
import { builtinRegistry } from '../gen/index.js';
import { ActorError } from '../errors.js';
import type { Actor, ActorContext, RestartPolicy } from './actor.js';
import type { ActorGroupWorkerData } from './actor-group.js';
import { BatchSender } from './batch-sender.js';
import { decodeFrame, encodeControl } from './envelope.js';
import { typeNameOf, type MessageClass, type MessageRegistry } from './message-type.js';
import type { Supervisor } from './supervisor.js';
import { workerEntry, workerOptions } from './worker-entry.js';

export interface ThreadPlacementOptions {
  /** Name of the group (and of the boundary actor on this side, prefixed "thread:"). */
  group: string;
  /** Path or file URL of a module implementing ActorGroupModule. */
  module: string | URL;
  /** The message types the group's actors accept: what this side forwards to the worker. */
  accepts: readonly MessageClass[];
  /** Registry that knows every type crossing the boundary (built-ins are always included). */
  registry?: MessageRegistry;
  /** Heap limits of the worker (a crashing or leaking group must not take the host down). */
  resourceLimits?: ResourceLimits;
  /** How long stop() waits for the group to stop before terminating the worker. */
  stopTimeoutMs?: number;
  restartPolicy?: RestartPolicy;
  /** pino level inside the worker. */
  logLevel?: string;
  /** Send the worker's log lines back as LogRecord messages (for a host actor to write to the host's logger). */
  forwardLogs?: boolean;
  /**
   * Called at every (re)start of the worker: the `options` the group's createActors receives, and
   * what to transfer with them (MessagePorts can be transferred once, so a restarted worker needs
   * fresh ones).
   */
  groupOptions?: () => { options: unknown; transferList?: readonly Transferable[] };
}

/**
 * The host side of an actor group placed on a worker thread. To the local router it is one actor
 * that accepts the group's message types; it encodes what it receives into transferred buffers for
 * the worker, and routes what the worker sends back to the local actors (never back to itself).
 * The worker's death is a crash of this actor, so the supervisor's restart policy applies to it.
 */
class ThreadBoundaryActor implements Actor {
  readonly name: string;
  readonly accepts: readonly MessageClass[];
  readonly restartPolicy: RestartPolicy;
  #ctx!: ActorContext;
  #worker: Worker | undefined;
  #sender: BatchSender | undefined;
  #stopping = false;
  #exitNote: string | undefined;
  readonly #registry: MessageRegistry;
  /** Types the worker sent that this side does not know (dropped, counted). */
  unknownTypes = 0;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly options: ThreadPlacementOptions,
  ) {
    this.name = `thread:${options.group}`;
    this.accepts = options.accepts;
    this.restartPolicy = options.restartPolicy ?? 'restart';
    this.#registry = options.registry ?? builtinRegistry();
    for (const t of options.accepts) if (!this.#registry.has(typeNameOf(t))) this.#registry.register(t);
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#stopping = false;
    this.#exitNote = undefined;
    // What the other actors on this side accept, whether or not the group accepts it too.
    const hostAccepts = this.supervisor.acceptedTypesExcept(this.name).map(typeNameOf);
    const moduleHref =
      this.options.module instanceof URL ? this.options.module.href : pathToFileURL(this.options.module).href;
    const extra = this.options.groupOptions?.();
    const data: ActorGroupWorkerData = {
      group: this.options.group,
      nodeName: ctx.nodeName,
      module: moduleHref,
      hostAccepts,
      logLevel: this.options.logLevel ?? 'silent',
      forwardLogs: this.options.forwardLogs ?? false,
      options: extra?.options,
    };
    const entry = workerEntry('actor-group');
    const w = new Worker(
      entry.url,
      workerOptions(entry, {
        workerData: data,
        resourceLimits: this.options.resourceLimits,
        transferList: extra?.transferList === undefined ? undefined : [...extra.transferList],
      }),
    );
    this.#worker = w;
    this.#sender = new BatchSender(ctx.clock, (buf) => w.postMessage(buf, [buf]));
    w.on('message', (data: unknown) => this.#onWorkerMessage(data));
    w.on('error', (err: Error) => this.#onWorkerDeath(`worker error: ${err.message}`));
    w.on('exit', (code: number) => {
      if (!this.#stopping) this.#onWorkerDeath(`worker exited with code ${code}`);
    });
  }

  receive(message: object): void {
    if (message instanceof wk.GroupFailed) {
      // The worker died: throwing hands the decision (restart or fail the node) to the supervisor.
      throw new ActorError(this.name, message.error || 'worker died');
    }
    this.#sender?.add(message);
  }

  async stop(): Promise<void> {
    const w = this.#worker;
    if (w === undefined) return;
    this.#stopping = true;
    this.#sender?.flush();
    this.#sender?.close();
    this.#worker = undefined;
    const stopped = new Promise<void>((resolve) => {
      const onMessage = (data: unknown): void => {
        const f = decodeFrame(data, this.#registry);
        if (f.kind === 'control' && f.control.stopped) resolve();
      };
      w.on('message', onMessage);
      w.once('exit', () => resolve());
    });
    w.postMessage(...transfer(encodeControl(wk.ThreadControl.create({ stop: { group: this.options.group } }))));
    // Wall-clock bound on a hung worker: this is process hygiene, not protocol timing, so it uses
    // the real timer even when the node runs on a virtual clock.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.stopTimeoutMs ?? 2000);
    });
    await Promise.race([stopped, timeout]);
    clearTimeout(timer);
    await w.terminate();
  }

  #onWorkerMessage(data: unknown): void {
    const frame = decodeFrame(data, this.#registry);
    switch (frame.kind) {
      case 'batch':
        this.unknownTypes += frame.unknownTypes.length;
        for (const m of frame.messages) this.supervisor.sendExcept(m, this.name);
        return;
      case 'control':
        if (frame.control.failed) {
          this.#onWorkerDeath(`actor ${frame.control.failed.actor ?? '?'} failed: ${frame.control.failed.error ?? ''}`);
        }
        return;
      case 'invalid':
        this.#ctx.logger.warn({ reason: frame.reason }, 'invalid frame from worker dropped');
        return;
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  #onWorkerDeath(note: string): void {
    if (this.#stopping || this.#exitNote !== undefined) return;
    this.#exitNote = note;
    this.#ctx.logger.error({ group: this.options.group, note }, 'actor group worker died');
    this.#ctx.schedule(0, wk.GroupFailed.create({ group: this.options.group, error: note }));
  }
}

function transfer(buf: ArrayBuffer): [ArrayBuffer, ArrayBuffer[]] {
  return [buf, [buf]];
}

/**
 * Places an actor group on its own worker thread and adds its boundary actor to `supervisor`.
 * Messages of the group's `accepts` types are encoded, transferred and delivered inside the worker;
 * messages the group sends that the host side accepts come back the same way.
 */
export function spawnOnThread(supervisor: Supervisor, options: ThreadPlacementOptions): Actor {
  const actor = new ThreadBoundaryActor(supervisor, options);
  supervisor.spawn(actor);
  return actor;
}
