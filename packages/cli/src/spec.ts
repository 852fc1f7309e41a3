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
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire after e.g. 30m, 12h, 90d, 2w, or 'never' (default never)" },
      'expires-at': expiresAt,
      idle,
      'max-uses': { type: 'string', arg: '<n>', help: "use limit, or 'unlimited' (default unlimited)" },
      meta,
    },
    examples: ['tokenaccess issue alice --name "CI deploy" --scope deploy:write --expires 90d', 'TOKEN=$(tokenaccess issue bob --scope users:read --max-uses 100 --idle 30m)'],
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
      expires: { type: 'string', short: 'e', arg: '<duration>', help: "expire after this long, or 'never' (default 7d)" },
      'expires-at': expiresAt,
      idle,
      'max-uses': { type: 'string', arg: '<n>', help: "how many times the link opens, or 'unlimited' (default 1)" },
      method: { type: 'string', multiple: true, arg: '<method>', help: 'HTTP methods allowed; repeat or comma-separate (default GET; add HEAD for link previews)' },
      'url-param': { type: 'string', arg: '<name>', help: 'query parameter carrying the token (default token; TOKEN for Tiki)' },
      meta,
    },
    examples: ["tokenaccess share 'https://example.com/files?id=7' --expires 1d --max-uses 3"],
  },
  {
    name: 'list',
    usage: 'tokenaccess list [options]',
    summary: 'list tokens (a table, or --json); never shows raw tokens',
    options: {
      subject: { type: 'string', arg: '<id>', help: 'only this subject’s tokens' },
      kind: { type: 'string', arg: '<access|url>', help: 'only API tokens (access) or share links (url)' },
      expired: { type: 'boolean', help: 'only expired tokens (past their expiry or idle timeout)' },
      limit: { type: 'string', arg: '<n>', help: 'show at most n tokens (default 100)' },
      all: { type: 'boolean', help: 'show every token (no limit)' },
      cursor: { type: 'string', arg: '<cursor>', help: 'continue after a previous --json page (its "cursor")' },
    },
    examples: ['tokenaccess list --subject alice', 'tokenaccess list --expired --json | jq ".items[].id"'],
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
