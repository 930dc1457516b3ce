import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // forks: each test file in its own process, so real sockets, workers and timers of one file can
    // never leak into another, and a file that forgets shutdown() shows up as a hang in that file.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    // The JSON report is what .ci/run counts from ("N passed, N failed"); CI does not read vitest's summary.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
