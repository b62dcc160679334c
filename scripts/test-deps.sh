#!/usr/bin/env bash
# The Debian/Ubuntu packages the tests use, installed where they are missing: what `npm test` runs
# first, and .ci/run too. Everything else comes from `npm ci`.
#
#   scripts/test-deps.sh          install what is missing (as root), or, as another user, print the
#                                 apt-get command that would (exit 1); nothing is done when all is there
#   scripts/test-deps.sh --check  only say what is missing (exit 1 if anything is)
set -euo pipefail

CHECK_ONLY=0
case "${1:-}" in
  --check) CHECK_ONLY=1 ;;
  "") ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) echo "test-deps.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v mosquitto >/dev/null || need+=(mosquitto mosquitto-clients)
# PostgreSQL's server binaries (initdb, pg_ctl): the central store's tests start a server of their
# own on a free port (test/support/postgres.ts); Debian's package also starts a cluster on :5432,
# which the tests do not use (systemctl disable --now postgresql if unwanted). Looked for with a
# bash glob, not ls: PATH may hold nothing but what the caller put there.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v systemd-analyze >/dev/null || need+=(systemd)
# Debian's Chromium, headless: the tests look at the pages the daemon serves in a real browser.
command -v chromium >/dev/null || need+=(chromium)
# GStreamer's RTSP server (the fake camera in the tests) runs under Debian's python3 with gi, not
# whatever python3 comes first on PATH (a virtual environment has no gi).
/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null ||
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-rtsp)
# h264parse (plugins-bad) lets the fake camera serve an MP4 clip without re-encoding it.
gst-inspect-1.0 h264parse >/dev/null 2>&1 || need+=(gstreamer1.0-plugins-bad)
# The image test (test/image) builds the container image with them, from Debian's packages.
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
# minisign signs the releases the install tests make (scripts/release.sh --key) and checks them
# (install.sh), as a box checks the project's releases.
command -v minisign >/dev/null || need+=(minisign)

# promtool checks the alert rules, the dashboard's queries and the daemon's /metrics
# (deploy/prometheus); Debian ships it in the Prometheus server's package, whose service a
# systemd box starts on :9090 after the install (systemctl disable --now prometheus if unwanted).
command -v promtool >/dev/null || need+=(prometheus)

[ ${#need[@]} -eq 0 ] && exit 0

install="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$CHECK_ONLY" = 1 ]; then
  echo "test-deps: missing Debian packages the tests need: ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  printf 'test-deps: the tests need these Debian/Ubuntu packages, missing here: %s\n' "${need[*]}" >&2
  echo 'test-deps: apt-get is not on this system: install their equivalents, then run npm test again' >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  printf 'test-deps: the tests need these Debian/Ubuntu packages, missing here: %s\n' "${need[*]}" >&2
  printf 'test-deps: installing them needs root; run this, then npm test again:\n\n  sudo apt-get update && sudo %s\n\n' "$install" >&2
  exit 1
fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
