#!/bin/bash
# Run the series' KUnit tests with tools/testing/kunit/kunit.py (x86_64,
# QEMU) using kernel-config/.kunitconfig, build dir $LCR_BUILD/kunit.
#
# When the tree does not define CONFIG_CHECKPOINT_KUNIT_TEST (series not
# applied yet) there is nothing to run: the script says so, prints
# "0 passed, 0 failed" and exits 0 (nothing counted, nothing faked).
# LCR_KUNIT_SELFTEST=1 then runs KUnit's example suite instead, to check
# the rig. Extra arguments go to kunit.py run (e.g. a suite glob).
# Environment: LCR_KUNIT_TIMEOUT (seconds for the test run, default 900).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$LCR_TREE/tools/testing/kunit/kunit.py" ] || die "no kernel tree at $LCR_TREE: run scripts/tree.sh"
kunitconfig=$LCR_REPO/kernel-config/.kunitconfig
builddir=$LCR_BUILD/kunit
if ! find -H "$LCR_TREE" -path "$LCR_TREE/.git" -prune -o -name 'Kconfig*' -type f -print0 |
	xargs -0 grep -qE '^[[:space:]]*config[[:space:]]+CHECKPOINT_KUNIT_TEST[[:space:]]*$'; then
	if [ "${LCR_KUNIT_SELFTEST:-0}" = 1 ]; then
		msg "CONFIG_CHECKPOINT_KUNIT_TEST is not defined in $LCR_TREE: running KUnit's example suite only (LCR_KUNIT_SELFTEST=1)"
		kunitconfig=$LCR_BUILD/kunit-selftest.kunitconfig
		printf 'CONFIG_KUNIT=y\nCONFIG_KUNIT_EXAMPLE_TEST=y\n' >"$kunitconfig"
		builddir=$LCR_BUILD/kunit-selftest
	else
		msg "SKIPPED: CONFIG_CHECKPOINT_KUNIT_TEST is not defined in $LCR_TREE (series without KUnit tests yet); nothing to run"
		echo "0 passed, 0 failed"
		exit 0
	fi
fi

lcr_use_ccache
mkdir -p "$LCR_LOGS" "$builddir"
log=$LCR_LOGS/kunit.log
t0=$(lcr_now)
(cd "$LCR_TREE" && python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig="$kunitconfig" --build_dir="$builddir" --jobs="$LCR_NPROC" \
	--timeout="${LCR_KUNIT_TIMEOUT:-900}" "$@") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
msg "kunit.py finished in $(($(lcr_now) - t0))s with status $rc (log $log)"

line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log" | tail -n1)
if [ -z "$line" ]; then
	msg "FAILED: kunit.py reported no results (build or boot failure?)"
	echo "0 passed, 1 failed"
	exit 1
fi
get() { sed -nE "s/.*[ ,]$1: ([0-9]+).*/\1/p" <<<"$line"; }
passed=$(get passed); failed=$(get failed); crashed=$(get crashed); errors=$(get errors)
bad=$(( ${failed:-0} + ${crashed:-0} + ${errors:-0} ))
[ "$rc" = 0 ] || [ "$bad" -gt 0 ] || bad=1
echo "${passed:-0} passed, $bad failed"
[ "$rc" = 0 ] && [ "$bad" = 0 ]
