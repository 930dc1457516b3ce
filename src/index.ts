// memberlist-ts public API. Everything exported here is supported; anything else is internal.
export { createNode, MemberlistNode } from './node.js';
export type { NodeOptions, NodeMetrics, ProtocolMetrics, TransportFactory } from './node.js';
export type { Threading } from './protocol-backend.js';
export type { IsolationOptions } from './isolation/isolated-backend.js';
export type { ProtocolThreadMetrics } from './protocol-stack.js';
export type { Member, MemberStateName } from './member.js';
export type { NodeEvent, NodeEventMap, NodeEventName, LeaveReason, MessageVia } from './events.js';
export type { Delegates, HookName, HookStats } from './delegates.js';

export { resolveConfig, PRESETS, CONFIG_KEYS } from './config.js';
export type { MemberlistConfig, NodeConfigOptions, Profile } from './config.js';
export {
  suspicionTimeoutMs,
  retransmitLimit,
  pushPullScaleMs,
  remainingSuspicionTimeMs,
  suspicionK,
  scaleTimeoutMs,
} from './timing.js';

export {
  MemberlistError,
  ConfigError,
  InvalidArgumentError,
  NotRunningError,
  ActorError,
  UnknownMessageTypeError,
  TransportError,
  ClockError,
  JoinError,
} from './errors.js';
export type { ErrorCode } from './errors.js';

// Actors and messages: the extension point.
export { memberlist, wire, actors, worker, builtinRegistry } from './gen/index.js';
export type { Actor, ActorContext, RestartPolicy } from './runtime/actor.js';
export type { MessageClass } from './runtime/message-type.js';
export { MessageRegistry, typeNameOf } from './runtime/message-type.js';
export { Supervisor } from './runtime/supervisor.js';
export type { SupervisorOptions, ActorStats } from './runtime/supervisor.js';
export { spawnOnThread } from './runtime/thread-boundary.js';
export type { ThreadPlacementOptions } from './runtime/thread-boundary.js';
export type { ActorGroupModule } from './runtime/actor-group.js';

// Seams: time, randomness, transport, wire codec.
export { RealClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { SeededRandom, cryptoSeededRandom } from './random.js';
export type { Random } from './random.js';
export { NetTransport } from './transport/net-transport.js';
export type { NetTransportOptions } from './transport/net-transport.js';
export type { Transport, TransportHandlers, Conn, ConnHandlers, Endpoint, TransportStats } from './transport/transport.js';
export { ProtobufCodec } from './codec/protobuf-codec.js';
export type { WireCodec, WireMessage, WireMessageInput, DecodeResult, DecodeFailure } from './codec/wire-codec.js';
export type { Logger } from './log.js';

// Operations: metrics in the Prometheus text format and node:diagnostics_channel publishing.
export { renderPrometheus } from './observability/prometheus.js';
export { publishDiagnostics, METRICS_CHANNEL, MEMBER_CHANNEL } from './observability/diagnostics.js';
export { EventLoopDelayMonitor } from './observability/event-loop.js';
export { Keyring } from './security/keyring.js';
// Cluster-wide key rotation (node.keyManager).
export type { KeyManager, KeyRotationOutcome, KeyCommandOptions } from './actors/key-manager/key-manager-actor.js';
