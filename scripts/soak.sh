#!/bin/bash
# Soak restart(2) with the image fuzzer: boot the guest and run
# t_restart_fuzz for MINUTES (default 30; every mutant restarted with
# RESTART_TASKSELF and as a tree under a coordinator), then report mutants tried,
# mutants per second, the outcome histogram and anything found; the
# reproducers go to $LCR_BUILD/soak/ (see scripts/extract-repro.sh).
#
#   scripts/soak.sh [--debug] [--seed N] [MINUTES]     (make soak)
#
# --debug boots the debug kernel (KASAN, lockdep, kmemleak...; about 5x
# slower). Environment as for scripts/guest.sh (LCR_BUILD, LCR_KERNEL).
# Exit status: 0 when nothing was found, 1 otherwise.
set -eu
. "$(dirname "$0")/lib.sh"

debug= seed= minutes=30
while [ $# -gt 0 ]; do
	case $1 in
	--debug) debug=--debug ;;
	--seed) seed=$2; shift ;;
	-h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) minutes=$1 ;;
	esac
	shift
done
case $minutes in '' | *[!0-9]*) die "MINUTES must be a number: $minutes" ;; esac

out=$LCR_BUILD/soak
mkdir -p "$out"
log=$out/soak-$(date +%Y%m%d-%H%M%S).log
secs=$((minutes * 60))
cmd="T_FUZZ_SECS=$secs ${seed:+T_SEED=$seed }/tests/t_restart_fuzz"
msg "fuzzing for $minutes min${debug:+ on the debug kernel}; log $log"
rc=0
# Seeds, oracle and boot take a few minutes more on the debug kernel.
"$LCR_REPO/scripts/guest.sh" $debug --timeout $((secs + 900)) --log "$log" "$cmd" \
	>/dev/null || rc=$?

stats=$(grep -a '^FUZZ-STATS ' "$log" | tail -n1 || true)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$stats"; }
echo "=== soak: $minutes min${debug:+ (debug kernel)}, $(grep -a -m1 -o 'T_SEED=[0-9]*' "$log" || echo 'no seed')"
if [ -n "$stats" ]; then
	echo "mutants tried:  $(field mutants) ($(field systematic) systematic), each restarted in $(field modes) mode(s): $(field runs) runs"
	echo "mutants/s:      $(field per_s) ($(field runs_per_s) runs/s)"
	grep -a '^# fuzz outcomes: ' "$log" | tail -n1 | sed 's/^# fuzz outcomes: /outcomes:       /'
	grep -a '^# fuzz outcomes, ' "$log" | tail -n2 | sed 's/^# fuzz outcomes, \([a-z]*\): /  \1: /'
	echo "bad mutants:    $(field bad) (kernel reports $(field reports), hangs $(field hangs), stuck in restart $(field slow), left behind $(field left), errno without log $(field nolog))"
else
	echo "no statistics: the fuzzer did not finish"
fi
grep -a -E '^# BAD |^not ok ' "$log" | head -n 20 || true
case $rc in
0) ;;
123) echo "kernel problems on the console (see $log)" ;;
124) echo "the guest timed out: a hang? (see $log)" ;;
*) echo "the guest exited with status $rc (see $log)" ;;
esac
if grep -a -q '^LINUXCR-REPRO-END ' "$log"; then
	"$LCR_REPO/scripts/extract-repro.sh" "$log" "$out" || true
else
	echo "no reproducers"
fi
[ "$rc" = 0 ] && [ "$(field bad)" = 0 ]
