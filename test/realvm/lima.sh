#!/usr/bin/env bash
# lima.sh: build Lima's limactl and the gzipped Linux guest agent, cached.
#
# Usage: test/realvm/lima.sh
# Env:   SYSVM_CACHE  cache root (default /var/cache/sysvm)
# Stdout: exactly one line, the Lima prefix:
#   <cache>/lima-<hash>/bin/limactl
#   <cache>/lima-<hash>/share/lima/lima-guestagent.Linux-x86_64.gz
#   <cache>/lima-<hash>/share/lima/templates/
# <hash> = first 12 hex of sha256(this script + Lima version + `go version`).
# A prefix with a .complete marker is reused as is. The build happens in a
# temporary directory next to it that is renamed into place at the end.
#
# Lima v1.2.2 is the newest version the Go module proxy serves here, and
# `go install ...@v1.2.2` fails (its /@v/list lookup is refused), so the
# module is fetched with `go mod download` and built from a writable copy.
set -euo pipefail
umask 022
# Only the final result goes to stdout (fd 3); everything else, tools included, to stderr.
exec 3>&1 1>&2

LIMA_MODULE=github.com/lima-vm/lima
LIMA_VERSION=v1.2.2

log() { printf 'lima.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go not found in PATH or /usr/local/go/bin"
# Keep the caller's Go settings from changing what gets built.
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
unset GOOS GOARCH GOWORK CGO_ENABLED

cache=${SYSVM_CACHE:-/var/cache/sysvm}
gover=$(go version)
hash=$( { cat "${BASH_SOURCE[0]}"; printf '%s\n%s\n' "$LIMA_VERSION" "$gover"; } | sha256sum | cut -c1-12)
prefix=$cache/lima-$hash

if [[ -f $prefix/.complete ]]; then
	log "cached: $prefix"
	printf '%s\n' "$prefix" >&3
	exit 0
fi

[[ -d $cache ]] || install -d -m 0755 "$cache"
exec 9>"$cache/.lima.lock"
if ! flock -n 9; then
	log "waiting for $cache/.lima.lock (another lima.sh is running)"
	flock 9
fi
if [[ -f $prefix/.complete ]]; then # built by another run while we waited
	log "cached: $prefix"
	printf '%s\n' "$prefix" >&3
	exit 0
fi
# Anything left from an interrupted run is garbage now that we hold the lock.
rm -rf "$prefix" "$cache"/.lima-*.tmp.*

tmp=$(mktemp -d "$cache/.lima-$hash.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$SECONDS

log "go mod download $LIMA_MODULE@$LIMA_VERSION ($gover)"
modcache=$(go env GOMODCACHE)
(cd "$tmp" && go mod download "$LIMA_MODULE@$LIMA_VERSION") >&2
moddir=$modcache/$LIMA_MODULE@$LIMA_VERSION
[[ -f $moddir/go.mod ]] || die "module not found at $moddir after go mod download"

src=$tmp/src
cp -r "$moddir" "$src"
chmod -R u+w "$src"
out=$tmp/prefix
mkdir -p "$out/bin" "$out/share/lima"

ld="-s -w -X $LIMA_MODULE/pkg/version.Version=$LIMA_VERSION"
log "building limactl"
(cd "$src" && nice -n 10 go build -ldflags="$ld" -o "$out/bin/limactl" ./cmd/limactl) >&2
log "building lima-guestagent (linux/amd64, static)"
(cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 nice -n 10 go build -ldflags="$ld" \
	-o "$out/share/lima/lima-guestagent.Linux-x86_64" ./cmd/lima-guestagent) >&2
gzip -f "$out/share/lima/lima-guestagent.Linux-x86_64"
cp -r "$src/templates" "$out/share/lima/templates"

v=$("$out/bin/limactl" --version)
[[ $v == "limactl version ${LIMA_VERSION#v}" ]] || die "unexpected limactl --version: $v"
printf '%s\n%s\n' "$LIMA_VERSION" "$gover" >"$out/VERSION"
chmod -R a+rX "$out"
touch "$out/.complete"

mv -T "$out" "$prefix"
log "built $prefix in $((SECONDS - start))s ($v)"
printf '%s\n' "$prefix" >&3
