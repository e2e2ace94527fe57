#!/bin/bash
# Build the guest initramfs $LCR_BUILD/initramfs.cpio.gz (cpio newc, gzip):
# busybox-static with applet links, /init (scripts/guest-init.sh), users
# root and user (1000:1000), the userland from $LCR_BUILD/userspace
# (checkpoint, restart, ckptinfo -> /bin) and the guest tests from
# $LCR_BUILD/tests (t_* -> /tests) plus tests/guest/*.sh (-> /tests) and
# the corpus tests/corpus/*.img (-> /tests/corpus).
#
#   scripts/mkinitramfs.sh --bench   the benchmark's initramfs instead,
#       $LCR_BUILD/initramfs-bench.cpio.gz: the same without the tests,
#       with $LCR_BUILD/bench/ckpt-bench (-> /bench) and, when the host has
#       it, criu with its shared libraries (for scripts/bench.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench=0
case ${1:-} in
--bench) bench=1 ;;
"") ;;
*) die "usage: $0 [--bench]" ;;
esac
BUSYBOX=${BUSYBOX:-/bin/busybox}
out=$LCR_BUILD/initramfs.cpio.gz
root=$LCR_BUILD/initramfs-root
if [ "$bench" = 1 ]; then
	out=$LCR_BUILD/initramfs-bench.cpio.gz
	root=$LCR_BUILD/initramfs-bench-root
fi
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing: run scripts/setup.sh (busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' || warn "$BUSYBOX may not be static"

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root,home/user,tests,var/tmp,run}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
install -m 755 "$BUSYBOX" "$root/bin/busybox"
"$BUSYBOX" --list-full | while read -r a; do
	[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
install -m 755 "$LCR_REPO/scripts/guest-init.sh" "$root/init"
cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:unprivileged test user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GR
echo linuxcr >"$root/etc/hostname"
printf '127.0.0.1 localhost linuxcr\n' >"$root/etc/hosts"

if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi

nuser=0 ntest=0
for b in checkpoint restart ckptinfo; do
	if [ -x "$LCR_BUILD/userspace/$b" ]; then
		install -m 755 "$LCR_BUILD/userspace/$b" "$root/bin/$b"
		nuser=$((nuser + 1))
	fi
done
# The benchmark: its program and criu (a dynamic binary: its libraries and
# loader go along, at the paths ldd gives).
copy_with_libs() {
	local bin=$1 dest=$2 lib
	install -D -m 755 "$bin" "$root$dest"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		[ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
	done
}
if [ "$bench" = 1 ]; then
	[ -x "$LCR_BUILD/bench/ckpt-bench" ] ||
		die "no $LCR_BUILD/bench/ckpt-bench: make -C tests/bench O=$LCR_BUILD/bench"
	install -D -m 755 "$LCR_BUILD/bench/ckpt-bench" "$root/bench/ckpt-bench"
	criu=$(command -v criu || echo /usr/sbin/criu)
	if [ -x "$criu" ]; then
		copy_with_libs "$criu" /usr/sbin/criu
		mkdir -p "$root/run"
	else
		warn "criu is not installed (apt-get install criu): the benchmark runs without it"
	fi
fi
for t in "$LCR_BUILD"/tests/t_*; do
	[ "$bench" = 0 ] || break
	[ -f "$t" ] && [ -x "$t" ] || continue
	case $t in *.o | *.d) continue ;; esac
	install -m 755 "$t" "$root/tests/"
	ntest=$((ntest + 1))
done
# Programs the tests and the demo run, not tests themselves
for p in counter; do
	[ "$bench" = 0 ] || break
	[ -x "$LCR_BUILD/tests/$p" ] && install -m 755 "$LCR_BUILD/tests/$p" "$root/tests/"
done
# The restart(2) regression corpus (tests/corpus/*.img, not pending/)
mkdir -p "$root/tests/corpus"
for c in "$LCR_REPO"/tests/corpus/*.img; do
	[ "$bench" = 0 ] || break
	[ -f "$c" ] && install -m 644 "$c" "$root/tests/corpus/"
done
for s in "$LCR_REPO"/tests/guest/*.sh; do
	[ "$bench" = 0 ] || break
	[ -f "$s" ] || continue
	install -m 755 "$s" "$root/tests/"
done

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
if [ "$bench" = 1 ]; then
	msg "$out: $(du -h "$out" | cut -f1), $nuser userland tool(s), /bench/ckpt-bench, criu: $([ -x "$root/usr/sbin/criu" ] && echo yes || echo no)"
else
	msg "$out: $(du -h "$out" | cut -f1), $nuser userland tool(s), $ntest test program(s), $(ls "$LCR_REPO"/tests/guest/*.sh 2>/dev/null | wc -l) script(s)"
fi
