#!/usr/bin/env bash
# project-yaml.sh: print the sysvm.yaml of a small project whose VM boots the
# Debian image that image.sh built (direct kernel boot, QEMU TCG), for the
# demo and the cold-start benchmark. On a machine with Internet access, drop
# the lima: block to get Ubuntu.
#
# Usage: test/realvm/project-yaml.sh IMAGE_DIR [COMMENT]
set -euo pipefail
image=${1:?usage: project-yaml.sh IMAGE_DIR [COMMENT]}
cmdline=$(tr -d '\n' <"$image/kernel-cmdline")
cat <<YAML
# ${2:-A project whose VM boots the locally built Debian image.}
cpus: 2
memory: 2GiB
disk: 8GiB
lima:
  cpuType:
    x86_64: max
  firmware:
    legacyBIOS: true
  images:
    - location: $image/debian-12-lima.qcow2
      arch: x86_64
      kernel:
        location: $image/vmlinuz
        arch: x86_64
        cmdline: "$cmdline"
      initrd:
        location: $image/initrd.img
        arch: x86_64
YAML
