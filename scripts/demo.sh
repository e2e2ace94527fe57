#!/bin/bash
# `make demo`: set up, build the kernel, userland and initramfs, boot the
# guest and run tests/guest/demo.sh in it (checkpoint a counter, inspect
# the image, kill it, restart it). Tolerates unfinished pieces: it says
# what failed and goes on where it can.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
S=$LCR_REPO/scripts

"$S/setup.sh" || exit 1
"$S/tree.sh" || exit 1
"$S/build-kernel.sh" qemu || exit 1
uapi=$LCR_BUILD/headers/include
if [ -f "$LCR_REPO/userspace/Makefile" ]; then
	make -C "$LCR_REPO/userspace" O="$LCR_BUILD/userspace" UAPI="$uapi" ||
		warn "userspace did not build: the demo runs without (some) tools"
fi
"$S/mkinitramfs.sh" || exit 1
exec "$S/guest.sh" "$@" /tests/demo.sh
