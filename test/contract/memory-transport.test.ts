/**
 * MemoryTransport against the transport contract. Time is virtual: `settle` advances the VirtualClock
 * in 1 ms steps and lets promise callbacks run between steps; nothing here waits on real time.
 */
import { SeededRandom } from '../../src/random.js';
import { MemoryNetwork } from '../../src/testing/memory-network.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { transportContract } from './transport-contract.js';

/** Virtual time a predicate may take before settle gives up: far above any latency or timeout used. */
const SETTLE_LIMIT_MS = 60_000;

/** Lets queued promise callbacks run (a turn of the event loop, not a delay). */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function memoryHarness(options: { latencyMs: number; jitterMs: number }): Parameters<typeof transportContract>[1] {
  return {
    async make() {
      const clock = new VirtualClock();
      const network = new MemoryNetwork({ clock, random: new SeededRandom(7), ...options });
      const a = network.createTransport();
      const b = network.createTransport();
      return {
        a,
        b,
        settle: async (predicate: () => boolean) => {
          const start = clock.now();
          for (;;) {
            await flushPromises();
            if (clock.runUntil(predicate, 1, 1) !== undefined) {
              await flushPromises();
              if (predicate()) return;
            }
            if (clock.now() - start > SETTLE_LIMIT_MS) throw new Error(`condition not met within ${SETTLE_LIMIT_MS} ms of virtual time`);
          }
        },
        cleanup: async () => {
          await Promise.all([a.shutdown(), b.shutdown()]);
        },
      };
    },
  };
}

transportContract('MemoryTransport', memoryHarness({ latencyMs: 1, jitterMs: 0 }));
transportContract('MemoryTransport with latency and jitter', memoryHarness({ latencyMs: 20, jitterMs: 15 }));
