import { CliError, EXIT, usage } from '../errors';
import { type OpenedStore, type StoreSettings, errText, once, redact, takeParams, withDeadline } from './shared';

/** The database name in a MongoDB URL's path (`mongodb://h1,h2/app?…` → `app`). */
function mongoDbName(url: string): string | undefined {
  const afterScheme = url.replace(/^[a-z0-9+.-]+:\/\//i, '');
  const slash = afterScheme.indexOf('/');
  if (slash < 0) return undefined;
  const name = decodeURIComponent(afterScheme.slice(slash + 1).split(/[?#]/)[0] ?? '');
  return name || undefined;
}

export async function openMongo(raw: string, s: StoreSettings): Promise<OpenedStore> {
  const { url, params } = takeParams(raw, ['collection']);
  const collection = s.collection ?? params.collection;
  const dbName = mongoDbName(url) ?? 'tokenaccess';
  const [{ MongoClient }, mongoMod] = await Promise.all([import('mongodb'), import('@tokenaccess/mongodb')]);
  let client: import('mongodb').MongoClient;
  try {
    client = new MongoClient(url, { serverSelectionTimeoutMS: s.connectTimeout, connectTimeoutMS: s.connectTimeout });
  } catch (err) {
    throw usage(`bad MongoDB URL ${JSON.stringify(redact(url))}: ${errText(err)}`);
  }
  const close = once(() => client.close());
  const where = `${redact(url)} (database ${dbName}, collection ${collection ?? 'tokenaccess_tokens'})`;
  try {
    await withDeadline(client.connect(), s.connectTimeout + 1000).catch((err: unknown) => {
      throw new CliError(`cannot connect to ${redact(url)}: ${errText(err)}`, EXIT.failure, { cause: err });
    });
    const opts = { db: client.db(dbName), ...(collection !== undefined ? { collection } : {}) };
    const store = mongoMod.mongoStore(opts);
    return {
      store,
      backend: 'mongodb',
      label: where,
      migrate: async () => {
        await mongoMod.ensureIndexes(opts);
        return `created the indexes of ${where} (idempotent)`;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

