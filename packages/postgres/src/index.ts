/**
 * @module @tokenaccess/postgres
 *
 * The PostgreSQL store of tokenaccess, for a `pg` Pool / Client or PGlite (embedded Postgres).
 *
 * ```sh
 * npm install @tokenaccess/core @tokenaccess/postgres pg
 * ```
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createTokenAccess } from '@tokenaccess/core';
 * import { migrate, postgresStore } from '@tokenaccess/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.error(err));
 * await migrate(pool);
 * const tokens = createTokenAccess({ store: postgresStore({ client: pool }) });
 * ```
 */
export { postgresStore, type PostgresStoreOptions } from './store';
export { migrate, SCHEMA_VERSION, type MigrateOptions, type MigrateResult } from './migrate';
export { quoteIdent, type TableOptions } from './names';
export type { Queryable } from './client';
export { postgresInvalidation, type PostgresInvalidation, type PostgresInvalidationOptions, type ListenConnection } from './invalidation';
