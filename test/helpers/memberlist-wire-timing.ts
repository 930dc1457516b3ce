/**
 * Real-socket nodes on memberlist's wire with the Go test helper's timing (probe 200 ms, timeout
 * 100 ms, gossip 50 ms, push-pull 1 s), merges inline: what the interop and wire tests start nodes with.
 */
export const MEMBERLIST_WIRE_FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  wire: 'memberlist' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  pushPullIntervalMs: 1000,
  mergeOffloadThreshold: 0,
};
