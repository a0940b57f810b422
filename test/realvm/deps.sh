#!/usr/bin/env bash
# deps.sh: install the Debian packages the real-VM suite needs on the host.
#
# Usage: test/realvm/deps.sh
# Needs root only when something is missing. Prints nothing on stdout.
# Fast no-op when every package is already installed.
set -euo pipefail

PKGS=(qemu-system-x86 qemu-utils openssh-client openssh-server debootstrap tmux e2fsprogs)

log() { printf 'deps.sh: %s\n' "$*" >&2; }

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $st == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	log "all present: ${PKGS[*]}"
	exit 0
fi

if ((EUID != 0)); then
	log "missing packages: ${missing[*]}; run this script as root to install them"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "installing: ${missing[*]}"
apt-get update -q >&2
apt-get install -y -q "${missing[@]}" >&2
log "installed: ${missing[*]}"
