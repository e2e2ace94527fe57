// SPDX-License-Identifier: GPL-2.0
/*
 * restart gives a task its original pid in a new pid namespace when that
 * pid cannot be had in the caller's.  As root, with the pid still in use
 * (the original left alive, stopped): the default restart says so and
 * restores the task in a new pid namespace, where getpid() is the original
 * pid; its memory and counter are intact; without -d the tool exits with
 * the task's status, and a SIGTERM to the tool reaches it through the
 * namespace's init; -d and --pidfile give its pid as seen here (NSpid ends
 * with the original pid, its parent is pid 1 there) and a signal sent to
 * the init reaches it; a streamed image waits for the pid first; errors of
 * restart(2) in the namespace reach the user.  --no-pidns fails and says
 * so, --pidns takes a new namespace although the pid is free.  As uid
 * 1000, the user's own image is restored with its pid in a new user and pid
 * namespace that maps only the user's ids; an image with a supplementary
 * group cannot be restored there, which the tool explains, and --no-pids
 * restores it.  An image whose pid is 1 becomes the first task of a new
 * namespace.  After each case no task of the test is left behind.
 * Runs as root.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlib.h"

/* What the test tells a subject, in its control file, before it goes */
#define EXPECT_OFF	100	/* 'n' a new pid namespace, 's' the tool's, */
				/* 'f' the tool's with a new pid (--no-pids) */
#define SIGNAL_OFF	101	/* a signal it must get, 0 for none */
#define EXIT_OFF	102	/* its exit code when all is well */
#define PID1_OFF	104	/* the pid-1 subject's pid outside (int) */

#define COUNT		1000000
#define HEAP_LEN	(256 * 1024)

static const char *bindir;

/* Who a subject is, and who runs the tool: root, or the user with groups */
struct who {
	uid_t uid;
	size_t ngroups;
	gid_t groups[1];
};

static const struct who user = { T_USER, 0, { 0 } };
static const struct who user_tty = { T_USER, 1, { 5 } };	/* group tty */

/* The subject's state, saved with it and verified by it after the restart */
static pid_t orig;
static char orig_ns[64];
static volatile uint64_t counter;
static unsigned char *heap;
static volatile sig_atomic_t got[NSIG];

static void on_signal(int sig)
{
	got[sig]++;
}

static void pid_ns(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/ns/pid", buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

static int heap_intact(void)
{
	size_t i;

	for (i = 0; i < HEAP_LEN; i++)
		if (heap[i] != (unsigned char)(i * 31 + orig))
			return 0;
	return 1;
}

/* Wait up to 5 s for a signal the test sent through the tool or the init. */
static int got_signal(int sig)
{
	struct timespec tick = { 0, 10000000 };
	int i;

	for (i = 0; i < 500 && !got[sig]; i++)
		nanosleep(&tick, NULL);
	return got[sig] > 0;
}

static void __attribute__((noreturn)) subject_body(const struct who *who)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	char ns[64], expect = 0, sig = 0, code = 0;
	int failed = 0;
	size_t i;

	/* restart -d leaves it to live on: no death signal */
	prctl(PR_SET_PDEATHSIG, 0);
	if (who && t_become(who->uid, who->uid, who->ngroups, who->groups)) {
		t_subj_check(0, "becoming the user", "%s", strerror(errno));
		t_subj_exit();
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	orig = getpid();
	pid_ns(orig_ns, sizeof(orig_ns));
	heap = malloc(HEAP_LEN);
	if (!heap)
		_exit(120);
	for (i = 0; i < HEAP_LEN; i++)
		heap[i] = i * 31 + orig;
	for (counter = 0; counter < COUNT; counter++)
		;
	t_subj_ready();
	t_subj_wait_go();

	pread(T_SUBJ_CTL, &expect, 1, EXPECT_OFF);
	pread(T_SUBJ_CTL, &sig, 1, SIGNAL_OFF);
	pread(T_SUBJ_CTL, &code, 1, EXIT_OFF);
	if (expect == 'f')
		failed += !t_subj_check(getpid() != orig, "a new pid",
					"getpid() %d", getpid());
	else
		failed += !t_subj_check(getpid() == orig, "getpid() is the original pid",
					"%d, was %d", getpid(), orig);
	failed += !t_subj_check(counter == COUNT && heap_intact(),
				"counter and memory intact", "counter %llu",
				(unsigned long long)counter);
	pid_ns(ns, sizeof(ns));
	if (expect == 'n') {
		failed += !t_subj_check(strcmp(ns, orig_ns), "in a new pid namespace",
					"%s, was %s", ns, orig_ns);
		/* Its parent: the namespace's init, or outside for pid 1 */
		failed += !t_subj_check(getppid() == (orig == 1 ? 0 : 1),
					"its parent is the namespace's init (or outside it for pid 1)",
					"getppid() %d", getppid());
	} else {
		failed += !t_subj_check(!strcmp(ns, orig_ns), "in the tool's pid namespace",
					"%s, was %s", ns, orig_ns);
	}
	if (who)
		failed += !t_subj_check(getuid() == who->uid && getgid() == who->uid,
					"the user's ids", "uid %u gid %u",
					getuid(), getgid());
	if (sig)
		failed += !t_subj_check(got_signal(sig), "got the signal sent on its way",
					"no signal %d within 5 s", sig);
	dprintf(T_SUBJ_REP, "# subject done\n");
	if (!failed && sig == SIGTERM) {
		/* Die of it, for the tool to pass on */
		signal(SIGTERM, SIG_DFL);
		kill(getpid(), SIGTERM);
	}
	_exit(failed ? 100 : code);
}

static void subject(void *arg)
{
	subject_body(arg);
}

/* pid 1 of a pid namespace of its own; its parent writes its pid at PID1_OFF */
static void pid1_subject(void *arg)
{
	struct clone_args args = { .flags = CLONE_NEWPID, .exit_signal = SIGCHLD };
	pid_t pid;

	(void)arg;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		subject_body(NULL);
	if (pid < 0) {
		t_subj_check(0, "a pid namespace", "clone3: %s", strerror(errno));
		t_subj_exit();
	}
	pwrite(T_SUBJ_CTL, &pid, sizeof(pid), PID1_OFF);
	_exit(t_wait(pid));
}

/* Running the tools */

struct run {
	pid_t pid;
	int rc;		/* exit code, 128+signal; -1 when it hung (killed) */
	int out, err;
	char *o, *e;	/* stdout, stderr */
};

/* Start bindir/argv[0] as who (NULL: root), stdin from in (-1: /dev/null). */
static void run_start(struct run *r, const struct who *who, int in,
		      const char *const argv[])
{
	char path[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->out = t_log_fd();
	r->err = t_log_fd();
	snprintf(path, sizeof(path), "%s/%s", bindir, argv[0]);
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0)
		t_bail("fork");
	if (r->pid == 0) {
		if (in < 0)
			in = open("/dev/null", O_RDONLY);
		if (who && t_become(who->uid, who->uid, who->ngroups, who->groups))
			_exit(T_NO_SETUP);
		if (in < 0 || dup2(in, 0) < 0 || dup2(r->out, 1) < 0 ||
		    dup2(r->err, 2) < 0)
			_exit(126);
		execv(path, (char *const *)argv);
		_exit(127);
	}
}

/* Wait for a child up to ms milliseconds: its t_wait() status, else -1. */
static int wait_ms(pid_t pid, int ms)
{
	struct timespec tick = { 0, 10000000 };
	int status, i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			       128 + WTERMSIG(status);
		nanosleep(&tick, NULL);
	}
	return -1;
}

/* Wait for the tool (30 s, then it is killed) and collect its output. */
static int run_end(struct run *r)
{
	r->rc = wait_ms(r->pid, 30000);
	if (r->rc < 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	lseek(r->out, 0, SEEK_SET);
	lseek(r->err, 0, SEEK_SET);
	r->o = t_read_fd(r->out, NULL);
	r->e = t_read_fd(r->err, NULL);
	close(r->out);
	close(r->err);
	if (!r->o || !r->e)
		t_bail("reading what the tool wrote");
	return r->rc;
}

static int run(struct run *r, const struct who *who, const char *const argv[])
{
	run_start(r, who, -1, argv);
	return run_end(r);
}

static void run_free(struct run *r)
{
	free(r->o);
	free(r->e);
	r->o = r->e = NULL;
}

/* Processes */

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The last number of a /proc/PID/status line, the count of its numbers in *n. */
static long status_field(pid_t pid, const char *key, int *n)
{
	size_t klen = strlen(key);
	char path[64], *buf, *p, *end;
	long v = -1, x;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	buf = t_read_path(path, NULL);
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		/* strtol() stops at the next line's name */
		for (p += klen + 1; (x = strtol(p, &end, 10)), end != p; p = end) {
			v = x;
			(*n)++;
		}
		break;
	}
	free(buf);
	return v;
}

/* Stop a task (it keeps its pid and its namespace): 1 once it is stopped. */
static int stop(pid_t pid)
{
	struct timespec tick = { 0, 10000000 };
	char path[64], *buf, *p;
	int i, stopped = 0;

	kill(pid, SIGSTOP);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 500 && !stopped; i++) {
		buf = t_read_path(path, NULL);
		p = buf ? strrchr(buf, ')') : NULL;
		stopped = p && p[1] == ' ' && p[2] == 'T';
		free(buf);
		if (!stopped)
			nanosleep(&tick, NULL);
	}
	return stopped;
}

#define MAX_PROCS 4096
static pid_t pids[MAX_PROCS], ppids[MAX_PROCS], sids[MAX_PROCS];

static int proc_index(int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

/*
 * The processes of the test's session (when it leads one, as under
 * run-all.sh) and its descendants (orphans come to it: it is a subreaper),
 * but the test itself and keep: their pids in what, their count returned.
 */
static int leftovers(pid_t keep, char *what, size_t len)
{
	pid_t me = getpid(), sid = getsid(0);
	int n = 0, found = 0, i, j, k;
	char path[300], *buf, *p;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		t_bail("/proc");
	while ((de = readdir(d)) && n < MAX_PROCS) {
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		buf = atoi(de->d_name) > 0 ? t_read_path(path, NULL) : NULL;
		/* after "pid (comm) ": state ppid pgrp session */
		p = buf ? strrchr(buf, ')') : NULL;
		if (p && sscanf(p + 2, "%*c %d %*d %d", &ppids[n], &sids[n]) == 2)
			pids[n++] = atoi(de->d_name);
		free(buf);
	}
	closedir(d);
	what[0] = '\0';
	for (i = 0; i < n; i++) {
		int ours = sid == me && sids[i] == sid;

		for (j = i, k = 0; !ours && j >= 0 && k < 64; k++) {
			ours = ppids[j] == me;
			j = proc_index(n, ppids[j]);
		}
		if (!ours || pids[i] == me || pids[i] == keep)
			continue;
		found++;
		snprintf(what + strlen(what), len - strlen(what), " %d", pids[i]);
	}
	return found;
}

/*
 * Pass when, within 5 s, nothing of the test is left but keep: children
 * that ended are reaped on the way.  What is left is reported and killed.
 */
static void no_leftovers(const char *name, pid_t keep)
{
	struct timespec tick = { 0, 10000000 };
	char what[512];
	int i, n = 0;

	for (i = 0; i < 500; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		n = leftovers(keep, what, sizeof(what));
		if (!n)
			return t_pass(name);
		nanosleep(&tick, NULL);
	}
	t_fail(name, "%d left:%s", n, what);
	while (leftovers(keep, what, sizeof(what))) {
		char *p = what, *end;
		long pid;

		while ((pid = strtol(p, &end, 10)), end != p) {
			kill(pid, SIGKILL);
			p = end;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&tick, NULL);
	}
}

/* Subjects */

/* Before a restart: no go, no report, and what the subject is to expect. */
static void prime(struct t_subject *s, char expect, int sig, int code)
{
	char c[3] = { expect, sig, code };

	if (ftruncate(s->ctl, T_SUBJ_GO_OFF) || ftruncate(s->rep, 0) ||
	    pwrite(s->ctl, c, sizeof(c), EXPECT_OFF) != sizeof(c))
		t_bail("priming the subject");
}

static void go(struct t_subject *s)
{
	if (pwrite(s->ctl, "g", 1, T_SUBJ_GO_OFF) != 1)
		t_bail("go");
}

/*
 * Wait up to 10 s for the restored subject's report and pass its checks
 * on as the test's, named "prefix: check".
 */
static void relay(struct t_subject *s, const char *prefix)
{
	struct timespec tick = { 0, 10000000 };
	char *rep = NULL, *line, *save, name[512];
	int i, lines = 0, done = 0;

	for (i = 0; i < 1000 && !done; i++) {
		free(rep);
		rep = t_read_path(s->rep_path, NULL);
		done = rep && strstr(rep, "# subject done");
		if (!done)
			nanosleep(&tick, NULL);
	}
	for (line = strtok_r(rep, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int ok = !strncmp(line, "ok - ", 5);
		char *why = NULL;

		if (!ok && strncmp(line, "not ok - ", 9))
			continue;
		line += ok ? 5 : 9;
		why = ok ? NULL : strstr(line, ": ");
		if (why)
			*why = '\0';
		snprintf(name, sizeof(name), "%s: %s", prefix, line);
		t_check(ok, name, "%s", why ? why + 2 : "");
		lines++;
	}
	snprintf(name, sizeof(name), "%s: the restored subject reported", prefix);
	t_check(done && lines >= 3, name, "%d lines, %s", lines,
		done ? "done" : "not done within 10 s");
	free(rep);
}

/*
 * pid, printed by the tool, is the restored task in a new pid namespace:
 * its NSpid is "pid want", and unless want is 1 its parent is pid 1 of
 * that namespace, the init, which is returned (0 when it is not).
 */
static pid_t check_in_ns(pid_t pid, pid_t want, const char *prefix)
{
	char name[256];
	long last, ppid;
	int n;

	last = status_field(pid, "NSpid", &n);
	snprintf(name, sizeof(name), "%s: NSpid of the pid given ends with the original pid",
		 prefix);
	t_check(n == 2 && last == want, name,
		"NSpid of %d: %d numbers, the last %ld; expected 2, the last %d",
		pid, n, last, want);
	if (want == 1)
		return 0;
	ppid = status_field(pid, "PPid", &n);
	last = ppid > 1 ? status_field(ppid, "NSpid", &n) : -1;
	snprintf(name, sizeof(name), "%s: its parent is pid 1 of the namespace", prefix);
	if (t_check(ppid > 1 && n == 2 && last == 1, name,
		    "parent %ld, its NSpid %d numbers, the last %ld", ppid, n, last))
		return ppid;
	return 0;
}

/* The pid a tool's --pidfile gets, within 5 s: 0 if none. */
static pid_t wait_pidfile(const char *path)
{
	struct timespec tick = { 0, 10000000 };
	int i, pid = -1;

	for (i = 0; i < 500 && pid <= 0; i++) {
		pid = t_read_int(path);
		if (pid <= 0)
			nanosleep(&tick, NULL);
	}
	return pid > 0 ? pid : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A copy of the image cut inside its third record (the credentials). */
static int truncated(const char *from, char *to)
{
	static struct t_image im;
	size_t len;
	char *buf;
	int fd;

	t_scan_path(from, &im);
	buf = t_read_path(from, &len);
	if (!buf || im.nr < 3 || im.off[2] + 8 > len) {
		free(buf);
		return -1;
	}
	fd = t_file_with(buf, im.off[2] + 8, O_RDONLY, to);
	free(buf);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Tests */

static void test_options(void)
{
	struct run r;
	int rc;

	rc = run(&r, NULL, ARGV("restart", "--pidns", "--no-pids", "-i", "/dev/null"));
	t_check(rc == 2 && strstr(r.e, "exclude each other"), "restart --pidns --no-pids: exit 2",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	rc = run(&r, NULL, ARGV("restart", "-h"));
	t_check(rc == 0 && strstr(r.o, "--pidns") && strstr(r.o, "--no-pidns") &&
		strstr(r.o, "--no-pids") && strstr(r.o, "Exit status"),
		"restart -h: the whole usage, --pidns and --no-pidns too",
		"exit %d, stdout \"%.300s\"", rc, r.o);
	run_free(&r);
}

/* Root, the pid in use: the original stopped, keeping it. */
static void pid_in_use(struct t_subject *s)
{
	const char *img = s->img_path;
	char msg[160], pidfile[PATH_MAX + 8];
	struct run r;
	pid_t pid, init;
	int rc;

	snprintf(msg, sizeof(msg), "pid %d is in use here: restoring it in a new pid namespace",
		 s->orig_pid);
	prime(s, 'n', 0, 42);
	go(s);
	rc = run(&r, NULL, ARGV("restart", "-i", img));
	t_check(rc == 42 && strstr(r.e, msg),
		"pid in use: restart says it takes a new pid namespace, exits with the task's status",
		"exit %d (expected 42), stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(s, "pid in use");
	no_leftovers("pid in use: nothing left behind", s->pid);

	/* -d: its pid here; a signal to the init reaches it */
	prime(s, 'n', SIGUSR1, 7);
	rc = run(&r, NULL, ARGV("restart", "-d", "-i", img));
	pid = atoi(r.o);
	t_check(rc == 0 && pid > 0 && kill(pid, 0) == 0,
		"pid in use, -d: prints the pid of a task here", "exit %d, stdout \"%.100s\", stderr \"%.300s\"",
		rc, r.o, r.e);
	run_free(&r);
	init = pid > 0 ? check_in_ns(pid, s->orig_pid, "pid in use, -d") : 0;
	if (init)
		kill(init, SIGUSR1);
	go(s);
	relay(s, "pid in use, -d, SIGUSR1 to the init");
	if (init) {
		rc = wait_ms(init, 10000);
		t_check(rc == 7, "pid in use, -d: the init exits with the task's status",
			"%d, expected 7", rc);
	}
	no_leftovers("pid in use, -d: nothing left behind", s->pid);

	/* Without -d: --pidfile, and SIGTERM to the tool */
	snprintf(pidfile, sizeof(pidfile), "%s.pid", img);
	unlink(pidfile);
	prime(s, 'n', SIGTERM, 0);
	run_start(&r, NULL, -1, ARGV("restart", "--pidfile", pidfile, "-i", img));
	pid = wait_pidfile(pidfile);
	if (t_check(pid > 0, "pid in use, --pidfile without -d: written", "nothing in %s", pidfile))
		check_in_ns(pid, s->orig_pid, "pid in use, --pidfile");
	kill(r.pid, SIGTERM);
	go(s);
	rc = run_end(&r);
	t_check(rc == 128 + SIGTERM,
		"pid in use: SIGTERM to the tool reaches the task through the init, the tool passes on its death",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	unlink(pidfile);
	relay(s, "pid in use, SIGTERM to the tool");
	no_leftovers("pid in use, SIGTERM: nothing left behind", s->pid);

	snprintf(msg, sizeof(msg), "pid %d is in use; use --no-pids or --pidns", s->orig_pid);
	rc = run(&r, NULL, ARGV("restart", "--no-pidns", "-i", img));
	t_check(rc == 1 && strstr(r.e, msg), "pid in use, --no-pidns: exit 1, says why",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	no_leftovers("pid in use, --no-pidns: nothing left behind", s->pid);
}

/* A streamed image whose pid stays in use: 10 s for the pid, then a new namespace. */
static void streamed(struct t_subject *s)
{
	char msg[160];
	struct run r;
	pid_t feeder;
	size_t len;
	double t0, took;
	char *img = t_read_path(s->img_path, &len);
	int p[2], rc;

	if (!img || pipe2(p, O_CLOEXEC))
		t_bail("the image into a pipe");
	snprintf(msg, sizeof(msg), "pid %d is in use here: restoring it in a new pid namespace",
		 s->orig_pid);
	prime(s, 'n', 0, 0);
	go(s);
	feeder = t_feed(p[1], img, len);
	close(p[1]);
	t0 = now();
	run_start(&r, NULL, p[0], ARGV("restart"));
	close(p[0]);
	rc = run_end(&r);
	took = now() - t0;
	t_wait(feeder);
	free(img);
	t_check(rc == 0 && strstr(r.e, msg) && took >= 9.5,
		"streamed image, pid in use: restart waits 10 s for the pid, then takes a new pid namespace",
		"exit %d after %.1f s, stderr \"%.300s\"", rc, took, r.e);
	run_free(&r);
	relay(s, "streamed image, pid in use");
	no_leftovers("streamed image: nothing left behind", s->pid);
}

/* restart(2) fails in the new namespace: its errno and log reach the user. */
static void failing(struct t_subject *s)
{
	char bad[PATH_MAX], logpath[PATH_MAX], *log;
	struct run r;
	int rc, fd;

	if (truncated(s->img_path, bad)) {
		t_fail("a truncated image", "%s", strerror(errno));
		return;
	}
	fd = t_mkstemp(logpath, "log");
	close(fd);
	rc = run(&r, NULL, ARGV("restart", "--pidns", "-l", logpath, "-i", bad));
	log = t_read_path(logpath, NULL);
	t_check(rc == 1 && strstr(r.e, "restart: restart: ") && log && strstr(log, "(error -"),
		"restart(2) fails in a new pid namespace: exit 1, the errno on stderr, the kernel's log in -l FILE",
		"exit %d, stderr \"%.300s\", log \"%.300s\"", rc, r.e, log ? log : "");
	free(log);
	run_free(&r);
	rc = run(&r, NULL, ARGV("restart", "-d", "-i", bad));
	t_check(rc == 1 && strstr(r.e, "restart: restart: ") && strstr(r.e, "(error -"),
		"restart -d, restart(2) fails in a new pid namespace: exit 1, the errno and the kernel's log on stderr",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	unlink(bad);
	unlink(logpath);
	no_leftovers("failed restarts: nothing left behind", s->pid);
}

/* Root, the pid free: the tool's namespace by default, a new one with --pidns. */
static void pid_free(struct t_subject *s)
{
	struct run r;
	int rc;

	prime(s, 's', 0, 3);
	go(s);
	rc = run(&r, NULL, ARGV("restart", "-i", s->img_path));
	t_check(rc == 3 && !strstr(r.e, "namespace"),
		"pid free: restored in the tool's pid namespace, quietly",
		"exit %d (expected 3), stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(s, "pid free");
	prime(s, 'n', 0, 4);
	go(s);
	rc = run(&r, NULL, ARGV("restart", "--pidns", "-i", s->img_path));
	t_check(rc == 4 && !*r.e, "pid free, --pidns: restored in a new pid namespace, quietly",
		"exit %d (expected 4), stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(s, "pid free, --pidns");
	no_leftovers("pid free: nothing left behind", 0);
}

static void test_root(void)
{
	struct t_subject s;
	int err;

	if (t_subj_start(&s, subject, NULL))
		t_bail("starting a subject");
	if (t_subj_wait_ready(&s, "root: the subject gets ready"))
		goto out;
	err = t_subj_checkpoint(&s);
	if (!t_check(!err, "root: checkpoint, the subject left alive", "%s; log: %.300s",
		     t_errname(err), s.log ? s.log : ""))
		goto out;
	/* The original keeps its pid, stopped: it must not see the go. */
	if (!t_check(stop(s.pid), "root: the original stopped", "not stopped within 5 s"))
		goto out;
	pid_in_use(&s);
	streamed(&s);
	failing(&s);
	t_subj_kill(&s);
	pid_free(&s);
out:
	t_subj_cleanup(&s);
}

/* The user's image: a new user and pid namespace. */
static void user_own(void)
{
	struct t_subject s;
	char msg[160], path[64], *map;
	unsigned int m[6] = { 0 };
	struct run r;
	pid_t pid, init = 0;
	int rc;

	if (t_subj_prepare(&s, "user", subject, (void *)&user))
		goto out;
	snprintf(msg, sizeof(msg), "pid %d cannot be chosen here without CAP_SYS_ADMIN: restoring it in a new pid namespace",
		 s.orig_pid);
	prime(&s, 'n', 0, 5);
	go(&s);
	rc = run(&r, &user, ARGV("restart", "-i", s.img_path));
	t_check(rc == 5 && strstr(r.e, msg),
		"user: its own image restored in a new user and pid namespace, the tool says so, exits with the task's status",
		"exit %d (expected 5), stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(&s, "user");
	no_leftovers("user: nothing left behind", 0);

	prime(&s, 'n', SIGUSR1, 0);
	rc = run(&r, &user, ARGV("restart", "-d", "-i", s.img_path));
	pid = atoi(r.o);
	t_check(rc == 0 && pid > 0 && kill(pid, 0) == 0, "user, -d: prints the pid of a task here",
		"exit %d, stdout \"%.100s\", stderr \"%.300s\"", rc, r.o, r.e);
	run_free(&r);
	if (pid > 0)
		init = check_in_ns(pid, s.orig_pid, "user, -d");
	if (init) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", init);
		map = t_read_path(path, NULL);
		sscanf(map ? map : "", "%u %u %u", &m[0], &m[1], &m[2]);
		free(map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", init);
		map = t_read_path(path, NULL);
		sscanf(map ? map : "", "%u %u %u", &m[3], &m[4], &m[5]);
		free(map);
		snprintf(path, sizeof(path), "/proc/%d/setgroups", init);
		map = t_read_path(path, NULL);
		t_check(m[0] == T_USER && m[1] == T_USER && m[2] == 1 && m[3] == T_USER &&
			m[4] == T_USER && m[5] == 1 && map && !strncmp(map, "deny", 4),
			"user, -d: the user namespace maps the user's uid and gid alone, setgroups denied",
			"uid_map %u %u %u, gid_map %u %u %u, setgroups %s", m[0], m[1], m[2],
			m[3], m[4], m[5], map ? map : "?");
		free(map);
		kill(init, SIGUSR1);
	}
	go(&s);
	relay(&s, "user, -d, SIGUSR1 to the init");
	if (init) {
		rc = wait_ms(init, 10000);
		t_check(rc == 0, "user, -d: the init exits with the task's status",
			"%d, expected 0", rc);
	}
	no_leftovers("user, -d: nothing left behind", 0);

	snprintf(msg, sizeof(msg), "restoring pid %d needs CAP_SYS_ADMIN in this pid namespace; use --no-pids or --pidns",
		 s.orig_pid);
	rc = run(&r, &user, ARGV("restart", "--no-pidns", "-i", s.img_path));
	t_check(rc == 1 && strstr(r.e, msg), "user, --no-pidns: exit 1, says why",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	no_leftovers("user, --no-pidns: nothing left behind", 0);
out:
	t_subj_cleanup(&s);
}

/* A supplementary group is not mapped in the new user namespace. */
static void user_group(void)
{
	struct t_subject s;
	struct run r;
	int rc;

	if (t_subj_prepare(&s, "user with a group", subject, (void *)&user_tty))
		goto out;
	rc = run(&r, &user_tty, ARGV("restart", "-i", s.img_path));
	t_check(rc == 1 && strstr(r.e, "group 5 unmapped") &&
		strstr(r.e, "restart: restart: Invalid argument") && strstr(r.e, "use --no-pids"),
		"user with a supplementary group: not in the new user namespace, the tool says why",
		"exit %d, stderr \"%.500s\"", rc, r.e);
	run_free(&r);
	no_leftovers("user with a supplementary group: nothing left behind", 0);
	prime(&s, 'f', 0, 0);
	go(&s);
	rc = run(&r, &user_tty, ARGV("restart", "--no-pids", "-i", s.img_path));
	t_check(rc == 0, "user with a supplementary group: --no-pids restores it",
		"exit %d, stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(&s, "user with a supplementary group, --no-pids");
	no_leftovers("user with a supplementary group, --no-pids: nothing left behind", 0);
out:
	t_subj_cleanup(&s);
}

/*
 * Checkpoint pid 1 of the pid namespace of p1 (its pid here) from a task
 * inside that namespace: 0 or the errno, the log in *log.
 */
static int checkpoint_inside(pid_t p1, const char *img, char **log)
{
	int logfd = t_log_fd(), nsfd, rc;
	char path[64];
	pid_t h;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", p1);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return errno;
	fflush(NULL);
	h = fork();
	if (h == 0) {
		pid_t g;

		/* Its children are born in that namespace */
		if (setns(nsfd, CLONE_NEWPID))
			_exit(errno);
		g = fork();
		if (g == 0) {
			int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

			_exit(fd < 0 || sys_checkpoint(1, fd, CHECKPOINT_SUBTREE, logfd) < 0 ?
			      errno : 0);
		}
		_exit(g < 0 ? errno : t_wait(g));
	}
	close(nsfd);
	rc = t_wait(h);
	lseek(logfd, 0, SEEK_SET);
	*log = t_read_fd(logfd, NULL);
	close(logfd);
	return rc;
}

/* An image whose pid is 1: the restored task is the new namespace's first. */
static void test_pid1(void)
{
	struct timespec tick = { 0, 10000000 };
	struct ckpt_hdr_task task = { 0 };
	struct t_subject s;
	struct ckpt_err cerr;
	char *log = NULL;
	struct run r;
	pid_t p1 = 0, pid;
	int i, rc, fd;

	if (t_subj_start(&s, pid1_subject, NULL))
		t_bail("starting a subject");
	if (t_subj_wait_ready(&s, "pid 1: the subject gets ready"))
		goto out;
	for (i = 0; i < 500 && p1 <= 0; i++)
		if (pread(s.ctl, &p1, sizeof(p1), PID1_OFF) != sizeof(p1) || p1 <= 0)
			nanosleep(&tick, NULL);
	if (!t_check(p1 > 0, "pid 1: the subject's pid here", "not given"))
		goto out;
	rc = checkpoint_inside(p1, s.img_path, &log);
	if (rc) {
		char why[400];

		snprintf(why, sizeof(why), "checkpoint(2) of pid 1 from inside its namespace: %s; log: %.300s",
			 t_errname(rc), log ? log : "");
		t_skip("pid 1: an image whose pid is 1", why);
		goto out;
	}
	fd = open(s.img_path, O_RDONLY | O_CLOEXEC);
	t_check(fd >= 0 && ckpt_first_task(fd, &task, &cerr) == 1 && task.pid == 1,
		"pid 1: checkpointed inside its namespace, the image's pid is 1", "pid %d",
		task.pid);
	if (fd >= 0)
		close(fd);
	/* Kept, stopped: pid 1 is in use here anyway */
	if (!t_check(stop(p1), "pid 1: the original stopped", "not stopped within 5 s"))
		goto out;
	prime(&s, 'n', 0, 9);
	go(&s);
	rc = run(&r, NULL, ARGV("restart", "-i", s.img_path));
	t_check(rc == 9 && strstr(r.e, "pid 1 is in use here: restoring it in a new pid namespace"),
		"pid 1: restored as the first task of a new pid namespace, the tool exits with its status",
		"exit %d (expected 9), stderr \"%.300s\"", rc, r.e);
	run_free(&r);
	relay(&s, "pid 1");
	prime(&s, 'n', 0, 0);
	rc = run(&r, NULL, ARGV("restart", "-d", "-i", s.img_path));
	pid = atoi(r.o);
	t_check(rc == 0 && pid > 0 && kill(pid, 0) == 0, "pid 1, -d: prints the pid of a task here",
		"exit %d, stdout \"%.100s\", stderr \"%.300s\"", rc, r.o, r.e);
	run_free(&r);
	if (pid > 0)
		check_in_ns(pid, 1, "pid 1, -d");
	go(&s);
	relay(&s, "pid 1, -d");
	if (pid > 0) {
		rc = wait_ms(pid, 10000);
		t_check(rc == 0, "pid 1, -d: the task ends with its status", "%d, expected 0",
			rc);
	}
out:
	free(log);
	if (p1 > 0)
		kill(p1, SIGKILL);
	t_subj_cleanup(&s);
	no_leftovers("pid 1: nothing left behind", 0);
}

int main(void)
{
	if (geteuid() != 0) {
		t_skip("restart in a new pid namespace", "the test runs as root");
		return t_done();
	}
	bindir = getenv("CKPT_BINDIR");
	if (!bindir || !*bindir)
		bindir = "/bin";
	/* The inits restart -d leaves, and their tasks, come to the test */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	test_options();
	test_root();
	user_own();
	user_group();
	test_pid1();
	return t_done();
}
