import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { serializePhpStringArray } from '../src/import/php';

/**
 * The three frameworks' token tables on a real MariaDB, created with the frameworks' own schemas
 * (from their migrations) and filled as each framework fills them, in a database of its own.
 */

export const MYSQL_URL = process.env.TOKENACCESS_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Laravel's Str::random(40). */
const strRandom = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % 62]).join('');
/** PHP's hash('crc32b', …). */
function crc32b(s: string): string {
  let c = 0xffffffff;
  for (const byte of Buffer.from(s)) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
/** PHP's date('Y-m-d H:i:s') in UTC (the frameworks' default app timezone). */
export const phpDate = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
/** PHP's json_encode: slashes escaped. */
const jsonEncode = (v: unknown) => JSON.stringify(v).replace(/\//g, '\\/');

const DAY = 86_400_000;

// Laravel Sanctum: database/migrations/…_create_personal_access_tokens_table.php, as MySQL runs it
const SANCTUM_DDL = `CREATE TABLE personal_access_tokens (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  tokenable_type varchar(255) NOT NULL,
  tokenable_id bigint unsigned NOT NULL,
  name varchar(255) NOT NULL,
  token varchar(64) NOT NULL,
  abilities text NULL,
  last_used_at timestamp NULL,
  expires_at timestamp NULL,
  created_at timestamp NULL,
  updated_at timestamp NULL,
  PRIMARY KEY (id),
  UNIQUE KEY personal_access_tokens_token_unique (token),
  KEY personal_access_tokens_tokenable_type_tokenable_id_index (tokenable_type, tokenable_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

// CodeIgniter Shield: src/Database/Migrations/2020-12-28-223112_create_auth_tables.php (users, auth_identities)
const SHIELD_DDL = [
  `CREATE TABLE users (
    id int(11) unsigned NOT NULL AUTO_INCREMENT, username varchar(30) NULL, status varchar(255) NULL, status_message varchar(255) NULL,
    active tinyint(1) NOT NULL DEFAULT 0, last_active datetime NULL, created_at datetime NULL, updated_at datetime NULL, deleted_at datetime NULL,
    PRIMARY KEY (id), UNIQUE KEY username (username)
  ) ENGINE=InnoDB`,
  `CREATE TABLE auth_identities (
    id int(11) unsigned NOT NULL AUTO_INCREMENT,
    user_id int(11) unsigned NOT NULL,
    type varchar(255) NOT NULL,
    name varchar(255) NULL,
    secret varchar(255) NOT NULL,
    secret2 varchar(255) NULL,
    expires datetime NULL,
    extra text NULL,
    force_reset tinyint(1) NOT NULL DEFAULT 0,
    last_used_at datetime NULL,
    created_at datetime NULL,
    updated_at datetime NULL,
    PRIMARY KEY (id),
    UNIQUE KEY type_secret (type, secret),
    KEY user_id (user_id),
    CONSTRAINT auth_identities_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
  ) ENGINE=InnoDB`,
];

// Tiki: db/tiki.sql
const TIKI_DDL = `CREATE TABLE tiki_auth_tokens (
  tokenId int(11) NOT NULL AUTO_INCREMENT,
  creation timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  timeout int(11) NOT NULL DEFAULT '0',
  hits int(11) NOT NULL DEFAULT '1',
  maxhits int(11) NOT NULL DEFAULT '1',
  token char(32) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  entry varchar(50) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  email varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  parameters varchar(255) COLLATE utf8mb4_unicode_ci DEFAULT NULL,
  \`groups\` text COLLATE utf8mb4_unicode_ci,
  createUser char(1) COLLATE utf8mb4_unicode_ci DEFAULT 'n',
  userPrefix varchar(200) COLLATE utf8mb4_unicode_ci DEFAULT '_token',
  PRIMARY KEY (tokenId),
  KEY tiki_auth_tokens_token (token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

/** PHP's urlencode: spaces as '+'. */
const urlencode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** PHP's http_build_query for what parse_str gives (strings and lists of strings). */
function httpBuildQuery(args: Record<string, string | string[]>): string {
  return Object.entries(args)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x, i) => `${urlencode(`${k}[${i}]`)}=${urlencode(x)}`) : [`${urlencode(k)}=${urlencode(v)}`]))
    .join('&');
}

/** What a test checks after an import: the raw tokens users hold, and what each should do. */
export interface Seeded {
  sanctum: { live: { raw: string; id: number; scopes: string[] }[]; expired: number; refused: number[] };
  shield: { live: { raw: string; id: number; scopes: string[] }[]; others: Record<string, number>; refused: number[] };
  tiki: { links: { id: number; token: string; url: (origin: string) => string; maxUses?: number; uses: number; groups: string[] }[]; skipped: { expired: number; 'used up': number }; refused: number[] };
}

/** A database of its own on MariaDB: `tka_import_<random>`, dropped by `drop()`. */
export async function sourceDatabase(): Promise<{ name: string; url: string; conn: mysql.Connection; drop(): Promise<void> }> {
  const name = `tka_import_${randomBytes(5).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = `${MYSQL_URL}/${name}`;
  const conn = await mysql.createConnection({ uri: url, timezone: 'Z' });
  await conn.query(`SET time_zone = '+00:00'`);
  return {
    name,
    url,
    conn,
    async drop() {
      await conn.end().catch(() => {});
      const c = await mysql.createConnection({ uri: MYSQL_URL });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** Sanctum's createToken(): `<id>|<plain>` to the user, hash('sha256', plain) in the table. */
async function sanctumToken(conn: mysql.Connection, row: { userId: number; name: string; abilities: string | null; expiresAt?: number; lastUsedAt?: number; createdAt: number }) {
  const entropy = strRandom(40);
  const plain = `${entropy}${crc32b(entropy)}`;
  const [r] = await conn.query<mysql.ResultSetHeader>(
    'INSERT INTO personal_access_tokens (tokenable_type, tokenable_id, name, token, abilities, expires_at, last_used_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ['App\\Models\\User', row.userId, row.name, sha256(plain), row.abilities, row.expiresAt ? phpDate(row.expiresAt) : null, row.lastUsedAt ? phpDate(row.lastUsedAt) : null, phpDate(row.createdAt), phpDate(row.createdAt)],
  );
  return { id: r.insertId, raw: `${r.insertId}|${plain}` };
}

/** Shield's generateAccessToken(): random_string('crypto', 64) to the user, its SHA-256 in `secret`, serialize($scopes) in `extra`. */
async function shieldToken(conn: mysql.Connection, row: { userId: number; name: string; extra: string | null; expires?: number; createdAt: number }) {
  const raw = randomBytes(32).toString('hex');
  const [r] = await conn.query<mysql.ResultSetHeader>(
    'INSERT INTO auth_identities (user_id, type, name, secret, extra, expires, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [row.userId, 'access_token', row.name, sha256(raw), row.extra, row.expires ? phpDate(row.expires) : null, phpDate(row.createdAt), phpDate(row.createdAt)],
  );
  return { id: r.insertId, raw };
}

/** Tiki's createToken(): the row, then its md5 token written back; the link is entry?http_build_query(args + TOKEN). */
async function tikiToken(conn: mysql.Connection, row: { entry: string; args: Record<string, string | string[]>; groups: string; timeout: number; hits: number; maxhits: number; createdAt: number }) {
  const [r] = await conn.query<mysql.ResultSetHeader>(
    'INSERT INTO tiki_auth_tokens (creation, timeout, maxhits, hits, entry, parameters, `groups`, email, createUser, userPrefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [phpDate(row.createdAt), row.timeout, row.maxhits, row.hits, row.entry, jsonEncode(row.args), row.groups, 'guest@example.com', 'n', ''],
  );
  const token = md5(`${r.insertId}${row.createdAt}${randomBytes(8).toString('hex')}`);
  await conn.query('UPDATE tiki_auth_tokens SET token = ? WHERE tokenId = ?', [token, r.insertId]);
  const query = httpBuildQuery({ ...row.args, TOKEN: token });
  return { id: r.insertId, token, url: (origin: string) => `${origin}${row.entry}?${query}` };
}

/** Creates the three tables and fills them: live tokens, expired and used-up ones, and rows that must be refused. */
export async function seedFrameworks(conn: mysql.Connection): Promise<Seeded> {
  const now = Date.now();
  await conn.query(SANCTUM_DDL);
  for (const ddl of SHIELD_DDL) await conn.query(ddl);
  await conn.query(TIKI_DDL);

  // Sanctum
  const s1 = await sanctumToken(conn, { userId: 1, name: 'MacBook', abilities: jsonEncode(['*']), lastUsedAt: now - DAY, createdAt: now - 30 * DAY });
  const s2 = await sanctumToken(conn, { userId: 2, name: 'deploy', abilities: jsonEncode(['server:update', 'files/read']), expiresAt: now + 7 * DAY, createdAt: now - DAY });
  await sanctumToken(conn, { userId: 2, name: 'old', abilities: jsonEncode(['*']), expiresAt: now - DAY, createdAt: now - 60 * DAY });
  const bad1 = await sanctumToken(conn, { userId: 3, name: 'broken', abilities: '{not json', createdAt: now - DAY });
  const bad2 = await sanctumToken(conn, { userId: 3, name: 'wild', abilities: jsonEncode(['posts.*']), createdAt: now - DAY });

  // Shield
  await conn.query("INSERT INTO users (id, username, active, created_at) VALUES (1, 'alice', 1, ?), (2, 'bob', 1, ?)", [phpDate(now), phpDate(now)]);
  const h1 = await shieldToken(conn, { userId: 1, name: 'Work Laptop', extra: serializePhpStringArray(['*']), createdAt: now - 10 * DAY });
  const h2 = await shieldToken(conn, { userId: 2, name: 'CLI', extra: serializePhpStringArray(['users-read', 'users-write']), expires: now + 30 * DAY, createdAt: now - 2 * DAY });
  const hBad = await shieldToken(conn, { userId: 2, name: 'corrupt', extra: 'a:2:{i:0;s:5:"users";', createdAt: now - DAY });
  await conn.query("INSERT INTO auth_identities (user_id, type, secret, secret2, created_at) VALUES (1, 'email_password', 'alice@example.com', ?, ?), (2, 'email_password', 'bob@example.com', ?, ?)", ['$2y$10$abc', phpDate(now), '$2y$10$def', phpDate(now)]);
  await conn.query("INSERT INTO auth_identities (user_id, type, secret, expires, created_at) VALUES (1, 'magic-link', ?, ?, ?)", [randomBytes(10).toString('hex'), phpDate(now + DAY), phpDate(now)]);

  // Tiki
  const t1 = await tikiToken(conn, { entry: '/tiki-index.php', args: { page: 'Quarterly Report' }, groups: jsonEncode(['Viewers']), timeout: 7 * 86_400, maxhits: 10, hits: 7, createdAt: now - DAY });
  const t2 = await tikiToken(conn, { entry: '/tiki-download_file.php', args: { fileId: '7', display: '' }, groups: jsonEncode([]), timeout: -1, maxhits: -1, hits: -1, createdAt: now - 3 * DAY });
  const t3 = await tikiToken(conn, { entry: '/tiki-list.php', args: { ids: ['1', '2'], sort: 'a/b' }, groups: jsonEncode(['Editors', 'Viewers']), timeout: 86_400, maxhits: 1, hits: 1, createdAt: now - 3_600_000 });
  await tikiToken(conn, { entry: '/tiki-index.php', args: { page: 'Used' }, groups: '[]', timeout: 86_400, maxhits: 2, hits: 0, createdAt: now - 3_600_000 });
  await tikiToken(conn, { entry: '/tiki-index.php', args: { page: 'Old' }, groups: '[]', timeout: 60, maxhits: 1, hits: 1, createdAt: now - 2 * DAY });
  const tBad1 = await tikiToken(conn, { entry: '/tiki-index.php', args: { page: 'X' }, groups: 'Viewers', timeout: 3600, maxhits: 1, hits: 1, createdAt: now - 60_000 });
  const tBad2 = await tikiToken(conn, { entry: '/tiki-index.php', args: { page: 'Y' }, groups: jsonEncode(['Registered Users']), timeout: 3600, maxhits: 1, hits: 1, createdAt: now - 60_000 });

  return {
    sanctum: { live: [{ ...s1, scopes: ['*'] }, { ...s2, scopes: ['server:update', 'files/read'] }], expired: 1, refused: [bad1.id, bad2.id] },
    shield: { live: [{ ...h1, scopes: ['*'] }, { ...h2, scopes: ['users-read', 'users-write'] }], others: { email_password: 2, 'magic-link': 1 }, refused: [hBad.id] },
    tiki: {
      links: [
        { id: t1.id, token: t1.token, url: t1.url, maxUses: 10, uses: 3, groups: ['Viewers'] },
        { id: t2.id, token: t2.token, url: t2.url, uses: 0, groups: [] },
        { id: t3.id, token: t3.token, url: t3.url, maxUses: 1, uses: 0, groups: ['Editors', 'Viewers'] },
      ],
      skipped: { expired: 1, 'used up': 1 },
      refused: [tBad1.id, tBad2.id],
    },
  };
}

/** `n` more Sanctum tokens in one statement (for the connection-loss test); returns their raw tokens. */
export async function bulkSanctum(conn: mysql.Connection, n: number): Promise<string[]> {
  await conn.query(SANCTUM_DDL);
  const now = Date.now();
  const rows: unknown[][] = [];
  const plains: string[] = [];
  for (let i = 0; i < n; i++) {
    const entropy = strRandom(40);
    const plain = `${entropy}${crc32b(entropy)}`;
    plains.push(plain);
    rows.push(['App\\Models\\User', i + 1, `token ${i}`, sha256(plain), jsonEncode(['*']), phpDate(now - n + i), phpDate(now - n + i)]);
  }
  for (let i = 0; i < rows.length; i += 1000) {
    await conn.query('INSERT INTO personal_access_tokens (tokenable_type, tokenable_id, name, token, abilities, created_at, updated_at) VALUES ?', [rows.slice(i, i + 1000)]);
  }
  return plains.map((p, i) => `${i + 1}|${p}`);
}
