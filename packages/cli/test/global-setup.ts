import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../', import.meta.url));

/**
 * Builds what `dist/bin.js` imports at runtime (core and the store packages, through turbo with
 * its cache), then the CLI itself. A store package that does not build is reported here and its
 * backend's tests skip themselves (they check for its `dist`).
 */
export default function setup(): void {
  if (process.env.TOKENACCESS_CLI_SKIP_BUILD !== '1') {
    try {
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@tokenaccess/cli^...', '--continue', '--output-logs=errors-only'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      });
    } catch (err) {
      const out = String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
      process.stderr.write(`[cli tests] some dependency builds failed; their backends will be skipped:\n${out.slice(-2000)}\n`);
    }
    execFileSync('npx', ['tsup'], { cwd: cli, stdio: ['ignore', 'pipe', 'inherit'] });
  }
  for (const pkg of ['core', 'postgres', 'redis', 'mongodb']) {
    if (!existsSync(`${root}packages/${pkg}/dist/index.js`)) process.stderr.write(`[cli tests] packages/${pkg}/dist is missing: its backend is skipped\n`);
  }
}
