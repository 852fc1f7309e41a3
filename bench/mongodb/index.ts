/**
 * MongoDB store: `verify` against the raw driver on the same client, in the same run.
 *
 *   npx tsx bench/mongodb/index.ts          (from the repository root)
 *
 * The backend is picked like the tests pick it (packages/mongodb/test/server.ts):
 * TOKENACCESS_MONGODB_URL, else mongodb-memory-server, else mongo-standin (run here in a child
 * process, so client and server do not share an event loop). The table says which.
 *
 * Cases, 64 calls in flight, interleaved rounds, median of 5:
 * - raw `findOne({ hash })`: the floor for a read-only verify;
 * - `verify`, unlimited token with a fresh lastUsedAt (the common case): the store's read-first
 *   path, one `find`, no write; target ≥ 0.8 of raw;
 * - the same with the read-first path switched off (always `findOneAndUpdate`);
 * - raw `findOneAndUpdate` counting a use, and `verify` of a use-limited token with and without
 *   read-first (read + update vs update alone), for the choice documented in docs/stores/mongodb.md.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTokenAccess } from '@tokenaccess/core';
import { MongoClient } from 'mongodb';
import { createMongoStore } from '../../packages/mongodb/src/store';
import { startMongoBackend } from '../../packages/mongodb/test/server';
import { compare, fmt, header, ratio, table } from '../lib';

const CONCURRENCY = 64;
const TOKENS = 1000;

/** mongo-standin in a child process, so it gets its own CPU as a mongod would. */
function standinProcess(): Promise<{ url: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./standin-process.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (url) =>
      resolve({
        url: String(url),
        close: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.send('close');
          }),
      }),
    );
  });
}

const backend = await startMongoBackend({ quiet: true, startStandin: standinProcess });
const client = new MongoClient(backend.url, { serverSelectionTimeoutMS: 5000 });
const db = client.db('tokenaccess_bench');
const collection = `bench_${Date.now()}`;

try {
  const readFirst = createMongoStore({ db, collection }, { readFirst: true });
  const atomicOnly = createMongoStore({ db, collection }, { readFirst: false });
  await readFirst.ensureIndexes();
  const tokens = createTokenAccess({ store: readFirst });
  const tokensAtomic = createTokenAccess({ store: atomicOnly });

  /** `n` calls of `fn`, `CONCURRENCY` at a time (the store's timeout counts time queued for the pool). */
  const batched = async <T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (let i = 0; i < n; i += CONCURRENCY) out.push(...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n - i) }, (_, j) => fn(i + j)))));
    return out;
  };
  const unlimited = await batched(TOKENS, (i) => tokens.issue({ subject: `user-${i % 50}`, name: `bench ${i}` }));
  const counted = await batched(TOKENS, (i) => tokens.issue({ subject: `user-${i % 50}`, name: `counted ${i}`, maxUses: 1e9 }));
  // one verify each, so lastUsedAt is fresh: the steady state of an API token
  await batched(TOKENS, (i) => tokens.verify(unlimited[i]!.token));

  const pick = <T>(xs: T[], i: number) => xs[i % xs.length]!;
  const raw = db.collection(collection);

  header(`MongoDB store — verify vs raw driver (${backend.kind})`);
  console.log(`backend: ${backend.kind}; ${CONCURRENCY} in flight; ${TOKENS} tokens of each kind\n`);

  const read = await compare(
    [
      { name: 'raw findOne({ hash })', run: (i) => raw.findOne({ hash: pick(unlimited, i).info.hash }) },
      { name: 'verify, unlimited (read-first: find)', run: (i) => tokens.verify(pick(unlimited, i).token) },
      { name: 'verify, unlimited (atomic only: findAndModify)', run: (i) => tokensAtomic.verify(pick(unlimited, i).token) },
    ],
    { concurrency: CONCURRENCY },
  );
  const write = await compare(
    [
      {
        name: 'raw findOneAndUpdate($inc uses)',
        run: (i) => raw.findOneAndUpdate({ hash: pick(counted, i).info.hash }, { $inc: { uses: 1 } }, { returnDocument: 'after' }),
      },
      { name: 'verify, maxUses (read-first: find + findAndModify)', run: (i) => tokens.verify(pick(counted, i).token) },
      { name: 'verify, maxUses (atomic only: findAndModify)', run: (i) => tokensAtomic.verify(pick(counted, i).token) },
    ],
    { concurrency: CONCURRENCY },
  );

  const rawRead = read.get('raw findOne({ hash })')!;
  const rawWrite = write.get('raw findOneAndUpdate($inc uses)')!;
  table([
    ['case', 'ops/s', 'vs raw'],
    ...[...read].map(([name, ops]) => [name, ops, (ops / rawRead).toFixed(2)]),
    ...[...write].map(([name, ops]) => [name, ops, (ops / rawWrite).toFixed(2)]),
  ]);
  const verify = read.get('verify, unlimited (read-first: find)')!;
  console.log(`\nverify (unlimited, fresh lastUsedAt) / raw findOne: ${ratio(verify / rawRead, 0.8)}  (${fmt(verify)} vs ${fmt(rawRead)} ops/s, ${backend.kind})`);
} finally {
  await db.collection(collection).drop().catch(() => {});
  await client.close();
  await backend.close();
}
