import type { Style } from './io';
import { COMMANDS, ENVIRONMENT, EXIT_CODES, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec';

function optionLines(options: Record<string, OptionSpec>, style: Style): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`;
    return [flag, o.help] as const;
  });
  const w = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${style.cyan(f.padEnd(w))}  ${h}`);
}

function table(rows: [string, string][], style: Style): string[] {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${style.bold(a.padEnd(w))}  ${b}`);
}

/** `tokenaccess help`. */
export function mainHelp(version: string, style: Style): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `${style.bold('tokenaccess')} ${version}: issue, list, inspect and revoke access tokens and share links`,
    '',
    `${style.bold('Usage:')} tokenaccess <command> [options]`,
    '',
    style.bold('Commands:'),
    ...COMMANDS.map((c) => `  ${style.cyan(c.name.padEnd(w))}  ${c.summary}`),
    '',
    style.bold('Options (every command):'),
    ...optionLines(GLOBAL_OPTIONS, style),
    '',
    style.bold('Environment:'),
    ...table(ENVIRONMENT, style),
    '',
    style.bold('Exit codes:'),
    ...table(EXIT_CODES, style),
    '',
    'Without --store, tokens live in an embedded PostgreSQL (PGlite) in ./.tokenaccess/, created on first use.',
    'Run `tokenaccess help <command>` for a command’s options.',
    '',
  ].join('\n');
}

/** `tokenaccess help <command>` / `tokenaccess <command> --help`. */
export function commandHelp(c: CommandSpec, style: Style): string {
  const lines = [`${style.bold('Usage:')} ${c.usage}`, '', `${c.summary.charAt(0).toUpperCase()}${c.summary.slice(1)}.`];
  if (c.description) lines.push('', c.description);
  if (Object.keys(c.options).length > 0) lines.push('', style.bold('Options:'), ...optionLines(c.options, style));
  lines.push('', `${style.bold('Global options:')} ${Object.keys(GLOBAL_OPTIONS).map((o) => `--${o}`).join(' ')} (see tokenaccess help)`);
  if (c.examples?.length) lines.push('', style.bold('Examples:'), ...c.examples.map((e) => `  ${e}`));
  lines.push('');
  return lines.join('\n');
}
