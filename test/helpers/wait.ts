import type { MemberlistNode, NodeEventMap, NodeEventName } from '../../src/index.js';

/**
 * Resolves once `predicate` holds, re-checking on every event of the given nodes (real-socket tests
 * wait for what happens, not for a fixed time). Rejects after `limitMs` so a broken cluster fails the
 * test instead of hanging it; the limit is a guard, never a tolerance the assertion depends on.
 */
export function waitForCluster(
  nodes: readonly MemberlistNode[],
  predicate: () => boolean,
  limitMs: number,
  events: readonly NodeEventName[] = ['join', 'leave', 'suspect', 'alive', 'update'],
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const listeners: Array<[MemberlistNode, NodeEventName, (e: NodeEventMap[NodeEventName]) => void]> = [];
    const cleanup = (): void => {
      clearTimeout(guard);
      for (const [n, ev, fn] of listeners) n.off(ev, fn);
    };
    const check = (): void => {
      if (predicate()) {
        cleanup();
        resolve();
      }
    };
    const guard = setTimeout(() => {
      cleanup();
      reject(new Error(`cluster condition not reached within ${limitMs} ms`));
    }, limitMs);
    for (const n of nodes) {
      for (const ev of events) {
        n.on(ev, check);
        listeners.push([n, ev, check]);
      }
    }
  });
}
