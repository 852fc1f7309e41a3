#!/usr/bin/env node
// Every exported function, class and const of a package's public types has TSDoc with an
// @example (the house style). Reads dist/index.d.ts of the package in the current directory.
import fs from 'node:fs';

const file = process.argv[2] ?? 'dist/index.d.ts';
const text = fs.readFileSync(file, 'utf8');
const missing = [];
const re = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?(?:export )?declare (function|const|class) (\w+)/g;
for (const m of text.matchAll(re)) {
  const [, doc, kind, name] = m;
  if (!/export\s*{[^}]*\b/.test(text) && !m[0].includes('export')) continue;
  if (!doc || !doc.includes('@example')) missing.push(`${kind} ${name}`);
}
// names exported through `export { a, b }` lists: only count those declared above
const exported = new Set([...text.matchAll(/export\s*{([^}]*)}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim().split(/\s+as\s+/).pop()).filter(Boolean)));
const relevant = missing.filter((m) => exported.size === 0 || exported.has(m.split(' ')[1]) || text.includes(`export declare ${m}`));
if (relevant.length) {
  console.error(`${file}: public exports without TSDoc @example:\n  ${relevant.join('\n  ')}`);
  process.exit(1);
}
console.log(`${file}: every public function, class and const has TSDoc with @example`);
