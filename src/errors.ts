/**
 * Errors with stable codes (undici style). Only API misuse and invalid configuration throw;
 * faults caused by peers (bad packets, dead members, timeouts) become counted, logged state
 * transitions instead. `code` values are part of the public API: never change one once shipped.
 */

/** Every stable error code this library can throw or reject with. */
export type ErrorCode =
  | 'ERR_MEMBERLIST'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NOT_RUNNING'
  | 'ERR_SHUTDOWN'
  | 'ERR_ACTOR'
  | 'ERR_UNKNOWN_MESSAGE_TYPE'
  | 'ERR_TRANSPORT'
  | 'ERR_DIAL_TIMEOUT'
  | 'ERR_STREAM_CLOSED'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_CLOCK'
  | 'ERR_JOIN'
  | 'ERR_WORKER';

/** Base class: every error thrown by memberlist-ts is an instance and carries a stable `code`. */
export class MemberlistError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'ERR_MEMBERLIST', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is invalid. The message names the field and what would be accepted. */
export class ConfigError extends MemberlistError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`invalid config "${field}": ${message}`, 'ERR_INVALID_CONFIG');
    this.field = field;
  }
}

/** A public method was called with an argument it cannot accept. */
export class InvalidArgumentError extends MemberlistError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_ARGUMENT');
  }
}

/** A method was called on a node that is shut down (or not yet started). */
export class NotRunningError extends MemberlistError {
  constructor(message = 'the node is not running') {
    super(message, 'ERR_NOT_RUNNING');
  }
}

/** An actor crashed past its restart budget, or the runtime was misused (e.g. duplicate actor name). */
export class ActorError extends MemberlistError {
  readonly actor: string;
  constructor(actor: string, message: string, options?: { cause?: unknown }) {
    super(`actor "${actor}": ${message}`, 'ERR_ACTOR', options);
    this.actor = actor;
  }
}

/** A message type was used that was never registered with the router's type registry. */
export class UnknownMessageTypeError extends MemberlistError {
  constructor(typeName: string) {
    super(`unknown message type "${typeName}"`, 'ERR_UNKNOWN_MESSAGE_TYPE');
  }
}

/** A transport operation failed (bind, dial, write). Used inside the library; peers' faults are not thrown to users. */
export class TransportError extends MemberlistError {
  constructor(message: string, code: ErrorCode = 'ERR_TRANSPORT', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** The clock was asked to go backwards, or a timer was misused. */
export class ClockError extends MemberlistError {
  constructor(message: string) {
    super(message, 'ERR_CLOCK');
  }
}

/** Joining reached none of the given seeds; `causes` holds one entry per seed. */
export class JoinError extends MemberlistError {
  readonly causes: ReadonlyArray<{ seed: string; error: Error }>;
  constructor(causes: ReadonlyArray<{ seed: string; error: Error }>) {
    const detail = causes.map((c) => `${c.seed}: ${c.error.message}`).join('; ');
    super(`join reached none of ${causes.length} seed(s): ${detail}`, 'ERR_JOIN', {
      cause: causes[0]?.error,
    });
    this.causes = causes;
  }
}
