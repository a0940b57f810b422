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
# The guest image has no Zellij: sysvm installs it the user's way, and the
# test serves the stand-in (real Zellij cannot be had here) as the release
# from a loopback mirror.
export SYSVM_IMAGE_DIR=$(bash "$here/image.sh")
echo "test/realvm/run.sh: set-up took $((SECONDS - t0))s (lima: $SYSVM_LIMA_PREFIX, image: $SYSVM_IMAGE_DIR)" >&2

export QEMU_SYSTEM_X86_64=${QEMU_SYSTEM_X86_64:-"qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512"}
go test -count=1 -tags realvm -timeout 45m -v ./test/realvm/

