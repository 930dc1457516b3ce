/**
 * Delegate hooks across the thread boundary. The protocol actors call hooks synchronously, in the
 * middle of a merge or an ack; in isolated mode the user's hook functions live on the host thread.
 * The worker posts a HookCall on a dedicated MessagePort and blocks (Atomics.wait on a shared
 * counter) until the host's HookReply arrives or `timeoutMs` passes, then reads the reply with
 * receiveMessageOnPort: no event-loop turn is needed on the worker side.
 *
 * A host that does not answer in time is stalled (that is why isolated mode exists), so waiting on
 * it again would drag the protocol thread down with it: after one timeout, calls take their
 * fallback at once until the host answers again (a late reply closes the circuit). Fallbacks:
 * ackPayload and localState return the host's last answer; authorize hooks follow
 * `authorizeOnTimeout`; mergeRemoteState never waits (one-way).
 */
import { worker as wk } from '../gen/index.js';
import type { Delegates, HookName, HookRunner } from '../delegates.js';
import { memberFromMessage, memberToMessage, type Member } from '../member.js';
import { serveSync, SyncCaller, type SyncEnd } from './sync-call.js';

/**
 * Host side: answers the worker's hook calls with `hooks` (the user's delegates, run through the
 * HookRunner so throws and slow calls are counted as in inline mode). Returns a function that stops
 * serving.
 */
export function serveHooks(end: SyncEnd, hooks: HookRunner): () => void {
  return serveSync(end, (body) => {
    let call: wk.HookCall;
    try {
      call = wk.HookCall.decode(body);
    } catch {
      return undefined; // only our own worker writes here; a bad frame is a bug, not an attack
    }
    const reply = answer(call, hooks);
    return call.oneway ? undefined : wk.HookReply.encode(reply).finish();
  });
}
function withBytes(reply: wk.HookReply, r: { value: Uint8Array | undefined; failed: boolean }): wk.HookReply {
  reply.failed = r.failed;
  if (r.value instanceof Uint8Array) {
    reply.bytes = r.value;
    reply.hasBytes = true;
  }
  return reply;
}

function answer(call: wk.HookCall, hooks: HookRunner): wk.HookReply {
  const reply = wk.HookReply.create({ id: call.id });
  const members = call.members.map((m) => memberFromMessage(m));
  switch (call.hook as HookName) {
    case 'ackPayload':
      return withBytes(reply, hooks.run('ackPayload', (d) => d.ackPayload?.(), undefined));
    case 'localState':
      return withBytes(reply, hooks.run('localState', (d) => d.localState?.(call.join), undefined));
    case 'authorizeAlive': {
      const m = members[0];
      if (m === undefined) return reply;
      const r = hooks.run('authorizeAlive', (d) => d.authorizeAlive?.(m), undefined);
      reply.failed = r.failed;
      if (typeof r.value === 'string') reply.reason = r.value;
      return reply;
    }
    case 'authorizeMerge': {
      const r = hooks.run('authorizeMerge', (d) => d.authorizeMerge?.(members, { join: call.join }), undefined);
      reply.failed = r.failed;
      if (typeof r.value === 'string') reply.reason = r.value;
      return reply;
    }
    case 'mergeRemoteState':
      hooks.run('mergeRemoteState', (d) => d.mergeRemoteState?.(call.state, call.join), undefined);
      return reply;
    default:
      reply.failed = true;
      return reply;
  }
}

/** The hooks that can be answered across the boundary (the others run on the host already). */
export const BRIDGED_HOOKS: readonly HookName[] = ['ackPayload', 'localState', 'authorizeAlive', 'authorizeMerge', 'mergeRemoteState'];

export interface HookClientOptions {
  /** Longest wait for one answer, ms. */
  timeoutMs: number;
  /** Verdict of an authorize hook the host did not answer in time. */
  authorizeOnTimeout: 'allow' | 'deny';
}

/** Worker side: delegates whose bodies call the host's hooks (bounded waits, documented fallbacks). */
export class HookClient {
  readonly #caller: SyncCaller;
  #lastAckPayload: Uint8Array | undefined;
  #lastLocalState = new Map<boolean, Uint8Array | undefined>();
  /** Calls that took their fallback because the host did not answer in time (or was known stalled). */
  readonly timeouts = new Map<HookName, number>();

  constructor(
    end: SyncEnd,
    private readonly options: HookClientOptions,
  ) {
    this.#caller = new SyncCaller(end);
  }

  /** Delegates for the hooks the host has: `hostHooks` names them. */
  delegates(hostHooks: readonly HookName[]): Delegates {
    const has = new Set(hostHooks);
    const d: Delegates = {};
    if (has.has('ackPayload')) d.ackPayload = () => this.#bytesHook('ackPayload', false);
    if (has.has('localState')) d.localState = (join) => this.#bytesHook('localState', join);
    if (has.has('authorizeAlive')) d.authorizeAlive = (member) => this.#authorize('authorizeAlive', [member], false);
    if (has.has('authorizeMerge')) d.authorizeMerge = (peers, ctx) => this.#authorize('authorizeMerge', peers, ctx.join);
    if (has.has('mergeRemoteState')) {
      d.mergeRemoteState = (state, join) => {
        this.#caller.post(wk.HookCall.encode(wk.HookCall.create({ hook: 'mergeRemoteState', state, join, oneway: true })).finish());
      };
    }
    return d;
  }

  #bytesHook(hook: 'ackPayload' | 'localState', join: boolean): Uint8Array | undefined {
    const reply = this.#call(wk.HookCall.create({ hook, join }));
    if (reply === undefined) return hook === 'ackPayload' ? this.#lastAckPayload : this.#lastLocalState.get(join);
    // The host's HookRunner already counted and logged the throw; here it means "use the fallback".
    if (reply.failed) throw new Error(`${hook} threw on the host`);
    const value = reply.hasBytes ? new Uint8Array(reply.bytes) : undefined;
    if (hook === 'ackPayload') this.#lastAckPayload = value;
    else this.#lastLocalState.set(join, value);
    return value;
  }

  #authorize(hook: 'authorizeAlive' | 'authorizeMerge', members: readonly Member[], join: boolean): string | undefined {
    const reply = this.#call(wk.HookCall.create({ hook, join, members: members.map(memberToMessage) }));
    if (reply === undefined) {
      return this.options.authorizeOnTimeout === 'allow' ? undefined : `${hook}: the host did not answer within ${this.options.timeoutMs} ms`;
    }
    if (reply.failed) throw new Error(`${hook} threw on the host`);
    return reply.reason === '' ? undefined : reply.reason;
  }

  #call(call: wk.HookCall): wk.HookReply | undefined {
    const bytes = this.#caller.call(wk.HookCall.encode(call).finish(), this.options.timeoutMs);
    if (bytes === undefined) {
      const hook = call.hook as HookName;
      this.timeouts.set(hook, (this.timeouts.get(hook) ?? 0) + 1);
      return undefined;
    }
    try {
      return wk.HookReply.decode(bytes);
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.#caller.close();
  }
}
