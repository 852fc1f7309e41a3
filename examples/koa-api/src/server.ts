import { mkdir, open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenAccess } from '@tokenaccess/core';
import { createApp } from './app';
import { rejectionLine } from './log';
import { openStore } from './store';

const port = Number(process.env.PORT ?? 3000);
const files = process.env.FILES_DIR ?? join(tmpdir(), 'koa-api-files');
/** A start-up failure is one line and a non-zero exit: a stack trace helps nobody here. */
const die = (line: string): never => {
  console.error(`koa-api: ${line}`);
  process.exit(1);
};
const storeUrl = process.env.TOKENACCESS_STORE ?? 'memory:';
const opened = await openStore(storeUrl).catch((err: unknown) =>
  die(`cannot open the store ${storeUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: ${err instanceof Error ? err.message : String(err)}`),
);
const tokens = createTokenAccess({
  store: opened.store,
  onRejected: (e) => console.log(rejectionLine(e)),
});

await ensureDemoFiles(files);
const app = createApp({ tokens, files });
const server = app.listen(port);
server.once('error', (err: NodeJS.ErrnoException) =>
  die(err.code === 'EADDRINUSE' ? `port ${port} is in use (set PORT=… to use another)` : `cannot listen on port ${port}: ${err.message}`),
);
server.once('listening', () => {
  const base = `http://localhost:${port}`;
  console.log(`
koa-api listening on ${base}
  store: ${opened.label}
  files: ${files}

Try it (needs curl and jq; alice and bob are the demo users, X-Demo-User stands in for a real login):

  # 1. alice issues a personal API token; the raw token is shown once
  TOKEN=$(curl -s -X POST ${base}/auth/tokens -H 'X-Demo-User: alice' -H 'Content-Type: application/json' \\
    -d '{"name":"my laptop","scopes":["users:read","files:share","batch:schedule"]}' | jq -r .token); echo "$TOKEN"

  # 2. the API: users:read is granted; POST needs users:write (403); no token is 401
  curl -s ${base}/api/users -H "Authorization: Bearer $TOKEN" -w '\\n'
  curl -si -X POST ${base}/api/users -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Carol","email":"carol@example.com"}' -w '\\n'
  curl -si ${base}/api/users -w '\\n'

  # 3. a one-time share link for a large file, opened once for a session cookie: the second open is refused
  LINK=$(curl -s -X POST ${base}/api/files/dataset.csv/share -H "Authorization: Bearer $TOKEN" | jq -r .url); echo "$LINK"
  JAR=$(mktemp); curl -sL -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code} %{size_download} bytes\\n' "$LINK"
  curl -s -w '\\n%{http_code}\\n' "$LINK"

  # 4. a cron URL good for 3 runs of one exact export; a changed parameter is refused
  CRON=$(curl -s -X POST ${base}/api/batch-links -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"runs":3}' | jq -r .url); echo "$CRON"
  curl -si "$CRON"
  curl -s "\${CRON/trackerId=3/trackerId=4}" -w '\\n'

  # 5. alice lists her tokens and revokes the API token; it stops working at once
  curl -s ${base}/auth/tokens -H 'X-Demo-User: alice' | jq -c '.items[] | {id, kind, name}'
  ID=$(curl -s ${base}/auth/tokens -H 'X-Demo-User: alice' | jq -r '.items[] | select(.kind == "access") | .id')
  curl -s -X DELETE ${base}/auth/tokens/$ID -H 'X-Demo-User: alice' -w '%{http_code}\\n'
  curl -s ${base}/api/users -H "Authorization: Bearer $TOKEN" -w '\\n'

The CLI (from the repository root; by default its own embedded PGlite store in ./.tokenaccess/,
which persists between runs; start this server and run the CLI with the same
TOKENACCESS_STORE=postgres://… or redis://… (both use the key prefix tka:) to share one store):

  npx tokenaccess issue alice --name "nightly job" --scope batch:schedule --expires 30d
  npx tokenaccess share '${base}/files/report.pdf' --max-uses 3 --expires 1d
  npx tokenaccess list
  npx tokenaccess help
`);
});

const shutdown = () => {
  server.close(() => void opened.close().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

/** A large demo file (about 50 MB), written once, so the share link has something to stream. */
async function ensureDemoFiles(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'dataset.csv');
  if ((await stat(path).catch(() => null))?.size) return;
  const file = await open(path, 'w');
  try {
    const rows: string[] = [];
    for (let i = 1; i <= 10_000; i++) rows.push(`${i},sensor-${i % 97},${(Math.sin(i) * 1000).toFixed(3)},2026-01-01T00:00:00Z`);
    const block = `${rows.join('\n')}\n`;
    await file.write('id,sensor,value,at\n');
    for (let i = 0; i < 100; i++) await file.write(block);
  } finally {
    await file.close();
  }
}
