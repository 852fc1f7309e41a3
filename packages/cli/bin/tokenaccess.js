#!/usr/bin/env node
// The `tokenaccess` command. A committed file in front of the built dist/bin.js: npm links a
// package's bins when it installs, and in a fresh clone of the monorepo dist/ is not built yet,
// so a bin pointing into dist/ would not be linked and `npx tokenaccess` would go looking in the
// registry. This one always exists.
import('../dist/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bin.js')) {
    console.error('tokenaccess: the CLI is not built yet: run `npm run build` (or `npm start`) in the repository first');
    process.exit(2);
  }
  throw err;
});
