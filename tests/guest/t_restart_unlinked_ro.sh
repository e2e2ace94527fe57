#!/bin/sh
# An unprivileged user checkpoints its own task holding an unlinked file
# whose mode no longer lets anyone write it (0400), kills it and restarts
# it: restart must recreate the file (it truncates it through the file it
# created, not by path) with its contents, mode and no name.
pass=0
fail=0
check() { # check NAME CONDITION-STATUS DETAIL
	if [ "$2" = 0 ]; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1: $3"
		fail=$((fail + 1))
	fi
}
dir=$(mktemp -d /tmp/ro.XXXXXX)
chmod 777 "$dir"
su user -s /bin/sh -c "cd $dir; exec </dev/null >/dev/null 2>&1; printf hello >ro; exec 3<ro; chmod 400 ro; rm ro; exec sleep 1000" &
i=0
pid=
while [ $i -lt 50 ] && [ -z "$pid" ]; do
	for p in $(pidof sleep); do
		[ "$(readlink /proc/$p/fd/3 2>/dev/null)" = "$dir/ro (deleted)" ] && pid=$p
	done
	i=$((i + 1))
	sleep 0.1
done
if [ -z "$pid" ]; then
	check "subject started" 1 "no sleep with $dir/ro open"
	echo "$pass passed, $fail failed"
	exit 1
fi
su user -s /bin/sh -c "checkpoint -o $dir/img $pid"
check "checkpoint as the user" $? "checkpoint failed"
kill -9 "$pid"
out=$(su user -s /bin/sh -c "restart -d --no-pids -i $dir/img --pidfile $dir/pid" 2>&1)
check "restart as the user of an unlinked read-only file" $? "$out"
r=$(cat "$dir/pid" 2>/dev/null)
if [ -n "$r" ]; then
	c=$(cat /proc/$r/fd/3 2>&1)
	check "its contents" "$([ "$c" = hello ]; echo $?)" "got '$c'"
	m=$(stat -L -c "%a %h %U" /proc/$r/fd/3 2>&1)
	check "mode 400, no name, the user's" "$([ "$m" = "400 0 user" ]; echo $?)" "got '$m'"
	kill -9 "$r"
fi
rm -rf "$dir"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
