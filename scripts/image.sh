#!/usr/bin/env bash
# Builds facegate's OCI image with buildah, pulling nothing from a container registry: the base is a
# minimal Debian root file system made here by debootstrap from Debian's own packages (with FFmpeg),
# and facegate goes in as its release (scripts/release.sh): the pinned Node, built code, runtime
# dependencies only, the models (sha256-checked by `npm ci`). No key, config or state is baked in.
#
#   scripts/image.sh                   build localhost/facegate:VERSION (and :latest); print its size
#   --tag NAME                         another image name
#   --work DIR                         where the Node checkout, the root file system and the build
#                                      context are kept between builds (default .pinned, git-ignored)
#   --mirror URL                       Debian mirror (default: the box's apt source, else deb.debian.org)
#
# Needs root (debootstrap, chroot), buildah and debootstrap (apt-get install buildah debootstrap).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$ROOT/.pinned"
SUITE="bookworm"
MIRROR=""
TAG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="${2:?--tag needs a name}"; shift ;;
    --work) WORK="${2:?--work needs a folder}"; shift ;;
    --mirror) MIRROR="${2:?--mirror needs a URL}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "image.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

fail() { printf 'error: %s\nfix:   %s\n' "$1" "$2" >&2; exit 1; }
now() { date +%s; }
[ "$(id -u)" = 0 ] || fail "image.sh must run as root (debootstrap and chroot need it)" "run it with sudo"
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || fail "$tool is missing" "apt-get install buildah debootstrap"
done
VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | awk 'NR == 1')"
TAG="${TAG:-localhost/facegate:$VERSION}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

# 1. The base: Debian minbase with FFmpeg, as a tarball kept between builds (scripts/rootfs.sh).
#    FFmpeg is what it is in Debian (its libraries bring Mesa and LLVM for the hardware decoders).
t0="$(now)"
BASE_TAR="$("$ROOT/scripts/rootfs.sh" "$SUITE" "$WORK" "$MIRROR")"
BASE="localhost/facegate-base:$SUITE-$(sha256sum "$BASE_TAR" | cut -c1-12)"
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$BASE_TAR" / >/dev/null
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
fi
t1="$(now)"

# 2. facegate for the pinned Node: the release (scripts/release.sh), staged and laid out as
#    /opt/facegate itself: an image is replaced whole, so it needs no releases side by side.
"$ROOT/scripts/release.sh" --work "$WORK" --out "$WORK/release" --dir-only >"$WORK/release.log" 2>&1 \
  || fail "staging the release failed (see $WORK/release.log)" "fix what the log names, then run image.sh again"
STAGE="$(sed -n 's/^staged: \(.*\) (facegate .*/\1/p' "$WORK/release.log")"
CONTEXT="$WORK/image-context"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/root/opt"
# The installer stays out: config, keys and state are mounted, and the image makes its own launcher.
cp -a "$STAGE" "$CONTEXT/root/opt/facegate"
rm -f "$CONTEXT/root/opt/facegate/install.sh"
cp "$ROOT/scripts/image/Containerfile" "$ROOT/scripts/image/healthcheck.mjs" "$CONTEXT/"
t2="$(now)"

# 3. The image. Docker's format: OCI images have no HEALTHCHECK.
old_id="$(buildah inspect --type image --format '{{.FromImageID}}' "$TAG" 2>/dev/null || true)"
buildah bud --isolation chroot --format docker --build-arg "BASE=$BASE" --build-arg "VERSION=$VERSION" \
  -t "$TAG" -t "${TAG%:*}:latest" "$CONTEXT" >"$WORK/build.log" 2>&1 \
  || fail "buildah bud failed (see $WORK/build.log)" "fix what the log names, then run image.sh again"
t3="$(now)"
# The image this tag named before, now untagged, is removed so that rebuilds do not pile up.
new_id="$(buildah inspect --type image --format '{{.FromImageID}}' "$TAG")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then buildah rmi "$old_id" >/dev/null 2>&1 || true; fi
size="$(buildah images --format '{{.Size}}' "$TAG" | awk 'NR == 1')"
echo "image: $TAG, $size (base $((t1 - t0)) s, facegate for Node $("$WORK/node/bin/node" --version) $((t2 - t1)) s, build $((t3 - t2)) s)"
