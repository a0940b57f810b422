#!/usr/bin/env bash
# user.sh: make sure the unprivileged user that runs limactl exists.
#
# Usage: test/realvm/user.sh
# Creates user sysvmtest (home /home/sysvmtest, shell /bin/bash) if missing;
# needs root only then. Stdout: exactly one line, the user name.
set -euo pipefail

USER_NAME=sysvmtest
USER_HOME=/home/$USER_NAME

log() { printf 'user.sh: %s\n' "$*" >&2; }

if id -u "$USER_NAME" >/dev/null 2>&1; then
	log "user $USER_NAME exists (uid $(id -u "$USER_NAME"))"
else
	if ((EUID != 0)); then
		log "error: user $USER_NAME is missing; run this script as root to create it"
		exit 1
	fi
	useradd --create-home --home-dir "$USER_HOME" --shell /bin/bash "$USER_NAME"
	log "created user $USER_NAME (uid $(id -u "$USER_NAME"))"
fi
printf '%s\n' "$USER_NAME"
