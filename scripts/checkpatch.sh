#!/bin/bash
# Run the kernel tree's scripts/checkpatch.pl --strict over every patch of
# the series (patches/[0-9]*.patch except the cover letter). Each patch is
# one test: it passes with no ERROR, WARNING or CHECK. Full reports go to
# $LCR_BUILD/logs/checkpatch/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

cp=$LCR_TREE/scripts/checkpatch.pl
[ -f "$cp" ] || die "no $cp: run scripts/tree.sh"
logdir=$LCR_LOGS/checkpatch
# checkpatch.pl runs scripts/spdxcheck.py (python3-ply, python3-git from
# apt): prefer Debian's python3 over any other python3 found first in PATH.
export PATH=/usr/bin:$PATH
mkdir -p "$logdir"
pass=0 fail=0
while read -r p; do
	[ -n "$p" ] || continue
	name=$(basename "$p")
	log=$logdir/${name%.patch}.log
	(cd "$LCR_TREE" && perl scripts/checkpatch.pl --strict --color=never --showfile "$p") >"$log" 2>&1
	total=$(grep -E '^total: [0-9]+ errors, [0-9]+ warnings' "$log" | tail -n1)
	if grep -q 'ModuleNotFoundError' "$log"; then
		warn "spdxcheck.py could not run (python3-ply/python3-git missing?): SPDX tags not checked for $name"
	fi
	# "0 checks" or no checks field (without --strict); anything else fails
	if [ -n "$total" ] && grep -qE '^total: 0 errors, 0 warnings, (0 checks, )?[0-9]+ lines' "$log"; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name: ${total:-checkpatch.pl failed}"
		grep -E '(^|: )(ERROR|WARNING|CHECK):' -A3 "$log" | head -n 40 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done < <(lcr_patches)
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
