#!/usr/bin/env bash
# This checkout's files as they are in the work tree, copied into a folder: what git tracks and the
# files it would track (untracked, not ignored), so uncommitted changes are in the copy. Used by
# scripts/pinned-checkout.sh and scripts/release.sh, which build in such a copy.
#
#   scripts/tree-copy.sh DEST      DEST holds the copy; what was in DEST before goes, but its
#                                  node_modules (the caller checks or replaces it)
#
# Links are left out: a worktree's node_modules or models/onnx may be a link to another checkout's,
# and what the caller does in the copy (npm ci, npm run models) would write through it.
set -euo pipefail

DEST="${1:?usage: scripts/tree-copy.sh DEST}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# Outside a git checkout (a copy such as DEST itself) nothing would be copied, and npm would then
# find and rebuild the package.json above DEST.
git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
  || { printf 'error: %s is not a git checkout\nfix:   run this from a clone of facegate\n' "$ROOT" >&2; exit 1; }

mkdir -p "$DEST"
# A file since deleted from the checkout must not outlive it in the copy (tsc would still compile it).
find "$DEST" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
  [ -L "$path" ] || [ ! -e "$path" ] || printf '%s\0' "$path"
done | tar --null -T - -c) | tar -x -C "$DEST"
