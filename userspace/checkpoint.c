// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint - save a running task tree into an image
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckptsys.h"

#define PROG "checkpoint"

struct opts {
	const char *output;	/* NULL: standard output */
	const char *logfile;	/* NULL: standard error */
	int kill;
	int container;
	pid_t pid;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-o FILE] [-k] [-l LOGFILE] [--container] PID\n"
		"\n"
		"Checkpoint the task tree rooted at PID with checkpoint(2) and write the\n"
		"image to FILE, or to standard output (a file, pipe or socket; not a\n"
		"terminal).  The tree keeps running unless -k is given.\n"
		"\n"
		"Options:\n"
		"  -o, --output FILE    write the image to FILE (created mode 0600,\n"
		"                       truncated) instead of standard output\n"
		"  -k, --kill           kill the tree (PID and all its descendants,\n"
		"                       SIGKILL) after a successful checkpoint\n"
		"  -l, --logfile FILE   write the kernel's checkpoint log to FILE\n"
		"                       instead of standard error\n"
		"      --container      container mode: PID must be the init of its pid\n"
		"                       namespace and references to resources outside\n"
		"                       the tree are errors (default: subtree mode,\n"
		"                       CHECKPOINT_SUBTREE)\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"Exit status: 0 on success, 1 when the checkpoint failed, 2 for usage\n"
		"errors.\n");
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_CONTAINER = 0x100 };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "kill", no_argument, NULL, 'k' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "container", no_argument, NULL, OPT_CONTAINER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:kl:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'k':
			o->kill = 1;
			break;
		case 'l':
			o->logfile = optarg;
			break;
		case OPT_CONTAINER:
			o->container = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\n",
			optind == argc ? "missing PID" : "too many arguments");
		usage(stderr);
		return -1;
	}
	if (parse_pid(argv[optind], &o->pid)) {
		fprintf(stderr, PROG ": invalid PID: %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Where the kernel's log goes by default: stderr, if it can take it. */
static int default_logfd(void)
{
	int fl = fcntl(STDERR_FILENO, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return -1;
	return STDERR_FILENO;
}

/*
 * -k: kill the tree that was saved, the root and all its descendants.
 *
 * The tree runs again once checkpoint(2) returns, so it is first stopped
 * from the root down: SIGSTOP to the root (through a pidfd opened before
 * the checkpoint, so that its pid cannot be another task's by now), then
 * to every task whose parent is a stopped task, found in /proc, until a
 * pass over /proc finds no new one (a task may have forked just before it
 * stopped).  A stopped task neither forks nor reaps, so the pids of its
 * children stay theirs, zombies included, until the SIGKILLs that
 * follow.  What remains racy: a task of the tree whose parent ignores
 * SIGCHLD is reaped by the kernel when it exits, and its pid may be taken
 * by an unrelated task before it is signalled; and tasks that left the
 * tree (a daemon reparented to init) are not found.
 */
struct pidset {
	pid_t *pids;
	size_t nr, max;
};

static int pidset_has(const struct pidset *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->pids[i] == pid)
			return 1;
	return 0;
}

static int pidset_add(struct pidset *s, pid_t pid)
{
	if (s->nr == s->max) {
		size_t n = s->max ? 2 * s->max : 64;
		pid_t *p = realloc(s->pids, n * sizeof(*p));

		if (!p)
			return -1;
		s->pids = p;
		s->max = n;
	}
	s->pids[s->nr++] = pid;
	return 0;
}

/* The parent of pid from /proc/PID/stat, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold anything */
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * Stop the descendants of the stopped tasks in *s, adding them to it, until
 * none is new.  0, or -1 with errno.
 */
static int stop_descendants(struct pidset *s)
{
	size_t before;

	do {
		struct dirent *d;
		DIR *dir;

		before = s->nr;
		dir = opendir("/proc");
		if (!dir)
			return -1;
		while ((d = readdir(dir))) {
			char *end;
			long pid = strtol(d->d_name, &end, 10);

			if (*end || pid <= 0 || pidset_has(s, pid) ||
			    !pidset_has(s, parent_of(pid)))
				continue;
			if (pidset_add(s, pid)) {
				closedir(dir);
				errno = ENOMEM;
				return -1;
			}
			kill(pid, SIGSTOP);
		}
		closedir(dir);
	} while (s->nr != before);
	return 0;
}

static int kill_tree(pid_t root, int rootfd)
{
	struct pidset s = { 0 };
	size_t i;
	int ret = 0;

	if (rootfd >= 0 ?
	    syscall(SYS_pidfd_send_signal, rootfd, SIGSTOP, NULL, 0) :
	    kill(root, SIGSTOP)) {
		fprintf(stderr, PROG ": kill pid %d: %s\n", root, strerror(errno));
		return -1;
	}
	if (pidset_add(&s, root) || stop_descendants(&s)) {
		fprintf(stderr, PROG ": finding the tasks of the tree of pid %d: %s; killing pid %d alone\n",
			root, strerror(errno), root);
		ret = -1;
	}
	if (rootfd >= 0)
		syscall(SYS_pidfd_send_signal, rootfd, SIGKILL, NULL, 0);
	else
		kill(root, SIGKILL);
	for (i = 1; i < s.nr; i++)
		kill(s.pids[i], SIGKILL);
	free(s.pids);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	unsigned long flags;
	int fd, logfd, rootfd = -1, ret = 1;

	if (parse_args(argc, argv, &o))
		return 2;

	if (o.output) {
		fd = open(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.output,
				strerror(errno));
			return 1;
		}
	} else {
		fd = STDOUT_FILENO;
		if (isatty(fd)) {
			fprintf(stderr, PROG ": refusing to write an image to a terminal (use -o FILE)\n");
			return 2;
		}
	}

	if (o.logfile) {
		logfd = open(o.logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
		if (logfd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o.logfile,
				strerror(errno));
			goto out_fd;
		}
	} else {
		logfd = default_logfd();
	}

	/* -k: the root, as it is now, whatever becomes of its pid */
	rootfd = o.kill ? syscall(SYS_pidfd_open, o.pid, 0) : -1;

	flags = o.container ? 0 : CHECKPOINT_SUBTREE;
	if (sys_checkpoint(o.pid, fd, flags, logfd) < 0) {
		struct stat st;
		int err = errno;

		fprintf(stderr, PROG ": pid %d: %s\n", o.pid, strerror(err));
		/* Nothing written: do not leave an empty image behind. */
		if (o.output && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
		    st.st_size == 0)
			unlink(o.output);
		goto out_log;
	}

	if (o.kill && kill_tree(o.pid, rootfd))
		goto out_log;
	ret = 0;

out_log:
	if (rootfd >= 0)
		close(rootfd);
	if (o.logfile)
		close(logfd);
out_fd:
	if (o.output && close(fd) < 0 && ret == 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.output, strerror(errno));
		ret = 1;
	}
	return ret;
}
