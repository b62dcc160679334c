#!/usr/bin/env bash
# Builds facegate's release: one tarball that installs on a Debian 12/13 box with no npm, no
# compiler and no network (docs/daemon.md#install-from-a-release). It holds the pinned Node, the
# built code (dist/), the runtime dependencies built for that Node and pruned to what it loads, the
# models with their sha256 (models/), install.sh, the systemd unit and the example config, and a
# RELEASE file that names it, and the public key later releases are signed with. Beside it:
# SHA256SUMS (of the tarballs, and of install.sh, which is also put beside them for a first
# install) and, signed, SHA256SUMS.minisig.
#
# Signing: minisign, with the project's release key. It is made once, on a machine that builds
# releases and is kept off every box (minisign -G -p release/facegate-release.pub -s KEYFILE; the
# password it asks for encrypts it); the public half is committed as release/facegate-release.pub,
# and every release carries a copy, with which an installed box checks the next one. Only the
# key's path is given here, never the key: minisign asks for its password on the terminal. Without
# a key the release is unsigned, and install.sh refuses it unless told --allow-unsigned.
#
#   scripts/release.sh                 build release/facegate-VERSION-BUILD-linux-CPU.tar.gz and
#                                      release/SHA256SUMS; print the size by part
#   --out DIR                          where the release goes (default: release/ in the checkout)
#   --work DIR                         the pinned Node, the build and the runtime modules built for
#                                      that Node, kept between builds (default .pinned)
#   --build ID                         the build id (default: the commit, +dirty when the tree is)
#   --dir-only                         stage the release folder in --out, no tarball (install.sh
#                                      from a checkout installs from it)
#   --pack DIR                         only pack an already staged release folder DIR (tarball and
#                                      SHA256SUMS beside it): a release folder changed for a test
#   --key FILE                         sign SHA256SUMS with this minisign secret key file (or name
#                                      the file in $FACEGATE_RELEASE_KEY)
#   --pubkey FILE                      the public key the release carries and the signature is
#                                      checked with (default: release/facegate-release.pub)
#
# In a checkout installed with `npm ci` it reuses that install: the code is built with its tools,
# and the runtime modules are installed once for the pinned Node (about 180 packages from npm's
# cache, no dev tools; about 20 s) and kept in --work for the next release. The first time it fetches
# the pinned Node and npm, and what npm's cache lacks, from the npm registry. In a checkout not
# installed (a box whose Node is too old for the lock file, or none) it installs a copy of it with
# the pinned Node in --work (scripts/pinned-checkout.sh: the full `npm ci`, minutes the first time).
# Run in such a copy (DIR/src beside DIR/node) it uses that copy as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/release"
WORK="$ROOT/.pinned"
BUILD=""
DIR_ONLY=0
PACK=""
KEY="${FACEGATE_RELEASE_KEY:-}"
PUBKEY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    --work) WORK="${2:?--work needs a folder}"; shift ;;
    --build) BUILD="${2:?--build needs an id}"; shift ;;
    --dir-only) DIR_ONLY=1 ;;
    --pack) PACK="${2:?--pack needs a release folder}"; shift ;;
    --key) KEY="${2:?--key needs a minisign secret key file}"; shift ;;
    --pubkey) PUBKEY="${2:?--pubkey needs a minisign public key file}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "release.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
fail() { printf 'error: %s\nfix:   %s\n' "$1" "$2" >&2; exit 1; }
kb() { du -sk --apparent-size "$1" | cut -f1; }
[ -n "$PUBKEY" ] || { [ ! -f "$ROOT/release/facegate-release.pub" ] || PUBKEY="$ROOT/release/facegate-release.pub"; }
if [ -n "$KEY" ]; then
  command -v minisign >/dev/null || fail "minisign is not installed: the release cannot be signed" "apt-get install minisign"
  [ -f "$KEY" ] || fail "the secret key file $KEY is not there" "give --key FILE (or FACEGATE_RELEASE_KEY=FILE): the minisign key made once for releases"
  [ -n "$PUBKEY" ] || fail "a signed release must carry the public key that checks it, and there is none" "give --pubkey FILE, or commit release/facegate-release.pub"
fi
[ -z "$PUBKEY" ] || [ -f "$PUBKEY" ] || fail "the public key file $PUBKEY is not there" "give --pubkey FILE: a minisign public key"

# SHA256SUMS of the folder's tarballs and of install.sh, signed with the key when there is one.
sums() { # FOLDER: the folder of the tarballs
  (cd "$1" && sha256sum -- *.tar.gz install.sh >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
  rm -f "$1/SHA256SUMS.minisig"
  if [ -z "$KEY" ]; then
    echo "unsigned: no --key, so install.sh refuses this release unless told --allow-unsigned"
    return
  fi
  minisign -S -s "$KEY" -m "$1/SHA256SUMS" -x "$1/SHA256SUMS.minisig" -t "facegate release sums, $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    || fail "signing SHA256SUMS with $KEY failed (see above)" "check the key file and its password"
  minisign -V -q -p "$PUBKEY" -m "$1/SHA256SUMS" -x "$1/SHA256SUMS.minisig" >/dev/null \
    || { rm -f "$1/SHA256SUMS.minisig"; fail "the key $KEY is not the one whose public half the release carries ($PUBKEY)" "sign with the release key, or give the public key that goes with $KEY (--pubkey)"; }
  echo "signed: $1/SHA256SUMS.minisig (key $(sed -n 2p "$PUBKEY" | head -c 60))"
}

mb() { awk -v kb="$(kb "$1")" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# The tarball and its SHA256SUMS line, from a staged release folder.
pack() { # FOLDER
  local folder parent name
  folder="$(cd "$1" && pwd)"; parent="$(dirname "$folder")"; name="$(basename "$folder")"
  [ -f "$folder/RELEASE" ] || fail "$folder has no RELEASE file: it is not a staged release" "stage one with scripts/release.sh --dir-only"
  if [ -n "$PUBKEY" ]; then install -m 0644 "$PUBKEY" "$folder/facegate-release.pub"; fi
  # Owners and times fixed, names sorted: the same folder packs to the same bytes.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -C "$parent" -cf - "$name" | gzip -n -6 >"$parent/$name.tar.gz.new"
  mv "$parent/$name.tar.gz.new" "$parent/$name.tar.gz"
  # A first install runs this install.sh, which checks the tarball before it unpacks it.
  install -m 0755 "$folder/install.sh" "$parent/install.sh"
  # Every release tarball in the folder: `sha256sum -c --ignore-missing SHA256SUMS` checks the one downloaded.
  sums "$parent"
  echo "release: $parent/$name.tar.gz ($(mb "$parent/$name.tar.gz") MB), $parent/SHA256SUMS"
}
if [ -n "$PACK" ]; then pack "$PACK"; exit 0; fi

# 1. The code and the runtime modules, for the pinned Node. In a copy made by
#    scripts/pinned-checkout.sh, `npm ci` ran under that Node and built both: they are used as they
#    are, and a checkout not installed gets such a copy in WORK. A checkout installed with `npm ci`
#    is reused, not installed a second time:
#    - dist/ and the models are built in WORK/build, a copy of the work tree whose node_modules is
#      a link to the checkout's: esbuild, tsc and the models' package give the same output whatever
#      Node installed them, and the copy holds no file of a source since deleted;
#    - the runtime modules are installed once for the pinned Node and kept in WORK/modules, under a
#      key of package.json, package-lock.json, the pinned Node and the CPU, so a second release (or
#      install.sh from a checkout) reuses them. They cannot be the checkout's: a native module
#      built against another Node's ABI does not load (unix-dgram), and npm on Node 20 leaves out
#      better-sqlite3 13, which needs Node 22. The install is `npm ci --omit=dev --ignore-scripts`
#      (about 180 packages, unpacked from npm's cache where the checkout's `npm ci` left them), then
#      node-gyp for the packages that compile (scripts/release-modules.mjs --native), against the
#      headers the pinned Node carries, offline. Without --ignore-scripts npm would compile the
#      Node 20 SQLite binding for minutes, which the release leaves out.
PINNED="$("$ROOT/scripts/node-runtime.sh" --version)"
# The native modules the daemon loads, each loaded as a check: where the modules are installed,
# and from the staged release.
LOAD_NATIVE="for (const m of ['better-sqlite3', 'unix-dgram', 'onnxruntime-node', 'sharp']) require(m)"
if [ "$("$ROOT/../node/bin/node" --version 2>/dev/null)" = "v$PINNED" ] && [ -f "$ROOT/node_modules/.pinned-lock.sha256" ]; then
  SRC="$ROOT" MODULES="$ROOT" NODE_DIR="$(cd "$ROOT/../node" && pwd)"
elif [ ! -f "$ROOT/node_modules/typescript/package.json" ] || [ ! -f "$ROOT/node_modules/esbuild/package.json" ]; then
  # A checkout not installed: a box whose Node is too old for the lock file, or has none (install.sh
  # from a checkout). The copy made by scripts/pinned-checkout.sh installs all of it, dev tools
  # included, under the pinned Node: the full `npm ci` the checkout did not have.
  mkdir -p "$WORK"
  echo "build:   the checkout is not installed (no 'npm ci' here): a copy installed with the pinned Node v$PINNED in $WORK/src (minutes the first time; log: $WORK/pinned-checkout.log)"
  "$ROOT/scripts/pinned-checkout.sh" "$WORK" >"$WORK/pinned-checkout.log" 2>&1 \
    || fail "building the checkout with the pinned Node failed (see $WORK/pinned-checkout.log)" "fix what the log names (the npm registry must be reachable the first time), then run this again"
  SRC="$(cd "$WORK/src" && pwd)" NODE_DIR="$(cd "$WORK/node" && pwd)"
  MODULES="$SRC"
else
  mkdir -p "$WORK"
  WORK="$(cd "$WORK" && pwd)"
  LOG="$WORK/release-build.log"
  : >"$LOG"
  { "$ROOT/scripts/node-runtime.sh" "$WORK/node" && "$ROOT/scripts/node-runtime.sh" --npm "$WORK/npm"; } >>"$LOG" 2>&1 \
    || fail "fetching the pinned Node v$PINNED or its npm failed (see $LOG)" "check that this machine reaches the npm registry (npm ping), then run this again"
  NODE_DIR="$WORK/node"
  SRC="$WORK/build"
  echo "build:   dist and the models with Node v$PINNED in $SRC (log: $LOG)"
  "$ROOT/scripts/tree-copy.sh" "$SRC" >>"$LOG" 2>&1 || fail "copying the work tree to $SRC failed (see $LOG)" "fix what the log names, then run this again"
  rm -rf "$SRC/node_modules"
  ln -s "$ROOT/node_modules" "$SRC/node_modules"
  (cd "$SRC" && "$NODE_DIR/bin/node" scripts/build.mjs && "$NODE_DIR/bin/node" dist/models/sync.js) >>"$LOG" 2>&1 \
    || fail "building dist or the models failed (see $LOG)" "fix what the log names (npm run build and npm run models in $ROOT say the same), then run this again"

  key="node-v$PINNED-$(uname -m)-$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -c1-16)"
  MODULES="$WORK/modules/$key"
  if [ -d "$MODULES/node_modules" ]; then
    echo "modules: reused $MODULES (built for Node v$PINNED from this package-lock.json)"
  else
    started="$(date +%s)"
    rm -rf "$WORK/modules"/*.new
    mkdir -p "$MODULES.new"
    cp "$ROOT/package.json" "$ROOT/package-lock.json" "$MODULES.new/"
    if [ -f "$ROOT/.npmrc" ]; then cp "$ROOT/.npmrc" "$MODULES.new/"; fi
    # The pinned node first on PATH: npm and node-gyp run on it. `npm run release` hands npm's
    # settings down as npm_config_* variables: nodedir and node_gyp are node-gyp's (npm 11 warns on
    # the first; with --ignore-scripts npm runs no node-gyp), so npm goes without them.
    (cd "$MODULES.new" && PATH="$NODE_DIR/bin:$PATH" env -u npm_config_nodedir -u npm_config_node_gyp "$NODE_DIR/bin/node" "$WORK/npm/bin/npm-cli.js" ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund) >>"$LOG" 2>&1 \
      || fail "installing the runtime modules for Node v$PINNED failed (see $LOG)" "fix what the log names (npm fetches from the registry only what its cache lacks), then run this again"
    "$NODE_DIR/bin/node" "$ROOT/scripts/release-modules.mjs" --native "$MODULES.new" >"$MODULES.native" 2>>"$LOG" \
      || fail "a runtime module cannot be built for the release (see $LOG)" "do what the log's fix line says, then run this again"
    # node-gyp takes npm_config_* variables over its own arguments (a nodedir=/usr in ~/.npmrc,
    # handed down by `npm run release`, would compile against the system Node's headers, and the
    # module would not load on the pinned Node): it runs without any of them.
    npm_env=$(compgen -e | grep -E '^npm_(config|package_config_node_gyp)_' | sed 's/^/-u /' || true)
    while IFS= read -r pkg; do
      # shellcheck disable=SC2086 # one `-u NAME` per variable; the names have no spaces
      (cd "$pkg" && PATH="$NODE_DIR/bin:$PATH" env $npm_env "$NODE_DIR/bin/node" "$WORK/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild --release --nodedir="$NODE_DIR") >>"$LOG" 2>&1 \
        || fail "compiling $(basename "$pkg") for Node v$PINNED failed (see $LOG)" "install a compiler where missing (apt-get install build-essential python3), then run this again"
    done <"$MODULES.native"
    rm -f "$MODULES.native"
    # npm leaves out, without a word, an optional package it cannot fetch (better-sqlite3 13, when
    # the registry is out of reach and npm's cache lacks it): a set that does not load is not kept.
    (cd "$MODULES.new" && "$NODE_DIR/bin/node" -e "$LOAD_NATIVE") >>"$LOG" 2>&1 \
      || fail "the runtime modules installed for Node v$PINNED do not all load (see $LOG)" "npm leaves out an optional package it cannot fetch: check that this machine reaches the npm registry (npm ping), then run this again"
    # One set kept: an older key is a lock file or a Node no longer built.
    find "$WORK/modules" -mindepth 1 -maxdepth 1 ! -name "$key.new" -exec rm -rf {} +
    mv "$MODULES.new" "$MODULES"
    echo "modules: built for Node v$PINNED in $MODULES ($(($(date +%s) - started)) s; reused by the next release)"
  fi
fi
NODE="$NODE_DIR/bin/node"
[ -f "$SRC/dist/daemon/cli/main.js" ] || fail "$SRC/dist is missing" "build it: cd $SRC && ../node/bin/node scripts/build.mjs"
[ -d "$SRC/models/onnx" ] || fail "$SRC/models/onnx is missing" "bring in the models: cd $SRC && ../node/bin/node dist/models/sync.js"

VERSION="$("$NODE" -p "require('$SRC/package.json').version")"
if [ -z "$BUILD" ]; then
  BUILD="$(git -C "$ROOT" rev-parse --short=10 HEAD 2>/dev/null || echo local)"
  [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || BUILD="$BUILD.dirty"
fi
case "$BUILD" in *[!0-9A-Za-z.]*|"") fail "the build id '$BUILD' has characters other than letters, digits and dots" "give --build ID with those only" ;; esac
CPU="$("$NODE" -p process.arch)"
ID="$VERSION-$BUILD"
NAME="facegate-$ID-linux-$CPU"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
STAGE="$OUT/$NAME"
rm -rf "$STAGE.new"
mkdir -p "$STAGE.new"

# 2. The parts. The Node without its headers (only for compiling) and its debugging symbols.
mkdir -p "$STAGE.new/node/bin"
cp "$NODE" "$STAGE.new/node/bin/node"
cp "$NODE_DIR/LICENSE" "$STAGE.new/node/LICENSE"
if command -v strip >/dev/null; then strip "$STAGE.new/node/bin/node"; fi
cp -a "$SRC/dist" "$STAGE.new/dist"
mkdir -p "$STAGE.new/models"
cp -a "$SRC/models/manifest.json" "$SRC/models/onnx" "$STAGE.new/models/"
"$NODE" "$SRC/scripts/release-modules.mjs" "$MODULES" "$STAGE.new/node_modules" >"$STAGE.new.modules.log" \
  || fail "collecting the runtime dependencies failed (see $STAGE.new.modules.log)" "remove $MODULES/node_modules so that it is installed again, then run this again"
mkdir -p "$STAGE.new/config" "$STAGE.new/systemd"
cp "$SRC/config/facegate.example.yaml" "$SRC/config/facegate.schema.json" "$STAGE.new/config/"
cp "$SRC/systemd/facegate.service" "$STAGE.new/systemd/"
cp -a "$SRC/package.json" "$SRC/README.md" "$SRC/LICENSES" "$STAGE.new/"
install -m 0755 "$SRC/scripts/install.sh" "$STAGE.new/install.sh"
if [ -n "$PUBKEY" ]; then install -m 0644 "$PUBKEY" "$STAGE.new/facegate-release.pub"; fi
chmod 0755 "$STAGE.new/dist/daemon/cli/main.js"
SCHEMA="$(cd "$STAGE.new" && "$NODE" --input-type=module -e "const m = await import('./dist/daemon/store/migrations.js'); console.log(m.MIGRATIONS.length)")"
# Plain KEY=VALUE lines: install.sh reads them with sed, never by sourcing them.
cat >"$STAGE.new/RELEASE" <<EOF
name=facegate
version=$VERSION
build=$BUILD
id=$ID
node=v$PINNED
platform=linux-$CPU
schema=$SCHEMA
EOF

# 3. Proof that it runs on its own: every native module loads and the CLI answers, from the staged
#    folder alone (nothing of the checkout on the module path).
(cd "$STAGE.new" && ./node/bin/node -e "$LOAD_NATIVE") \
  || fail "a native module does not load from the staged release" "see the error above; the modules in $MODULES must be built by the pinned Node: remove its node_modules, then run this again"
[ "$(cd / && "$STAGE.new/node/bin/node" "$STAGE.new/dist/daemon/cli/main.js" --version)" = "facegate $VERSION" ] \
  || fail "the staged release's 'facegate --version' does not answer" "run it by hand: $STAGE.new/node/bin/node $STAGE.new/dist/daemon/cli/main.js --version"
rm -rf "$STAGE"
mv "$STAGE.new" "$STAGE"
mv "$STAGE.new.modules.log" "$OUT/$NAME.modules.log"

sizes() {
  local rest
  rest=$(($(kb "$STAGE") - $(kb "$STAGE/node") - $(kb "$STAGE/node_modules") - $(kb "$STAGE/models") - $(kb "$STAGE/dist")))
  echo "size: node $(mb "$STAGE/node") MB, node_modules $(mb "$STAGE/node_modules") MB, models $(mb "$STAGE/models") MB, dist $(mb "$STAGE/dist") MB, other $(awk -v kb="$rest" 'BEGIN { printf "%.1f", kb / 1024 }') MB; installed $(mb "$STAGE") MB"
}
echo "staged: $STAGE (facegate $ID, Node v$PINNED, linux-$CPU, schema $SCHEMA)"
sizes
grep '^left out:' "$OUT/$NAME.modules.log" | sed 's/^/  /'
if [ "$DIR_ONLY" = 0 ]; then
  pack "$STAGE"
fi
