import { worker as wk } from '../gen/index.js';
import type { Logger } from '../log.js';
import type { Actor, ActorContext } from '../runtime/actor.js';
import type { Keyring } from '../security/keyring.js';
import { emptyMetrics, type ProtocolThreadMetrics } from '../protocol-stack.js';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * The host thread's side of the bridge (isolated mode): learns the protocol thread's bound address,
 * keeps the latest metrics snapshot (what node.metrics() falls back on when the thread is stalled), mirrors the
 * keyring into node.keyring, and writes the protocol thread's log lines to the user's logger.
 */
export class HostBridgeActor implements Actor {
  readonly name = 'host-bridge';
  readonly accepts = [wk.ProtocolStarted, wk.MetricsSnapshot, wk.KeyringState, wk.LogRecord];
  #ctx: ActorContext | undefined;
  #nextRequestId = 1;
  readonly #pending = new Map<number, (m: ProtocolThreadMetrics) => void>();
  /** The latest snapshot read from the protocol thread (by metrics() or refreshMetrics()). */
  metrics: ProtocolThreadMetrics | undefined;

  constructor(
    private readonly options: {
      logger: Logger;
      keyring: Keyring | undefined;
      onStarted: (m: wk.ProtocolStarted) => void;
    },
  ) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
  }

  /** Asks the protocol thread for a fresh snapshot. */
  requestMetrics(): Promise<ProtocolThreadMetrics> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      this.#pending.set(requestId, resolve);
      this.#ctx?.send(wk.MetricsRequest.create({ requestId }));
    });
  }

  /** The node stopped: answer pending requests with the last snapshot rather than never. */
  stop(): void {
    for (const done of this.#pending.values()) done(this.metrics ?? emptyMetrics());
    this.#pending.clear();
  }

  receive(message: object): void {
    if (message instanceof wk.LogRecord) this.#log(message);
    else if (message instanceof wk.MetricsSnapshot) this.#metrics(message);
    else if (message instanceof wk.KeyringState) this.options.keyring?.replaceAll(message.keys);
    else if (message instanceof wk.ProtocolStarted) this.options.onStarted(message);
  }

  #metrics(m: wk.MetricsSnapshot): void {
    let snapshot: ProtocolThreadMetrics;
    try {
      snapshot = JSON.parse(m.json) as ProtocolThreadMetrics;
    } catch {
      return;
    }
    this.metrics = snapshot;
    const done = this.#pending.get(m.requestId);
    if (done !== undefined) {
      this.#pending.delete(m.requestId);
      done(snapshot);
    }
  }

  #log(m: wk.LogRecord): void {
    const level = LEVELS[m.level] ?? 'info';
    const logger = this.options.logger;
    if (!logger.isLevelEnabled(level)) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(m.json) as Record<string, unknown>;
    } catch {
      return;
    }
    const { msg, level: _level, ...fields } = record;
    logger[level]({ ...fields, thread: 'protocol' }, typeof msg === 'string' ? msg : '');
  }
}
