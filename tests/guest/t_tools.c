// SPDX-License-Identifier: GPL-2.0
/*
 * The userland tools run as a user runs them: checkpoint, ckptinfo and
 * restart from $CKPT_BINDIR (default /bin), their exit codes and output.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlib.h"

static const char *bindir;
static struct t_loop loop;

struct run {
	int rc;		/* exit code, 128+signal */
	char *out;
	char *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static int capture_fd(void)
{
	char path[PATH_MAX];
	int fd = t_mkstemp(path, "out");

	if (fd < 0)
		t_bail("mkstemp");
	unlink(path);
	return fd;
}

/* Start bindir/argv[0] with stdin/stdout/stderr on the given fds. */
static pid_t spawn(const char *const argv[], int fd0, int fd1, int fd2)
{
	char path[PATH_MAX];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", bindir, argv[0]);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0)
			_exit(126);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static char *slurp(int fd)
{
	char *s;

	lseek(fd, 0, SEEK_SET);
	s = t_read_fd(fd, NULL);
	close(fd);
	return s ? s : strdup("");
}

/* Run one tool with stdin from fd0 (-1: /dev/null), capturing its output. */
static void run(struct run *r, int fd0, const char *const argv[])
{
	int in = fd0 >= 0 ? fd0 : open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = capture_fd(), err = capture_fd();

	r->rc = t_wait(spawn(argv, in, out, err));
	if (fd0 < 0)
		close(in);
	r->out = slurp(out);
	r->err = slurp(err);
}

/* Run with stdin from a file. */
static void run_in(struct run *r, const char *path, const char *const argv[])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		t_bail(path);
	run(r, fd, argv);
	close(fd);
}

static int check_run(const struct run *r, int rc, const char *in_out,
		     const char *in_err, const char *name)
{
	int ok = r->rc == rc && (!in_out || strstr(r->out, in_out)) &&
		 (!in_err || strstr(r->err, in_err));

	return t_check(ok, name, "exit %d (expected %d)%s%s%s%s; stdout \"%.300s\"; stderr \"%.300s\"",
		       r->rc, rc, in_out ? ", stdout should hold \"" : "",
		       in_out ? in_out : "", in_err ? "\", stderr \"" : "",
		       in_err ? in_err : "", r->out, r->err);
}

/* Write the first len bytes of src to a new file; its path into dst. */
static void prefix_copy(const char *src, size_t len, char *dst)
{
	size_t n;
	char *buf = t_read_path(src, &n);
	int fd;

	if (!buf)
		t_bail(src);
	fd = t_file_with(buf, len < n ? len : n, O_RDONLY, dst);
	if (fd < 0)
		t_bail("image copy");
	close(fd);
	free(buf);
}

/*
 * image: checkpoint of the counting child; notask: its head (header, pids
 * and tree records) and a tail, an image whose task section is missing:
 * the tool makes the task, restart(2) fails at the tail (the restart of
 * real images is t_restart_tools' business); badtail: notask with an
 * unknown tail type.
 */
static char image[PATH_MAX], notask[PATH_MAX], trunc100[PATH_MAX], badtail[PATH_MAX];
static char pidstr[32];

static void test_checkpoint(void)
{
	char path[PATH_MAX], gone_s[32];
	struct t_image im;
	struct run r;
	struct stat st;
	int fd;
	pid_t gone;

	fd = t_mkstemp(image, "tool");
	if (fd < 0)
		t_bail("mkstemp");
	close(fd);
	unlink(image);

	run(&r, -1, (const char *const[]){ "checkpoint", "-o", image, pidstr, NULL });
	check_run(&r, 0, NULL, NULL, "checkpoint -o FILE PID");
	run_free(&r);
	t_check(stat(image, &st) == 0 && (st.st_mode & 0777) == 0600,
		"image file mode 0600", "mode %o", st.st_mode & 0777);
	t_scan_path(image, &im);
	t_check(im.complete, "image of checkpoint -o is complete",
		"offset 0x%llx: %s", (unsigned long long)im.err.off,
		im.err.msg);

	/* Image to stdout (a file). */
	fd = t_mkstemp(path, "stdout");
	if (fd < 0)
		t_bail("mkstemp");
	r.rc = t_wait(spawn((const char *const[]){ "checkpoint", pidstr, NULL },
			    0, fd, 2));
	close(fd);
	t_scan_path(path, &im);
	t_check(r.rc == 0 && im.complete, "checkpoint PID > FILE",
		"exit %d; offset 0x%llx: %s", r.rc,
		(unsigned long long)im.err.off, im.err.msg);
	unlink(path);

	run(&r, -1, (const char *const[]){ "checkpoint", NULL });
	check_run(&r, 2, NULL, "Usage:", "checkpoint without PID: exit 2");
	run_free(&r);
	run(&r, -1, (const char *const[]){ "checkpoint", "-o", image, "abc", NULL });
	check_run(&r, 2, NULL, "invalid PID", "checkpoint abc: exit 2");
	run_free(&r);
	run(&r, -1, (const char *const[]){ "checkpoint", "-h", NULL });
	check_run(&r, 0, "--container", NULL, "checkpoint -h");
	run_free(&r);

	fflush(NULL);
	gone = fork();
	if (gone == 0)
		_exit(0);
	t_wait(gone);
	snprintf(gone_s, sizeof(gone_s), "%d", gone);
	fd = t_mkstemp(path, "gone");
	close(fd);
	run(&r, -1, (const char *const[]){ "checkpoint", "-o", path, gone_s, NULL });
	check_run(&r, 1, NULL, "No such process", "checkpoint of an exited pid: exit 1");
	run_free(&r);
	t_check(access(path, F_OK) != 0, "no empty image left behind",
		"%s exists", path);
	unlink(path);

	fd = t_mkstemp(path, "container");
	close(fd);
	run(&r, -1, (const char *const[]){ "checkpoint", "--container", "-o", path, pidstr, NULL });
	check_run(&r, 1, NULL, "Invalid argument", "checkpoint --container of a non-init: exit 1");
	run_free(&r);
	unlink(path);
}

/* Images are not written to or read from a terminal. */
static void test_terminal(void)
{
	const char *name = "checkpoint to a terminal: exit 2";
	int master, slave;
	struct run r;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		t_skip(name, "no pseudo-terminals");
		t_skip("restart from a terminal: exit 2", "no pseudo-terminals");
		return;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		t_bail("opening the pty");

	r.rc = t_wait(spawn((const char *const[]){ "checkpoint", pidstr, NULL },
			    0, slave, 2));
	t_check(r.rc == 2, name, "exit %d", r.rc);
	run(&r, slave, (const char *const[]){ "restart", NULL });
	check_run(&r, 2, NULL, "refusing to read an image from a terminal",
		  "restart from a terminal: exit 2");
	run_free(&r);
	close(slave);
	close(master);
}

static void test_kill(void)
{
	char path[PATH_MAX], pid_s[32];
	struct t_loop victim;
	struct run r;
	int fd, rc;

	if (t_loop_start(&victim))
		t_bail("starting a second child");
	snprintf(pid_s, sizeof(pid_s), "%d", victim.pid);
	fd = t_mkstemp(path, "kill");
	close(fd);
	run(&r, -1, (const char *const[]){ "checkpoint", "-k", "-o", path, pid_s, NULL });
	check_run(&r, 0, NULL, NULL, "checkpoint -k");
	run_free(&r);
	rc = t_wait(victim.pid);
	t_check(rc == 128 + SIGKILL, "checkpoint -k kills the task",
		"wait status %d", rc);
	t_loop_forget(&victim);
	unlink(path);
}

static void test_ckptinfo(void)
{
	struct t_image im;
	struct run r;
	char expect[128];
	size_t n;
	char *buf;
	int fd;

	run(&r, -1, (const char *const[]){ "ckptinfo", image, NULL });
	check_run(&r, 0, "complete image", NULL, "ckptinfo FILE");
	t_check(strstr(r.out, "0x00000000 header") && strstr(r.out, " tail ") &&
		strstr(r.out, "CKPTHEAD"), "ckptinfo prints header and tail",
		"stdout \"%.400s\"", r.out);
	run_free(&r);

	run_in(&r, image, (const char *const[]){ "ckptinfo", "-", NULL });
	check_run(&r, 0, "complete image", NULL, "ckptinfo - < FILE");
	run_free(&r);

	prefix_copy(image, 100, trunc100);
	run(&r, -1, (const char *const[]){ "ckptinfo", trunc100, NULL });
	check_run(&r, 1, NULL, "offset 0x64: ", "ckptinfo on a truncated image: exit 1, offset");
	run_free(&r);

	/* Unknown record type where the tail is. */
	t_scan_path(image, &im);
	buf = t_read_path(image, &n);
	if (!buf || !im.complete)
		t_bail("reading the image");
	((struct ckpt_hdr *)(buf + im.off[im.nr - 1]))->type = 77;
	fd = t_file_with(buf, n, O_RDONLY, badtail);
	close(fd);
	free(buf);
	snprintf(expect, sizeof(expect), "offset 0x%llx: unknown record type 77",
		 (unsigned long long)im.off[im.nr - 1]);
	run(&r, -1, (const char *const[]){ "ckptinfo", badtail, NULL });
	check_run(&r, 1, NULL, expect, "ckptinfo on an unknown record type");
	run_free(&r);
	unlink(badtail);

	/* From here on badtail is the task-less image with a bad tail. */
	if (t_head_image(notask))
		t_bail("head-and-tail image");
	t_scan_path(notask, &im);
	buf = t_read_path(notask, &n);
	if (!buf || im.nr != 3 || n < sizeof(struct ckpt_hdr_tail))
		t_bail("reading the head-and-tail image");
	((struct ckpt_hdr *)(buf + n - sizeof(struct ckpt_hdr_tail)))->type = 77;
	fd = t_file_with(buf, n, O_RDONLY, badtail);
	close(fd);
	free(buf);

	run(&r, -1, (const char *const[]){ "ckptinfo", NULL });
	check_run(&r, 2, NULL, "Usage:", "ckptinfo without FILE: exit 2");
	run_free(&r);
	run(&r, -1, (const char *const[]){ "ckptinfo", "-h", NULL });
	check_run(&r, 0, "Usage: ckptinfo", NULL, "ckptinfo -h");
	run_free(&r);
}

/* checkpoint PID | tool -: both succeed; tool's output returned. */
static void pipeline(struct run *r, const char *const argv[], int *ckpt_rc)
{
	int p[2], out = capture_fd(), err = capture_fd();
	pid_t a, b;

	if (pipe2(p, O_CLOEXEC))
		t_bail("pipe");
	a = spawn((const char *const[]){ "checkpoint", pidstr, NULL }, 0, p[1], 2);
	b = spawn(argv, p[0], out, err);
	close(p[0]);
	close(p[1]);
	*ckpt_rc = t_wait(a);
	r->rc = t_wait(b);
	r->out = slurp(out);
	r->err = slurp(err);
}

static void test_pipelines(void)
{
	struct run r;
	int rc;

	pipeline(&r, (const char *const[]){ "ckptinfo", "-", NULL }, &rc);
	t_check(rc == 0, "checkpoint PID | ckptinfo -: checkpoint", "exit %d", rc);
	check_run(&r, 0, "complete image", NULL, "checkpoint PID | ckptinfo -");
	run_free(&r);

}

static void test_restart(void)
{
	char log[PATH_MAX];
	struct run r;
	char *s;
	int fd;

	/* The task is made, restart(2) finds the tail where its section goes. */
	run(&r, -1, (const char *const[]){ "restart", "-i", notask, NULL });
	check_run(&r, 1, NULL, "Bad message", "restart -i FILE of an image's head: exit 1");
	run_free(&r);

	run_in(&r, notask, (const char *const[]){ "restart", NULL });
	check_run(&r, 1, NULL, "Bad message", "restart < FILE of an image's head: exit 1");
	run_free(&r);

	run(&r, -1, (const char *const[]){ "restart", "--no-pids", "-i", notask, NULL });
	check_run(&r, 1, NULL, "Bad message", "restart --no-pids of an image's head: exit 1");
	run_free(&r);

	run(&r, -1, (const char *const[]){ "restart", "-d", "-i", notask, NULL });
	check_run(&r, 1, NULL, "Bad message", "restart -d of an image's head: exit 1");
	run_free(&r);

	run(&r, -1, (const char *const[]){ "restart", "-i", trunc100, NULL });
	check_run(&r, 1, NULL, "restart: restart: No data available",
		  "restart of a truncated image: exit 1");
	t_check(strstr(r.err, "(error -61)\n") != NULL,
		"kernel log on stderr by default", "stderr \"%.300s\"", r.err);
	run_free(&r);

	fd = t_mkstemp(log, "log");
	close(fd);
	run(&r, -1, (const char *const[]){ "restart", "-l", log, "-i", badtail, NULL });
	check_run(&r, 1, NULL, "Bad message", "restart -l LOG of a bad image: exit 1");
	s = t_read_path(log, NULL);
	t_check(s && strstr(s, "(error -74)\n") && !strstr(r.err, "(error -74)"),
		"restart -l LOG gets the kernel log", "log \"%.300s\", stderr \"%.300s\"",
		s ? s : "", r.err);
	free(s);
	run_free(&r);
	unlink(log);

	run(&r, -1, (const char *const[]){ "restart", "-d", "-i", trunc100, NULL });
	check_run(&r, 1, NULL, "No data available", "restart -d of a truncated image: exit 1");
	run_free(&r);

	run(&r, -1, (const char *const[]){ "restart", "-i", "/nonexistent/image", NULL });
	check_run(&r, 1, NULL, "restart: /nonexistent/image: No such file or directory",
		  "restart -i missing file: exit 1");
	run_free(&r);
	run(&r, -1, (const char *const[]){ "restart", "extra", NULL });
	check_run(&r, 2, NULL, "Usage:", "restart with an argument: exit 2");
	run_free(&r);
	run(&r, -1, (const char *const[]){ "restart", "-h", NULL });
	check_run(&r, 0, "--pidfile", NULL, "restart -h");
	run_free(&r);
}

int main(void)
{
	bindir = getenv("CKPT_BINDIR");
	if (!bindir || !*bindir)
		bindir = "/bin";
	if (t_loop_start(&loop))
		t_bail("starting the counting child");
	snprintf(pidstr, sizeof(pidstr), "%d", loop.pid);

	test_checkpoint();
	test_ckptinfo();
	test_pipelines();
	test_restart();
	test_terminal();
	test_kill();

	t_loop_kill(&loop);
	unlink(image);
	unlink(notask);
	unlink(trunc100);
	unlink(badtail);
	return t_done();
}
