/** The command-line grammar: every command, its options and its help text, in one place. */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder for the help: `<duration>`. */
  arg?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  /** Longer text after the usage line. */
  description?: string;
  options: Record<string, OptionSpec>;
  examples?: string[];
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  store: { type: 'string', short: 's', arg: '<url>', help: 'postgres://…, redis://…, mongodb://…, pglite:<dir> or memory: (env TOKENACCESS_STORE; default: the embedded store in ./.tokenaccess/)' },
  pepper: { type: 'string', arg: '<secret>', help: 'HMAC pepper of a peppered deployment, or JSON {"current":"k2","keys":{…}} (env TOKENACCESS_PEPPER, preferred: arguments show in ps)' },
  prefix: { type: 'string', arg: '<prefix>', help: 'token prefix (env TOKENACCESS_PREFIX; default tka)' },
  schema: { type: 'string', arg: '<name>', help: 'Postgres/PGlite schema (or ?schema= in the URL; default public)' },
  table: { type: 'string', arg: '<name>', help: 'Postgres/PGlite table (or ?table= in the URL; default tokenaccess_tokens)' },
  'key-prefix': { type: 'string', arg: '<prefix>', help: 'Redis key prefix (or ?keyPrefix= in the URL; default tka:)' },
  collection: { type: 'string', arg: '<name>', help: 'MongoDB collection (or ?collection= in the URL; default tokenaccess_tokens)' },
  'connect-timeout': { type: 'string', arg: '<duration>', help: 'give up connecting to the store after this long (default 5s)' },
  timeout: { type: 'string', arg: '<duration>', help: 'give up on one store call after this long (default 60s)' },
  channel: { type: 'string', arg: '<name>', help: "the change feed's channel your services' verify caches listen on (Redis and PostgreSQL stores; default: the feed's own, tokenaccess:invalidate / tokenaccess_invalidate)" },
  'no-publish': { type: 'boolean', help: "do not tell running services' verify caches about changes (they then see them within their cache ttl)" },
  json: { type: 'boolean', help: 'print one JSON object on stdout (messages still go to stderr)' },
  'no-color': { type: 'boolean', help: 'no colours (also NO_COLOR=1; off anyway when not a terminal)' },
  debug: { type: 'boolean', help: 'print stack traces of errors' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', short: 'V', help: 'print the version' },
};

const scope: OptionSpec = { type: 'string', multiple: true, arg: '<scope>', help: 'a scope the token holds; repeat, or separate with commas/spaces (default *: all scopes)' };
const expiresAt: OptionSpec = { type: 'string', arg: '<date>', help: 'absolute expiry, an ISO 8601 date (instead of --expires)' };
const idle: OptionSpec = { type: 'string', arg: '<duration>', help: 'expire after this long without use (counted from the last use, or creation)' };
const meta: OptionSpec = { type: 'string', multiple: true, arg: '<key=value>', help: 'metadata to store with the token; repeat for several (value parsed as JSON when it is valid JSON)' };
const scopesAlias: OptionSpec = { type: 'string', multiple: true, arg: '<a,b>', help: 'same as --scope' };
const refill: OptionSpec = { type: 'string', arg: '<duration>', help: 'renew the --max-uses budget every period (counted from creation), e.g. 1h or 30d' };
const rateLimit: OptionSpec = { type: 'string', arg: '<n/window>', help: 'at most n verifications per window, counted from creation, e.g. 100/1m or 5000/1h (more are refused with 429)' };
const urlParam: OptionSpec = { type: 'string', arg: '<name>', help: 'query parameter carrying the token (default token; TOKEN for Tiki)' };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'issue',
    usage: 'tokenaccess issue <subject> [options]',
    summary: 'issue an API token; prints the raw token once, on stdout',
    description: 'The raw token is printed once, alone on stdout, so `TOKEN=$(tokenaccess issue alice)` captures it. It is never stored or shown again.',
    options: {
      subject: { type: 'string', arg: '<id>', help: 'the owner (instead of the positional <subject>)' },
      name: { type: 'string', short: 'n', arg: '<name>', help: 'a label for humans, e.g. "CI deploy" (default "cli")' },
      scope,
      scopes: scopesAlias,
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire after e.g. 30m, 12h, 90d, 2w, or 'never' (default never)" },
      'expires-at': expiresAt,
      idle,
      'max-uses': { type: 'string', arg: '<n>', help: "use limit, or 'unlimited' (default unlimited)" },
      refill,
      'rate-limit': rateLimit,
      meta,
    },
    examples: [
      'tokenaccess issue alice --name "CI deploy" --scope deploy:write --expires 90d',
      'TOKEN=$(tokenaccess issue bob --scope users:read --max-uses 100 --idle 30m)',
      'tokenaccess issue reporting --max-uses 1000 --refill 1d',
      'tokenaccess issue partner-api --rate-limit 5000/1h',
    ],
  },
  {
    name: 'share',
    usage: 'tokenaccess share <url> [options]',
    summary: 'issue a URL token bound to one URL; prints the share link',
    description: 'Prints the URL with the token appended as a query parameter. The link opens that exact URL (path and query) with the given methods, until it expires or is used up.',
    options: {
      subject: { type: 'string', arg: '<id>', help: 'the owner, if any' },
      name: { type: 'string', short: 'n', arg: '<name>', help: 'a label (default "share link")' },
      scope: { ...scope, help: 'a scope the link grants besides opening its URL; repeat, or separate with commas/spaces (default none)' },
      scopes: scopesAlias,
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire after this long, or 'never' (default 7d)" },
      'expires-at': expiresAt,
      idle,
      'max-uses': { type: 'string', arg: '<n>', help: "how many times the link opens, or 'unlimited' (default 1)" },
      refill,
      'rate-limit': { ...rateLimit, help: 'at most n opens per window, counted from creation, e.g. 60/1m (more are refused with 429)' },
      method: { type: 'string', multiple: true, arg: '<method>', help: 'HTTP methods allowed; repeat or comma-separate (default GET; add HEAD for link previews)' },
      'url-param': urlParam,
      meta,
    },
    examples: ["tokenaccess share 'https://example.com/files?id=7' --expires 1d --max-uses 3", "tokenaccess share 'https://example.com/feed.xml' --max-uses unlimited --expires 30d --rate-limit 60/1h"],
  },
  {
    name: 'list',
    usage: 'tokenaccess list [options]',
    summary: 'list tokens (a table, or --json); never shows raw tokens',
    options: {
      subject: { type: 'string', arg: '<id>', help: 'only this subject’s tokens' },
      kind: { type: 'string', arg: '<access|url>', help: 'only API tokens (access) or share links (url)' },
      expired: { type: 'boolean', help: 'only expired tokens (past their expiry or idle timeout)' },
      expiring: { type: 'string', arg: '<duration>', help: 'only tokens that expire within this long, e.g. 7d (expired ones too, until swept)' },
      parent: { type: 'string', arg: '<id>', help: 'only tokens derived from this one' },
      limit: { type: 'string', arg: '<n>', help: 'show at most n tokens (default 100)' },
      all: { type: 'boolean', help: 'show every token (no limit)' },
      cursor: { type: 'string', arg: '<cursor>', help: 'continue after a previous --json page (its "cursor")' },
    },
    examples: ['tokenaccess list --subject alice', 'tokenaccess list --expiring 7d', 'tokenaccess list --expired --json | jq ".items[].id"'],
  },
  {
    name: 'inspect',
    usage: 'tokenaccess inspect <id | token>',
    summary: 'show one token by id or by raw token (does not spend a use)',
    options: {},
  },
  {
    name: 'revoke',
    usage: 'tokenaccess revoke <id | token>... | --subject <id> | --all-expired',
    summary: 'delete tokens: by id or raw token, every token of a subject, or every expired one',
    description: 'With --subject and --all-expired together, only that subject’s expired tokens go. Bulk revokes show a progress bar on a terminal.',
    options: {
      subject: { type: 'string', arg: '<id>', help: 'revoke every token of this subject' },
      'all-expired': { type: 'boolean', help: 'revoke every expired token (past its expiry or idle timeout)' },
      'dry-run': { type: 'boolean', help: 'count what would be revoked, revoke nothing' },
    },
    examples: ['tokenaccess revoke 01KAT3H8W6B0Q5R2Y9D1M4N7PX', 'tokenaccess revoke --subject alice', 'tokenaccess revoke --all-expired --dry-run'],
  },
  {
    name: 'update',
    usage: 'tokenaccess update <id | token> [options]',
    summary: 'change a token’s name, scopes, expiry, limits, rate limit or metadata (the token itself stays the same)',
    description: 'Only the options given change. The raw token and its hash never change; a verify running at the same time sees the token before or after, never a mix.',
    options: {
      name: { type: 'string', short: 'n', arg: '<name>', help: 'a new label' },
      scope: { ...scope, help: 'the new scopes, replacing the old ones; repeat, or separate with commas/spaces' },
      scopes: scopesAlias,
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire this long from now, or 'never'" },
      'expires-at': expiresAt,
      idle: { ...idle, help: "idle timeout, or 'none'" },
      'max-uses': { type: 'string', arg: '<n>', help: "use limit, or 'unlimited' (raising it revives a used-up token)" },
      refill: { ...refill, help: "renew the use budget every period (counted from creation), or 'none'" },
      'rate-limit': { ...rateLimit, help: "a new rate limit, e.g. 100/1h (the current window's count is kept), or 'none'" },
      metadata: { type: 'string', arg: '<json>', help: "replace the metadata with this JSON object, or 'null' to remove it" },
    },
    examples: ['tokenaccess update 01KAT3H8W6B0Q5R2Y9D1M4N7PX --scope users:read,users:write --expires 30d', 'tokenaccess update 01KAT3H8W6B0Q5R2Y9D1M4N7PX --max-uses unlimited --idle none', 'tokenaccess update 01KAT3H8W6B0Q5R2Y9D1M4N7PX --rate-limit 100/1h'],
  },
  {
    name: 'disable',
    usage: 'tokenaccess disable <id | token>...',
    summary: 'disable tokens: refused as disabled (and their derived tokens) until enabled again',
    options: {},
    examples: ['tokenaccess disable 01KAT3H8W6B0Q5R2Y9D1M4N7PX'],
  },
  {
    name: 'enable',
    usage: 'tokenaccess enable <id | token>...',
    summary: 'enable disabled tokens again',
    options: {},
  },
  {
    name: 'rotate',
    usage: 'tokenaccess rotate <id | token> [--grace <duration>]',
    summary: 'replace a token with a new one; prints the new token (or share link) once, on stdout',
    description: 'The new token keeps the old one’s subject, name, scopes, metadata and limits. The old token keeps working for --grace (default 0: refused at once, as expired).',
    options: {
      grace: { type: 'string', arg: '<duration>', help: 'how long the old token keeps working, e.g. 1h (default 0)' },
      'url-param': { ...urlParam, help: 'for a share link: the query parameter of the printed link (default token; TOKEN for Tiki)' },
    },
    examples: ['NEW=$(tokenaccess rotate 01KAT3H8W6B0Q5R2Y9D1M4N7PX --grace 1h)'],
  },
  {
    name: 'derive',
    usage: 'tokenaccess derive <parent id | token> [options]',
    summary: 'issue a narrower child of an API token; prints the raw token once, on stdout',
    description: 'A derived token never holds a scope its parent lacks and never outlives it; revoking, disabling or rotating the parent refuses it too.',
    options: {
      name: { type: 'string', short: 'n', arg: '<name>', help: 'a label (default "<parent name> (derived)")' },
      scope: { ...scope, help: "the child's scopes, each covered by the parent's; repeat or comma-separate (default the parent's)" },
      scopes: scopesAlias,
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire after this long (never later than the parent; default the parent's expiry)" },
      'expires-at': expiresAt,
      idle,
      'max-uses': { type: 'string', arg: '<n>', help: "use limit, or 'unlimited' (default unlimited)" },
      'rate-limit': { ...rateLimit, help: "the child's own rate limit, e.g. 10/1m, or 'none' (default the parent's, with a count of its own)" },
      meta,
    },
    examples: ['CHILD=$(tokenaccess derive 01KAT3H8W6B0Q5R2Y9D1M4N7PX --scope users:read --expires 1h)'],
  },
  {
    name: 'import',
    usage: 'tokenaccess import <sanctum | shield | tiki> --from <mysql://… | postgres://…> [options]',
    summary: 'import the tokens of Laravel Sanctum, CodeIgniter Shield or Tiki from their own table',
    description: [
      'Reads personal_access_tokens (sanctum), auth_identities (shield) or tiki_auth_tokens (tiki) and writes each token',
      'to the store with the hash the framework stored, so the tokens your users hold keep working through',
      "createTokenAccess({ legacy: [legacyFormats.sanctum, legacyFormats.shield, legacyFormats.sha256] }).",
      'Each record gets a new id and keeps its source id in metadata.imported. Running it again adds only what is',
      'missing (a token already in the store is counted as already present), so an interrupted import is finished by',
      'running the same command again. Expired and used-up tokens are skipped; rows that cannot be read are refused',
      'with a reason and the rest go on. No raw token is ever printed (Tiki stores its tokens in plain: they are',
      'hashed on the way in).',
    ].join('\n'),
    options: {
      from: { type: 'string', arg: '<url>', help: 'the source database: mysql://user:pass@host:3306/db (MySQL, MariaDB) or postgres://… (?table= and, for Postgres, ?schema= may name the table)' },
      'source-table': { type: 'string', arg: '<name>', help: 'the source table (default personal_access_tokens, auth_identities or tiki_auth_tokens); --table names the store’s table' },
      timezone: { type: 'string', arg: '<offset>', help: "time zone of the source's date columns: UTC or an offset like +02:00 (the framework's app timezone; default UTC)" },
      'expires-after': { type: 'string', arg: '<duration>', help: "expire every token this long after its creation (Sanctum's `expiration` setting), unless it expires earlier" },
      idle: { ...idle, help: "idle timeout for every imported token (Shield's unusedTokenLifetime)" },
      'base-url': { type: 'string', arg: '<url>', help: 'tiki: where Tiki is served (https://wiki.example.com); without it the links are bound to their path only' },
      method: { type: 'string', multiple: true, arg: '<method>', help: 'tiki: HTTP methods the links open with (default GET)' },
      'url-param': { ...urlParam, help: 'tiki: the query parameter of the links (default TOKEN, as Tiki writes them)' },
      'batch-size': { type: 'string', arg: '<n>', help: 'source rows read per query (default 500)' },
      'dry-run': { type: 'boolean', help: 'read and check everything, write nothing' },
    },
    examples: [
      "tokenaccess import sanctum --from 'mysql://laravel:secret@127.0.0.1:3306/laravel' --store \"$DATABASE_URL\"",
      "tokenaccess import shield --from 'mysql://ci4@db/app' --dry-run",
      "tokenaccess import tiki --from 'mysql://tiki@db/tiki' --base-url https://wiki.example.com --store redis://cache:6379",
    ],
  },
  {
    name: 'sweep',
    usage: 'tokenaccess sweep [options]',
    summary: 'delete every expired and used-up token (run it from cron)',
    options: {
      'batch-size': { type: 'string', arg: '<n>', help: 'tokens deleted per store call (default 1000)' },
    },
    examples: ['tokenaccess sweep --store "$DATABASE_URL"'],
  },
  {
    name: 'migrate',
    usage: 'tokenaccess migrate [options]',
    summary: 'create or upgrade the store’s tables / indexes (Postgres, PGlite, MongoDB)',
    options: {},
    examples: ['tokenaccess migrate --store "postgres://app@db/prod?schema=auth"'],
  },
  {
    name: 'help',
    usage: 'tokenaccess help [command]',
    summary: 'show help for the tool or one command',
    options: {},
  },
];

export const ENVIRONMENT: [string, string][] = [
  ['TOKENACCESS_STORE', 'the store URL, when --store is not given'],
  ['TOKENACCESS_PEPPER', 'the pepper, when --pepper is not given'],
  ['TOKENACCESS_PREFIX', 'the token prefix, when --prefix is not given'],
  ['NO_COLOR', 'any non-empty value turns colours off'],
  ['FORCE_COLOR', 'colours even when not a terminal (not for stdout of --json)'],
];

export const EXIT_CODES: [string, string][] = [
  ['0', 'success'],
  ['1', 'runtime failure: store unreachable or failing, token not found'],
  ['2', 'usage error: unknown command or option, bad duration, scope, URL or store URL, or a store directory others can write'],
  ['130, 143', 'interrupted (Ctrl-C, SIGTERM); the store is closed first'],
];

/** Every option of every command, for the first pass that only looks for the command name. */
export function allOptions(): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const c of COMMANDS) Object.assign(out, c.options);
  return out;
}

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
