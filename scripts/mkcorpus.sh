#!/bin/bash
# Make the restart(2) regression corpus (tests/corpus/*.img) again from
# seed images of the current format, e.g. after the image format changed:
# boot the guest and let t_restart_fuzz print its seeds (T_FUZZ_EMIT=seeds),
# extract them, and apply the change of each corpus image to its seed
# (tests/corpus/mkcorpus.c, which checks every image with the image
# library: it must parse up to the record its change breaks).
#
#   scripts/mkcorpus.sh [--log LOG] [--seeds DIR] [OUT_DIR]
#   scripts/mkcorpus.sh --check [DIR]
#
# --log LOG takes the seeds from a guest log that has them instead of
# booting; --seeds DIR from seed-*.img files. OUT_DIR defaults to
# tests/corpus. --check only checks the images of DIR (default
# tests/corpus) with mkcorpus -c and shows where ckptinfo stops in each.
# Needs the userland built into $LCR_BUILD/userspace against
# $LCR_BUILD/headers/include (as scripts/test.sh builds it); booting also
# needs the initramfs and a kernel (scripts/guest.sh: LCR_KERNEL...).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log= seeds= check=0
while [ $# -gt 0 ]; do
	case $1 in
	--log) log=$2; shift ;;
	--seeds) seeds=$2; shift ;;
	--check) check=1 ;;
	-h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
out=${1:-$LCR_REPO/tests/corpus}

uapi=$LCR_BUILD/headers/include
lib=$LCR_BUILD/userspace/lib/ckptimg.o
tool=$LCR_BUILD/mkcorpus
[ -f "$lib" ] && [ -f "$uapi/linux/checkpoint_hdr.h" ] ||
	die "no $lib or $uapi: build the userland first (make -C userspace O=$LCR_BUILD/userspace UAPI=$uapi)"
cc -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$LCR_REPO/userspace/lib" -I"$uapi" \
	-o "$tool" "$LCR_REPO/tests/corpus/mkcorpus.c" "$lib"

show() {
	local f last
	for f in "$1"/*.img; do
		last=$("$LCR_BUILD/userspace/ckptinfo" "$f" 2>&1 | tail -n1 || true)
		printf 'ckptinfo %s: %s\n' "$(basename "$f")" "${last#ckptinfo: }"
	done
}

if [ "$check" = 1 ]; then
	rc=0
	"$tool" -c "$out" || rc=1
	show "$out"
	exit $rc
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$seeds" ]; then
	if [ -z "$log" ]; then
		log=$tmp/seeds.log
		msg "booting the guest for the seeds (log $log)"
		"$LCR_REPO/scripts/guest.sh" --log "$log" \
			"T_FUZZ_EMIT=seeds T_FUZZ_DRY=1 T_FUZZ_SECS=0 /tests/t_restart_fuzz" \
			>/dev/null || warn "the fuzzer reported failures (see above in $log)"
		grep -a '^not ok' "$log" >&2 || true
	fi
	seeds=$tmp/seeds
	"$LCR_REPO/scripts/extract-repro.sh" --all "$log" "$seeds" >/dev/null
fi
mkdir -p "$out"
"$tool" "$seeds" "$out"
msg "wrote the corpus into $out; check it in the guest: /tests/run-all.sh t_restart_corpus"
