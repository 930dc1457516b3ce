// Hand-written SVG charts (no plotting dependency) from benchmark JSON lines, into benchmarks/results/.
//
//   node dist/benchmarks/plots.js [--scale dir1,dir2] [--compare f1.jsonl,f2.jsonl]
//        [--anchors /work/shared/tools/memberlist-bench/results/full-inproc-local.jsonl] [--out benchmarks/results]
//
// Inputs: sim-scale runs (every sim-n*.jsonl of the --scale directories; one run per N and loss, the
// first in name order), compare-memberlist runs (--compare: ours and memberlist 0.2.2 alternated in one
// benchmark run; medians over repetitions per implementation and N) and memberlist's anchors.
//
// Charts:
//   convergence-curve.svg   share of nodes that list the whole cluster against virtual time (sim-scale runs)
//   detection-vs-n.svg      first dead / all dead after a crash against N: ours beside memberlist 0.2.2
//                           (compare-memberlist, real sockets) and ours in simulation (up to 10,000)
//   per-member-cost.svg     bytes per member per second against N: ours beside memberlist (compare-memberlist),
//                           ours in simulation and memberlist's in-process anchors
//   per-member-cpu.svg      CPU ms per member per second against N: ours beside memberlist (compare-memberlist)
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: argv } = parseArgs({
  options: {
    scale: { type: 'string', default: 'benchmarks/results/scale-2026-11-24,benchmarks/results/scale-10k-2026-11-24' },
    compare: {
      type: 'string',
      default: [
        'compare-n10-n50-n100-quiet.jsonl',
        'compare-detect-reps5.jsonl',
        'compare-n200-steady180.jsonl',
      ]
        .map((f) => `benchmarks/results/issue5-costs-2026-11-24/${f}`)
        .join(','),
    },
    anchors: { type: 'string', default: '/work/shared/tools/memberlist-bench/results/full-inproc-local.jsonl' },
    out: { type: 'string', default: 'benchmarks/results' },
  },
  strict: true,
});

type Row = Record<string, unknown>;
const readJsonl = (path: string): Row[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Row)
    : [];
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

interface Series {
  label: string;
  points: Array<[number, number]>;
  color: string;
  dashed?: boolean;
}
interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  yMin?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

function render(c: Chart): string {
  const W = 760;
  const H = 440;
  const L = 70;
  const R = 220;
  const T = 40;
  const B = 55;
  const all = c.series.flatMap((s) => s.points);
  const fx = (x: number): number => (c.logX ? Math.log10(x) : x);
  const xs = all.map((p) => fx(p[0]));
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = c.yMin ?? Math.min(0, ...ys);
  const y1 = Math.max(...ys) * 1.05 || 1;
  const px = (x: number): number => L + ((fx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number): number => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
  ];
  const xt = c.logX ? [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].filter((v) => fx(v) >= x0 - 1e-9 && fx(v) <= x1 + 1e-9) : ticks(x0, x1);
  for (const v of xt) {
    const x = c.logX ? px(v) : L + ((v - x0) / (x1 - x0 || 1)) * (W - L - R);
    parts.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${H - B + 16}" text-anchor="middle">${v}</text>`);
  }
  for (const v of ticks(y0, y1)) {
    const y = py(v);
    parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 6}" y="${y + 4}" text-anchor="end">${v}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`);
  parts.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  parts.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (s.points.length < 30) for (const p of s.points) parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = T + 10 + i * 18;
    parts.push(`<line x1="${W - R + 12}" y1="${ly}" x2="${W - R + 34}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${W - R + 40}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

const written: string[] = [];
function write(name: string, chart: Chart): void {
  if (chart.series.every((s) => s.points.length === 0)) return;
  writeFileSync(join(argv.out, name), render(chart));
  written.push(name);
}

// ── convergence curves (sim-scale)
const list = (v: string): string[] => v.split(',').map((x) => x.trim()).filter((x) => x !== '');
/** One run per (N, loss): the first sim-n*.jsonl in name order across the directories that has the measure. */
function simRuns(measure: string): Row[] {
  const files = list(argv.scale)
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).filter((f) => /^sim-n\d+.*\.jsonl$/.test(f)).map((f) => join(d, f)))
    .sort((a, b) => a.split('/').pop()!.localeCompare(b.split('/').pop()!));
  const seen = new Map<string, Row>();
  for (const f of files) {
    for (const r of readJsonl(f)) {
      if (r.mode !== 'sim' || r.measure !== measure) continue;
      const key = `${String(r.n)}/${String(num(r.loss) ?? 0)}`;
      if (!seen.has(key)) seen.set(key, r);
    }
  }
  return [...seen.values()].sort((a, b) => (a.n as number) - (b.n as number) || ((a.loss as number) ?? 0) - ((b.loss as number) ?? 0));
}
const convRows = simRuns('convergence').filter((r) => Array.isArray(r.curve));
write('convergence-curve.svg', {
  title: 'Join convergence, simulation (virtual time)',
  xLabel: 'virtual seconds since the first join()',
  yLabel: 'share of nodes that list all N members',
  yMin: 0,
  series: convRows.map((r, i) => ({
    label: `N=${String(r.n)}${num(r.loss) ? `, ${Math.round((r.loss as number) * 100)}% loss` : ''}`,
    points: r.curve as Array<[number, number]>,
    color: COLORS[i % COLORS.length] as string,
    dashed: Boolean(num(r.loss)),
  })),
});

// ── compare-memberlist medians
const compareRows = list(argv.compare).flatMap((f) => readJsonl(f));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
/** Medians per N of `field` over the compare runs of one implementation ('ours' or 'memberlist'). */
function compareSeries(measure: string, impl: 'ours' | 'memberlist', field: string | ((r: Row) => number | undefined), scale = 1): Array<[number, number]> {
  const byN = new Map<number, number[]>();
  for (const r of compareRows) {
    if (r.measure !== measure || r.config !== 'local' || r.mode !== 'inproc') continue;
    // A run with --steady 0 still writes a steady_state line, over no window: not a measurement.
    if (measure === 'steady_state' && !((num(r.window_s) ?? 0) >= 5)) continue;
    const ours = String(r.impl).startsWith('memberlist-ts');
    if (ours !== (impl === 'ours')) continue;
    const v = typeof field === 'string' ? num(r[field]) : field(r);
    if (v === undefined) continue;
    const n = r.n as number;
    byN.set(n, [...(byN.get(n) ?? []), v * scale]);
  }
  return [...byN].map(([n, vs]): [number, number] => [n, median(vs)]).sort((a, b) => a[0] - b[0]);
}

// ── detection vs N
const simDet = simRuns('detection').filter((r) => !num(r.loss));
write('detection-vs-n.svg', {
  title: 'Crash detection vs N (local preset)',
  xLabel: 'N (log scale)',
  yLabel: 'seconds after the crash',
  logX: true,
  yMin: 0,
  series: [
    { label: 'ours first dead', points: compareSeries('failure_detection', 'ours', 'first_dead_ms', 1 / 1000), color: COLORS[0] as string },
    { label: 'ours all dead', points: compareSeries('failure_detection', 'ours', 'all_dead_ms', 1 / 1000), color: COLORS[1] as string },
    { label: 'memberlist first dead', points: compareSeries('failure_detection', 'memberlist', 'first_dead_ms', 1 / 1000), color: COLORS[0] as string, dashed: true },
    { label: 'memberlist all dead', points: compareSeries('failure_detection', 'memberlist', 'all_dead_ms', 1 / 1000), color: COLORS[1] as string, dashed: true },
    {
      label: 'ours all dead (sim)',
      points: simDet.filter((r) => num(r.all_dead_ms) !== undefined).map((r): [number, number] => [r.n as number, (r.all_dead_ms as number) / 1000]),
      color: COLORS[2] as string,
    },
  ],
});

// ── per-member cost vs N
const anchors = readJsonl(argv.anchors).filter((r) => r.measure === 'steady_state');
// Simulation: the steady window of runs without loss that let the join's gossip drain first (--settle
// of 30 s or more): a window right after convergence measures the join, not the steady state.
const steady = simRuns('steady').filter((r) => !num(r.loss) && (num(r.settle_s) ?? 0) >= 30);
const bytesOf = (r: Row): number | undefined => num(r.app_total_bytes_per_node_per_s);
write('per-member-cost.svg', {
  title: 'Steady-state bytes per member per second',
  xLabel: 'N (log scale)',
  yLabel: 'bytes / member / s (UDP + TCP)',
  logX: true,
  yMin: 0,
  series: [
    { label: 'ours (real sockets)', points: compareSeries('steady_state', 'ours', bytesOf), color: COLORS[0] as string },
    { label: 'memberlist (same runs)', points: compareSeries('steady_state', 'memberlist', bytesOf), color: COLORS[1] as string, dashed: true },
    {
      label: 'ours (simulation, settled)',
      points: steady.map((r): [number, number] => [r.n as number, (r.udp_bytes_per_member_s as number) + (r.stream_bytes_per_member_s as number)]),
      color: COLORS[2] as string,
    },
    {
      label: 'memberlist (anchors)',
      points: anchors.map((r): [number, number] => [r.n as number, r.app_total_bytes_per_node_per_s as number]).sort((a, b) => a[0] - b[0]),
      color: COLORS[3] as string,
      dashed: true,
    },
  ],
});
write('per-member-cpu.svg', {
  title: 'Steady-state CPU per member (whole process, all threads)',
  xLabel: 'N (log scale)',
  yLabel: 'CPU ms / member / s',
  logX: true,
  yMin: 0,
  series: [
    { label: 'ours (real sockets)', points: compareSeries('steady_state', 'ours', 'cpu_ms_per_node_per_s'), color: COLORS[0] as string },
    { label: 'memberlist (same runs)', points: compareSeries('steady_state', 'memberlist', 'cpu_ms_per_node_per_s'), color: COLORS[1] as string, dashed: true },
  ],
});

process.stdout.write(`wrote ${written.map((w) => join(argv.out, w)).join(', ')}\n`);
