// Runs memberlist-ts's cluster-bench and HashiCorp memberlist's harness (shared/tools/memberlist-bench,
// Go, Debian's memberlist 0.2.2) one after the other, in child processes, for every N and config, and
// prints a markdown table of the two with ratios (ours / memberlist). Then the virtual-time figures of
// cluster-bench --mode sim.
//
//   node dist/benchmarks/compare-memberlist.js [--ns "10 50 100 250"] [--configs "local lan"] [--reps 1]
//        [--skip "250:lan"] [--sim-ns "100 1000"] [--no-sim] [--converge-timeout 150] [--detect-timeout 180]
//        [--settle 1] [--out FILE.jsonl] [--go-src /work/shared/tools/memberlist-bench] [--no-snapshot]
//        [--steady 30 --warmup 5] [--threading inline|isolated] [--isolated-ns "50"] [--no-leave]
//
// --steady S: per-member cost. Both harnesses measure an S-second window of the idle, converged cluster after
// --warmup s (ours: cluster-bench --warmup W --steady S; theirs: -warmup=Ws -steady=Ss), then kill the victim.
// The steady_state lines give CPU per member per second (process CPU / members / s), payload bytes sent per
// member per second (UDP + TCP) and RSS per member; a cost table with the ratios and the issue's targets
// (times ≤ 1.0, bytes/member ≤ 0.7, CPU/member ≤ 1.5) is printed. --threading picks how our nodes run
// (default inline: N nodes on this one thread, as all earlier figures); --isolated-ns adds, for those N, a run
// of ours with threading 'isolated' (row "ours-isolated"; its TCP bytes cannot be counted from the main thread).
//
// Every JSON line of every child goes to benchmarks/results/swim-core-<date>.jsonl (one "run_info" line
// first, and one "run_status" line per child with its exit code and wall time); children's stderr goes
// to the .stderr.log next to it, and the tables to the .md next to it.
//
// Runs are strictly sequential (the machine has 2 cores; the harnesses must not compete). The order of the
// two implementations alternates from one (N, config, rep) to the next.
//
// The memberlist harness has no flag to skip its steady-state window, so it runs with -steady=0s (an empty
// window: its steady_state line is kept in the jsonl but means nothing) and -warmup=<settle>s, which is the
// pause between convergence and the kill; cluster-bench pauses --settle s there too.
//
// Ours runs from a snapshot of dist/ (its .js files, copied under benchmarks/results/tmp/ and deleted at the
// end) so that a rebuild by someone else during the run cannot change the code being measured halfway.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join as joinPath, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

type Rec = Record<string, unknown>;

interface Options {
  ns: number[];
  configs: string[];
  reps: number;
  skip: Set<string>;
  simNs: number[];
  sim: boolean;
  convergeTimeoutS: number;
  detectTimeoutS: number;
  settleS: number;
  out: string | undefined;
  goSrc: string;
  snapshot: boolean;
  steadyS: number;
  warmupS: number;
  threading: string;
  isolatedNs: number[];
  leave: boolean;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      ns: { type: 'string', default: '10 50 100 250' },
      configs: { type: 'string', default: 'local lan' },
      reps: { type: 'string', default: '1' },
      skip: { type: 'string', default: '' },
      'sim-ns': { type: 'string', default: '100 1000' },
      'no-sim': { type: 'boolean', default: false },
      'converge-timeout': { type: 'string', default: '150' },
      'detect-timeout': { type: 'string', default: '180' },
      settle: { type: 'string', default: '1' },
      out: { type: 'string' },
      'go-src': { type: 'string', default: '/work/shared/tools/memberlist-bench' },
      'no-snapshot': { type: 'boolean', default: false },
      steady: { type: 'string', default: '0' },
      warmup: { type: 'string' },
      threading: { type: 'string', default: 'inline' },
      'isolated-ns': { type: 'string', default: '' },
      'no-leave': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const list = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x !== '');
  const nums = (s: string, flag: string): number[] =>
    list(s).map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag}: "${x}" is not a positive integer`);
      return v;
    });
  const o: Options = {
    ns: nums(values.ns as string, '--ns'),
    configs: list(values.configs as string),
    reps: Number(values.reps),
    skip: new Set(list(values.skip as string)),
    simNs: nums(values['sim-ns'] as string, '--sim-ns'),
    sim: !(values['no-sim'] as boolean),
    convergeTimeoutS: Number(values['converge-timeout']),
    detectTimeoutS: Number(values['detect-timeout']),
    settleS: Number(values.settle),
    out: values.out,
    goSrc: values['go-src'] as string,
    snapshot: !(values['no-snapshot'] as boolean),
    steadyS: Number(values.steady),
    warmupS: values.warmup === undefined ? Number(values.settle) : Number(values.warmup),
    threading: values.threading as string,
    isolatedNs: nums(values['isolated-ns'] as string, '--isolated-ns'),
    leave: !(values['no-leave'] as boolean),
  };
  if (!(o.steadyS >= 0) || !(o.warmupS >= 0)) throw new Error('--steady and --warmup must be >= 0');
  if (o.threading !== 'inline' && o.threading !== 'isolated') throw new Error('--threading must be inline or isolated');
  for (const c of o.configs) if (c !== 'local' && c !== 'lan') throw new Error(`--configs: "${c}" is not local or lan`);
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error('--reps must be a positive integer');
  if (!(o.convergeTimeoutS > 0) || !(o.detectTimeoutS > 0) || !(o.settleS >= 0)) throw new Error('timeouts must be positive');
  return o;
}

// ───────────────────────────────────────────────────────────── helpers

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = joinPath(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'memberlist-ts') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the memberlist-ts package root above this script');
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} compare] ${line}\n`);
}

function sh(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function resultsPath(root: string, out: string | undefined): string {
  if (out !== undefined) return resolve(out);
  const dir = joinPath(root, 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  let p = joinPath(dir, `swim-core-${date}.jsonl`);
  for (let k = 2; existsSync(p); k++) p = joinPath(dir, `swim-core-${date}-${k}.jsonl`);
  return p;
}

// ───────────────────────────────────────────────────────────── the Go harness

/** Returns the path of a built memberlist-bench, building it from goSrc when needed, or why it cannot. */
function memberlistHarness(root: string, goSrc: string): { path?: string; why?: string; go?: string } {
  const go = sh('go', ['version']);
  const dir = joinPath(root, 'benchmarks', 'results', 'tmp', 'memberlist-bench');
  const bin = joinPath(dir, 'memberlist-bench');
  if (existsSync(bin)) return { path: bin, go: go.ok ? go.out : undefined };
  if (!go.ok) return { why: `Go is not installed (\`go version\`: ${go.out}); apt-get install golang-go` };
  const pkg = sh('dpkg', ['-s', 'golang-github-hashicorp-memberlist-dev']);
  if (!pkg.ok || !/Status: install ok installed/.test(pkg.out)) {
    return { why: "Debian's memberlist source is not installed (apt-get install golang-github-hashicorp-memberlist-dev)", go: go.out };
  }
  if (!existsSync(joinPath(goSrc, 'main.go'))) return { why: `the harness source ${goSrc}/main.go is missing`, go: go.out };
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(goSrc)) if (f.endsWith('.go') || f === 'build.sh') copyFileSync(joinPath(goSrc, f), joinPath(dir, f));
  log(`building memberlist-bench in ${dir}`);
  const b = sh('sh', [joinPath(dir, 'build.sh')], dir);
  if (!b.ok || !existsSync(bin)) return { why: `building the memberlist harness failed: ${b.out.slice(-800)}`, go: go.out };
  return { path: bin, go: go.out };
}

// ───────────────────────────────────────────────────────────── children

interface ChildResult {
  records: Rec[];
  code: number | null;
  signal: string | null;
  wallMs: number;
  stderrTail: string[];
}

function runChild(cmd: string, args: string[], label: string, stderrLog: string, killAfterMs: number): Promise<ChildResult> {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const records: Rec[] = [];
    const tail: string[] = [];
    let outBuf = '';
    let errBuf = '';
    appendFileSync(stderrLog, `\n===== ${label}: ${cmd} ${args.join(' ')}\n`);
    const onErrLine = (line: string): void => {
      appendFileSync(stderrLog, `${line}\n`);
      process.stderr.write(`  ${label} | ${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      outBuf += d;
      let i: number;
      while ((i = outBuf.indexOf('\n')) >= 0) {
        const line = outBuf.slice(0, i).trim();
        outBuf = outBuf.slice(i + 1);
        if (line === '') continue;
        try {
          records.push(JSON.parse(line) as Rec);
        } catch {
          onErrLine(`(non-JSON stdout) ${line}`);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      errBuf += d;
      let i: number;
      while ((i = errBuf.indexOf('\n')) >= 0) {
        onErrLine(errBuf.slice(0, i));
        errBuf = errBuf.slice(i + 1);
      }
    });
    const killer = setTimeout(() => {
      onErrLine(`(compare: killing ${label} after ${Math.round(killAfterMs / 1000)} s)`);
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (errBuf !== '') onErrLine(errBuf);
      resolvePromise({ records, code, signal, wallMs: performance.now() - t0, stderrTail: tail });
    });
    child.on('error', (err) => {
      onErrLine(`(spawn error) ${err.message}`);
    });
  });
}

// ───────────────────────────────────────────────────────────── tables

type Impl = 'ours' | 'memberlist';
type RunImpl = Impl | 'ours-sim' | 'ours-isolated';

const fmtS = (ms: number | undefined): string => (ms === undefined ? '–' : (ms / 1000).toFixed(2));
const fmtRatio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}`;

function numbers(recs: Rec[], key: string): number[] {
  return recs.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && v >= 0);
}

/** The converge figure of a set of convergence lines: median of the converged ones, or a note. */
function convergeCell(recs: Rec[]): { ms?: number; text: string } {
  if (recs.length === 0) return { text: 'no result' };
  const ok = recs.filter((r) => r.converged === true);
  const m = median(numbers(ok, 'converge_ms'));
  const failed = recs.length - ok.length;
  if (ok.length === 0) {
    const full = recs.map((r) => `${String(r.nodes_full)}/${String(r.n)}`).join(', ');
    return { text: `not converged (${full} full)` };
  }
  return { ms: m, text: `${fmtS(m)}${failed > 0 ? ` (${failed}/${recs.length} runs did not converge)` : ''}` };
}

function comparisonTable(all: Rec[], opts: Options, haveGo: boolean): string {
  const lines: string[] = [];
  const pick = (impl: Impl, measure: string, n: number, cfg: string): Rec[] =>
    all.filter((r) => r._impl === impl && r.measure === measure && r.n === n && r.config === cfg);
  const metrics: Array<{ label: string; measure: string; key: string }> = [
    { label: 'first suspect', measure: 'failure_detection', key: 'first_suspect_ms' },
    { label: 'first dead', measure: 'failure_detection', key: 'first_dead_ms' },
    { label: 'all dead', measure: 'failure_detection', key: 'all_dead_ms' },
    { label: 'all left', measure: 'leave_propagation', key: 'all_left_ms' },
  ];
  const head = ['N', 'config', 'converge ours', 'converge memberlist', 'ratio'];
  for (const m of metrics) head.push(`${m.label} ours`, `${m.label} memberlist`, 'ratio');
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((h, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const n of opts.ns) {
    for (const cfg of opts.configs) {
      if (opts.skip.has(`${n}:${cfg}`)) continue;
      const co = convergeCell(pick('ours', 'convergence', n, cfg));
      const cm = haveGo ? convergeCell(pick('memberlist', 'convergence', n, cfg)) : { text: 'not run' };
      const row = [String(n), cfg, co.text, cm.text, fmtRatio(co.ms, cm.ms)];
      for (const m of metrics) {
        const a = median(numbers(pick('ours', m.measure, n, cfg), m.key));
        const b = haveGo ? median(numbers(pick('memberlist', m.measure, n, cfg), m.key)) : undefined;
        row.push(fmtS(a), haveGo ? fmtS(b) : 'not run', fmtRatio(a, b));
      }
      lines.push(`| ${row.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/** Per-member cost and times side by side: ours (and ours-isolated) against memberlist, with the issue's targets. */
function costTable(all: Rec[], opts: Options, haveGo: boolean): string {
  const lines: string[] = [];
  const pick = (impl: RunImpl, measure: string, n: number, cfg: string): Rec[] =>
    all.filter((r) => r._impl === impl && r.measure === measure && r.n === n && r.config === cfg);
  const med = (impl: RunImpl, measure: string, key: string, n: number, cfg: string): number | undefined => {
    const recs = pick(impl, measure, n, cfg).filter((r) => measure !== 'convergence' || r.converged === true);
    return median(numbers(recs, key));
  };
  const fin = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
  const f = (x: number | undefined, d: number): string => (fin(x) ? x.toFixed(d) : '–');
  const cell = (a: number | undefined, b: number | undefined, d: number, target?: number): string => {
    const r = !fin(a) || !fin(b) || b === 0 ? undefined : a / b;
    const verdict = r === undefined || target === undefined ? '' : r <= target ? ' ✓' : ' ✗';
    return `${f(a, d)} / ${f(b, d)} = **${r === undefined ? '–' : r.toFixed(2)}**${verdict}`;
  };
  const head = [
    'N', 'config', 'ours', 'converge s (≤1.0)', 'first suspect s', 'first dead s (≤1.0)', 'all dead s (≤1.0)',
    'CPU ms / member / s (≤1.5)', 'bytes / member / s (≤0.7)', 'of which UDP', 'of which TCP', 'RSS KB / member', 'other load (cores) ours / ml',
  ];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);
  for (const n of opts.ns) {
    for (const cfg of opts.configs) {
      if (opts.skip.has(`${n}:${cfg}`)) continue;
      const ml = (measure: string, key: string): number | undefined => (haveGo ? med('memberlist', measure, key, n, cfg) : undefined);
      for (const impl of ['ours', 'ours-isolated'] as const) {
        if (pick(impl, 'convergence', n, cfg).length === 0) continue;
        const o = (measure: string, key: string): number | undefined => med(impl, measure, key, n, cfg);
        const st = 'steady_state';
        const oTot = o(st, 'app_total_bytes_per_node_per_s');
        lines.push(
          `| ${[
            n,
            cfg,
            impl === 'ours' ? opts.threading : 'isolated',
            cell(o('convergence', 'converge_ms') as number / 1000, (ml('convergence', 'converge_ms') ?? NaN) / 1000, 2, 1.0),
            cell(o('failure_detection', 'first_suspect_ms') as number / 1000, (ml('failure_detection', 'first_suspect_ms') ?? NaN) / 1000, 2),
            cell(o('failure_detection', 'first_dead_ms') as number / 1000, (ml('failure_detection', 'first_dead_ms') ?? NaN) / 1000, 2, 1.0),
            cell(o('failure_detection', 'all_dead_ms') as number / 1000, (ml('failure_detection', 'all_dead_ms') ?? NaN) / 1000, 2, 1.0),
            cell(o(st, 'cpu_ms_per_node_per_s'), ml(st, 'cpu_ms_per_node_per_s'), 3, 1.5),
            oTot === undefined ? `UDP only: ${cell(o(st, 'app_udp_bytes_per_node_per_s'), ml(st, 'app_udp_bytes_per_node_per_s'), 0)}` : cell(oTot, ml(st, 'app_total_bytes_per_node_per_s'), 0, 0.7),
            cell(o(st, 'app_udp_bytes_per_node_per_s'), ml(st, 'app_udp_bytes_per_node_per_s'), 0),
            cell(o(st, 'app_tcp_bytes_per_node_per_s'), ml(st, 'app_tcp_bytes_per_node_per_s'), 0),
            cell(o(st, 'rss_kb_per_node'), ml(st, 'rss_kb_per_node'), 0),
            `${f(o(st, 'other_procs_busy_cores'), 2)} / ${f(ml(st, 'other_procs_busy_cores'), 2)}`,
          ]
            .map((x) => (typeof x === 'string' ? x.replace(/NaN/g, '–') : String(x)))
            .join(' | ')} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** memberlist's minimum suspicion timeout: SuspicionMult × max(1, log10 N) × ProbeInterval (from the run's config_values). */
function formulaMinMs(conv: Rec): number | undefined {
  const cv = conv.config_values as Record<string, unknown> | undefined;
  const n = conv.n as number;
  if (cv === undefined || typeof cv.suspicion_mult !== 'number' || typeof cv.probe_interval_ms !== 'number') return undefined;
  return cv.suspicion_mult * Math.max(1, Math.log10(Math.max(1, n))) * cv.probe_interval_ms;
}

function detailTable(all: Rec[], opts: Options): string {
  const lines: string[] = [];
  const head = ['N', 'config', 'impl', 'converged', 'nodes full', 'converge', 'p50 node full', 'p90 node full', 'last join returned', 'join errors', 'first suspect', 'first dead', 'first dead − first suspect', 'formula min', 'dead seen by', 'left seen by', 'left as', 'leave() took'];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);
  for (const n of opts.ns) {
    for (const cfg of opts.configs) {
      if (opts.skip.has(`${n}:${cfg}`)) continue;
      for (const impl of ['ours', 'memberlist'] as const) {
        const convs = all.filter((r) => r._impl === impl && r.measure === 'convergence' && r.n === n && r.config === cfg);
        for (const c of convs) {
          const rep = c._rep;
          const same = (measure: string): Rec | undefined =>
            all.find((r) => r._impl === impl && r.measure === measure && r.n === n && r.config === cfg && r._rep === rep);
          const fd = same('failure_detection');
          const lp = same('leave_propagation');
          const reasons = lp?.left_reasons as Record<string, number> | undefined;
          lines.push(
            `| ${[
              n,
              cfg,
              impl === 'ours' ? 'memberlist-ts' : 'memberlist',
              String(c.converged),
              `${String(c.nodes_full)}/${n}`,
              typeof c.converge_ms === 'number' && c.converged === true ? fmtS(c.converge_ms) : '–',
              fmtS(c.p50_node_full_ms as number | undefined),
              fmtS(c.p90_node_full_ms as number | undefined),
              fmtS(c.last_join_return_ms as number | undefined),
              String(c.join_errors ?? '–'),
              fmtS(fd?.first_suspect_ms as number | undefined),
              fmtS(fd?.first_dead_ms as number | undefined),
              typeof fd?.first_dead_ms === 'number' && typeof fd?.first_suspect_ms === 'number' ? fmtS(fd.first_dead_ms - fd.first_suspect_ms) : '–',
              fmtS(formulaMinMs(c)),
              fd ? `${String(fd.observers_dead)}/${String(fd.expected_observers)}` : '–',
              lp ? `${String(lp.observers_left)}/${String(lp.expected_observers)}` : '–',
              reasons ? Object.entries(reasons).map(([k, v]) => `${k} ${v}`).join(', ') : '–',
              fmtS(lp?.leave_call_ms as number | undefined),
            ].join(' | ')} |`,
          );
        }
      }
    }
  }
  return lines.join('\n');
}

function simTable(all: Rec[]): string {
  const lines: string[] = [];
  const head = ['N', 'config', 'converged', 'converge', 'p50 node full', 'p90 node full', 'first suspect', 'first dead', 'all dead', 'all left', 'leave() took', 'wall time (s)'];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  const convs = all.filter((r) => r._impl === 'ours-sim' && r.measure === 'convergence');
  for (const c of convs) {
    const same = (measure: string): Rec | undefined =>
      all.find((r) => r._impl === 'ours-sim' && r.measure === measure && r.n === c.n && r.config === c.config);
    const fd = same('failure_detection');
    const lp = same('leave_propagation');
    const status = all.find((r) => r._impl === 'ours-sim' && r.measure === 'run_status' && r.n === c.n && r.config === c.config);
    lines.push(
      `| ${[
        String(c.n),
        String(c.config),
        c.converged === true ? 'yes' : `no (${String(c.nodes_full)}/${String(c.n)})`,
        c.converged === true ? fmtS(c.converge_ms as number) : '–',
        fmtS(c.p50_node_full_ms as number | undefined),
        fmtS(c.p90_node_full_ms as number | undefined),
        fmtS(fd?.first_suspect_ms as number | undefined),
        fmtS(fd?.first_dead_ms as number | undefined),
        fmtS(fd?.all_dead_ms as number | undefined),
        fmtS(lp?.all_left_ms as number | undefined),
        fmtS(lp?.leave_call_ms as number | undefined),
        status ? ((status.wall_ms as number) / 1000).toFixed(1) : '–',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

// ───────────────────────────────────────────────────────────── main

export async function main(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(args);
  } catch (err) {
    process.stderr.write(`compare-memberlist: ${(err as Error).message}\n`);
    return 2;
  }
  const root = repoRoot();
  const outPath = resultsPath(root, opts.out);
  const base = outPath.replace(/\.jsonl$/, '');
  const stderrLog = `${base}.stderr.log`;
  const mdPath = `${base}.md`;
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, '');
  writeFileSync(stderrLog, '');

  const distBench = joinPath(root, 'dist', 'benchmarks', 'cluster-bench.js');
  if (!existsSync(distBench)) {
    process.stderr.write(`compare-memberlist: ${distBench} is missing; run \`npm run build\` first\n`);
    return 2;
  }
  // Snapshot dist/ so that a concurrent rebuild cannot swap the code under a running benchmark.
  let oursScript = distBench;
  let snapshotDir: string | undefined;
  if (opts.snapshot) {
    snapshotDir = joinPath(root, 'benchmarks', 'results', 'tmp', `dist-snapshot-${process.pid}`);
    rmSync(snapshotDir, { recursive: true, force: true });
    // JavaScript only: tsconfig includes benchmarks/, so .d.ts files here would join the project's typecheck.
    cpSync(joinPath(root, 'dist'), snapshotDir, {
      recursive: true,
      filter: (src) => !src.endsWith('.d.ts') && !src.endsWith('.map'),
    });
    oursScript = joinPath(snapshotDir, 'benchmarks', 'cluster-bench.js');
  }

  const harness = memberlistHarness(root, opts.goSrc);
  const haveGo = harness.path !== undefined;
  if (!haveGo) {
    const msg = `memberlist's harness is NOT available: ${harness.why}. Running memberlist-ts only; the memberlist columns stay empty.`;
    log(msg);
    process.stdout.write(`\n> **${msg}**\n\n`);
  }

  // The code measured: the git checkout at root, or (for a tree exported with `git archive`, which has no
  // .git of its own) the commit named in root/SOURCE_COMMIT.
  const top = sh('git', ['rev-parse', '--show-toplevel'], root);
  const isCheckout = top.ok && resolve(top.out) === resolve(root);
  const sourceCommitFile = joinPath(root, 'SOURCE_COMMIT');
  const git = isCheckout
    ? sh('git', ['rev-parse', 'HEAD'], root)
    : { ok: existsSync(sourceCommitFile), out: existsSync(sourceCommitFile) ? readFileSync(sourceCommitFile, 'utf8').trim() : '' };
  const dirty = isCheckout ? sh('git', ['status', '--porcelain', '--', 'src', 'proto', 'workers'], root) : { ok: false, out: '' };
  const cpuModel = /model name\s*:\s*(.*)/.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1];
  const all: Rec[] = [];
  const write = (rec: Rec): void => {
    appendFileSync(outPath, `${JSON.stringify(rec)}\n`);
  };
  write({
    measure: 'run_info',
    ts: new Date().toISOString(),
    commit: git.ok ? git.out : null,
    source_tree: isCheckout ? `git checkout ${root}` : `exported tree ${root} (commit from SOURCE_COMMIT)`,
    src_uncommitted_changes: dirty.ok ? dirty.out.split('\n').filter((l) => l !== '') : null,
    nproc: cpus().length,
    cpu_model: cpuModel ?? cpus()[0]?.model,
    node: process.version,
    go: harness.go ?? null,
    memberlist_harness: harness.path ?? null,
    memberlist_harness_missing: harness.why ?? null,
    ours_script: oursScript,
    options: { ...opts, skip: [...opts.skip] },
  });
  log(`results -> ${outPath}`);

  const killAfterMs = (opts.convergeTimeoutS + 2 * opts.detectTimeoutS + opts.settleS + 180) * 1000;
  const runOne = async (impl: RunImpl, n: number, cfg: string, rep: number, order: number): Promise<void> => {
    let cmd: string;
    let args: string[];
    if (impl === 'memberlist') {
      cmd = harness.path as string;
      args = [
        '-mode=inproc',
        `-config=${cfg}`,
        `-n=${n}`,
        `-steady=${opts.steadyS}s`,
        `-warmup=${opts.steadyS > 0 ? opts.warmupS : opts.settleS}s`,
        `-converge-timeout=${opts.convergeTimeoutS}s`,
        `-detect-timeout=${opts.detectTimeoutS}s`,
      ];
    } else {
      cmd = process.execPath;
      args = [
        oursScript,
        '--mode',
        impl === 'ours-sim' ? 'sim' : 'inproc',
        '--n',
        String(n),
        '--config',
        cfg,
        '--converge-timeout',
        String(opts.convergeTimeoutS),
        '--detect-timeout',
        String(opts.detectTimeoutS),
        '--settle',
        String(opts.settleS),
      ];
      if (impl !== 'ours-sim') {
        args.push('--threading', impl === 'ours-isolated' ? 'isolated' : opts.threading);
        if (opts.steadyS > 0) args.push('--warmup', String(opts.warmupS), '--steady', String(opts.steadyS));
      }
      if (!opts.leave) args.push('--skip-leave');
    }
    const label = `${impl} n=${n} ${cfg} rep=${rep}`;
    log(`${label}: start`);
    const r = await runChild(cmd, args, label, stderrLog, killAfterMs);
    for (const rec of r.records) {
      const tagged = { ...rec, _impl: impl, _rep: rep, _order: order };
      all.push(tagged);
      write(tagged);
    }
    const status: Rec = {
      measure: 'run_status',
      _impl: impl,
      _rep: rep,
      _order: order,
      n,
      config: cfg,
      command: [cmd === process.execPath ? 'node' : cmd, ...args].join(' '),
      exit_code: r.code,
      signal: r.signal,
      wall_ms: Math.round(r.wallMs),
      lines: r.records.length,
    };
    if (r.code !== 0) status.stderr_tail = r.stderrTail;
    all.push(status);
    write(status);
    log(`${label}: exit ${r.code ?? r.signal} after ${(r.wallMs / 1000).toFixed(1)} s, ${r.records.length} lines`);
  };

  let k = 0;
  for (const n of opts.ns) {
    for (const cfg of opts.configs) {
      if (opts.skip.has(`${n}:${cfg}`)) {
        log(`skipping n=${n} ${cfg} (--skip)`);
        continue;
      }
      for (let rep = 1; rep <= opts.reps; rep++) {
        const oursFirst = k++ % 2 === 0 || !haveGo;
        const order: Impl[] = haveGo ? (oursFirst ? ['ours', 'memberlist'] : ['memberlist', 'ours']) : ['ours'];
        for (const [i, impl] of order.entries()) await runOne(impl, n, cfg, rep, i + 1);
        if (opts.isolatedNs.includes(n)) await runOne('ours-isolated', n, cfg, rep, order.length + 1);
      }
    }
  }
  if (opts.sim) {
    for (const n of opts.simNs) for (const cfg of opts.configs) await runOne('ours-sim', n, cfg, 1, 1);
  }

  const md: string[] = [];
  if (opts.ns.length > 0) {
    md.push(`## memberlist-ts vs memberlist, in-process on 127.0.0.1 (wall-clock seconds; ratio = ours / memberlist; median of ${opts.reps} rep(s))`);
    md.push('');
    if (!haveGo) md.push(`**memberlist's harness was not run: ${harness.why}**\n`);
    md.push(comparisonTable(all, opts, haveGo));
    md.push('');
    if (opts.steadyS > 0) {
      md.push(`### Per-member cost and times side by side (cell = ours / memberlist = ratio; ✓/✗ against the target; steady window ${opts.steadyS} s after ${opts.warmupS} s warm-up)`);
      md.push('');
      md.push(costTable(all, opts, haveGo));
      md.push('');
    }
    md.push('### Per run');
    md.push('');
    md.push(detailTable(all, opts));
  }
  if (opts.sim) {
    if (md.length > 0) md.push('');
    md.push('## memberlist-ts on SimulatedCluster (virtual seconds; latency 0.2 ms, jitter 0.2 ms, seed 1)');
    md.push('');
    md.push(simTable(all));
  }
  const failures = all.filter((r) => r.measure === 'run_status' && r.exit_code !== 0);
  if (failures.length > 0) {
    md.push('');
    md.push('### Runs that did not exit 0');
    md.push('');
    for (const f of failures) {
      md.push(`* ${String(f._impl)} n=${String(f.n)} ${String(f.config)} rep=${String(f._rep)}: exit ${String(f.exit_code)} signal ${String(f.signal)}`);
      for (const l of (f.stderr_tail as string[] | undefined) ?? []) md.push(`  > ${l}`);
    }
  }
  md.push('');
  md.push(`raw: ${outPath}`);
  const text = md.join('\n');
  writeFileSync(mdPath, `${text}\n`);
  process.stdout.write(`${text}\n`);
  log(`tables -> ${mdPath}`);
  if (snapshotDir !== undefined) rmSync(snapshotDir, { recursive: true, force: true });
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`compare-memberlist: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
