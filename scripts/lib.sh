# Common helpers for the linux-cr rig; sourced by scripts/*.sh.
# shellcheck shell=bash

LCR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${LCR_BUILD:=$LCR_REPO/build}"
mkdir -p "$LCR_BUILD"
LCR_BUILD=$(cd "$LCR_BUILD" && pwd)
: "${LCR_TREE:=$LCR_BUILD/linux}"
LCR_LOGS=$LCR_BUILD/logs
export LCR_REPO LCR_BUILD LCR_TREE LCR_LOGS

# shellcheck source=../kernel-config/pin
. "$LCR_REPO/kernel-config/pin"

LCR_TARBALL=${LCR_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
LCR_NPROC=${LCR_NPROC:-$(nproc)}

lcr_prog=$(basename "$0" .sh)
msg()  { printf '%s: %s\n' "$lcr_prog" "$*" >&2; }
warn() { printf '%s: WARNING: %s\n' "$lcr_prog" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$lcr_prog" "$*" >&2; exit 1; }

# Installed version of the pinned Debian source package ("" if missing).
lcr_installed_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$LCR_DEBIAN_PACKAGE" 2>/dev/null |
		awk '$3 == "installed" { print $4 }'
}

lcr_check_pin() {
	local v
	v=$(lcr_installed_version)
	if [ -z "$v" ]; then
		warn "$LCR_DEBIAN_PACKAGE is not installed (run scripts/setup.sh)"
	elif [ "$v" != "$LCR_DEBIAN_VERSION" ]; then
		warn "installed $LCR_DEBIAN_PACKAGE is $v but the series is pinned to $LCR_DEBIAN_VERSION (kernel-config/pin); trying anyway with git am -3"
	fi
}

# Patch files of the series, in order, without the cover letter.
lcr_patches() {
	local p
	for p in "$LCR_REPO"/patches/[0-9]*.patch; do
		[ -e "$p" ] || continue
		case $(basename "$p") in 0000-*) continue ;; esac
		printf '%s\n' "$p"
	done
}

# Hash of the series' patch files (names and contents).
lcr_patches_hash() {
	local p
	{
		lcr_patches | while read -r p; do
			printf '%s\n' "$(basename "$p")"
			sha256sum <"$p"
		done
	} | sha256sum | cut -d' ' -f1
}

# ccache for kernel builds.
lcr_use_ccache() {
	if [ -d /usr/lib/ccache ]; then
		case ":$PATH:" in *:/usr/lib/ccache:*) ;; *) PATH=/usr/lib/ccache:$PATH ;; esac
		export PATH
		: "${CCACHE_DIR:=${HOME:-/root}/.ccache}"
		export CCACHE_DIR
		# Same hits from any $LCR_BUILD (paths below it are made relative).
		: "${CCACHE_BASEDIR:=$LCR_BUILD}"
		export CCACHE_BASEDIR
		mkdir -p "$CCACHE_DIR"
		if [ ! -e "$CCACHE_DIR/.linuxcr-max-size" ]; then
			ccache -M 5G >/dev/null 2>&1 && touch "$CCACHE_DIR/.linuxcr-max-size"
		fi
	else
		warn "ccache not installed; building without it"
	fi
}

lcr_now() { date +%s; }

# Scripts running with set -e say where they stopped.
case $- in
*e*) trap 'printf "%s: ERROR: command failed (line %s): %s\n" "$lcr_prog" "$LINENO" "$BASH_COMMAND" >&2' ERR ;;
esac
