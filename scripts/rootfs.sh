#!/usr/bin/env bash
# A minimal Debian root file system (debootstrap minbase, with FFmpeg and ca-certificates as Debian
# packages them), made once and kept as a tarball: the container image's base (scripts/image.sh) and
# the stock boxes the release is installed on in the tests (test/ops/release-rootfs.test.ts).
# Apt's downloads, lists, documentation and translations are left out.
#
#   scripts/rootfs.sh SUITE WORK [MIRROR]   WORK/rootfs-SUITE.tar (bookworm, trixie ...); nothing is
#                                           done when it is already there
#
# Needs root (debootstrap, chroot) and debootstrap. MIRROR defaults to the box's apt source, else
# deb.debian.org.
set -euo pipefail

SUITE="${1:?usage: scripts/rootfs.sh SUITE WORK [MIRROR]}"
WORK="${2:?usage: scripts/rootfs.sh SUITE WORK [MIRROR]}"
MIRROR="${3:-}"
fail() { printf 'error: %s\nfix:   %s\n' "$1" "$2" >&2; exit 1; }
case "$SUITE" in *[!a-z]*|"") fail "not a Debian suite name: $SUITE" "name one such as bookworm or trixie" ;; esac
TAR="$WORK/rootfs-$SUITE.tar"
[ -s "$TAR" ] && { echo "$TAR"; exit 0; }
[ "$(id -u)" = 0 ] || fail "making a root file system needs root (debootstrap and chroot)" "run it with sudo"
command -v debootstrap >/dev/null || fail "debootstrap is missing" "apt-get install debootstrap"
if [ -z "$MIRROR" ]; then
  MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*debian\/*\)$/\1/p; s/^deb \(http[^ ]*debian\/*\) .*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | awk 'NR == 1' || true)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi
mkdir -p "$WORK"
rootfs="$WORK/rootfs-$SUITE"
rm -rf "$rootfs"
debootstrap --variant=minbase --include=ffmpeg,ca-certificates "$SUITE" "$rootfs" "$MIRROR" >"$WORK/debootstrap-$SUITE.log" 2>&1 \
  || fail "debootstrap of $SUITE from $MIRROR failed (see $WORK/debootstrap-$SUITE.log)" "check the mirror is reachable and knows $SUITE, or give another mirror"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/info/*
tar --numeric-owner -C "$rootfs" -cf "$TAR.new" .
mv "$TAR.new" "$TAR"
rm -rf "$rootfs"
echo "$TAR"
