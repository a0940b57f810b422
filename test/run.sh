#!/usr/bin/env bash
# The test command: the fast suite (unit tests, and end-to-end tests against
# the lab: a fake limactl that starts a real sshd, a Zellij stand-in on tmux,
# real shells, direnv, Nix and Task), then the real-VM suite (real limactl,
# QEMU and a Debian guest). Each installs what it needs first, and passes
# its own configuration to the programs it runs (Nix, sshd, tmux, direnv,
# git), so the machine's files under /etc can neither help nor hurt.
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
  # Product code stays clean of staticcheck and deadcode (test helpers that
  # only tests call are deadcode's to report, not ours to delete).
  sc=v0.8.2 dc=v0.53.0
  lint=$SYSVM_CACHE/lint-staticcheck-$sc-deadcode-$dc
  [[ -x $lint/staticcheck ]] || GOBIN=$lint go install honnef.co/go/tools/cmd/staticcheck@$sc
  [[ -x $lint/deadcode ]] || GOBIN=$lint go install golang.org/x/tools/cmd/deadcode@$dc
  "$lint/staticcheck" ./...
  dead=$("$lint/deadcode" ./... | grep -v -e '^test/' -e '^ui/uitest/' -e '^zellij/release/releasetest/' || true)
  if [[ -n $dead ]]; then echo "deadcode in product code:" >&2; echo "$dead" >&2; exit 1; fi
  # The users' other platforms cannot run here, but they must compile.
  for platform in darwin/arm64 darwin/amd64 linux/arm64; do
    GOOS=${platform%/*} GOARCH=${platform#*/} CGO_ENABLED=0 go vet ./...
  done
  # The suites read no Nix configuration of the machine's: they run under one
  # that contradicts theirs in every place Nix looks (NIX_CONF_DIR stands in
  # for /etc/nix), so a Nix run without the suite's own settings fails
  # (flakes off, a dead substituter) or is helped (sandbox off) and the
  # equality check in test/nix sees it. /etc/nix itself is never touched.
  hostile=$(mktemp -d)
  trap 'rm -rf "$hostile"' EXIT
  printf '%s\n' 'experimental-features =' 'substituters = http://127.0.0.1:9' 'sandbox = false' >"$hostile/nix.conf"
  NIX_CONF_DIR=$hostile NIX_USER_CONF_FILES=$hostile/nix.conf NIX_CONFIG='experimental-features =' \
    go test -count=1 -timeout 20m ./...
  # Users run Lima 2.x: the end-to-end suite again, against the fake
  # limactl's 2.2 personality (the 2.0 and 2.1 differences have focused
  # tests in the run above).
  SYSVM_LAB_LIMA=2.2.0 go test -count=1 -timeout 20m ./test/e2e/
  # A bounded run of each fuzz target (the seeds already ran above).
  while read -r target pkg execs; do
    go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-${execs}x}" "$pkg" </dev/null
  done < <(grep -v '^#' test/fuzz-targets)
fi
if ((realvm)); then
  echo "== real-VM suite" >&2
  bash test/realvm/run.sh
fi
