// SPDX-License-Identifier: GPL-2.0
/*
 * Process trees: checkpoint(2) of a tree, restart under a coordinator.
 *
 * The tree: a root; a child that called setsid(), with a child of its own
 * in its group; a child in a process group of its own, with a child in
 * that group.  The root and its first child share a pipe holding unread
 * data, the root and its second child a file (one open file, one offset).
 * Every task has memory of its own and counts in it.  Checkpointed with
 * the checkpoint tool, killed, restarted: once by the tests' own mktree
 * (tests/guest/lib/ttree.c: each task with its pid through clone3
 * set_tid, joining with restart(0, -1, 0, -1), the coordinator calling
 * restart(root, fd, 0, logfd)), once by the restart tool.  Each task then
 * checks itself: same pid, same parent, its session and group, its
 * memory, the pipe (the data, then a write of the root's reaching the
 * child), the file (the child's write moves the root's offset), a signal
 * to its parent, and its children's exit status reaching it.  Their
 * "ok" / "not ok" lines come to the test through a report file.
 *
 * Then what must fail cleanly, through the tests' mktree: an image whose
 * second task's section is corrupt (an errno, every task gone); SIGKILL
 * to the coordinator, or to one task, during the restart (nothing
 * half-restored or left); a coordinator adopting a task that is not its
 * child (ECHILD), or one of another user (EPERM), the task untouched; a
 * task that exits before it joins (an errno); checkpoint of a tree with a
 * thread or a stopped child (EOPNOTSUPP with a log line) or a zombie
 * (saved), the tree running on unchanged.
 *
 * Environment: T_TREE_TOOL (default /bin/restart; "" skips the tool's
 * pass), T_TREE_ROUNDS (rounds of the SIGKILL cases, default 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tfuzz.h"

/* The tasks of the tree, in the order of its image (parents first) */
enum { R, C1, G1, C2, G2, NT };
static const char *const task_name[NT] = {
	"root", "setsid child", "setsid child's child", "group child",
	"group child's child",
};

#define CTL		T_SUBJ_CTL	/* ready bytes at 16 + i, pids at 64 */
#define REP		T_SUBJ_REP	/* O_APPEND: every task's lines */
#define GO_OFF		T_SUBJ_GO_OFF
#define MEM		(256 << 10)
#define PIPE_DATA	3000

/* A task's own view, private memory (saved in the image) */
static struct {
	int idx;
	pid_t self, parent;
	pid_t kid[2];
	int nkids;
	int kid_idx[2];
	uint64_t count, count_ready, sum;
	unsigned char *mem;
	int pipe_rd, pipe_wr, file;
	volatile sig_atomic_t got[NT];	/* SIGRTMIN from that child */
} me;

static char file_path[4096];

static uint64_t sum64(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	int i = si->si_value.sival_int, k;

	(void)sig;
	(void)uc;
	for (k = 0; k < me.nkids; k++)
		if (si->si_code == SI_QUEUE && me.kid_idx[k] == i &&
		    si->si_pid == me.kid[k])
			me.got[i] = 1;
}

static void check(int cond, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(int cond, const char *what, const char *fmt, ...)
{
	char name[256], why[512];
	va_list ap;

	snprintf(name, sizeof(name), "%s: %s", task_name[me.idx], what);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t_subj_check(cond, name, "%s", why);
}

/* Restored: each task checks itself, then its children, and exits. */
static void __attribute__((noreturn)) verify(void)
{
	char buf[PIPE_DATA + 8];
	int i, status, n = 0;
	ssize_t got;
	pid_t sid_root = me.idx == R ? getsid(0) : 0;

	check(getpid() == me.self, "same pid", "%d, was %d", getpid(), me.self);
	if (me.idx != R)
		check(getppid() == me.parent, "same parent", "%d, was %d", getppid(),
		      me.parent);
	switch (me.idx) {
	case C1:
		check(getsid(0) == me.self && getpgid(0) == me.self,
		      "leads its session and group", "sid %d pgid %d", getsid(0), getpgid(0));
		break;
	case G1:
		check(getsid(0) == me.parent && getpgid(0) == me.parent,
		      "in its parent's session and group", "sid %d pgid %d, parent %d",
		      getsid(0), getpgid(0), me.parent);
		break;
	case C2:
		sid_root = getsid(me.parent);
		/* 0 in a new pid namespace: the session came from outside */
		check(getpgid(0) == me.self && getsid(0) == sid_root && sid_root >= 0,
		      "leads its group, in the root's session", "sid %d pgid %d, root's sid %d",
		      getsid(0), getpgid(0), sid_root);
		break;
	case G2:
		check(getpgid(0) == me.parent && getsid(0) == getsid(me.parent),
		      "in its parent's group and session", "sid %d pgid %d, parent %d sid %d",
		      getsid(0), getpgid(0), me.parent, getsid(me.parent));
		break;
	}
	check(sum64(me.mem, MEM) == me.sum, "its memory", "checksum changed");
	check(me.count >= me.count_ready && me.count_ready > 0, "its counter",
	      "%llu, %llu when ready", (unsigned long long)me.count,
	      (unsigned long long)me.count_ready);

	if (me.idx == R)
		check(write(me.pipe_wr, "after", 5) == 5, "writes to the pipe", "%m");
	if (me.idx == C1) {
		alarm(20);
		for (got = 0; got < PIPE_DATA + 5; got += n) {
			n = read(me.pipe_rd, buf + got, PIPE_DATA + 5 - got);
			if (n <= 0)
				break;
		}
		alarm(0);
		for (i = 0, n = 0; i < PIPE_DATA && got == PIPE_DATA + 5; i++)
			n += buf[i] == 'r';
		check(got == PIPE_DATA + 5 && n == PIPE_DATA &&
		      !memcmp(buf + PIPE_DATA, "after", 5),
		      "the pipe from the root: its unread data, then the root's write",
		      "%zd bytes, %d of the first %d right", got, n, PIPE_DATA);
	}
	if (me.idx == C2)
		check(write(me.file, "c2c2c2c2c2", 10) == 10, "writes to the shared file",
		      "%m");
	if (me.idx != R) {
		union sigval v = { .sival_int = me.idx };

		/* A real-time signal: one of each child is queued */
		check(!sigqueue(me.parent, SIGRTMIN, v), "signals its parent", "%m");
	}
	for (i = 0; i < me.nkids; i++) {
		char what[128];
		pid_t w;

		alarm(30);
		while ((w = waitpid(me.kid[i], &status, 0)) < 0 && errno == EINTR)
			;
		alarm(0);
		snprintf(what, sizeof(what), "waits for its child (%s): exit status 0",
			 task_name[me.kid_idx[i]]);
		check(w == me.kid[i] && WIFEXITED(status) && !WEXITSTATUS(status), what,
		      "waitpid %d, status 0x%x", w, w == me.kid[i] ? status : 0);
		snprintf(what, sizeof(what), "got the signal of its child (%s)",
			 task_name[me.kid_idx[i]]);
		check(me.got[me.kid_idx[i]], what, "no SIGRTMIN from pid %d", me.kid[i]);
	}
	if (me.idx == R) {
		off_t pos = lseek(me.file, 0, SEEK_CUR);

		n = pread(me.file, buf, 10, 100);
		check(pos == 110 && n == 10 && !memcmp(buf, "c2c2c2c2c2", 10),
		      "the file it shares with its child: one offset",
		      "offset %lld (110 expected), %d bytes at 100", (long long)pos, n);
	}
	t_subj_exit();
}

static void __attribute__((noreturn)) task_loop(void)
{
	struct timespec ts = { 0, 5000000 };
	char c;

	me.sum = sum64(me.mem, MEM);
	me.count_ready = ++me.count;
	if (pwrite(CTL, &me.self, sizeof(me.self), 64 + me.idx * 8) != sizeof(me.self) ||
	    pwrite(CTL, "r", 1, 16 + me.idx) != 1)
		_exit(120);
	while (pread(CTL, &c, 1, GO_OFF) != 1) {
		me.count++;
		nanosleep(&ts, NULL);
	}
	verify();
}

static pid_t fork_task(int idx, void (*setup)(void));

static void setup_g(void)
{
	close(me.pipe_rd);
	close(me.file);
}

static void setup_c1(void)
{
	close(me.pipe_wr);
	close(me.file);
	if (setsid() < 0)
		_exit(121);
	fork_task(G1, setup_g);
}

static void setup_c2(void)
{
	close(me.pipe_rd);
	close(me.pipe_wr);
	if (setpgid(0, 0))
		_exit(121);
	fork_task(G2, setup_g);
}

/* A task of the tree: a child of the caller, set up and counting */
static pid_t fork_task(int idx, void (*setup)(void))
{
	pid_t pid = fork();
	size_t i;

	if (pid < 0)
		_exit(122);
	if (pid > 0) {
		me.kid_idx[me.nkids] = idx;
		me.kid[me.nkids++] = pid;
		return pid;
	}
	me.idx = idx;
	me.parent = me.self;
	me.self = getpid();
	me.nkids = 0;
	/* Memory of its own: another pattern in every task */
	for (i = 0; i < MEM; i++)
		me.mem[i] = (i * 131 + idx * 7 + (i >> 12)) & 0xff;
	if (setup)
		setup();
	task_loop();
}

/* The root, a child of the test */
static void tree_root(void *arg)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	char buf[PIPE_DATA];
	int p[2];
	size_t i;

	(void)arg;
	/*
	 * Not killed with its parent: when the coordinator is killed right
	 * after a restart went through, the tree runs on whole.
	 */
	prctl(PR_SET_PDEATHSIG, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	me.idx = R;
	me.self = getpid();
	me.mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	me.file = open(file_path, O_RDWR | O_CLOEXEC);
	memset(buf, 'r', sizeof(buf));
	if (me.mem == MAP_FAILED || me.file < 0 || pipe(p) ||
	    write(p[1], buf, PIPE_DATA) != PIPE_DATA || write(me.file, buf, 100) != 100)
		_exit(121);
	me.pipe_rd = p[0];
	me.pipe_wr = p[1];
	for (i = 0; i < MEM; i++)
		me.mem[i] = (i * 131 + (i >> 12)) & 0xff;
	fork_task(C1, setup_c1);
	fork_task(C2, setup_c2);
	close(me.pipe_rd);
	task_loop();
}

/* The test's side */

static struct t_subject subj;
static pid_t pids[NT];

/* Reap whatever ended (we are a subreaper: orphans of the tree too) */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

static void kill_pids(const pid_t *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (p[i] > 0 && tt_fate(p[i], NULL, 0) != TT_GONE)
			kill(p[i], SIGKILL);
	for (i = 0; i < 200; i++) {
		int j, left = 0;

		reap();
		for (j = 0; j < n; j++)
			left += p[j] > 0 && !kill(p[j], 0);
		if (!left)
			return;
		tf_sleep_ms(10);
	}
}

/* Start the tree and wait until every task is ready: 0 or -1 */
static int start_tree(const char *name)
{
	char c[NT];
	int i, k;

	if (t_subj_start(&subj, tree_root, NULL))
		t_bail("starting the tree");
	/* Every task appends to the report file */
	if (fcntl(subj.rep, F_SETFL, O_APPEND))
		t_bail("O_APPEND");
	for (k = 0; k < 1000; k++) {
		if (pread(subj.ctl, c, NT, 16) == NT) {
			for (i = 0; i < NT && c[i] == 'r'; i++)
				;
			if (i == NT)
				break;
		}
		if (tf_wait_ms(subj.pid, 10) != -1) {
			t_fail(name, "the tree's root ended before it was ready");
			subj.pid = 0;
			return -1;
		}
	}
	for (i = 0; i < NT; i++)
		if (pread(subj.ctl, &pids[i], sizeof(pids[i]), 64 + i * 8) != sizeof(pids[i]))
			pids[i] = 0;
	if (k == 1000) {
		t_fail(name, "the tree was not ready after 10 s");
		kill_pids(pids, NT);
		return -1;
	}
	return 0;
}

/* Run a program; its exit status (128+signal), -1 when it overstays */
static int run(char *const argv[], int ms)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	status = tf_wait_ms(pid, ms);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char img[4096], img_log[4096];
static struct tt_plan tree_plan;	/* of the image: its order */

/* The index in the image of our task idx */
static int in_image(int idx)
{
	int i;

	for (i = 0; i < tree_plan.n; i++)
		if (tree_plan.t[i].pid == pids[idx])
			return i;
	return -1;
}

/* The checkpoint tool on the tree: 0, or -1 (reported) */
static int checkpoint_tree(const char *name)
{
	char pid[16], *log;
	char *argv[] = { "/bin/checkpoint", "-o", img, "-l", img_log, pid, NULL };
	struct tt_plan *p = &tree_plan;
	char desc[512] = "";
	size_t len, n = 0;
	unsigned char *buf;
	int rc, i, ok, exact;

	snprintf(pid, sizeof(pid), "%d", subj.pid);
	rc = run(argv, 60000);
	log = t_read_path(img_log, NULL);
	if (!t_check(rc == 0, name, "checkpoint exited %d; log: %.300s", rc, log ? log : "")) {
		free(log);
		return -1;
	}
	free(log);
	buf = (unsigned char *)t_read_path(img, &len);
	exact = buf && !tt_plan_image(buf, len, p);
	ok = exact && p->n == NT;
	/* Parents first: the root, its children, then theirs */
	for (i = 0; ok && i < NT; i++)
		ok = in_image(i) >= 0 && (i == R || in_image(i) > 0) &&
		     (i != G1 || in_image(G1) > in_image(C1)) &&
		     (i != G2 || in_image(G2) > in_image(C2));
	ok = ok && !in_image(R) && tree_plan.t[in_image(C1)].setsid &&
	     tree_plan.t[in_image(G1)].pgid == in_image(C1) &&
	     tree_plan.t[in_image(C2)].pgid == TT_PGID_OWN &&
	     tree_plan.t[in_image(G2)].pgid == in_image(C2) &&
	     tree_plan.t[in_image(G2)].parent == in_image(C2);
	for (i = 0; buf && i < p->n && n < sizeof(desc) - 80; i++)
		n += snprintf(desc + n, sizeof(desc) - n, " [pid %d parent %d setsid %d pgid %d]",
			      p->t[i].pid, p->t[i].parent, p->t[i].setsid, p->t[i].pgid);
	printf("# the tree: pids %d %d %d %d %d; the image's:%s%s\n", pids[R], pids[C1],
	       pids[G1], pids[C2], pids[G2], desc, exact ? "" : " (not as mktree makes it)");
	t_check(ok, "tree: the image's pids and tree records name the tree's tasks, parents first",
		"%s", buf ? desc : "the image is unreadable");
	free(buf);
	return ok ? 0 : -1;
}

/* The restarted tree's lines, as the test's own */
static void report_lines(const char *prefix)
{
	char name[512], *buf, *line, *next;
	int done = 0;

	buf = t_read_path(subj.rep_path, NULL);
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!strncmp(line, "ok - ", 5)) {
			snprintf(name, sizeof(name), "%s: %s", prefix, line + 5);
			t_pass(name);
		} else if (!strncmp(line, "not ok - ", 9)) {
			/* "TASK: CHECK: WHY", the last ": " before the why */
			char *colon = NULL, *c;

			for (c = strstr(line + 9, ": "); c; c = strstr(c + 2, ": "))
				colon = c;
			if (colon && colon != strstr(line + 9, ": "))
				*colon = '\0';
			else
				colon = NULL;
			snprintf(name, sizeof(name), "%s: %s", prefix, line + 9);
			t_fail(name, "%s", colon ? colon + 2 : "");
		} else if (!strncmp(line, "# subject done", 14)) {
			done++;
		}
	}
	snprintf(name, sizeof(name), "%s: every task of the tree ran its checks", prefix);
	t_check(done == NT, name, "%d of %d tasks finished", done, NT);
	free(buf);
}

/* Wait until the tasks run (restored) or the restarter ended */
static void wait_restored(pid_t restarter, int ms)
{
	long long end = tf_now_ms() + ms;
	int i, alive;

	do {
		for (i = 0, alive = 0; i < NT; i++)
			alive += tt_fate(pids[i], NULL, 0) == TT_ALIVE;
		if (alive == NT || kill(restarter, 0))
			return;
		tf_sleep_ms(20);
	} while (tf_now_ms() < end);
}

/*
 * The coordinator, a child of the test: makes the tree of the image with
 * the tests' mktree and restarts it; st (shared) tells how it went.  On
 * success it waits for the root and exits with its status.
 */
static pid_t coordinator(const char *image, const struct tt_opts *o, struct tt_state *st,
			 int logfd)
{
	static struct tt_plan p;
	unsigned char *buf;
	size_t len;
	pid_t pid;

	buf = (unsigned char *)t_read_path(image, &len);
	if (!buf)
		t_bail("reading the image");
	tt_plan_image(buf, len, &p);
	free(buf);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		int fd = open(image, O_RDONLY | O_CLOEXEC), status;

		if (fd < 0)
			_exit(126);
		if (tt_restart_tree(&p, o, fd, logfd, st))
			_exit(125);
		while (waitpid(st->pid[0], &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return pid;
}

static char *read_log(int logfd)
{
	lseek(logfd, 0, SEEK_SET);
	return t_read_fd(logfd, NULL);
}

/*
 * The tree, restarted (by the tool when tool is set, with its option
 * pidns: --no-pidns, here, or --pidns, in a new pid namespace, where the
 * tasks have the same pids, which we do not see) and checking itself
 */
static void restore_and_check(const char *prefix, const char *tool, const char *pidns)
{
	char name[256], *log = NULL;
	struct tt_opts o = { .exit_before_join = -1 };
	struct tt_state *st = tt_state_new();
	int logfd = t_log_fd(), status, rc;
	pid_t pid;

	if (ftruncate(subj.rep, 0) || ftruncate(subj.ctl, GO_OFF) || !st)
		t_bail("resetting the report file");
	if (tool) {
		char logarg[64];
		char *argv[] = { (char *)tool, (char *)pidns, "-i", img, "-l", logarg, NULL };

		snprintf(logarg, sizeof(logarg), "/proc/self/fd/%d", logfd);
		fcntl(logfd, F_SETFD, 0);
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			execv(tool, argv);
			_exit(127);
		}
	} else {
		pid = coordinator(img, &o, st, logfd);
	}
	if (!tool || !strcmp(pidns, "--no-pidns"))
		wait_restored(pid, 30000);
	if (pwrite(subj.ctl, "g", 1, GO_OFF) != 1)
		t_bail("go");
	status = tf_wait_ms(pid, 60000);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	log = read_log(logfd);
	snprintf(name, sizeof(name), "%s: restarted, the root's exit status (0) comes back", prefix);
	if (!tool && !st->called)
		t_fail(name, "restart(2) not called: %s", st->why);
	else if (!tool && st->ret)
		t_fail(name, "restart(2): %s; log: %.400s", t_errname(st->err), log ? log : "");
	else
		t_check(rc == 0, name, "exit status %d%s%s; log: %.400s", rc,
			st->why[0] ? "; mktree: " : "", st->why, log ? log : "");
	report_lines(prefix);
	kill_pids(pids, NT);
	free(log);
	close(logfd);
	tt_state_free(st);
}

/* Failures */

/*
 * Wait up to ms for the coordinator's restart(2) to return or the
 * coordinator to end (it waits for a restored root, which waits for a
 * go that does not come).  0, or -1 when neither happened.
 */
static int wait_returned(pid_t coord, struct tt_state *st, int ms)
{
	long long end = tf_now_ms() + ms;

	while (!st->returned && tf_now_ms() < end)
		if (tf_wait_ms(coord, 10) != -1)
			return 0;
	if (!st->returned)
		return -1;
	if (st->ret)
		tf_wait_ms(coord, 10000);	/* it exits at once */
	return 0;
}

/* Kill what is left of the tree of st */
static void kill_tree(struct tt_state *st)
{
	pid_t p[TT_MAX_TASKS];
	int i;

	for (i = 0; i < st->n; i++)
		p[i] = st->gpid[i];
	kill_pids(p, st->n);
}

/* Kill and reap the coordinator, if still there */
static void end_coordinator(pid_t coord)
{
	kill(coord, SIGKILL);
	waitpid(coord, NULL, 0);
}

/*
 * After a failed restart: the coordinator got an errno with a log line,
 * and no task is half restored: each is gone, or (when joined may be
 * left) still waiting to join.  Then everything is killed.
 */
static void expect_failure(const char *name, pid_t coord, struct tt_state *st, int logfd,
			   int joined_ok, int want)
{
	char why[512] = "", *log;
	const char *lp;
	int alive, joined = 0, i;

	if (wait_returned(coord, st, 60000))
		t_fail(name, "the coordinator is still there after 60 s (%s)",
		       st->called ? "in restart(2)" : st->why);
	end_coordinator(coord);
	log = read_log(logfd);
	alive = tt_settle(st, 5000, why, sizeof(why));
	for (i = 0; i < st->n; i++)
		joined += tt_fate(st->gpid[i], NULL, 0) == TT_JOINED;
	if (!st->called)
		t_fail(name, "restart(2) not called: %s", st->why);
	else if (st->ret == 0)
		t_fail(name, "restart(2) succeeded");
	else if (want && st->err != want)
		t_fail(name, "got %s, expected %s; log: %.300s", t_errname(st->err),
		       t_errname(want), log ? log : "");
	else if (alive)
		t_fail(name, "%s: %d task(s) alive outside restart(2): %s",
		       t_errname(st->err), alive, why);
	else if (joined && !joined_ok)
		t_fail(name, "%s: %d task(s) still in restart(2), expected all gone",
		       t_errname(st->err), joined);
	else if ((lp = t_log_problem(log, st->err, NULL)))
		t_fail(name, "%s: %s", t_errname(st->err), lp);
	else
		t_pass(name);
	printf("# %s: %s, %d task(s) left joined; log: %.200s", name, t_errname(st->err),
	       joined, log && *log ? log : "\n");
	kill_tree(st);
	free(log);
}

/* The second task's mm announces 2^32-1 mappings */
static int corrupt_second_task(const char *out)
{
	static struct tt_rec r[8192];
	unsigned char *buf;
	size_t len, n, i;
	int tasks = 0, done = 0, fd;

	buf = (unsigned char *)t_read_path(img, &len);
	if (!buf)
		return -1;
	n = tt_walk(buf, len, r, 8192);
	for (i = 0; i < n && !done; i++) {
		tasks += r[i].type == CKPT_HDR_TASK;
		if (tasks == 2 && r[i].type == CKPT_HDR_MM) {
			((struct ckpt_hdr_mm *)(buf + r[i].off))->nr_vmas = 0xffffffff;
			done = 1;
		}
	}
	fd = done ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (fd < 0 || ckpt_write_full(fd, buf, len)) {
		free(buf);
		return -1;
	}
	free(buf);
	return close(fd);
}

static void failure_corrupt(void)
{
	const char *name = "tree: a corrupt second task: an errno, every task gone";
	struct tt_opts o = { .exit_before_join = -1 };
	struct tt_state *st = tt_state_new();
	char bad[4200];
	int logfd = t_log_fd();

	snprintf(bad, sizeof(bad), "%s.bad", img);
	if (corrupt_second_task(bad)) {
		t_fail(name, "no mm record in the second task's section");
		return;
	}
	expect_failure(name, coordinator(bad, &o, st, logfd), st, logfd, 0, 0);
	unlink(bad);
	close(logfd);
	tt_state_free(st);
}

static void failure_exit_before_join(void)
{
	const char *name = "tree: a task that exits before it joins: an errno, nothing half restored";
	struct tt_opts o = { .exit_before_join = in_image(C2) };
	struct tt_state *st = tt_state_new();
	int logfd = t_log_fd();

	expect_failure(name, coordinator(img, &o, st, logfd), st, logfd, 1, 0);
	close(logfd);
	tt_state_free(st);
}

/*
 * SIGKILL to the coordinator (victim -1) or to a task of the tree, delay
 * ms after the coordinator called restart(2): afterwards no task is half
 * restored.  Either all are gone or still waiting to join (then killed),
 * or the restart was through and they all run.
 */
static void failure_kill(int victim, int rounds)
{
	static const int delays[] = { 0, 3, 10, 30, 100, 300 };
	char name[256], why[512];
	int i, k, bad = 0, alive = 0, outcomes[4] = { 0 }, nolog = 0;
	char first[600] = "", first_nolog[600] = "", errs[200] = "";

	snprintf(name, sizeof(name), "tree: SIGKILL to %s during restart: nothing half restored",
		 victim < 0 ? "the coordinator" : task_name[victim]);
	for (k = 0; k < rounds; k++) {
		struct tt_opts o = { .exit_before_join = -1 };
		struct tt_state *st = tt_state_new();
		int logfd = t_log_fd();
		long long end = tf_now_ms() + 20000;
		pid_t coord = coordinator(img, &o, st, logfd);

		while (!st->called && tf_now_ms() < end && tf_wait_ms(coord, 1) == -1)
			;
		tf_sleep_ms(delays[k % 6]);
		kill(victim < 0 ? coord : st->pid[in_image(victim)], SIGKILL);
		if (wait_returned(coord, st, 60000) && !bad++)
			snprintf(first, sizeof(first), "round %d: restart(2) still running after 60 s",
				 k);
		if (st->returned && st->ret)
			end_coordinator(coord);
		alive = tt_settle(st, 5000, why, sizeof(why));
		/* All restored and running is fine: the kill came after */
		for (i = 0; i < st->n; i++)
			if (tt_fate(st->gpid[i], NULL, 0) != TT_ALIVE)
				break;
		if (alive && !(i == st->n || (victim >= 0 && !st->ret))) {
			if (!bad++)
				snprintf(first, sizeof(first), "round %d (%d ms): %s", k,
					 delays[k % 6], why);
		}
		/* A task killed: the coordinator's errno, and its log line */
		if (victim >= 0 && st->returned && st->ret) {
			char *log = read_log(logfd);
			const char *lp = t_log_problem(log, st->err, NULL);

			if (lp && !nolog++)
				snprintf(first_nolog, sizeof(first_nolog),
					 "round %d (%d ms): %s: %s", k, delays[k % 6],
					 t_errname(st->err), lp);
			if (!errs[0] || !strstr(errs, t_errname(st->err)))
				snprintf(errs + strlen(errs), sizeof(errs) - strlen(errs), " %s",
					 t_errname(st->err));
			free(log);
		}
		outcomes[!st->called ? 2 : !st->returned ? 3 : st->ret ? 0 : 1]++;
		end_coordinator(coord);
		kill_tree(st);
		close(logfd);
		tt_state_free(st);
	}
	printf("# %s: %d rounds: %d failed (%s), %d restored, %d killed before restart(2), %d in it\n",
	       name, rounds, outcomes[0], errs[0] ? errs + 1 : "", outcomes[1], outcomes[2],
	       outcomes[3]);
	t_check(!bad, name, "%d of %d rounds; first: %s", bad, rounds, first);
	if (victim >= 0) {
		snprintf(name, sizeof(name), "tree: SIGKILL to %s during restart: the errno has its log line",
			 task_name[victim]);
		t_check(!nolog, name, "%d of %d failed rounds; first: %s", nolog, outcomes[0],
			first_nolog);
	}
}

/* Adoption refused */

static pid_t single_pid;
static char single_img[4096];

/* A one-task image: a counting child, checkpointed and killed */
static int single_image(void)
{
	struct t_loop l;
	int err;

	if (t_loop_start(&l))
		return -1;
	single_pid = l.pid;
	err = t_checkpoint_file(l.pid, CHECKPOINT_SUBTREE, single_img);
	t_loop_kill(&l);
	return err;
}

/* A child of ours with the image's pid: joins, or waits for a signal */
static volatile sig_atomic_t pinged;

static void on_ping(int sig)
{
	(void)sig;
	pinged = 1;
}

static pid_t make_x(int join, int ans)
{
	pid_t tid = single_pid, pid;
	struct clone_args a = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};

	fflush(NULL);
	pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (join) {
			sys_restart(0, -1, 0, -1);
			_exit(TT_JOINER_RETURNED);
		}
		signal(SIGUSR1, on_ping);
		while (!pinged)
			pause();
		_exit(write(ans, "p", 1) == 1 ? 0 : 1);
	}
	return pid;
}

/* restart(pid, ...) from a child of ours: its errno (0: success) */
static int adopt_from_sibling(pid_t pid, int logfd)
{
	int fd = open(single_img, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		t_bail("image");
	rc = t_restart_child(fd, pid, 0, logfd);
	close(fd);
	return rc;
}

/* The documented errno for a root that is not the caller's child */
static int not_a_child(int e)
{
	return e == ECHILD;
}

static void failure_not_its_child(void)
{
	const char *n1 = "tree: a coordinator adopting a joined task that is not its child: ECHILD";
	const char *n2 = "tree: a coordinator adopting a running task that is not its child: ECHILD";
	int logfd = t_log_fd(), p[2], rc;
	pid_t x;
	char c, *log;

	x = make_x(1, -1);
	if (x < 0) {
		t_fail(n1, "clone3 with pid %d: %m", single_pid);
		return;
	}
	/* Until it is in restart(2) */
	for (rc = 0; rc < 500 && tt_fate(x, NULL, 0) != TT_JOINED; rc++)
		tf_sleep_ms(10);
	rc = adopt_from_sibling(x, logfd);
	log = read_log(logfd);
	if (t_check(not_a_child(rc), n1, "got %s; log: %.300s", t_errname(rc), log ? log : ""))
		t_check(!t_log_problem(log, rc, NULL), "tree: ... and the log says why",
			"%s", t_log_problem(log, rc, NULL));
	t_check(tt_fate(x, NULL, 0) == TT_JOINED,
		"tree: ... and that task still waits to join, untouched", "it is %s",
		tt_fate(x, NULL, 0) == TT_GONE ? "gone" : "out of restart(2)");
	kill_pids(&x, 1);
	free(log);

	if (pipe(p))
		t_bail("pipe");
	x = make_x(0, p[1]);
	close(p[1]);
	tf_sleep_ms(100);
	close(logfd);
	logfd = t_log_fd();
	rc = adopt_from_sibling(x, logfd);
	log = read_log(logfd);
	if (t_check(not_a_child(rc), n2, "got %s; log: %.300s", t_errname(rc), log ? log : ""))
		t_check(!t_log_problem(log, rc, NULL), "tree: ... and the log says why",
			"%s", t_log_problem(log, rc, NULL));
	kill(x, SIGUSR1);
	t_check(read(p[0], &c, 1) == 1 && t_wait(x) == 0,
		"tree: ... and that task runs on untouched", "it did not answer");
	close(p[0]);
	kill_pids(&x, 1);
	free(log);
	close(logfd);
}

static void become_user(void)
{
	if (t_become(T_USER, T_USER, 0, NULL))
		_exit(T_NO_SETUP);
}

static void failure_other_user(void)
{
	const char *name = "tree: a user's coordinator adopting its child of root: EPERM";
	struct tt_opts o = { .exit_before_join = -1, .before = become_user };
	struct tt_state *st = tt_state_new();
	int logfd = t_log_fd(), status;
	pid_t coord;
	char *log;

	fchmod(logfd, 0666);
	coord = coordinator(single_img, &o, st, logfd);
	status = tf_wait_ms(coord, 30000);
	log = read_log(logfd);
	if (status == -1 || !st->called)
		t_fail(name, "restart(2) %s", st->called ? "did not return" : "not called");
	else
		t_check(st->ret < 0 && st->err == EPERM, name, "got %s; log: %.300s",
			st->ret ? t_errname(st->err) : "success", log ? log : "");
	t_check(tt_fate(st->gpid[0], NULL, 0) == TT_JOINED,
		"tree: ... and that task still waits to join, untouched", "it is %s",
		tt_fate(st->gpid[0], NULL, 0) == TT_GONE ? "gone" : "out of restart(2)");
	kill_tree(st);
	if (status == -1) {
		kill(coord, SIGKILL);
		waitpid(coord, NULL, 0);
	}
	free(log);
	close(logfd);
	tt_state_free(st);
}

/* Checkpoint refused: a tree with a thread, a zombie or a stopped child */

enum { PLAIN, THREAD, ZOMBIE, STOPPED };
static const char *const odd_name[] = { "a plain child", "a thread", "a zombie", "a stopped child" };

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * The parent: forks the odd child, says its pid on ans, waits for a byte
 * on ctl; then reaps the child (a zombie's status, or after a SIGKILL)
 * and says how it ended.
 */
static pid_t odd_tree(int kind, int *ctl, int *ans, pid_t *child)
{
	int c[2], a[2];
	pid_t pid;

	if (pipe(c) || pipe(a))
		t_bail("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		pthread_t t;
		pid_t y;
		int status;
		char b;

		close(c[1]);
		close(a[0]);
		y = fork();
		if (y == 0) {
			if (kind == ZOMBIE)
				_exit(42);
			if (kind == THREAD && pthread_create(&t, NULL, sleeper, NULL))
				_exit(1);
			for (;;)
				pause();
		}
		if (write(a[1], &y, sizeof(y)) != sizeof(y) || read(c[0], &b, 1) != 1)
			_exit(1);
		if (kind != ZOMBIE)
			kill(y, SIGKILL);
		if (waitpid(y, &status, 0) != y || write(a[1], &status, sizeof(status)) != sizeof(status))
			_exit(1);
		_exit(0);
	}
	close(c[0]);
	close(a[1]);
	*ctl = c[1];
	*ans = a[0];
	if (read(a[0], child, sizeof(*child)) != sizeof(*child))
		t_bail("the odd tree");
	return pid;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (tf_read_file(path, buf, sizeof(buf)))
		return '-';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static int threads(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (tf_read_file(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "Threads:");
	return p ? atoi(p + 8) : -1;
}

static void checkpoint_refused(int kind)
{
	static const char *const word[] = { NULL, "thread", "zombie", "stop" };
	char name[256], path[4096], *log;
	int ctl, ans, status = -1, logfd = t_log_fd(), fd, err = 0, unchanged;
	pid_t child, pid = odd_tree(kind, &ctl, &ans, &child);
	long long end = tf_now_ms() + 5000;

	/* The odd state, settled */
	if (kind == STOPPED)
		kill(child, SIGSTOP);
	while (tf_now_ms() < end &&
	       (kind == ZOMBIE ? proc_state(child) != 'Z' :
		kind == STOPPED ? proc_state(child) != 'T' :
		kind == THREAD ? threads(child) != 2 : 0))
		tf_sleep_ms(10);
	fd = t_mkstemp(path, "odd");
	if (sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, logfd) < 0)
		err = errno;
	close(fd);
	unlink(path);
	log = read_log(logfd);
	if (kind == PLAIN) {
		t_check(!err, "tree: control: a parent with a plain child checkpoints",
			"%s; log: %.300s", t_errname(err), log ? log : "");
	} else if (kind == ZOMBIE) {
		/* Saved (CKPT_TASK_ZOMBIE); t_restart_zombie restores them */
		t_check(!err, "tree: checkpoint of a tree with a zombie: saved",
			"%s; log: %.300s", t_errname(err), log ? log : "");
	} else {
		snprintf(name, sizeof(name), "tree: checkpoint of a tree with %s: EOPNOTSUPP",
			 odd_name[kind]);
		if (t_check(err == EOPNOTSUPP, name, "got %s; log: %.300s", t_errname(err),
			    log ? log : "")) {
			const char *why = t_log_problem(log, err, word[kind]);

			snprintf(name, sizeof(name), "tree: ... with %s: the log names it",
				 odd_name[kind]);
			t_check(!why, name, "%s", why);
		}
	}
	/* Unchanged: the odd state is still there, the parent answers. */
	unchanged = kind == ZOMBIE ? proc_state(child) == 'Z' :
		    kind == STOPPED ? proc_state(child) == 'T' :
		    kind == THREAD ? threads(child) == 2 : proc_state(child) != '-';
	if (kind == STOPPED) {
		kill(child, SIGCONT);
		for (end = tf_now_ms() + 2000; proc_state(child) == 'T' && tf_now_ms() < end;)
			tf_sleep_ms(10);
		unchanged &= proc_state(child) != 'T';
	}
	if (write(ctl, "q", 1) != 1 || read(ans, &status, sizeof(status)) != sizeof(status))
		unchanged = 0;
	if (kind == ZOMBIE)
		unchanged &= WIFEXITED(status) && WEXITSTATUS(status) == 42;
	unchanged &= t_wait(pid) == 0;
	snprintf(name, sizeof(name), "tree: ... with %s: the tree runs on unchanged",
		 odd_name[kind]);
	t_check(unchanged, name, "child state '%c', threads %d, status 0x%x",
		proc_state(child), threads(child), status);
	close(ctl);
	close(ans);
	free(log);
	close(logfd);
}

int main(void)
{
	const char *tool = getenv("T_TREE_TOOL");
	const char *r = getenv("T_TREE_ROUNDS");
	int rounds = r && *r ? atoi(r) : 4, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (t_mkstemp(file_path, "tree-file") < 0)
		t_bail("file");
	snprintf(img, sizeof(img), "%.4000s.img", file_path);
	snprintf(img_log, sizeof(img_log), "%.4000s.log", file_path);
	if (start_tree("tree: the tree starts") || checkpoint_tree("tree: checkpoint (the tool)"))
		return t_done();
	kill_pids(pids, NT);
	subj.pid = 0;
	reap();

	/* Restarted by the tests' mktree, then by the tool */
	restore_and_check("tree (mktree)", NULL, NULL);
	if (!tool)
		tool = "/bin/restart";
	if (*tool)
		restore_and_check("tree (restart tool)", tool, "--no-pidns");
	if (*tool)
		restore_and_check("tree (restart tool, new pid namespace)", tool, "--pidns");

	/* What the failures restore, if anything, waits for a go. */
	if (ftruncate(subj.ctl, GO_OFF))
		t_bail("resetting the control file");
	failure_corrupt();
	failure_exit_before_join();
	failure_kill(-1, rounds);
	failure_kill(C2, rounds);

	if (single_image()) {
		t_fail("tree: a one-task image", "checkpoint: %m");
	} else {
		failure_not_its_child();
		failure_other_user();
		unlink(single_img);
	}
	for (k = PLAIN; k <= STOPPED; k++)
		checkpoint_refused(k);

	t_subj_cleanup(&subj);
	unlink(file_path);
	unlink(img);
	unlink(img_log);
	reap();
	return t_done();
}
