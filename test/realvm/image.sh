#!/usr/bin/env bash
# image.sh: build the Debian 12 (bookworm) guest image for real Lima VMs, cached.
#
# Usage: test/realvm/image.sh [--zellij PATH]
#   --zellij PATH  install the (static) binary PATH as /usr/local/bin/zellij in the guest;
#                  without it the guest has no zellij, like a stock image (sysvm installs its own)
# Env:   SYSVM_CACHE  cache root (default /var/cache/sysvm)
# Needs root to build (debootstrap, chroot); a cache hit works as any user.
# Stdout: exactly one line, the image directory, which holds
#   debian-12-lima.qcow2  bare ext4 filesystem labelled lima-root (no partition table), qcow2
#   vmlinuz, initrd.img   for direct kernel boot (Lima images[].kernel / images[].initrd)
#   kernel-cmdline        the kernel command line to use with them
#   kernel-version        the guest kernel release
#
# Two cache layers under the cache root, each built in a temporary directory and
# renamed into place, each finished by a .complete marker:
#   rootfs-<hash>/rootfs   the debootstrap tree; <hash> covers the debootstrap recipe
#   image-<hash>/          <hash> covers the rootfs hash, the finish recipe and the
#                          sha256 of the --zellij binary
set -euo pipefail
umask 022
# Only the final result goes to stdout (fd 3); everything else, tools included, to stderr.
exec 3>&1 1>&2

log() { printf 'image.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { printf 'usage: %s [--zellij PATH]\n' "${0##*/}" >&2; exit 2; }

zellij=
while (($#)); do
	case $1 in
	--zellij)
		(($# >= 2)) || usage
		zellij=$2
		shift 2
		;;
	--zellij=*)
		zellij=${1#--zellij=}
		shift
		;;
	-h | --help) usage ;;
	*)
		log "unknown argument: $1"
		usage
		;;
	esac
done
if [[ -n $zellij ]]; then
	[[ -f $zellij ]] || die "--zellij $zellij: not a regular file"
	zellij=$(realpath "$zellij")
fi

for c in debootstrap chroot mkfs.ext4 qemu-img sha256sum flock; do
	command -v "$c" >/dev/null || die "$c not found; run test/realvm/deps.sh first"
done

cache=${SYSVM_CACHE:-/var/cache/sysvm}

# ---------------------------------------------------------------------------
# Recipe, layer 1: debootstrap. Everything that decides the rootfs content is in
# these variables and build_rootfs; their text is what the rootfs hash covers.

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# python3-cffi-backend: debootstrap cannot resolve the virtual python3-cffi-backend-api-min
#   by itself, and cloud-init stays unconfigured without it.
# libpam-systemd: otherwise user@UID.service fails and the system is "degraded".
# locales: cloud-init's cc_locale needs en_US.UTF-8.
# sshfs, fuse3, iptables: preinstalled so Lima never runs apt-get in the guest.
# tmux: the sysvm guest side needs it.
ROOTFS_PKGS=systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,cloud-init,openssh-server,openssh-sftp-server,sudo,iproute2,ca-certificates,sshfs,fuse3,ifupdown,isc-dhcp-client,iptables,procps,e2fsprogs,cloud-guest-utils,netbase,kmod,less,zstd,python3-cffi-backend,libpam-systemd,locales,tmux

build_rootfs() { # $1: target directory (must not exist), $2: log file
	nice -n 10 debootstrap --variant=minbase --arch=amd64 --include="$ROOTFS_PKGS" \
		"$SUITE" "$1" "$MIRROR" >"$2" 2>&1
}

# ---------------------------------------------------------------------------
# Recipe, layer 2: finishing a private copy of the rootfs and packing it.

KERNEL_CMDLINE='root=LABEL=lima-root rw console=ttyS0 net.ifnames=0'
INITRAMFS_MODULES='virtio_pci virtio_blk virtio_scsi ext4 crc32c_generic'
# Kernel module trees (under lib/modules/<kver>/kernel) a QEMU guest never needs.
DROP_MODULES='sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
drivers/usb drivers/hid drivers/infiniband drivers/bluetooth net/bluetooth net/wireless
net/mac80211 drivers/staging drivers/isdn drivers/iio drivers/mmc drivers/nfc net/nfc
drivers/thunderbolt drivers/firewire drivers/net/can net/can drivers/net/usb drivers/video/fbdev'
TIMERS='apt-daily apt-daily-upgrade e2scrub_all fstrim dpkg-db-backup man-db'

in_root() { # $1: rootfs, then a command to run inside it with a clean environment
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}

finish_rootfs() { # $1: rootfs (a private copy, modified in place), $2: zellij binary or ""
	local r=$1 zellij=$2 kver m t
	kver=$(cd "$r/lib/modules" && echo *)
	[[ $kver != *' '* && -f $r/boot/vmlinuz-$kver ]] || die "expected one kernel in the rootfs, found: $kver"

	echo lima >"$r/etc/hostname"
	rm -f "$r/etc/resolv.conf" # the host's copy from debootstrap; dhclient writes the guest's own
	printf 'LABEL=lima-root / ext4 defaults,discard,errors=remount-ro 0 1\n' >"$r/etc/fstab"
	printf 'datasource_list: [ NoCloud, None ]\n' >"$r/etc/cloud/cloud.cfg.d/99-lima.cfg"

	sed -i 's/^# *\(en_US\.UTF-8 UTF-8\)/\1/' "$r/etc/locale.gen"
	grep -q '^en_US\.UTF-8 UTF-8' "$r/etc/locale.gen" || die "en_US.UTF-8 missing from locale.gen"
	in_root "$r" locale-gen >&2
	printf 'LANG=en_US.UTF-8\n' >"$r/etc/default/locale"

	for t in $TIMERS; do
		if [[ -e $r/lib/systemd/system/$t.timer ]]; then
			in_root "$r" systemctl disable "$t.timer" >&2
		fi
	done

	m=$r/lib/modules/$kver/kernel
	for t in $DROP_MODULES; do
		rm -rf "${m:?}/$t"
	done
	in_root "$r" depmod -a "$kver"

	sed -i 's/^MODULES=.*/MODULES=list/; s/^#* *COMPRESS=.*/COMPRESS=zstd/' "$r/etc/initramfs-tools/initramfs.conf"
	grep -q '^MODULES=list$' "$r/etc/initramfs-tools/initramfs.conf" || die "initramfs.conf: MODULES not set"
	grep -q '^COMPRESS=zstd$' "$r/etc/initramfs-tools/initramfs.conf" || die "initramfs.conf: COMPRESS not set"
	printf '%s\n' $INITRAMFS_MODULES >>"$r/etc/initramfs-tools/modules"
	in_root "$r" update-initramfs -u -k "$kver" >&2

	if [[ -n $zellij ]]; then
		install -m 0755 -o root -g root "$zellij" "$r/usr/local/bin/zellij"
	fi

	: >"$r/etc/machine-id"
	in_root "$r" apt-get clean
	rm -rf "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* "$r"/usr/share/man/* \
		"$r"/var/cache/debconf/*-old "$r"/tmp/* "$r"/var/tmp/*
	find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -type d ! -name en ! -name en_US -exec rm -rf {} +
}

pack_image() { # $1: finished rootfs, $2: output directory
	local r=$1 out=$2 kver used
	kver=$(cd "$r/lib/modules" && echo *)
	cp -L "$r/boot/vmlinuz-$kver" "$out/vmlinuz"
	cp -L "$r/boot/initrd.img-$kver" "$out/initrd.img"
	printf '%s\n' "$kver" >"$out/kernel-version"
	printf '%s\n' "$KERNEL_CMDLINE" >"$out/kernel-cmdline"
	# Room for the first boot; Lima grows the disk and cloud-init grows the filesystem.
	used=$(du -sm "$r" | cut -f1)
	mkfs.ext4 -q -L lima-root -d "$r" "$out/debian-12-lima.raw" "$((used + used / 2 + 256))M"
	qemu-img convert -O qcow2 "$out/debian-12-lima.raw" "$out/debian-12-lima.qcow2"
	rm -f "$out/debian-12-lima.raw"
}

# ---------------------------------------------------------------------------

sha() { sha256sum | cut -c1-12; }

# rm -rf that never follows into a filesystem mounted inside the tree (an
# interrupted debootstrap can leave /proc or /sys mounted in its target).
safe_rm() {
	local d mnt
	for d in "$@"; do
		[[ -e $d ]] || continue
		d=$(realpath "$d")
		while read -r mnt; do
			umount -l "$mnt" 2>/dev/null || true
		done < <(awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
		rm -rf --one-file-system "$d"
	done
}

# Both hashes first: a cache hit needs neither root nor the lock.
debootstrap_version=$(dpkg-query -W -f='${Version}' debootstrap)
rootfs_hash=$( {
	declare -p SUITE MIRROR ROOTFS_PKGS debootstrap_version
	declare -f build_rootfs
} | sha)
rootfs_dir=$cache/rootfs-$rootfs_hash
zellij_sha=none
[[ -z $zellij ]] || zellij_sha=$(sha256sum <"$zellij" | cut -d' ' -f1)
image_hash=$( {
	printf 'rootfs %s\nzellij %s\n' "$rootfs_hash" "$zellij_sha"
	declare -p KERNEL_CMDLINE INITRAMFS_MODULES DROP_MODULES TIMERS
	declare -f in_root finish_rootfs pack_image
} | sha)
image_dir=$cache/image-$image_hash

if [[ -f $image_dir/.complete ]]; then
	log "image cached: $image_dir"
	printf '%s\n' "$image_dir" >&3
	exit 0
fi

((EUID == 0)) || die "must run as root to build $image_dir (debootstrap and chroot)"
[[ -d $cache ]] || install -d -m 0755 "$cache"

tmps=()
cleanup() { ((${#tmps[@]} == 0)) || safe_rm "${tmps[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exec 9>"$cache/.image.lock"
if ! flock -n 9; then
	log "waiting for $cache/.image.lock (another image.sh is running)"
	flock 9
	if [[ -f $image_dir/.complete ]]; then
		log "image cached: $image_dir"
		printf '%s\n' "$image_dir" >&3
		exit 0
	fi
fi

# Layer 1: rootfs.
if [[ -f $rootfs_dir/.complete ]]; then
	log "rootfs cached: $rootfs_dir"
else
	safe_rm "$rootfs_dir" "$cache"/.rootfs-*.tmp.*
	tmp=$(mktemp -d "$cache/.rootfs-$rootfs_hash.tmp.XXXXXX")
	tmps+=("$tmp")
	log "debootstrap $SUITE into $rootfs_dir (2-5 minutes; log: $tmp/debootstrap.log)"
	start=$SECONDS
	if ! build_rootfs "$tmp/rootfs" "$tmp/debootstrap.log"; then
		tail -n 30 "$tmp/debootstrap.log" >&2 || true
		tail -n 30 "$tmp/rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
		die "debootstrap failed"
	fi
	in_root "$tmp/rootfs" dpkg-query -W >"$tmp/packages.txt"
	touch "$tmp/.complete"
	chmod 0755 "$tmp"
	mv -T "$tmp" "$rootfs_dir"
	tmps=()
	log "rootfs built in $((SECONDS - start))s: $rootfs_dir"
fi

# Layer 2: image, from a private copy of the rootfs.
safe_rm "$image_dir" "$cache"/.image-*.tmp.*
tmp=$(mktemp -d "$cache/.image-$image_hash.tmp.XXXXXX")
tmps+=("$tmp")
start=$SECONDS
log "finishing image in $tmp (zellij: ${zellij:-none})"
cp -a "$rootfs_dir/rootfs" "$tmp/rootfs"
mkdir "$tmp/out"
finish_rootfs "$tmp/rootfs" "$zellij"
pack_image "$tmp/rootfs" "$tmp/out"
printf '%s\n' "$zellij_sha" >"$tmp/out/zellij.sha256"
safe_rm "$tmp/rootfs"
chmod 0755 "$tmp/out"
chmod 0644 "$tmp/out"/*
touch "$tmp/out/.complete"
mv -T "$tmp/out" "$image_dir"
safe_rm "$tmp"
tmps=()
log "image built in $((SECONDS - start))s: $image_dir ($(du -sh "$image_dir/debian-12-lima.qcow2" | cut -f1) qcow2)"
printf '%s\n' "$image_dir" >&3
