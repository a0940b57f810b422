#!/usr/bin/env bash
# Cold start on the real VM (real Lima, QEMU software emulation, the Debian
# guest of test/realvm): `sysvm up` of a new project against raw
# `limactl start` of the same generated config, interleaved, N boots of
# each (BENCH_N, default 3; at least 3). It prints every boot, the median
# and spread (min–max) of each, the ratio of the medians and of each pair,
# and sysvm's own time around the boot (the phases of `sysvm status
# --json`'s lastStart that are not the wait on limactl start) with its
# share of the boot. Not run by CI: each boot takes minutes here.
#
# Run as root, like test/realvm/run.sh (whose set-up it reuses, cached):
#   bash test/bench-cold.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
export PATH=$PATH:/usr/local/go/bin
export SYSVM_CACHE=${SYSVM_CACHE:-/var/cache/sysvm}
((EUID == 0)) || { echo "test/bench-cold.sh: run as root; it runs limactl as the user sysvmtest" >&2; exit 1; }
n=${BENCH_N:-3}
((n >= 3)) || { echo "test/bench-cold.sh: BENCH_N must be at least 3" >&2; exit 1; }

user=sysvmtest
lima_home=/tmp/svcb        # short: Lima puts sockets under it
proj=/tmp/svcbp/cold
qemu=${QEMU_SYSTEM_X86_64:-"qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512"}

bash test/realvm/deps.sh
bash test/realvm/user.sh >/dev/null
prefix=$(bash test/realvm/lima.sh)
image=$(bash test/realvm/image.sh)
home=$(getent passwd "$user" | cut -d: -f6)

bin=$(mktemp -d /tmp/svcb-bin.XXXX)
chmod 755 "$bin"
go build -o "$bin/sysvm" ./cmd/sysvm

as_user() {
	runuser -u "$user" -- env -i PATH="$bin:$prefix/bin:/usr/local/bin:/usr/bin:/bin" HOME="$home" USER="$user" \
		LOGNAME="$user" LIMA_HOME="$lima_home" QEMU_SYSTEM_X86_64="$qemu" LANG=C.UTF-8 \
		SYSVM_START_TIMEOUT=15m sh -c 'cd "$0" && exec "$@"' "$proj" "$@"
}

cleanup() {
	as_user limactl delete -f cold-dev >/dev/null 2>&1 || true
	as_user limactl delete -f raw >/dev/null 2>&1 || true
	as_user sysvm broker stop >/dev/null 2>&1 || true
	rm -rf "$bin" "${log-}" "$lima_home" "$(dirname "$proj")"
}
trap cleanup EXIT

rm -rf "$lima_home" "$(dirname "$proj")" "$home/.local/state/sysvm"
install -d -o "$user" -g "$user" -m 0755 "$lima_home" "$(dirname "$proj")" "$proj"
bash test/realvm/project-yaml.sh "$image" "the project of test/bench-cold.sh" >"$proj/sysvm.yaml"
chown "$user:$user" "$proj/sysvm.yaml"
as_user sysvm allow "$proj" >/dev/null
# The raw boots start the config sysvm generates, byte for byte.
as_user sysvm config >"$(dirname "$proj")/raw.yaml"
chown "$user:$user" "$(dirname "$proj")/raw.yaml"

now() { date +%s.%N; }
log=$(mktemp /tmp/svcb-log.XXXX)
# step CMD...: run one step as the user, its output kept in $log and shown
# when it fails (a silent exit would leave the run unexplained).
step() {
	as_user "$@" >"$log" 2>&1 || {
		echo "test/bench-cold.sh: failed: $*" >&2
		tail -20 "$log" >&2
		exit 1
	}
}
# jsonnum KEY: the number after "KEY": in the JSON on stdin (keys unique here).
jsonnum() { grep -o "\"$1\": *[-0-9.eE+]*" | head -1 | sed 's/.*: *//'; }
declare -a up raw own boot hk
for ((i = 0; i < n; i++)); do
	# Alternate which goes first, so neither always boots on a warmer cache.
	for which in $( ((i % 2 == 0)) && echo "sysvm raw" || echo "raw sysvm"); do
		if [[ $which == sysvm ]]; then
			t0=$(now)
			step sysvm up
			t1=$(now)
			up+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
			js=$(as_user sysvm status --json)
			own+=("$(jsonnum own <<<"$js")")
			boot+=("$(jsonnum limactl-start <<<"$js")")
			hk+=("$(jsonnum host-keys <<<"$js")")
			echo "boot $((i + 1)): sysvm up ${up[-1]} s (own $(printf %.0f "${own[-1]}") ms around limactl start $(printf %.0f "${boot[-1]}") ms)" >&2
			echo "  phases (ms): $(tr -d ' \n' <<<"$js" | grep -o '"phases":{[^}]*}' | sed 's/"phases"://')" >&2
			step sysvm destroy --yes
		else
			t0=$(now)
			step limactl start --name=raw --tty=false --timeout=15m "$(dirname "$proj")/raw.yaml"
			t1=$(now)
			raw+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
			echo "boot $((i + 1)): raw limactl start ${raw[-1]} s" >&2
			step limactl delete -f raw
		fi
	done
done

stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {printf "median %.1f, min %.1f, max %.1f", v[int((NR+1)/2)], v[1], v[NR]}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
pairs=()
for ((i = 0; i < n; i++)); do pairs+=("$(awk -v a="${up[i]}" -v b="${raw[i]}" 'BEGIN{printf "%.3f", a/b}')"); done
shares=()
for ((i = 0; i < n; i++)); do shares+=("$(awk -v o="${own[i]}" -v b="${boot[i]}" 'BEGIN{printf "%.3f", 100*o/(o+b)}')"); done
echo
echo "cold start, real VM, $n interleaved boots each ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| figure | value |"
echo "|---|---|"
echo "| sysvm up (s) | $(stats "${up[@]}") |"
echo "| raw limactl start (s) | $(stats "${raw[@]}") |"
echo "| sysvm up / limactl start, medians | $(awk -v a="$(median "${up[@]}")" -v b="$(median "${raw[@]}")" 'BEGIN{printf "%.3f", a/b}') (goal ≤ 1.02) |"
echo "| per pair | ${pairs[*]} |"
echo "| sysvm's own time around limactl start (ms) | $(stats "${own[@]}") |"
echo "| of which waiting for the guest's console to print its host keys (ms) | $(stats "${hk[@]}") |"
echo "| own share of sysvm's start (%) | $(stats "${shares[@]}") (goal ≤ 2) |"
