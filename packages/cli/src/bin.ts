/**
 * @module @tokenaccess/cli (bin)
 *
 * The `tokenaccess` executable: `npm install -g @tokenaccess/cli`, or `npx tokenaccess` where it
 * is a dependency. Everything happens in `run`; this file only wires it to the process.
 */
import { run } from './run';
import { closeAllStores } from './stores';

// `tokenaccess list | head -1`: the reader went away; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Ctrl-C mid-command: close what is open (PGlite flushes and drops its lock), then exit 130/143.
let stopping = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(code);
    stopping = true;
    process.stderr.write(`\ntokenaccess: interrupted\n`);
    setTimeout(() => process.exit(code), 2000).unref();
    void closeAllStores().finally(() => process.exit(code));
  });
}

// The exit code is set, not forced: every client is closed by `run`, so the process ends on its
// own. The unref'd timer only fires if something still holds the event loop (a driver bug).
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`tokenaccess: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
