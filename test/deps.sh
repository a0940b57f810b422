#!/usr/bin/env bash
# Installs what the fast test suite needs, idempotently: the real programs
# the lab drives (OpenSSH's sshd, tmux, the shells, direnv, Nix) and Task.
# Run as root (CI is root); as another user it only checks and says what is missing.
set -euo pipefail

pkgs=(openssh-server openssh-client tmux zsh fish dash direnv nix-bin git ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test/deps.sh: missing packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "test/deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# sshd refuses to start as root without its privilege-separation directory.
if [[ $(id -u) -eq 0 ]]; then mkdir -p /run/sshd && chmod 0755 /run/sshd; fi

here=$(cd "$(dirname "$0")" && pwd)
if [[ -x $here/nix/deps.sh ]]; then "$here/nix/deps.sh"; fi
