// The contracts guard: buf lint (STANDARD), generated TypeScript current with proto/, and no
// breaking change against main.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../harness/stack.ts';

const buf = (...args: string[]) => execFileSync(join(ROOT, 'node_modules', '.bin', 'buf'), args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

beforeAll(() => {
  execFileSync('bash', [join(ROOT, 'scripts', 'proto-deps.sh')], { cwd: ROOT, stdio: 'pipe' });
});

describe('proto contracts', () => {
  it('pass buf lint with the STANDARD rules', () => {
    expect(() => buf('lint')).not.toThrow();
  });

  it('match the committed generated TypeScript', () => {
    const out = mkdtempSync(join(tmpdir(), 'leadmesh-gen-'));
    try {
      execFileSync('bash', [join(ROOT, 'scripts', 'generate.sh'), out], { cwd: ROOT, stdio: 'pipe' });
      const fresh = files(join(out, 'packages/contracts/src/gen'));
      const committed = files(join(ROOT, 'packages/contracts/src/gen'));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [name, content] of fresh) expect({ name, content: committed.get(name) }).toEqual({ name, content });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('make no breaking change against main', () => {
    let hasMain = true;
    try {
      execFileSync('git', ['rev-parse', '--verify', '--quiet', 'refs/heads/main'], { cwd: ROOT, stdio: 'pipe' });
      execFileSync('git', ['cat-file', '-e', 'main:proto'], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      hasMain = false;
    }
    // A checkout without main (a shallow CI clone of a branch) has nothing to compare against.
    if (!hasMain) return expect(hasMain).toBe(false);
    // main's proto/ beside today's buf.yaml and the (uncommitted) validate.proto it imports.
    const against = mkdtempSync(join(tmpdir(), 'leadmesh-main-'));
    try {
      execFileSync('bash', ['-c', `git archive main proto | tar -x -C "${against}" && cp buf.yaml "${against}/" && cp -r .proto-deps "${against}/"`], { cwd: ROOT, stdio: 'pipe' });
      expect(() => buf('breaking', '--against', against)).not.toThrow();
    } finally {
      rmSync(against, { recursive: true, force: true });
    }
  });
});
