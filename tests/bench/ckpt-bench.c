// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-bench - how fast checkpoint(2) and restart(2) are, as ratios to
 * bounds measured in the same run.
 *
 * For each size N (MiB), in R rounds (each round all three, so that a busy
 * host weighs on them alike):
 *   - the bounds, best of the rounds: memcpy() of an N MiB buffer, write()
 *     of N MiB into a new file in the image directory (tmpfs) in 1 MiB
 *     blocks as dd does, and read() of it back;
 *   - checkpoint(2) of a subject process holding N MiB of touched anonymous
 *     memory (a different non-zero value in every word, so that no page is
 *     the zero page or equal to another) into a new image file, timed from
 *     open() to close(); then restart(2) of it, after SIGKILL, in a new
 *     child (RESTART_TASKSELF), timed from fork() until the restored
 *     subject runs: blocked in read() on a named pipe at the checkpoint,
 *     its first act after the restore is to write a byte to another one.
 *     It then checks every word of its memory and says whether all came
 *     back; a round counts only when they did.  Min of the rounds;
 *   - the same with CRIU, when criu is installed: criu dump -t PID -D DIR
 *     --shell-job, timed from fork() to its exit, and criu restore -D DIR
 *     --shell-job -d, timed from fork() until the subject runs, both in a
 *     new session (criu refuses session 0).  Its times include starting
 *     criu (exec, shared libraries), as any use of it does.
 *
 * It prints tables and one "BENCH key=value ..." line per result (see
 * print_bench_lines()).  Exit status: 0, 1 when a measurement of checkpoint(2)
 * or restart(2) failed, 2 for usage errors.  CRIU failing is reported and
 * its columns left out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "tlib.h"

#define PROG		"ckpt-bench"
#define MIB		(1UL << 20)
#define MAX_SIZES	16
#define MAX_ROUNDS	20

/* Bytes on the "up" named pipe, from the subject (or a failed restart) */
#define UP_READY	'r'	/* set up, about to block in read() */
#define UP_RUNNING	'u'	/* restored: the first thing it does */
#define UP_GOOD		'V'	/* every word of its memory came back */
#define UP_BAD		'X'	/* some did not */
#define UP_FAILED	'E'	/* restart(2) returned; an int errno follows */

/* Exit codes of the subject */
#define SUBJ_SETUP	120
#define SUBJ_IO		121

struct opts {
	unsigned long sizes[MAX_SIZES];	/* MiB */
	int nsizes;
	int rounds;
	const char *dir;		/* where images go (tmpfs) */
	const char *criu;		/* NULL: without CRIU */
};

/* Best bandwidths at one size, MiB/s */
struct bounds {
	double memcpy_bw, write_bw, read_bw;
};

/* One implementation at one size: min times over the rounds, ms */
struct result {
	int ok;				/* every round measured */
	double ckpt_ms, restart_ms;
	unsigned long long image;	/* bytes, of the last round */
};

enum impl { LINUX_CR, CRIU, NR_IMPLS };
static const char *const impl_name[NR_IMPLS] = { "linux-cr", "criu" };

/* Paths: workdir is short enough for every name below it */
static char workdir[PATH_MAX / 2], go_path[PATH_MAX], up_path[PATH_MAX];
static char img_path[PATH_MAX], criu_dir[PATH_MAX / 2 + 8];
static int go_fd = -1, up_fd = -1;	/* the bench's ends */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "what: ENAME (text)" from errno e */
static void msg_err(int e, const char *what)
{
	msg("%s: %s (%s)", what, t_errname(e), strerror(e));
}

static void __attribute__((noreturn)) die(const char *what)
{
	msg_err(errno, what);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double mib_per_s(unsigned long mib, double ms)
{
	return ms > 0 ? mib * 1e3 / ms : 0;
}

/* A new anonymous mapping, every page touched */
static void *touched(size_t len, int c)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, c, len);
	return p;
}

/* Bounds */

/* write() len bytes of buf to a new file at path in 1 MiB blocks */
static double time_write(const char *path, const char *buf, size_t len)
{
	double t0 = now_ms();
	size_t off;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	for (off = 0; off < len; off += MIB)
		if (ckpt_write_full(fd, buf + off, MIB))
			die("write to the image directory");
	if (close(fd))
		die("close");
	return now_ms() - t0;
}

static double time_read(const char *path, char *buf, size_t len)
{
	double t0 = now_ms();
	size_t off;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	for (off = 0; off < len; off += n) {
		n = read(fd, buf + off, len - off < MIB ? len - off : MIB);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			die("read from the image directory");
		}
	}
	close(fd);
	return now_ms() - t0;
}

static double max_bw(double bw, unsigned long mib, double ms)
{
	double v = mib_per_s(mib, ms);

	return v > bw ? v : bw;
}

/* One round of the bounds, taken in between the other measurements */
static void bounds_round(unsigned long mib, struct bounds *b)
{
	size_t len = mib * MIB;
	char *src = touched(len, 0x5a), *dst = touched(len, 0xa5);
	char path[PATH_MAX];
	double t;

	snprintf(path, sizeof(path), "%s/bound", workdir);
	t = now_ms();
	memcpy(dst, src, len);
	/* The copy is used: keep the compiler from dropping it. */
	asm volatile("" : : "r"(dst) : "memory");
	b->memcpy_bw = max_bw(b->memcpy_bw, mib, now_ms() - t);
	b->write_bw = max_bw(b->write_bw, mib, time_write(path, src, len));
	b->read_bw = max_bw(b->read_bw, mib, time_read(path, dst, len));
	unlink(path);
	munmap(src, len);
	munmap(dst, len);
}

/* The subject */

static uint64_t pattern(uint64_t seed, size_t i)
{
	/* Odd multiplier: a bijection, so every word and page differs. */
	return ((i + 1) * 0x9e3779b97f4a7c15ULL) ^ seed;
}

/*
 * Only what both checkpointers save: fds 0-2 on /dev/null, 3 and 4 the
 * named pipes (opened here, not inherited: the bench's ends are
 * non-blocking), anonymous memory.  No PR_SET_PDEATHSIG: CRIU restores it
 * and the restored task would die with criu.
 */
static void __attribute__((noreturn)) subject(size_t len, uint64_t seed)
{
	size_t i, n = len / sizeof(uint64_t), bad = 0;
	uint64_t *mem;
	char c;

	close_range(0, ~0U, 0);
	if (open("/dev/null", O_RDWR) != 0 || dup(0) != 1 || dup(0) != 2 ||
	    open(go_path, O_RDWR) != 3 || open(up_path, O_RDWR) != 4)
		_exit(SUBJ_SETUP);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(SUBJ_SETUP);
	for (i = 0; i < n; i++)
		mem[i] = pattern(seed, i);
	c = UP_READY;
	if (write(4, &c, 1) != 1)
		_exit(SUBJ_IO);
	/* Checkpointed here; the restored task gets the bench's byte. */
	while (read(3, &c, 1) != 1)
		if (errno != EINTR)
			_exit(SUBJ_IO);
	c = UP_RUNNING;
	if (write(4, &c, 1) != 1)
		_exit(SUBJ_IO);
	for (i = 0; i < n; i++)
		bad += mem[i] != pattern(seed, i);
	c = bad ? UP_BAD : UP_GOOD;
	if (write(4, &c, 1) != 1)
		_exit(SUBJ_IO);
	_exit(bad ? 1 : 0);
}

static const char *status_str(int status)
{
	static char buf[64];

	if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(status));
	return buf;
}

/*
 * The next byte on the up pipe within ms, or -1.  While *watch > 0, that
 * child is watched too: when it ends, *watch becomes 0, *status holds its
 * wait status, and -2 is returned unless it wrote a byte before.
 */
static int wait_byte(double ms, pid_t *watch, int *status)
{
	struct pollfd p = { .fd = up_fd, .events = POLLIN };
	double end = now_ms() + ms;
	unsigned char c;

	for (;;) {
		if (read(up_fd, &c, 1) == 1)
			return c;
		if (watch && *watch > 0 &&
		    waitpid(*watch, status, WNOHANG) == *watch) {
			*watch = 0;
			/* What it wrote before it ended is there now. */
			return read(up_fd, &c, 1) == 1 ? c : -2;
		}
		if (now_ms() > end)
			return -1;
		if (poll(&p, 1, 20) < 0 && errno != EINTR)
			die("poll");
	}
}

/* Forget what a failed round left in the pipes. */
static void drain_pipes(void)
{
	char buf[64];

	while (read(up_fd, buf, sizeof(buf)) > 0)
		;
	while (read(go_fd, buf, sizeof(buf)) > 0)
		;
}

/* Time allowed for a step on n MiB (TCG is slow): 30 s + 0.5 s a MiB */
static double limit_ms(size_t len)
{
	return 30e3 + len / MIB * 500.0;
}

static pid_t subject_start(size_t len, uint64_t seed)
{
	pid_t pid, watch;
	int c, status;

	drain_pipes();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		subject(len, seed);
	watch = pid;
	c = wait_byte(limit_ms(len), &watch, &status);
	if (c == UP_READY)
		return pid;
	if (!watch)
		msg("subject of %zu MiB: %s before it was ready", len / MIB,
		    status_str(status));
	else
		msg("subject of %zu MiB: not ready (%d)", len / MIB, c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Release the go byte: the restored subject reads it as soon as it runs. */
static void send_go(void)
{
	if (write(go_fd, "g", 1) != 1)
		die("write to the go pipe");
}

/*
 * Wait for the restored subject pid (which ran: it said UP_RUNNING) to
 * check its memory, and reap it.  0 when all of it came back.
 */
static int subject_verdict(pid_t pid, size_t len)
{
	int c = wait_byte(limit_ms(len), NULL, NULL);

	if (c != UP_GOOD) {
		msg("restored subject of %zu MiB: %s", len / MIB,
		    c == UP_BAD ? "its memory differs" : "no verdict");
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return c == UP_GOOD ? 0 : -1;
}

static unsigned long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

/* A log file of checkpoint(2)/restart(2): unlinked, read back on failure */
static int log_open(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/log.XXXXXX", workdir);
	fd = mkostemp(path, 0);
	if (fd < 0)
		die("log file");
	unlink(path);
	return fd;
}

static void log_show(int fd)
{
	char *log;

	lseek(fd, 0, SEEK_SET);
	log = t_read_fd(fd, NULL);
	if (log && *log)
		fprintf(stderr, "%s", log);
	free(log);
}

/* linux-cr: one round. 0, or -1 (said why). */
static int ours_round(size_t len, uint64_t seed, double *ckpt_ms,
		      double *restart_ms, unsigned long long *image)
{
	int fd, logfd, c, status = 0;
	pid_t pid, watch;
	double t0;
	long ret;

	pid = subject_start(len, seed);
	if (pid < 0)
		return -1;
	logfd = log_open();
	unlink(img_path);

	t0 = now_ms();
	fd = open(img_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(img_path);
	ret = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, logfd);
	c = errno;
	close(fd);
	*ckpt_ms = now_ms() - t0;

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (ret < 0) {
		msg_err(c, "checkpoint(2)");
		log_show(logfd);
		close(logfd);
		return -1;
	}
	*image = file_size(img_path);

	fd = open(img_path, O_RDONLY);
	if (fd < 0)
		die(img_path);
	send_go();
	fflush(NULL);
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char e[1 + sizeof(int)] = { UP_FAILED };

		sys_restart(0, fd, RESTART_TASKSELF, logfd);
		/* Only when it failed and left this task as it was */
		memcpy(e + 1, &errno, sizeof(int));
		if (write(up_fd, e, sizeof(e)) < 0)
			_exit(SUBJ_IO);
		_exit(125);
	}
	watch = pid;
	c = wait_byte(limit_ms(len), &watch, &status);
	*restart_ms = now_ms() - t0;
	close(fd);
	if (c != UP_RUNNING) {
		int e = 0;

		if (c == UP_FAILED && read(up_fd, &e, sizeof(e)) == sizeof(e))
			msg_err(e, "restart(2)");
		else if (c == -2)
			msg("restart(2): the restarting child ended: %s",
			    status_str(status));
		else
			msg("restart(2): the restored subject did not run (%d)", c);
		log_show(logfd);
		close(logfd);
		if (watch) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	close(logfd);
	/* It may have ended already: then waitpid() finds nothing to reap. */
	return subject_verdict(pid, len);
}

/* CRIU */

static void criu_clean(void)
{
	DIR *d = opendir(criu_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static unsigned long long criu_image_size(void)
{
	unsigned long long sum = 0;
	DIR *d = opendir(criu_dir);
	struct dirent *e;
	struct stat st;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".img") &&
		    !fstatat(dirfd(d), e->d_name, &st, 0))
			sum += st.st_size;
	closedir(d);
	return sum;
}

/* The last lines of a criu log in the image directory */
static void criu_log_show(const char *name)
{
	char path[PATH_MAX], *log, *p;
	int lines = 0;

	snprintf(path, sizeof(path), "%s/%s", criu_dir, name);
	log = t_read_path(path, NULL);
	if (!log) {
		msg_err(errno, path);
		return;
	}
	for (p = log + strlen(log); p > log && lines <= 15; p--)
		lines += p[-1] == '\n';
	fprintf(stderr, "%s: last lines of %s:\n%s", PROG, path, p);
	free(log);
}

/* Start criu ARGS... in a new session (criu refuses session 0) */
static pid_t criu_start(const char *criu, char *const args[])
{
	char *argv[16];
	pid_t pid;
	int i;

	argv[0] = (char *)criu;
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(126);
		close_range(3, ~0U, 0);
		execv(criu, argv);
		_exit(127);
	}
	return pid;
}

/* CRIU: one round. 0, or -1 (said why). */
static int criu_round(const char *criu, size_t len, uint64_t seed,
		      double *dump_ms, double *restore_ms,
		      unsigned long long *image)
{
	char pidstr[16];
	char *dump[] = { "dump", "-t", pidstr, "-D", criu_dir, "-o", "dump.log",
			 "--shell-job", NULL };
	char *restore[] = { "restore", "-D", criu_dir, "-o", "restore.log",
			    "--shell-job", "-d", NULL };
	int c, status = 0;
	pid_t pid, cpid;
	double t0;

	criu_clean();
	pid = subject_start(len, seed);
	if (pid < 0)
		return -1;
	snprintf(pidstr, sizeof(pidstr), "%d", pid);

	t0 = now_ms();
	cpid = criu_start(criu, dump);
	while (waitpid(cpid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	*dump_ms = now_ms() - t0;
	/* criu dump kills the task: reap it, so that its pid is free. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		msg("criu dump: %s", status_str(status));
		criu_log_show("dump.log");
		return -1;
	}
	*image = criu_image_size();

	send_go();
	t0 = now_ms();
	cpid = criu_start(criu, restore);
	c = wait_byte(limit_ms(len), &cpid, &status);
	if (c == -2 && WIFEXITED(status) && !WEXITSTATUS(status)) {
		/* Restored and detached; the subject is on its way. */
		c = wait_byte(limit_ms(len), NULL, NULL);
	}
	*restore_ms = now_ms() - t0;
	if (c != UP_RUNNING) {
		if (!cpid)
			msg("criu restore: %s", status_str(status));
		else
			msg("criu restore: the restored subject did not run (%d)", c);
		criu_log_show("restore.log");
		if (cpid > 0) {
			kill(cpid, SIGKILL);
			waitpid(cpid, NULL, 0);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* criu's exit hands the subject to us (PR_SET_CHILD_SUBREAPER). */
	if (cpid > 0) {
		while (waitpid(cpid, &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		cpid = 0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		msg("criu restore: %s after the task ran", status_str(status));
		criu_log_show("restore.log");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return subject_verdict(pid, len);
}

/* `criu check`, untimed: its verdict for the log, and its kerndat cache. */
static void criu_check(const char *criu)
{
	char *check[] = { "check", "-o", "check.log", "-D", criu_dir, NULL };
	int status;
	pid_t pid = criu_start(criu, check);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	msg("criu check: %s (trying anyway)", status_str(status));
	criu_log_show("check.log");
}

/* Running it all */

/*
 * All of one size.  Each round takes the bounds, then linux-cr, then CRIU,
 * so that a busy host weighs on all of them alike.
 */
static void measure(const struct opts *o, unsigned long mib, struct bounds *b,
		    struct result res[NR_IMPLS], const char **criu)
{
	size_t len = mib * MIB;
	int r, i;

	for (i = 0; i < NR_IMPLS; i++)
		res[i] = (struct result){ .ok = i == LINUX_CR || *criu };
	for (r = 0; r < o->rounds; r++) {
		uint64_t seed = ((uint64_t)mib << 32 | r) * 0xd1b54a32d192ed03ULL;
		double c, t;

		bounds_round(mib, b);
		if (res[LINUX_CR].ok) {
			if (ours_round(len, seed, &c, &t, &res[LINUX_CR].image)) {
				msg("linux-cr, %lu MiB, round %d failed", mib, r + 1);
				res[LINUX_CR].ok = 0;
			} else {
				if (!r || c < res[LINUX_CR].ckpt_ms)
					res[LINUX_CR].ckpt_ms = c;
				if (!r || t < res[LINUX_CR].restart_ms)
					res[LINUX_CR].restart_ms = t;
			}
		}
		if (res[CRIU].ok) {
			if (criu_round(*criu, len, seed ^ 1, &c, &t,
				       &res[CRIU].image)) {
				msg("criu, %lu MiB, round %d failed: CRIU left out from here on",
				    mib, r + 1);
				res[CRIU].ok = 0;
				*criu = NULL;
			} else {
				if (!r || c < res[CRIU].ckpt_ms)
					res[CRIU].ckpt_ms = c;
				if (!r || t < res[CRIU].restart_ms)
					res[CRIU].restart_ms = t;
			}
		}
	}
	unlink(img_path);
	criu_clean();
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* Speeds (MiB/s of the subject's memory) and their ratios to the bounds */
struct speeds {
	double ckpt, rst;
	double ckpt_memcpy, ckpt_tmpfs, rst_memcpy, rst_tmpfs;
};

static void speeds(double ckpt, double rst, const struct bounds *b,
		   struct speeds *v)
{
	v->ckpt = ckpt;
	v->rst = rst;
	v->ckpt_memcpy = ratio(ckpt, b->memcpy_bw);
	v->ckpt_tmpfs = ratio(ckpt, b->write_bw);
	v->rst_memcpy = ratio(rst, b->memcpy_bw);
	v->rst_tmpfs = ratio(rst, b->write_bw);
}

/*
 * Fixed cost (the times at the first size) and cost per MiB (first to last
 * size), its speeds against the bounds at the last size.  0, or -1 when
 * there is no such fit.
 */
struct fit {
	double ckpt_ms, rst_ms;			/* fixed */
	double ckpt_slope, rst_slope;		/* ms/MiB */
	struct speeds v;
};

static int fit(const struct opts *o, const struct bounds *b,
	       struct result (*res)[NR_IMPLS], int k, struct fit *f)
{
	const struct result *l = &res[0][k], *h = &res[o->nsizes - 1][k];
	double dm = o->sizes[o->nsizes - 1] - o->sizes[0];

	if (o->nsizes < 2 || !l->ok || !h->ok)
		return -1;
	f->ckpt_ms = l->ckpt_ms;
	f->rst_ms = l->restart_ms;
	f->ckpt_slope = (h->ckpt_ms - l->ckpt_ms) / dm;
	f->rst_slope = (h->restart_ms - l->restart_ms) / dm;
	speeds(f->ckpt_slope > 0 ? 1e3 / f->ckpt_slope : 0,
	       f->rst_slope > 0 ? 1e3 / f->rst_slope : 0,
	       &b[o->nsizes - 1], &f->v);
	return 0;
}

/* Call fn for every result measured, with its speeds */
static void each_result(const struct opts *o, const struct bounds *b,
			struct result (*res)[NR_IMPLS],
			void (*fn)(int k, unsigned long mib,
				   const struct result *r,
				   const struct speeds *v))
{
	struct speeds v;
	int i, k;

	for (i = 0; i < o->nsizes; i++) {
		for (k = 0; k < NR_IMPLS; k++) {
			const struct result *r = &res[i][k];

			if (!r->ok)
				continue;
			speeds(mib_per_s(o->sizes[i], r->ckpt_ms),
			       mib_per_s(o->sizes[i], r->restart_ms), &b[i], &v);
			fn(k, o->sizes[i], r, &v);
		}
	}
}

static void table_row(int k, unsigned long mib, const struct result *r,
		      const struct speeds *v)
{
	printf("%-8s %5lu %9.1f %8.1f %8.1f %8.0f %8.0f %7.3f %7.3f %7.3f %7.3f\n",
	       impl_name[k], mib, (double)r->image / MIB, r->ckpt_ms,
	       r->restart_ms, v->ckpt, v->rst, v->ckpt_memcpy, v->ckpt_tmpfs,
	       v->rst_memcpy, v->rst_tmpfs);
}

static void bench_line(int k, unsigned long mib, const struct result *r,
		       const struct speeds *v)
{
	printf("BENCH what=%s mib=%lu image_bytes=%llu ckpt_ms=%.2f restart_ms=%.2f ckpt_mibs=%.1f restart_mibs=%.1f ckpt_vs_memcpy=%.4f ckpt_vs_tmpfs=%.4f restart_vs_memcpy=%.4f restart_vs_tmpfs=%.4f\n",
	       impl_name[k], mib, r->image, r->ckpt_ms, r->restart_ms, v->ckpt,
	       v->rst, v->ckpt_memcpy, v->ckpt_tmpfs, v->rst_memcpy,
	       v->rst_tmpfs);
}

static void print_tables(const struct opts *o, const struct bounds *b,
			 struct result (*res)[NR_IMPLS])
{
	int n = o->nsizes, i, k;
	struct fit f;

	printf("\n== bounds (best of %d, MiB/s) ==\n", o->rounds);
	printf("%6s %10s %12s %11s\n", "MiB", "memcpy", "tmpfs write",
	       "tmpfs read");
	for (i = 0; i < n; i++)
		printf("%6lu %10.0f %12.0f %11.0f\n", o->sizes[i],
		       b[i].memcpy_bw, b[i].write_bw, b[i].read_bw);

	printf("\n== checkpoint to tmpfs, restart from tmpfs until the task runs (min of %d, memory verified) ==\n",
	       o->rounds);
	printf("%-8s %5s %9s %8s %8s %8s %8s %7s %7s %7s %7s\n", "", "MiB",
	       "image MiB", "ckpt ms", "rst ms", "ckpt", "rst", "ckpt/", "ckpt/",
	       "rst/", "rst/");
	printf("%-8s %5s %9s %8s %8s %8s %8s %7s %7s %7s %7s\n", "", "", "",
	       "", "", "MiB/s", "MiB/s", "memcpy", "tmpfs", "memcpy", "tmpfs");
	each_result(o, b, res, table_row);

	for (i = 0; i < n && !res[i][CRIU].ok; i++)
		;
	if (i < n) {
		printf("\n== time linux-cr / time CRIU (below 1: linux-cr is faster) ==\n");
		printf("%6s %12s %12s\n", "MiB", "checkpoint", "restart");
	}
	for (; i < n; i++) {
		if (!res[i][LINUX_CR].ok || !res[i][CRIU].ok)
			printf("%6lu %12s %12s\n", o->sizes[i], "-", "-");
		else
			printf("%6lu %12.3f %12.3f\n", o->sizes[i],
			       ratio(res[i][LINUX_CR].ckpt_ms, res[i][CRIU].ckpt_ms),
			       ratio(res[i][LINUX_CR].restart_ms,
				     res[i][CRIU].restart_ms));
	}

	if (fit(o, b, res, LINUX_CR, &f) && fit(o, b, res, CRIU, &f))
		return;
	printf("\n== fixed cost (at %lu MiB) and cost per MiB (%lu to %lu MiB; speeds against the %lu MiB bounds) ==\n",
	       o->sizes[0], o->sizes[0], o->sizes[n - 1], o->sizes[n - 1]);
	printf("%-8s %-5s %9s %9s %9s %7s %7s\n", "", "", "fixed ms",
	       "ms/MiB", "MiB/s", "/memcpy", "/tmpfs");
	for (k = 0; k < NR_IMPLS; k++) {
		if (fit(o, b, res, k, &f))
			continue;
		printf("%-8s %-5s %9.1f %9.3f %9.0f %7.3f %7.3f\n", impl_name[k],
		       "ckpt", f.ckpt_ms, f.ckpt_slope, f.v.ckpt,
		       f.v.ckpt_memcpy, f.v.ckpt_tmpfs);
		printf("%-8s %-5s %9.1f %9.3f %9.0f %7.3f %7.3f\n", impl_name[k],
		       "rst", f.rst_ms, f.rst_slope, f.v.rst, f.v.rst_memcpy,
		       f.v.rst_tmpfs);
	}
}

/*
 * One line per result, to compare runs (MiB/s counts the subject's
 * memory; "tmpfs" is the write bound; a time ratio below 1 means
 * linux-cr takes less time than CRIU):
 *   BENCH what=bound mib=N memcpy_mibs= tmpfs_write_mibs= tmpfs_read_mibs=
 *   BENCH what=linux-cr|criu mib=N image_bytes= ckpt_ms= restart_ms=
 *         ckpt_mibs= restart_mibs= ckpt_vs_memcpy= ckpt_vs_tmpfs=
 *         restart_vs_memcpy= restart_vs_tmpfs=
 *   BENCH what=ours_vs_criu mib=N ckpt_time_ratio= restart_time_ratio=
 *   BENCH what=fit impl=linux-cr|criu fixed_mib=N fixed_ckpt_ms=
 *         fixed_restart_ms= ckpt_ms_per_mib= restart_ms_per_mib=
 *         ckpt_slope_mibs= restart_slope_mibs= (ratios as above)
 */
static void print_bench_lines(const struct opts *o, const struct bounds *b,
			      struct result (*res)[NR_IMPLS])
{
	struct fit f;
	int i, k;

	for (i = 0; i < o->nsizes; i++)
		printf("BENCH what=bound mib=%lu memcpy_mibs=%.1f tmpfs_write_mibs=%.1f tmpfs_read_mibs=%.1f\n",
		       o->sizes[i], b[i].memcpy_bw, b[i].write_bw, b[i].read_bw);
	each_result(o, b, res, bench_line);
	for (i = 0; i < o->nsizes; i++)
		if (res[i][LINUX_CR].ok && res[i][CRIU].ok)
			printf("BENCH what=ours_vs_criu mib=%lu ckpt_time_ratio=%.4f restart_time_ratio=%.4f\n",
			       o->sizes[i],
			       ratio(res[i][LINUX_CR].ckpt_ms, res[i][CRIU].ckpt_ms),
			       ratio(res[i][LINUX_CR].restart_ms,
				     res[i][CRIU].restart_ms));
	for (k = 0; k < NR_IMPLS; k++) {
		if (fit(o, b, res, k, &f))
			continue;
		printf("BENCH what=fit impl=%s fixed_mib=%lu fixed_ckpt_ms=%.2f fixed_restart_ms=%.2f ckpt_ms_per_mib=%.4f restart_ms_per_mib=%.4f ckpt_slope_mibs=%.1f restart_slope_mibs=%.1f ckpt_slope_vs_memcpy=%.4f ckpt_slope_vs_tmpfs=%.4f restart_slope_vs_memcpy=%.4f restart_slope_vs_tmpfs=%.4f\n",
		       impl_name[k], o->sizes[0], f.ckpt_ms, f.rst_ms,
		       f.ckpt_slope, f.rst_slope, f.v.ckpt, f.v.rst,
		       f.v.ckpt_memcpy, f.v.ckpt_tmpfs, f.v.rst_memcpy,
		       f.v.rst_tmpfs);
	}
}

/* Options */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-s MIB[,MIB...]] [-r ROUNDS] [-d DIR] [--criu PATH | --no-criu]\n"
		"\n"
		"Measure checkpoint(2) and restart(2) of a process with MIB MiB of\n"
		"anonymous memory (image in DIR), memcpy and DIR write bandwidth, and\n"
		"CRIU on the same process; print tables and BENCH lines.\n"
		"\n"
		"  -s, --sizes LIST   sizes in MiB, ascending (default 1,64,256); the\n"
		"                     first is the fixed cost, first to last the slope\n"
		"  -r, --rounds N     best/min of N rounds (default 3)\n"
		"  -d, --dir DIR      image directory, tmpfs (default $TMPDIR or /tmp)\n"
		"      --criu PATH    criu to compare with (default /usr/sbin/criu\n"
		"                     when it is there)\n"
		"      --no-criu      without CRIU\n"
		"  -h, --help         this help\n");
}

static int parse_sizes(const char *s, struct opts *o)
{
	char *end;

	for (o->nsizes = 0; *s; s = end + (*end == ',')) {
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || (*end && *end != ',') || !v ||
		    v > (1UL << 20) || o->nsizes == MAX_SIZES ||
		    (o->nsizes && v <= o->sizes[o->nsizes - 1]))
			return -1;
		o->sizes[o->nsizes++] = v;
	}
	return o->nsizes ? 0 : -1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_CRIU = 0x100, OPT_NO_CRIU };
	static const struct option longopts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "criu", required_argument, NULL, OPT_CRIU },
		{ "no-criu", no_argument, NULL, OPT_NO_CRIU },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, no_criu = 0;

	parse_sizes("1,64,256", o);
	o->rounds = 3;
	o->dir = t_tmpdir();
	o->criu = NULL;
	while ((c = getopt_long(argc, argv, "s:r:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_sizes(optarg, o)) {
				msg("bad size list \"%s\" (ascending MiB, comma-separated)",
				    optarg);
				exit(2);
			}
			break;
		case 'r':
			o->rounds = atoi(optarg);
			if (o->rounds < 1 || o->rounds > MAX_ROUNDS) {
				msg("rounds: 1 to %d", MAX_ROUNDS);
				exit(2);
			}
			break;
		case 'd':
			o->dir = optarg;
			break;
		case OPT_CRIU:
			o->criu = optarg;
			break;
		case OPT_NO_CRIU:
			no_criu = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (no_criu)
		o->criu = NULL;
	else if (!o->criu && !access("/usr/sbin/criu", X_OK))
		o->criu = "/usr/sbin/criu";
}

static void setup(const struct opts *o)
{
	struct statfs sfs;

	if (statfs(o->dir, &sfs))
		die(o->dir);
	if (sfs.f_type != TMPFS_MAGIC)
		msg("warning: %s is not tmpfs: the bounds and images are on another file system",
		    o->dir);
	if (strlen(o->dir) > sizeof(workdir) - 32) {
		errno = ENAMETOOLONG;
		die(o->dir);
	}
	snprintf(workdir, sizeof(workdir), "%s/ckpt-bench.XXXXXX", o->dir);
	if (!mkdtemp(workdir))
		die("mkdtemp");
	snprintf(go_path, sizeof(go_path), "%s/go", workdir);
	snprintf(up_path, sizeof(up_path), "%s/up", workdir);
	snprintf(img_path, sizeof(img_path), "%s/image", workdir);
	snprintf(criu_dir, sizeof(criu_dir), "%s/criu", workdir);
	if (mkfifo(go_path, 0600) || mkfifo(up_path, 0600))
		die("mkfifo");
	if (mkdir(criu_dir, 0700))
		die(criu_dir);
	/* O_RDWR: the pipes live (and keep what is in them) between subjects */
	go_fd = open(go_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	up_fd = open(up_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (go_fd < 0 || up_fd < 0)
		die("opening the named pipes");
	/* Tasks criu restores and leaves come to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
}

static void cleanup(void)
{
	criu_clean();
	rmdir(criu_dir);
	unlink(go_path);
	unlink(up_path);
	unlink(img_path);
	rmdir(workdir);
}

int main(int argc, char **argv)
{
	static struct bounds b[MAX_SIZES];
	static struct result res[MAX_SIZES][NR_IMPLS];
	const char *criu;
	struct opts o;
	double t0 = now_ms();
	int i, failed = 0;

	parse_args(argc, argv, &o);
	setup(&o);
	criu = o.criu;
	printf("%s: sizes", PROG);
	for (i = 0; i < o.nsizes; i++)
		printf(" %lu", o.sizes[i]);
	printf(" MiB, %d rounds, images in %s, CRIU: %s\n", o.rounds, workdir,
	       criu ? criu : "no");
	if (criu)
		criu_check(criu);
	for (i = 0; i < o.nsizes; i++) {
		printf("%s: %lu MiB...\n", PROG, o.sizes[i]);
		measure(&o, o.sizes[i], &b[i], res[i], &criu);
		failed |= !res[i][LINUX_CR].ok;
	}
	print_tables(&o, b, res);
	printf("\n");
	print_bench_lines(&o, b, res);
	printf("BENCH what=run rounds=%d criu=%d failed=%d seconds=%.1f\n",
	       o.rounds, !!criu, failed, (now_ms() - t0) / 1e3);
	cleanup();
	return failed;
}
