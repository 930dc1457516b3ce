// Worker-side host of an actor group placed on its own thread (src/runtime/thread-boundary.ts is
// the other side). It runs the group's actors under their own supervisor and exchanges messages
// with the host as transferred protobuf batches over the parent port.
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { RealClock } from '../src/clock.js';
import { builtinRegistry, worker as wk } from '../src/gen/index.js';
import { cryptoSeededRandom } from '../src/random.js';
import type { Actor } from '../src/runtime/actor.js';
import type { ActorGroupModule, ActorGroupWorkerData } from '../src/runtime/actor-group.js';
import { BatchSender } from '../src/runtime/batch-sender.js';
import { decodeFrame, encodeControl } from '../src/runtime/envelope.js';
import type { MessageClass } from '../src/runtime/message-type.js';
import { Supervisor } from '../src/runtime/supervisor.js';

const HOST_PROXY = 'host-proxy';

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('actor-group must run in a worker thread');
  const data = workerData as ActorGroupWorkerData;
  const clock = new RealClock();
  const registry = builtinRegistry();
  // Log lines go to the host's logger when it asked (the user's pino instance cannot cross threads),
  // through the same batches as the actor messages, so they keep their order with them.
  let forward: BatchSender | undefined;
  const logger = data.forwardLogs
    ? pino({ level: data.logLevel, base: undefined, timestamp: false }, { write: (line: string) => forwardLog(forward, line) }).child({ group: data.group })
    : pino({ level: data.logLevel }, pino.destination(2)).child({ node: data.nodeName, group: data.group });
  const mod = (await import(data.module)) as Partial<ActorGroupModule>;
  if (typeof mod.createActors !== 'function') throw new Error(`${data.module} does not export createActors()`);
  for (const t of mod.messageTypes ?? []) registry.register(t);

  const post = (buf: ArrayBuffer): void => port.postMessage(buf, [buf]);
  const supervisor = new Supervisor({ nodeName: data.nodeName, clock, random: cryptoSeededRandom(), logger });
  supervisor.onFailure((err) => {
    post(encodeControl(wk.ThreadControl.create({ failed: { group: data.group, actor: err.actor, error: err.message } })));
  });

  // Forwards to the host every message whose type the host side accepts.
  const sender = new BatchSender(clock, post);
  forward = sender;
  const hostTypes: MessageClass[] = data.hostAccepts.filter((n) => registry.has(n)).map((n) => registry.get(n));
  const proxy: Actor = { name: HOST_PROXY, accepts: hostTypes, receive: (m) => sender.add(m) };
  supervisor.spawn(proxy);
  // Types the host starts accepting later (an actor spawned there after start) get a proxy of their
  // own: a spawned actor's routes are fixed, and the host's list only grows.
  const forwarded = new Set(hostTypes);
  let extraProxies = 0;
  const addHostAccepts = (names: readonly string[]): void => {
    const fresh = names.filter((n) => registry.has(n)).map((n) => registry.get(n)).filter((t) => !forwarded.has(t));
    if (fresh.length === 0) return;
    for (const t of fresh) forwarded.add(t);
    supervisor.spawn({ name: `${HOST_PROXY}-${++extraProxies}`, accepts: fresh, receive: (m) => sender.add(m) });
  };
  for (const actor of await mod.createActors({ nodeName: data.nodeName, group: data.group, options: data.options, logger, supervisor })) {
    supervisor.spawn(actor);
  }

  port.on('message', (raw: unknown) => {
    const frame = decodeFrame(raw, registry);
    if (frame.kind === 'batch') {
      for (const m of frame.messages) {
        // Handled here, before the batch's other messages are routed: a request that follows it in
        // the same batch may be answered with a message of the newly accepted type.
        if (m instanceof wk.HostAccepts) addHostAccepts(m.types);
        else supervisor.sendExcept(m, HOST_PROXY);
      }
    } else if (frame.kind === 'control' && frame.control.stop) {
      sender.flush();
      void supervisor
        .stop()
        .then(() => mod.stopGroup?.())
        .catch((err: unknown) => logger.warn({ err }, 'group teardown failed'))
        .then(() => {
          sender.flush();
          post(encodeControl(wk.ThreadControl.create({ stopped: { group: data.group } })));
          port.close();
        });
    } else if (frame.kind === 'invalid') {
      logger.warn({ reason: frame.reason }, 'invalid frame from host dropped');
    }
  });
  supervisor.start();
  post(
    encodeControl(
      wk.ThreadControl.create({ started: { group: data.group, accepts: supervisor.acceptedTypes().map((t) => t.getTypeUrl('').slice(1)) } }),
    ),
  );
}

/** Numeric pino level of a JSON log line (30 = info when it cannot be read). */
function forwardLog(sender: BatchSender | undefined, line: string): void {
  if (sender === undefined) return;
  const m = /"level":(\d+)/.exec(line);
  sender.add(wk.LogRecord.create({ level: m ? Number(m[1]) : 30, json: line }));
}

main().catch((err: unknown) => {
  // Startup failed (bad module path, createActors threw): report it, then exit non-zero so the host
  // sees the death whatever state the port is in.
  const message = err instanceof Error ? err.message : String(err);
  parentPort?.postMessage(...((): [ArrayBuffer, ArrayBuffer[]] => {
    const b = encodeControl(wk.ThreadControl.create({ failed: { group: String((workerData as ActorGroupWorkerData).group), actor: 'startup', error: message } }));
    return [b, [b]];
  })());
  // Exit at once: whatever the module opened before it failed (a bound socket) must not keep the
  // thread alive. Messages already posted are still delivered.
  process.exit(1);
});
