// SPDX-License-Identifier: GPL-2.0
/*
 * restart - restore a checkpointed task from an image
 *
 * The tool reads the image's task record to learn its pid, without taking
 * the image from restart(2), creates a child with that pid (clone3 set_tid)
 * or, with --no-pids, any pid, which calls restart(2) with RESTART_TASKSELF and,
 * on success, never returns from it: the kernel turns the child into the
 * restored task.  The parent either waits for it and passes on its exit
 * status, or (-d) reports its pid and leaves it running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/sched.h>
#include <unistd.h>

#include "ckptimg.h"
#include "ckptsys.h"

#define PROG "restart"

struct opts {
	const char *input;	/* NULL: standard input */
	const char *logfile;	/* NULL: standard error */
	const char *pidfile;
	int detach;
	int no_pids;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-i FILE] [-l LOGFILE] [-d] [--pidfile FILE] [--no-pids]\n"
		"\n"
		"Restore the task saved in a checkpoint image read from FILE or from\n"
		"standard input (a file, pipe or socket; not a terminal).  A child of\n"
		"this tool calls restart(2) and becomes the restored task.  Without -d\n"
		"the tool waits for it and exits with its exit status (128+N when it\n"
		"is killed by signal N).\n"
		"\n"
		"Options:\n"
		"  -i, --input FILE     read the image from FILE\n"
		"  -l, --logfile FILE   write the kernel's restart log to FILE instead\n"
		"                       of standard error\n"
		"  -d, --detach         do not wait: print the restored task's pid (or\n"
		"                       write it to --pidfile) and exit 0 once it runs\n"
		"      --pidfile FILE   write the restored task's pid to FILE\n"
		"      --no-pids        do not restore the original pids: the task gets\n"
		"                       a new pid in the current pid namespace (by\n"
		"                       default it gets its saved pid, which must be\n"
		"                       free, and the caller needs CAP_SYS_ADMIN; an\n"
		"                       image from a pipe or socket whose pid is in\n"
		"                       use is first read to its end, then the pid is\n"
		"                       waited for up to 10 s, for `checkpoint -k PID |\n"
		"                       restart`)\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"Exit status: without -d the restored task's status; 1 when the restart\n"
		"failed; 2 for usage errors.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_PIDFILE = 0x100, OPT_NO_PIDS };
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "no-pids", no_argument, NULL, OPT_NO_PIDS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:l:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->input = optarg;
			break;
		case 'l':
			o->logfile = optarg;
			break;
		case 'd':
			o->detach = 1;
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_NO_PIDS:
			o->no_pids = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": too many arguments\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static int default_logfd(void)
{
	int fl = fcntl(STDERR_FILENO, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return -1;
	return STDERR_FILENO;
}

/*
 * The restarting child.  restart(2) only returns when the image held no
 * task or the restart failed; then the child reports which through @syncfd
 * (0 or the errno) and exits.  When it succeeds the kernel has replaced
 * the child's file table with the restored task's, which closes @syncfd:
 * the parent sees end of file with nothing written.
 */
static void __attribute__((noreturn))
restarter(int imgfd, int logfd, int syncfd)
{
	int err = 0;

	if (sys_restart(0, imgfd, RESTART_TASKSELF, logfd) < 0)
		err = errno;
	if (syncfd >= 0)
		ckpt_write_full(syncfd, &err, sizeof(err));
	if (err) {
		fprintf(stderr, PROG ": restart: %s\n", strerror(err));
		_exit(1);
	}
	fprintf(stderr, PROG ": image holds no task\n");
	_exit(0);
}

/*
 * What the tool learns from the image before restart(2) reads it: the pid
 * of its task.  The image is not consumed: a regular file is read and its
 * offset put back, a pipe is peeked at with tee(2), and anything else (a
 * socket, a character device) is copied through a feeder pipe whose read
 * end replaces *imgfd.
 */

/* The header and the task record, which follows it. */
#define PEEK_LEN (sizeof(struct ckpt_hdr_header) + \
		  ckpt_align(sizeof(struct ckpt_hdr_task)))

/* The first task of the image on fd: 1 with *task filled, 0 if none or unreadable. */
static int scan_task(int fd, struct ckpt_hdr_task *task)
{
	struct ckpt_err err;

	return ckpt_first_task(fd, task, &err) == 1;
}

/* Peek at a regular file from its current offset, which is put back. */
static int peek_file(int fd, struct ckpt_hdr_task *task)
{
	off_t off = lseek(fd, 0, SEEK_CUR);
	int found;

	if (off < 0)
		return 0;
	found = scan_task(fd, task);
	if (lseek(fd, off, SEEK_SET) != off) {
		fprintf(stderr, PROG ": cannot rewind the image: %s\n",
			strerror(errno));
		exit(1);
	}
	return found;
}

/* Scan a buffer through a private pipe. */
static int peek_buf(const void *buf, size_t len, struct ckpt_hdr_task *task)
{
	int p[2], found;

	if (pipe2(p, O_CLOEXEC))
		return 0;
	if (ckpt_write_full(p[1], buf, len)) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	close(p[1]);
	found = scan_task(p[0], task);
	close(p[0]);
	return found;
}

/*
 * Peek at a pipe: wait until it holds the header and the task record (or
 * its writer is done), then duplicate those bytes with tee(2), which leaves
 * them in the pipe for restart(2).
 */
static int peek_pipe(int fd, struct ckpt_hdr_task *task)
{
	struct timespec tick = { 0, 2000000 };
	int p[2], avail = 0, found = 0;
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (ioctl(fd, FIONREAD, &avail) < 0)
			return 0;
		if ((size_t)avail >= PEEK_LEN || (pfd.revents & POLLHUP))
			break;
		nanosleep(&tick, NULL);	/* the writer is on its way */
	}
	if (!avail)
		return 0;
	if ((size_t)avail > PEEK_LEN)
		avail = PEEK_LEN;
	if (pipe2(p, O_CLOEXEC))
		return 0;
	n = tee(fd, p[1], avail, 0);
	close(p[1]);
	if (n > 0)
		found = scan_task(p[0], task);
	close(p[0]);
	return found;
}

/* Read the start of the stream, then feed all of it through a new pipe. */
static int peek_stream(int *imgfd, struct ckpt_hdr_task *task)
{
	unsigned char buf[PEEK_LEN];
	ssize_t n = ckpt_read_full(*imgfd, buf, sizeof(buf));
	int p[2], found;
	pid_t pid;

	if (n < 0) {
		fprintf(stderr, PROG ": reading the image: %s\n", strerror(errno));
		exit(1);
	}
	found = peek_buf(buf, n, task);
	if (pipe(p)) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		exit(1);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		char copy[65536];
		ssize_t k;

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		if (ckpt_write_full(p[1], buf, n))
			_exit(1);
		while ((k = read(*imgfd, copy, sizeof(copy))) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 || ckpt_write_full(p[1], copy, k))
				_exit(1);
		}
		_exit(0);
	}
	/* The feeder is reaped by init once the tool is gone. */
	close(p[1]);
	close(*imgfd);
	*imgfd = p[0];
	return found;
}

static int peek_task(int *imgfd, struct ckpt_hdr_task *task)
{
	struct stat st;

	if (fstat(*imgfd, &st))
		return 0;
	if (S_ISREG(st.st_mode))
		return peek_file(*imgfd, task);
	if (S_ISFIFO(st.st_mode))
		return peek_pipe(*imgfd, task);
	return peek_stream(imgfd, task);
}

/*
 * Take the rest of a streamed image into memory: the whole stream, to its
 * end, into a memfd that replaces *imgfd (its offset at 0).  0, or -1 with
 * a message printed.
 */
static int spool_image(int *imgfd)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fd = memfd_create("restart-image", MFD_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PROG ": memfd_create: %s\n", strerror(errno));
		return -1;
	}
	while ((n = read(*imgfd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || ckpt_write_full(fd, buf, n)) {
			fprintf(stderr, PROG ": taking in the image: %s\n",
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, PROG ": memfd: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	close(*imgfd);
	*imgfd = fd;
	return 0;
}

/* How long a streamed image's pid may stay in use once the image is in. */
#define PID_WAIT_MS 10000

static long clone_with_pid(pid_t want)
{
	pid_t tid = want;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};

	return syscall(SYS_clone3, &args, sizeof(args));
}

/*
 * Create the task that becomes the restored task: the one place where its
 * pid is decided.  Returns the child's pid (in the child: 0), or -1 with a
 * message printed.
 *
 * With the image's pid known and not --no-pids, clone3() with set_tid asks
 * for that pid: it must be free and the caller privileged in its pid
 * namespace, else the tool fails and suggests --no-pids.  Otherwise (or
 * for an image without a task, which restart(2) then reports) fork().
 *
 * A streamed image (pipe, socket) whose pid is in use may come from
 * `checkpoint -k PID | restart`: the task is still there while its image
 * is written, checkpoint kills it only once the image is complete, and its
 * pid is free once its parent has reaped it.  Then the tool takes in the
 * whole stream (the writer cannot finish while nobody reads it), and asks
 * for the pid again for up to PID_WAIT_MS.  An image in a regular file
 * gets no such wait.
 */
static pid_t create_task(const struct opts *o, pid_t want, int *imgfd)
{
	struct timespec tick = { 0, 10000000 };
	struct stat st;
	long pid;
	int i;

	if (o->no_pids || want <= 0) {
		pid = fork();
		if (pid < 0)
			fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return pid;
	}
	pid = clone_with_pid(want);
	if (pid >= 0)
		return pid;
	if (errno == EEXIST && !fstat(*imgfd, &st) && !S_ISREG(st.st_mode)) {
		if (spool_image(imgfd))
			return -1;
		for (i = 0; i < PID_WAIT_MS / 10; i++) {
			pid = clone_with_pid(want);
			if (pid >= 0 || errno != EEXIST)
				break;
			nanosleep(&tick, NULL);
			errno = EEXIST;
		}
		if (pid >= 0)
			return pid;
	}
	switch (errno) {
	case EEXIST:
		fprintf(stderr, PROG ": pid %d is in use; use --no-pids\n", want);
		break;
	case EPERM:
		fprintf(stderr, PROG ": restoring pid %d needs CAP_SYS_ADMIN in this pid namespace; use --no-pids\n",
			want);
		break;
	default:
		fprintf(stderr, PROG ": cannot create a task with pid %d: %s; use --no-pids\n",
			want, strerror(errno));
	}
	return -1;
}

static int write_pidfile(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f)) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int wait_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static pid_t child;

static void forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Wait for the restored task; signals meant for the tool go to it. */
static int wait_restored(const struct opts *o, pid_t pid)
{
	struct sigaction sa = { .sa_handler = forward_signal };

	child = pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A terminal's ^C and ^\ reach the child through its process group. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);

	if (o->pidfile && write_pidfile(o->pidfile, pid)) {
		kill(pid, SIGKILL);
		wait_status(pid);
		return 1;
	}
	return wait_status(pid);
}

/*
 * Whether the child became the restored task.  The child holds the write
 * end of the sync pipe, inherited without close-on-exec: when restart(2)
 * replaces its file table the kernel closes it (end of file, nothing
 * written); a child that returned from restart(2) writes its errno.  A
 * restart that fails after the task started to change is killed by the
 * kernel: end of file too, then the child is found dead.
 *
 * Returns 0 once it runs, else the tool's exit status (1).
 */
static int synced(const struct opts *o, pid_t pid, int syncfd)
{
	struct timespec moment = { 0, 100000000 };
	int err, status;
	ssize_t n;

	n = ckpt_read_full(syncfd, &err, sizeof(err));
	close(syncfd);
	if (n == sizeof(err)) {	/* the child returned from restart(2) */
		wait_status(pid);
		return err ? 1 : -1;	/* -1: no task in the image */
	}
	if (n < 0) {
		fprintf(stderr, PROG ": sync pipe: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		wait_status(pid);
		return 1;
	}
	nanosleep(&moment, NULL);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			fprintf(stderr, PROG ": restoring the task failed: it was killed (the kernel's log is in %s)\n",
				o->logfile ? o->logfile : "standard error");
		else
			fprintf(stderr, PROG ": restored task %d ended at once (status 0x%x)\n",
				pid, status);
		return 1;
	}
	return 0;
}

/* -d: return once the child is the restored task (or has given up). */
static int detach(const struct opts *o, pid_t pid, int syncfd)
{
	int rc = synced(o, pid, syncfd);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (o->pidfile) {
		if (write_pidfile(o->pidfile, pid)) {
			kill(pid, SIGKILL);
			return 1;
		}
	} else {
		printf("%d\n", pid);
		if (fflush(stdout)) {
			fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ckpt_hdr_task task;
	int imgfd, logfd, found, sync[2] = { -1, -1 };
	pid_t pid;

	if (parse_args(argc, argv, &o))
		return 2;

	if (o.input) {
		imgfd = open(o.input, O_RDONLY);
		if (imgfd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.input,
				strerror(errno));
			return 1;
		}
	} else {
		imgfd = STDIN_FILENO;
		if (isatty(imgfd)) {
			fprintf(stderr, PROG ": refusing to read an image from a terminal (use -i FILE)\n");
			return 2;
		}
	}

	if (o.logfile) {
		logfd = open(o.logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (logfd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.logfile,
				strerror(errno));
			return 1;
		}
	} else {
		logfd = default_logfd();
	}

	found = peek_task(&imgfd, &task);

	if (o.detach && pipe(sync) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return 1;
	}

	fflush(NULL);
	pid = create_task(&o, found ? task.pid : 0, &imgfd);
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (sync[0] >= 0)
			close(sync[0]);
		restarter(imgfd, logfd, sync[1]);
	}

	/* The image and the log belong to the child now. */
	close(imgfd);
	if (o.logfile)
		close(logfd);

	if (o.detach) {
		close(sync[1]);
		return detach(&o, pid, sync[0]);
	}
	return wait_restored(&o, pid);
}
