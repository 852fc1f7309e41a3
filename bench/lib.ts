import type { Redis } from 'ioredis';
import os from 'node:os';

/**
 * The measuring loop every bench shares. A case is an async operation; `measure` keeps
 * `concurrency` calls in flight for `ms` milliseconds and counts completions. Cases that are
 * compared are run in interleaved rounds (A B A B …) and the median round is reported, so a
 * noisy moment on a 2-core machine hits both sides alike.
 */
export interface Case {
  name: string;
  run: (i: number) => Promise<unknown> | unknown;
}

export async function measure(fn: Case['run'], concurrency: number, ms: number): Promise<number> {
  let done = 0;
  let i = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      await fn(i++);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (done * 1000) / (performance.now() - start);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the cases in interleaved rounds and returns the median ops/s of each. */
export async function compare(cases: Case[], opts: { concurrency: number; ms?: number; rounds?: number; warmupMs?: number }): Promise<Map<string, number>> {
  const { concurrency, ms = 1000, rounds = 5, warmupMs = 500 } = opts;
  for (const c of cases) await measure(c.run, concurrency, warmupMs);
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) for (const c of cases) samples.get(c.name)!.push(await measure(c.run, concurrency, ms));
  return new Map([...samples].map(([k, v]) => [k, median(v)]));
}

/** Prints a Markdown table: rows of cells, first row the header. */
export function table(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => `| ${r.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(cells[0]!));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** The ratio cell: `0.93 ✓` when at least the target, `0.71 ✗ (target 0.8)` otherwise. */
export function ratio(value: number, target: number): string {
  return `${value.toFixed(2)} ${value >= target ? '✓' : `✗ (target ${target})`}`;
}

/** Prints what the numbers were measured on (and how busy the machine was), so a table is never read without its machine. */
export function header(title: string): void {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\n## ${title}\n`);
  console.log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.availableParallelism()} cores, load ${load}, ${new Date().toISOString()}\n`);
}

/** Deletes every Redis key under `prefix` (a benchmark's own keys), a SCAN page at a time. */
export async function dropKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.del(...keys);
  } while (cursor !== '0');
}
