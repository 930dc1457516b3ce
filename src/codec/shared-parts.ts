import type { WireCodec, WireMessageInput } from './wire-codec.js';

/**
 * Encoded parts of immutable messages, shared by every node in the thread.
 *
 * Why: each node re-gossips every alive it learns, so in a simulation of n nodes each member's join
 * alive is encoded n times into n byte arrays (small Buffers that each pin an 8 KiB pool slab while
 * they wait in a broadcast queue). The membership actor hands out one frozen alive message per shared
 * member version (membership/shared-member.ts); its part is encoded once per codec kind here, copied
 * into an array of its own size, and every queue that holds it points to the same bytes.
 *
 * A cache of a pure function: only frozen messages are cached (nobody can change them after the part
 * was made), only for codecs that declare encodePart pure (WireCodec.partCacheKey), and entries go
 * with their message (WeakMap). Parts are never written to after encoding (packets copy them).
 */
const parts = new WeakMap<object, { readonly key: string; readonly part: Uint8Array }>();

export function encodePartShared(codec: WireCodec, message: WireMessageInput): Uint8Array {
  const key = codec.partCacheKey;
  if (key === undefined || !Object.isFrozen(message)) return codec.encodePart(message);
  const hit = parts.get(message);
  if (hit !== undefined && hit.key === key) return hit.part;
  const part = new Uint8Array(codec.encodePart(message));
  // One codec kind per message in practice; another kind simply replaces the entry.
  parts.set(message, { key, part });
  return part;
}
