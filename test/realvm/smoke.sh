#!/usr/bin/env bash
# smoke.sh: one real Lima VM, start to delete, to prove the real-VM infrastructure.
#
# Usage: test/realvm/smoke.sh [--zellij PATH]   (as root)
#   --zellij PATH   passed to image.sh; the smoke run then also checks /usr/local/bin/zellij
# Env:   SYSVM_CACHE         cache root for lima.sh and image.sh (default /var/cache/sysvm)
#        SMOKE_LIMA_HOME     LIMA_HOME to use (default /tmp/svl); keep it short (unix socket paths)
#        SMOKE_DIR           work directory for lima.yaml and the mounted folder (default /tmp/svsmoke)
#        QEMU_SYSTEM_X86_64  default: qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512
# Stdout: "step seconds" timing lines. Exit status 0 when every check passed.
set -euo pipefail
umask 022

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=smoke

log() { printf 'smoke.sh: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

image_args=()
zellij=
while (($#)); do
	case $1 in
	--zellij)
		(($# >= 2)) || die "--zellij needs a path"
		zellij=$2
		image_args+=(--zellij "$2")
		shift 2
		;;
	*) die "unknown argument: $1 (usage: smoke.sh [--zellij PATH])" ;;
	esac
done
((EUID == 0)) || die "run as root (it installs packages, builds the image and creates the test user)"

declare -A took
order=()
timed() { # timed STEP CMD...: run CMD, record its wall time under STEP
	local step=$1 t0 rc=0
	shift
	t0=$EPOCHREALTIME
	"$@" || rc=$?
	took[$step]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	order+=("$step")
	log "$step: ${took[$step]}s (exit $rc)"
	return "$rc"
}
capture() { # capture VAR CMD...: VAR=$(CMD...) without losing the exit status
	local __v=$1 __out
	shift
	__out=$("$@") || return
	printf -v "$__v" '%s' "$__out"
}

timed deps "$here/deps.sh"
timed lima capture prefix "$here/lima.sh"
timed image capture image "$here/image.sh" "${image_args[@]}"
timed user capture user "$here/user.sh"
export SYSVM_LIMA_PREFIX=$prefix
export LIMA_HOME=${SMOKE_LIMA_HOME:-/tmp/svl}
export QEMU_SYSTEM_X86_64=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512}
run() { "$here/limarun" "$@"; }

dir=${SMOKE_DIR:-/tmp/svsmoke}
for p in "$LIMA_HOME" "$dir"; do
	[[ $p == /* && $p != *[[:space:]\"\\]* ]] || die "$p: need an absolute path without spaces, quotes or backslashes"
done
mkdir -p "$LIMA_HOME" "$dir/project"
chown "$user:" "$LIMA_HOME" "$dir" "$dir/project"
chmod 0755 "$dir"
rm -f "$dir/project/from-guest"

tmpl=$(<"$here/lima.yaml.tmpl")
cmdline=$(<"$image/kernel-cmdline")
tmpl=${tmpl//@IMAGE_DIR@/"$image"}
tmpl=${tmpl//@CMDLINE@/"$cmdline"}
tmpl=${tmpl//@MOUNT_DIR@/"$dir/project"}
printf '%s\n' "$tmpl" >"$dir/lima.yaml"
cd / # the test user must be able to enter the working directory

log "limactl $(run limactl --version)"
log "LIMA_HOME=$LIMA_HOME image=$image"
timed validate run limactl validate "$dir/lima.yaml" || die "limactl validate rejected $dir/lima.yaml"

if [[ -e $LIMA_HOME/$NAME ]]; then
	log "removing instance $NAME left over from an earlier run"
	run limactl delete -f "$NAME" >&2
fi

started=
on_exit() {
	local rc=$?
	if [[ -n $started && $rc != 0 ]]; then
		log "---- last lines of $LIMA_HOME/$NAME/ha.stderr.log"
		tail -n 20 "$LIMA_HOME/$NAME/ha.stderr.log" >&2 2>/dev/null || true
		log "---- last lines of $LIMA_HOME/$NAME/serial.log"
		tail -n 20 "$LIMA_HOME/$NAME/serial.log" >&2 2>/dev/null || true
		log "deleting instance $NAME"
		"$here/limarun" limactl delete -f "$NAME" >&2 || true
	fi
}
trap on_exit EXIT

started=1
timed start run limactl start --name="$NAME" --tty=false --timeout=30m "$dir/lima.yaml" >&2 ||
	die "limactl start failed"

sshcfg=$LIMA_HOME/$NAME/ssh.config
timed ssh capture out run ssh -F "$sshcfg" "lima-$NAME" -- 'tmux -V; uname -a' || die "ssh into the guest failed"
log "guest says: ${out//$'\n'/ | }"
[[ $out == *'tmux '* && $out == *Linux* ]] || die "unexpected output from the guest: $out"

run ssh -F "$sshcfg" "lima-$NAME" -- "echo written-in-guest > '$dir/project/from-guest'" ||
	die "writing to the mounted folder from the guest failed"
[[ $(<"$dir/project/from-guest") == written-in-guest ]] || die "the guest's write did not reach $dir/project"
log "mount: guest write visible on the host in $dir/project"

# The image should boot with no failed units ("running"), not "degraded".
state=$(run ssh -F "$sshcfg" "lima-$NAME" -- 'timeout 120 systemctl is-system-running --wait' || true)
if [[ $state != running ]]; then
	run ssh -F "$sshcfg" "lima-$NAME" -- 'systemctl --failed --no-legend --no-pager' >&2 || true
	die "guest system state is '$state', want 'running'"
fi
log "guest system state: $state"

if [[ -n $zellij ]]; then
	run ssh -F "$sshcfg" "lima-$NAME" -- 'test -x /usr/local/bin/zellij' || die "/usr/local/bin/zellij missing in the guest"
	log "zellij: /usr/local/bin/zellij present in the guest"
fi

timed stop run limactl stop "$NAME" >&2 || die "limactl stop failed"
timed delete run limactl delete -f "$NAME" >&2 || die "limactl delete failed"
started=
[[ ! -e $LIMA_HOME/$NAME ]] || die "$LIMA_HOME/$NAME still exists after delete"

for s in "${order[@]}"; do
	printf '%s %s\n' "$s" "${took[$s]}"
done
log "PASS"
