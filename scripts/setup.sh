#!/bin/bash
# Install (as root, with apt) everything the linux-cr rig needs, and the
# packages named as arguments (scripts/bench.sh: criu).
# Idempotent; a fast no-op when everything is installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(linux-source-6.12 qemu-system-x86 busybox-static ccache flex bison bc
      libelf-dev libssl-dev cpio xz-utils kmod python3 dwarves git make gcc
      perl libc6-dev gzip python3-ply python3-git "$@")

missing=()
for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	msg "installing: ${missing[*]}"
	SUDO=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
		SUDO=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ -r "$LCR_TARBALL" ] || die "$LCR_TARBALL missing after installing $LCR_DEBIAN_PACKAGE"
lcr_check_pin
exit 0
