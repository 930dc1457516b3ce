import { worker as wk } from '../gen/index.js';
import type { Actor, ActorContext } from '../runtime/actor.js';
import type { Keyring } from '../security/keyring.js';
import type { ProtocolThreadMetrics } from '../protocol-stack.js';

export interface ProtocolBridgeOptions {
  started: wk.ProtocolStarted.$Properties;
  keyring: Keyring | undefined;
  metrics: () => ProtocolThreadMetrics;
}

/**
 * The protocol thread's side of the host bridge (isolated mode): announces the bound address,
 * answers asynchronous metrics requests (refreshMetrics), applies keyring commands from node.keyring, and reports every keyring
 * change (including a cluster-wide rotation's) so the host's mirror stays current.
 */
export class ProtocolBridgeActor implements Actor {
  readonly name = 'protocol-bridge';
  readonly accepts = [wk.MetricsRequest, wk.KeyringCommand];
  #ctx: ActorContext | undefined;

  constructor(private readonly options: ProtocolBridgeOptions) {
    options.keyring?.onChange(() => this.#ctx?.send(wk.KeyringState.create({ keys: options.keyring?.list() ?? [] })));
  }

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    ctx.send(wk.ProtocolStarted.create(this.options.started));
    if (this.options.keyring !== undefined) ctx.send(wk.KeyringState.create({ keys: this.options.keyring.list() }));
  }

  receive(message: object): void {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    if (message instanceof wk.MetricsRequest) {
      ctx.send(wk.MetricsSnapshot.create({ requestId: message.requestId, json: JSON.stringify(this.options.metrics()) }));
    } else if (message instanceof wk.KeyringCommand) {
      this.#keyring(message, ctx);
    }
  }

  #keyring(m: wk.KeyringCommand, ctx: ActorContext): void {
    const ring = this.options.keyring;
    if (ring === undefined) return;
    try {
      if (m.op === 1) ring.install(m.key);
      else if (m.op === 2) ring.use(m.key);
      else if (m.op === 3) ring.remove(m.key);
    } catch (err) {
      // The host validated the command against its mirror; a rotation may have changed the ring since.
      ctx.logger.warn({ err, op: m.op }, 'keyring command from the host refused');
      ctx.send(wk.KeyringState.create({ keys: ring.list() }));
    }
  }
}
