// Lifeguard against slow members (issue 6, item 7): false suspicions and false deaths with Lifeguard
// on and off, on a simulated cluster in virtual time (the scenario is in ./lifeguard-slow-scenario.ts).
//
//   npx tsx benchmarks/lifeguard-slow.ts [--ns 20,50] [--seeds 3] [--minutes 5] [--delays 500,1000,2000,3000,mixed] [--ablation]
//
// For every cluster size N, N/10 members are slow (at least 1). Each delay in --delays is the
// processing delay of all of them; `mixed` spreads their delays evenly over 0.5-3 s. Every
// configuration runs --seeds seeds (1, 2, ...) with Lifeguard on and off; the table sums the seeds.
// Ratios are off / on; when on is 0 the ratio is given as a lower bound, off / 1. --ablation also runs
// each configuration with half of Lifeguard (awareness only, accelerated suspicion timeouts only) and
// prints a second table. Progress and each run's figures go to stderr, the tables to stdout.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { runSlowScenario, type LifeguardMode, emptySlowResult, type SlowResult } from './lifeguard-slow-scenario.js';

const { values: argv } = parseArgs({
  options: {
    ns: { type: 'string', default: '20,50' },
    seeds: { type: 'string', default: '3' },
    minutes: { type: 'string', default: '5' },
    delays: { type: 'string', default: '500,1000,2000,3000,mixed' },
    ablation: { type: 'boolean', default: false },
  },
  strict: true,
});

const NS = argv.ns.split(',').map(Number);
const SEEDS = Number(argv.seeds);
const DURATION_MS = Number(argv.minutes) * 60_000;
const DELAYS = argv.delays.split(',');
const MODES: LifeguardMode[] = argv.ablation ? ['on', 'off', 'awareness-only', 'suspicion-only'] : ['on', 'off'];
if (NS.some((n) => !Number.isInteger(n) || n < 3)) throw new Error('--ns: integers >= 3');
if (!Number.isInteger(SEEDS) || SEEDS < 1) throw new Error('--seeds: an integer >= 1');

function delaysFor(spec: string, slow: number): number[] {
  if (spec === 'mixed') {
    return Array.from({ length: slow }, (_, i) => Math.round(slow === 1 ? 1750 : 500 + (2500 * i) / (slow - 1)));
  }
  const d = Number(spec);
  if (!(d > 0)) throw new Error(`--delays: ${spec} is neither a number of ms nor "mixed"`);
  return Array.from({ length: slow }, () => d);
}

type Totals = SlowResult;

function add(into: Totals, r: SlowResult): void {
  for (const k of Object.keys(r) as Array<keyof SlowResult>) into[k] += r[k];
}

function ratio(off: number, on: number): string {
  if (off === 0 && on === 0) return '-';
  if (on === 0) return `≥ ${off}×`;
  if (off === 0) return `none off, ${on} on`;
  return `${(off / on).toFixed(1)}×`;
}

function progress(line: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${line}\n`);
}

const t0 = performance.now();
const rows: string[] = [];
const ablationRows: string[] = [];
const grand = { on: emptySlowResult(), off: emptySlowResult() };
for (const n of NS) {
  const slow = Math.max(1, Math.round(n / 10));
  for (const spec of DELAYS) {
    const delays = delaysFor(spec, slow);
    const sums: Record<LifeguardMode, Totals> = { on: emptySlowResult(), off: emptySlowResult(), 'awareness-only': emptySlowResult(), 'suspicion-only': emptySlowResult() };
    for (let seed = 1; seed <= SEEDS; seed++) {
      for (const mode of MODES) {
        const r = await runSlowScenario({ seed, nodes: n, slowDelaysMs: delays, lifeguard: mode, durationMs: DURATION_MS });
        add(sums[mode], r);
        if (mode === 'on' || mode === 'off') add(grand[mode], r);
        progress(`N=${n} slow=${slow} delay=${spec} seed=${seed} lifeguard ${mode}: ${JSON.stringify(r)}`);
      }
    }
    const { on, off } = sums;
    const delayText = spec === 'mixed' ? `${delays.map((d) => (d / 1000).toString()).join(' / ')} s` : `${Number(spec) / 1000} s`;
    rows.push(
      `| ${n} | ${slow} | ${delayText} | ${off.slowAccusesHealthy} / ${on.slowAccusesHealthy} | ${ratio(off.slowAccusesHealthy, on.slowAccusesHealthy)} ` +
        `| ${off.healthyDeaths} (${off.healthyDeathsSeenBySlow} + ${off.healthyDeathsSeenByHealthy}) / ${on.healthyDeaths} (${on.healthyDeathsSeenBySlow} + ${on.healthyDeathsSeenByHealthy}) ` +
        `| ${ratio(off.healthyDeaths, on.healthyDeaths)} | ${off.healthyMembersDeclaredDead} / ${on.healthyMembersDeclaredDead} ` +
        `| ${off.healthyAccusesHealthy} / ${on.healthyAccusesHealthy} | ${off.slowDeaths} / ${on.slowDeaths} ` +
        `| ${off.slowProbes} / ${on.slowProbes} | ${(on.slowMeanScore / SEEDS).toFixed(1)} |`,
    );
    const aw = sums['awareness-only'];
    const su = sums['suspicion-only'];
    ablationRows.push(
      `| ${n} | ${slow} | ${delayText} | ${off.slowAccusesHealthy} / ${aw.slowAccusesHealthy} / ${su.slowAccusesHealthy} / ${on.slowAccusesHealthy} ` +
        `| ${off.healthyDeaths} / ${aw.healthyDeaths} / ${su.healthyDeaths} / ${on.healthyDeaths} |`,
    );
  }
}

console.log(
  `# Lifeguard against slow members: LAN preset, 1-2 ms links, ${SEEDS} seeds x ${DURATION_MS / 60_000} virtual min per row ` +
    `(counted from the moment the members turn slow), sums over the seeds; each cell is Lifeguard off / on`,
);
console.log('');
console.log(
  '| N | slow | processing delay | suspicions raised by slow members about healthy ones | ratio | healthy members declared dead, observer × member (by slow + by healthy observers) | ratio | distinct healthy members declared dead | suspicions raised by healthy members about healthy ones | slow members declared dead | probes the slow members ran | mean health score of the slow (on) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('');
console.log(
  `all rows: suspicions by slow members ${grand.off.slowAccusesHealthy} / ${grand.on.slowAccusesHealthy} (${ratio(grand.off.slowAccusesHealthy, grand.on.slowAccusesHealthy)}); ` +
    `healthy members declared dead ${grand.off.healthyDeaths} / ${grand.on.healthyDeaths} (${ratio(grand.off.healthyDeaths, grand.on.healthyDeaths)}); ` +
    `slow members declared dead ${grand.off.slowDeaths} / ${grand.on.slowDeaths}`,
);
if (argv.ablation) {
  console.log('');
  console.log('Lifeguard taken apart (same runs and sums): off / awareness only (suspicionMaxTimeoutMult 1) / accelerated suspicion timeouts only (awarenessMaxMultiplier 1) / on');
  console.log('');
  console.log('| N | slow | processing delay | suspicions raised by slow members about healthy ones | healthy members declared dead, observer × member |');
  console.log('|---|---|---|---|---|');
  for (const r of ablationRows) console.log(r);
}
console.log(`wall ${((performance.now() - t0) / 1000).toFixed(0)} s`);
