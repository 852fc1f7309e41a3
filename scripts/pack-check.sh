#!/usr/bin/env bash
# Packs every public package, installs the tarballs into a fresh project OUTSIDE the workspace,
# and there runs (a) an ESM script, (b) a CommonJS script and (c) `tsc --noEmit` on a TypeScript
# file that use core with the memory store, each store adapter and each framework adapter, and
# the CLI's bin. Catches missing files, wrong `exports`, and dependencies that only exist in the
# workspace. Needs the packages built (npm run build) and Redis on 127.0.0.1:6379.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/tokenaccess-pack-check.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/app"

# the root script the docs tell users to pack with before the first release (docs/getting-started.md)
(cd "$root" && npm run --silent pack:tarballs -- --pack-destination "$work/tarballs" >/dev/null)
ls "$work/tarballs"
# every package says MIT: the licence text must travel in every tarball
for t in "$work"/tarballs/*.tgz; do
  # grep reads the whole listing (no -q): an early exit would SIGPIPE tar and, under pipefail, fail
  tar -tzf "$t" | grep -x 'package/LICENSE' >/dev/null || { echo "pack-check: $(basename "$t") has no LICENSE" >&2; exit 1; }
done
echo "LICENSE: in every tarball"

cp "$root/scripts/pack-check/"* "$work/app/"
cd "$work/app"
cat > package.json <<'JSON'
{ "name": "pack-check-app", "version": "0.0.0", "private": true }
JSON
# versions of the peers come from the workspace lockfile's resolutions, so this is repeatable
peer() { node -p "require('$root/node_modules/$1/package.json').version"; }
npm install --no-audit --no-fund --loglevel=error \
  "$work"/tarballs/*.tgz \
  "ioredis@$(peer ioredis)" "pg@$(peer pg)" "@electric-sql/pglite@$(peer @electric-sql/pglite)" "mongodb@$(peer mongodb)" \
  "koa@$(peer koa)" "next@$(peer next)" "react@$(peer react)" "react-dom@$(peer react-dom)" \
  "typescript@$(peer typescript)" "@types/node@$(peer @types/node)" "@types/koa@$(peer @types/koa)" "@types/react@$(peer @types/react)" "@types/pg@$(peer @types/pg)"

echo "--- (a) ESM"
node esm.mjs
echo "--- (b) CommonJS"
node cjs.cjs
echo "--- (c) tsc --noEmit"
npx tsc --noEmit -p tsconfig.json
echo "types: ok"
echo "--- (d) the CLI bin"
./node_modules/.bin/tokenaccess --version
./node_modules/.bin/tokenaccess issue --store memory: --subject pack-check --name ci --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);if(!/^tka_/.test(j.token))process.exit(1);console.log('cli issue: ok',j.info?.hint??j.hint??'')})"
echo "pack-check: all good"
