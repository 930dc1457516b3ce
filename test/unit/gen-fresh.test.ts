import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runCheck(
  projectRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'gen-proto.mjs'), '--check'], {
    cwd: projectRoot,
    encoding: 'utf8',
    env,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('generated protobuf code (src/gen)', () => {
  it('is up to date with proto/*.proto (gen-proto.mjs --check succeeds)', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), '--check'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain('up to date');
  });

  describe('the check can fail', () => {
    let tmp: string;

    beforeAll(() => {
      tmp = mkdtempSync(join(tmpdir(), 'memberlist-gen-fresh-'));
    });

    afterAll(() => {
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    });

    /**
     * A minimal copy of the project (proto/, scripts/, src/gen and a node_modules symlink): the script
     * resolves everything from its own location, so it checks the copy. Each test gets its own.
     */
    const projectCopy = (name: string): string => {
      const dir = join(tmp, name);
      mkdirSync(join(dir, 'src'), { recursive: true });
      cpSync(join(root, 'proto'), join(dir, 'proto'), { recursive: true });
      cpSync(join(root, 'scripts'), join(dir, 'scripts'), { recursive: true });
      cpSync(join(root, 'src', 'gen'), join(dir, 'src', 'gen'), { recursive: true });
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      return dir;
    };

    /** A private TMPDIR for one run of the script (os.tmpdir() honours TMPDIR). */
    const privateTmp = (name: string): string => {
      const dir = join(tmp, `tmpdir-${name}`);
      mkdirSync(dir);
      return dir;
    };

    it('passes on an unmodified copy (so the failures below are caused by the schema change)', () => {
      const copy = projectCopy('pristine');
      const scratch = privateTmp('pristine');
      const r = runCheck(copy, { ...process.env, TMPDIR: scratch });
      expect(r.stderr).not.toContain('stale');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('up to date');
      expect(readdirSync(scratch)).toEqual([]); // cleaned up on success
    });

    it('fails with "stale" after a message is added to wire.proto without regenerating', () => {
      const copy = projectCopy('stale');
      appendFileSync(join(copy, 'proto', 'wire.proto'), '\nmessage GenFreshProbe {\n  uint32 added_by_test = 1;\n}\n');
      const r = runCheck(copy, { ...process.env, TMPDIR: privateTmp('stale') });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('stale');
      expect(r.stderr).toContain('proto.js');
      // The check never rewrites the committed files.
      expect(readFileSync(join(copy, 'src', 'gen', 'proto.js'), 'utf8')).toBe(
        readFileSync(join(root, 'src', 'gen', 'proto.js'), 'utf8'),
      );
      expect(readFileSync(join(copy, 'src', 'gen', 'proto.js'), 'utf8')).not.toContain('GenFreshProbe');
    });

    it('removes its temporary output directory even when the check fails', () => {
      // gen-proto.mjs regenerates into mkdtemp(os.tmpdir()/memberlist-gen-*) and is meant to remove it
      // in a finally block; a failed check must not leave ~1 MB behind in the system temp dir.
      const copy = projectCopy('leak');
      appendFileSync(join(copy, 'proto', 'actors.proto'), '\nmessage GenFreshLeak {\n  uint32 x = 1;\n}\n');
      const scratch = privateTmp('leak');
      const r = runCheck(copy, { ...process.env, TMPDIR: scratch });
      expect(r.status).not.toBe(0); // the check failed, as intended
      expect(r.stderr).toContain('stale');
      expect(readdirSync(scratch)).toEqual([]);
    });
  });
});
