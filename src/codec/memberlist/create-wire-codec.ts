/**
 * The one place the node's wire format is chosen (config `wire`): the protobuf codec inside its
 * label / AES-GCM / CRC / deflate layers (the default), or memberlist's msgpack wire, which does the
 * same jobs in memberlist's own way and order. Either way the actors see one WireCodec, and the
 * keyring the codec encrypts with is the node's (node.keyring, the key manager).
 */
import { LayeredCodec } from '../layers.js';
import type { MemberlistConfig } from '../../config.js';
import type { Keyring } from '../../security/keyring.js';
import type { WireCodec } from '../wire-codec.js';
import { MemberlistCodec } from './memberlist-codec.js';

/** A node's codec: a WireCodec that also exposes the keyring it encrypts with. */
export type NodeWireCodec = WireCodec & { readonly keyring: Keyring | undefined };

export function createWireCodec(config: MemberlistConfig, keyring: Keyring | undefined): NodeWireCodec {
  // What both wire formats' outer layers take from the config.
  const layers = {
    label: config.label,
    skipInboundLabelCheck: config.skipInboundLabelCheck,
    keyring,
    gossipVerifyIncoming: config.gossipVerifyIncoming,
    gossipVerifyOutgoing: config.gossipVerifyOutgoing,
    enableCompression: config.enableCompression,
    maxPacketBytes: config.maxPacketSize,
    maxPushPullEntries: config.maxPushPullEntries,
  };
  if (config.wire === 'memberlist') {
    return new MemberlistCodec({ ...layers, protocolVersion: config.protocolVersion, maxStreamBytes: config.maxStreamFrameBytes });
  }
  return new LayeredCodec({ ...layers, maxStreamFrameBytes: config.maxStreamFrameBytes });
}
