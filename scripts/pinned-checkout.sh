#!/usr/bin/env bash
# A copy of this checkout built with the pinned Node (scripts/node-runtime.sh), whatever Node the
# machine has: its native modules (better-sqlite3, unix-dgram) are compiled against the pinned
# Node's own headers, offline. CI runs tests under it; a release (scripts/release.sh) does not
# need it, and builds its runtime modules on their own.
#
#   scripts/pinned-checkout.sh DIR      DIR/node (the pinned Node), DIR/npm, DIR/src (the copy, after npm ci)
#
# DIR/npm is the npm the pinned Node bundles, fetched and checked the same way.
# DIR/src holds the tracked files as they are in the work tree, so uncommitted changes are in it.
# Run again after a change: files are copied again, and `npm ci` runs only when package-lock.json
# changed. Tests run in it with `cd DIR/src && ../node/bin/node scripts/run-tests.mjs FILES`.
set -euo pipefail

DIR="${1:?usage: scripts/pinned-checkout.sh DIR}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# The copy first: outside a git checkout it stops before anything is fetched.
"$ROOT/scripts/tree-copy.sh" "$DIR/src"
"$ROOT/scripts/node-runtime.sh" "$DIR/node"
"$ROOT/scripts/node-runtime.sh" --npm "$DIR/npm"
# npm as the pinned Node bundles it: the machine's npm may be too old for the lock file.
npm_pinned() { PATH="$DIR/node/bin:$PATH" "$DIR/node/bin/node" "$DIR/npm/bin/npm-cli.js" "$@"; }

# `npm ci` empties the node_modules it finds, through a link too.
if [ -L "$DIR/src/node_modules" ]; then rm "$DIR/src/node_modules"; fi
# The tests find their media at ../shared/media beside the checkout: a link, not a copy.
if [ -d "$ROOT/../shared" ] && [ ! -e "$DIR/shared" ]; then ln -s "$(cd "$ROOT/../shared" && pwd)" "$DIR/shared"; fi

stamp="$DIR/src/node_modules/.pinned-lock.sha256"
want="$(sha256sum "$DIR/src/package-lock.json" | cut -d' ' -f1)-$("$DIR/node/bin/node" --version)"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  # What `npm ci` runs after installing (the prepare script): dist, and the models checked by sha256.
  echo "ok:    $DIR/src/node_modules is current; building dist and the models"
  (cd "$DIR/src" && npm_pinned run prepare --silent)
else
  # With the pinned node first on PATH the install scripts run on it too. npm_config_nodedir:
  # node-gyp builds against the headers the pinned package carries instead of downloading them.
  (cd "$DIR/src" && npm_config_nodedir="$DIR/node" npm_pinned ci --no-audit --no-fund)
  echo "$want" >"$stamp"
fi
"$DIR/node/bin/node" -e "
  for (const m of ['better-sqlite3', 'onnxruntime-node', 'unix-dgram', 'sharp']) require(require.resolve(m, { paths: ['$DIR/src'] }));
  console.log('done:  native modules load under Node ' + process.version + ' in $DIR/src');
"
