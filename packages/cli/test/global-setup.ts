import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../', import.meta.url));

/** What `dist/bin.js` imports at runtime, and the bin itself. */
const REQUIRED = ['core/dist/index.js', 'core/dist/node.js', 'postgres/dist/index.js', 'redis/dist/index.js', 'mongodb/dist/index.js', 'cli/dist/bin.js'];

/** The output of a failed command, for the error message. */
function output(err: unknown): string {
  const e = err as { stdout?: Buffer | string; stderr?: Buffer | string; message?: string };
  const text = `${String(e.stdout ?? '')}${String(e.stderr ?? '')}`.trim();
  return (text || e.message || String(err)).slice(-4000);
}

/**
 * Builds what `dist/bin.js` imports at runtime (core and the store packages, through turbo with
 * its cache), then the CLI itself. A package that does not build fails the whole run here, with
 * its errors: the tests run the built command, and a backend whose package is broken is a
 * failure, never a skip. `TOKENACCESS_CLI_SKIP_BUILD=1` uses the dist/ folders as they are, and
 * still fails when one is missing.
 */
export default function setup(): void {
  if (process.env.TOKENACCESS_CLI_SKIP_BUILD !== '1') {
    try {
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@tokenaccess/cli^...', '--output-logs=errors-only'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      });
    } catch (err) {
      throw new Error(`[cli tests] a package the CLI imports does not build, so the CLI cannot be tested:\n${output(err)}`);
    }
    try {
      execFileSync('npx', ['tsup'], { cwd: cli, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`[cli tests] the CLI does not build:\n${output(err)}`);
    }
  }
  const missing = REQUIRED.filter((f) => !existsSync(`${root}packages/${f}`));
  if (missing.length > 0) {
    throw new Error(`[cli tests] missing build output: ${missing.map((f) => `packages/${f}`).join(', ')} (build with: npx turbo run build --filter=@tokenaccess/cli...)`);
  }
}
