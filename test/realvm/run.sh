#!/usr/bin/env bash
# The real-VM suite: sysvm end to end against real limactl (Lima v1.2.2
# built from the Go module proxy), real QEMU (software emulation) and a
# Debian guest built with debootstrap. Run as root: it installs packages,
# builds and caches Lima and the guest image under $SYSVM_CACHE (default
# /var/cache/sysvm, keyed by recipe hashes) and runs sysvm and limactl as
# the unprivileged user sysvmtest, since limactl refuses root.
#
#   test/realvm/run.sh         set up (cached) and run the scenario
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../.."
export PATH=$PATH:/usr/local/go/bin
export SYSVM_CACHE=${SYSVM_CACHE:-/var/cache/sysvm}
((EUID == 0)) || { echo "test/realvm/run.sh: run as root (CI does); it creates the user sysvmtest" >&2; exit 1; }

t0=$SECONDS
bash "$here/deps.sh"
bash "$here/user.sh" >/dev/null
export SYSVM_LIMA_PREFIX=$(bash "$here/lima.sh")
# The guest gets Zellij the user's way: sysvm installs it, and the test serves
# the stand-in (real Zellij cannot be had here) as the release from a loopback
# mirror. SYSVM_REALVM_BAKED_ZELLIJ=1 bakes the stand-in into the image as
# /usr/local/bin/zellij instead, for a sysvm that does not install it yet.
image_args=()
if [[ ${SYSVM_REALVM_BAKED_ZELLIJ:-1} == 1 ]]; then
	standin=$(mktemp -d)/zellij
	CGO_ENABLED=0 go build -trimpath -o "$standin" ./test/zellijstandin
	image_args=(--zellij "$standin")
fi
export SYSVM_IMAGE_DIR=$(bash "$here/image.sh" "${image_args[@]}")
echo "test/realvm/run.sh: set-up took $((SECONDS - t0))s (lima: $SYSVM_LIMA_PREFIX, image: $SYSVM_IMAGE_DIR)" >&2

export QEMU_SYSTEM_X86_64=${QEMU_SYSTEM_X86_64:-"qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512"}
go test -count=1 -tags realvm -timeout 45m -v ./test/realvm/

