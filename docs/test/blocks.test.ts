/**
 * Every TypeScript block in docs/ must be code that runs: its lines must appear, in order and
 * consecutively, in a file that a test executes: a test file, a file a test imports or spawns
 * (transitively), or the Next example app its e2e test builds and serves. A block that drifts
 * from the code, or that lives only in a file nothing runs, fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const walk = (dir: string, keep: (f: string) => boolean): string[] =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' || e.name === '.next' ? [] : walk(p, keep);
        return keep(p) ? [p] : [];
      })
    : [];

const norm = (s: string) => s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
const sources = [
  ...walk(path.join(root, 'docs/examples'), (f) => /\.(ts|tsx|mjs|cjs)$/.test(f)),
  ...walk(path.join(root, 'docs/test'), (f) => /\.(ts|tsx|mjs|cjs)$/.test(f)),
  ...walk(path.join(root, 'examples'), (f) => /\.(ts|tsx|mjs|cjs)$/.test(f)),
  ...fs.readdirSync(path.join(root, 'packages')).flatMap((p) => [
    ...walk(path.join(root, 'packages', p, 'test'), (f) => /\.(ts|tsx|mjs|cjs)$/.test(f)),
    ...walk(path.join(root, 'packages', p, 'examples'), (f) => /\.(ts|tsx|mjs|cjs)$/.test(f)),
  ]),
].map((f) => ({ file: path.relative(root, f), lines: norm(fs.readFileSync(f, 'utf8')) }));

/**
 * The files that run: every test file, every file a running file imports by a relative path or
 * names as a script to spawn (a worker, a child process), and the Next example app, which its
 * e2e test builds and serves. A block sliced from any other file proves nothing.
 */
function runningFiles(): Set<string> {
  const all = new Set(sources.map((s) => s.file));
  const roots = [...all].filter((f) => /\.test\.tsx?$/.test(f) || /^examples\/next-app\/(app|lib)\/|^examples\/next-app\/(proxy|next\.config)\.ts$/.test(f));
  const seen = new Set<string>();
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.join(path.dirname(from), spec);
    const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}.tsx`, `${base}.mjs`, path.join(base, 'index.ts')];
    return candidates.map((c) => path.normalize(c)).find((c) => all.has(c));
  };
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const hit = resolve(file, m[1]!);
      if (hit) queue.push(hit);
    }
    for (const m of text.matchAll(/['"`]([\w./-]+\.(?:ts|tsx|mjs|cjs))['"`]/g)) {
      const hit = resolve(file, m[1]!.startsWith('.') ? m[1]! : `./${m[1]!}`);
      if (hit) queue.push(hit);
    }
  }
  return seen;
}
const running = runningFiles();

function containedIn(block: string[], lines: string[]): boolean {
  outer: for (let i = 0; i + block.length <= lines.length; i++) {
    for (let j = 0; j < block.length; j++) if (lines[i + j] !== block[j]) continue outer;
    return true;
  }
  return false;
}

const pages = [...walk(path.join(root, 'docs'), (f) => f.endsWith('.md')), path.join(root, 'README.md')].filter((f) => fs.existsSync(f));
const blocks = pages.flatMap((page) => {
  const text = fs.readFileSync(page, 'utf8');
  return [...text.matchAll(/```(?:ts|typescript|tsx)\n([\s\S]*?)```/g)].map((m) => ({
    page: path.relative(root, page),
    line: text.slice(0, m.index).split('\n').length,
    code: m[1]!,
  }));
});

describe('docs code blocks', () => {
  it('found pages and blocks to check', () => {
    expect(pages.length).toBeGreaterThan(3);
    expect(blocks.length).toBeGreaterThan(5);
  });
  it.each(blocks.map((b) => [`${b.page}:${b.line}`, b] as const))('%s runs in a test or an example', (_, b) => {
    const block = norm(b.code);
    const homes = sources.filter((s) => containedIn(block, s.lines)).map((s) => s.file);
    expect(homes, `no test or example contains the block at ${b.page}:${b.line}:\n${b.code}`).not.toEqual([]);
    expect(homes.filter((f) => running.has(f)), `the block at ${b.page}:${b.line} is only in ${homes.join(', ')}, which no test runs`).not.toEqual([]);
  });

  it('knows which files run: a test file, what it imports, what it spawns; not a file nothing reaches', () => {
    expect(running.has('docs/test/examples.test.ts')).toBe(true);
    expect(running.has('docs/examples/custom-store.ts')).toBe(true);
    expect([...running].some((f) => f.startsWith('examples/next-app/app/'))).toBe(true);
    const unreached = sources.map((s) => s.file).filter((f) => !running.has(f));
    expect(unreached.every((f) => !/\.test\.tsx?$/.test(f))).toBe(true);
  });
});
