#!/usr/bin/env bash
# Provisions a Debian/Ubuntu edge box for facegate, idempotently: run it again after an upgrade or
# to repair a box; it changes only what is missing or different and never overwrites keys or config.
#
#   sudo scripts/install.sh             install (from this checkout, after `npm ci`, which builds it)
#   scripts/install.sh --dry-run        print every step and whether it would change anything
#   --start                             also start (or restart) the service at the end
#   --app-only                          only /opt/facegate and its launcher: no config, keys or unit
#                                       (for container images, where those are mounted)
#   --node FILE                         run facegate on this node binary instead of the pinned Node
#                                       that scripts/node-runtime.sh fetches (for tests)
#   --prefix DIR --no-system            install the files under DIR and skip apt, users and systemctl
#                                       (for tests and image builds)
set -euo pipefail

DRY_RUN=0
START=0
SYSTEM=1
PREFIX=""
NODE_FILE=""
APP_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --start) START=1 ;;
    --no-system) SYSTEM=0 ;;
    --app-only) APP_ONLY=1 ;;
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift ;;
    --node) NODE_FILE="${2:?--node needs a node binary}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

SRC="$(cd "$(dirname "$0")/.." && pwd)"
APP="$PREFIX/opt/facegate"
ETC="$PREFIX/etc/facegate"
STATE="$PREFIX/var/lib/facegate"
UNIT_DIR="$PREFIX/etc/systemd/system"
BIN="$PREFIX/usr/local/bin"
# facegate runs on its own Node in $APP/node (a pinned LTS, sha512-checked), not on the
# distribution's: Debian 12 ships Node 18, and Node 20 is past its end of life.
NODE="$APP/node/bin/node"
CHANGED=0

say() { printf '%s\n' "$*"; }
# step DESCRIPTION -- COMMAND...: runs COMMAND (or prints it under --dry-run) and says so.
step() {
  local what="$1"; shift; [ "$1" = "--" ] && shift
  CHANGED=$((CHANGED + 1))
  if [ "$DRY_RUN" = 1 ]; then say "would: $what  [$*]"; else say "doing: $what"; "$@"; fi
}
ok() { say "ok:    $*"; }
fail() { say "error: $1" >&2; say "fix:   $2" >&2; exit 1; }

# 0. Preconditions
if [ "$SYSTEM" = 1 ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  fail "install.sh must run as root to create users and install the unit" "run it with sudo, or use --dry-run to see the steps"
fi
[ -f "$SRC/dist/daemon/cli/main.js" ] || fail "$SRC/dist is missing: the checkout is not built" "run 'npm ci' (it builds and fetches the models) in $SRC first"
[ -d "$SRC/node_modules" ] || fail "$SRC/node_modules is missing" "run 'npm ci' in $SRC first"
# npm lists the runtime dependencies. A checkout made by scripts/pinned-checkout.sh sits beside the
# pinned Node and its npm (DIR/src, DIR/node, DIR/npm): that pair is used, since Debian 12's npm 9.2
# cannot read facegate's lock file.
if [ -f "$SRC/../npm/bin/npm-cli.js" ] && [ -x "$SRC/../node/bin/node" ]; then
  npm() { "$SRC/../node/bin/node" "$SRC/../npm/bin/npm-cli.js" "$@"; }
else
  command -v npm >/dev/null || fail "npm is missing: it lists the runtime dependencies to install" "install npm (Debian: apt-get install npm), then run install.sh again"
fi

# 1. System packages
if [ "$SYSTEM" = 1 ]; then
  missing=()
  for pkg in ffmpeg ca-certificates; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "install ${missing[*]}" -- env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    ok "ffmpeg and ca-certificates installed"
  fi
fi

# 2. Groups and the service user: facegate (viewer role), facegate-operator, facegate-admin
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

write_launcher() { rm -f "$BIN/facegate"; printf '%s\n' "$launcher" >"$BIN/facegate"; chmod 0755 "$BIN/facegate"; }

# 3. The application in /opt/facegate (only what runs: built code, runtime dependencies, models,
#    config examples). The checkout was built with its devDependencies (TypeScript); /opt gets
#    none of them.
# The packages npm itself resolves for `--omit=dev`, top-level ones (each carries its own nested
# node_modules). They are copied from the checkout, where `npm ci` built the native ones for this
# box's Node, rather than installed again: that would compile the Node 20 SQLite binding wherever its
# prebuilt binary cannot be downloaded.
runtime_packages() {
  local list
  list="$(cd "$SRC" && npm ls --omit=dev --all --parseable 2>/dev/null)" || true
  printf '%s\n' "$list" | sed -n "s#^$SRC/node_modules/##p" | grep -v '/node_modules/' | sort -u
}
copy_runtime_modules() { # DEST
  local dest="$1" rel
  mkdir -p "$dest"
  while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    mkdir -p "$dest/$(dirname "$rel")"
    cp -a "$SRC/node_modules/$rel" "$dest/$rel"
  done < <(runtime_packages)
  # onnxruntime-node ships its library for every system; only this one's is loaded.
  local os arch
  os="$(node -p process.platform)"; arch="$(node -p process.arch)"
  for dir in "$dest"/onnxruntime-node/bin/napi-v*; do
    [ -d "$dir" ] || continue
    find "$dir" -mindepth 1 -maxdepth 1 ! -name "$os" -exec rm -rf {} +
    [ -d "$dir/$os" ] && find "$dir/$os" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +
  done
  # better-sqlite3 too (a prebuilt binding per system, ~3 MB each): this one's, glibc and musl.
  for file in "$dest"/better-sqlite3/prebuilds/*.node; do
    [ -e "$file" ] || continue
    case "$(basename "$file")" in "$os-$arch.node" | "${os}musl-$arch.node") ;; *) rm -f "$file" ;; esac
  done
  # npm's own check that every runtime dependency is there, in the tree that will run.
  cp "$SRC/package.json" "$(dirname "$dest")/"
  [ -f "$SRC/package-lock.json" ] && cp "$SRC/package-lock.json" "$(dirname "$dest")/"
  (cd "$(dirname "$dest")" && npm ls --omit=dev --all >/dev/null 2>&1) \
    || fail "the runtime dependencies copied to $APP are incomplete" "run 'npm ci' in $SRC, then install.sh again"
}
sync_app() {
  mkdir -p "$APP"
  [ -n "$(runtime_packages)" ] || fail "npm lists no runtime dependencies in $SRC" "run 'npm ci' in $SRC, then install.sh again"
  for item in package.json package-lock.json .npmrc README.md LICENSES dist node_modules models config systemd; do
    [ -e "$SRC/$item" ] || continue
    rm -rf "$APP/$item.new"
    if [ "$item" = node_modules ]; then
      rm -rf "$APP/.stage"
      mkdir -p "$APP/.stage"
      copy_runtime_modules "$APP/.stage/node_modules"
      mv "$APP/.stage/node_modules" "$APP/node_modules.new"
      rm -rf "$APP/.stage"
    else
      cp -a "$SRC/$item" "$APP/$item.new"
    fi
    rm -rf "${APP:?}/$item"
    mv "$APP/$item.new" "$APP/$item"
  done
  # The CLI entry, run through the link below (`#!/usr/bin/env node`).
  chmod 0755 "$APP/dist/daemon/cli/main.js"
}
installed_packages() {
  (cd "$APP/node_modules" 2>/dev/null && for p in * @*/*; do [ -d "$p" ] && case "$p" in @*/*|[!@]*) printf '%s\n' "$p" ;; esac; done) | sort -u
}
app_differs() {
  [ -d "$APP" ] || return 0
  # A dependency added or dropped, or devDependencies left by an older install.sh.
  [ "$(installed_packages)" = "$(runtime_packages)" ] || return 0
  for item in package.json package-lock.json dist models config systemd; do
    [ -e "$SRC/$item" ] || continue
    diff -rq "$SRC/$item" "$APP/$item" >/dev/null 2>&1 || return 0
  done
  return 1
}
if [ "$SRC" = "$APP" ]; then
  ok "running from $APP itself"
elif app_differs; then
  step "copy facegate from $SRC to $APP" -- sync_app
else
  ok "$APP is up to date"
fi

# 3b. The Node that runs facegate, in $APP/node: the pinned one, or --node's
install_node() {
  if [ -n "$NODE_FILE" ]; then
    install -D -m 0755 "$NODE_FILE" "$APP/node/bin/node"
  else
    "$SRC/scripts/node-runtime.sh" "$APP/node"
    # The headers are for building native modules; the box only runs them.
    rm -rf "$APP/node/include"
  fi
}
if [ -n "$NODE_FILE" ]; then want_node="$("$NODE_FILE" --version)"; else want_node="v$("$SRC/scripts/node-runtime.sh" --version)"; fi
if [ "$("$NODE" --version 2>/dev/null)" = "$want_node" ]; then
  ok "Node $want_node in $APP/node"
else
  step "install Node $want_node in $APP/node" -- install_node
fi
# The native modules were built by `npm ci` for the Node that ran it: they must load on this one.
if [ "$DRY_RUN" = 0 ] && [ -d "$APP/node_modules" ]; then
  (cd "$APP" && "$NODE" -e "for (const m of ['better-sqlite3', 'unix-dgram', 'onnxruntime-node', 'sharp']) require(m)" >/dev/null 2>&1) \
    || fail "the native modules in $APP/node_modules do not load on Node $want_node (the checkout was built with another Node)" \
      "build the checkout with the pinned Node: 'scripts/pinned-checkout.sh DIR', then run DIR/src/scripts/install.sh"
  ok "native modules load on Node $want_node"
fi

# 3c. `facegate` on PATH: runs the installed CLI on that Node, not on whatever node is on PATH
launcher="$(printf '#!/bin/sh\nexec %s %s "$@"\n' "$NODE" "$APP/dist/daemon/cli/main.js")"
if [ "$(cat "$BIN/facegate" 2>/dev/null)" = "$launcher" ]; then
  ok "$BIN/facegate runs $APP on its Node"
else
  [ -d "$BIN" ] || step "create $BIN" -- mkdir -p "$BIN"
  step "write $BIN/facegate (runs $APP/dist/daemon/cli/main.js on $NODE)" -- write_launcher
fi

if [ "$APP_ONLY" = 1 ]; then
  say "done: $CHANGED step(s) changed $APP (--app-only: no config, keys or unit)"
  exit 0
fi

# 4. Folders: config (root-owned, group-readable), state (the daemon's)
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

# 5. Config: the example for a 2-camera site, only when there is none (never overwritten)
if [ -f "$ETC/config.yaml" ]; then
  ok "$ETC/config.yaml kept as it is"
else
  own=()
  [ "$SYSTEM" = 1 ] && own=(-o root -g facegate)
  step "install the example config as $ETC/config.yaml (edit the cameras and broker)" -- \
    install -m 0640 "${own[@]}" "$SRC/config/facegate.example.yaml" "$ETC/config.yaml"
fi
if cmp -s "$SRC/config/facegate.schema.json" "$ETC/facegate.schema.json" 2>/dev/null; then
  ok "$ETC/facegate.schema.json is current"
else
  step "install the config schema for editors" -- install -m 0644 "$SRC/config/facegate.schema.json" "$ETC/facegate.schema.json"
fi

# 6. Keys: made only when absent; root-only (0600); the unit hands them over with LoadCredential=
make_keys() {
  (cd "$ETC" && "$NODE" "$APP/dist/daemon/cli/main.js" keys init --key-file "$ETC/gallery.key" --device-key-file "$ETC/device.key" --config "$ETC/config.yaml")
}
if [ -f "$ETC/gallery.key" ] && [ -f "$ETC/device.key" ]; then
  ok "keys exist in $ETC (never overwritten)"
else
  step "make the gallery key and the device signing key in $ETC (mode 0600)" -- make_keys
fi

# 7. The systemd unit
if cmp -s "$SRC/systemd/facegate.service" "$UNIT_DIR/facegate.service" 2>/dev/null; then
  ok "unit $UNIT_DIR/facegate.service is current"
else
  [ -d "$UNIT_DIR" ] || step "create $UNIT_DIR" -- mkdir -p "$UNIT_DIR"
  step "install the unit $UNIT_DIR/facegate.service" -- install -m 0644 "$SRC/systemd/facegate.service" "$UNIT_DIR/facegate.service"
  # sd_booted(): without a running systemd (a chroot, an image build) there is nothing to reload;
  # `systemctl enable` below works without one.
  if [ "$SYSTEM" = 1 ] && [ -d /run/systemd/system ]; then step "reload systemd" -- systemctl daemon-reload; fi
fi
if [ "$SYSTEM" = 1 ]; then
  if systemctl is-enabled --quiet facegate 2>/dev/null; then ok "facegate.service enabled"; else step "enable facegate.service at boot" -- systemctl enable facegate.service; fi
  if [ "$START" = 1 ]; then step "start (or restart) facegate" -- systemctl restart facegate.service; fi
fi

if [ "$DRY_RUN" = 1 ]; then
  say "dry run: $CHANGED step(s) would change this box; nothing was changed"
else
  say "done: $CHANGED step(s) changed this box"
  say "next: edit $ETC/config.yaml, then 'facegate validate-config --config $ETC/config.yaml' and 'facegate doctor --config $ETC/config.yaml'"
fi
