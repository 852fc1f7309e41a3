/**
 * The MongoDB the tests (and `bench/mongodb`) run against, picked in this order:
 *
 * 1. `TOKENACCESS_MONGODB_URL`, when set: a real MongoDB (standalone, replica set or mongos);
 * 2. `mongodb-memory-server-core`, when it can start a real `mongod` within
 *    `TOKENACCESS_MONGODB_MEMORY_SERVER_TIMEOUT_MS` (default 20 s; it downloads the binary on
 *    first use, so it needs internet once);
 * 3. otherwise `mongo-standin`: an in-process server speaking the wire protocol (test tooling,
 *    see tooling/mongo-standin/README.md).
 *
 * `TOKENACCESS_MONGODB_BACKEND=url|memory-server|standin` forces one (CI sets `standin`).
 * The choice is printed, so a test log always says what it ran on.
 */
import { startMongoStandin } from 'mongo-standin';

export type BackendKind = 'real (TOKENACCESS_MONGODB_URL)' | 'real (mongodb-memory-server)' | 'stand-in (mongo-standin)';

export interface MongoBackend {
  kind: BackendKind;
  url: string;
  close(): Promise<void>;
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

async function tryMemoryServer(timeoutMs: number, reasons: string[]): Promise<MongoBackend | null> {
  let mod: typeof import('mongodb-memory-server-core');
  try {
    mod = await import('mongodb-memory-server-core');
  } catch {
    reasons.push('mongodb-memory-server-core is not installed');
    return null;
  }
  // mongodb-memory-server prints a long stack on console.warn when it fails; keep its first
  // line for our own one-line report instead.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void (failure ??= String(args[0]).split('\n')[0]);
  let failure: string | undefined;
  const starting = mod.MongoMemoryServer.create();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const server = await Promise.race([
    starting.catch((e: unknown) => {
      failure = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 200);
      return null;
    }),
    timedOut,
  ]);
  clearTimeout(timer);
  console.warn = warn;
  if (!server) {
    reasons.push(`mongodb-memory-server could not start a mongod: ${failure ?? `no answer in ${timeoutMs} ms`}`);
    // If it comes up after we gave up on it, stop it rather than leave a mongod behind.
    starting.then((s) => s.stop()).catch(() => {});
    return null;
  }
  return { kind: 'real (mongodb-memory-server)', url: server.getUri(), close: async () => void (await server.stop()) };
}

async function standin(start: BackendOptions['startStandin'] = startMongoStandin): Promise<MongoBackend> {
  const s = await start();
  return { kind: 'stand-in (mongo-standin)', url: s.url, close: s.close };
}

/** Options of {@link startMongoBackend}. */
export interface BackendOptions {
  /** Print nothing. */
  quiet?: boolean;
  /** Starts the stand-in another way (the bench runs it in a worker thread, off its own event loop). */
  startStandin?: () => Promise<{ url: string; close(): Promise<void> }>;
}

/** Starts (or connects to) the backend and prints which one it is. */
export async function startMongoBackend(options: BackendOptions = {}): Promise<MongoBackend> {
  const env = process.env;
  const forced = env.TOKENACCESS_MONGODB_BACKEND || undefined;
  if (forced && !['url', 'memory-server', 'standin'].includes(forced)) {
    throw new Error(`[tokenaccess] [mongodb] TOKENACCESS_MONGODB_BACKEND must be url, memory-server or standin (got ${forced})`);
  }
  const notes: string[] = forced ? [`TOKENACCESS_MONGODB_BACKEND=${forced}`] : [];
  let backend: MongoBackend | null = null;

  if (!forced || forced === 'url') {
    const url = env.TOKENACCESS_MONGODB_URL;
    if (url) backend = { kind: 'real (TOKENACCESS_MONGODB_URL)', url, close: async () => {} };
    else if (forced) throw new Error('[tokenaccess] [mongodb] TOKENACCESS_MONGODB_BACKEND=url needs TOKENACCESS_MONGODB_URL');
    else notes.push('TOKENACCESS_MONGODB_URL not set');
  }
  if (!backend && (!forced || forced === 'memory-server')) {
    const timeout = Number(env.TOKENACCESS_MONGODB_MEMORY_SERVER_TIMEOUT_MS ?? 20_000);
    backend = await tryMemoryServer(timeout, notes);
    if (!backend && forced) throw new Error(`[tokenaccess] [mongodb] ${notes.join('; ')}`);
  }
  backend ??= await standin(options.startStandin);
  if (!options.quiet) {
    console.log(`[tokenaccess] [mongodb] backend: ${backend.kind} at ${redact(backend.url)}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
  return backend;
}
