import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'scripts', 'gen-docs.ts');
const tsxCli = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** ts-morph is needed for docs/API.md only; until it is a devDependency the API part is skipped. */
const hasTsMorph = ((): boolean => {
  try {
    createRequire(join(root, 'package.json')).resolve('ts-morph');
    return true;
  } catch {
    return false;
  }
})();
const apiArgs = hasTsMorph ? [] : ['--no-api'];
if (!hasTsMorph) {
  console.warn('docs-fresh: ts-morph is not installed, so docs/API.md is not checked (tables only)');
}

function gen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [tsxCli, script, ...args], { cwd: root, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('generated documentation (scripts/gen-docs.ts)', () => {
  it('README.md tables are up to date (gen-docs --check --no-api)', () => {
    const r = gen('--check', '--no-api');
    expect(r.stderr + r.stdout).toContain('up to date');
    expect(r.status).toBe(0);
  }, 60_000);

  it.skipIf(!hasTsMorph)('docs/API.md is up to date (gen-docs --check; needs ts-morph)', () => {
    const r = gen('--check');
    expect(r.stderr + r.stdout).toContain('up to date');
    expect(r.status).toBe(0);
  }, 120_000);

  describe('the check can fail', () => {
    let tmp: string;

    beforeAll(() => {
      tmp = mkdtempSync(join(tmpdir(), 'memberlist-docs-fresh-'));
    });

    afterAll(() => {
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    });

    /** A copy of README.md and docs/API.md for --out-dir, optionally edited. */
    const outCopy = (name: string, edit: (readme: string) => string = (t) => t): string => {
      const dir = join(tmp, name);
      mkdirSync(join(dir, 'docs'), { recursive: true });
      writeFileSync(join(dir, 'README.md'), edit(readFileSync(join(root, 'README.md'), 'utf8')));
      copyFileSync(join(root, 'docs', 'API.md'), join(dir, 'docs', 'API.md'));
      return dir;
    };

    it('passes on an unchanged copy', () => {
      const r = gen('--check', ...apiArgs, '--out-dir', outCopy('same'));
      expect(r.status).toBe(0);
    }, 120_000);

    it('fails when a preset default in the config table is stale', () => {
      const dir = outCopy('config', (t) => t.replace('| `tcpTimeoutMs` | `10000` |', '| `tcpTimeoutMs` | `9999` |'));
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('`9999`');
      const r = gen('--check', '--no-api', '--out-dir', dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('stale: README.md');
      // Without --check it rewrites the section, after which the check passes.
      expect(gen('--no-api', '--out-dir', dir).status).toBe(0);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe(readFileSync(join(root, 'README.md'), 'utf8'));
    }, 120_000);

    it('fails when a row of the timings table is stale', () => {
      const dir = outCopy('timings', (t) => t.replace(/^\| 10,000 \| lan \| 16 \|/m, '| 10,000 | lan | 17 |'));
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('| 10,000 | lan | 17 |');
      const r = gen('--check', '--no-api', '--out-dir', dir);
      expect(r.status).toBe(1);
    }, 60_000);

    it('fails when a marker is missing', () => {
      const dir = outCopy('marker', (t) => t.replace('<!-- timings-table:end -->', ''));
      const r = gen('--check', '--no-api', '--out-dir', dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('timings-table:end');
    }, 60_000);

    it.skipIf(!hasTsMorph)('fails when docs/API.md is stale (needs ts-morph)', () => {
      const dir = outCopy('api');
      const apiPath = join(dir, 'docs', 'API.md');
      writeFileSync(apiPath, readFileSync(apiPath, 'utf8').replace('### createNode', '### createNodeX'));
      const r = gen('--check', '--out-dir', dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('docs/API.md');
    }, 120_000);
  });
});
