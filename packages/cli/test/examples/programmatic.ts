import { run } from '@tokenaccess/cli';

/** Issues a token through the CLI's own code path and returns it (e.g. in a seed script). */
export async function issueForSeed(store: string): Promise<string> {
  let out = '';
  const code = await run(['issue', 'seed-user', '--scope', 'users:read', '--json', '--store', store], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: () => true },
  });
  if (code !== 0) throw new Error(`tokenaccess exited with ${code}`);
  return (JSON.parse(out) as { token: string }).token;
}
