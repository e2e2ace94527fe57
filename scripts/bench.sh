#!/bin/bash
# The benchmark of checkpoint(2)/restart(2) (`make bench`): boots the bench
# kernel ($LCR_BUILD/kernel-bench: scripts/build-kernel.sh bench, which has
# what CRIU needs) with its own initramfs (scripts/mkinitramfs.sh --bench)
# and runs /bench/ckpt-bench (tests/bench/ckpt-bench.c) in it: memcpy and
# tmpfs bandwidth, checkpoint(2)/restart(2) of a process with N MiB of
# memory, and CRIU on the same process, all in the same guest run.
#
#   scripts/bench.sh [--sizes 1,64,256] [--rounds 3] [--no-criu]
#
# Prints the tables; the machine-readable "BENCH key=value ..." lines go to
# $LCR_LOGS/bench-<date>.txt too (bench-latest.txt), with a first line
# "BENCH what=meta ..." (date, kernel, accelerator, guest memory), and the
# guest's console to $LCR_LOGS/bench-<date>.log. Not part of `make test`:
# timings are reported, never asserted.
# Environment: LCR_BUILD, LCR_KERNEL (boot another bzImage: without
# bench.config CRIU fails its start-up probes and is left out),
# LCR_QEMU_MEM (2G), LCR_GUEST_TIMEOUT (1800).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
S=$LCR_REPO/scripts

args=() criu=1
while [ $# -gt 0 ]; do
	case $1 in
	--sizes | --rounds) [ $# -ge 2 ] || die "$1 needs a value"; args+=("$1" "$2"); shift ;;
	--sizes=* | --rounds=*) args+=("$1") ;;
	--no-criu) criu=0; args+=("$1") ;;
	-h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see $0 --help)" ;;
	esac
	shift
done

kernel=${LCR_KERNEL:-$LCR_BUILD/kernel-bench/arch/x86/boot/bzImage}
[ -f "$kernel" ] || die "no bench kernel $kernel: run make kernel-bench (scripts/build-kernel.sh bench)"
uapi=$LCR_BUILD/headers/include
[ -f "$uapi/linux/checkpoint_hdr.h" ] || die "no uapi headers in $uapi: run make kernel-bench"

if [ "$criu" = 1 ] && ! "$S/setup.sh" criu; then
	warn "could not install criu: the benchmark runs without it"
fi
make -s -C "$LCR_REPO/userspace" O="$LCR_BUILD/userspace" UAPI="$uapi" ||
	die "userspace/ does not build"
make -s -C "$LCR_REPO/tests/bench" O="$LCR_BUILD/bench" UAPI="$uapi" ||
	die "tests/bench/ does not build"
"$S/mkinitramfs.sh" --bench || exit 1

mkdir -p "$LCR_LOGS"
stamp=$(date +%Y%m%d-%H%M%S)
log=$LCR_LOGS/bench-$stamp.log results=$LCR_LOGS/bench-$stamp.txt
t0=$(lcr_now)
LCR_KERNEL=$kernel LCR_INITRD=$LCR_BUILD/initramfs-bench.cpio.gz \
	"$S/guest.sh" --timeout "${LCR_GUEST_TIMEOUT:-1800}" --log "$log" \
	/bench/ckpt-bench "${args[@]}"
rc=$?

release=$(sed -n 's/^LINUXCR-START: \([^ ]*\) .*/\1/p' "$log" | head -n1)
{
	printf 'BENCH what=meta date=%s kernel=%s accel=%s mem=%s host=%s\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${release:-?}" \
		"$(cat "$LCR_BUILD/accel" 2>/dev/null || echo ?)" \
		"${LCR_QEMU_MEM:-2G}" "$(hostname)"
	grep '^BENCH ' "$log"
} >"$results"
ln -sfn "$(basename "$results")" "$LCR_LOGS/bench-latest.txt"
msg "$(grep -c '^BENCH ' "$results") BENCH lines in $results; guest log $log; $(($(lcr_now) - t0)) s in the guest"
exit "$rc"
