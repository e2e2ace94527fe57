#!/bin/sh
# In-guest test driver: runs every /tests/t_* program (and t_*.sh script),
# each under a timeout, and sums their results.
#
#   /tests/run-all.sh [NAME...]      run only the named tests (t_foo or foo)
#
# Each test prints "ok - name" / "not ok - name: reason" lines and a final
# "N passed, N failed" line. A test that crashes, times out, exits non-zero
# without reporting a failure, or prints no final line counts as one more
# failure. The last line printed is the total: "N passed, N failed"; the
# exit status is 0 only if nothing failed.
# Environment: LCR_TEST_TIMEOUT (seconds per test, default 120).
set -o pipefail 2>/dev/null
dir=$(cd "$(dirname "$0")" && pwd)
T=${LCR_TEST_TIMEOUT:-120}
total_pass=0
total_fail=0
ntests=0
failed_tests=

selected() {
	[ -z "$sel" ] && return 0
	for s in $sel; do
		case $1 in "$s" | "t_$s" | "$s.sh" | "t_$s.sh") return 0 ;; esac
	done
	return 1
}
sel="$*"

# Kill what is left of the session SID (a test's stray children).
kill_session() {
	ks_sid=$1
	for st in /proc/[0-9]*/stat; do
		{ read -r line <"$st"; } 2>/dev/null || continue
		# after "pid (comm) ": state ppid pgrp session ...
		set -- ${line##*") "}
		[ "${4:-}" = "$ks_sid" ] || continue
		st=${st#/proc/}
		kill -KILL "${st%/stat}" 2>/dev/null
	done
}

# Run test $1 in its own session with a watchdog: after $T seconds the
# session is killed. Leftover processes are killed too, so the output
# pipe closes. Returns the test's exit status.
runtest() {
	cd /tmp || return 1
	setsid "$1" </dev/null &
	tpid=$!
	(
		sleep "$T"
		echo "$tpid" >/tmp/run-all.timeout
		kill -KILL "$tpid"
	) >/dev/null 2>&1 &
	wpid=$!
	wait "$tpid"
	trc=$?
	kill "$wpid" 2>/dev/null
	kill_session "$tpid"
	return $trc
}

for t in "$dir"/t_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	selected "$name" || continue
	ntests=$((ntests + 1))
	out=/tmp/run-all.$name.out
	echo "# --- $name"
	start=$(date +%s)
	rm -f /tmp/run-all.timeout
	runtest "$t" 2>&1 | tee "$out"
	rc=$?
	el=$(($(date +%s) - start))
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
	if [ -n "$summary" ]; then
		p=${summary%% passed*}
		f=${summary#*passed, }
		f=${f%% failed*}
	else
		p=$(grep -c '^ok - ' "$out")
		f=$(grep -c '^not ok - ' "$out")
	fi
	extra=
	if [ -f /tmp/run-all.timeout ]; then
		extra="timed out after ${T}s"
	elif [ "$rc" -gt 128 ]; then
		extra="killed by signal $((rc - 128))"
	elif [ -z "$summary" ]; then
		extra="no final 'N passed, N failed' line (exit status $rc)"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		extra="exit status $rc but no failure reported"
	fi
	if [ -n "$extra" ]; then
		echo "not ok - $name: $extra"
		f=$((f + 1))
	fi
	echo "# $name: $p passed, $f failed (${el}s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -eq 0 ] || failed_tests="$failed_tests $name"
	rm -f "$out"
done

[ $ntests -gt 0 ] || echo "# no test programs in $dir"
[ -z "$failed_tests" ] || echo "# failing:$failed_tests"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
