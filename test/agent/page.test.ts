/**
 * The live cluster page in a real headless Chromium (Debian's chromium, driven by playwright-core):
 * a 5-node cluster on 127.0.0.1 in this process, the HTTP status server on one node, the page shows 5
 * alive members, and a node killed without a leave turns suspect and then dead on the page.
 * Skipped, with the reason, when /usr/bin/chromium or playwright-core is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type MemberlistNode } from '../../src/index.js';
import { StatusServer } from '../../src/agent/http-status.js';
import { waitForCluster } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
// Run as root, Chromium needs --no-sandbox; the rest keeps it from reaching outside hosts.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = join(process.cwd(), 'benchmarks', 'results', 'tmp');

/** The few playwright-core calls this test makes (typed here so the file compiles without the package). */
interface PwPage {
  goto(url: string): Promise<unknown>;
  waitForFunction(fn: string, arg?: unknown, options?: { timeout?: number; polling?: number | 'raf' }): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>;
  evaluate<R>(fn: string): Promise<R>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  on(event: 'console' | 'pageerror', listener: (arg: { toString(): string }) => void): void;
}
interface PwContext {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwModule {
  chromium: {
    launchPersistentContext(dir: string, options: { executablePath: string; headless: boolean; args: string[] }): Promise<PwContext>;
  };
}

async function loadPlaywright(): Promise<PwModule | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  const specifier = 'playwright-core';
  try {
    return (await import(specifier)) as PwModule;
  } catch {
    return 'playwright-core is not installed (npm install --save-dev playwright-core)';
  }
}

const pw = await loadPlaywright();
const skipReason = typeof pw === 'string' ? pw : undefined;
if (skipReason !== undefined) console.warn(`skipping the cluster page test: ${skipReason}`);

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

describe.skipIf(skipReason !== undefined)('cluster page in headless Chromium', () => {
  const nodes: MemberlistNode[] = [];
  let status: StatusServer | undefined;
  let context: PwContext | undefined;
  let userDataDir = '';

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) nodes.push(await createNode({ ...FAST, name: `node-${i}`, meta: new TextEncoder().encode(`zone=${'abc'[i % 3]}`) }));
    const seed = `127.0.0.1:${nodes[0]?.address.port}`;
    await Promise.all(nodes.slice(1).map((n) => n.join([seed])));
    await waitForCluster(nodes, () => nodes.every((n) => n.numMembers() === 5), 20_000);
    status = await StatusServer.start({ node: nodes[0] as MemberlistNode, host: '127.0.0.1', port: 0, tickMs: 250 });
    userDataDir = mkdtempSync(join(tmpdir(), 'memberlist-page-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    context = await (pw as PwModule).chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await status?.close();
    await Promise.all(nodes.map((n) => n.shutdown()));
    if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows 5 alive members, then a killed node turning suspect and then dead', async () => {
    const page = await (context as PwContext).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.toString()));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto((status as StatusServer).url);

    // Five rows, all alive, and the live stream connected.
    await page.waitForFunction(`document.querySelectorAll('#members tr[data-state="alive"]').length === 5 && document.body.dataset.connected === 'true'`, undefined, { timeout: 15_000 });
    // Let a few ticks draw the rate charts before the first screenshot.
    await page.waitForFunction(`document.querySelectorAll('#charts .chart').length >= 4`, undefined, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1500));
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-page-alive.png'), fullPage: true });
    const names = await page.evaluate<string[]>(`Array.from(document.querySelectorAll('#members tr[data-name]')).map((tr) => tr.dataset.name)`);
    expect(names).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);

    // Record every state node-4's row goes through, so a short suspect phase cannot be missed.
    await page.evaluate(`(() => {
      window.__states = [];
      const record = () => {
        const tr = document.querySelector('#members tr[data-name="node-4"]');
        const s = tr ? tr.dataset.state : 'missing';
        if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
      };
      record();
      new MutationObserver(record).observe(document.getElementById('members'), { childList: true, subtree: true, attributes: true });
    })()`);

    // Kill node-4: shutdown without leave, as a crash looks to the others.
    await (nodes[4] as MemberlistNode).shutdown();
    await page.waitForSelector('#members tr[data-name="node-4"][data-state="suspect"]', { timeout: 20_000 }).catch(() => undefined);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-page-suspect.png'), fullPage: true });
    await page.waitForSelector('#members tr[data-name="node-4"][data-state="dead"]', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-page-dead.png'), fullPage: true });

    const states = await page.evaluate<string[]>('window.__states');
    expect(states[0]).toBe('alive');
    expect(states).toContain('suspect');
    expect(states.indexOf('suspect')).toBeLessThan(states.indexOf('dead'));
    expect(await page.evaluate<number>(`document.querySelectorAll('#members tr[data-state="alive"]').length`)).toBe(4);
    // The recent-events list shows the suspicion and the failure.
    const events = await page.evaluate<string>(`document.getElementById('events').textContent`);
    expect(events).toMatch(/suspect\s*node-4/);
    expect(events).toMatch(/dead\s*node-4/);
    expect(errors).toEqual([]);
  }, 90_000);
});
