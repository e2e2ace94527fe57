// SPDX-License-Identifier: GPL-2.0
/*
 * restart - restore a checkpointed task from an image
 *
 * The tool creates a child that calls restart(2) with RESTART_TASKSELF and,
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
#include <sys/wait.h>
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
		"                       a new pid in the current pid namespace\n"
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
 * Create the task that becomes the restored task: the one place where its
 * pid and pid namespace are decided.  Returns the child's pid in the
 * caller's namespace (in the child: 0), or -1 with errno set.
 *
 * A plain fork() for now, which is what --no-pids means.  Restoring the
 * original pid replaces it with clone3() with set_tid = the saved pid,
 * in a new pid namespace when that pid is not free here; o->no_pids keeps
 * the fork().
 */
static pid_t create_task(const struct opts *o)
{
	(void)o->no_pids;
	return fork();
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

/* -d: return once the child is the restored task (or has given up). */
static int detach(const struct opts *o, pid_t pid, int syncfd)
{
	ssize_t n;
	int err;

	n = ckpt_read_full(syncfd, &err, sizeof(err));
	close(syncfd);
	if (n == sizeof(err))	/* the child returned from restart(2) */
		return wait_status(pid);
	if (n < 0) {
		fprintf(stderr, PROG ": sync pipe: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		wait_status(pid);
		return 1;
	}
	if (waitpid(pid, &err, WNOHANG) == pid) {
		fprintf(stderr, PROG ": restored task %d ended at once\n", pid);
		return 1;
	}

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
	int imgfd, logfd, sync[2] = { -1, -1 };
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

	if (o.detach && pipe(sync) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return 1;
	}

	fflush(NULL);
	pid = create_task(&o);
	if (pid < 0) {
		fprintf(stderr, PROG ": creating the task: %s\n",
			strerror(errno));
		return 1;
	}
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
