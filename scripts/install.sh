#!/usr/bin/env bash
# Installs facegate on a Debian box from a release (scripts/release.sh), or upgrades it in place.
# Nothing is fetched: the release carries the pinned Node and its runtime modules. Releases live
# side by side in /opt/facegate/releases/ID and /opt/facegate/current points at the one that runs;
# config, keys and state live outside them and are kept. Run it again to repair a box: it changes
# only what is missing or different and never overwrites keys or config.
#
#   sudo ./install.sh facegate-ID-linux-CPU.tar.gz
#                                       install that release, or upgrade to it (the daemon, if it
#                                       was running, is restarted on it; one that does not reach
#                                       READY is rolled back to the previous release). Before
#                                       anything is unpacked, the signature of SHA256SUMS beside it
#                                       (SHA256SUMS.minisig, minisign) and the tarball's line in it
#                                       are checked, then every entry (one folder, named as the
#                                       tarball; no absolute path, no `..`, no link out of it, no
#                                       device, hard link or setuid file). An upgrade runs the
#                                       installed release's install.sh: /opt/facegate/current/install.sh
#   --pubkey FILE                       the minisign public key releases are signed with (default:
#                                       facegate-release.pub beside install.sh, as a release carries
#                                       it, or a checkout's release/facegate-release.pub)
#   --sums FILE                         the SHA256SUMS to check (default: beside the tarball); its
#                                       signature is FILE.minisig
#   --allow-unsigned                    install a release no signature covers: a build of your own
#                                       (from a checkout, or a release folder unpacked by hand)
#   sudo ./install.sh --allow-unsigned  from a release folder unpacked by hand
#   sudo scripts/install.sh --allow-unsigned
#                                       from a checkout installed with `npm ci`: build the release
#                                       with the pinned Node (scripts/release.sh, which reuses that
#                                       install; the first time it fetches the pinned Node from the
#                                       npm registry), then install it
#   --dry-run                           print every step and whether it would change anything
#   --start                             also start (or restart) the daemon and wait for READY
#   --start-timeout SECONDS             how long a started release has to reach READY before it is
#                                       rolled back (default 180, the unit's TimeoutStartSec)
#   --keep N                            releases kept on disk, the current and previous ones included
#                                       (default 3)
#   --uninstall                         remove the software (every release, the unit, the launcher);
#                                       config, keys and state stay
#   --purge                             with --uninstall: remove config, keys, state and logs too
#   --prefix DIR --no-system            install under DIR (an absolute path of letters, digits and
#                                       . _ + - /) and skip apt, users and systemctl; a started daemon
#                                       then runs as this user, outside systemd (for tests, chroots
#                                       and image builds)
set -euo pipefail

say() { printf '%s\n' "$*"; }
ok() { say "ok:    $*"; }
# A value from the command line or a file, as the shell would quote it: a newline or a terminal's
# escape sequence in it is shown, not acted on.
shown() { printf '%q' "$1"; }
# fail CODE MESSAGE FIX: the code is listed in docs/errors.md with what to do.
fail() { say "error: $1: $2" >&2; say "fix:   $3" >&2; note "error $1: $2"; exit 1; }
note() { :; }
usage_error() { say "error: FG_ERR_USAGE: $1" >&2; say "fix:   $2 (install.sh --help lists the options)" >&2; exit 2; }

DRY_RUN=0
START=0
SYSTEM=1
PREFIX=""
START_TIMEOUT=180
KEEP=3
UNINSTALL=0
PURGE=0
TARBALL=""
PUBKEY=""
SUMS=""
ALLOW_UNSIGNED=0
ARGS=("$@")
# What a release's own install.sh is handed once its tarball is checked and unpacked: all but the tarball.
PASS=()
value_of() { # OPTION ARGS-LEFT VALUE
  [ "$2" -ge 2 ] || usage_error "$1 needs a value" "give it as $1 VALUE"
  case "$3" in -*|'') usage_error "$1 needs a value, not $(shown "$3")" "give it as $1 VALUE" ;; esac
}
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --start) START=1 ;;
    --no-system) SYSTEM=0 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --allow-unsigned) ALLOW_UNSIGNED=1 ;;
    --prefix) value_of "$1" $# "${2-}"; PREFIX="$2"; PASS+=("$1"); shift ;;
    --start-timeout) value_of "$1" $# "${2-}"; START_TIMEOUT="$2"; PASS+=("$1"); shift ;;
    --keep) value_of "$1" $# "${2-}"; KEEP="$2"; PASS+=("$1"); shift ;;
    --pubkey) value_of "$1" $# "${2-}"; PUBKEY="$2"; PASS+=("$1"); shift ;;
    --sums) value_of "$1" $# "${2-}"; SUMS="$2"; PASS+=("$1"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) usage_error "unknown option $(shown "$1")" "give only the options --help lists" ;;
    *)
      [ -n "$1" ] || usage_error "an empty argument" "give the release tarball's path, or leave the argument out"
      [ -z "$TARBALL" ] || usage_error "one release tarball at a time, not $(shown "$TARBALL") and $(shown "$1")" "give one facegate-….tar.gz"
      TARBALL="$1"; shift; continue ;;
  esac
  PASS+=("$1")
  shift
done
case "$START_TIMEOUT" in *[!0-9]*) fail FG_ERR_USAGE "--start-timeout needs whole seconds, not $(shown "$START_TIMEOUT")" "give a number such as 180" ;; esac
case "$KEEP" in *[!0-9]*|0*|1) fail FG_ERR_USAGE "--keep needs a number of releases of at least 2, not $(shown "$KEEP")" "give 2 or more: the current release and the one to roll back to" ;; esac
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || fail FG_ERR_USAGE "--purge goes with --uninstall" "run install.sh --uninstall --purge"
[ -z "$TARBALL" ] || [ "$UNINSTALL" = 0 ] || fail FG_ERR_USAGE "--uninstall takes no release tarball" "run /opt/facegate/current/install.sh --uninstall"
# The prefix is written into the config, the unit and the launcher: only characters that mean
# the same there, in sed and in YAML, and no way out of it.
if [ -n "$PREFIX" ]; then
  case "$PREFIX" in
    /*) ;;
    *) fail FG_ERR_USAGE "--prefix needs an absolute path, not $(shown "$PREFIX")" "give a folder such as /srv/facegate-root" ;;
  esac
  case "$PREFIX" in
    *[!A-Za-z0-9._+/-]*|*/../*|*/..|*/./*|*/.) fail FG_ERR_USAGE "--prefix $(shown "$PREFIX") has characters other than letters, digits and . _ + - /, or a . or .. part" "give a plain absolute folder such as /srv/facegate-root" ;;
  esac
  mkdir -p -- "$PREFIX"; PREFIX="$(cd -- "$PREFIX" && pwd)"
fi

HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$PREFIX/opt/facegate"
RELEASES="$APP/releases"
CURRENT="$APP/current"
ETC="$PREFIX/etc/facegate"
STATE="$PREFIX/var/lib/facegate"
RUN="$PREFIX/run/facegate"
LOGS="$PREFIX/var/log/facegate"
UNIT_DIR="$PREFIX/etc/systemd/system"
BIN="$PREFIX/usr/local/bin"
CHANGED=0

# step DESCRIPTION -- COMMAND...: runs COMMAND (or prints it under --dry-run) and says so.
step() {
  local what="$1"; shift; [ "$1" = "--" ] && shift
  CHANGED=$((CHANGED + 1))
  if [ "$DRY_RUN" = 1 ]; then say "would: $what  [$*]"; else say "doing: $what"; note "$what"; "$@"; fi
}

if [ "$SYSTEM" = 1 ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  fail FG_ERR_INSTALL_ROOT "install.sh must run as root to create users and install the unit" "run it with sudo, or use --dry-run to see the steps"
fi

# --- A release tarball: its signature, its sum and its entries, checked before it is unpacked ---
# The tarball and SHA256SUMS are copied into a folder of this user's first, so that what is checked
# is what is unpacked. The release's own install.sh then installs it from the unpacked folder.
public_key() { # the minisign public key file: --pubkey, else the one beside this script
  local candidate
  if [ -n "$PUBKEY" ]; then printf '%s\n' "$PUBKEY"; return; fi
  for candidate in "$HERE/facegate-release.pub" "$HERE/../release/facegate-release.pub"; do
    if [ -f "$candidate" ]; then printf '%s\n' "$candidate"; return; fi
  done
}
# check_entries LISTING VERBOSE-LISTING TOP: the tarball's entries (tar's listings, names escaped,
# one a line, in the same order): every one inside TOP/, of a kind a release holds, and every link
# pointing inside TOP/. Prints the first entry refused, and why.
check_entries() {
  paste -d '\n' "$1" "$2" | awk -v top="$3" '
    function bad(why, name) { printf "%s: %s\n", why, name; found = 1; exit 1 }
    # inside(PATH): PATH, taken from the archive root, stays under top/ once . and .. are resolved
    function inside(path,    n, parts, depth, stack, i) {
      n = split(path, parts, "/"); depth = 0
      for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (depth <= 1) return 0; depth--; continue }
        stack[++depth] = parts[i]
      }
      return depth >= 1 && stack[1] == top
    }
    NR % 2 == 1 { name = $0; next }
    {
      line = $0; kind = substr(line, 1, 1); split(line, words, " ")
      if (name ~ /\\/) bad("a name with a control character or a backslash", name)
      if (substr(name, 1, 1) == "/") bad("an absolute path", name)
      if (name != top && name != top "/" && index(name, top "/") != 1) bad("outside the folder " top "/", name)
      if (("/" name "/") ~ /\/\.\.\//) bad("a .. in the path", name)
      if (kind != "-" && kind != "d" && kind != "l") bad("neither a file, a folder nor a symbolic link (a device, a FIFO or a hard link)", name)
      if (words[1] ~ /[sStT]/) bad("a setuid, setgid or sticky mode (" words[1] ")", name)
      # A release unpacks to a few hundred MB: a bomb would fill the disk first.
      if ((total += words[3]) > 4 * 1024 * 1024 * 1024) bad("more than 4 GiB unpacked, at", name)
      if (kind == "l") {
        at = index(line, " " name " -> ")
        if (at == 0) bad("a symbolic link whose target cannot be read", name)
        target = substr(line, at + length(name) + 5)
        if (target ~ /\\/ || index(target, " -> ")) bad("a symbolic link whose target cannot be read", name)
        if (substr(target, 1, 1) == "/") bad("a symbolic link to an absolute path", name)
        dir = name; sub(/\/[^\/]*$/, "", dir)
        if (!inside(dir "/" target)) bad("a symbolic link out of the release", name)
      }
    }
    END { if (!found && NR == 0) { print "no entries: empty"; exit 1 } }'
}
install_tarball() {
  local base name expected actual work copy listing verbose why stage id platform pub rc=0 source
  base="$(basename -- "$TARBALL")"
  name="${base%.tar.gz}"
  [ -f "$TARBALL" ] || fail FG_ERR_RELEASE_TARBALL "$(shown "$TARBALL") is not a file" "give the path of a release tarball, facegate-VERSION-BUILD-linux-CPU.tar.gz"
  [ "$(stat -L -c %s -- "$TARBALL")" -le $((1024 * 1024 * 1024)) ] \
    || fail FG_ERR_RELEASE_TARBALL "$(shown "$TARBALL") is larger than 1 GiB, which no release is" "give the release tarball itself"
  case "$name" in
    "$base"|*[!0-9A-Za-z.+-]*|facegate-.*) fail FG_ERR_RELEASE_TARBALL "$(shown "$base") is not named as a release tarball" "give a facegate-VERSION-BUILD-linux-CPU.tar.gz as scripts/release.sh names it (the name is checked against SHA256SUMS)" ;;
    facegate-*-linux-x64|facegate-*-linux-arm64) ;;
    *) fail FG_ERR_RELEASE_TARBALL "$(shown "$base") is not named as a release tarball" "give a facegate-VERSION-BUILD-linux-CPU.tar.gz as scripts/release.sh names it (the name is checked against SHA256SUMS)" ;;
  esac
  [ -n "$SUMS" ] || SUMS="$(dirname -- "$TARBALL")/SHA256SUMS"
  work="$(mktemp -d "${TMPDIR:-/tmp}/facegate-install.XXXXXXXX")"
  # shellcheck disable=SC2064 # the folder is known now, and must go however this ends
  trap "rm -rf -- '$work'" EXIT
  copy="$work/$base"
  cp -- "$TARBALL" "$copy"
  if [ -f "$SUMS" ]; then cp -- "$SUMS" "$work/SHA256SUMS"; fi
  if [ -f "$SUMS.minisig" ]; then cp -- "$SUMS.minisig" "$work/SHA256SUMS.minisig"; fi

  if [ "$ALLOW_UNSIGNED" = 1 ]; then
    say "warn:  --allow-unsigned: the signature of $(shown "$base") is not checked; nothing proves who built it"
    source="unsigned (--allow-unsigned)"
  else
    command -v minisign >/dev/null \
      || fail FG_ERR_RELEASE_VERIFY_TOOL "minisign is not installed: the release's signature cannot be checked" "apt-get install minisign, then run this again (a build of your own: --allow-unsigned)"
    pub="$(public_key)"
    [ -n "$pub" ] && [ -f "$pub" ] \
      || fail FG_ERR_RELEASE_PUBKEY "no public key to check the release's signature with${PUBKEY:+ ($(shown "$PUBKEY") is not a file)}" "give --pubkey FILE: facegate-release.pub from a copy you trust (the repository, or an installed release's /opt/facegate/current/facegate-release.pub)"
    [ -f "$work/SHA256SUMS" ] && [ -f "$work/SHA256SUMS.minisig" ] \
      || fail FG_ERR_RELEASE_UNSIGNED "$(shown "$SUMS") and its signature $(shown "$SUMS.minisig") are not both there" "download SHA256SUMS and SHA256SUMS.minisig beside the tarball (or name them with --sums); a build of your own: --allow-unsigned"
    minisign -V -q -p "$pub" -m "$work/SHA256SUMS" -x "$work/SHA256SUMS.minisig" >/dev/null 2>&1 \
      || fail FG_ERR_RELEASE_SIGNATURE "the signature of $(shown "$SUMS") does not verify with the key $(shown "$pub")" "download SHA256SUMS, SHA256SUMS.minisig and the tarball again from the release's own page; if it stays, do not install it: someone changed it"
    source="signed: SHA256SUMS verified with $(sed -n 2p "$pub" | head -c 60)"
  fi
  if [ -f "$work/SHA256SUMS" ]; then
    expected="$(awk -v f="$base" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")"
    case "$expected" in
      ''|*[!0-9a-f]*) fail FG_ERR_RELEASE_CHECKSUM "$(shown "$SUMS") has no single line for $(shown "$base")" "download the SHA256SUMS of this release; a renamed tarball is not the release its name says" ;;
    esac
    [ "${#expected}" = 64 ] || fail FG_ERR_RELEASE_CHECKSUM "$(shown "$SUMS") has no single line for $(shown "$base")" "download the SHA256SUMS of this release; a renamed tarball is not the release its name says"
    actual="$(sha256sum <"$copy" | cut -d' ' -f1)"
    [ "$actual" = "$expected" ] \
      || fail FG_ERR_RELEASE_CHECKSUM "$(shown "$base") is not the file SHA256SUMS names (sha256 $actual)" "download it again: it is cut short or changed"
    source="$source; sha256 $actual"
  elif [ "$ALLOW_UNSIGNED" = 1 ]; then
    say "warn:  no $(shown "$SUMS"): the tarball's sum is not checked either"
  fi

  listing="$work/entries" verbose="$work/entries.verbose"
  tar --quoting-style=escape -tzf "$copy" >"$listing" 2>/dev/null \
    && tar --quoting-style=escape --numeric-owner -tvzf "$copy" >"$verbose" 2>/dev/null \
    || fail FG_ERR_RELEASE_TARBALL "$(shown "$base") is not a whole gzip tar archive" "download it again: it is cut short or damaged"
  why="$(check_entries "$listing" "$verbose" "$name")" \
    || fail FG_ERR_RELEASE_TARBALL "$(shown "$base") holds an entry a release never has: $(shown "$why")" "do not install it: a release made by scripts/release.sh has one folder, $name/, of files, folders and links inside it"
  mkdir "$work/unpacked"
  tar --no-same-owner -xzf "$copy" -C "$work/unpacked" 2>/dev/null \
    || fail FG_ERR_RELEASE_TARBALL "$(shown "$base") could not be unpacked" "check the free space in ${TMPDIR:-/tmp}, and download it again"
  stage="$work/unpacked/$name"
  id="$(sed -n 's/^id=//p' "$stage/RELEASE" 2>/dev/null | awk 'NR == 1')"
  platform="$(sed -n 's/^platform=//p' "$stage/RELEASE" 2>/dev/null | awk 'NR == 1')"
  [ -f "$stage/install.sh" ] && [ "facegate-$id-$platform" = "$name" ] \
    || fail FG_ERR_RELEASE_INVALID "$(shown "$base") holds release $(shown "$id") for $(shown "$platform"), not the one its name says" "do not install it: a release's name and its RELEASE file agree"
  FACEGATE_RELEASE_VERIFIED="$(cd "$stage" && pwd -P)" FACEGATE_RELEASE_SOURCE="$base, $source" \
    bash "$stage/install.sh" ${PASS[@]+"${PASS[@]}"} || rc=$?
  exit "$rc"
}
if [ -n "$TARBALL" ]; then install_tarball; fi

# From a checkout: build the release with the pinned Node, then hand over to its own install.sh.
# The box's Node (20, 22, 24 or none) plays no part: the release carries the one it runs on.
if [ ! -f "$HERE/RELEASE" ] && [ "$UNINSTALL" = 0 ]; then
  [ -f "$HERE/release.sh" ] && [ -f "$HERE/../package.json" ] \
    || fail FG_ERR_RELEASE_INVALID "$HERE holds neither a release (no RELEASE file) nor a checkout's scripts/" "give the release tarball: install.sh facegate-….tar.gz, or run scripts/install.sh from a checkout"
  # A build of this checkout carries no signature: the operator says it is theirs.
  [ "$ALLOW_UNSIGNED" = 1 ] \
    || fail FG_ERR_RELEASE_UNSIGNED "a release built from this checkout is not signed" "add --allow-unsigned to install a build of your own, or give a signed release tarball: scripts/install.sh facegate-….tar.gz"
  if [ "$DRY_RUN" = 1 ]; then
    say "would: build the release with the pinned Node (scripts/release.sh --dir-only), then run its install.sh ${ARGS[*]}"
    say "dry run: the release's own steps are listed by its install.sh --dry-run once it is built; nothing was changed"
    exit 0
  fi
  say "doing: build the release with the pinned Node (scripts/release.sh --dir-only)"
  built="$(mktemp)"
  trap 'rm -f "$built"' EXIT
  bash "$HERE/release.sh" --dir-only | tee "$built" || fail FG_ERR_RELEASE_BUILD "building the release failed (see above)" "fix what it names and run install.sh again; nothing was installed"
  stage="$(sed -n 's/^staged: \(.*\) (facegate .*/\1/p' "$built")"
  [ -f "$stage/RELEASE" ] || fail FG_ERR_RELEASE_BUILD "scripts/release.sh named no staged release" "run scripts/release.sh --dir-only by hand and look at its output"
  exec bash "$stage/install.sh" "${ARGS[@]}"
fi

# The install log: what each run changed, upgrades and rollbacks included (journald has it too
# on a box with systemd, through `logger`).
note() {
  [ "$DRY_RUN" = 0 ] || return 0
  { [ -d "$LOGS" ] || install -d -m 0750 "$LOGS"; } 2>/dev/null && printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOGS/install.log" 2>/dev/null || true
  if [ "$SYSTEM" = 1 ] && command -v logger >/dev/null; then logger -t facegate-install -- "$*" 2>/dev/null || true; fi
}

sd_booted() { [ "$SYSTEM" = 1 ] && [ -d /run/systemd/system ]; }
# A value of a release's RELEASE file (KEY=VALUE lines, read, never sourced).
release_value() { sed -n "s/^$2=//p" "$1/RELEASE" 2>/dev/null | awk 'NR == 1'; }

# --- the daemon: under systemd when it runs the box, else started here (chroots, tests) ----------
PIDFILE="$RUN/daemon.pid"
direct_pid() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'main.js daemon' && echo "$pid"
}
daemon_running() {
  if sd_booted; then systemctl is-active --quiet facegate.service; else direct_pid >/dev/null; fi
}
stop_daemon() {
  if sd_booted; then systemctl stop facegate.service; return; fi
  local pid
  pid="$(direct_pid)" || { rm -f "$PIDFILE"; return 0; }
  kill -TERM "$pid"
  # The unit's TimeoutStopSec: tracks end and the outbox drains first.
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}
# start_daemon: starts the release `current` names and waits for READY; non-zero when it does not
# come (it exited, or the timeout passed: then it is stopped).
start_daemon() {
  if sd_booted; then
    # Type=notify: systemctl returns once READY=1 came, or fails when the daemon exits before it.
    timeout "$((START_TIMEOUT + 10))" systemctl restart facegate.service && systemctl is-active --quiet facegate.service
    return
  fi
  stop_daemon
  mkdir -p "$RUN" "$LOGS"
  local offset pid
  offset="$(stat -c %s "$LOGS/daemon.log" 2>/dev/null || echo 0)"
  # exec: the pid recorded is the daemon's own (setsid execs in place in a background job), and no
  # shell is left holding install.sh's output open.
  (
    cd "$STATE" || exit 1
    NODE_ENV=production exec setsid "$CURRENT/node/bin/node" "$CURRENT/dist/daemon/cli/main.js" daemon --config "$ETC/config.yaml" \
      >>"$LOGS/daemon.log" 2>&1 </dev/null
  ) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  # The daemon logs 'facegate ready' right after it sends READY=1.
  for _ in $(seq 1 "$((START_TIMEOUT * 5))"); do
    # grep -c reads to the end: grep -q would end tail with SIGPIPE, a failure under pipefail.
    if [ "$(tail -c "+$((offset + 1))" "$LOGS/daemon.log" | grep -c '"msg":"facegate ready"')" != 0 ]; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 1; }
    sleep 0.2
  done
  stop_daemon
  return 1
}

# --- uninstall ----------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  if daemon_running; then step "stop facegate" -- stop_daemon; fi
  if [ "$SYSTEM" = 1 ] && command -v systemctl >/dev/null && systemctl is-enabled --quiet facegate.service 2>/dev/null; then step "disable facegate.service" -- systemctl disable facegate.service; fi
  if [ -e "$UNIT_DIR/facegate.service" ]; then step "remove the unit $UNIT_DIR/facegate.service" -- rm -f "$UNIT_DIR/facegate.service"; fi
  if sd_booted; then step "reload systemd" -- systemctl daemon-reload; fi
  if [ -e "$BIN/facegate" ]; then step "remove the launcher $BIN/facegate" -- rm -f "$BIN/facegate"; fi
  if [ -e "$APP" ]; then step "remove $APP (every release)" -- rm -rf "$APP"; fi
  if [ "$PURGE" = 1 ]; then
    for dir in "$ETC" "$STATE" "$LOGS" "$RUN"; do if [ -e "$dir" ]; then step "remove $dir (--purge)" -- rm -rf "$dir"; fi; done
    say "kept:  the users and groups facegate, facegate-operator, facegate-admin (userdel/groupdel removes them)"
  else
    say "kept:  $ETC (config, keys) and $STATE (gallery, attendance, outbox, audit); --uninstall --purge removes them"
  fi
  if [ "$DRY_RUN" = 1 ]; then say "dry run: $CHANGED step(s) would change this box; nothing was changed"; else say "done: facegate uninstalled ($CHANGED step(s))"; fi
  exit 0
fi

# --- 0. The release: what it is, and that it runs on this box, before anything changes ---------
REL="$HERE"
ID="$(release_value "$REL" id)"
case "$ID" in ''|*[!0-9A-Za-z.+-]*|.*) fail FG_ERR_RELEASE_INVALID "$REL/RELEASE names no valid release id ($(shown "$ID"))" "use a release made by scripts/release.sh, unpacked as it is" ;; esac
REL_REAL="$(cd "$REL" && pwd -P)"
INSTALLED="$(cd "$RELEASES/$ID" 2>/dev/null && pwd -P || true)"
# Where it came from: its tarball, checked above by install.sh itself (signature, sum, entries);
# the copy in /opt/facegate/releases that was checked when it was installed; or a folder nothing
# vouches for, installed only when the operator says so.
if [ "${FACEGATE_RELEASE_VERIFIED:-}" = "$REL_REAL" ]; then
  ok "release $ID from ${FACEGATE_RELEASE_SOURCE:-its tarball}"
elif [ "$REL_REAL" = "$INSTALLED" ]; then
  ok "release $ID is the one installed in $RELEASES/$ID"
elif [ "$ALLOW_UNSIGNED" = 1 ]; then
  say "warn:  --allow-unsigned: release $ID is installed from the folder $REL, which no signature covers"
else
  fail FG_ERR_RELEASE_UNSIGNED "$REL is a release folder that no signature covers: install.sh installs a release from its tarball" \
    "run install.sh facegate-$ID-….tar.gz with SHA256SUMS and SHA256SUMS.minisig beside it (it checks them before it unpacks anything); a build of your own: add --allow-unsigned"
fi
# A release id names one build: another build under an id already installed is refused, never
# swapped in under the name the box, its audit log and its rollbacks know it by.
if [ -n "$INSTALLED" ] && [ "$REL_REAL" != "$INSTALLED" ] && ! diff -rq --no-dereference "$REL" "$INSTALLED" >/dev/null 2>&1; then
  fail FG_ERR_RELEASE_ID_TAKEN "release $ID is installed in $RELEASES/$ID with other contents than these" \
    "a new build needs an id of its own (scripts/release.sh --build ID); if the installed copy is the damaged one, install another release, remove $RELEASES/$ID, then install this one again"
fi
case "$(uname -m)" in x86_64) cpu=x64 ;; aarch64|arm64) cpu=arm64 ;; *) cpu="$(uname -m)" ;; esac
[ "$(release_value "$REL" platform)" = "linux-$cpu" ] \
  || fail FG_ERR_RELEASE_PLATFORM "release $ID is built for $(release_value "$REL" platform), this box is linux-$cpu" "download the release for linux-$cpu, or build one on such a box (npm run release)"
node_answer="$("$REL/node/bin/node" --version 2>&1 | head -c 300 || true)"
[ "$node_answer" = "$(release_value "$REL" node)" ] \
  || fail FG_ERR_RELEASE_NODE "the Node in release $ID does not run on this box (it answered: ${node_answer:-nothing})" "check the C library (glibc 2.28 or newer; Debian 12 and 13 have it) and that the tarball was unpacked whole (verify SHA256SUMS)"
(cd "$REL" && ./node/bin/node -e "for (const m of ['better-sqlite3', 'unix-dgram', 'onnxruntime-node', 'sharp']) require(m)" >/dev/null 2>&1) \
  || fail FG_ERR_RELEASE_NODE "the native modules of release $ID do not load on its Node" "the release is damaged: download it again and verify SHA256SUMS"
ok "release $ID (facegate $(release_value "$REL" version), Node $(release_value "$REL" node), linux-$cpu) runs on this box"

# --- 1. System packages --------------------------------------------------------------------------
if [ "$SYSTEM" = 1 ]; then
  missing=()
  # minisign: the next release's signature is checked with it.
  for pkg in ffmpeg ca-certificates minisign; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "install ${missing[*]}" -- env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    ok "ffmpeg, ca-certificates and minisign installed"
  fi
fi

# --- 2. Groups and the service user: facegate (viewer role), facegate-operator, facegate-admin --
if [ "$SYSTEM" = 1 ]; then
  for group in facegate facegate-operator facegate-admin; do
    if getent group "$group" >/dev/null; then ok "group $group exists"; else step "create group $group" -- groupadd --system "$group"; fi
  done
  if id facegate >/dev/null 2>&1; then
    ok "user facegate exists"
  else
    step "create system user facegate" -- useradd --system --gid facegate --groups facegate-operator,facegate-admin \
      --home-dir /var/lib/facegate --no-create-home --shell /usr/sbin/nologin --comment "facegate daemon" facegate
  fi
fi

# --- 3. The release in /opt/facegate/releases/ID: staged beside, then renamed into place ---------
# An /opt/facegate laid out by an older install.sh (the files themselves, no `current`) becomes a
# release of its own, so that it can be rolled back to.
adopt_flat_install() {
  local legacy="$RELEASES/legacy-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$APP/package.json" | awk 'NR == 1')"
  mkdir -p "$legacy"
  for item in "$APP"/* "$APP"/.npmrc; do
    if [ -e "$item" ] && [ "$item" != "$RELEASES" ]; then mv "$item" "$legacy/"; fi
  done
  ln -sfn "releases/$(basename "$legacy")" "$APP/current.new" && mv -T "$APP/current.new" "$CURRENT"
}
if [ -d "$APP/dist" ] && [ ! -L "$CURRENT" ]; then step "keep the install of an older install.sh as a release in $RELEASES" -- adopt_flat_install; fi
stage_release() {
  mkdir -p "$RELEASES"
  rm -rf "$RELEASES/.$ID.new" "$RELEASES/.$ID.old"
  cp -a "$REL" "$RELEASES/.$ID.new"
  chmod 0755 "$RELEASES/.$ID.new"
  if [ -e "$RELEASES/$ID" ]; then mv "$RELEASES/$ID" "$RELEASES/.$ID.old"; fi
  mv "$RELEASES/.$ID.new" "$RELEASES/$ID"
  rm -rf "$RELEASES/.$ID.old"
}
if [ "$REL_REAL" = "$INSTALLED" ]; then
  ok "running from $RELEASES/$ID itself"
elif [ -n "$INSTALLED" ]; then
  ok "release $ID is in $RELEASES/$ID"
else
  step "put release $ID in $RELEASES/$ID" -- stage_release
fi
NEW="$RELEASES/$ID"
# In a dry run the release is not copied yet: its own folder stands in for it.
[ -d "$NEW" ] || NEW="$REL"
cli() { # RELEASE-FOLDER ARGS...: that release's CLI on its own Node
  local dir="$1"; shift
  "$dir/node/bin/node" "$dir/dist/daemon/cli/main.js" "$@"
}

# --- 4. Folders: config (root-owned, group-readable), state (the daemon's), logs ----------------
ensure_dir() { # PATH MODE OWNER:GROUP
  local path="$1" mode="$2" owner="$3" own=()
  [ "$SYSTEM" = 1 ] && own=(-o "${owner%%:*}" -g "${owner##*:}")
  if [ ! -d "$path" ]; then
    step "create $path ($mode $owner)" -- install -d -m "$mode" "${own[@]}" "$path"
  elif [ "$(stat -c %a "$path")" != "${mode#0}" ]; then
    step "set mode $mode on $path" -- chmod "$mode" "$path"
  else
    ok "$path exists"
  fi
}
ensure_dir "$ETC" 0750 root:facegate
ensure_dir "$STATE" 0750 facegate:facegate
ensure_dir "$LOGS" 0750 root:root

# --- 5. Config: the example for a 2-camera site, only when there is none (never overwritten) ----
# Under --prefix its paths (state file, keys, control sockets) point into the prefix.
prefixed() { # FILE: the file with /opt/facegate, /etc/facegate, /var/lib/facegate, /run/facegate under the prefix
  if [ -z "$PREFIX" ]; then cat "$1"; return; fi
  sed -e "s#/opt/facegate/#$APP/#g" -e "s#/etc/facegate/#$ETC/#g" -e "s#/etc/facegate\$#$ETC#g" \
    -e "s#/var/lib/facegate/#$STATE/#g" -e "s#/var/lib/facegate\$#$STATE#g" -e "s#/run/facegate/#$RUN/#g" -e "s#/run/facegate\$#$RUN#g" "$1"
}
install_config() {
  local own=()
  [ "$SYSTEM" = 1 ] && own=(-o root -g facegate)
  prefixed "$NEW/config/facegate.example.yaml" >"$ETC/config.yaml.new"
  install -m 0640 "${own[@]}" "$ETC/config.yaml.new" "$ETC/config.yaml"
  rm -f "$ETC/config.yaml.new"
}
if [ -f "$ETC/config.yaml" ]; then
  ok "$ETC/config.yaml kept as it is"
else
  step "install the example config as $ETC/config.yaml (edit the cameras and broker)" -- install_config
fi
if cmp -s "$NEW/config/facegate.schema.json" "$ETC/facegate.schema.json" 2>/dev/null; then
  ok "$ETC/facegate.schema.json is current"
else
  step "install the config schema for editors" -- install -m 0644 "$NEW/config/facegate.schema.json" "$ETC/facegate.schema.json"
fi

# --- 6. Keys: made only when absent; root-only (0600); the unit hands them over with LoadCredential=
make_keys() {
  (cd "$ETC" && cli "$NEW" keys init --key-file "$ETC/gallery.key" --device-key-file "$ETC/device.key" --config "$ETC/config.yaml")
}
if [ -f "$ETC/gallery.key" ] && [ -f "$ETC/device.key" ]; then
  ok "keys exist in $ETC (never overwritten)"
else
  step "make the gallery key and the device signing key in $ETC (mode 0600)" -- make_keys
fi

# --- 7. The systemd unit, and `facegate` on PATH: both go through `current` ----------------------
unit_text="$(prefixed "$NEW/systemd/facegate.service")"
write_unit() { mkdir -p "$UNIT_DIR"; printf '%s\n' "$unit_text" >"$UNIT_DIR/facegate.service"; chmod 0644 "$UNIT_DIR/facegate.service"; }
if [ "$(cat "$UNIT_DIR/facegate.service" 2>/dev/null)" = "$unit_text" ]; then
  ok "unit $UNIT_DIR/facegate.service is current"
else
  step "install the unit $UNIT_DIR/facegate.service" -- write_unit
  # sd_booted(): without a running systemd (a chroot, an image build) there is nothing to reload.
  if sd_booted; then step "reload systemd" -- systemctl daemon-reload; fi
fi
if [ "$SYSTEM" = 1 ] && ! command -v systemctl >/dev/null; then
  # A minimal root (a container, debootstrap's minbase) has no systemd: the unit waits for it.
  say "note:  systemd is not installed: the unit is in place; after 'apt-get install systemd', run 'systemctl enable facegate'"
elif [ "$SYSTEM" = 1 ]; then
  if systemctl is-enabled --quiet facegate 2>/dev/null; then ok "facegate.service enabled"; else step "enable facegate.service at boot" -- systemctl enable facegate.service; fi
fi
# Under --prefix the CLI reads the prefix's config unless told otherwise.
launcher="#!/bin/sh"
[ -z "$PREFIX" ] || launcher+=$'\n'"[ -n \"\${FACEGATE_CONFIG:-}\" ] || export FACEGATE_CONFIG=$ETC/config.yaml"
launcher+=$'\n'"exec $CURRENT/node/bin/node $CURRENT/dist/daemon/cli/main.js \"\$@\""
write_launcher() { mkdir -p "$BIN"; rm -f "$BIN/facegate"; printf '%s\n' "$launcher" >"$BIN/facegate"; chmod 0755 "$BIN/facegate"; }
if [ "$(cat "$BIN/facegate" 2>/dev/null)" = "$launcher" ]; then
  ok "$BIN/facegate runs the current release on its Node"
else
  step "write $BIN/facegate (runs $CURRENT/dist/daemon/cli/main.js on its Node)" -- write_launcher
fi

# --- 8. Switch `current` to the release, restart the daemon on it, roll back if it is not READY --
switch_to() { # ID: one rename, so that `current` always names a whole release
  ln -sfn "releases/$1" "$APP/current.new"
  mv -T "$APP/current.new" "$CURRENT"
}
db_path() { # the state file the config names, as the release reads it
  (cd "$STATE" && "$NEW/node/bin/node" --input-type=module -e "
    const { loadConfigFile } = await import('$NEW/dist/daemon/config/load.js');
    console.log(loadConfigFile('$ETC/config.yaml').gallery.path);" 2>/dev/null)
}
# The daemon's folder ($STATE) is its user's to write: a compromised daemon can plant a symbolic
# link at any name there, to have root's mkdir, cp or SQLite (which opens the -wal and -shm beside
# a file it reads) write or chmod wherever the link points. So what install.sh reads, makes or
# copies there runs as the daemon's user (facegate under systemd; without systemd the daemon runs as
# the calling user, and so does this), and a link at a path it is about to use is refused before
# anything changes.
as_daemon_user() {
  if sd_booted; then runuser -u facegate -- "$@"; else "$@"; fi
}
refuse_state_links() { # PATH...
  local path
  for path in "$@"; do
    if [ -L "$path" ]; then
      fail FG_ERR_STATE_SYMLINK "$path is a symbolic link; install.sh never follows one in the daemon's folder, where its user can plant them" \
        "nothing more was changed; someone with the daemon's rights made it: check that what it points to is intact, remove it, find out how it got there, then run install.sh again"
    fi
  done
}
backups_dir() { # the folder of the copies, the daemon's user's like the folder it is in
  # An older install.sh made it as root: given to the daemon's user (-h: the link itself, should
  # one have been put there since the check), so that the copies below can be made as that user.
  if sd_booted && [ -d "$STATE/backups" ] && [ "$(stat -c %U "$STATE/backups")" != facegate ]; then chown -h facegate:facegate "$STATE/backups"; fi
  as_daemon_user mkdir -p -m 0750 "$STATE/backups"
}
db_version() { # RELEASE-FOLDER FILE: PRAGMA user_version, read by that release's SQLite
  (cd "$1" && as_daemon_user ./node/bin/node -e "const D = require('better-sqlite3'); const db = new D(process.argv[1], { readonly: true, fileMustExist: true });
    console.log(db.pragma('user_version', { simple: true })); db.close();" "$2" 2>/dev/null) || echo unknown
}
copy_db() { # FROM TO: the state file and its WAL, as one (the daemon is stopped)
  refuse_state_links "$1" "$1-wal" "$1-shm" "$2" "$2-wal" "$2-shm"
  as_daemon_user rm -f "$2" "$2-wal" "$2-shm"
  as_daemon_user cp -a "$1" "$2"
  if [ -e "$1-wal" ]; then as_daemon_user cp -a "$1-wal" "$2-wal"; fi
}
# audit RELEASE-FOLDER ARGS...: an entry in the daemon's audit log, written by that release's CLI
# as the daemon's user (the state file and its WAL stay the daemon's).
audit() {
  local dir="$1"; shift
  [ -n "$DB" ] && [ -e "$DB" ] || return 0
  (cd "$STATE" && as_daemon_user "$dir/node/bin/node" "$dir/dist/daemon/cli/main.js" audit release --gallery "$DB" "$@" >/dev/null) \
    || say "warn:  the audit entry could not be written with $dir's CLI; the install log has it ($LOGS/install.log)"
}
prune_releases() {
  local keep=("$ID" "$1") count=0 dir name
  for dir in $(ls -1dt "$RELEASES"/*/ 2>/dev/null); do
    name="$(basename "$dir")"
    if [[ " ${keep[*]} " == *" $name "* ]]; then continue; fi
    count=$((count + 1))
    if [ "$count" -gt "$((KEEP - 2))" ]; then step "remove the old release $name (--keep $KEEP)" -- rm -rf "$RELEASES/$name"; fi
  done
}

PREV="$(basename "$(readlink "$CURRENT" 2>/dev/null || true)")"
DB=""
if [ "$DRY_RUN" = 0 ]; then DB="$(db_path || true)"; fi
if [ -n "$PREV" ] && [ "$PREV" != "$ID" ] && [ "$DRY_RUN" = 0 ] && [ -z "$DB" ]; then
  say "warn:  $ETC/config.yaml does not load with release $ID ('facegate validate-config' says why): no copy of the state file is kept for a rollback"
fi
if [ "$PREV" = "$ID" ]; then
  ok "$CURRENT is release $ID"
  if [ "$START" = 1 ]; then
    step "start (or restart) facegate and wait for READY (up to $START_TIMEOUT s)" -- start_daemon \
      || fail FG_ERR_RELEASE_NOT_READY "facegate $ID did not reach READY within $START_TIMEOUT s" "see why: journalctl -u facegate (or $LOGS/daemon.log); 'facegate doctor'"
  fi
else
  BACKUP=""
  if [ -n "$PREV" ] && [ -n "$DB" ] && { [ -e "$DB" ] || [ -L "$DB" ]; }; then
    BACKUP="$STATE/backups/$(basename "$DB").before-$ID"
    # Before the daemon is stopped: a refused upgrade leaves the box as it was.
    refuse_state_links "$STATE/backups" "$DB" "$DB-wal" "$DB-shm" "$BACKUP" "$BACKUP-wal" "$BACKUP-shm"
  fi
  was_running=0
  if [ "$DRY_RUN" = 0 ] && [ -n "$PREV" ] && daemon_running; then was_running=1; fi
  # The new release's migrations must not run under the old daemon's feet.
  if [ "$was_running" = 1 ]; then step "stop facegate ($PREV)" -- stop_daemon; fi
  if [ -n "$BACKUP" ]; then
    step "keep a copy of the state file as $BACKUP (the rollback restores it)" -- eval 'backups_dir && copy_db "$DB" "$BACKUP"'
  fi
  step "switch $CURRENT to release $ID${PREV:+ (from $PREV)}" -- switch_to "$ID"
  if [ "$DRY_RUN" = 0 ] && { [ "$was_running" = 1 ] || [ "$START" = 1 ]; }; then
    if step "start facegate $ID and wait for READY (up to $START_TIMEOUT s)" -- start_daemon; then
      audit "$NEW" --event upgrade --release "$ID" --from "${PREV:-none}"
    elif [ -z "$PREV" ]; then
      fail FG_ERR_RELEASE_NOT_READY "facegate $ID did not reach READY within $START_TIMEOUT s" "see why: journalctl -u facegate (or $LOGS/daemon.log); 'facegate doctor'"
    else
      # Roll back: the previous release, on the state file as it left it when the new one changed
      # its schema (the old one refuses a newer schema); the new one's file is kept for a look.
      say "error: FG_ERR_RELEASE_ROLLED_BACK: facegate $ID did not reach READY within $START_TIMEOUT s; rolling back to $PREV" >&2
      note "rollback: $ID did not reach READY within $START_TIMEOUT s; back to $PREV"
      stop_daemon || true
      reason="did not reach READY within $START_TIMEOUT s"
      if [ -n "$BACKUP" ] && [ "$(db_version "$RELEASES/$PREV" "$DB")" != "$(db_version "$RELEASES/$PREV" "$BACKUP")" ]; then
        failed="$STATE/backups/$(basename "$DB").failed-$ID"
        step "keep the state file $ID left as $failed and restore $BACKUP" -- eval 'copy_db "$DB" "$failed" && copy_db "$BACKUP" "$DB"'
        reason="$reason; its schema change undone from the copy made before"
      fi
      step "switch $CURRENT back to release $PREV" -- switch_to "$PREV"
      step "start facegate $PREV and wait for READY (up to $START_TIMEOUT s)" -- start_daemon \
        || fail FG_ERR_ROLLBACK_FAILED "the previous release $PREV did not reach READY either" "see journalctl -u facegate (or $LOGS/daemon.log) and 'facegate doctor'; the state before the upgrade is in $BACKUP"
      audit "$RELEASES/$PREV" --event rollback --release "$ID" --from "$PREV" --reason "$reason"
      note "rolled back to $PREV; $ID stays in $RELEASES/$ID"
      fail FG_ERR_RELEASE_ROLLED_BACK "facegate $ID did not reach READY within $START_TIMEOUT s: rolled back to $PREV, which runs" \
        "see why $ID did not start in journalctl -u facegate (or $LOGS/daemon.log); fix it, then run its install.sh again"
    fi
  elif [ "$DRY_RUN" = 0 ]; then
    if [ "$SYSTEM" = 1 ]; then say "note:  facegate was not running; start it with --start (or systemctl start facegate)"
    else say "note:  facegate was not running; start it with --start (no systemd here: it runs in the background, its log in $LOGS/daemon.log)"; fi
  fi
  if [ -n "$PREV" ]; then prune_releases "$PREV"; fi
fi

if [ "$DRY_RUN" = 1 ]; then
  say "dry run: $CHANGED step(s) would change this box; nothing was changed"
else
  say "done: $CHANGED step(s) changed this box; release $ID is current"
  # Under a prefix the launcher is not on PATH: name it whole.
  cli=facegate
  case ":$PATH:" in *":$BIN:"*) ;; *) cli="$BIN/facegate" ;; esac
  say "next: edit $ETC/config.yaml, then '$cli validate-config --config $ETC/config.yaml' and '$cli doctor --config $ETC/config.yaml'"
fi
