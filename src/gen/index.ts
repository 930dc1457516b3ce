// Typed entry point to the generated protobuf code (src/gen/proto.js + proto.d.ts, made by
// `npm run gen`). Everything else imports generated types from here.
export { memberlist } from './proto.js';
import { memberlist } from './proto.js';
import { MessageRegistry } from '../runtime/message-type.js';

export import wire = memberlist.wire;
export import actors = memberlist.actors;
export import worker = memberlist.worker;

/** A registry holding every built-in message type (wire, actors and worker packages). */
export function builtinRegistry(): MessageRegistry {
  return new MessageRegistry().registerNamespace(memberlist);
}
