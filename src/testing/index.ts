/** Test and simulation helpers, published as `memberlist-ts/testing`. */
export { VirtualClock } from './virtual-clock.js';
export { SeededRandom } from '../random.js';
export { MemoryNetwork, MemoryTransport } from './memory-network.js';
export type { MemoryNetworkOptions, MemoryNetworkStats, MemoryTransportOptions, NodeRef } from './memory-network.js';
export { SimulatedCluster } from './cluster.js';
export type { SimulatedClusterOptions } from './cluster.js';
