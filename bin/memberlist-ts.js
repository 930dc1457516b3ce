#!/usr/bin/env node
// The `memberlist-ts` command (package.json "bin"): a shim that runs the compiled CLI in dist/.
let cli;
try {
  cli = await import('../dist/src/agent/cli.js');
} catch (err) {
  const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
  process.stderr.write(
    code === 'ERR_MODULE_NOT_FOUND'
      ? 'memberlist-ts: the compiled CLI (dist/src/agent/cli.js) is missing: run "npm run build"\n'
      : `memberlist-ts: cannot load the CLI: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
}
await cli.runCli(process.argv.slice(2));
