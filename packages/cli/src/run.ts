import { parseArgs } from 'node:util';
import { issue, share } from './commands/issue';
import { importCommand } from './commands/import';
import { inspect } from './commands/inspect';
import { derive, disable, enable, rotate, update } from './commands/lifecycle';
import { listCommand } from './commands/list';
import { migrateCommand } from './commands/migrate';
import { revoke } from './commands/revoke';
import { sweep } from './commands/sweep';
import { type Context, type Values, createContext, duration, str } from './context';
import { CliError, EXIT, describeError, usage } from './errors';
import { commandHelp, mainHelp } from './help';
import { type CliIO, styleFor } from './io';
import { parsePepper } from './pepper';
import { COMMANDS, GLOBAL_OPTIONS, type OptionSpec, allOptions, findCommand } from './spec';

declare const __CLI_VERSION__: string | undefined;

/**
 * The package version (injected at build time), as `tokenaccess --version` prints it.
 *
 * @example
 * ```ts
 * console.log(`tokenaccess ${VERSION}`);
 * ```
 */
export const VERSION: string = typeof __CLI_VERSION__ === 'string' ? __CLI_VERSION__ : '0.0.0-dev';

const HANDLERS: Record<string, (ctx: Context) => Promise<number>> = {
  issue,
  share,
  list: listCommand,
  inspect,
  revoke,
  update,
  disable,
  enable,
  rotate,
  derive,
  import: importCommand,
  sweep,
  migrate: migrateCommand,
};

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

function toParseOptions(specs: Record<string, OptionSpec>): ParseOptions {
  const out: ParseOptions = {};
  for (const [name, o] of Object.entries(specs)) out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  return out;
}

/** Node's parseArgs messages as one line: the first sentence, or our own words where its are several. */
function parseError(err: unknown, command: string | undefined): CliError {
  const message = err instanceof Error ? err.message : String(err);
  const hint = `see tokenaccess help${command ? ` ${command}` : ''}`;
  // "Option '--name' argument is ambiguous.\nDid you forget …?\nTo specify … use '--name=-XYZ'."
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const long = /use '(--[^=']+)=/.exec(message)?.[1] ?? ambiguous[1]!;
    return usage(`${long} needs a value, but an option follows it (write ${long}=<value> for a value that starts with "-")`, hint);
  }
  const first = message.split('\n')[0]!.split(/\. (?=[A-Z])/)[0]!.replace(/\.$/, '');
  return usage(first.charAt(0).toLowerCase() + first.slice(1), hint);
}

/**
 * `--expires -5d`, `--limit -1`: an argument that starts with "-" and a digit is a value (a bad
 * one), never an option. It is handed to its option as `--expires=-5d`, so the option's own check
 * says what is wrong with it instead of parseArgs calling it ambiguous.
 */
function attachNegativeValues(args: readonly string[], specs: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith('--') ? arg.slice(2) : /^-[^-]$/.test(arg) ? Object.keys(specs).find((n) => specs[n]!.short === arg[1]) : undefined;
    const next = args[i + 1];
    if (name !== undefined && Object.hasOwn(specs, name) && specs[name]!.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Runs the `tokenaccess` command with `argv` (the arguments after the program name) and
 * returns its exit code: 0 success, 1 runtime failure, 2 usage error. Never throws, never calls
 * `process.exit`, and closes every store client it opened before it returns.
 *
 * @example
 * ```ts
 * import { run } from '@tokenaccess/cli';
 *
 * const code = await run(['list', '--json', '--store', 'memory:']);
 * ```
 */
export async function run(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const env = io.env ?? process.env;
  const full: CliIO = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, env, cwd: io.cwd ?? process.cwd() };
  const args = [...argv];
  // colours are decided before parsing, so even a usage error respects --no-color
  const noColor = args.includes('--no-color');
  const errStyle = styleFor(full.stderr, env, noColor);
  const debug = args.includes('--debug');
  let ctx: Context | undefined;
  try {
    // pass 1: find the command name, whatever options come before it
    let first: { positionals: string[] };
    try {
      first = parseArgs({ args, options: toParseOptions(allOptions()), strict: false, allowPositionals: true });
    } catch (err) {
      throw parseError(err, undefined);
    }
    const name = first.positionals[0];
    if (name === undefined) {
      if (args.includes('--version') || args.includes('-V')) return print(full, `${VERSION}\n`);
      if (args.length === 0 || args.includes('--help') || args.includes('-h')) return print(full, mainHelp(VERSION, styleFor(full.stdout, env, noColor)));
      throw usage('no command given', 'see tokenaccess help');
    }
    if (name === 'help') {
      const topic = first.positionals[1];
      if (topic === undefined) return print(full, mainHelp(VERSION, styleFor(full.stdout, env, noColor)));
      const spec = findCommand(topic);
      if (!spec) throw usage(`unknown command ${JSON.stringify(topic)}`, 'see tokenaccess help');
      return print(full, commandHelp(spec, styleFor(full.stdout, env, noColor)));
    }
    const spec = findCommand(name);
    if (!spec) {
      const near = COMMANDS.map((c) => c.name).find((c) => distance(c, name) <= 2);
      throw usage(`unknown command ${JSON.stringify(name)}`, near ? `did you mean ${near}? (see tokenaccess help)` : 'see tokenaccess help');
    }

    // pass 2: strict, with this command's options only
    let parsed: { values: Values; positionals: string[] };
    try {
      const specs = { ...GLOBAL_OPTIONS, ...spec.options };
      parsed = parseArgs({ args: attachNegativeValues(args, specs), options: toParseOptions(specs), strict: true, allowPositionals: true }) as typeof parsed;
    } catch (err) {
      throw parseError(err, name);
    }
    const values = parsed.values;
    const positionals = parsed.positionals.slice(1);
    if (values.help) return print(full, commandHelp(spec, styleFor(full.stdout, env, noColor)));
    if (values.version) return print(full, `${VERSION}\n`);

    const json = values.json === true;
    const ct = str(values, 'connect-timeout');
    const to = str(values, 'timeout');
    ctx = createContext({
      io: full,
      values,
      args: positionals,
      json,
      out: json ? styleFor(full.stdout, {}, true) : styleFor(full.stdout, env, noColor),
      err: errStyle,
      prefix: str(values, 'prefix') ?? nonEmpty(env.TOKENACCESS_PREFIX) ?? 'tka',
      pepper: parsePepper(str(values, 'pepper') ?? nonEmpty(env.TOKENACCESS_PEPPER)),
      storeUrl: str(values, 'store') ?? nonEmpty(env.TOKENACCESS_STORE),
      connectTimeout: ct === undefined ? 5000 : duration(ct, 'connect-timeout'),
      timeout: to === undefined ? 60_000 : duration(to, 'timeout'),
    });
    return await HANDLERS[name]!(ctx);
  } catch (err) {
    const { message, exitCode, hint } = describeError(err);
    full.stderr.write(`${errStyle.red('tokenaccess: error:')} ${message.replace(/run migrate\(\) first/, 'run `tokenaccess migrate` first')}\n`);
    if (hint) full.stderr.write(`${errStyle.dim(`hint: ${hint}`)}\n`);
    if (debug && err instanceof Error && err.stack) full.stderr.write(`${errStyle.dim(debugStack(err))}\n`);
    return exitCode === EXIT.ok ? EXIT.failure : exitCode;
  } finally {
    await ctx?.close();
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function print(io: CliIO, text: string): number {
  io.stdout.write(text);
  return EXIT.ok;
}

function debugStack(err: Error): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    parts.push(i === 0 ? (cur.stack ?? cur.message) : `caused by: ${cur.stack ?? cur.message}`);
    cur = cur.cause;
  }
  return parts.join('\n');
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
