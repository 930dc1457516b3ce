// What one worker thread costs in RSS before it does any work, by the module it loads (issue 5 part 4:
// the merge thread's share of the host's RSS growth). Each measurement runs in a fresh child process:
// RSS before the worker, then 1.5 s after the worker has imported its module and reported in.
//
//   node dist/benchmarks/worker-footprint.js [--reps 2] [--piscina] [module ...]
//
// Without modules it measures: an empty ES module, protobufjs/minimal, our generated protobuf module
// (src/gen/index.js) and the merge worker's task module (workers/merge-worker.js). With --piscina each
// module is the task module of a one-thread piscina pool (as the merge worker runs) and has run one
// task, `{ kind: 'drop', executor: 0 }`, which the merge worker answers without merging; the default
// modules are then an empty task module and the merge worker's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values: argv, positionals } = parseArgs({
  options: {
    reps: { type: 'string', default: '2' },
    piscina: { type: 'boolean', default: false },
    // Internal: the child process's mode (measure one module and print the RSS delta in MiB).
    child: { type: 'string' },
  },
  allowPositionals: true,
  strict: true,
});

async function measureOne(moduleUrl: string): Promise<void> {
  if (argv.piscina) {
    // The pool's own module is loaded before the first reading: the host has it loaded anyway.
    const { Piscina } = await import('piscina');
    const before = process.memoryUsage().rss;
    const pool = new Piscina({ filename: moduleUrl, minThreads: 1, maxThreads: 1 });
    await pool.run({ kind: 'drop', executor: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    process.stdout.write(`${((process.memoryUsage().rss - before) / 1048576).toFixed(2)}\n`);
    process.exit(0);
  }
  const before = process.memoryUsage().rss;
  const source = `import(${JSON.stringify(moduleUrl)}).then(() => { require('node:worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1000); });`;
  const worker = new Worker(source, { eval: true });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  // Let the worker's start-up garbage be collected and its pages settle.
  await new Promise((r) => setTimeout(r, 1500));
  process.stdout.write(`${((process.memoryUsage().rss - before) / 1048576).toFixed(2)}\n`);
  process.exit(0);
}

async function main(): Promise<void> {
  if (argv.child !== undefined) return measureOne(argv.child);
  const here = dirname(fileURLToPath(import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), 'worker-footprint-'));
  try {
    const empty = join(tmp, 'empty.mjs');
    writeFileSync(empty, 'export const x = 1;\n');
    const emptyTask = join(tmp, 'empty-task.mjs');
    writeFileSync(emptyTask, 'export default function task() { return true; }\n');
    const mergeWorker = { label: 'workers/merge-worker.js (merge task module)', url: pathToFileURL(join(here, '..', 'workers', 'merge-worker.js')).href };
    const require = createRequire(import.meta.url);
    const modules: Array<{ label: string; url: string }> =
      positionals.length > 0
        ? positionals.map((p) => ({ label: p, url: p.startsWith('file:') ? p : pathToFileURL(p).href }))
        : argv.piscina
          ? [{ label: 'empty piscina task module', url: pathToFileURL(emptyTask).href }, mergeWorker]
          : [
            { label: 'empty ES module', url: pathToFileURL(empty).href },
            { label: 'protobufjs/minimal', url: pathToFileURL(require.resolve('protobufjs/minimal.js')).href },
            { label: 'src/gen/index.js (generated protobuf)', url: pathToFileURL(join(here, '..', 'src', 'gen', 'index.js')).href },
            mergeWorker,
          ];
    const reps = Math.max(1, Number(argv.reps));
    for (const m of modules) {
      const runs: number[] = [];
      for (let i = 0; i < reps; i++) {
        const args = [fileURLToPath(import.meta.url), '--child', m.url, ...(argv.piscina ? ['--piscina'] : [])];
        const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
        runs.push(Number(out.trim()));
      }
      const line = { measure: 'worker_footprint', mode: argv.piscina ? 'piscina' : 'worker', module: m.label, rss_delta_mib: runs, node: process.version };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
