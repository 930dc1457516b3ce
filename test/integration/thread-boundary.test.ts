import { describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import { actors } from '../../src/gen/index.js';
import { RealClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { spawnOnThread } from '../../src/runtime/thread-boundary.js';
import type { ActorError } from '../../src/errors.js';

const fixture = new URL('../fixtures/echo-group.ts', import.meta.url);

function collector(): { actor: Actor; acks: InstanceType<typeof actors.AckReceived>[]; waitFor(n: number): Promise<void> } {
  const acks: InstanceType<typeof actors.AckReceived>[] = [];
  let wake: (() => void) | undefined;
  return {
    acks,
    actor: {
      name: 'collector',
      accepts: [actors.AckReceived],
      receive(m) {
        if (m instanceof actors.AckReceived) acks.push(m);
        wake?.();
      },
    },
    async waitFor(n: number) {
      while (acks.length < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

function ping(seqNo: number, node = 'echo'): object {
  return actors.PingReceived.create({ ping: { seqNo, node }, from: { host: '127.0.0.1', port: 1 }, receivedAtMs: 0 });
}

describe('thread boundary', () => {
  it('an actor on a worker thread receives messages and answers, in transferred protobuf batches', async () => {
    const sup = new Supervisor({ nodeName: 'n1', clock: new RealClock(), random: new SeededRandom(1), logger: silentLogger() });
    const c = collector();
    sup.spawn(c.actor);
    spawnOnThread(sup, { group: 'echo', module: fixture, accepts: [actors.PingReceived] });
    sup.start();
    for (let i = 1; i <= 100; i++) sup.send(ping(i));
    await c.waitFor(100);
    expect(c.acks.map((a) => a.ack?.seqNo)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const workerThread = Number(new TextDecoder().decode(c.acks[0]?.ack?.payload ?? new Uint8Array()));
    expect(workerThread).not.toBe(threadId);
    expect(workerThread).toBeGreaterThan(0);
    await sup.stop();
  });

  it('a worker that dies is restarted by policy, and past the budget the node fails', async () => {
    const sup = new Supervisor({
      nodeName: 'n1',
      clock: new RealClock(),
      random: new SeededRandom(1),
      logger: silentLogger(),
      maxRestarts: 1,
      restartWindowMs: 60_000,
    });
    const failures: ActorError[] = [];
    sup.onFailure((e) => failures.push(e));
    const c = collector();
    sup.spawn(c.actor);
    spawnOnThread(sup, { group: 'echo', module: fixture, accepts: [actors.PingReceived] });
    sup.start();
    sup.send(ping(1, 'exit'));
    // After the restart the new worker answers.
    for (let i = 0; c.acks.length === 0 && i < 200; i++) {
      sup.send(ping(2));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(c.acks.length).toBeGreaterThan(0);
    expect(sup.stats().find((s) => s.name === 'thread:echo')?.restarts).toBe(1);
    sup.send(ping(3, 'exit'));
    for (let i = 0; failures.length === 0 && i < 200; i++) await new Promise((r) => setTimeout(r, 25));
    expect(failures[0]?.code).toBe('ERR_ACTOR');
    expect(failures[0]?.actor).toBe('thread:echo');
    await sup.stop();
  });
});
