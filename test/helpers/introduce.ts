import { actors, type MemberlistNode } from '../../src/index.js';
import { toWireAddress } from '../../src/codec/address.js';

/** Tells `node` about `about` the way gossip would: an alive message delivered through its actors. */
export function introduce(node: MemberlistNode, about: MemberlistNode): void {
  const addr = toWireAddress(about.advertiseAddress.host);
  node.send(
    actors.AliveReceived.create({
      alive: {
        node: about.name,
        incarnation: about.localMember?.incarnation ?? 1,
        ipv4: addr.ipv4,
        ipv6: addr.ipv6,
        port: about.advertiseAddress.port,
        protocolMin: 1,
        protocolMax: 5,
        protocolCur: 2,
      },
      from: { host: about.advertiseAddress.host, port: about.advertiseAddress.port },
    }),
  );
}
