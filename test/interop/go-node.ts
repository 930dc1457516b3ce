/**
 * Go memberlist nodes for the interop suite: the helper in test/interop/go (Debian's memberlist 0.2.2,
 * one node per process) is built once per run with `go build`, then each GoNode is one child process
 * driven over stdin/stdout with JSON lines. Waits poll for conditions with a limit that only guards
 * against a hang; no assertion depends on a sleep.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface GoAvailability {
  readonly ok: boolean;
  /** Why the Go interop suite cannot run here (empty when it can). */
  readonly reason: string;
}

/** Whether Go and Debian's memberlist source are installed (what .ci/run installs when it can). */
export function goAvailability(): GoAvailability {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error !== undefined || go.status !== 0) return { ok: false, reason: 'the go toolchain is not installed (apt-get install golang-go)' };
  const pkg = spawnSync('dpkg', ['-L', 'golang-github-hashicorp-memberlist-dev'], { encoding: 'utf8' });
  if (pkg.error !== undefined || pkg.status !== 0 || !pkg.stdout.includes('/hashicorp/memberlist')) {
    return { ok: false, reason: "Debian's memberlist source is not installed (apt-get install golang-github-hashicorp-memberlist-dev)" };
  }
  return { ok: true, reason: '' };
}

/** Builds the helper and returns its path. The Go build cache is kept across runs in the temp dir. */
export function buildGoHelper(): string {
  const dir = join(tmpdir(), `memberlist-ts-interop-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'interop-helper');
  const gocache = join(tmpdir(), 'memberlist-ts-interop-gocache');
  execFileSync('sh', [join(here, 'go', 'build.sh'), out], {
    env: { ...process.env, GOCACHE: gocache },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  return out;
}

export type GoEvent = Record<string, unknown> & { ev: string; t: number };

export interface GoNodeOptions {
  name: string;
  key?: Uint8Array;
  meta?: string;
  state?: string;
  compress?: boolean;
  logs?: boolean;
  /** More helper flags, such as timing overrides (-probe-interval=1s). */
  extraArgs?: readonly string[];
}

export class GoNode {
  readonly events: GoEvent[] = [];
  port = 0;
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiters = new Set<() => void>();
  #exited = false;

  constructor(
    binary: string,
    readonly options: GoNodeOptions,
  ) {
    const args = [`-name=${options.name}`, '-bind=127.0.0.1', '-port=0', `-compress=${String(options.compress ?? true)}`];
    if (options.key) args.push(`-key=${Buffer.from(options.key).toString('hex')}`);
    if (options.meta !== undefined) args.push(`-meta=${options.meta}`);
    if (options.state !== undefined) args.push(`-state=${options.state}`);
    if (options.logs) args.push('-logs=true');
    if (options.extraArgs) args.push(...options.extraArgs);
    this.#proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.on('exit', () => {
      this.#exited = true;
      this.#wake();
    });
    this.#proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[${options.name}] ${d.toString()}`));
    createInterface({ input: this.#proc.stdout }).on('line', (line) => {
      let ev: GoEvent;
      try {
        ev = JSON.parse(line) as GoEvent;
      } catch {
        return;
      }
      if (ev.ev === 'ready') this.port = Number(ev['port']);
      this.events.push(ev);
      this.#wake();
    });
  }

  get name(): string {
    return this.options.name;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get exited(): boolean {
    return this.#exited;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves with the first event (from index `from`) matching `match`; rejects after `limitMs`. */
  waitEvent(match: (e: GoEvent) => boolean, limitMs: number, from = 0): Promise<GoEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.events.slice(from).find(match);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (this.#exited) {
          done();
          reject(new Error(`${this.name} exited while waiting`));
        }
      };
      const guard = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: event not seen within ${limitMs} ms`));
      }, limitMs);
      const done = (): void => {
        clearTimeout(guard);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  async ready(limitMs = 20_000): Promise<this> {
    await this.waitEvent((e) => e.ev === 'ready', limitMs);
    return this;
  }

  command(cmd: Record<string, unknown>): void {
    if (!this.#exited) this.#proc.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Sends a command and waits for the reply event it produces. */
  async request(cmd: Record<string, unknown>, reply: string, limitMs = 10_000): Promise<GoEvent> {
    const from = this.events.length;
    this.command(cmd);
    return this.waitEvent((e) => e.ev === reply, limitMs, from);
  }

  /** name → 0 alive, 1 suspect, 2 dead, 3 left, as this Go node holds them. */
  async states(): Promise<Record<string, number>> {
    const e = await this.request({ cmd: 'states' }, 'states');
    return e['states'] as Record<string, number>;
  }

  /** A crash: SIGKILL, no leave. */
  kill(): void {
    if (!this.#exited) this.#proc.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    this.command({ cmd: 'quit' });
    await new Promise<void>((resolve) => {
      const guard = setTimeout(() => {
        this.kill();
        resolve();
      }, 5000);
      this.#proc.once('exit', () => {
        clearTimeout(guard);
        resolve();
      });
      if (this.#exited) {
        clearTimeout(guard);
        resolve();
      }
    });
  }
}

/** Polls `predicate` (sync or async) every `everyMs` until it holds; rejects after `limitMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, limitMs: number, what: string, everyMs = 50): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await predicate()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`${what}: not reached within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
