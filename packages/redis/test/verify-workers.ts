import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from './cluster';
import { REDIS_URL } from './servers';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** How one run of {@link verifyInProcesses} goes. */
export interface VerifyRun {
  token: string;
  keyPrefix: string;
  /** Child processes. @default 4 */
  processes?: number;
  /** Verifies per process. */
  parallel: number;
  /** The test Cluster's nodes; absent: the standalone REDIS_URL. */
  clusterNodes?: TestCluster['nodes'];
  /** Process i's clock stands still at `clocks[i]` (epoch ms) when given. */
  clocks?: (number | undefined)[];
  /** The verifies go in this many parallel rounds, one after the other. @default 1 */
  rounds?: number;
  /** Count refusals as `<code> <status>` (`rate_limited 429`) instead of `<code>`. */
  status?: boolean;
}

/** One workers/verify-worker.ts process: `ready` once connected, `done` with its counts per code. */
function worker(run: VerifyRun, clock: number | undefined): { child: ChildProcess; ready: Promise<void>; done: Promise<Record<string, number>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./workers/verify-worker.ts')], {
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: here('./workers/tsconfig.json'),
      REDIS_URL,
      ...(run.clusterNodes ? { CLUSTER_NODES: JSON.stringify(run.clusterNodes) } : {}),
      KEY_PREFIX: run.keyPrefix,
      TOKEN: run.token,
      PARALLEL: String(run.parallel),
      ...(clock !== undefined ? { CLOCK: String(clock) } : {}),
      ROUNDS: String(run.rounds ?? 1),
      ...(run.status ? { STATUS: '1' } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const done = new Promise<Record<string, number>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${out}`));
      resolve(JSON.parse(out.split('\n').filter(Boolean).pop()!) as Record<string, number>);
    });
  });
  return { child, ready, done };
}

/**
 * Starts the processes, waits until every one is connected, lets them all go at once and returns
 * each process's counts per code (atomicity across processes, not just across the promises of
 * one event loop).
 */
export async function verifyInProcesses(run: VerifyRun): Promise<Record<string, number>[]> {
  const workers = Array.from({ length: run.processes ?? 4 }, (_, i) => worker(run, run.clocks?.[i]));
  try {
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.write('go\n');
    return await Promise.all(workers.map((w) => w.done));
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

/** The sum over processes of the count of `code`. */
export const total = (counts: Record<string, number>[], code: string) => counts.reduce((n, c) => n + (c[code] ?? 0), 0);
