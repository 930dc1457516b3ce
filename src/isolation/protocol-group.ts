/**
 * The protocol actors as an actor group (threading 'isolated'): imported inside the protocol
 * worker by workers/actor-group.ts, it binds the node's own sockets there, builds the same stack
 * createNode builds inline (src/protocol-stack.ts), and adds the bridge to the host. Nothing here
 * runs on the host thread.
 */
import { pathToFileURL } from 'node:url';
import { advertiseEndpoint } from '../advertise.js';
import { WorkerMergeExecutor } from '../actors/push-pull/worker-merge-executor.js';
import { RealClock } from '../clock.js';
import type { MemberlistConfig } from '../config.js';
import { HookRunner, type Delegates, type HookName } from '../delegates.js';
import type { Actor } from '../runtime/actor.js';
import type { ActorGroupContext, ActorGroupModule } from '../runtime/actor-group.js';
import type { MessageClass } from '../runtime/message-type.js';
import { Keyring } from '../security/keyring.js';
import { NetTransport } from '../transport/net-transport.js';
import { createCodec, createMergeExecutor, protocolThreadMetrics, spawnProtocolStack, type ProtocolThreadMetrics } from '../protocol-stack.js';
import { HookClient } from './hook-channel.js';
import { serveSync, type SyncEnd } from './sync-call.js';
import { worker as wk } from '../gen/index.js';
import { ProtocolBridgeActor } from './protocol-bridge-actor.js';

/** What the host sends the protocol group (workerData `options`; structured-cloned, port transferred). */
export interface ProtocolGroupOptions {
  config: MemberlistConfig;
  meta: Uint8Array;
  mergeOffloadThreshold: number;
  /** Hooks the host's delegates define (answered across the hook channel). */
  hostHooks: HookName[];
  /** Our end of the hook channel (we call, the host answers) and of the metrics channel (the host calls). */
  hooks: SyncEnd;
  metrics: SyncEnd;
  hookTimeoutMs: number;
  authorizeOnTimeout: 'allow' | 'deny';
  /** File URL of a module whose `delegates` export runs here, in the protocol thread (overrides host hooks). */
  delegatesModule: string | undefined;
  /** File URLs of ActorGroupModules whose actors run here beside the protocol actors. */
  actorModules: string[];
}

let teardown: (() => Promise<void>) | undefined;
const messageTypeList: MessageClass[] = [];

async function loadDelegates(href: string | undefined): Promise<Delegates> {
  if (href === undefined) return {};
  const mod = (await import(href)) as { delegates?: Delegates; default?: Delegates };
  const d = mod.delegates ?? mod.default;
  if (typeof d !== 'object' || d === null) throw new Error(`${href} exports no \`delegates\` object`);
  return d;
}

export async function createActors(ctx: ActorGroupContext): Promise<Actor[]> {
  const o = ctx.options as ProtocolGroupOptions;
  const { config, logger } = { config: o.config, logger: ctx.logger };
  const clock = new RealClock();
  const local = await loadDelegates(o.delegatesModule);
  const hookClient = new HookClient(o.hooks, { timeoutMs: o.hookTimeoutMs, authorizeOnTimeout: o.authorizeOnTimeout });
  const hostHooks = o.hostHooks.filter((h) => typeof local[h] !== 'function');
  const hooks = new HookRunner({ ...hookClient.delegates(hostHooks), ...local }, clock, logger.child({ actor: 'delegates' }));
  const custom: Actor[] = [];
  for (const href of o.actorModules) {
    const mod = (await import(href)) as Partial<ActorGroupModule>;
    if (typeof mod.createActors !== 'function') throw new Error(`${href} does not export createActors()`);
    messageTypeList.push(...(mod.messageTypes ?? []));
    custom.push(...(await mod.createActors(ctx)));
  }
  // Bind last: nothing above can leave a socket open if it throws.
  const transport = await NetTransport.create({ bindAddr: config.bindAddr, bindPort: config.bindPort, clock, logger });
  const advertise = advertiseEndpoint(transport.localAddress, config.advertiseAddr, config.advertisePort);
  const keyring = config.secretKey !== null ? new Keyring([config.secretKey]) : undefined;
  const codec = createCodec(config, keyring);
  const mergeExecutor = createMergeExecutor(config, o.mergeOffloadThreshold);
  const actors: Actor[] = [];
  const stack = spawnProtocolStack({
    config,
    spawn: (a) => actors.push(a),
    transport,
    codec,
    advertise,
    meta: o.meta,
    hooks,
    mergeExecutor,
    monitorLoop: true,
    compressOffThread: true,
  });
  const metrics = (): ProtocolThreadMetrics => {
    const m = protocolThreadMetrics(stack, transport, ctx.supervisor, hooks);
    for (const [hook, n] of hookClient.timeouts) {
      const s = (m.hooks[hook] ??= { calls: 0, errors: 0, slow: 0 });
      s.timeouts = n;
    }
    return m;
  };
  const stopMetrics = serveSync(o.metrics, () => wk.MetricsSnapshot.encode(wk.MetricsSnapshot.create({ json: JSON.stringify(metrics()) })).finish());
  const bridge = new ProtocolBridgeActor({
    started: {
      host: transport.localAddress.host,
      port: transport.localAddress.port,
      advertiseHost: advertise.host,
      advertisePort: advertise.port,
      transport: transport.kind,
    },
    keyring,
    metrics,
  });
  teardown = async () => {
    if (mergeExecutor instanceof WorkerMergeExecutor) await mergeExecutor.close();
    await transport.shutdown();
    hookClient.close();
    stopMetrics();
  };
  logger.info({ address: transport.localAddress, advertise }, 'protocol thread started');
  // The bridge first: the host learns the bound address before any member event.
  return [bridge, ...actors, ...custom];
}

export async function stopGroup(): Promise<void> {
  await teardown?.();
  teardown = undefined;
}

export const messageTypes: readonly MessageClass[] = messageTypeList;

/** Where this module lives, for the host's spawnOnThread (a .ts URL from source, .js from dist/). */
export const PROTOCOL_GROUP_MODULE = import.meta.url;

export function moduleHref(pathOrUrl: string | URL): string {
  if (pathOrUrl instanceof URL) return pathOrUrl.href;
  return /^[a-z]+:/i.test(pathOrUrl) ? pathOrUrl : pathToFileURL(pathOrUrl).href;
}
