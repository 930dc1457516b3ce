import type { MergeExecutor } from './actors/push-pull/merge.js';
import { WorkerMergeExecutor } from './actors/push-pull/worker-merge-executor.js';
import type { HookRunner } from './delegates.js';
import { protocolThreadMetrics, type ProtocolStack, type ProtocolThreadMetrics } from './protocol-stack.js';
import type { MessageClass } from './runtime/message-type.js';
import type { Supervisor } from './runtime/supervisor.js';
import type { Endpoint, Transport } from './transport/transport.js';

/** Where a node's protocol actors run. */
export type Threading = 'isolated' | 'inline';

/** What the node object needs from wherever its protocol actors run (this thread or the protocol worker). */
export interface ProtocolBackend {
  readonly threading: Threading;
  /** The address bound (port 0 resolved) and the one advertised. */
  readonly address: Endpoint;
  readonly advertise: Endpoint;
  /** The protocol actors when they run on this thread (inline), for diagnostics; absent when isolated. */
  readonly stack?: ProtocolStack;
  /** The latest counters (inline: read now). */
  metrics(): ProtocolThreadMetrics;
  refreshMetrics(): Promise<ProtocolThreadMetrics>;
  /** An actor spawned on the node object's thread accepts these types (the protocol side must forward them). */
  hostAccepts(types: readonly MessageClass[]): void;
  /** Releases what the actors shared (sockets, merge workers), after the supervisor stopped them. */
  close(): Promise<void>;
}

/** threading 'inline': the protocol actors share the caller's supervisor and thread. */
export class InlineBackend implements ProtocolBackend {
  readonly threading = 'inline';

  constructor(
    private readonly parts: {
      stack: ProtocolStack;
      transport: Transport;
      supervisor: Supervisor;
      hooks: HookRunner;
      mergeExecutor: MergeExecutor;
      advertise: Endpoint;
    },
  ) {}

  get address(): Endpoint {
    return this.parts.transport.localAddress;
  }

  get advertise(): Endpoint {
    return this.parts.advertise;
  }

  get stack(): ProtocolStack {
    return this.parts.stack;
  }

  metrics(): ProtocolThreadMetrics {
    const p = this.parts;
    return protocolThreadMetrics(p.stack, p.transport, p.supervisor, p.hooks);
  }

  refreshMetrics(): Promise<ProtocolThreadMetrics> {
    return Promise.resolve(this.metrics());
  }

  hostAccepts(): void {
    // One supervisor routes everything: nothing to forward.
  }

  async close(): Promise<void> {
    if (this.parts.mergeExecutor instanceof WorkerMergeExecutor) await this.parts.mergeExecutor.close();
    await this.parts.transport.shutdown();
  }
}
