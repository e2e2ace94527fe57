// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint(2) holds its target at a safe point while it writes the image
 * and lets it go on unchanged: a task blocked in a system call finishes
 * that call as if nothing happened (no EINTR, no short sleep), no signal
 * is delivered, and the parent sees no stop.  Targets that cannot be held
 * yet (stopped, multi-threaded) are refused with EOPNOTSUPP.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* Catch every catchable signal, without SA_RESTART */
static void catch_all(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sigaction(sig, &sa, NULL);
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Checkpoint pid into a temporary file, several times while it blocks */
static int checkpoint_n(pid_t pid, int n)
{
	char path[4096];
	int i;

	for (i = 0; i < n; i++) {
		if (t_checkpoint_file(pid, CHECKPOINT_SUBTREE, path) < 0)
			return -1;
		unlink(path);
		usleep(20000);
	}
	return 0;
}

/* The child reports one int through res: 0 means all went well */
static int child_result(int res, pid_t pid)
{
	int val = -1, status;

	if (read(res, &val, sizeof(val)) != sizeof(val))
		val = -1;
	status = t_wait(pid);
	return status ? -100 - status : val;
}

static void test_blocked_read(void)
{
	const char *name = "read() on a pipe is not interrupted";
	int data[2], res[2], val;
	pid_t pid;

	if (pipe(data) || pipe(res))
		t_bail("pipe");
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (!pid) {
		char c;
		ssize_t n;

		catch_all();
		n = read(data[0], &c, 1);
		val = n == 1 && c == 'x' && !got_signal ? 0 : (n < 0 ? errno : 1000 + got_signal);
		write(res[1], &val, sizeof(val));
		_exit(0);
	}
	/* A child that dies without reporting must not leave us blocked. */
	close(res[1]);
	usleep(100000);
	if (checkpoint_n(pid, 3)) {
		t_fail(name, "checkpoint: %s", strerror(errno));
		kill(pid, SIGKILL);
	}
	write(data[1], "x", 1);
	val = child_result(res[0], pid);
	t_check(val == 0, name, "child reported %d (errno or 1000+signal)", val);
	close(data[0]);
	close(data[1]);
	close(res[0]);
}

static void test_nanosleep(void)
{
	const char *name = "nanosleep() sleeps its whole time";
	int res[2], val;
	pid_t pid;

	if (pipe(res))
		t_bail("pipe");
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (!pid) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 600 * 1000000L };
		long long t0 = now_ms(), dt;
		int r;

		catch_all();
		r = nanosleep(&ts, NULL);
		dt = now_ms() - t0;
		if (r)
			val = errno;
		else if (got_signal)
			val = 1000 + got_signal;
		else
			val = dt >= 600 ? 0 : 2000 + (int)dt;
		write(res[1], &val, sizeof(val));
		_exit(0);
	}
	/* A child that dies without reporting must not leave us blocked. */
	close(res[1]);
	usleep(100000);
	if (checkpoint_n(pid, 3))
		t_fail(name, "checkpoint: %s", strerror(errno));
	val = child_result(res[0], pid);
	t_check(val == 0, name, "child reported %d (errno, 1000+signal or 2000+ms slept)", val);
	close(res[0]);
}

static void test_running_loop(void)
{
	const char *name = "a running loop keeps counting, sees no signal";
	struct t_loop_report rep;
	struct t_loop l;
	int status;

	if (t_loop_start(&l))
		t_bail("loop child");
	if (checkpoint_n(l.pid, 5)) {
		t_fail(name, "checkpoint: %s", strerror(errno));
		t_loop_kill(&l);
		return;
	}
	if (!t_loop_advances(&l, t_loop_count(&l), 2000)) {
		t_fail(name, "counter stopped after checkpoint");
		t_loop_kill(&l);
		return;
	}
	if (t_loop_stop(&l, &rep, &status)) {
		t_fail(name, "no report from the child");
		return;
	}
	t_check(!rep.signals && !rep.eintr && WIFEXITED(status), name,
		"signals %d (last %d), EINTR %d, status %#x", rep.signals,
		rep.last_signal, rep.eintr, status);
}

static void test_parent_sees_nothing(void)
{
	const char *name = "the parent sees no stop or continue";
	int res[2], status;
	pid_t pid, w;

	if (pipe(res))
		t_bail("pipe");
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (!pid) {
		char c;

		close(res[1]);
		read(res[0], &c, 1);
		_exit(0);
	}
	usleep(50000);
	if (checkpoint_n(pid, 3))
		t_fail(name, "checkpoint: %s", strerror(errno));
	status = 0;
	w = waitpid(pid, &status, WNOHANG | WUNTRACED | WCONTINUED);
	t_check(w == 0, name, "waitpid reported %d status %#x", (int)w, status);
	close(res[1]);
	if (w == 0 || (w == pid && !WIFEXITED(status) && !WIFSIGNALED(status)))
		t_wait(pid);
	close(res[0]);
}

static void test_stopped(void)
{
	const char *name = "a stopped task is refused with EOPNOTSUPP";
	char path[4096];
	pid_t pid;
	int status;
	long r;

	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (!pid) {
		pause();
		_exit(0);
	}
	kill(pid, SIGSTOP);
	waitpid(pid, &status, WUNTRACED);
	r = t_checkpoint_file(pid, CHECKPOINT_SUBTREE, path);
	t_check_errno(r, errno, EOPNOTSUPP, name);
	kill(pid, SIGKILL);
	t_wait(pid);
}

static void *thread_fn(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void test_threaded(void)
{
	const char *name = "a multi-threaded process is refused with EOPNOTSUPP";
	char path[4096];
	int res[2];
	pid_t pid;
	long r;
	char c;

	if (pipe(res))
		t_bail("pipe");
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (!pid) {
		pthread_t t;

		pthread_create(&t, NULL, thread_fn, NULL);
		write(res[1], "r", 1);
		pause();
		_exit(0);
	}
	read(res[0], &c, 1);
	r = t_checkpoint_file(pid, CHECKPOINT_SUBTREE, path);
	t_check_errno(r, errno, EOPNOTSUPP, name);
	kill(pid, SIGKILL);
	t_wait(pid);
	close(res[0]);
}

static void test_killed_while_held(void)
{
	const char *name = "a target killed around checkpoint leaves no trace";
	int i, ok = 1;

	/* Race SIGKILL against the hold: checkpoint fails or succeeds, cleanly */
	for (i = 0; i < 20 && ok; i++) {
		char path[4096];
		pid_t pid = fork();
		long r;

		if (pid < 0)
			t_bail("fork");
		if (!pid) {
			for (;;)
				;
		}
		if (i % 2)
			kill(pid, SIGKILL);
		r = t_checkpoint_file(pid, CHECKPOINT_SUBTREE, path);
		if (r < 0 && errno != ESRCH && errno != EINTR)
			ok = 0;
		if (r >= 0)
			unlink(path);
		kill(pid, SIGKILL);
		if (t_wait(pid) != 128 + SIGKILL)
			ok = 0;
	}
	t_check(ok, name, "round %d: unexpected result (%s)", i, strerror(errno));
}

int main(void)
{
	test_blocked_read();
	test_nanosleep();
	test_running_loop();
	test_parent_sees_nothing();
	test_stopped();
	test_threaded();
	test_killed_while_held();
	return t_done();
}
