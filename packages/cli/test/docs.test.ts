import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from './helpers';

/**
 * docs/cli.md's session is real: every `<!-- session -->` console block is run here, command by
 * command, in one fresh directory (the embedded store), and its output must equal the pasted
 * output up to ids, tokens, hashes, dates and column padding. `UPDATE_DOCS=1` pastes a fresh
 * run's output into the page instead.
 */
const DOC = fileURLToPath(new URL('../../../docs/cli.md', import.meta.url));

interface Step {
  command: string;
  output: string[];
}

function sessionBlocks(md: string): { start: number; end: number; steps: Step[] }[] {
  const blocks: { start: number; end: number; steps: Step[] }[] = [];
  const re = /<!-- session -->\n```console\n([\s\S]*?)```/g;
  for (let m = re.exec(md); m; m = re.exec(md)) {
    const steps: Step[] = [];
    for (const line of m[1]!.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
      else steps[steps.length - 1]!.output.push(line);
    }
    const start = m.index + m[0].indexOf('```console\n') + '```console\n'.length;
    blocks.push({ start, end: start + m[1]!.length, steps });
  }
  return blocks;
}

/** Splits a command line as sh would for plain words, '…' and "…". */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      cur = (cur ?? '') + line.slice(i + 1, close);
      i = close;
    } else if (c === ' ') {
      if (cur !== null) out.push(cur);
      cur = null;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** Runs the built CLI with stdout and stderr on one pipe, so their order is the terminal's. */
function runMerged(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, BIN, ...args], { cwd, env: cleanEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/** Replaces what differs between runs by stable placeholders, numbered by first appearance. */
class Normalizer {
  seen = new Map<string, string>();
  counters = new Map<string, number>();
  originals: Record<string, string[]> = { TOKEN: [], ID: [] };
  private mark(kind: string, value: string): string {
    const key = `${kind}:${value}`;
    let p = this.seen.get(key);
    if (!p) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      p = `<${kind}${n}>`;
      this.seen.set(key, p);
      this.originals[kind]?.push(value);
    }
    return p;
  }
  line(s: string): string {
    return s
      .replace(/\btka_[0-9A-Za-z]{36}\b/g, (v) => this.mark('TOKEN', v))
      .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, (v) => this.mark('ID', v))
      .replace(/\btka_[0-9A-Za-z]{4}\b/g, '<HINT>')
      .replace(/\b[0-9a-f]{64}\b/g, '<HASH>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<DATE>')
      .replace(/\b(in )?\d+(ms|[dhms])( \d+[dhms])?( ago)?\b/g, '<WHEN>')
      .replace(/\s+/g, ' ')
      .trimEnd();
  }
}

describe('docs/cli.md', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('docs'));
  });
  afterAll(() => remove?.());

  it('the pasted session is what the command prints', async () => {
    const md = readFileSync(DOC, 'utf8');
    const blocks = sessionBlocks(md);
    expect(blocks.length).toBeGreaterThan(0);
    const docs = new Normalizer();
    const real = new Normalizer();
    const update = process.env.UPDATE_DOCS === '1';
    const fresh: string[] = [];
    for (const block of blocks) {
      const text: string[] = [];
      for (const step of block.steps) {
        // the documented command, with the ids and tokens of the documented run swapped for this run's
        // placeholders (<ID1>, <TOKEN2>) stand for this run's values too, for writing a new session
        let command = step.command.replace(/<(ID|TOKEN)(\d+)>/g, (p, kind: string, n: string) => real.originals[kind]![Number(n) - 1] ?? p);
        if (!update) {
          docs.line(command);
          for (const kind of ['TOKEN', 'ID'] as const) {
            docs.originals[kind]!.forEach((v, i) => {
              const mine = real.originals[kind]![i];
              if (mine) command = command.split(v).join(mine);
            });
          }
        }
        const [program, ...args] = words(command);
        expect(program).toBe('tokenaccess');
        const out = await runMerged(args, dir);
        const lines = out.replace(/\n$/, '').split('\n');
        text.push(`$ ${update ? command : step.command}`, ...lines);
        if (!update) expect(lines.map((l) => real.line(l)), `output of: ${step.command}`).toEqual(step.output.map((l) => docs.line(l)));
        else {
          step.output.forEach((l) => docs.line(l));
          lines.forEach((l) => real.line(l));
        }
      }
      fresh.push(`${text.join('\n')}\n`);
    }
    if (update) {
      let next = md;
      for (let i = blocks.length - 1; i >= 0; i--) next = next.slice(0, blocks[i]!.start) + fresh[i] + next.slice(blocks[i]!.end);
      writeFileSync(DOC, next);
    }
  });

  it('the run() example is test/examples/programmatic.ts, verbatim', () => {
    const md = readFileSync(DOC, 'utf8');
    const block = /<!-- example: test\/examples\/programmatic.ts -->\n```ts\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBe(readFileSync(new URL('./examples/programmatic.ts', import.meta.url), 'utf8'));
  });
});
