#!/bin/sh
# linux-cr guest /init (busybox sh). Installed by scripts/mkinitramfs.sh.
#
# Kernel command line:
#   lcr.run=/path/prog     program to run (one token), or
#   lcr.cmd=<base64>       a shell command line (scripts/guest.sh uses this)
#   lcr.args=a,b,c         extra arguments for lcr.run (commas -> spaces)
# The command runs under setsid (own session, no controlling tty), stdin
# /dev/null, in /. Then /init prints "LINUXCR-EXIT: <status>" and powers
# off. With no command it starts an interactive shell on the console.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The kernel opens /dev/console before /init; make sure we have it.
[ -c /dev/console ] && exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null ||
	echo "linuxcr-init: cannot mount cgroup2 on /sys/fs/cgroup"
ln -sf /proc/self/fd /dev/fd 2>/dev/null
ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null
ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null
ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null
hostname linuxcr
ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up 2>/dev/null
chown -R 1000:1000 /home/user 2>/dev/null

run= args= cmd=
for p in $(cat /proc/cmdline); do
	case $p in
	lcr.run=*)  run=${p#lcr.run=} ;;
	lcr.args=*) args=$(echo "${p#lcr.args=}" | tr ',' ' ') ;;
	lcr.cmd=*)  cmd=$(echo "${p#lcr.cmd=}" | base64 -d) ;;
	esac
done
if [ -z "$run" ] && [ -z "$cmd" ]; then
	echo "linuxcr-init: no lcr.run=/lcr.cmd= on the command line: starting a shell (exit to power off)"
	setsid -c sh </dev/console >/dev/console 2>&1
	poweroff -f
fi

kmemleak=/sys/kernel/debug/kmemleak
if [ -w $kmemleak ]; then
	# Forget what boot left behind; report only what the command leaks.
	echo scan >$kmemleak
	echo clear >$kmemleak
fi

nproc_=$(grep -c ^processor /proc/cpuinfo)
echo "LINUXCR-START: $(uname -r) cpus=$nproc_ clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
cd /
if [ -n "$cmd" ]; then
	(exec setsid sh -c "$cmd" </dev/null)
else
	# shellcheck disable=SC2086
	(exec setsid "$run" $args </dev/null)
fi
status=$?
cd /

if [ -w $kmemleak ]; then
	# kmemleak reports objects older than 5 s only.
	sleep 6
	echo scan >$kmemleak
	report=$(cat $kmemleak)
	if [ -n "$report" ]; then
		echo "LINUXCR-KMEMLEAK-BEGIN"
		echo "$report"
		echo "LINUXCR-KMEMLEAK-END"
	fi
fi

sync
echo "LINUXCR-EXIT: $status"
poweroff -f
sleep 2
reboot -f
sleep 1000
