#!/usr/bin/env bash
# Installs what test/nix and test/task need, idempotently:
#   - Debian's Nix (nix-bin, 2.8), git and direnv, with apt;
#   - Task, with `go install`, into ${SYSVM_CACHE:-/var/cache/sysvm}/bin
#     (the tests look there when task is not on PATH).
# Nix needs no config file, and the tests read none of the machine's: each
# Nix they run gets NIX_CONF_DIR and NIX_USER_CONF_FILES pointing at the
# suite's own nix.conf (flakes on, no substituters, no build users, since
# --no-install-recommends skips the nixbld group; the build sandbox on).
# Run as root to install; otherwise it only checks.
# Prints nothing on stdout.
set -euo pipefail

TASK_VERSION=v3.54.0
cache=${SYSVM_CACHE:-/var/cache/sysvm}
log() { printf 'test/nix/deps.sh: %s\n' "$*" >&2; }

missing=()
for p in nix-bin git direnv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    log "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

task=$cache/bin/task
if [[ -x $task ]] && [[ $("$task" --version 2>/dev/null) == "${TASK_VERSION#v}" ]]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  PATH=$PATH:/usr/local/go/bin
fi
log "installing task $TASK_VERSION into $cache/bin (a few minutes on 2 cores)"
mkdir -p "$cache/bin"
GOBIN=$cache/bin GOFLAGS= go install "github.com/go-task/task/v3/cmd/task@$TASK_VERSION" >&2
"$task" --version >/dev/null
