/**
 * The status server in-process: its endpoints, the server-sent event stream, its bounds (clients,
 * history) and its shutdown. Real sockets on 127.0.0.1, port 0.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { StatusServer } from '../../src/agent/http-status.js';
import { waitForCluster } from '../helpers/wait.js';

const FAST = {
  bindAddr: '127.0.0.1',
  bindPort: 0,
  profile: 'local' as const,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  pushPullIntervalMs: 2000,
};

interface SseEvent {
  event: string;
  data: unknown;
}

/** Opens /events and collects parsed events until `close()`. */
function openEvents(url: string): { events: SseEvent[]; status: Promise<number>; ended: Promise<void>; waitFor(pred: (e: SseEvent[]) => boolean, limitMs?: number): Promise<void>; close(): void } {
  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  let resolveStatus: (s: number) => void = () => {};
  const status = new Promise<number>((r) => (resolveStatus = r));
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const req = request(`${url}events`, (res) => {
    resolveStatus(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown });
      }
      for (const l of [...listeners]) l();
    });
    res.on('error', () => {});
    res.on('close', () => resolveEnded());
  });
  req.on('error', () => {});
  req.end();
  return {
    events,
    status,
    ended,
    waitFor(pred, limitMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred(events)) return;
          listeners.delete(check);
          clearTimeout(guard);
          resolve();
        };
        const guard = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`SSE condition not reached; got ${events.map((e) => e.event).join(',')}`));
        }, limitMs);
        listeners.add(check);
        check();
      });
    },
    close: () => req.destroy(),
  };
}

describe('StatusServer', () => {
  const nodes: MemberlistNode[] = [];
  let status: StatusServer;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await createNode({ ...FAST, name: `hs-${i}` }));
    status = await StatusServer.start({ node: nodes[0] as MemberlistNode, host: '127.0.0.1', port: 0, tickMs: 100, historySize: 3, maxClients: 2 });
  });

  afterAll(async () => {
    await status.close();
    await Promise.all(nodes.map((n) => n.shutdown()));
  });

  it('binds only the address it was given and reports the resolved port', () => {
    expect(status.address.host).toBe('127.0.0.1');
    expect(status.address.port).toBeGreaterThan(0);
    expect(status.url).toBe(`http://127.0.0.1:${status.address.port}/`);
  });

  it('streams hello, member events and ticks, and keeps a bounded history', async () => {
    const stream = openEvents(status.url);
    expect(await stream.status).toBe(200);
    await stream.waitFor((e) => e.some((x) => x.event === 'hello'));
    const hello = stream.events.find((e) => e.event === 'hello')?.data as { node: string; members: Array<{ name: string }> };
    expect(hello.node).toBe('hs-0');
    expect(hello.members.map((m) => m.name)).toEqual(['hs-0']);

    const seed = `127.0.0.1:${nodes[0]?.address.port}`;
    await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 3), 10_000);
    await stream.waitFor((e) => e.filter((x) => x.event === 'member').length >= 2);
    await stream.waitFor((e) => e.some((x) => x.event === 'tick' && (x.data as { members?: unknown[] }).members?.length === 3));
    const member = stream.events.find((e) => e.event === 'member')?.data as { event: { type: string }; member: { state: string } };
    expect(member.event.type).toBe('join');
    expect(member.member.state).toBe('alive');
    const tick = stream.events.findLast((e) => e.event === 'tick')?.data as { rate: { msgsIn: number; in: Record<string, number> }; healthScore: number };
    expect(tick.healthScore).toBe(0);
    expect(typeof tick.rate.msgsIn).toBe('number');
    stream.close();

    // A new client gets the history, bounded to historySize.
    await nodes[2]?.leave(2000);
    await waitForCluster([nodes[0] as MemberlistNode], () => nodes[0]?.members().find((m) => m.name === 'hs-2')?.state === 'left', 10_000);
    const late = openEvents(status.url);
    await late.waitFor((e) => e.some((x) => x.event === 'hello'));
    const history = (late.events[0]?.data as { events: Array<{ type: string; name: string }> }).events;
    expect(history.length).toBe(3);
    expect(history.at(-1)).toMatchObject({ type: 'leave', name: 'hs-2' });
    late.close();
  });

  it('refuses event streams beyond maxClients with 503', async () => {
    await new Promise((r) => setTimeout(r, 100)); // let the closed streams above be noticed
    const a = openEvents(status.url);
    const b = openEvents(status.url);
    expect(await a.status).toBe(200);
    expect(await b.status).toBe(200);
    const c = openEvents(status.url);
    expect(await c.status).toBe(503);
    a.close();
    b.close();
    c.close();
  });

  it('answers / with the page, 404 for unknown paths and 405 for other methods', async () => {
    const page = await fetch(status.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<tbody id="members">');
    expect((await fetch(`${status.url}nope`)).status).toBe(404);
    expect((await fetch(`${status.url}members`, { method: 'POST' })).status).toBe(405);
  });

  it('/health turns 503 once the node has stopped, and close() ends open streams', async () => {
    const stream = openEvents(status.url);
    await stream.waitFor((e) => e.some((x) => x.event === 'hello'));
    await nodes[0]?.shutdown();
    const health = await fetch(`${status.url}health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'stopped', node: 'hs-0' });
    await status.close();
    await stream.ended;
    await expect(fetch(`${status.url}health`)).rejects.toThrow();
  });
});
