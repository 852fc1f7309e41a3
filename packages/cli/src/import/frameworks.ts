import { canonicalizeUrl, TokenAccessError } from '@tokenaccess/core';
import { parsePhpStringArray, PhpSerializeError } from './php';
import { type MapContext, type Mapped, buildRecord, idText, importScopes, intColumn, jsonColumn, parseDate, refuse, sha256Column } from './kit';
import type { Row, SourceDb } from './source';

/**
 * One framework's token table: where it is, which columns it must have, which rows are tokens,
 * and how a row becomes a record. Column names are the frameworks' own (their migrations).
 */
export interface Framework {
  name: 'sanctum' | 'shield' | 'tiki';
  /** The table the framework's migration creates. */
  table: string;
  /** Primary key: rows are read in its order, a page at a time (keyset, so a re-run resumes cheaply). */
  key: string;
  /** Columns without which a row means nothing. */
  required: string[];
  /** Columns of some versions only; absent ones read as NULL. */
  optional: string[];
  /** Only rows that are tokens (SQL on the quoted column names); the others are counted as skipped. */
  where?: { sql: (db: SourceDb, col: (name: string) => string) => string; others: (db: SourceDb, col: (name: string) => string, table: string) => string };
  /** Extra select expressions (alias → SQL), e.g. Tiki's creation as epoch seconds. */
  computed?: (db: SourceDb, col: (name: string) => string) => Record<string, string>;
  map(row: Row, ctx: MapContext): Mapped;
}

/** Laravel Sanctum's `personal_access_tokens`: the raw token is `<id>|<plain>`, `token` is SHA-256 of `<plain>`. */
const sanctum: Framework = {
  name: 'sanctum',
  table: 'personal_access_tokens',
  key: 'id',
  required: ['id', 'tokenable_id', 'name', 'token', 'abilities'],
  optional: ['tokenable_type', 'last_used_at', 'expires_at', 'created_at'],
  map(row, ctx) {
    const id = idText(row.id, 'id');
    const abilities = jsonColumn(row.abilities, 'abilities', []);
    // a NULL abilities column can nothing in Sanctum (it is not the `*` of a new token)
    if (!Array.isArray(abilities)) return refuse('abilities is not a JSON array');
    const type = row.tokenable_type;
    return buildRecord(
      {
        kind: 'access',
        source: 'sanctum',
        sourceId: id,
        hash: sha256Column(row.token, 'token'),
        subject: idText(row.tokenable_id, 'tokenable_id'),
        name: typeof row.name === 'string' && row.name !== '' ? row.name : `sanctum token ${id}`,
        scopes: importScopes(abilities, 'abilities', true),
        expiresAt: parseDate(row.expires_at, 'expires_at', ctx.offsetMs),
        createdAt: parseDate(row.created_at, 'created_at', ctx.offsetMs),
        lastUsedAt: parseDate(row.last_used_at, 'last_used_at', ctx.offsetMs),
        ...(typeof type === 'string' && type !== '' ? { extra: { type } } : {}),
      },
      ctx,
    );
  },
};

/** CodeIgniter Shield's `auth_identities`, rows of type `access_token`: `secret` is SHA-256 of the raw token, `extra` its serialised scopes. */
const shield: Framework = {
  name: 'shield',
  table: 'auth_identities',
  key: 'id',
  required: ['id', 'user_id', 'type', 'secret', 'extra'],
  optional: ['name', 'expires', 'last_used_at', 'created_at'],
  where: {
    sql: (db, col) => `${col('type')} = ${db.param(1)}`,
    others: (db, col, table) => `SELECT ${col('type')} AS type, COUNT(*) AS n FROM ${table} WHERE ${col('type')} <> ${db.param(1)} GROUP BY ${col('type')}`,
  },
  map(row, ctx) {
    const id = idText(row.id, 'id');
    let scopes: string[] = [];
    if (row.extra !== null && row.extra !== undefined && row.extra !== '') {
      if (typeof row.extra !== 'string') return refuse('extra is not text');
      try {
        scopes = parsePhpStringArray(row.extra);
      } catch (err) {
        if (err instanceof PhpSerializeError) return refuse(`extra is not a serialized array of scopes: ${err.message}`);
        throw err;
      }
    }
    return buildRecord(
      {
        kind: 'access',
        source: 'shield',
        sourceId: id,
        hash: sha256Column(row.secret, 'secret'),
        subject: idText(row.user_id, 'user_id'),
        name: typeof row.name === 'string' && row.name !== '' ? row.name : `shield token ${id}`,
        scopes: importScopes(scopes, 'scopes', true),
        expiresAt: parseDate(row.expires, 'expires', ctx.offsetMs),
        createdAt: parseDate(row.created_at, 'created_at', ctx.offsetMs),
        lastUsedAt: parseDate(row.last_used_at, 'last_used_at', ctx.offsetMs),
      },
      ctx,
    );
  },
};

/** PHP's `http_build_query`, as Tiki built the link's query from the stored parameters. */
export function phpQuery(params: unknown, prefix?: string): string[] {
  if (params === null || typeof params !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    const key = prefix === undefined ? k : `${prefix}[${k}]`;
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') out.push(...phpQuery(v, key));
    else out.push(`${encodeURIComponent(key)}=${encodeURIComponent(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`);
  }
  return out;
}

/** Printable ASCII, what `legacyFormats.sha256` accepts (Tiki's are 32 or 64 hex characters). */
const TIKI_TOKEN_RE = /^[\x21-\x7E]{1,512}$/;

/** Tiki's `tiki_auth_tokens`: a plain token bound to `entry` + `parameters`, `hits` left of `maxhits`. */
const tiki: Framework = {
  name: 'tiki',
  table: 'tiki_auth_tokens',
  key: 'tokenId',
  required: ['tokenId', 'creation', 'timeout', 'token', 'entry'],
  optional: ['hits', 'maxhits', 'parameters', 'groups', 'email', 'createUser'],
  // Tiki compares UNIX_TIMESTAMP(creation) + timeout with the server's clock: so do we
  computed: (db, col) => ({ creation_epoch: db.epoch(col('creation')) }),
  map(row, ctx) {
    const id = idText(row.tokenid, 'tokenId');
    if (typeof row.token !== 'string' || !TIKI_TOKEN_RE.test(row.token)) return refuse('token is empty or not printable ASCII');
    if (typeof row.entry !== 'string' || row.entry === '') return refuse('entry is empty');
    const created = Number(row.creation_epoch);
    if (row.creation_epoch === null || !Number.isFinite(created)) return refuse('creation is not a date');
    const createdAt = new Date(Math.round(created * 1000));
    const timeout = intColumn(row.timeout, 'timeout');

    // hits are what is LEFT; -1 (in either) is unlimited; a Tiki without the columns had no limit
    const hits = row.hits === undefined || row.hits === null ? -1 : intColumn(row.hits, 'hits');
    const maxhits = row.maxhits === undefined || row.maxhits === null ? hits : intColumn(row.maxhits, 'maxhits');
    let maxUses: number | undefined;
    let uses = 0;
    if (hits !== -1 && maxhits !== -1) {
      maxUses = Math.max(maxhits, hits, 0);
      uses = maxUses - Math.max(hits, 0);
    }

    const parameters = jsonColumn(row.parameters, 'parameters', {});
    if (parameters === null || typeof parameters !== 'object') return refuse('parameters is not a JSON object');
    const groupsJson = jsonColumn(row.groups, 'groups', []);
    if (groupsJson === null || typeof groupsJson !== 'object') return refuse('groups is not a JSON array');
    const groups = Object.values(groupsJson as Record<string, unknown>);

    const path = row.entry.startsWith('/') ? row.entry : `/${row.entry}`;
    const query = phpQuery(parameters).join('&');
    let url = `${path}${query ? `?${query}` : ''}`;
    if (ctx.baseUrl !== undefined) {
      const base = new URL(ctx.baseUrl);
      // an absolute entry (Tiki stores the path it was given) replaces the base's path
      url = row.entry.startsWith('/') ? `${base.origin}${url}` : `${base.origin}${base.pathname.replace(/\/?$/, '/')}${url.slice(1)}`;
    }
    let canonical;
    try {
      canonical = canonicalizeUrl(url, { tokenParam: ctx.urlParam });
    } catch (err) {
      return refuse(err instanceof TokenAccessError ? `the link cannot be bound: ${err.message.replace(/^\[tokenaccess\]\s*/, '')}` : String(err));
    }
    if (canonical.tokens.length > 0) return refuse(`parameters hold the token parameter ${ctx.urlParam}`);

    const email = typeof row.email === 'string' && row.email !== '' ? row.email : undefined;
    return buildRecord(
      {
        kind: 'url',
        source: 'tiki',
        sourceId: id,
        hash: ctx.sha256(row.token),
        name: `tiki token ${id}`,
        scopes: importScopes(groups, 'groups', false),
        url: { url, ...(canonical.origin ? { origin: canonical.origin } : {}), canonical: canonical.canonical, methods: ctx.methods },
        ...(timeout === -1 ? {} : { expiresAt: new Date(createdAt.getTime() + timeout * 1000) }),
        ...(maxUses !== undefined ? { maxUses, uses } : {}),
        createdAt,
        extra: { ...(email !== undefined ? { email } : {}), ...(row.createuser === 'y' ? { createUser: true } : {}) },
      },
      ctx,
    );
  },
};

export const FRAMEWORKS: Record<Framework['name'], Framework> = { sanctum, shield, tiki };
