// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the guest test programs.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sched.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"
#include "ttree.h"

static int passed, failed;

static void __attribute__((constructor)) t_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
}

void t_pass(const char *name)
{
	printf("ok - %s\n", name);
	passed++;
}

static void vfail(const char *name, const char *fmt, va_list ap)
{
	char reason[1024];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	printf("not ok - %s: %s\n", name, reason);
	failed++;
}

void t_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(name, fmt, ap);
	va_end(ap);
}

int t_check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		t_pass(name);
		return 1;
	}
	va_start(ap, fmt);
	vfail(name, fmt, ap);
	va_end(ap);
	return 0;
}

void t_skip(const char *name, const char *why)
{
	printf("ok - %s # SKIP %s\n", name, why);
	passed++;
}

int t_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

void t_bail(const char *what)
{
	printf("not ok - %s: %s\n", what, strerror(errno));
	failed++;
	exit(t_done());
}

static const char *errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "?";
}

int t_check_errno(long ret, int err, int e, const char *name)
{
	if (ret == -1 && err == e) {
		t_pass(name);
		return 1;
	}
	if (ret == -1)
		t_fail(name, "failed with %s (%s), expected %s", errname(err),
		       strerror(err), errname(e));
	else
		t_fail(name, "returned %ld, expected -1 with %s", ret,
		       errname(e));
	return 0;
}

/* Files */

const char *t_tmpdir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

int t_mkstemp(char *path, const char *tag)
{
	snprintf(path, PATH_MAX, "%s/%s.XXXXXX", t_tmpdir(), tag);
	return mkostemp(path, O_CLOEXEC);
}

int t_file_with(const void *buf, size_t len, int flags, char *path)
{
	int fd = t_mkstemp(path, "img");

	if (fd < 0)
		return -1;
	if (ckpt_write_full(fd, buf, len)) {
		close(fd);
		return -1;
	}
	close(fd);
	return open(path, flags | O_CLOEXEC);
}

int t_read_int(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

char *t_read_fd(int fd, size_t *len)
{
	size_t sz = 4096, n = 0;
	char *buf = malloc(sz + 1);
	ssize_t r;

	if (!buf)
		return NULL;
	for (;;) {
		if (n == sz) {
			char *p = realloc(buf, 2 * sz + 1);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			sz *= 2;
		}
		r = read(fd, buf + n, sz - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *t_read_path(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;

	if (fd < 0)
		return NULL;
	buf = t_read_fd(fd, len);
	close(fd);
	return buf;
}

pid_t t_feed(int fd, const void *buf, size_t len)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(ckpt_write_full(fd, buf, len) ? 1 : 0);
	return pid;
}

pid_t t_drain(int fd, int other_end, const char *path)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char buf[65536];
		ssize_t n;
		int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		close(other_end);
		if (out < 0)
			_exit(1);
		while ((n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || ckpt_write_full(out, buf, n))
				_exit(1);
		}
		_exit(close(out) ? 1 : 0);
	}
	return pid;
}

int t_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* The counting child */

#define LOOP_REPORT_OFF	64

static volatile int loop_signals, loop_last_signal;
static volatile uint64_t loop_count;

static void loop_handler(int sig)
{
	loop_signals++;
	loop_last_signal = sig;
}

static void __attribute__((noreturn)) loop_child(int ctl)
{
	struct sigaction sa = { .sa_handler = loop_handler };
	struct t_loop_report r = { 0 };
	int sig, i, null;

	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Only files checkpoint(2) saves: /dev/null and the control file. */
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0 || dup2(ctl, 3) < 0)
		_exit(3);
	close_range(4, ~0U, 0);
	ctl = 3;

	for (;;) {
		char c;
		ssize_t n;

		for (i = 0; i < 4096; i++)
			loop_count++;
		if (sched_yield() && errno == EINTR)
			r.eintr++;
		n = pread(ctl, &c, 1, 0);
		if (n == 1)
			break;	/* stop request */
		if (n < 0 && errno == EINTR)
			r.eintr++;
		else if (n < 0)
			break;
	}
	r.count = loop_count;
	r.signals = loop_signals;
	r.last_signal = loop_last_signal;
	_exit(pwrite(ctl, &r, sizeof(r), LOOP_REPORT_OFF) == sizeof(r) ? 0 : 2);
}

int t_loop_start(struct t_loop *l)
{
	l->ctl = t_mkstemp(l->path, "loop");
	if (l->ctl < 0)
		return -1;
	fflush(NULL);
	l->pid = fork();
	if (l->pid < 0)
		return -1;
	if (l->pid == 0)
		loop_child(l->ctl);
	/* Running once it has counted. */
	return t_loop_advances(l, 0, 5000) ? 0 : -1;
}

uint64_t t_loop_count(struct t_loop *l)
{
	char path[64];
	uint64_t v = 0;
	int fd;

	/* process_vm_readv() may be configured out; /proc/PID/mem is not. */
	snprintf(path, sizeof(path), "/proc/%d/mem", l->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &v, sizeof(v), (off_t)(uintptr_t)&loop_count) != sizeof(v))
		v = 0;
	close(fd);
	return v;
}

int t_loop_advances(struct t_loop *l, uint64_t from, int ms)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < ms; i++) {
		if (t_loop_count(l) > from)
			return 1;
		nanosleep(&ts, NULL);
	}
	return t_loop_count(l) > from;
}

void t_loop_forget(struct t_loop *l)
{
	close(l->ctl);
	unlink(l->path);
	l->pid = 0;
}

int t_loop_stop(struct t_loop *l, struct t_loop_report *rep, int *status)
{
	ssize_t n;

	memset(rep, 0, sizeof(*rep));
	if (pwrite(l->ctl, "x", 1, 0) != 1)
		return -1;
	while (waitpid(l->pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	n = pread(l->ctl, rep, sizeof(*rep), LOOP_REPORT_OFF);
	t_loop_forget(l);
	return n == sizeof(*rep) ? 0 : -1;
}

void t_loop_kill(struct t_loop *l)
{
	if (l->pid <= 0)
		return;
	kill(l->pid, SIGKILL);
	waitpid(l->pid, NULL, 0);
	t_loop_forget(l);
}

int t_notask_image(char *path)
{
	struct ckpt_hdr_header h;
	struct ckpt_hdr_tail t = { 0 };
	struct t_loop l;
	int fd, err;
	ssize_t n;

	if (t_loop_start(&l))
		return -1;
	err = t_checkpoint_file(l.pid, CHECKPOINT_SUBTREE, path);
	t_loop_kill(&l);
	if (err)
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, &h, sizeof(h), 0);
	t.h.type = CKPT_HDR_TAIL;
	t.h.len = sizeof(t);
	t.magic = CKPT_MAGIC_TAIL;
	t.nr_records = 1;
	t.size = sizeof(h);
	if (n != sizeof(h) || h.h.type != CKPT_HDR_HEADER ||
	    pwrite(fd, &t, sizeof(t), sizeof(h)) != sizeof(t) ||
	    ftruncate(fd, sizeof(h) + sizeof(t))) {
		err = errno ? errno : EIO;
		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

int t_head_image(char *path)
{
	struct tt_rec r[4];
	struct ckpt_hdr_tail t = { 0 };
	unsigned char *buf;
	struct t_loop l;
	size_t len, n;
	int fd, err;

	if (t_loop_start(&l))
		return -1;
	err = t_checkpoint_file(l.pid, CHECKPOINT_SUBTREE, path);
	t_loop_kill(&l);
	if (err)
		return -1;
	buf = (unsigned char *)t_read_path(path, &len);
	n = buf ? tt_walk(buf, len, r, 4) : 0;
	if (n < 4 || r[0].type != CKPT_HDR_HEADER || r[1].type != CKPT_HDR_PIDS ||
	    r[2].type != CKPT_HDR_TREE) {
		free(buf);
		unlink(path);
		errno = EBADMSG;
		return -1;
	}
	t.h.type = CKPT_HDR_TAIL;
	t.h.len = sizeof(t);
	t.magic = CKPT_MAGIC_TAIL;
	t.nr_records = 3;
	t.size = r[3].off;
	memcpy(buf + r[3].off, &t, sizeof(t));
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	err = fd < 0 || ckpt_write_full(fd, buf, r[3].off + sizeof(t));
	if (fd >= 0)
		close(fd);
	free(buf);
	if (err) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* Images */

void t_scan_fd(int fd, struct t_image *im)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	int ret;

	memset(im, 0, sizeof(*im));
	ckpt_reader_init(&r, fd);
	while ((ret = ckpt_next(&r, &rec)) > 0) {
		if (im->nr < T_MAX_RECORDS) {
			im->type[im->nr] = rec.type;
			im->len[im->nr] = rec.len;
			im->off[im->nr] = rec.off;
		}
		im->nr++;
	}
	im->complete = ret == 0;
	im->err = r.err;
	im->hdr = r.header;
	im->tail = r.tail;
	im->size = r.off;
	ckpt_reader_release(&r);
}

void t_scan_path(const char *path, struct t_image *im)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		memset(im, 0, sizeof(*im));
		snprintf(im->err.msg, sizeof(im->err.msg), "%s: %s", path,
			 strerror(errno));
		im->err.err = errno;
		return;
	}
	t_scan_fd(fd, im);
	close(fd);
}

int t_checkpoint_file(pid_t pid, unsigned long flags, char *path)
{
	int fd = t_mkstemp(path, "ckpt");
	long ret;
	int err;

	if (fd < 0)
		return -1;
	ret = sys_checkpoint(pid, fd, flags, STDERR_FILENO);
	err = errno;
	close(fd);
	if (ret < 0) {
		unlink(path);
		errno = err;
		return -1;
	}
	return 0;
}

/* restart(2) in a child */

const char *t_errname(int e)
{
	static char buf[32];
	const char *n;

	if (e == 0)
		return "success";
	if (e < 0) {
		snprintf(buf, sizeof(buf), "killed by signal %d", -e);
		return buf;
	}
	n = strerrorname_np(e);
	return n ? n : "?";
}

/* A tmp file for the log: O_RDWR, read back after the child is done. */
int t_log_fd(void)
{
	char path[PATH_MAX];
	int fd = t_mkstemp(path, "log");

	if (fd < 0)
		t_bail("mkstemp");
	unlink(path);
	return fd;
}

/* Run restart(pid, imgfd, flags, logfd) in a child. */
int t_restart_child(int imgfd, pid_t pid, unsigned long flags, int logfd)
{
	pid_t child;
	int status;

	fflush(NULL);
	child = fork();
	if (child < 0)
		t_bail("fork");
	if (child == 0) {
		long ret;

		alarm(30);
		ret = sys_restart(pid, imgfd, flags, logfd);
		_exit(ret < 0 ? errno : 0);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			t_bail("waitpid");
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Why the log does not report error e (NULL when it does): at least one
 * complete line, one ending with "(error -e)", naming word if given.
 */
const char *t_log_problem(const char *log, int e, const char *word)
{
	static char why[512];
	char tag[32];
	const char *p;
	size_t n;

	if (!log || !*log)
		return "nothing on logfd";
	n = strlen(log);
	if (log[n - 1] != '\n') {
		snprintf(why, sizeof(why), "log does not end with a newline: \"%.200s\"", log);
		return why;
	}
	snprintf(tag, sizeof(tag), "(error -%d)\n", e);
	if (!strstr(log, tag)) {
		snprintf(why, sizeof(why), "no line ends with \"(error -%d)\": \"%.200s\"",
			 e, log);
		return why;
	}
	if (word) {
		/* The line with the errno names the record, in any case. */
		for (p = log; *p; p = strchr(p, '\n') + 1) {
			size_t len = strchr(p, '\n') - p + 1;
			char *line = strndup(p, len), *c;
			int found;

			for (c = line; *c; c++)
				*c = tolower((unsigned char)*c);
			found = strstr(line, tag) && strstr(line, word);
			free(line);
			if (found)
				return NULL;
		}
		snprintf(why, sizeof(why), "no error line names the %s: \"%.200s\"",
			 word, log);
		return why;
	}
	return NULL;
}

/* Interrupting a blocked system call */

static void t_ignore(int sig)
{
	(void)sig;
}

static int outcome(int status)
{
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

int t_interrupt(long (*fn)(void *), void *arg, int ms, int sig, int *early)
{
	struct timespec tick = { 0, 10000000 };
	int status, i;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = t_ignore };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		_exit(fn(arg) < 0 ? errno : 0);
	}
	for (i = 0; i < ms / 10; i++)
		nanosleep(&tick, NULL);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		*early = outcome(status);
		return T_NOT_BLOCKED;
	}
	kill(pid, sig);
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return outcome(status);
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return T_HUNG;
}

/* File references */

static void *t_sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int t_leaks_fd_ref(long (*fn)(void *arg, int fd), void *arg, int read_end)
{
	int p[2], end, other, rc;
	char c = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		t_bail("pipe");
	end = read_end ? p[0] : p[1];
	other = read_end ? p[1] : p[0];
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		pthread_t th;
		long ret;

		close(other);
		if (pthread_create(&th, NULL, t_sleeper, NULL))
			_exit(2);
		ret = fn(arg, end);
		_exit(ret == -1 && errno == EBADF ? 0 : 1);
	}
	close(end);
	rc = t_wait(pid);
	if (rc) {
		close(other);
		return -1;
	}
	if (read_end) {
		/* No reader left: EPIPE (SIGPIPE is ignored). */
		rc = write(other, &c, 1) == 1;
	} else {
		/* No writer left: end of file rather than EAGAIN. */
		fcntl(other, F_SETFL, O_NONBLOCK);
		rc = read(other, &c, 1) != 0;
	}
	close(other);
	return rc;
}

/* Subjects */

static int subj_failed, subj_checks;
void (*t_subj_restart_hook)(void);

int t_subj_start(struct t_subject *s, void (*fn)(void *arg), void *arg)
{
	memset(s, 0, sizeof(*s));
	s->ctl = t_mkstemp(s->ctl_path, "subj-ctl");
	s->rep = t_mkstemp(s->rep_path, "subj-rep");
	if (s->ctl < 0 || s->rep < 0)
		return -1;
	snprintf(s->img_path, sizeof(s->img_path), "%.4000s.img", s->ctl_path);
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(s->ctl, 10) < 0 ||
		    dup2(s->rep, 11) < 0 || dup2(10, T_SUBJ_CTL) < 0 ||
		    dup2(11, T_SUBJ_REP) < 0)
			_exit(120);
		close_range(5, ~0U, 0);
		fn(arg);
		t_subj_exit();
	}
	s->orig_pid = s->pid;
	return 0;
}

void t_subj_ready(void)
{
	if (pwrite(T_SUBJ_CTL, "r", 1, 0) != 1)
		_exit(121);
}

void t_subj_wait_go(void)
{
	char c;

	while (pread(T_SUBJ_CTL, &c, 1, T_SUBJ_GO_OFF) != 1)
		sched_yield();
}

int t_subj_check(int cond, const char *name, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	subj_checks++;
	if (cond) {
		n = snprintf(line, sizeof(line), "ok - %s\n", name);
	} else {
		subj_failed++;
		n = snprintf(line, sizeof(line), "not ok - %s: ", name);
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
		va_end(ap);
		if (n > (int)sizeof(line) - 2)
			n = sizeof(line) - 2;
		line[n++] = '\n';
	}
	if (ckpt_write_full(T_SUBJ_REP, line, n))
		_exit(122);
	return cond;
}

void t_subj_exit(void)
{
	dprintf(T_SUBJ_REP, "# subject done: %d checks\n", subj_checks);
	_exit(subj_failed > 100 ? 100 : subj_failed);
}

int t_subj_wait_ready(struct t_subject *s, const char *name)
{
	struct timespec ts = { 0, 2000000 };
	int i, status;
	char c;

	for (i = 0; i < 5000; i++) {
		if (pread(s->ctl, &c, 1, 0) == 1)
			return 0;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			t_fail(name, "subject ended before it was ready (status 0x%x)",
			       status);
			s->pid = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	t_fail(name, "subject not ready after 10 s");
	t_subj_kill(s);
	return -1;
}

int t_subj_checkpoint(struct t_subject *s)
{
	int fd = open(s->img_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int logfd = t_log_fd(), err = 0;

	if (fd < 0)
		t_bail("image file");
	if (sys_checkpoint(s->pid, fd, CHECKPOINT_SUBTREE, logfd) < 0)
		err = errno;
	close(fd);
	free(s->log);
	lseek(logfd, 0, SEEK_SET);
	s->log = t_read_fd(logfd, NULL);
	close(logfd);
	return err;
}

void t_subj_kill(struct t_subject *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

int t_subj_restart(struct t_subject *s, int same_pid)
{
	int imgfd, logfd, err = 0;
	long pid = -1;

	imgfd = open(s->img_path, O_RDONLY);	/* inherited by the restarter */
	if (imgfd < 0)
		return errno;
	logfd = t_log_fd();
	fcntl(logfd, F_SETFD, 0);
	s->restart_err = 0;
	s->restart_pid = 0;
	s->restart_status = -1;
	pwrite(s->ctl, "\0\0\0\0", 4, 8);
	fflush(NULL);
	if (same_pid) {
		pid_t tid = s->orig_pid;
		struct clone_args args = {
			.exit_signal = SIGCHLD,
			.set_tid = (uintptr_t)&tid,
			.set_tid_size = 1,
		};

		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (pid < 0)
		pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		const char *tool = getenv("T_RESTART_TOOL");

		if (t_subj_restart_hook)
			t_subj_restart_hook();
		/*
		 * T_RESTART_TOOL=/bin/restart: restart through the tool, whose
		 * child becomes the subject; the tool passes on its status.
		 */
		if (tool && *tool) {
			char logarg[32];

			snprintf(logarg, sizeof(logarg), "/proc/self/fd/%d", logfd);
			dup2(imgfd, 0);
			execl(tool, tool, "-l", logarg, "--no-pids", (char *)NULL);
			_exit(126);
		}
		if (sys_restart(0, imgfd, RESTART_TASKSELF, logfd) < 0)
			err = errno;
		else
			err = ENOENT;	/* no task in the image */
		pwrite(s->ctl, &err, sizeof(err), 8);
		_exit(125);
	}
	s->pid = pid;
	s->restart_pid = pid;
	close(imgfd);
	/* A restart that fails early returns: the child says so at once. */
	int status = -1;

	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 10000000 };

		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (pread(s->ctl, &err, sizeof(err), 8) != sizeof(err) || !err)
				err = WIFSIGNALED(status) ? EINTR : EIO;
			s->pid = 0;
			s->restart_status = status;
			break;
		}
		status = -1;
		nanosleep(&ts, NULL);
	}
	free(s->log);
	lseek(logfd, 0, SEEK_SET);
	s->log = t_read_fd(logfd, NULL);
	if (status != -1 && s->log) {
		char *l = malloc(strlen(s->log) + 64);

		if (l) {
			sprintf(l, "%s[the restarting child ended: status 0x%x]\n", s->log,
				status);
			free(s->log);
			s->log = l;
		}
	}
	close(logfd);
	s->restart_err = err;
	return err;
}

int t_subj_finish(struct t_subject *s, const char *prefix)
{
	char name[512], *buf, *line, *next;
	int rc, nlines = 0, done = 0;

	if (s->pid <= 0)
		return -1;
	if (pwrite(s->ctl, "g", 1, T_SUBJ_GO_OFF) != 1)
		t_bail("go");
	rc = t_wait(s->pid);
	s->pid = 0;
	buf = t_read_path(s->rep_path, NULL);
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!strncmp(line, "ok - ", 5)) {
			snprintf(name, sizeof(name), "%s: %s", prefix, line + 5);
			t_pass(name);
			nlines++;
		} else if (!strncmp(line, "not ok - ", 9)) {
			char *colon = strstr(line + 9, ": ");

			if (colon)
				*colon = '\0';
			snprintf(name, sizeof(name), "%s: %s", prefix, line + 9);
			t_fail(name, "%s", colon ? colon + 2 : "");
			nlines++;
		} else if (!strncmp(line, "# subject done", 14)) {
			done = 1;
		}
	}
	snprintf(name, sizeof(name), "%s: restored subject ran its checks and exited 0",
		 prefix);
	if (rc == 128 + SIGKILL && s->log && *s->log)
		t_fail(name, "killed by SIGKILL; log: %.300s", s->log);
	else
		t_check(rc == 0 && done && nlines > 0, name,
			"exit status %d, %d check lines, %s", rc, nlines,
			done ? "finished" : "no final line");
	free(buf);
	return rc;
}

void t_subj_cleanup(struct t_subject *s)
{
	t_subj_kill(s);
	close(s->ctl);
	close(s->rep);
	unlink(s->ctl_path);
	unlink(s->rep_path);
	unlink(s->img_path);
	free(s->log);
	s->log = NULL;
}

void t_subj_run(const char *prefix, void (*fn)(void *arg), void *arg,
		int same_pid)
{
	struct t_subject s;
	char name[256];
	int err;

	if (t_subj_start(&s, fn, arg))
		t_bail("starting a subject");
	if (t_subj_wait_ready(&s, prefix))
		goto out;
	snprintf(name, sizeof(name), "%s: checkpoint", prefix);
	err = t_subj_checkpoint(&s);
	if (!t_check(!err, name, "%s; log: %.300s", t_errname(err),
		     s.log ? s.log : ""))
		goto out;
	t_subj_kill(&s);
	snprintf(name, sizeof(name), "%s: restart", prefix);
	err = t_subj_restart(&s, same_pid);
	if (!t_check(!err, name, "%s; log: %.300s", t_errname(err),
		     s.log ? s.log : ""))
		goto out;
	t_subj_finish(&s, prefix);
out:
	t_subj_cleanup(&s);
}

int t_check_interrupt(const char *name, const char *what, int rc, int want,
		      int early)
{
	if (rc == T_NOT_BLOCKED) {
		t_fail(name, "%s did not block: %s", what, t_errname(early));
		return 0;
	}
	if (rc == T_HUNG) {
		t_fail(name, "still blocked 10 s after the signal");
		return 0;
	}
	return t_check(rc == want, name, "got %s, expected %s", t_errname(rc),
		       t_errname(want));
}

/* Users */

int t_become(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups)
{
	if (setgroups(ngroups, groups) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -1;
	/* Changing ids made the task non-dumpable: a user's task is not. */
	return prctl(PR_SET_DUMPABLE, 1);
}

void t_user_hook(void)
{
	if (t_become(T_USER, T_USER, 0, NULL))
		_exit(T_NO_SETUP);
}

int t_subj_prepare(struct t_subject *s, const char *prefix,
		   void (*fn)(void *arg), void *arg)
{
	char name[256];
	int err;

	if (t_subj_start(s, fn, arg))
		t_bail("starting a subject");
	fchmod(s->ctl, 0666);
	fchmod(s->rep, 0666);
	if (t_subj_wait_ready(s, prefix))
		return -1;
	snprintf(name, sizeof(name), "%s: checkpoint", prefix);
	err = t_subj_checkpoint(s);
	if (!t_check(!err, name, "%s; log: %.300s", t_errname(err),
		     s->log ? s->log : ""))
		return -1;
	t_subj_kill(s);
	chmod(s->img_path, 0644);
	return 0;
}

void t_subj_restart_as(struct t_subject *s, const char *prefix,
		       void (*hook)(void))
{
	char name[256];
	int err;

	/* No go from a restore before, no lines either */
	if (ftruncate(s->ctl, T_SUBJ_GO_OFF) || ftruncate(s->rep, 0))
		t_bail("resetting the control and report files");
	t_subj_restart_hook = hook;
	err = t_subj_restart(s, 0);
	t_subj_restart_hook = NULL;
	snprintf(name, sizeof(name), "%s: restart", prefix);
	if (t_check(!err, name, "%s; log: %.300s", t_errname(err),
		    s->log ? s->log : ""))
		t_subj_finish(s, prefix);
}

int t_subj_refused(struct t_subject *s, const char *path, void (*hook)(void),
		   int e, const char *word, const char *name)
{
	char saved[sizeof(s->img_path)], logname[300];
	const char *why;
	int err;

	memcpy(saved, s->img_path, sizeof(saved));
	if (path && path != s->img_path)
		snprintf(s->img_path, sizeof(s->img_path), "%s", path);
	if (ftruncate(s->ctl, T_SUBJ_GO_OFF))	/* no go from before */
		t_bail("resetting the control file");
	t_subj_restart_hook = hook;
	err = t_subj_restart(s, 0);
	t_subj_restart_hook = NULL;
	memcpy(s->img_path, saved, sizeof(saved));
	if (!err) {
		t_fail(name, "restored, expected %s returned", t_errname(e));
		t_subj_kill(s);
		return 0;
	}
	if (!t_check(err == e && s->restart_status != -1 &&
		     WIFEXITED(s->restart_status) &&
		     WEXITSTATUS(s->restart_status) == 125, name,
		     "got %s, the caller's status 0x%x (expected %s returned to it, exit 0x7d); log: %.300s",
		     t_errname(err), s->restart_status, t_errname(e),
		     s->log ? s->log : ""))
		return 0;
	if (word && !*word)
		return 1;	/* the log is not asked for */
	why = t_log_problem(s->log, e, word);
	snprintf(logname, sizeof(logname), "%s: the log says why", name);
	return t_check(!why, logname, "%s", why ? why : "");
}

/* Editing images */

int t_edit_load(struct t_edit *e, const char *path)
{
	static struct t_image im;

	memset(e, 0, sizeof(*e));
	t_scan_path(path, &im);
	if (!im.complete) {
		errno = im.err.err ? im.err.err : EBADMSG;
		return -1;
	}
	e->buf = (unsigned char *)t_read_path(path, &e->len);
	return e->buf ? 0 : -1;
}

/* Offsets of the records, through the library's reader. */
static int edit_scan(struct t_edit *e, struct t_image *im)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = t_feed(p[1], e->buf, e->len);
	close(p[1]);
	t_scan_fd(p[0], im);
	close(p[0]);
	t_wait(pid);
	return im->nr ? 0 : -1;
}

void *t_edit_find(struct t_edit *e, uint32_t type, uint32_t *len)
{
	static struct t_image im;
	size_t i;

	if (edit_scan(e, &im))
		return NULL;
	for (i = 0; i < im.nr && i < T_MAX_RECORDS; i++) {
		if (im.type[i] != type)
			continue;
		if (len)
			*len = im.len[i];
		return e->buf + im.off[i];
	}
	return NULL;
}

int t_edit_replace(struct t_edit *e, void *rec, const void *new, uint32_t len)
{
	size_t off = (unsigned char *)rec - e->buf;
	size_t old = ckpt_align(((struct ckpt_hdr *)rec)->len);
	size_t n = ckpt_align(len), rest = e->len - off - old;
	unsigned char *buf = malloc(off + n + rest + 1);

	if (!buf)
		return -1;
	memcpy(buf, e->buf, off);
	memset(buf + off, 0, n);
	memcpy(buf + off, new, len);
	((struct ckpt_hdr *)(buf + off))->len = len;
	memcpy(buf + off + n, e->buf + off + old, rest);
	free(e->buf);
	e->buf = buf;
	e->len = off + n + rest;
	return 0;
}

int t_edit_save(struct t_edit *e, const char *path)
{
	struct ckpt_hdr_tail *t;
	int fd;

	if (e->len < sizeof(*t))
		return -1;
	t = (void *)(e->buf + e->len - sizeof(*t));
	if (t->h.type != CKPT_HDR_TAIL) {
		errno = EBADMSG;
		return -1;
	}
	t->size = e->len - sizeof(*t);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (ckpt_write_full(fd, e->buf, e->len)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

void t_edit_free(struct t_edit *e)
{
	free(e->buf);
	e->buf = NULL;
	e->len = 0;
}
