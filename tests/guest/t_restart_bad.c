// SPDX-License-Identifier: GPL-2.0
/*
 * restart(2) on broken images: every failure is the documented errno with
 * a line on logfd that ends with "(error -N)".
 *
 * The base image is the head of one (the header, pids and tree records
 * checkpoint(2) wrote for a counting child) and a tail: its task section
 * is missing, so restart(2) reads it up to the tail and fails there
 * (EBADMSG); every change before that fails first, as its own error.
 *
 * Each restart(2) runs in a child of its own, so that an image that does
 * restore a task never takes over the test program.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlib.h"

/* Where restart(2) reads the image from. */
enum src { SRC_FILE, SRC_PIPE, SRC_SOCK };

static unsigned char *base;	/* the head of an image, then a tail */
static size_t base_len;
static struct t_image base_im;
static size_t tail_off;

static unsigned char *work;	/* the image under test */
static size_t work_len;

#define H ((struct ckpt_hdr_header *)work)
#define T ((struct ckpt_hdr_tail *)(work + tail_off))

static void reset(void)
{
	memset(work, 0, base_len + 4096);
	memcpy(work, base, base_len);
	work_len = base_len;
}

/* Image fd for the child; *feeder is the writer of a pipe or socket. */
static int image_fd(const void *buf, size_t len, enum src src, pid_t *feeder)
{
	char path[PATH_MAX];
	int fds[2], fd;

	*feeder = 0;
	if (src == SRC_FILE) {
		fd = t_file_with(buf, len, O_RDONLY, path);
		if (fd < 0)
			t_bail("image file");
		unlink(path);
		return fd;
	}
	if (src == SRC_SOCK ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) :
			      pipe2(fds, O_CLOEXEC))
		t_bail("pipe");
	*feeder = t_feed(fds[1], buf, len);
	close(fds[1]);
	return fds[0];
}

/*
 * Restart from buf; returns the outcome, the log in *log (malloc'ed) when
 * log is not NULL.
 */
static int try_restart(const void *buf, size_t len, enum src src,
		       unsigned long flags, pid_t pid, char **log)
{
	int imgfd, logfd, rc;
	pid_t feeder;

	logfd = t_log_fd();
	imgfd = image_fd(buf, len, src, &feeder);
	rc = t_restart_child(imgfd, pid, flags, logfd);
	close(imgfd);
	if (feeder) {
		kill(feeder, SIGKILL);
		t_wait(feeder);
	}
	if (log) {
		lseek(logfd, 0, SEEK_SET);
		*log = t_read_fd(logfd, NULL);
	}
	close(logfd);
	return rc;
}

/*
 * Restart the work image (as a file) and expect error e with a log line
 * naming word (NULL: any line).
 */
static void expect_src(const char *name, enum src src, int e, const char *word)
{
	char *log = NULL;
	const char *why;
	int rc;

	rc = try_restart(work, work_len, src, RESTART_TASKSELF, 0, &log);
	why = e ? t_log_problem(log, e, word) : NULL;
	if (rc != e) {
		t_fail(name, "got %s, expected %s; log: \"%.200s\"", t_errname(rc),
		       t_errname(e), log ? log : "");
	} else if (why) {
		t_fail(name, "%s", why);
	} else {
		t_pass(name);
	}
	free(log);
}

static void expect(const char *name, int e, const char *word)
{
	expect_src(name, SRC_FILE, e, word);
}

static void test_valid(void)
{
	reset();
	expect("the head of an image from a file: EBADMSG at the missing task", EBADMSG,
	       NULL);
	expect_src("the head of an image from a pipe: EBADMSG at the missing task", SRC_PIPE,
		   EBADMSG, NULL);
	expect_src("the head of an image from a socket: EBADMSG at the missing task",
		   SRC_SOCK, EBADMSG, NULL);

	work_len = 0;
	expect("empty file: ENODATA", ENODATA, NULL);
	expect_src("empty pipe: ENODATA", SRC_PIPE, ENODATA, NULL);
}

/* One truncation; NULL when it fails as it should. */
static const char *truncated(size_t cut, enum src src)
{
	static char why[600];
	const char *p = NULL;
	char *log = NULL;
	int rc;

	rc = try_restart(base, cut, src, RESTART_TASKSELF, 0, &log);
	if (rc == ENODATA)
		p = t_log_problem(log, ENODATA, NULL);
	if (rc != ENODATA)
		snprintf(why, sizeof(why), "cut at %zu: got %s, expected ENODATA; log: \"%.200s\"",
			 cut, t_errname(rc), log ? log : "");
	else if (p)
		snprintf(why, sizeof(why), "cut at %zu: %s", cut, p);
	free(log);
	return rc != ENODATA || p ? why : NULL;
}

/*
 * Cut [from, to) at every byte; in a long record at every 8th byte near its
 * ends and every 4093rd in between.
 */
static void truncate_range(const char *name, size_t from, size_t to)
{
	const char *why = NULL;
	size_t cut;

	for (cut = from; cut < to && !why;) {
		why = truncated(cut, SRC_FILE);
		if (to - from <= 4096)
			cut++;
		else if (cut < from + 2048 || cut + 2048 >= to)
			cut += 8;
		else
			cut += 4093;
	}
	if (!why && to > from + 1)
		why = truncated(to - 1, SRC_FILE);
	if (why)
		t_fail(name, "%s", why);
	else
		t_pass(name);
}

static void test_truncated(void)
{
	char name[128];
	const char *why;
	size_t i, end;

	for (i = 0; i < base_im.nr; i++) {
		const char *type = ckpt_type_name(base_im.type[i]);

		end = i + 1 < base_im.nr ? base_im.off[i + 1] : tail_off;
		snprintf(name, sizeof(name), "truncated inside record %zu (%s): ENODATA",
			 i, type ? type : "?");
		truncate_range(name, i ? base_im.off[i] + 1 : 1, end);
		snprintf(name, sizeof(name), "truncated after record %zu (%s): ENODATA",
			 i, type ? type : "?");
		why = truncated(end, SRC_FILE);
		t_check(!why, name, "%s", why);
	}
	why = truncated(100, SRC_PIPE);
	t_check(!why, "truncated image from a pipe: ENODATA", "%s", why);
	why = truncated(tail_off, SRC_SOCK);
	t_check(!why, "truncated image from a socket: ENODATA", "%s", why);
}

static void test_header(void)
{
	reset();
	H->magic ^= 0x100;
	expect("header magic: EBADMSG", EBADMSG, "header");

	reset();
	H->version = CKPT_VERSION + 1;
	expect("header version + 1: EPROTONOSUPPORT", EPROTONOSUPPORT, "header");
	H->version = 0;
	expect("header version 0: EPROTONOSUPPORT", EPROTONOSUPPORT, "header");

	reset();
	H->arch = CKPT_ARCH_X86_64 + 1;
	expect("header arch + 1: ENOEXEC", ENOEXEC, "header");
	H->arch = 0;
	expect("header arch 0: ENOEXEC", ENOEXEC, "header");

	reset();
	H->page_shift++;
	expect("header page_shift + 1: ENOEXEC", ENOEXEC, "header");
	H->page_shift = 0;
	expect("header page_shift 0: ENOEXEC", ENOEXEC, "header");

	reset();
	H->flags = 2;
	expect("header unknown flags: EBADMSG", EBADMSG, "header");

	reset();
	H->reserved = 1;
	expect("header reserved: EBADMSG", EBADMSG, "header");

	reset();
	memset(H->release, 'A', sizeof(H->release));
	expect("release without NUL: EBADMSG", EBADMSG, "header");
	reset();
	memset(H->version_str, 'A', sizeof(H->version_str));
	expect("version_str without NUL: EBADMSG", EBADMSG, "header");
	reset();
	memset(H->machine, 'A', sizeof(H->machine));
	expect("machine without NUL: EBADMSG", EBADMSG, "header");

	reset();
	H->h.len = sizeof(*H) - 8;
	expect("header len short: EBADMSG", EBADMSG, "header");
	H->h.len = sizeof(*H) - 1;
	expect("header len short by 1: EBADMSG", EBADMSG, "header");
	H->h.len = sizeof(*H) + 8;
	expect("header len long: EBADMSG", EBADMSG, "header");
	H->h.len = 0;
	expect("header len 0: EBADMSG", EBADMSG, "header");
	H->h.len = sizeof(struct ckpt_hdr);
	expect("header len 8: EBADMSG", EBADMSG, "header");
	H->h.len = 0xffffffff;
	expect("header len 0xffffffff: EBADMSG", EBADMSG, "header");

	reset();
	H->h.type = CKPT_HDR_TAIL;
	expect("tail type first: EBADMSG", EBADMSG, NULL);
	H->h.type = 77;
	expect("unknown type first: EBADMSG", EBADMSG, NULL);
}

static void test_tail(void)
{
	reset();
	T->h.type = 77;
	expect("unknown record type instead of the tail: EBADMSG", EBADMSG, NULL);
	T->h.type = CKPT_HDR_HEADER;
	expect("header type instead of the tail: EBADMSG", EBADMSG, NULL);

	reset();
	T->magic ^= 1;
	expect("tail magic: EBADMSG", EBADMSG, "tail");

	reset();
	T->h.len = sizeof(*T) - 8;
	expect("tail len short: EBADMSG", EBADMSG, "tail");
	T->h.len = sizeof(*T) + 8;
	expect("tail len long: EBADMSG", EBADMSG, "tail");
	T->h.len = 0xffffffff;
	expect("tail len 0xffffffff: EBADMSG", EBADMSG, "tail");

	reset();
	T->nr_records++;
	expect("tail nr_records + 1: EBADMSG", EBADMSG, "tail");
	T->nr_records -= 2;
	expect("tail nr_records - 1: EBADMSG", EBADMSG, "tail");

	reset();
	T->size += 8;
	expect("tail size + 8: EBADMSG", EBADMSG, "tail");
	T->size -= 16;
	expect("tail size - 8: EBADMSG", EBADMSG, "tail");
}

/* Replace the tail with an error record carrying msg (len bytes of it). */
static struct ckpt_hdr_error *error_record(const char *msg, size_t len)
{
	struct ckpt_hdr_error *e = (void *)(work + tail_off);

	reset();
	memset(work + tail_off, 0, base_len + 4096 - tail_off);
	e->h.type = CKPT_HDR_ERROR;
	e->h.len = sizeof(*e) + len;
	e->error = -EIO;
	memcpy(e->msg, msg, len);
	work_len = tail_off + ckpt_align(e->h.len);
	return e;
}

static void test_error_record(void)
{
	struct ckpt_hdr_error *e;

	error_record("checkpoint failed here", 23);
	expect("error record instead of the tail: ECANCELED", ECANCELED, NULL);

	e = error_record("boom", 5);	/* len 21: 3 bytes of padding */
	e->reserved = 7;
	expect("error record reserved: EBADMSG", EBADMSG, NULL);

	error_record("boomx", 5);
	expect("error message without NUL: EBADMSG", EBADMSG, NULL);

	e = error_record("boom", 5);
	e->msg[6] = 1;
	expect("nonzero padding: EBADMSG", EBADMSG, NULL);
}

static void expect_args(const char *name, int imgfd, pid_t pid,
			unsigned long flags, int logfd, int e, int want_log)
{
	char *log = NULL;
	const char *why;
	int lfd = logfd, rc;

	if (want_log)
		lfd = t_log_fd();
	if (imgfd >= 0)
		lseek(imgfd, 0, SEEK_SET);
	rc = t_restart_child(imgfd, pid, flags, lfd);
	if (want_log) {
		lseek(lfd, 0, SEEK_SET);
		log = t_read_fd(lfd, NULL);
		close(lfd);
	}
	why = want_log ? t_log_problem(log, e, NULL) : NULL;
	if (rc != e)
		t_fail(name, "got %s, expected %s", t_errname(rc), t_errname(e));
	else if (why)
		t_fail(name, "%s", why);
	else
		t_pass(name);
	free(log);
}

static void test_args(void)
{
	char path[PATH_MAX], wpath[PATH_MAX];
	int fd, wfd, rdlog, pathfd, closed, lp[2];
	char *log;
	const char *why;
	pid_t feeder;

	reset();
	fd = t_file_with(base, base_len, O_RDONLY, path);
	wfd = t_file_with(base, base_len, O_WRONLY, wpath);
	if (fd < 0 || wfd < 0)
		t_bail("image file");
	rdlog = open(path, O_RDONLY | O_CLOEXEC);
	pathfd = open(path, O_PATH | O_CLOEXEC);
	closed = dup(fd);
	close(closed);

	expect_args("flags 2: EINVAL", fd, 0, 2, -1, EINVAL, 0);
	expect_args("flags ~0: EINVAL", fd, 0, ~0UL, -1, EINVAL, 0);
	expect_args("TASKSELF with pid 1: EINVAL", fd, 1, RESTART_TASKSELF, -1,
		    EINVAL, 0);
	expect_args("TASKSELF with own pid: EINVAL", fd, getpid(),
		    RESTART_TASKSELF, -1, EINVAL, 0);
	expect_args("fd -1: EBADF", -1, 0, RESTART_TASKSELF, -1, EBADF, 0);
	expect_args("closed fd: EBADF", closed, 0, RESTART_TASKSELF, -1, EBADF, 0);
	expect_args("write-only fd: EBADF", wfd, 0, RESTART_TASKSELF, -1, EBADF, 0);
	expect_args("O_PATH fd: EBADF", pathfd, 0, RESTART_TASKSELF, -1, EBADF, 0);
	expect_args("closed logfd: EBADF", fd, 0, RESTART_TASKSELF, closed,
		    EBADF, 0);
	expect_args("read-only logfd: EBADF", fd, 0, RESTART_TASKSELF, rdlog,
		    EBADF, 0);
	expect_args("logfd -1: the same EBADMSG", fd, 0, RESTART_TASKSELF, -1, EBADMSG, 0);

	/* A bad image with no log still fails the same way. */
	reset();
	H->magic = 0;
	close(fd);
	fd = t_file_with(work, work_len, O_RDONLY, path);
	expect_args("bad image, logfd -1: EBADMSG", fd, 0, RESTART_TASKSELF, -1,
		    EBADMSG, 0);

	/* The log through a pipe. */
	if (pipe2(lp, O_CLOEXEC))
		t_bail("pipe");
	close(fd);
	fd = image_fd(work, work_len, SRC_PIPE, &feeder);
	expect_args("bad image, logfd a pipe: EBADMSG", fd, 0, RESTART_TASKSELF,
		    lp[1], EBADMSG, 0);
	kill(feeder, SIGKILL);	/* it holds lp[1] too */
	t_wait(feeder);
	close(lp[1]);
	log = t_read_fd(lp[0], NULL);
	why = t_log_problem(log, EBADMSG, "header");
	t_check(!why, "log through a pipe", "%s", why);
	free(log);
	close(lp[0]);

	close(fd);
	close(wfd);
	close(rdlog);
	close(pathfd);
	unlink(path);
	unlink(wpath);
}

/*
 * restart(2) reads the image from the fd's offset and not a byte past it
 * (here: up to its tail, where it fails).
 */
static void test_exact(void)
{
	static const char trailer[] = "TRAILER";
	const char *name = "restart from a file offset reads the image, not past it";
	char path[PATH_MAX];
	unsigned char *buf = malloc(100 + base_len + sizeof(trailer));
	int fd, p[2], rc;
	off_t pos;
	char *rest;
	size_t left = 0;
	pid_t feeder;

	if (!buf)
		t_bail("malloc");
	memset(buf, 'x', 100);
	memcpy(buf + 100, base, base_len);
	memcpy(buf + 100 + base_len, trailer, sizeof(trailer));
	fd = t_file_with(buf, 100 + base_len + sizeof(trailer), O_RDONLY, path);
	if (fd < 0)
		t_bail("image file");
	unlink(path);
	lseek(fd, 100, SEEK_SET);
	rc = t_restart_child(fd, 0, RESTART_TASKSELF, -1);
	pos = lseek(fd, 0, SEEK_CUR);
	if (rc != EBADMSG)
		t_fail(name, "got %s, expected EBADMSG", t_errname(rc));
	else
		t_check(pos >= (off_t)(100 + tail_off) && pos <= (off_t)(100 + base_len), name,
			"file offset %lld, expected %zu to %zu", (long long)pos,
			100 + tail_off, 100 + base_len);
	close(fd);

	name = "restart from a pipe reads the image, not past it";
	if (pipe2(p, O_CLOEXEC))
		t_bail("pipe");
	feeder = t_feed(p[1], buf + 100, base_len + sizeof(trailer));
	close(p[1]);
	t_wait(feeder);
	rc = t_restart_child(p[0], 0, RESTART_TASKSELF, -1);
	/* What is left: the part of the tail it did not need, the trailer */
	rest = t_read_fd(p[0], &left);
	if (rc != EBADMSG)
		t_fail(name, "got %s, expected EBADMSG", t_errname(rc));
	else
		t_check(rest && left >= sizeof(trailer) &&
			left <= sizeof(struct ckpt_hdr_tail) + sizeof(trailer) &&
			!memcmp(rest + left - sizeof(trailer), trailer, sizeof(trailer)), name,
			"the pipe holds %zu bytes after, expected the trailer (%zu bytes) after at most the tail",
			left, sizeof(trailer));
	free(rest);
	close(p[0]);
	free(buf);
}

static long restart_on(void *arg, int fd)
{
	(void)arg;
	return sys_restart(0, fd, RESTART_TASKSELF, -1);
}

/* A write-only fd is refused without keeping a reference to its file. */
static void test_badf_ref(void)
{
	const char *name = "EBADF fd: no file reference kept (threaded caller)";
	int rc = t_leaks_fd_ref(restart_on, NULL, 0);

	if (rc < 0)
		t_fail(name, "restart with a pipe's write end did not fail with EBADF");
	else
		t_check(!rc, name, "the pipe's write end stays open after its last close");
}

static long do_restart(void *arg)
{
	return sys_restart(0, *(int *)arg, RESTART_TASKSELF, -1);
}

/* A restart waiting for more of the image ends on a signal. */
static void test_blocked(void)
{
	static const int sigs[] = { SIGUSR1, SIGKILL };
	char name[128];
	int p[2], early, rc, partial;
	size_t i;

	for (partial = 0; partial < 2; partial++) {
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			int want = sigs[i] == SIGKILL ? -SIGKILL : EINTR;

			snprintf(name, sizeof(name), "restart blocked on %s ends on %s",
				 partial ? "a pipe after the header" : "an empty pipe",
				 sigabbrev_np(sigs[i]));
			if (pipe2(p, O_CLOEXEC))
				t_bail("pipe");
			if (partial && ckpt_write_full(p[1], base, tail_off))
				t_bail("write");
			rc = t_interrupt(do_restart, &p[0], 500, sigs[i], &early);
			t_check_interrupt(name, "restart", rc, want, early);
			close(p[0]);
			close(p[1]);
		}
	}
}

int main(void)
{
	char path[PATH_MAX];
	size_t len;

	if (t_head_image(path))
		t_bail("head-and-tail image of the counting child");
	base = (unsigned char *)t_read_path(path, &len);
	if (!base)
		t_bail("reading the image");
	base_len = len;
	t_scan_path(path, &base_im);
	unlink(path);
	/* The library reads the head and stops at the tail */
	if (base_im.complete || base_im.nr != 3 || base_im.err.err != EBADMSG) {
		printf("not ok - head of an image from checkpoint(2): offset 0x%llx: %s\n",
		       (unsigned long long)base_im.err.off, base_im.err.msg);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	tail_off = base_len - sizeof(struct ckpt_hdr_tail);
	work = malloc(base_len + 4096);
	if (!work)
		t_bail("malloc");

	test_valid();
	test_truncated();
	test_header();
	test_tail();
	test_error_record();
	test_args();
	test_badf_ref();
	test_exact();
	test_blocked();

	free(work);
	free(base);
	return t_done();
}
