#!/usr/bin/env bash
# Provisions a Debian/Ubuntu edge box for facegate, idempotently: run it again after an upgrade or
# to repair a box; it changes only what is missing or different and never overwrites keys or config.
#
#   sudo scripts/install.sh             install (from this checkout, after `npm ci`, which builds it)
#   scripts/install.sh --dry-run        print every step and whether it would change anything
#   --start                             also start (or restart) the service at the end
#   --prefix DIR --no-system            install the files under DIR and skip apt, users and systemctl
#                                       (for tests and image builds)
set -euo pipefail

DRY_RUN=0
START=0
SYSTEM=1
PREFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --start) START=1 ;;
    --no-system) SYSTEM=0 ;;
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift ;;
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
NODE_MIN="20.19.0"
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

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# 0. Preconditions
if [ "$SYSTEM" = 1 ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  fail "install.sh must run as root to create users and install the unit" "run it with sudo, or use --dry-run to see the steps"
fi
[ -f "$SRC/dist/daemon/cli/main.js" ] || fail "$SRC/dist is missing: the checkout is not built" "run 'npm ci' (it builds and fetches the models) in $SRC first"
[ -d "$SRC/node_modules" ] || fail "$SRC/node_modules is missing" "run 'npm ci' in $SRC first"
command -v npm >/dev/null || fail "npm is missing: it lists the runtime dependencies to install" "install npm (Debian: apt-get install npm), then run install.sh again"

# 1. System packages
if [ "$SYSTEM" = 1 ]; then
  missing=()
  for pkg in ffmpeg ca-certificates; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "install ${missing[*]}" -- env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    ok "ffmpeg and ca-certificates installed"
  fi
  node_version="$(/usr/bin/node --version 2>/dev/null | tr -d v || true)"
  if [ -z "$node_version" ] || ! version_ge "$node_version" "$NODE_MIN"; then
    fail "/usr/bin/node is ${node_version:-missing}; facegate needs Node.js >= $NODE_MIN at /usr/bin/node (the unit runs it)" \
      "install Node.js 20 or newer from your distribution (Debian 13: apt-get install nodejs) or from NodeSource, then run install.sh again"
  fi
  ok "node $node_version at /usr/bin/node"
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

# 3. The application in /opt/facegate (only what runs: built code, runtime dependencies, models,
#    config examples). The checkout was built with its devDependencies (TypeScript); /opt gets
#    none of them.
# The packages npm itself resolves for `--omit=dev`, top-level ones (each carries its own nested
# node_modules). They are copied from the checkout, where `npm ci` built the native ones for this
# box's Node, rather than installed again: that would compile better-sqlite3 wherever its prebuilt
# binary cannot be downloaded.
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
    rm -rf "$APP/$item"
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

# 3b. `facegate` on PATH: a link to the installed CLI (Node follows it to find the package)
if [ "$(readlink "$BIN/facegate" 2>/dev/null)" = "$APP/dist/daemon/cli/main.js" ]; then
  ok "$BIN/facegate links to $APP"
else
  [ -d "$BIN" ] || step "create $BIN" -- mkdir -p "$BIN"
  step "link $BIN/facegate to $APP/dist/daemon/cli/main.js" -- ln -sfn "$APP/dist/daemon/cli/main.js" "$BIN/facegate"
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
  (cd "$ETC" && /usr/bin/env node "$APP/dist/daemon/cli/main.js" keys init --key-file "$ETC/gallery.key" --device-key-file "$ETC/device.key" --config "$ETC/config.yaml")
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
  [ "$SYSTEM" = 1 ] && step "reload systemd" -- systemctl daemon-reload
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
