// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint(2) of a running child: the image's header and tail, the child
 * undisturbed, images through a pipe and a socket, and every argument
 * error.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"

static struct t_loop loop;

static unsigned int page_shift(void)
{
	return __builtin_ctzl(sysconf(_SC_PAGESIZE));
}

static void check_header(const struct t_image *im, unsigned long flags,
			 time_t before, time_t after, const char *what)
{
	const struct ckpt_hdr_header *h = &im->hdr;
	struct utsname u;
	char name[128];

	uname(&u);
#define NAME(s) (snprintf(name, sizeof(name), "%s: %s", what, s), name)
	t_check(h->h.type == CKPT_HDR_HEADER &&
		h->h.len == sizeof(struct ckpt_hdr_header), NAME("header record"),
		"type %u len %u", h->h.type, h->h.len);
	t_check(h->magic == CKPT_MAGIC_HEAD, NAME("header magic"),
		"0x%llx", (unsigned long long)h->magic);
	t_check(h->version == CKPT_VERSION, NAME("header version"),
		"%u, expected %d", h->version, CKPT_VERSION);
	t_check(h->arch == CKPT_ARCH_X86_64, NAME("header arch"), "%u",
		h->arch);
	t_check(h->page_shift == page_shift(), NAME("header page_shift"),
		"%u, expected %u", h->page_shift, page_shift());
	t_check(h->flags == flags, NAME("header flags"), "0x%x, expected 0x%lx",
		h->flags, flags);
	t_check(h->reserved == 0, NAME("header reserved"), "0x%x",
		h->reserved);
	t_check((time_t)h->time >= before - 1 && (time_t)h->time <= after + 1,
		NAME("header time"), "%llu, checkpoint ran in [%lld, %lld]",
		(unsigned long long)h->time, (long long)before,
		(long long)after);
	t_check(!strcmp(h->release, u.release), NAME("header release"),
		"\"%.72s\", uname says \"%s\"", h->release, u.release);
	t_check(!strcmp(h->version_str, u.version), NAME("header version_str"),
		"\"%.72s\", uname says \"%s\"", h->version_str, u.version);
	t_check(!strcmp(h->machine, u.machine), NAME("header machine"),
		"\"%.72s\", uname says \"%s\"", h->machine, u.machine);
#undef NAME
}

static void check_complete(const struct t_image *im, const char *name)
{
	size_t last = im->nr - 1;

	if (!t_check(im->complete, name, "offset 0x%llx: %s",
		     (unsigned long long)im->err.off, im->err.msg))
		return;
	/* The library checked the counts; assert them here too. */
	if (im->nr < 2 || im->type[0] != CKPT_HDR_HEADER ||
	    im->type[last] != CKPT_HDR_TAIL ||
	    im->tail.nr_records != im->nr - 1 ||
	    im->tail.size != im->off[last] ||
	    im->size != im->off[last] + sizeof(struct ckpt_hdr_tail))
		t_fail("tail counts", "%zu records, tail says %llu records and %llu bytes before it (tail at 0x%llx)",
		       im->nr, (unsigned long long)im->tail.nr_records,
		       (unsigned long long)im->tail.size,
		       (unsigned long long)im->off[last]);
	else
		t_pass("tail counts");
}

/* The file image: header, tail, and the child undisturbed. */
static void test_file(char *ref_path)
{
	struct t_loop_report rep;
	struct t_image im;
	uint64_t c0, c1;
	time_t before, after;
	int status;

	c0 = t_loop_count(&loop);
	before = time(NULL);
	if (t_checkpoint_file(loop.pid, CHECKPOINT_SUBTREE, ref_path)) {
		t_fail("checkpoint to a file", "%s", strerror(errno));
		return;
	}
	after = time(NULL);
	t_pass("checkpoint to a file");
	c1 = t_loop_count(&loop);

	t_scan_path(ref_path, &im);
	check_complete(&im, "file image is complete");
	check_header(&im, CHECKPOINT_SUBTREE, before, after, "file");

	t_check(t_loop_advances(&loop, c1, 3000), "child runs after checkpoint",
		"counter stuck at %llu (was %llu before)",
		(unsigned long long)t_loop_count(&loop), (unsigned long long)c0);

	/* Restart the loop for the tests that follow. */
	if (t_loop_stop(&loop, &rep, &status)) {
		t_fail("child report", "no report, status 0x%x", status);
	} else {
		t_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			"child exits normally", "status 0x%x", status);
		t_check(rep.signals == 0, "child got no signal",
			"%d signals, the last %d (%s)", rep.signals,
			rep.last_signal, strsignal(rep.last_signal));
		t_check(rep.eintr == 0, "child saw no EINTR",
			"%d nanosleep()s failed with EINTR", rep.eintr);
		t_check(rep.count >= c1, "child counter kept increasing",
			"%llu < %llu", (unsigned long long)rep.count,
			(unsigned long long)c1);
	}
	if (t_loop_start(&loop))
		t_bail("restarting the counting child");
}

/* The image without its pages records, whose runs change as the task runs. */
static void drop_pages(struct t_image *im)
{
	size_t i, n = 0;

	for (i = 0; i < im->nr && i < T_MAX_RECORDS; i++) {
		if (im->type[i] == CKPT_HDR_PAGES)
			continue;
		im->type[n] = im->type[i];
		im->len[n] = im->len[i];
		im->off[n] = im->off[i];
		n++;
	}
	im->nr = n;
}

/*
 * Same structure as the file image: records of the same types and sizes,
 * apart from the pages records.
 */
static void compare(const char *name, const char *path, const char *ref)
{
	static struct t_image a, b;
	size_t i;

	t_scan_path(path, &a);
	t_scan_path(ref, &b);
	if (!a.complete) {
		t_fail(name, "offset 0x%llx: %s", (unsigned long long)a.err.off,
		       a.err.msg);
		return;
	}
	drop_pages(&a);
	drop_pages(&b);
	if (a.nr != b.nr) {
		t_fail(name, "%zu records besides pages, the file image has %zu",
		       a.nr, b.nr);
		return;
	}
	for (i = 0; i < a.nr && i < T_MAX_RECORDS; i++) {
		if (a.type[i] != b.type[i] || a.len[i] != b.len[i]) {
			t_fail(name, "record %zu: type %u len %u, the file image has type %u len %u",
			       i, a.type[i], a.len[i], b.type[i], b.len[i]);
			return;
		}
	}
	a.hdr.time = b.hdr.time;
	if (memcmp(&a.hdr, &b.hdr, sizeof(a.hdr))) {
		t_fail(name, "headers differ beyond the time");
		return;
	}
	t_pass(name);
}

/* Checkpoint into one end of a pipe or socketpair, drained by a child. */
static void test_stream(int sock, const char *ref)
{
	const char *name = sock ? "checkpoint to a socket" :
				  "checkpoint to a pipe";
	char path[PATH_MAX];
	int fds[2], fd, rc;
	long ret;
	pid_t pid;

	fd = t_mkstemp(path, "stream");
	if (fd < 0)
		t_bail("mkstemp");
	close(fd);
	if (sock ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) :
		   pipe2(fds, O_CLOEXEC))
		t_bail("pipe");
	pid = t_drain(fds[0], fds[1], path);
	close(fds[0]);
	ret = sys_checkpoint(loop.pid, fds[1], CHECKPOINT_SUBTREE, 2);
	t_check(ret == 0, name, "%s", strerror(errno));
	close(fds[1]);
	rc = t_wait(pid);
	if (rc)
		t_fail(name, "reader exited with %d", rc);
	compare(sock ? "socket image matches the file image" :
		       "pipe image matches the file image", path, ref);
	unlink(path);
}

/* One argument error: expect -1 with e. */
static void expect(const char *name, pid_t pid, int fd, unsigned long flags,
		   int logfd, int e)
{
	long ret = sys_checkpoint(pid, fd, flags, logfd);

	t_check_errno(ret, errno, e, name);
}

static void *thread_fn(void *arg)
{
	long ret = sys_checkpoint(getpid(), *(int *)arg, CHECKPOINT_SUBTREE, -1);

	return (void *)(ret == -1 ? (long)errno : 0L);
}

static void test_errors(void)
{
	char path[PATH_MAX], rdpath[PATH_MAX];
	int fd, rdfd, pathfd, closed;
	pid_t gone;
	pthread_t th;
	void *res;

	fd = t_mkstemp(path, "errors");
	rdfd = t_mkstemp(rdpath, "rdonly");
	if (fd < 0 || rdfd < 0)
		t_bail("mkstemp");
	close(rdfd);
	rdfd = open(rdpath, O_RDONLY | O_CLOEXEC);
	pathfd = open(path, O_PATH | O_CLOEXEC);
	closed = dup(fd);
	close(closed);

	expect("flags 2: EINVAL", loop.pid, fd, 2, -1, EINVAL);
	expect("flags ~0: EINVAL", loop.pid, fd, ~0UL, -1, EINVAL);
	expect("pid 0: EINVAL", 0, fd, CHECKPOINT_SUBTREE, -1, EINVAL);
	expect("pid -1: EINVAL", -1, fd, CHECKPOINT_SUBTREE, -1, EINVAL);

	fflush(NULL);
	gone = fork();
	if (gone == 0)
		_exit(0);
	t_wait(gone);
	expect("exited pid: ESRCH", gone, fd, CHECKPOINT_SUBTREE, -1, ESRCH);

	expect("self: EDEADLK", getpid(), fd, CHECKPOINT_SUBTREE, -1, EDEADLK);
	if (pthread_create(&th, NULL, thread_fn, &fd) == 0) {
		pthread_join(th, &res);
		t_check((long)res == EDEADLK, "own thread group from a thread: EDEADLK",
			"got %s", (long)res ? strerror((long)res) : "success");
	} else {
		t_fail("own thread group from a thread: EDEADLK", "pthread_create failed");
	}

	expect("fd -1: EBADF", loop.pid, -1, CHECKPOINT_SUBTREE, -1, EBADF);
	expect("closed fd: EBADF", loop.pid, closed, CHECKPOINT_SUBTREE, -1,
	       EBADF);
	expect("O_PATH fd: EBADF", loop.pid, pathfd, CHECKPOINT_SUBTREE, -1,
	       EBADF);
	expect("read-only fd: EBADF", loop.pid, rdfd, CHECKPOINT_SUBTREE, -1,
	       EBADF);
	expect("closed logfd: EBADF", loop.pid, fd, CHECKPOINT_SUBTREE, closed,
	       EBADF);
	expect("read-only logfd: EBADF", loop.pid, fd, CHECKPOINT_SUBTREE, rdfd,
	       EBADF);
	expect("logfd -2: EBADF", loop.pid, fd, CHECKPOINT_SUBTREE, -2, EBADF);
	expect("container mode on a non-init task: EINVAL", loop.pid, fd, 0, -1,
	       EINVAL);

	close(fd);
	close(rdfd);
	close(pathfd);
	unlink(path);
	unlink(rdpath);
}

/* The image goes at the file's offset and moves it: no seeks. */
static void test_offset(const char *ref)
{
	const char *name = "checkpoint writes at the file offset";
	static const char junk[100] = "not an image";
	char path[PATH_MAX];
	struct t_image im;
	size_t ref_len = 0;
	off_t pos;
	int fd;
	char *img;

	img = t_read_path(ref, &ref_len);
	free(img);
	fd = t_mkstemp(path, "offset");
	if (fd < 0 || ckpt_write_full(fd, junk, sizeof(junk)))
		t_bail("offset file");
	if (sys_checkpoint(loop.pid, fd, CHECKPOINT_SUBTREE, -1)) {
		t_fail(name, "%s", strerror(errno));
		goto out;
	}
	pos = lseek(fd, 0, SEEK_CUR);
	lseek(fd, sizeof(junk), SEEK_SET);
	t_scan_fd(fd, &im);
	if (!im.complete)
		t_fail(name, "no image at offset %zu: offset 0x%llx: %s",
		       sizeof(junk), (unsigned long long)im.err.off, im.err.msg);
	else
		t_check(pos == (off_t)(sizeof(junk) + im.size), name,
			"file offset %lld after an image of %llu bytes at %zu (the first image had %zu)",
			(long long)pos, (unsigned long long)im.size,
			sizeof(junk), ref_len);
out:
	close(fd);
	unlink(path);
}

static long ckpt_on(void *arg, int fd)
{
	return sys_checkpoint(*(pid_t *)arg, fd, CHECKPOINT_SUBTREE, -1);
}

/* A read-only fd is refused without keeping a reference to its file. */
static void test_badf_ref(void)
{
	const char *name = "EBADF fd: no file reference kept (threaded caller)";
	int rc = t_leaks_fd_ref(ckpt_on, &loop.pid, 1);

	if (rc < 0)
		t_fail(name, "checkpoint with a pipe's read end did not fail with EBADF");
	else
		t_check(!rc, name, "the pipe's read end stays open after its last close");
}

/* logfd -1 and a pipe as logfd are accepted. */
static void test_logfd(void)
{
	char path[PATH_MAX];
	int fd, lp[2];
	long ret;

	fd = t_mkstemp(path, "logfd");
	if (fd < 0 || pipe2(lp, O_CLOEXEC | O_NONBLOCK))
		t_bail("setup");
	ret = sys_checkpoint(loop.pid, fd, CHECKPOINT_SUBTREE, -1);
	t_check(ret == 0, "logfd -1", "%s", strerror(errno));
	if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
		t_bail("truncating the image");
	ret = sys_checkpoint(loop.pid, fd, CHECKPOINT_SUBTREE, lp[1]);
	t_check(ret == 0, "logfd a pipe", "%s", strerror(errno));
	close(lp[0]);
	close(lp[1]);
	close(fd);
	unlink(path);
}

struct ckpt_args {
	pid_t pid;
	int fd;
};

static long do_checkpoint(void *arg)
{
	struct ckpt_args *a = arg;

	return sys_checkpoint(a->pid, a->fd, CHECKPOINT_SUBTREE, -1);
}

/* Fill a pipe so that the next write blocks. */
static void fill_pipe(int fd)
{
	static char buf[4096];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (write(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
	fcntl(fd, F_SETFL, fl);
}

static void check_still_runs(const char *name)
{
	uint64_t c = t_loop_count(&loop);

	t_check(t_loop_advances(&loop, c, 3000), name,
		"counter stuck at %llu", (unsigned long long)c);
}

/*
 * A checkpoint that cannot write its image fails, and one blocked writing
 * it ends on a signal; the target is let go either way.
 */
static void test_blocked(void)
{
	static const int sigs[] = { SIGUSR1, SIGKILL };
	struct ckpt_args a = { .pid = loop.pid };
	char name[128];
	int p[2], early, rc;
	size_t i;
	long ret;

	if (pipe2(p, O_CLOEXEC))
		t_bail("pipe");
	close(p[0]);
	ret = sys_checkpoint(loop.pid, p[1], CHECKPOINT_SUBTREE, -1);
	t_check_errno(ret, errno, EPIPE, "checkpoint to a pipe without reader: EPIPE");
	close(p[1]);
	check_still_runs("child runs after the failed checkpoint");

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int want = sigs[i] == SIGKILL ? -SIGKILL : EINTR;

		snprintf(name, sizeof(name), "checkpoint blocked on a full pipe ends on %s",
			 sigabbrev_np(sigs[i]));
		if (pipe2(p, O_CLOEXEC))
			t_bail("pipe");
		fill_pipe(p[1]);
		a.fd = p[1];
		rc = t_interrupt(do_checkpoint, &a, 500, sigs[i], &early);
		t_check_interrupt(name, "checkpoint", rc, want, early);
		close(p[0]);
		close(p[1]);
		snprintf(name, sizeof(name), "child runs after the checkpoint ended by %s",
			 sigabbrev_np(sigs[i]));
		check_still_runs(name);
	}
}

/* All the checkpoints above left the child alone. */
static void test_undisturbed(void)
{
	struct t_loop_report rep;
	int status;

	if (t_loop_stop(&loop, &rep, &status)) {
		t_fail("child report at the end", "no report, status 0x%x", status);
		return;
	}
	t_check(rep.signals == 0 && rep.eintr == 0,
		"child undisturbed by all the checkpoints",
		"%d signals (the last %d), %d EINTR", rep.signals,
		rep.last_signal, rep.eintr);
}

/* An unprivileged task may not checkpoint a root task. */
static void test_eperm(void)
{
	const char *name = "unprivileged caller, root target: EPERM";
	char path[PATH_MAX];
	int fd, rc;
	pid_t pid;

	if (geteuid() != 0) {
		t_skip(name, "not root");
		return;
	}
	fd = t_mkstemp(path, "eperm");
	if (fd < 0)
		t_bail("mkstemp");
	fchmod(fd, 0666);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		long ret;

		if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(100);
		ret = sys_checkpoint(loop.pid, fd, CHECKPOINT_SUBTREE, -1);
		_exit(ret == 0 ? 0 : errno);
	}
	rc = t_wait(pid);
	if (rc == 100)
		t_fail(name, "could not switch to uid 1000");
	else
		t_check(rc == EPERM, name, "got %s",
			rc ? strerrorname_np(rc) ?: "?" : "success");
	close(fd);
	unlink(path);
}

static int ns_init(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* Container mode on the init of a new pid namespace. */
static void test_container(void)
{
	const char *name = "container mode on a pid namespace init";
	static char stack[65536] __attribute__((aligned(16)));
	char path[PATH_MAX];
	struct t_image im;
	time_t before, after;
	pid_t pid;

	if (geteuid() != 0) {
		t_skip(name, "not root");
		return;
	}
	fflush(NULL);
	pid = clone(ns_init, stack + sizeof(stack), CLONE_NEWPID | SIGCHLD,
		    NULL);
	if (pid < 0) {
		t_skip(name, errno == EINVAL ? "no pid namespaces" :
			     strerror(errno));
		return;
	}
	before = time(NULL);
	if (t_checkpoint_file(pid, 0, path)) {
		t_fail(name, "%s", strerror(errno));
	} else {
		after = time(NULL);
		t_pass(name);
		t_scan_path(path, &im);
		check_complete(&im, "container image is complete");
		check_header(&im, 0, before, after, "container");
		unlink(path);
	}
	kill(pid, SIGKILL);
	t_wait(pid);
}

int main(void)
{
	char ref[PATH_MAX];

	if (t_loop_start(&loop))
		t_bail("starting the counting child");

	test_file(ref);
	test_stream(0, ref);
	test_stream(1, ref);
	test_offset(ref);
	test_errors();
	test_badf_ref();
	test_logfd();
	test_eperm();
	test_container();
	test_blocked();
	test_undisturbed();

	unlink(ref);
	return t_done();
}
