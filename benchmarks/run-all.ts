// `npm run bench`: the SWIM-core comparison with its defaults (N = 10 50 100 250, configs local and lan,
// 1 rep, then the simulated N = 100 and 1000). Extra arguments are passed on to compare-memberlist, e.g.
//   npm run bench -- --ns "10 50" --reps 3
// Needs `npm run build` first (the benchmark runs the compiled dist/benchmarks/cluster-bench.js).
import { main } from './compare-memberlist.js';

process.exitCode = await main(process.argv.slice(2));
