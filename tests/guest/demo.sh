#!/bin/sh
# In-guest demo (scripts/demo.sh, `make demo`): checkpoint a running
# counter, inspect the image, kill the counter, restart it and watch it
# continue; then the same with a process tree (a shell and two counters),
# same pids, parents and process groups. Shows each command and its errors.
# Exit status 0 only when the restarted counters went on counting.
step() { echo; echo "### $*"; }
run() {
	echo "\$ $*"
	"$@"
	rc=$?
	[ $rc = 0 ] || echo "(exit status $rc)"
	return $rc
}
counter() { cat /tmp/counter 2>/dev/null || echo '?'; }

step "linux-cr demo on $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
missing=
for t in checkpoint restart ckptinfo; do
	command -v $t >/dev/null || missing="$missing $t"
done
[ -z "$missing" ] || echo "missing tools (userspace not built?):$missing"

step "start a counter in the background: a program writing 1, 2, 3... to /tmp/counter, once a second"
/tests/counter /tmp/counter </dev/null >/dev/null 2>&1 &
pid=$!
sleep 3
echo "counter pid $pid, counter = $(counter)"

step "checkpoint it (it keeps running)"
if ! run checkpoint -o /tmp/img -l /tmp/checkpoint.log $pid; then
	cat /tmp/checkpoint.log 2>/dev/null
	kill -9 $pid
	echo "DEMO FAILED: checkpoint did not work"
	exit 1
fi
ls -l /tmp/img
echo "counter at checkpoint time: about $(counter)"

step "inspect the image"
run ckptinfo /tmp/img | head -n 60

step "kill the counter"
sleep 2
kill -9 $pid
wait $pid 2>/dev/null
killed_at=$(counter)
sleep 2
echo "killed at $killed_at; two seconds later the file still says $(counter)"

step "restart it from the image"
if ! run restart -d -i /tmp/img -l /tmp/restart.log --pidfile /tmp/restart.pid; then
	cat /tmp/restart.log 2>/dev/null
	echo "DEMO INCOMPLETE: restart did not work (yet)"
	exit 1
fi
rpid=$(cat /tmp/restart.pid 2>/dev/null)
if [ -z "$rpid" ]; then
	cat /tmp/restart.log 2>/dev/null
	echo "DEMO INCOMPLETE: restart restored no task (the image holds none yet?)"
	exit 1
fi
echo "restored task pid ${rpid:-?} (checkpointed pid was $pid)"
before=$(counter)
sleep 3
after=$(counter)
echo "counter: $before -> $after three seconds later"
ps -o pid,ppid,stat,args 2>/dev/null | grep -v grep | grep -E "^ *(${rpid:-x}|$pid) " || true
[ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null
case $after in
'' | *[!0-9]*) ok=0 ;;
*) ok=$(( after > before ? 1 : 0 )) ;;
esac
if [ "$ok" != 1 ]; then
	echo "DEMO FAILED: the counter did not continue"
	exit 1
fi
echo "the restarted counter resumed from the checkpoint and keeps counting"

step "a process tree: a shell that started two counters and waits for them"
sh -c '/tests/counter /tmp/counter.a & /tests/counter /tmp/counter.b & wait' \
	</dev/null >/dev/null 2>&1 &
tree=$!
sleep 3
tree_ps() { ps -o pid,ppid,pgid,args 2>/dev/null | grep -E '[c]ounter /tmp/counter\.|[w]ait'; }
tree_ps
echo "counters: a = $(cat /tmp/counter.a), b = $(cat /tmp/counter.b)"

step "checkpoint the tree and kill it (checkpoint -k), then restart it"
if ! run checkpoint -k -o /tmp/tree.img -l /tmp/checkpoint.log $tree; then
	cat /tmp/checkpoint.log 2>/dev/null
	kill -9 $tree 2>/dev/null
	echo "DEMO FAILED: checkpoint of the tree did not work"
	exit 1
fi
wait $tree 2>/dev/null
echo "the image's tree:"; ckptinfo /tmp/tree.img | grep 'ppid .*(tag' | head -n 8
sleep 2
a=$(cat /tmp/counter.a)
echo "killed: the counters stay at a = $a, b = $(cat /tmp/counter.b)"
if ! run restart -d -i /tmp/tree.img -l /tmp/restart.log --pidfile /tmp/tree.pid; then
	cat /tmp/restart.log 2>/dev/null
	echo "DEMO FAILED: restart of the tree did not work"
	exit 1
fi
sleep 3
echo "restored: the same pids, parents and process groups:"
tree_ps
echo "counters: a = $(cat /tmp/counter.a), b = $(cat /tmp/counter.b)"
after=$(cat /tmp/counter.a)
kill -9 "$(cat /tmp/tree.pid)" 2>/dev/null
pkill -9 -f '/tests/counter /tmp/counter\.' 2>/dev/null
case $after in
'' | *[!0-9]*) ok=0 ;;
*) ok=$(( after > a ? 1 : 0 )) ;;
esac
if [ "$ok" = 1 ]; then
	echo "DEMO OK: the restarted counter and the restarted tree resumed from their checkpoints"
	exit 0
fi
echo "DEMO FAILED: the counters of the tree did not continue"
exit 1
