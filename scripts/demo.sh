#!/usr/bin/env bash
# sysvm's main job on a fresh Debian/Ubuntu machine, from nothing:
# installs QEMU and friends, builds Lima v1.2.2 and a small Debian guest
# image (both cached under $SYSVM_CACHE, default /var/cache/sysvm), builds
# sysvm, makes a demo project and attaches your terminal to its VM's
# Zellij session. Detach with Ctrl-o d. The guest image has no Zellij:
# sysvm installs it on first attach, as for any user, from a loopback
# mirror that serves the lab's Zellij stand-in (built on tmux: real Zellij
# cannot be downloaded here) as the pinned release.
#
# Run it as root (`bash scripts/demo.sh`; it installs packages and builds
# the image; limactl then runs as the unprivileged user sysvmtest), or as a
# user with sudo: it calls sudo itself only for the steps that need root.
# The first run takes about 10 minutes; later runs start in seconds plus
# the VM's boot (about 70-90 s under QEMU's software emulation).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
export PATH=$PATH:/usr/local/go/bin
export SYSVM_CACHE=${SYSVM_CACHE:-/var/cache/sysvm}
say() { printf 'demo: %s\n' "$*" >&2; }

command -v go >/dev/null || {
	say "Go is needed to build sysvm and Lima: install Go 1.26 (https://go.dev/dl), or on Ubuntu 24.04+/Debian 13: apt-get install golang-go (it fetches the toolchain go.mod asks for)"
	exit 1
}
sudo=""
if ((EUID != 0)); then
	command -v sudo >/dev/null || {
		say "installing packages and building the image need root: run this as root (su -c 'bash scripts/demo.sh'), or install sudo"
		exit 1
	}
	sudo="sudo"
fi
run_user=${SUDO_USER:-$(id -un)}
if [[ $run_user == root ]]; then
	run_user=$($sudo bash test/realvm/user.sh) # limactl refuses to run as root
fi
run_home=$(getent passwd "$run_user" | cut -d: -f6)

say "installing host packages (QEMU, OpenSSH, debootstrap, tmux) if missing"
$sudo bash test/realvm/deps.sh
say "building Lima v1.2.2 (cached)"
prefix=$(bash test/realvm/lima.sh)
say "building the Debian guest image (cached)"
work=$(mktemp -d)
standin=$work/zellij
CGO_ENABLED=0 go build -trimpath -o "$standin" ./test/zellijstandin
image=$($sudo env PATH="$PATH" SYSVM_CACHE="$SYSVM_CACHE" bash test/realvm/image.sh)
say "building sysvm"
bindir=$SYSVM_CACHE/bin
$sudo mkdir -p "$bindir"
tmpbin=$(mktemp -d)/sysvm
go build -o "$tmpbin" ./cmd/sysvm
$sudo install -m 0755 "$tmpbin" "$bindir/sysvm"

demo=$run_home/sysvm-demo
say "demo project: $demo"
$sudo install -d -o "$run_user" -m 0755 "$demo"
if [[ ! -e $demo/sysvm.yaml ]]; then
	bash test/realvm/project-yaml.sh "$image" "The demo project: a small VM booted from the locally built Debian image." |
		$sudo tee "$demo/sysvm.yaml" >/dev/null
	$sudo chown "$run_user" "$demo/sysvm.yaml"
fi

say "attaching (the first boot shows its progress; detach with Ctrl-o d)"
qemu="qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512"
if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qE 'vmx|svm' /proc/cpuinfo; then qemu=""; fi
env_args=(PATH="$bindir:$prefix/bin:/usr/local/bin:/usr/bin:/bin" HOME="$run_home" USER="$run_user"
	TERM="${TERM:-xterm-256color}" LANG="${LANG:-C.UTF-8}")
[[ -n $qemu ]] && env_args+=(QEMU_SYSTEM_X86_64="$qemu")
say "serving the Zellij stand-in as the pinned Zellij release on loopback (sysvm installs it into the VM)"
go build -o "$work/zellijmirror" ./test/zellijmirror
"$work/zellijmirror" "$standin" >"$work/mirror.url" &
mirror=$!
trap 'kill "$mirror" 2>/dev/null; wait "$mirror" 2>/dev/null' EXIT
for _ in $(seq 50); do
	[[ -s $work/mirror.url ]] && break
	sleep 0.1
done
[[ -s $work/mirror.url ]] || { say "the Zellij mirror did not start"; exit 1; }
env_args+=(SYSVM_ZELLIJ_URL="$(head -n 1 "$work/mirror.url")")
cd "$demo"
code=0
if [[ $(id -un) == "$run_user" ]]; then
	# The demo's sysvm.yaml is this script's own: allow it (sysvm allow).
	env "${env_args[@]}" sysvm allow && env "${env_args[@]}" sysvm attach || code=$?
else
	$sudo runuser -u "$run_user" -- env -i "${env_args[@]}" sh -c 'cd "$0" && sysvm allow && exec sysvm attach' "$demo" || code=$?
fi
exit "$code"
