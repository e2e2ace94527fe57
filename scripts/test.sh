#!/bin/bash
# The whole test run (`make test`, CI): setup, tree, kernel, userland,
# initramfs, guest tests on the qemu kernel, debug kernel and the same guest
# tests on it, KUnit, checkpatch. Keeps going after a failing stage where
# that makes sense, prints per-stage wall times and counts, and ends with
# one line "N passed, N failed". Exits non-zero on any failure.
#
# Stage logs: $LCR_BUILD/logs/test/<stage>.log. Environment:
#   LCR_STAGES="a b"   run only these stages (names as printed)
#   LCR_SKIP="a b"     skip these stages
#   LCR_TEST_TIMEOUT   per guest test program (default 120 s, debug x5)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

S=$LCR_REPO/scripts
logdir=$LCR_LOGS/test
mkdir -p "$logdir"
total_pass=0 total_fail=0
summary=()
failures=()
declare -A status
T0=$(lcr_now)

want_stage() {
	local s=$1
	if [ -n "${LCR_STAGES:-}" ]; then
		[[ " $LCR_STAGES " == *" $s "* ]] || return 1
	fi
	[[ " ${LCR_SKIP:-} " != *" $s "* ]]
}

# stage NAME COUNTS(yes|guest|no) DEPS CMD...: run CMD with output in the
# stage log; COUNTS=yes takes the last "N passed, N failed" line of the log,
# COUNTS=guest the last one before the guest's LINUXCR-EXIT marker. A failed
# stage without counts (or whose counts show no failure) adds 1 failure.
stage() {
	local name=$1 counts=$2 deps=$3; shift 3
	local log=$logdir/$name.log d rc t0 el p=0 f=0 line note=
	if ! want_stage "$name"; then
		status[$name]=skipped
		summary+=("$(printf '%-14s %-8s' "$name" skipped)")
		return 0
	fi
	for d in $deps; do
		if [ "${status[$d]:-}" = fail ] || [ "${status[$d]:-}" = blocked ]; then
			status[$name]=blocked
			printf '=== %s: not run (needs %s)\n' "$name" "$d"
			summary+=("$(printf '%-14s %-8s needs %s' "$name" "not run" "$d")")
			return 0
		fi
	done
	printf '=== %s: %s\n' "$name" "$*"
	t0=$(lcr_now)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	el=$(($(lcr_now) - t0))
	if [ "$counts" != no ]; then
		if [ "$counts" = guest ]; then
			# Only run-all's total, printed just before the exit marker,
			# counts; a guest that died before it counts as 1 failure.
			line=
			if grep -q '^LINUXCR-EXIT: ' "$log"; then
				line=$(sed -n '/^LINUXCR-EXIT: /q; p' "$log" |
					grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
			fi
		else
			line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
		fi
		if [ -n "$line" ]; then
			p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
		fi
		grep -E '^not ok - |^# failing|^SKIPPED|SKIPPED:' "$log" | head -n 100 | sed 's/^/    /'
		failures+=("$(grep -E '^not ok - ' "$log" | head -n 20 | sed "s/^/    $name: /")")
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			note=" (exit status $rc)"
		fi
	elif [ "$rc" != 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$rc" = 0 ]; then status[$name]=ok; else status[$name]=fail; fi
	if [ "$rc" != 0 ]; then
		printf '    FAILED (status %s), last lines of %s:\n' "$rc" "$log"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
	if [ "$counts" != no ]; then
		printf '    %s: %s passed, %s failed%s, %ss\n' "$name" "$p" "$f" "$note" "$el"
		summary+=("$(printf '%-14s %-8s %5ss  %s passed, %s failed%s' "$name" "${status[$name]}" "$el" "$p" "$f" "$note")")
	else
		printf '    %s: %s, %ss\n' "$name" "${status[$name]}" "$el"
		summary+=("$(printf '%-14s %-8s %5ss' "$name" "${status[$name]}" "$el")")
	fi
	return 0
}

build_userland() {
	local uapi=$LCR_BUILD/headers/include rc=0
	rm -rf "$LCR_BUILD/userspace" "$LCR_BUILD/tests"
	if [ -f "$LCR_REPO/userspace/Makefile" ]; then
		make -C "$LCR_REPO/userspace" O="$LCR_BUILD/userspace" UAPI="$uapi" || rc=1
	else
		echo "no userspace/Makefile"
	fi
	if [ -f "$LCR_REPO/tests/guest/Makefile" ]; then
		make -C "$LCR_REPO/tests/guest" O="$LCR_BUILD/tests" UAPI="$uapi" || rc=1
	else
		echo "no tests/guest/Makefile"
	fi
	return $rc
}

userland_check() {
	if [ -f "$LCR_REPO/userspace/Makefile" ] && grep -q '^check:' "$LCR_REPO/userspace/Makefile"; then
		make -C "$LCR_REPO/userspace" O="$LCR_BUILD/userspace" UAPI="$LCR_BUILD/headers/include" check
	else
		echo "no userspace check target"; echo "0 passed, 0 failed"
	fi
}

tt=${LCR_TEST_TIMEOUT:-120}
stage setup       no  ""         "$S/setup.sh"
stage tree        no  "setup"    "$S/tree.sh"
stage kernel      no  "tree"     "$S/build-kernel.sh" qemu
stage userland    no  "kernel"   build_userland
stage host-unit   yes "userland" userland_check
stage initramfs   no  "tree"     "$S/mkinitramfs.sh"
stage guest       guest "kernel initramfs" "$S/guest.sh" --timeout "${LCR_GUEST_TIMEOUT:-1200}" \
	"LCR_TEST_TIMEOUT=$tt /tests/run-all.sh"
stage kernel-debug no "tree"     "$S/build-kernel.sh" debug
stage guest-debug guest "kernel-debug initramfs" "$S/guest.sh" --debug --timeout "${LCR_GUEST_DEBUG_TIMEOUT:-2400}" \
	"LCR_TEST_TIMEOUT=$((tt * 5)) /tests/run-all.sh"
stage kunit       yes "tree"     "$S/kunit.sh"
stage checkpatch  yes "tree"     "$S/checkpatch.sh"

echo
echo "=== summary (logs in $logdir)"
for f in "${failures[@]}"; do
	[ -n "$f" ] && printf '%s\n' "$f"
done
printf '    %s\n' "${summary[@]}"
echo "    total wall time $(($(lcr_now) - T0))s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
