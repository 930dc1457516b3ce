import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { actors, wire, SeededRandom, type Actor, type ActorContext, type MemberlistNode } from '../../src/index.js';
import { SimulatedCluster, VirtualClock } from '../../src/testing/index.js';
import {
  CoordinateError,
  DEFAULT_VIVALDI_CONFIG,
  VivaldiClient,
  applyGravity,
  distance,
  newCoordinate,
  rawDistance,
  type Coordinate,
} from './coordinate.js';
import { LatencyPlane, PlaneTransport, type Point } from './plane-transport.js';
import { VivaldiActor, decodeCoordinate, encodeCoordinate, pb } from './vivaldi-actor.js';

/** A coordinate with the given first components (the rest zero), for hand-computed distances. */
function coord(head: number[], rest: Partial<Omit<Coordinate, 'vec'>> = {}): Coordinate {
  const vec = new Array<number>(8).fill(0);
  head.forEach((x, i) => (vec[i] = x));
  return { vec, error: 1.5, adjustment: 0, height: 10e-6, ...rest };
}

/** Mean and max of |estimate - truth| / truth over all pairs (Serf's coordinate.Evaluate). */
function evaluate(n: number, estimate: (i: number, j: number) => number, truth: (i: number, j: number) => number): { avg: number; max: number } {
  let sum = 0;
  let max = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = truth(i, j);
      const err = Math.abs(estimate(i, j) - t) / t;
      sum += err;
      max = Math.max(max, err);
      count++;
    }
  }
  return { avg: sum / count, max };
}

function randomPoints(random: SeededRandom, n: number, sideMs: number): Point[] {
  return Array.from({ length: n }, () => ({ x: random.next() * sideMs, y: random.next() * sideMs }));
}

describe('Vivaldi coordinates (pure)', () => {
  it('distance is the Euclidean distance plus both heights, with adjustments only when the sum stays positive', () => {
    const a = coord([0.003, 0.004], { height: 0.001 });
    const b = coord([0, 0], { height: 0.002 });
    expect(rawDistance(a, b)).toBeCloseTo(0.008, 12);
    expect(distance(a, b)).toBeCloseTo(0.008, 12);
    expect(distance({ ...a, adjustment: 0.001 }, { ...b, adjustment: -0.0005 })).toBeCloseTo(0.0085, 12);
    // An adjustment that would make the estimate negative is ignored rather than returning nonsense.
    expect(distance({ ...a, adjustment: -0.01 }, b)).toBeCloseTo(0.008, 12);
    expect(distance(a, b)).toBe(distance(b, a));
  });

  it('a fresh client sits at the origin with the largest error and the smallest height', () => {
    const random = new SeededRandom(1);
    const c = new VivaldiClient({}, () => random.next());
    expect(c.coordinate).toEqual(newCoordinate());
    expect(c.coordinate.vec).toHaveLength(8);
    expect(c.coordinate.error).toBe(1.5);
    expect(c.coordinate.height).toBe(10e-6);
  });

  it('moves apart from a peer that is further than estimated and closer to one that is nearer', () => {
    const random = new SeededRandom(2);
    const c = new VivaldiClient({}, () => random.next());
    const peer = coord([0.01], { error: 0.1 });
    const before = c.distanceTo(peer);
    c.update('peer', peer, 0.05);
    expect(c.distanceTo(peer)).toBeGreaterThan(before);
    const far = c.distanceTo(peer);
    // Three much shorter samples replace the filter's window, so the median follows them.
    for (let i = 0; i < 3; i++) c.update('peer', peer, 0.001);
    expect(c.distanceTo(peer)).toBeLessThan(far);
  });

  it('takes the median of the last 3 round trips per peer, so a single outlier does not move the coordinate', () => {
    const run = (samples: number[]): Coordinate => {
      const random = new SeededRandom(3);
      const c = new VivaldiClient({ adjustmentWindowSize: 0 }, () => random.next());
      const peer = coord([0.02], { error: 0.2 });
      let out = c.coordinate;
      for (const s of samples) out = c.update('peer', peer, s);
      return out;
    };
    // With the filter, [10, 10, 900] ms applies 10, 10, 10 (the medians); without it the 900 would win.
    const withOutlier = run([0.01, 0.01, 0.9]);
    const steady = run([0.01, 0.01, 0.01]);
    expect(withOutlier.vec).toEqual(steady.vec);
    // The window is 3: an old outlier falls out of it, a lasting change takes over.
    const shifted = run([0.9, 0.01, 0.01, 0.01]);
    expect(shifted.vec).not.toEqual(run([0.01, 0.01, 0.01, 0.01]).vec);
    const c = new VivaldiClient({ adjustmentWindowSize: 0, latencyFilterSize: 1 }, () => 0.5);
    const peer = coord([0.02], { error: 0.2 });
    c.update('peer', peer, 0.01);
    c.update('peer', peer, 0.01);
    const unfiltered = c.update('peer', peer, 0.9);
    expect(unfiltered.vec).not.toEqual(steady.vec);
  });

  it('forget() drops the samples of a peer, so its next round trip starts a fresh median', () => {
    const mk = (): VivaldiClient => new VivaldiClient({ adjustmentWindowSize: 0 }, () => 0.25);
    const peer = coord([0.02], { error: 0.2 });
    const kept = mk();
    const forgot = mk();
    for (const c of [kept, forgot]) {
      c.update('peer', peer, 0.5);
      c.update('peer', peer, 0.5);
    }
    forgot.forget('peer');
    // kept: median of [0.5, 0.5, 0.001] = 0.5; forgot: median of [0.001] = 0.001.
    expect(kept.update('peer', peer, 0.001).vec).not.toEqual(forgot.update('peer', peer, 0.001).vec);
    expect(forgot.distanceTo(peer)).toBeLessThan(kept.distanceTo(peer));
  });

  it('the adjustment is half the mean residual over a window of 20 (zeros until it fills)', () => {
    // Two nodes fixed in place (CC = 0 disables movement; gravity is negligible near the origin), so
    // every residual is the same: rtt - rawDistance.
    const c = new VivaldiClient({ vivaldiCC: 0 }, () => 0.5);
    const peer = coord([0.001], { height: 10e-6 });
    const residual = 0.01 - rawDistance(c.coordinate, peer);
    c.update('peer', peer, 0.01);
    expect(c.coordinate.adjustment).toBeCloseTo(residual / 40, 9);
    for (let i = 1; i < 20; i++) c.update('peer', peer, 0.01);
    expect(c.coordinate.adjustment).toBeCloseTo(residual / 2, 7);
    // A full window: older samples are replaced, not added.
    for (let i = 0; i < 20; i++) c.update('peer', peer, 0.01);
    expect(c.coordinate.adjustment).toBeCloseTo(residual / 2, 7);
    const off = new VivaldiClient({ vivaldiCC: 0, adjustmentWindowSize: 0 }, () => 0.5);
    off.update('peer', peer, 0.01);
    expect(off.coordinate.adjustment).toBe(0);
  });

  it('gravity pulls towards the origin with a force of (distance / 150 s)^2', () => {
    const far = coord([300]);
    const pulled = applyGravity(DEFAULT_VIVALDI_CONFIG, far, () => 0.5);
    // distance from the origin ~ 300 s: force -(300/150)^2 = -4, along the first axis.
    expect(pulled.vec[0]).toBeCloseTo(300 - 4, 3);
    const near = coord([0.05]);
    // At LAN scale gravity is negligible (~1e-7 s at 50 ms): it fights drift, not geometry.
    expect(near.vec[0] as number - (applyGravity(DEFAULT_VIVALDI_CONFIG, near, () => 0.5).vec[0] as number)).toBeLessThan(1e-6);
  });

  it('the error estimate stays within (0, 1.5] and shrinks as predictions become right', () => {
    const random = new SeededRandom(4);
    const c = new VivaldiClient({}, () => random.next());
    const peer = coord([0.03], { error: 0.05 });
    const errors: number[] = [];
    for (let i = 0; i < 200; i++) errors.push(c.update('peer', peer, 0.04).error);
    expect(Math.max(...errors)).toBeLessThanOrEqual(1.5);
    expect(Math.min(...errors)).toBeGreaterThan(0);
    expect(errors[errors.length - 1]).toBeLessThan(0.1);
    expect(c.distanceTo(peer)).toBeCloseTo(0.04, 3);
  });

  it('rejects unusable input without changing anything', () => {
    const c = new VivaldiClient({}, () => 0.5);
    const before = c.coordinate;
    const peer = coord([0.01]);
    expect(() => c.update('p', { ...peer, vec: [0.01, 0] }, 0.01)).toThrow(CoordinateError);
    expect(() => c.update('p', { ...peer, height: Number.NaN }, 0.01)).toThrow(CoordinateError);
    expect(() => c.update('p', coord([Number.POSITIVE_INFINITY]), 0.01)).toThrow(CoordinateError);
    expect(() => c.update('p', peer, -0.001)).toThrow(CoordinateError);
    expect(() => c.update('p', peer, 10.5)).toThrow(CoordinateError);
    expect(() => c.update('p', peer, Number.NaN)).toThrow(CoordinateError);
    expect(c.coordinate).toBe(before);
    // A zero round trip (coarse clocks) is accepted, as in Serf.
    expect(() => c.update('p', peer, 0)).not.toThrow();
    expect(() => new VivaldiClient({ dimensionality: 0 }, () => 0.5)).toThrow(RangeError);
  });

  it('converges on a synthetic 2-D latency map: mean error under 1%, every pair within 12%', () => {
    // Serf's own performance test style: N nodes, each cycle every node measures one random peer.
    const random = new SeededRandom(42);
    const n = 25;
    const points = randomPoints(random, n, 100); // a 100 x 100 ms plane
    const truthS = (i: number, j: number): number => {
      const a = points[i] as Point;
      const b = points[j] as Point;
      return (Math.hypot(a.x - b.x, a.y - b.y) + 1) / 1000; // +1 ms: the access links
    };
    const clients = points.map(() => new VivaldiClient({}, () => random.next()));
    const estimate = (i: number, j: number): number => distance((clients[i] as VivaldiClient).coordinate, (clients[j] as VivaldiClient).coordinate);
    const initial = evaluate(n, estimate, truthS);
    for (let cycle = 0; cycle < 1000; cycle++) {
      for (let i = 0; i < n; i++) {
        let j = random.int(n - 1);
        if (j >= i) j++;
        (clients[i] as VivaldiClient).update(`n${j}`, (clients[j] as VivaldiClient).coordinate, truthS(i, j));
      }
    }
    const final = evaluate(n, estimate, truthS);
    expect(initial.avg).toBeGreaterThan(0.9); // everyone starts at the origin: estimates are ~0
    // Measured with this seed: avg 0.25%, max 5.2%.
    expect(final.avg).toBeLessThan(0.01);
    expect(final.max).toBeLessThan(0.12);
    // Confidence follows accuracy.
    for (const c of clients) expect(c.coordinate.error).toBeLessThan(0.2);
  });
});

describe('coordinate wire format (examples/vivaldi/coordinate.proto)', () => {
  it('round-trips through the ack payload bytes', () => {
    const c = coord([0.001, -0.002, 0.5], { error: 0.3, adjustment: -0.0001, height: 0.0004 });
    const bytes = encodeCoordinate(c);
    expect(bytes.length).toBeLessThan(100);
    expect(decodeCoordinate(bytes)).toEqual(c);
  });

  it('gen/ is up to date with coordinate.proto (regenerated with the README commands)', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, '..', '..');
    const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
    const tmp = mkdtempSync(join(tmpdir(), 'vivaldi-gen-'));
    try {
      const js = join(tmp, 'coordinate.js');
      const dts = join(tmp, 'coordinate.d.ts');
      execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--es6', '--no-verify', '--no-delimited', '--no-beautify', '-o', js, join(here, 'coordinate.proto')], { stdio: 'pipe' });
      execFileSync(bin('pbts'), ['--no-comments', '-o', dts, js], { stdio: 'pipe' });
      const fix = (text: string): string => text.replace(/from "protobufjs\/minimal"/g, 'from "protobufjs/minimal.js"');
      expect(readFileSync(join(here, 'gen', 'coordinate.js'), 'utf8')).toBe(fix(readFileSync(js, 'utf8')));
      expect(readFileSync(join(here, 'gen', 'coordinate.d.ts'), 'utf8')).toBe(fix(readFileSync(dts, 'utf8')));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 30_000);

  it('treats an empty or foreign payload as no coordinate', () => {
    expect(decodeCoordinate(new Uint8Array(0))).toBeUndefined();
    expect(decodeCoordinate(new Uint8Array([0xff, 0xff, 0xff]))).toBeUndefined();
    // Valid protobuf of another message: no vec field, so not a coordinate.
    expect(decodeCoordinate(pb.CoordinateUpdated.encode({ node: 'x', peer: 'y' }).finish())).toBeUndefined();
  });
});

/** A context that records what the actor sends, for driving an actor by hand. */
function fakeContext(nodeName: string): { ctx: ActorContext; sent: object[] } {
  const sent: object[] = [];
  const clock = new VirtualClock();
  const ctx: ActorContext = {
    self: 'vivaldi',
    nodeName,
    clock,
    random: new SeededRandom(5),
    logger: pino({ level: 'silent' }),
    send: (m) => void sent.push(m),
    schedule: (delayMs, m) => clock.setTimer(delayMs, () => void sent.push(m)),
  };
  return { ctx, sent };
}

function memberChanged(name: string, state: wire.MemberState, local = false): actors.MemberChanged {
  return actors.MemberChanged.create({ member: { name, state }, local, numMembers: 3 });
}

describe('VivaldiActor (driven by hand)', () => {
  it('publishes its coordinate as the ack payload at start and after every update, and announces each update', () => {
    const { ctx, sent } = fakeContext('me');
    const actor = new VivaldiActor();
    actor.start(ctx);
    expect(sent).toHaveLength(1);
    const initial = sent[0] as actors.AckPayloadUpdate;
    expect(initial).toBeInstanceOf(actors.AckPayloadUpdate);
    expect(decodeCoordinate(initial.payload)).toEqual(newCoordinate());

    const peer = coord([0.02], { error: 0.2 });
    actor.receive(actors.PingCompleted.create({ node: 'peer', rttMs: 30, payload: encodeCoordinate(peer), seqNo: 1 }));
    expect(actor.updates).toBe(1);
    const [payload, announced] = sent.slice(1) as [actors.AckPayloadUpdate, pb.CoordinateUpdated];
    expect(payload).toBeInstanceOf(actors.AckPayloadUpdate);
    expect(decodeCoordinate(payload.payload)).toEqual(actor.coordinate);
    expect(actor.coordinate).not.toEqual(newCoordinate());
    expect(announced).toBeInstanceOf(pb.CoordinateUpdated);
    expect(announced.node).toBe('me');
    expect(announced.peer).toBe('peer');
    expect(announced.rttMs).toBe(30);
    expect(actor.coordinateOf('peer')).toEqual(peer);
    expect(actor.coordinateOf('me')).toBe(actor.coordinate);
    expect(actor.members()).toEqual(['me', 'peer']);
    expect(actor.estimateRttMs('me', 'peer')).toBeCloseTo(distance(actor.coordinate as Coordinate, peer) * 1000, 9);
    expect(actor.estimateRttMs('me', 'stranger')).toBeUndefined();
  });

  it('drops acks without a usable coordinate and never crashes on them', () => {
    const { ctx, sent } = fakeContext('me');
    const actor = new VivaldiActor();
    actor.start(ctx);
    const bad = [
      new Uint8Array(0), // the peer runs no Vivaldi actor
      new Uint8Array([0xff, 0xff]), // not protobuf
      encodeCoordinate(coord([Number.NaN])), // poisoned
      encodeCoordinate({ ...coord([0.01]), vec: [0.01, 0.02] }), // another dimensionality
    ];
    for (const payload of bad) actor.receive(actors.PingCompleted.create({ node: 'peer', rttMs: 4, payload, seqNo: 1 }));
    // A round trip over Serf's 10 s limit is a measurement error.
    actor.receive(actors.PingCompleted.create({ node: 'peer', rttMs: 20_000, payload: encodeCoordinate(coord([0.01])), seqNo: 2 }));
    expect(actor.rejected).toBe(5);
    expect(actor.updates).toBe(0);
    expect(actor.coordinateOf('peer')).toBeUndefined();
    expect(sent).toHaveLength(1); // only the initial payload
  });

  it("keeps a suspect member's coordinate and drops a dead, left or removed one (never its own)", () => {
    const { ctx } = fakeContext('me');
    const actor = new VivaldiActor();
    actor.start(ctx);
    const learn = (node: string): void =>
      actor.receive(actors.PingCompleted.create({ node, rttMs: 10, payload: encodeCoordinate(coord([0.01])), seqNo: 1 }));
    for (const n of ['a', 'b', 'c']) learn(n);
    actor.receive(memberChanged('a', wire.MemberState.SUSPECT));
    expect(actor.coordinateOf('a')).toBeDefined();
    actor.receive(memberChanged('a', wire.MemberState.DEAD));
    actor.receive(memberChanged('b', wire.MemberState.LEFT));
    actor.receive(actors.MemberRemoved.create({ name: 'c', numMembers: 1 }));
    actor.receive(memberChanged('me', wire.MemberState.LEFT, true));
    expect(actor.members()).toEqual(['me']);
    expect(actor.coordinateOf('me')).toBeDefined();
  });
});

/** A custom actor accepting the example's own message kind, to show user classes are routed. */
class UpdateCounter implements Actor {
  readonly name = 'vivaldi-observer';
  readonly accepts = [pb.CoordinateUpdated];
  seen = 0;
  last: pb.CoordinateUpdated | undefined;
  receive(m: object): void {
    if (m instanceof pb.CoordinateUpdated) {
      this.seen++;
      this.last = m;
    }
  }
}

describe('VivaldiActor on a simulated cluster', () => {
  let cluster: SimulatedCluster | undefined;
  afterEach(async () => {
    await cluster?.shutdown();
    cluster = undefined;
  });

  it('12 nodes on a hidden 2-D plane: every node estimates every pair within 6% (median 1%), unmeasured pairs included', async () => {
    const baseLatencyMs = 1;
    const jitterMs = 1;
    cluster = new SimulatedCluster({ seed: 7, network: { latencyMs: baseLatencyMs, jitterMs }, nodeOptions: { profile: 'lan' } });
    const c = cluster;
    const plane = new LatencyPlane();
    const points = randomPoints(new SeededRandom(99), 12, 80); // round trips 10-84 ms, well within probeTimeoutMs
    const vivaldi = new Map<string, VivaldiActor>();
    const observers = new Map<string, UpdateCounter>();
    for (const point of points) {
      const transport = new PlaneTransport(c.network.createTransport(), plane, c.clock, point);
      const [node] = (await c.addNodes(1, { transport })) as [MemberlistNode];
      const actor = new VivaldiActor();
      const observer = new UpdateCounter();
      node.spawn(actor);
      node.spawn(observer);
      vivaldi.set(node.name, actor);
      observers.set(node.name, observer);
    }
    const names = c.nodes.map((n) => n.name);
    const pointOf = new Map(c.nodes.map((n) => [n.name, plane.pointOf(n.advertiseAddress) as Point]));
    // The round trip a probe really sees: the plane distance, the network latency both ways and the
    // mean of the uniform jitter both ways.
    const trueRttMs = (a: string, b: string): number => {
      const pa = pointOf.get(a) as Point;
      const pb2 = pointOf.get(b) as Point;
      return Math.hypot(pa.x - pb2.x, pa.y - pb2.y) + 2 * baseLatencyMs + jitterMs;
    };

    await c.joinAll(0);
    expect(await c.runUntil(() => c.converged(), 30_000)).toBeDefined();
    const errorsOn = (viewer: string, skipViewer: boolean): number[] => {
      const actor = vivaldi.get(viewer) as VivaldiActor;
      const errs: number[] = [];
      for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) {
          const a = names[i] as string;
          const b = names[j] as string;
          if (skipViewer && (a === viewer || b === viewer)) continue;
          const est = actor.estimateRttMs(a, b);
          errs.push(est === undefined ? Number.POSITIVE_INFINITY : Math.abs(est - trueRttMs(a, b)) / trueRttMs(a, b));
        }
      }
      return errs.sort((x, y) => x - y);
    };
    const before = errorsOn('node-0', false);

    await c.runFor(10 * 60_000); // ten virtual minutes: ~600 probes per node, ~55 of each peer
    const all: number[] = [];
    for (const viewer of names) {
      const actor = vivaldi.get(viewer) as VivaldiActor;
      // Every member's coordinate is known on every node (each probes all the others round robin).
      expect(actor.members()).toEqual([...names].sort());
      // Pairs that do not involve the viewer were never measured by it: pure coordinate estimates.
      const unmeasured = errorsOn(viewer, true);
      expect(unmeasured.length).toBe(55);
      all.push(...unmeasured);
      expect(unmeasured[unmeasured.length - 1]).toBeLessThan(0.06);
      // Self to peer, against its own measurements.
      for (const other of names) {
        if (other === viewer) continue;
        const est = actor.estimateRttMs(viewer, other) as number;
        expect(Math.abs(est - trueRttMs(viewer, other)) / trueRttMs(viewer, other)).toBeLessThan(0.06);
      }
      expect(actor.rejected).toBe(0);
      expect(actor.updates).toBeGreaterThan(500);
      // The example's own message kind reached the observer actor once per update.
      const observer = observers.get(viewer) as UpdateCounter;
      expect(observer.seen).toBe(actor.updates);
      expect(observer.last?.node).toBe(viewer);
      expect(observer.last?.coordinate?.vec).toHaveLength(8);
    }
    all.sort((x, y) => x - y);
    const median = all[Math.floor(all.length / 2)] as number;
    // Measured with these seeds: median 0.28%, 90th percentile 1.1%, max 2.7%.
    expect(median).toBeLessThan(0.01);
    // Before the run the same estimates were useless (missing or near zero): the test measures learning.
    expect(before[Math.floor(before.length / 2)]).toBeGreaterThan(0.5);
    // What node-0 holds for node-5 is the coordinate node-5 attached to its last ack (seconds old), so
    // it sits within a fraction of a millisecond of node-5's own current one.
    const held = (vivaldi.get('node-0') as VivaldiActor).coordinateOf('node-5') as Coordinate;
    const own = (vivaldi.get('node-5') as VivaldiActor).coordinate as Coordinate;
    expect(Math.hypot(...held.vec.map((x, i) => x - (own.vec[i] as number))) * 1000).toBeLessThan(0.5);
  });

  it('forgets a crashed member once it is declared dead', async () => {
    cluster = new SimulatedCluster({ seed: 8, network: { latencyMs: 2 }, nodeOptions: { profile: 'lan' } });
    const c = cluster;
    const nodes = await c.addNodes(4);
    const vivaldi = nodes.map((n) => {
      const a = new VivaldiActor();
      n.spawn(a);
      return a;
    });
    await c.joinAll(0);
    await c.runFor(60_000);
    const [first, , , last] = nodes as [MemberlistNode, MemberlistNode, MemberlistNode, MemberlistNode];
    const v0 = vivaldi[0] as VivaldiActor;
    expect(v0.coordinateOf(last.name)).toBeDefined();
    // With only the network's global latency every estimate converges to it (2 x 2 ms).
    expect(v0.estimateRttMs(first.name, last.name)).toBeGreaterThan(3);
    expect(v0.estimateRttMs(first.name, last.name)).toBeLessThan(5);

    await c.crash(last);
    const dead = await c.runUntil(() => first.members().find((m) => m.name === last.name)?.state === 'dead', 60_000);
    expect(dead).toBeDefined();
    expect(v0.coordinateOf(last.name)).toBeUndefined();
    expect(v0.estimateRttMs(first.name, last.name)).toBeUndefined();
    expect(v0.members()).not.toContain(last.name);
  });
});
