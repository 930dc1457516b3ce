// Piscina task module of the push-pull merge worker (src/actors/push-pull/worker-merge-executor.ts
// is the host side). One thread per pool, shared by the executors of a thread (shared-merge-pool.ts):
// it keeps each executor's mirror of its member table between tasks, by executor id, and merges
// received frames against the mirror the task names. Inputs and outputs are transferred ArrayBuffers.
//
// From a build, piscina loads dist/workers/merge-worker.js. From source (tests, tsx), the pool's
// threads start with tsx's loader in execArgv, so piscina can import this .ts file.
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import {
  MergeWorkerStates,
  type MergeTaskResult,
  type MergeWorkerTask,
  type MirrorTaskResult,
} from '../src/actors/push-pull/merge-worker-core.js';
import type { RemoteEntries } from '../src/actors/push-pull/merge.js';

/** Test-only switch (workerData.mergeWorkerTest): fail on a push-pull that carries this entry name. */
interface TestSwitch {
  readonly crashOnName: string;
  /**
   * 'exit': the thread dies (process.exit in a worker ends the thread); 'throw': the task throws;
   * 'hang': the task never finishes (a busy loop, ended only by terminating the thread).
   */
  readonly mode: 'exit' | 'throw' | 'hang';
}

function testSwitch(): TestSwitch | undefined {
  const data = workerData as { mergeWorkerTest?: Partial<TestSwitch> } | null | undefined;
  const t = data?.mergeWorkerTest;
  if (t === undefined || typeof t.crashOnName !== 'string' || t.crashOnName === '') return undefined;
  return { crashOnName: t.crashOnName, mode: t.mode === 'throw' || t.mode === 'hang' ? t.mode : 'exit' };
}

const states = new MergeWorkerStates();
const crash = testSwitch();

function inspect(entries: RemoteEntries): void {
  if (crash === undefined) return;
  let found = false;
  entries.each((e) => (found = e.name === crash.crashOnName));
  if (!found) return;
  if (crash.mode === 'exit') process.exit(70);
  if (crash.mode === 'hang') for (;;);
  throw new Error(`test crash on ${crash.crashOnName}`);
}

/** A result whose buffers are transferred back, not cloned (piscina's transferable protocol). */
function transferred(result: MergeTaskResult): unknown {
  const list = result.frame !== undefined ? [result.diff, result.frame] : [result.diff];
  return move({
    get [transferableSymbol]() {
      return list;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}

export default function mergeWorker(task: MergeWorkerTask): unknown {
  if (task.kind === 'mirror') {
    const inSync: MirrorTaskResult = states.applyUpdate(task.executor ?? 0, new Uint8Array(task.update));
    return inSync;
  }
  if (task.kind === 'drop') return states.drop(task.executor);
  return transferred(states.merge(task, inspect));
}
