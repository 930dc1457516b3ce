import { worker } from '../gen/index.js';
import { typeNameOf, classOf, type MessageRegistry } from './message-type.js';

/** First byte of every buffer posted across a thread boundary. */
export const enum BoundaryFrame {
  Batch = 1,
  Control = 2,
}

/**
 * Returns bytes in an ArrayBuffer that nobody else shares, so that it can be transferred. A small
 * protobufjs encode returns a view into Node's shared 8 KiB Buffer pool; transferring that buffer
 * silently copies the whole slab instead of detaching it (node-stack.md §2a).
 */
export function ownedArrayBuffer(bytes: Uint8Array, prefix?: number): ArrayBuffer {
  const extra = prefix === undefined ? 0 : 1;
  const out = new ArrayBuffer(bytes.byteLength + extra);
  const view = new Uint8Array(out);
  if (prefix !== undefined) view[0] = prefix;
  view.set(bytes, extra);
  return out;
}

/** Encodes one actor message as an Envelope (its type name and encoded body). */
export function toEnvelope(message: object): worker.Envelope {
  const type = classOf(message);
  if (type === undefined) throw new TypeError('only generated protobuf messages can cross a thread boundary');
  return worker.Envelope.create({ type: typeNameOf(type), body: type.encode(message).finish() });
}

/** Encodes a batch of messages into a transferable buffer. */
export function encodeBatch(messages: readonly object[]): ArrayBuffer {
  const batch = worker.Batch.create({ envelopes: messages.map(toEnvelope) });
  return ownedArrayBuffer(worker.Batch.encode(batch).finish(), BoundaryFrame.Batch);
}

export function encodeControl(control: worker.ThreadControl): ArrayBuffer {
  return ownedArrayBuffer(worker.ThreadControl.encode(control).finish(), BoundaryFrame.Control);
}

export type DecodedFrame =
  | { kind: 'batch'; messages: object[]; unknownTypes: string[] }
  | { kind: 'control'; control: worker.ThreadControl }
  | { kind: 'invalid'; reason: string };

/** Decodes a buffer received from the other side of a boundary. Never throws. */
export function decodeFrame(data: unknown, registry: MessageRegistry): DecodedFrame {
  if (!(data instanceof ArrayBuffer) || data.byteLength === 0) return { kind: 'invalid', reason: 'not a non-empty ArrayBuffer' };
  const bytes = new Uint8Array(data, 1);
  const tag = new Uint8Array(data, 0, 1)[0];
  try {
    if (tag === BoundaryFrame.Control) return { kind: 'control', control: worker.ThreadControl.decode(bytes) };
    if (tag !== BoundaryFrame.Batch) return { kind: 'invalid', reason: `unknown frame tag ${String(tag)}` };
    const batch = worker.Batch.decode(bytes);
    const messages: object[] = [];
    const unknownTypes: string[] = [];
    for (const env of batch.envelopes) {
      const type = env.type ?? '';
      if (!registry.has(type)) {
        unknownTypes.push(type);
        continue;
      }
      messages.push(registry.get(type).decode(env.body ?? new Uint8Array(0)));
    }
    return { kind: 'batch', messages, unknownTypes };
  } catch (err) {
    return { kind: 'invalid', reason: err instanceof Error ? err.message : String(err) };
  }
}
