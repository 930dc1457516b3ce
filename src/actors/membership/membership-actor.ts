import { actors } from '../../gen/index.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { decideAlive, type AliveClaim } from './alive-rule.js';
import { hostOfAlive, ownedBytes, toMemberMessage, vsnOfAlive, type MemberRecord, type ProtocolVersions } from './member-record.js';

export interface MembershipOptions {
  /** Our own name and advertised address. */
  name: string;
  host: string;
  port: number;
  meta: Uint8Array;
  vsn: ProtocolVersions;
  deadNodeReclaimTimeMs: number;
}

/**
 * The single writer of the member table. Every change goes through a pure rule (alive-rule.ts and its
 * siblings) and is then published as MemberChanged, from which every other actor keeps its own view.
 */
export class MembershipActor implements Actor {
  readonly name = 'membership';
  readonly accepts = [actors.AliveReceived];
  #ctx!: ActorContext;
  #members = new Map<string, MemberRecord>();
  #incarnation = 0;
  #hasLeft = false;
  /** Claims dropped by reason (malformed address, stale, bad versions...). */
  readonly ignored = new Map<string, number>();

  constructor(private readonly options: MembershipOptions) {}

  start(ctx: ActorContext): void {
    this.#ctx = ctx;
    this.#members = new Map();
    this.#hasLeft = false;
    this.#incarnation = 0;
    const o = this.options;
    this.#apply(
      { name: o.name, host: o.host, port: o.port, meta: o.meta, incarnation: this.#nextIncarnation(), vsn: o.vsn },
      true,
    );
  }

  receive(message: object): void {
    if (message instanceof actors.AliveReceived) this.#onAlive(message);
  }

  #onAlive(m: actors.AliveReceived): void {
    const a = m.alive;
    const host = a === null || a === undefined ? undefined : hostOfAlive(a);
    if (a === null || a === undefined || host === undefined || !a.node || !a.port) {
      this.#ignore('malformed');
      return;
    }
    this.#apply(
      { name: a.node, host, port: a.port, meta: ownedBytes(a.meta), incarnation: a.incarnation ?? 0, vsn: vsnOfAlive(a) },
      false,
    );
  }

  #apply(claim: AliveClaim, bootstrap: boolean): void {
    const existing = this.#members.get(claim.name);
    const d = decideAlive(existing, claim, {
      localName: this.options.name,
      nowMs: this.#ctx.clock.now(),
      deadNodeReclaimTimeMs: this.options.deadNodeReclaimTimeMs,
      bootstrap,
      hasLeft: this.#hasLeft,
    });
    switch (d.kind) {
      case 'ignore':
        this.#ignore(d.reason);
        return;
      case 'conflict':
        this.#ctx.logger.warn(
          { member: claim.name, mine: `${d.existing.host}:${d.existing.port}`, theirs: `${claim.host}:${claim.port}` },
          'conflicting address for member',
        );
        this.#ignore('conflict');
        return;
      case 'refute':
        this.#refute(d.accusedIncarnation);
        return;
      case 'apply':
        this.#members.set(d.record.name, d.record);
        if (d.record.name === this.options.name) this.#incarnation = Math.max(this.#incarnation, d.record.incarnation);
        this.#publish(d.record, d.previous);
        if (d.event === 'join') this.#ctx.logger.info({ member: d.record.name }, 'member joined');
        return;
      default: {
        const never: never = d;
        return never;
      }
    }
  }

  /** Refutation at max(own + 1, accused + 1) (memberlist §5). */
  #refute(accused: number): void {
    const me = this.#members.get(this.options.name);
    if (me === undefined) return;
    let inc = this.#nextIncarnation();
    if (accused >= inc) inc = this.#incarnation = accused + 1;
    const record: MemberRecord = { ...me, incarnation: inc };
    this.#members.set(me.name, record);
    this.#ctx.logger.warn({ accused, incarnation: inc }, 'refuting a claim about us');
    this.#publish(record, me);
  }

  #nextIncarnation(): number {
    this.#incarnation = (this.#incarnation + 1) >>> 0;
    return this.#incarnation;
  }

  #publish(record: MemberRecord, previous: MemberRecord | undefined): void {
    this.#ctx.send(
      actors.MemberChanged.create({
        member: toMemberMessage(record),
        previous: previous === undefined ? null : toMemberMessage(previous),
        local: record.name === this.options.name,
        numMembers: this.#members.size,
      }),
    );
  }

  #ignore(reason: string): void {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + 1);
  }
}

