#!/bin/bash
# Build the guest kernel out of tree: scripts/build-kernel.sh [qemu|debug|bench]
#   qemu:  tinyconfig + qemu.config + checkpoint.config -> $LCR_BUILD/kernel-qemu
#          (also installs the uapi headers into $LCR_BUILD/headers/include,
#          as bench does)
#   debug: the same + debug.config (KASAN, lockdep, kmemleak, ...)
#          -> $LCR_BUILD/kernel-debug
#   bench: the same as qemu + bench.config (what CRIU needs, for
#          scripts/bench.sh) -> $LCR_BUILD/kernel-bench
# The configuration is regenerated only when the fragments or any Kconfig
# file of the tree changed, so a no-change rebuild is just `make bzImage`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-qemu}
case $flavor in
qemu)  frags=(qemu.config checkpoint.config) ;;
debug) frags=(qemu.config checkpoint.config debug.config) ;;
bench) frags=(qemu.config checkpoint.config bench.config) ;;
*) die "usage: $0 [qemu|debug|bench]" ;;
esac
fragpaths=()
for f in "${frags[@]}"; do fragpaths+=("$LCR_REPO/kernel-config/$f"); done

[ -f "$LCR_TREE/Makefile" ] || die "no kernel tree at $LCR_TREE: run scripts/tree.sh (make tree)"
O=$LCR_BUILD/kernel-$flavor
mkdir -p "$O" "$LCR_LOGS"
lcr_use_ccache
MAKE=(make -C "$LCR_TREE" O="$O" ARCH=x86_64 -j"$LCR_NPROC")

kconfig_files() {
	find -H "$LCR_TREE" -path "$LCR_TREE/.git" -prune -o -name 'Kconfig*' -type f -print | LC_ALL=C sort
}

stamp=$({ cat "${fragpaths[@]}"; kconfig_files | xargs cat; } | sha256sum | cut -d' ' -f1)
stampfile=$O/.linuxcr-config-stamp
if [ ! -f "$O/.config" ] || [ ! -f "$stampfile" ] || [ "$(cat "$stampfile")" != "$stamp" ]; then
	msg "configuring $O: tinyconfig + ${frags[*]}"
	[ -f "$O/.config" ] && cp "$O/.config" "$O/.config.linuxcr-prev"
	"${MAKE[@]}" -s tinyconfig >/dev/null
	(cd "$LCR_TREE" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$O" "$O/.config" "${fragpaths[@]}" >"$O/.merge.log" 2>&1) ||
		{ cat "$O/.merge.log" >&2; die "merge_config.sh failed"; }
	"${MAKE[@]}" -s olddefconfig
	# Keep the old file (and its timestamp) when nothing changed.
	if [ -f "$O/.config.linuxcr-prev" ] && cmp -s "$O/.config" "$O/.config.linuxcr-prev"; then
		mv "$O/.config.linuxcr-prev" "$O/.config"
	fi
	rm -f "$O/.config.linuxcr-prev"
	echo "$stamp" >"$stampfile"
fi

# Check that every fragment option ended up as asked. Options the tree does
# not define (e.g. CONFIG_CHECKPOINT before the series adds it) are notes;
# mismatches are errors for qemu.config/checkpoint.config, warnings for
# debug.config.
defined=$(kconfig_files | xargs grep -hoE '^[[:space:]]*(menu)?config[[:space:]]+[A-Za-z0-9_]+' |
	awk '{ print $2 }' | LC_ALL=C sort -u || true)
errors=0
for f in "${fragpaths[@]}"; do
	fname=$(basename "$f")
	while IFS='|' read -r sym want; do
		have=$(sed -n "s/^CONFIG_${sym}=//p" "$O/.config" | head -n1 | sed 's/"//g')
		[ -n "$have" ] || have=n
		[ "$have" = "$want" ] && continue
		if ! grep -qx "$sym" <<<"$defined"; then
			msg "note: CONFIG_$sym ($fname) is not defined in this tree"
		elif [ "$fname" = debug.config ]; then
			warn "CONFIG_$sym=$want ($fname) ended up as $have"
		else
			printf '%s: ERROR: CONFIG_%s=%s (%s) ended up as %s\n' "$lcr_prog" "$sym" "$want" "$fname" "$have" >&2
			errors=$((errors + 1))
		fi
	done < <(sed -nE -e 's/^CONFIG_([A-Za-z0-9_]+)=(.*)$/\1|\2/p' \
		-e 's/^# CONFIG_([A-Za-z0-9_]+) is not set$/\1|n/p' "$f" | sed 's/"//g')
done
[ "$errors" = 0 ] || die "$errors fragment option(s) not set in $O/.config (missing dependency?)"

msg "building bzImage in $O"
t0=$(lcr_now)
"${MAKE[@]}" bzImage
msg "bzImage built in $(($(lcr_now) - t0)) s: $O/arch/x86/boot/bzImage"

if [ "$flavor" = qemu ] || [ "$flavor" = bench ]; then
	"${MAKE[@]}" -s headers_install INSTALL_HDR_PATH="$LCR_BUILD/headers"
	msg "uapi headers in $LCR_BUILD/headers/include"
fi
