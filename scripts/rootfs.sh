#!/usr/bin/env bash
# A minimal Debian root file system (debootstrap minbase, with FFmpeg, ca-certificates and minisign as
# Debian packages them: what install.sh needs on a box), made once and kept as a tarball: the
# container image's base (scripts/image.sh) and the stock boxes the release is installed on in the
# tests (test/ops/release-rootfs.test.ts), which have no network to fetch a package.
# Apt's downloads, lists, documentation and translations are left out.
#
#   scripts/rootfs.sh SUITE WORK [MIRROR]   WORK/rootfs-SUITE-PACKAGES.tar (bookworm, trixie ...;
#                                           PACKAGES a hash of the list); nothing is done when it is
#                                           already there
#
# Needs root (debootstrap, chroot) and debootstrap. MIRROR defaults to the box's apt source, else
# deb.debian.org.
set -euo pipefail

SUITE="${1:?usage: scripts/rootfs.sh SUITE WORK [MIRROR]}"
WORK="${2:?usage: scripts/rootfs.sh SUITE WORK [MIRROR]}"
MIRROR="${3:-}"
fail() { printf 'error: %s\nfix:   %s\n' "$1" "$2" >&2; exit 1; }
case "$SUITE" in *[!a-z]*|"") fail "not a Debian suite name: $SUITE" "name one such as bookworm or trixie" ;; esac
PACKAGES="ffmpeg,ca-certificates,minisign"
# The list in the name: a root kept from an older list is not taken for this one.
TAR="$WORK/rootfs-$SUITE-$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-8).tar"
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
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$WORK/debootstrap-$SUITE.log" 2>&1 \
  || fail "debootstrap of $SUITE from $MIRROR failed (see $WORK/debootstrap-$SUITE.log)" "check the mirror is reachable and knows $SUITE, or give another mirror"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/info/*
tar --numeric-owner -C "$rootfs" -cf "$TAR.new" .
mv "$TAR.new" "$TAR"
rm -rf "$rootfs"
echo "$TAR"
