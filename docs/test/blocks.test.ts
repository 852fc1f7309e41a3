/**
 * Every TypeScript block in docs/ must be code that runs: its lines must appear, in order and
 * consecutively, in a file that a test or an example executes (docs/examples, examples/*,
 * packages/*​/test). A block that drifts from the code fails here.
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
    const home = sources.find((s) => containedIn(block, s.lines));
    expect(home?.file, `no test or example contains the block at ${b.page}:${b.line}:\n${b.code}`).toBeDefined();
  });
});
