import { actors, wire } from '../../gen/index.js';
import type { TimerHandle } from '../../clock.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { validateKey, type Keyring } from '../../security/keyring.js';
import { BroadcastDedup } from '../user-messages/broadcast-dedup.js';
import { NameMap } from '../../util/name-table.js';
import { sharedMemberOf, type SharedMember } from '../membership/shared-member.js';

/** Key command operations (wire.KeyCommand.op). */
export const KeyOp = Object.freeze({ INSTALL: 1, USE: 2, REMOVE: 3 } as const);
export type KeyOpCode = (typeof KeyOp)[keyof typeof KeyOp];

/** What one cluster-wide key step reports: who applied it, who refused it and why, who stayed silent. */
export interface KeyRotationOutcome {
  /** Members that applied the step (the origin included when it applied it locally). */
  acked: string[];
  /** Members on which the step failed, with the reason. */
  failed: Array<{ node: string; error: string }>;
  /** Members alive when the step started that did not answer before the timeout. */
  missing: string[];
}

/** `node.keyManager`: drives a key rotation on every member from this node (in the spirit of Serf's key manager). */
export interface KeyManager {
  /** Installs `key` on every alive member (they can decrypt it; they still send with their primary). */
  install(key: Uint8Array, options?: KeyCommandOptions): Promise<KeyRotationOutcome>;
  /** Makes the installed `key` the primary on every alive member. */
  use(key: Uint8Array, options?: KeyCommandOptions): Promise<KeyRotationOutcome>;
  /** Removes `key` from every alive member (refused where it is still the primary). */
  remove(key: Uint8Array, options?: KeyCommandOptions): Promise<KeyRotationOutcome>;
}

export interface KeyCommandOptions {
  /** How long to wait for the members' acks; the silent ones are reported as missing. Default 5000 ms. */
  timeoutMs?: number;
}

export interface KeyManagerOptions {
  /** Our node name. */
  name: string;
  /** The node's own keyring (the object node.keyring returns); undefined when encryption is off. */
  keyring: Keyring | undefined;
}

interface Pending {
  readonly requestId: number;
  readonly commandId: number;
  readonly expected: Set<string>;
  readonly acked: string[];
  readonly failed: Array<{ node: string; error: string }>;
  readonly answered: Set<string>;
  readonly command: { id: number; origin: string; op: number; key: Uint8Array };
  readonly retryMs: number;
  timer: TimerHandle | undefined;
  retryTimer: TimerHandle | undefined;
}

/** Outcomes of applied commands remembered for re-acking a retry. */
const REMEMBERED_OUTCOMES = 1024;

function isAlive(p: SharedMember): boolean {
  return p.state === wire.MemberState.ALIVE;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Cluster-wide key rotation. The origin (on KeyRotationRequest) applies the step to its own keyring,
 * spreads a KeyCommand epidemically (like a membership message) and collects KeyAck datagrams from
 * the members that were alive when it started, until all answered, they died, or the timeout passed;
 * then it reports KeyRotationResult. Every other member applies a command once (deduplicated by
 * origin and id), re-gossips it, and acks to the origin. The commands travel inside the encrypted
 * layers, so only members holding a current key can issue them.
 *
 * The origin installs a key before spreading the command, but switches to it (use) or removes it only
 * once the step is over, so every member can decrypt the command and the origin every ack; it keeps
 * a key whose remove some member refused (that member still sends with it). A step that would fail
 * on the origin itself (using a key it does not hold, removing its primary) is not sent to the
 * cluster: the result names only the origin, in `failed`.
 */
export class KeyManagerActor implements Actor {
  readonly name = 'key-manager';
  readonly accepts = [
    actors.KeyRotationRequest,
    actors.KeyCommandReceived,
    actors.KeyAckReceived,
    actors.KeyRotationDeadline,
    actors.MemberChanged,
    actors.MemberRemoved,
    actors.MembersSnapshot,
  ];
  #ctx!: ActorContext;
  #nextId = 1;
  #dedup = new BroadcastDedup();
  /** Shared member versions in a dense table (membership/shared-member.ts, util/name-table.ts). */
  readonly #peers = new NameMap<SharedMember>();
  /** Open steps by command id. */
  #pending = new Map<number, Pending>();
  /** "origin#id" → error text ('' when it worked), for answering a retried command again. */
  #outcomes = new Map<string, string>();
  /** Commands applied from other origins, and acks sent. */
  applied = 0;

  constructor(private readonly options: KeyManagerOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#dedup = new BroadcastDedup();
    this.#peers.clear();
    this.#pending = new Map();
    this.#outcomes = new Map();
    // A random first id: a restarted origin must not reuse ids its peers still remember as seen.
    this.#nextId = (ctx.random.int(0x7fffffff) + 1) >>> 0;
    // After a restart we have missed every MemberChanged so far.
    ctx.send(actors.MembersSnapshotRequest.create({ requester: this.name }));
  }

  stop(): void {
    for (const p of this.#pending.values()) {
      p.timer?.cancel();
      p.retryTimer?.cancel();
    }
    this.#pending.clear();
  }

  receive(message: object): void {
    if (message instanceof actors.KeyRotationRequest) this.#request(message);
    else if (message instanceof actors.KeyCommandReceived) this.#command(message);
    else if (message instanceof actors.KeyAckReceived) this.#ack(message);
    else if (message instanceof actors.KeyRotationDeadline) {
      if (message.retry) this.#retry(message.requestId);
      else this.#deadline(message.requestId);
    }
    else if (message instanceof actors.MemberChanged) this.#member(message.member, message.local);
    else if (message instanceof actors.MemberRemoved) this.#removed(message.name);
    else if (message instanceof actors.MembersSnapshot) {
      if (message.requester !== this.name) return;
      for (const m of message.members) this.#member(m, m.name === this.options.name);
    }
  }

  // ───── member view ─────

  #member(member: actors.IMember | null | undefined, local: boolean): void {
    if (member === null || member === undefined || !member.name || local || member.name === this.options.name) return;
    const peer = sharedMemberOf(member);
    const alive = isAlive(peer);
    const wasAlive = this.#peers.get(member.name)?.state === wire.MemberState.ALIVE;
    this.#peers.set(member.name, peer);
    for (const p of this.#pending.values()) {
      if (!alive) {
        if (p.expected.has(member.name)) this.#maybeFinish(p);
      } else if (!wasAlive) {
        this.#askLate(p, member.name, peer);
      }
    }
  }

  /**
   * A member that joined (or came back) while a step is open: the epidemic may be over before it
   * arrived, so it is asked directly, and the step waits for its answer like any other member's (it
   * ends up acked, failed or missing, never silently left out).
   */
  #askLate(p: Pending, name: string, peer: SharedMember): void {
    if (p.expected.has(name) || p.answered.has(name) || !peer.host || !peer.port) return;
    p.expected.add(name);
    this.#ctx.send(
      actors.SendPacket.create({ to: { host: peer.host, port: peer.port }, toNode: name, messages: [{ keyCommand: { ...p.command, retry: true } }] }),
    );
  }

  #removed(name: string): void {
    this.#peers.delete(name);
    this.#dedup.forget(name);
    for (const p of this.#pending.values()) if (p.expected.has(name)) this.#maybeFinish(p);
  }

  // ───── origin side ─────

  #request(m: actors.KeyRotationRequest): void {
    const key = m.key ? new Uint8Array(m.key) : new Uint8Array(0);
    const self = this.options.name;
    // install applies here at once; use and remove only at the end (see #finish), so every member
    // can still decrypt the command and we can still decrypt every member's ack.
    const localError = m.op === KeyOp.INSTALL ? this.#apply(m.op, key) : this.#check(m.op, key);
    if (localError !== undefined) {
      this.#ctx.send(
        actors.KeyRotationResult.create({ requestId: m.requestId, acked: [], failed: [{ node: self, error: localError }], missing: [] }),
      );
      return;
    }
    const commandId = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    // Our own command comes back by gossip: it is already applied here.
    this.#dedup.accept(self, commandId, '');
    const expected = new Set<string>();
    for (const [name, p] of this.#peers) if (isAlive(p)) expected.add(name);
    const timeoutMs = m.timeoutMs > 0 ? m.timeoutMs : 5000;
    const pending: Pending = {
      requestId: m.requestId,
      commandId,
      expected,
      acked: m.op === KeyOp.INSTALL ? [self] : [],
      failed: [],
      answered: new Set(),
      command: { id: commandId, origin: self, op: m.op, key },
      // The epidemic reaches almost everyone in a few gossip rounds; the rest get it directly.
      retryMs: timeoutMs / 5,
      timer: undefined,
      retryTimer: undefined,
    };
    this.#pending.set(commandId, pending);
    this.#spread(pending.command);
    pending.timer = this.#ctx.schedule(timeoutMs, actors.KeyRotationDeadline.create({ requestId: commandId }));
    pending.retryTimer = this.#ctx.schedule(pending.retryMs, actors.KeyRotationDeadline.create({ requestId: commandId, retry: true }));
    this.#maybeFinish(pending);
  }

  #ack(m: actors.KeyAckReceived): void {
    const a = m.ack;
    if (a === null || a === undefined || !a.node) return;
    const p = this.#pending.get(a.id ?? 0);
    if (p === undefined || p.answered.has(a.node) || a.node === this.options.name) return;
    p.answered.add(a.node);
    if (a.ok) p.acked.push(a.node);
    else p.failed.push({ node: a.node, error: a.error || 'failed' });
    this.#maybeFinish(p);
  }

  /** `requestId` of the deadline is the command id (it is a timer to self). */
  #deadline(commandId: number): void {
    const p = this.#pending.get(commandId);
    if (p !== undefined) this.#finish(p);
  }

  /** Re-sends the command directly to every expected member that is alive and has not answered. */
  #retry(commandId: number): void {
    const p = this.#pending.get(commandId);
    if (p === undefined) return;
    for (const name of p.expected) {
      if (p.answered.has(name)) continue;
      const peer = this.#peers.get(name);
      if (peer === undefined || !isAlive(peer) || !peer.host || !peer.port) continue;
      this.#ctx.send(
        actors.SendPacket.create({ to: { host: peer.host, port: peer.port }, toNode: name, messages: [{ keyCommand: { ...p.command, retry: true } }] }),
      );
    }
    p.retryTimer = this.#ctx.schedule(p.retryMs, actors.KeyRotationDeadline.create({ requestId: commandId, retry: true }));
  }

  /** Done when every expected member answered or is no longer alive. */
  #maybeFinish(p: Pending): void {
    for (const name of p.expected) {
      if (p.answered.has(name)) continue;
      if (this.#peers.get(name)?.state === wire.MemberState.ALIVE) return;
    }
    this.#finish(p);
  }

  #finish(p: Pending): void {
    if (!this.#pending.delete(p.commandId)) return;
    p.timer?.cancel();
    p.retryTimer?.cancel();
    const self = this.options.name;
    if (p.command.op !== KeyOp.INSTALL) {
      // A member that refused a remove still sends with that key: keep it so we still hear it.
      const error =
        p.command.op === KeyOp.REMOVE && p.failed.length > 0
          ? `kept here: ${p.failed.length} member(s) refused the remove`
          : this.#apply(p.command.op, p.command.key);
      if (error === undefined) p.acked.push(self);
      else p.failed.push({ node: self, error });
    }
    const missing = [...p.expected].filter((n) => !p.answered.has(n)).sort();
    this.#ctx.send(
      actors.KeyRotationResult.create({
        requestId: p.requestId,
        acked: [...p.acked].sort(),
        failed: [...p.failed].sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : 0)),
        missing,
      }),
    );
  }

  // ───── receiver side ─────

  #command(m: actors.KeyCommandReceived): void {
    const c = m.command;
    if (c === null || c === undefined || !c.origin) return;
    const id = c.id ?? 0;
    if (c.origin === this.options.name) return;
    const name = `${c.origin}#${id}`;
    if (!this.#dedup.accept(c.origin, id, '')) {
      // Seen: answer again only when the origin asks directly (our ack may have been lost).
      const outcome = this.#outcomes.get(name);
      if (c.retry === true && outcome !== undefined) this.#sendAck(c.origin, id, outcome === '' ? undefined : outcome);
      return;
    }
    const key = c.key ? new Uint8Array(c.key) : new Uint8Array(0);
    const op = c.op ?? 0;
    const error = this.#apply(op, key);
    this.applied++;
    this.#outcomes.set(name, error ?? '');
    if (this.#outcomes.size > REMEMBERED_OUTCOMES) {
      const oldest = this.#outcomes.keys().next().value;
      if (oldest !== undefined) this.#outcomes.delete(oldest);
    }
    // Re-gossip first: the spread must not depend on whether the step worked here.
    this.#spread({ id, origin: c.origin, op, key });
    this.#sendAck(c.origin, id, error);
  }

  #sendAck(originName: string, id: number, error: string | undefined): void {
    const origin = this.#peers.get(originName);
    if (origin === undefined || !origin.host || !origin.port) {
      this.#ctx.logger.debug({ origin: originName, id }, 'key command from an origin we do not know: no ack');
      return;
    }
    this.#ctx.send(
      actors.SendPacket.create({
        to: { host: origin.host, port: origin.port },
        toNode: originName,
        messages: [{ keyAck: { id, node: this.options.name, ok: error === undefined, error: error ?? '' } }],
      }),
    );
  }

  // ───── shared ─────

  #spread(command: { id: number; origin: string; op: number; key: Uint8Array }): void {
    this.#ctx.send(
      actors.QueueBroadcast.create({
        key: `keycmd#${command.origin}#${command.id}`,
        message: { keyCommand: command },
        user: false,
      }),
    );
  }

  /** Whether `op` would work on our keyring now (the error text), without applying it. */
  #check(op: number, key: Uint8Array): string | undefined {
    const ring = this.options.keyring;
    if (ring === undefined) return 'encryption is not enabled on this node (no keyring)';
    try {
      validateKey(key);
    } catch (err) {
      return errorText(err);
    }
    const primary = ring.primary;
    if (op === KeyOp.USE) return ring.has(key) ? undefined : 'the key is not installed: install it on every node before using it';
    if (op === KeyOp.REMOVE) {
      return primary !== undefined && Buffer.from(primary).equals(Buffer.from(key))
        ? 'cannot remove the primary key: use another key first'
        : undefined;
    }
    return `unknown key operation ${op}`;
  }

  /** Applies one op to our keyring; returns the error text, or undefined when it worked. */
  #apply(op: number, key: Uint8Array): string | undefined {
    const ring = this.options.keyring;
    if (ring === undefined) return 'encryption is not enabled on this node (no keyring)';
    try {
      if (op === KeyOp.INSTALL) ring.install(key);
      else if (op === KeyOp.USE) ring.use(key);
      else if (op === KeyOp.REMOVE) ring.remove(key);
      else return `unknown key operation ${op}`;
    } catch (err) {
      return errorText(err);
    }
    this.#ctx.logger.info({ op, keys: ring.size }, 'keyring changed by a cluster key command');
    return undefined;
  }
}
