#!/bin/bash
# Extract the reproducers a guest test printed on the console (between
# LINUXCR-REPRO-BEGIN and LINUXCR-REPRO-END markers, see
# tests/guest/lib/tfuzz.c) into image files.
#
#   scripts/extract-repro.sh [--all] LOG [DIR]
#
# Writes DIR/NAME.img for each reproducer NAME (DIR defaults to
# tests/corpus/pending: a found bug goes there until the kernel is fixed,
# then it moves to tests/corpus/). Checks each file against the length
# and cksum(1) CRC of its END marker. Kernel messages printed into the
# middle of a line (they end with a newline of their own) are cut out
# first; a reproducer still damaged is reported and not written.
# Prints one line per file; exits 1 if any reproducer was damaged.
# Without --all, reproducers whose name starts with "seed-" (seed images,
# for host-side work) are skipped.
set -eu
. "$(dirname "$0")/lib.sh"

all=0
if [ "${1:-}" = --all ]; then
	all=1
	shift
fi
[ $# -ge 1 ] || die "usage: $0 [--all] LOG [DIR]"
log=$1
dir=${2:-$LCR_REPO/tests/corpus/pending}
[ -r "$log" ] || die "cannot read $log"
mkdir -p "$dir"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
perl -0pe 's/\[ *\d+\.\d+\] [^\n]*\n//g' "$log" >"$tmp/log"
log=$tmp/log
bad=0 n=0
# NAME LEN on the BEGIN line; NAME CRC LEN on the END line.
while read -r _ name crc len; do
	case $name in
	*/* | .* | "") warn "odd reproducer name '$name', skipped"; continue ;;
	seed-*) [ "$all" = 1 ] || continue ;;
	esac
	grep -a "^LINUXCR-REPRO: $name " "$log" | cut -d' ' -f3 | tr -d '\n' |
		base64 -d >"$tmp/$name.img" 2>/dev/null || true
	set -- $(cksum <"$tmp/$name.img")
	if [ "$1" != "$crc" ] || [ "$2" != "$len" ]; then
		warn "$name: damaged in the log (cksum $1 $2, expected $crc $len), not written"
		bad=1
		continue
	fi
	mv "$tmp/$name.img" "$dir/$name.img"
	n=$((n + 1))
	printf '%s/%s.img (%s bytes): %s\n' "$dir" "$name" "$len" \
		"$(sed -n "/^LINUXCR-REPRO-BEGIN $name /{n;s/^# why: //p;q}" "$log")"
done < <(grep -a '^LINUXCR-REPRO-END ' "$log" | sort -u -k2,2)
msg "$n reproducer(s) written to $dir"
exit $bad
