#!/usr/bin/env bash
# The test command: the fast suite (unit tests, and end-to-end tests against
# the lab: a fake limactl that starts a real sshd, a Zellij stand-in on tmux,
# real shells, direnv, Nix and Task), then the real-VM suite (real limactl,
# QEMU and a Debian guest). Each installs what it needs first.
#
#   test/run.sh            both suites
#   test/run.sh --fast     the fast suite only
#   test/run.sh --realvm   the real-VM suite only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
export SYSVM_CACHE=${SYSVM_CACHE:-/var/cache/sysvm}

fast=1 realvm=1
case ${1-} in
  --fast) realvm=0 ;;
  --realvm) fast=0 ;;
  "") ;;
  *) echo "usage: test/run.sh [--fast|--realvm]" >&2; exit 2 ;;
esac

if ((fast)); then
  echo "== fast suite" >&2
  bash test/deps.sh
  go vet ./...
  # The users' other platforms cannot run here, but they must compile.
  for platform in darwin/arm64 darwin/amd64 linux/arm64; do
    GOOS=${platform%/*} GOARCH=${platform#*/} CGO_ENABLED=0 go vet ./...
  done
  go test -count=1 -timeout 20m ./...
  # A bounded run of each fuzz target (the seeds already ran above).
  for target in "FuzzSlug ./project" "FuzzGenerate ./limaconfig" "FuzzCommandLine ./zellij" "FuzzHook ./shellhook"; do
    set -- $target
    go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-10s}" "$2"
  done
fi
if ((realvm)); then
  echo "== real-VM suite" >&2
  bash test/realvm/run.sh
fi
