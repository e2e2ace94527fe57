#!/bin/bash
# Boot the guest kernel with the initramfs and run a command in it.
#
#   scripts/guest.sh [--debug] [--timeout SECS] [--log FILE] [--append ARGS]
#                    [--no-scan] [--shell] COMMAND [ARGS...]
#
# COMMAND (with ARGS, joined by spaces) is a shell command line run in the
# guest under setsid; its exit status becomes guest.sh's exit status
# (through the "LINUXCR-EXIT: N" marker). Other exit statuses:
#   124  the guest did not finish within the timeout and was killed
#   125  the guest ended without an exit marker (panic, QEMU failure)
#   123  the command succeeded but the console shows kernel problems
#        (BUG/WARNING/Oops/KASAN/lockdep/kmemleak/hung task ...)
# Environment: LCR_BUILD, LCR_ACCEL=kvm|tcg (skip detection),
# LCR_GUEST_TIMEOUT (default 600, debug 1800), LCR_QEMU_MEM (2G),
# LCR_QEMU_SMP (2), LCR_KERNEL (a bzImage to boot instead of the build's),
# LCR_INITRD (an initramfs instead of $LCR_BUILD/initramfs.cpio.gz).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

flavor=qemu timeout= log= scan=1 shell=0 append=
while [ $# -gt 0 ]; do
	case $1 in
	--debug) flavor=debug ;;
	--timeout) timeout=$2; shift ;;
	--timeout=*) timeout=${1#*=} ;;
	--log) log=$2; shift ;;
	--log=*) log=${1#*=} ;;
	--append) append=$2; shift ;;
	--no-scan) scan=0 ;;
	--shell) shell=1 ;;
	-h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || [ "$shell" = 1 ] || die "usage: $0 [--debug] [--timeout SECS] [--log FILE] COMMAND [ARGS...]"

if [ -z "$timeout" ]; then
	if [ "$flavor" = debug ]; then timeout=${LCR_GUEST_TIMEOUT:-1800}; else timeout=${LCR_GUEST_TIMEOUT:-600}; fi
fi
kernel=${LCR_KERNEL:-$LCR_BUILD/kernel-$flavor/arch/x86/boot/bzImage}
initrd=${LCR_INITRD:-$LCR_BUILD/initramfs.cpio.gz}
[ -f "$kernel" ] || die "no kernel $kernel: run scripts/build-kernel.sh $flavor"
[ -f "$initrd" ] || die "no initramfs $initrd: run scripts/mkinitramfs.sh"
mkdir -p "$LCR_LOGS"
if [ -z "$log" ]; then
	log=$LCR_LOGS/guest-$flavor-$(date +%Y%m%d-%H%M%S).log
	ln -sfn "$(basename "$log")" "$LCR_LOGS/guest-$flavor-latest.log"
fi
QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || die "$QEMU not found: run scripts/setup.sh"
cmdline_base="console=ttyS0,115200 panic=-1 loglevel=7 printk.time=1"

# Does KVM work here? /dev/kvm may exist while guests hang (no vmx/svm):
# boot the kernel once with KVM and a short timeout; cache the answer.
detect_accel() {
	local cache=$LCR_BUILD/accel
	if [ -n "${LCR_ACCEL:-}" ]; then echo "$LCR_ACCEL"; return; fi
	if [ -s "$cache" ]; then cat "$cache"; return; fi
	local acc=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		msg "checking whether KVM works (20 s max, cached in $cache)"
		if timeout -k 5 20 "$QEMU" -accel kvm -cpu host -m 256M -smp 1 \
			-nodefaults -nographic -serial stdio -no-reboot \
			-kernel "$kernel" -initrd "$initrd" \
			-append "$cmdline_base lcr.run=/bin/true" </dev/null 2>&1 |
			tr -d '\r' | grep -q '^LINUXCR-EXIT: 0'; then
			acc=kvm
		fi
	fi
	msg "accelerator: $acc"
	echo "$acc" >"$cache"
	echo "$acc"
}
accel=$(detect_accel)
if [ "$accel" = kvm ]; then
	accel_args=(-accel kvm -cpu host)
else
	accel_args=(-accel tcg,thread=multi -cpu max)
fi

append_cmd=
if [ "$shell" = 0 ]; then
	append_cmd="lcr.cmd=$(printf '%s' "$*" | base64 -w0)"
fi
cmdline="$cmdline_base $append_cmd $append"
[ ${#cmdline} -lt 2000 ] || die "command too long for the kernel command line (${#cmdline} bytes)"

qemu_cmd=("$QEMU" "${accel_args[@]}" -m "${LCR_QEMU_MEM:-2G}" -smp "${LCR_QEMU_SMP:-2}"
	-nodefaults -nographic -serial stdio -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline")

msg "booting $flavor kernel ($accel, timeout ${timeout}s), log $log"
[ "$shell" = 1 ] || msg "command: $*"
t0=$(lcr_now)
if [ "$shell" = 1 ]; then
	"${qemu_cmd[@]}" 2>&1 | tee "$log"
	exit "${PIPESTATUS[0]}"
fi
timeout -k 10 "$timeout" "${qemu_cmd[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$log"
qrc=${PIPESTATUS[0]}
elapsed=$(($(lcr_now) - t0))

status=$(sed -n 's/^LINUXCR-EXIT: \([0-9][0-9]*\)$/\1/p' "$log" | tail -n1)
rc=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	msg "TIMEOUT: the guest did not finish within ${timeout}s and was killed (log: $log)"
	rc=124
elif [ -z "$status" ]; then
	msg "FAILED: the guest ended without a LINUXCR-EXIT marker (kernel panic or QEMU error, QEMU status $qrc; log: $log)"
	rc=125
else
	rc=$status
fi

if [ "$scan" = 1 ]; then
	# Kernel lines carry a printk timestamp (possibly in the middle of a line
	# of userland output); userland output does not.
	kpat='\[ *[0-9]+\.[0-9]+\] .*(BUG:|WARNING:|Oops|general protection fault|kernel BUG at|Kernel panic|KASAN:|UBSAN:|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked for more than|detected stalls on CPU|self-detected stall|unreferenced object|Call Trace:)'
	problems=$(grep -nE "$kpat|^unreferenced object|^LINUXCR-KMEMLEAK-BEGIN" "$log" || true)
	if [ -n "$problems" ]; then
		msg "kernel problems on the console ($(grep -c . <<<"$problems") line(s)); first report:"
		first=$(head -n1 <<<"$problems" | cut -d: -f1)
		sed -n "${first},$((first + 60))p" "$log" | sed 's/^/    | /' >&2
		msg "all matching lines:"
		head -n 40 <<<"$problems" | sed 's/^/    /' >&2
		[ "$rc" = 0 ] && rc=123
	fi
fi
msg "guest finished in ${elapsed}s: exit status $rc${status:+ (command: $status)}"
exit "$rc"
