import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The library logs through pino and is silent unless the embedding application passes a logger:
 * a membership library must never write to the host's stdout on its own.
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A child logger for one actor of one node: every line carries `{ node, actor }`. */
export function actorLogger(parent: Logger, node: string, actor: string): Logger {
  return parent.child({ node, actor });
}
