/**
 * Lifeguard against slow members (issue 6, item 7), the asserted slice of benchmarks/lifeguard-slow.ts:
 * 20 nodes (LAN preset, MemoryNetwork, virtual time), of which 2 become slow once the cluster has
 * converged and process every message 3 s late, inbound and outbound (MemoryNetwork.setProcessingDelay,
 * so a round trip with them takes 6 s). 3 virtual minutes with Lifeguard on (the defaults) and off
 * (awarenessMaxMultiplier 1, suspicionMaxTimeoutMult 1); buddy system and nacks in both, as memberlist
 * cannot turn them off either. Prints one `[lifeguard]` line with the figures.
 */
import { describe, expect, it } from 'vitest';
import { runSlowScenario } from '../../benchmarks/lifeguard-slow-scenario.js';

const N = 20;
const DELAY_MS = 3000;

describe('Lifeguard against slow members (MemoryNetwork, virtual time)', () => {
  it('slow members that process everything 3 s late accuse healthy ones far less, and kill none, with Lifeguard on', async () => {
    const scenario = { seed: 1, nodes: N, slowDelaysMs: [DELAY_MS, DELAY_MS], durationMs: 3 * 60_000 };
    const on = await runSlowScenario({ ...scenario, lifeguard: 'on' });
    const off = await runSlowScenario({ ...scenario, lifeguard: 'off' });
    const ratio = (a: number, b: number): string => (b === 0 ? `>= ${a}` : (a / b).toFixed(1));
    console.log(
      `[lifeguard] ${N} nodes, 2 slow (+${DELAY_MS} ms in and out), 3 min: suspicions raised by the slow about healthy ` +
        `members off ${off.slowAccusesHealthy} / on ${on.slowAccusesHealthy} (${ratio(off.slowAccusesHealthy, on.slowAccusesHealthy)}x); ` +
        `healthy members declared dead (observer x member) off ${off.healthyDeaths} / on ${on.healthyDeaths} ` +
        `(${ratio(off.healthyDeaths, on.healthyDeaths)}x); slow members declared dead off ${off.slowDeaths} / on ${on.slowDeaths}; ` +
        `mean health score of the slow with Lifeguard ${on.slowMeanScore.toFixed(1)}`,
    );
    // Without Lifeguard every probe a slow member runs fails: a round trip of 6 s against a 1 s interval.
    expect(off.slowAccusesHealthy).toBeGreaterThan(100);
    expect(on.slowAccusesHealthy).toBeLessThan(off.slowAccusesHealthy);
    // Awareness (failed probes without nacks count +3, refutations +1) keeps the slow members' probe
    // interval near its 8 s ceiling: a probe fails only when the score has decayed to where the scaled
    // interval is under the 6 s round trip. Measured 20-25x; 5x still fails if the back-off breaks.
    expect(on.slowAccusesHealthy * 5).toBeLessThan(off.slowAccusesHealthy);
    // Without Lifeguard a slow member's own suspicion times out after 4 x log10(20) = 5.2 s, before the
    // refutation (2 x 3 s + gossip) reaches it, so it declares healthy members dead.
    expect(off.healthyDeaths).toBeGreaterThan(0);
    // With Lifeguard its timer starts at 6 x 5.2 = 31 s and shrinks only with independent confirmations;
    // only the other slow member can confirm (healthy members do not accuse healthy ones), which brings it
    // to 14.8 s at best, still more than twice the refutation's way back. So no healthy member dies.
    expect(on.healthyAccusesHealthy).toBe(0);
    expect(on.healthyDeaths).toBe(0);
  }, 60_000);
});
