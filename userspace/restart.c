// SPDX-License-Identifier: GPL-2.0
/*
 * restart - restore a checkpointed task, or tree of tasks, from an image
 *
 * The tool reads the image's header, pids and tree records (and gives them
 * back to restart(2): see take_head()).  An image of one task: it creates
 * a task with that pid (clone3 set_tid) or, with --no-pids, any pid, which
 * calls restart(2) with RESTART_TASKSELF and, on success, never returns
 * from it: the kernel turns it into the restored task.  A tree: mktree.c
 * makes all its tasks, and the coordinator, their root's parent, calls
 * restart(2) for them (see restart_tree()).  When the pid cannot be had here (in use, or the caller may not
 * choose pids) the task gets it in a new pid namespace, owned by a new user
 * namespace for an unprivileged caller, whose first task is a small init
 * (see pidns_init()).  The tool either waits for the restored task and
 * passes on its exit status, or (-d) reports its pid and leaves it running.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/sched.h>
#include <unistd.h>

#include "ckptimg.h"
#include "ckptsys.h"
#include "mktree.h"

#define PROG "restart"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where the task gets the image's pid: struct opts.pidns */
enum { PIDNS_AUTO, PIDNS_ALWAYS, PIDNS_NEVER };

struct opts {
	const char *input;	/* NULL: standard input */
	const char *logfile;	/* NULL: standard error */
	const char *pidfile;
	int detach;
	int no_pids;
	int pidns;		/* PIDNS_*; --pidns, --no-pidns */
	int dry_run;		/* --dry-run: print what would be made */
	int check_tree;		/* --check-tree: make the tree, check, kill */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-i FILE] [-l LOGFILE] [-d] [--pidfile FILE]\n"
		"               [--pidns | --no-pidns | --no-pids] [--dry-run | --check-tree]\n"
		"\n"
		"Restore the task, or the tree of tasks, saved in a checkpoint image read\n"
		"from FILE or from standard input (a file, pipe or socket; not a\n"
		"terminal), each task with the pid it had.  One task: a task created by\n"
		"this tool calls restart(2) and becomes the restored task.  A tree: the\n"
		"tool first makes every task with its pid, as a child of its parent,\n"
		"with its exit signal, session and process group, then restart(2)\n"
		"restores them all; the root's parent, the coordinator, is the tool or\n"
		"the init of a new pid namespace (below).  Without -d the tool waits\n"
		"for the task (the tree's root) and exits with its exit status (128+N\n"
		"when it is killed by signal N); the signals TERM, INT, HUP, QUIT, USR1\n"
		"and USR2 sent to the tool go to it (those of a terminal reach it\n"
		"directly).  When a restart fails, every task it made is killed.\n"
		"\n"
		"The pids: by default the tasks get their saved pids in the tool's pid\n"
		"namespace.  When a pid is in use here, or the caller lacks\n"
		"CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) to choose pids, they get\n"
		"them in a new pid namespace instead, and the tool says so.  The first\n"
		"task of that namespace (pid 1) is then an init of the tool's, the\n"
		"restored task's (the root's) parent: it reaps the namespace's orphans,\n"
		"passes the signals above on to the restored task and exits with its\n"
		"status when it ends (the namespace ends with it, and so do the tasks\n"
		"left in it); an image whose (root's) pid is 1 makes the restored task\n"
		"itself the first task.  A caller who may not create a pid namespace\n"
		"gets one owned by a new user namespace, in which only its own uid and\n"
		"gid are mapped and the supplementary groups cannot change (setgroups\n"
		"is denied): an image with other ids or groups fails there (use\n"
		"--no-pids for a single task).  A streamed image (pipe, socket) whose\n"
		"pids are in use is first read to its end, then the pids are waited for\n"
		"up to 10 s before a new namespace is taken, for `checkpoint -k PID |\n"
		"restart`.\n"
		"\n"
		"Sessions and groups of a tree: a task may lead its session (setsid)\n"
		"or be in its parent's; lead its process group, be in its parent's, or\n"
		"in the group of another task of its session that leads it.  A task in\n"
		"the session or group the root had from outside the tree is in the\n"
		"ones the restored root is in.  Other layouts fail (\"session layout not\n"
		"supported yet\") before any task is made.\n"
		"\n"
		"Options:\n"
		"  -i, --input FILE     read the image from FILE\n"
		"  -l, --logfile FILE   write the kernel's restart log to FILE instead\n"
		"                       of standard error\n"
		"  -d, --detach         do not wait: print the restored task's (the\n"
		"                       root's) pid (as seen in the tool's pid\n"
		"                       namespace; or write it to --pidfile) and exit 0\n"
		"                       once it runs\n"
		"      --pidfile FILE   write the restored task's (the root's) pid, as\n"
		"                       seen in the tool's pid namespace, to FILE once\n"
		"                       it runs\n"
		"      --pidns          always restore in a new pid namespace\n"
		"      --no-pidns       never: fail when a saved pid cannot be had in\n"
		"                       the tool's pid namespace\n"
		"      --no-pids        do not restore the original pid: the task gets a\n"
		"                       new pid in the tool's pid namespace (one task\n"
		"                       only: restart(2) finds a tree's tasks by their\n"
		"                       pids)\n"
		"      --dry-run        read the image's header, pids and tree and print\n"
		"                       what would be made, and where; make nothing\n"
		"      --check-tree     make the tasks of the image as for a restart,\n"
		"                       check their pids, parents, groups and sessions,\n"
		"                       kill them, and exit 0 when all were as the image\n"
		"                       says; restart(2) is not called\n"
		"  -h, --help           print this help and exit\n"
		"\n"
		"Exit status: without -d the restored task's (root's) status; 1 when\n"
		"the restart failed; 2 for usage errors.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_PIDFILE = 0x100, OPT_NO_PIDS, OPT_PIDNS, OPT_NO_PIDNS,
		OPT_DRY_RUN, OPT_CHECK_TREE,
	};
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "no-pids", no_argument, NULL, OPT_NO_PIDS },
		{ "pidns", no_argument, NULL, OPT_PIDNS },
		{ "no-pidns", no_argument, NULL, OPT_NO_PIDNS },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "check-tree", no_argument, NULL, OPT_CHECK_TREE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, modes = 0;

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
			modes |= 1;
			break;
		case OPT_PIDNS:
			o->pidns = PIDNS_ALWAYS;
			modes |= 2;
			break;
		case OPT_NO_PIDNS:
			o->pidns = PIDNS_NEVER;
			modes |= 4;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_CHECK_TREE:
			o->check_tree = 1;
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
	if (o->dry_run && o->check_tree) {
		fprintf(stderr, PROG ": --dry-run and --check-tree exclude each other\n");
		usage(stderr);
		return -1;
	}
	if (modes & (modes - 1)) {
		fprintf(stderr, PROG ": --pidns, --no-pidns and --no-pids exclude each other\n");
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
 * The restarting task.  restart(2) only returns when the image held no
 * task or the restart failed; then the task reports which through @syncfd
 * (0 or the errno) and exits.  When it succeeds the kernel has replaced
 * the task's file table with the restored task's, which closes @syncfd:
 * the reader sees end of file with nothing written.  @userns: the task is
 * in a user namespace of the tool's, which maps only the caller's ids.
 */
static void __attribute__((noreturn))
restarter(int imgfd, int logfd, int syncfd, int userns)
{
	int err = 0;

	if (sys_restart(0, imgfd, RESTART_TASKSELF, logfd) < 0)
		err = errno;
	if (syncfd >= 0)
		ckpt_write_full(syncfd, &err, sizeof(err));
	if (err) {
		fprintf(stderr, PROG ": restart: %s\n", strerror(err));
		if (userns && (err == EINVAL || err == EPERM))
			fprintf(stderr, PROG ": the new user namespace maps only uid %u and gid %u and denies setgroups: an image with other ids or supplementary groups cannot be restored in it (the kernel's log names them); use --no-pids\n",
				getuid(), getgid());
		_exit(1);
	}
	fprintf(stderr, PROG ": image holds no task\n");
	_exit(0);
}

/*
 * What the tool learns from the image before restart(2) reads it: its
 * header, pids and tree records (ckpt_read_head()).  They are given back:
 * a regular file's offset is put back, anything else (a pipe, a socket, a
 * character device) is passed on through a pipe that a feeder child fills
 * with the bytes read and then the rest of the stream; its read end
 * replaces *imgfd.
 */

/* Feed buf[len], then the rest of *imgfd, through a new pipe: 0 or -1. */
static int feed(int *imgfd, const void *buf, size_t len)
{
	int p[2];
	pid_t pid;

	if (pipe(p)) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		char copy[65536];
		ssize_t k;

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		if (ckpt_write_full(p[1], buf, len))
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
	return 0;
}

/*
 * Read the head of the image and give it back.  Returns 1 with *head
 * filled, 0 when it could not be parsed (*err says why; restart(2) will
 * say it too), -1 with a message printed.  Release *head either way.
 */
static int take_head(int *imgfd, struct ckpt_head *head, struct ckpt_err *err)
{
	struct stat st;
	off_t off = -1;
	int ok;

	if (!fstat(*imgfd, &st) && S_ISREG(st.st_mode))
		off = lseek(*imgfd, 0, SEEK_CUR);
	ok = !ckpt_read_head(*imgfd, head, err);
	if (off >= 0) {
		if (lseek(*imgfd, off, SEEK_SET) != off) {
			fprintf(stderr, PROG ": cannot rewind the image: %s\n",
				strerror(errno));
			return -1;
		}
		return ok;
	}
	if (feed(imgfd, head->bytes, head->len))
		return -1;
	return ok;
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

/* Ask for the pid again until it is free, for up to PID_WAIT_MS. */
static long wait_for_pid(pid_t want)
{
	struct timespec tick = { 0, 10000000 };
	long pid = -1;
	int i;

	for (i = 0; i < PID_WAIT_MS / 10; i++) {
		pid = clone_with_pid(want);
		if (pid >= 0 || errno != EEXIST)
			break;
		nanosleep(&tick, NULL);
		errno = EEXIST;
	}
	return pid;
}

/* Whether the image comes from a pipe or socket (errno is kept). */
static int is_stream(int fd)
{
	int err = errno, ret;
	struct stat st;

	ret = !fstat(fd, &st) && !S_ISREG(st.st_mode);
	errno = err;
	return ret;
}

/*
 * Wait for pid and give the tool's status for it: its exit code, or 128+N
 * when signal N killed it.  Other children that end meanwhile are reaped:
 * an init's orphans, the feeder of a stream.
 */
static int wait_status(pid_t pid)
{
	int status;
	pid_t p;

	do {
		p = waitpid(-1, &status, 0);
		if (p < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n", strerror(errno));
			return 1;
		}
	} while (p != pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/*
 * A new pid namespace (clone_pidns()): the tool's child is its first task,
 * and when that is not the restored task, an init (pidns_init()) that
 * talks to the tool over a socket pair.
 */
struct newns {
	int on;
	int userns;	/* owned by a new user namespace */
	int ctl;	/* the tool's end or the child's of the pair; -1 */
};

static int write_proc(pid_t pid, const char *name, const char *text)
{
	size_t len = strlen(text);
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Map the caller's own uid and gid, and nothing else, into the new user
 * namespace of pid, setgroups denied: what an unprivileged caller may.
 * The image's ids are read in the caller's user namespace, so an image of
 * the caller's own task keeps its ids.
 */
static int map_ids(pid_t pid)
{
	char map[64];

	if (write_proc(pid, "setgroups", "deny"))
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", geteuid(), geteuid());
	if (write_proc(pid, "uid_map", map))
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", getegid(), getegid());
	return write_proc(pid, "gid_map", map);
}

/*
 * Create the first task of a new pid namespace, which a new user namespace
 * owns when the caller may not create a pid namespace alone.  The child
 * waits for a byte on the socket pair: the tool sends it once the user
 * namespace's maps are written.  Returns the child's pid (in the child: 0),
 * or -1 with a message printed.
 */
static pid_t clone_pidns(struct newns *ns)
{
	struct clone_args args = {
		.flags = CLONE_NEWPID,
		.exit_signal = SIGCHLD,
	};
	int sp[2], one = 1;
	char go = 'g';
	long pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		fprintf(stderr, PROG ": socketpair: %s\n", strerror(errno));
		return -1;
	}
	/* The init's report carries the restored task's pid: see init_report() */
	setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == EPERM) {
		args.flags |= CLONE_NEWUSER;
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	ns->on = 1;
	ns->userns = !!(args.flags & CLONE_NEWUSER);
	ns->ctl = pid ? sp[0] : sp[1];
	close(pid ? sp[1] : sp[0]);
	if (pid == 0) {
		if (read(ns->ctl, &go, 1) != 1)
			_exit(1);	/* the tool gave up */
		return 0;
	}
	if (pid < 0) {
		fprintf(stderr, PROG ": cannot create a new pid namespace%s: %s; use --no-pids\n",
			ns->userns ? " (in a new user namespace)" : "",
			strerror(errno));
	} else if ((ns->userns && map_ids(pid)) || write(ns->ctl, &go, 1) != 1) {
		kill(pid, SIGKILL);
		wait_status(pid);
		pid = -1;
	}
	if (pid < 0)
		close(ns->ctl);
	return pid;
}

static void pid_unavailable(pid_t want, int err)
{
	switch (err) {
	case EEXIST:
		fprintf(stderr, PROG ": pid %d is in use; use --no-pids or --pidns\n",
			want);
		break;
	case EPERM:
		fprintf(stderr, PROG ": restoring pid %d needs CAP_SYS_ADMIN in this pid namespace; use --no-pids or --pidns\n",
			want);
		break;
	default:
		fprintf(stderr, PROG ": cannot create a task with pid %d: %s; use --no-pids\n",
			want, strerror(err));
	}
}

/*
 * Create the task that becomes the restored task, or the init of its pid
 * namespace: the one place where its pid is decided.  Returns the child's
 * pid (in the child: 0), or -1 with a message printed.
 *
 * With the image's pid known and not --no-pids, clone3() with set_tid asks
 * for that pid: it must be free and the caller privileged in its pid
 * namespace.  When it is in use or the caller is not privileged, the task
 * gets it in a new pid namespace instead (clone_pidns()), which --pidns
 * asks for at once and --no-pidns forbids.  With --no-pids (or for an
 * image without a task, which restart(2) then reports) fork().
 *
 * A streamed image (pipe, socket) whose pid is in use may come from
 * `checkpoint -k PID | restart`: the task is still there while its image
 * is written, checkpoint kills it only once the image is complete, and its
 * pid is free once its parent has reaped it.  Then the tool takes in the
 * whole stream (the writer cannot finish while nobody reads it), and asks
 * for the pid again for up to PID_WAIT_MS before it takes a new pid
 * namespace.  An image in a regular file gets no such wait.
 */
static pid_t create_task(const struct opts *o, pid_t want, int *imgfd,
			 struct newns *ns)
{
	long pid;

	if (o->no_pids || want <= 0) {
		pid = fork();
		if (pid < 0)
			fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return pid;
	}
	if (o->pidns == PIDNS_ALWAYS)
		return clone_pidns(ns);
	pid = clone_with_pid(want);
	if (pid < 0 && errno == EEXIST && is_stream(*imgfd)) {
		if (spool_image(imgfd))
			return -1;
		pid = wait_for_pid(want);
	}
	if (pid >= 0)
		return pid;
	if (o->pidns == PIDNS_AUTO && (errno == EEXIST || errno == EPERM)) {
		fprintf(stderr, PROG ": pid %d %s: restoring it in a new pid namespace\n",
			want, errno == EEXIST ? "is in use here" :
			"cannot be chosen here without CAP_SYS_ADMIN");
		return clone_pidns(ns);
	}
	pid_unavailable(want, errno);
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

/* The task the tool's or the init's signals go to */
static volatile pid_t target;

static void forward(int sig, siginfo_t *si, void *uc)
{
	int err = errno;

	(void)uc;
	/*
	 * Only what a process sent: a terminal's signals (SI_KERNEL) reach
	 * the whole foreground process group, the restored task too.
	 */
	if (target > 0 && si->si_code <= 0)
		kill(target, sig);
	errno = err;
}

static void forward_signals(pid_t pid)
{
	static const int sigs[] = {
		SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
	};
	struct sigaction sa = {
		.sa_sigaction = forward,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};
	size_t i;

	target = pid;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/*
 * With -d, nobody waits for the restored task (the root of a tree): a
 * moment after restart(2) said it runs, see that it did not end at once.
 * 0, or 1 with a message and the task reaped.
 */
static int settled(const struct opts *o, pid_t pid)
{
	struct timespec moment = { 0, 100000000 };
	int status;

	if (!o->detach)
		return 0;
	nanosleep(&moment, NULL);
	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		fprintf(stderr, PROG ": restoring the task failed: it was killed (the kernel's log is in %s)\n",
			o->logfile ? o->logfile : "standard error");
	else
		fprintf(stderr, PROG ": restored task %d ended at once (status 0x%x)\n",
			pid, status);
	return 1;
}

/*
 * Whether the child became the restored task.  The child holds the write
 * end of the sync pipe, inherited without close-on-exec: when restart(2)
 * replaces its file table the kernel closes it (end of file, nothing
 * written); a child that returned from restart(2) writes its errno.  A
 * restart that fails after the task started to change is killed by the
 * kernel: end of file too, then (-d) the child is found dead; without -d
 * its status is what the tool passes on.
 *
 * Returns 0 once it runs, -1 when the image held no task, else the tool's
 * exit status (1), the child reaped.
 */
static int synced(const struct opts *o, pid_t pid, int syncfd)
{
	int err;
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
	return settled(o, pid);
}

/*
 * The init's one message to the tool: synced()'s outcome and, when 0, the
 * restored task's pid as credentials,
 * which the kernel gives the tool as seen in the tool's pid namespace.
 * Returns 0, or -1 with a message printed.
 */
static int report_to_tool(int ctl, int rc, pid_t pid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct ucred cred = { .pid = pid, .uid = getuid(), .gid = getgid() };
	struct iovec iov = { .iov_base = &rc, .iov_len = sizeof(rc) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (!rc) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cred));
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	}
	if (sendmsg(ctl, &msg, MSG_NOSIGNAL) == sizeof(rc))
		return 0;
	fprintf(stderr, PROG ": reporting to the tool: %s\n", strerror(errno));
	return -1;
}

/*
 * The tool's side: 0 with the restored task's pid in *pid, or the tool's
 * exit status as synced() gives it, the init reaped.
 */
static int init_report(pid_t init, int ctl, pid_t *pid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct ucred cred;
	int rc = 1;
	struct iovec iov = { .iov_base = &rc, .iov_len = sizeof(rc) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(ctl, &msg, 0);
	while (n < 0 && errno == EINTR);
	close(ctl);
	*pid = 0;
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
			continue;
		memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		*pid = cred.pid;
	}
	if (n == sizeof(rc) && !rc && *pid > 0)
		return 0;
	if (n != sizeof(rc) || !rc) {	/* it did not say why */
		fprintf(stderr, PROG ": the init of the new pid namespace ended without giving the restored task's pid\n");
		kill(init, SIGKILL);
		rc = 1;
	}
	wait_status(init);
	return rc;
}

/*
 * A detached init leaves the caller's terminal, and the pipe it may read
 * the tool's output from, alone.
 */
static void let_go(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	close_range(3, ~0U, 0);
}

/*
 * The end of a pid namespace init once it made the restored root (rc 0) or
 * failed: pass signals on to the root, report to the tool, and be the
 * root's parent until it ends.  rc < 0: nothing to report, exit 0.
 */
static void __attribute__((noreturn))
ns_init_finish(const struct opts *o, const struct newns *ns, int rc, pid_t root)
{
	if (!rc)
		forward_signals(root);
	if (report_to_tool(ns->ctl, rc, root) && !rc) {
		kill(root, SIGKILL);
		wait_status(root);
		rc = 1;
	}
	close(ns->ctl);
	if (rc)
		_exit(rc < 0 ? 0 : rc);
	if (o->detach)
		let_go();
	_exit(wait_status(root));
}

/*
 * The first task of a new pid namespace, when the restored task is not:
 * its init.  It creates the restored task with the image's pid, inside the
 * namespace, where it may choose pids, and once that runs reports to the
 * tool (report_to_tool()).  Then it is the restored task's parent: it
 * passes signals on to it, reaps every child of the namespace (orphans
 * come to it) and when the restored task ends exits with the status the
 * tool would give, which ends the namespace.  Until it has handlers, an
 * init gets no signal but SIGKILL and SIGSTOP from outside.
 */
static void __attribute__((noreturn))
pidns_init(const struct opts *o, pid_t want, int imgfd, int logfd,
	   const int sync[2], const struct newns *ns)
{
	int rc = 0;
	pid_t pid;

	pid = clone_with_pid(want);
	if (pid == 0) {
		close(ns->ctl);
		close(sync[0]);
		restarter(imgfd, logfd, sync[1], ns->userns);
	}
	if (pid < 0) {
		fprintf(stderr, PROG ": cannot create pid %d in the new pid namespace: %s\n",
			want, strerror(errno));
		rc = 1;
	}
	close(imgfd);
	if (o->logfile)
		close(logfd);
	close(sync[1]);
	if (!rc)
		rc = synced(o, pid, sync[0]);
	ns_init_finish(o, ns, rc, pid);
}

/*
 * Process trees (more than one task, or --check-tree): mktree.c makes the
 * tasks, the coordinator calls restart(2) for them.  Where:
 *
 * - TREE_HERE: every pid of the tree is free in the tool's pid namespace
 *   (and the tool may choose pids: the root's clone3 says): the tool
 *   coordinates, the root is its child.
 * - TREE_NEWNS: in a new pid namespace, whose init (tree_init()) is the
 *   coordinator and the root's parent, as for a single task.
 * - TREE_ROOT_INIT: the root's pid is 1 (a container's init): the root is
 *   the first task of a new pid namespace, the tool coordinates.
 */
enum tree_where { TREE_HERE, TREE_NEWNS, TREE_ROOT_INIT };

/* A pid of the tree in use here (as a task, group or session), or 0. */
static pid_t pid_busy(const struct ckpt_tree *tree)
{
	uint32_t i;

	for (i = 0; i < tree->nr_tasks; i++) {
		pid_t p = tree->tasks[i].pid;

		if (!kill(p, 0) || errno != ESRCH ||
		    !kill(-p, 0) || errno != ESRCH)
			return p;
	}
	return 0;
}

/* Ask until the tree's pids are free, for up to PID_WAIT_MS. */
static pid_t wait_for_pids(const struct ckpt_tree *tree)
{
	struct timespec tick = { 0, 10000000 };
	pid_t busy = pid_busy(tree);
	int i;

	for (i = 0; busy && i < PID_WAIT_MS / 10; i++) {
		nanosleep(&tick, NULL);
		busy = pid_busy(tree);
	}
	return busy;
}

static const char *sig_name(uint32_t sig)
{
	static char buf[16];

	if (ckpt_signal_name(sig))
		return ckpt_signal_name(sig);
	snprintf(buf, sizeof(buf), sig ? "signal %u" : "no signal", sig);
	return buf;
}

/* --dry-run: what would be made, and where. */
static int print_plan(const struct ckpt_tree *tree, enum tree_where where)
{
	static const char *const wheres[] = {
		[TREE_HERE] = "in the tool's pid namespace, coordinated by the tool (a new pid namespace if the tool may not choose pids)",
		[TREE_NEWNS] = "in a new pid namespace, coordinated by its init",
		[TREE_ROOT_INIT] = "as the first task of a new pid namespace (pid 1), coordinated by the tool",
	};
	pid_t *first;	/* the group each task is in after phase 1, 0 outside */
	uint32_t i;

	first = calloc(tree->nr_tasks, sizeof(*first));
	if (!first) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		return 1;
	}
	printf("%u tasks, %s\n", tree->nr_tasks, wheres[where]);
	for (i = 0; i < tree->nr_tasks; i++) {
		const struct ckpt_tree_task *t = &tree->tasks[i];

		if (t->sid_task == (int)i || t->pgid_task == (int)i)
			first[i] = t->pid;
		else
			first[i] = i ? first[t->parent] : 0;

		printf("task %u: pid %d, ", i, t->pid);
		if (i)
			printf("child of task %d (pid %d), exit signal %s", t->parent,
			       t->ppid, sig_name(t->exit_signal));
		else
			printf("child of the coordinator, exit signal SIGCHLD");
		if (t->sid_task == (int)i)
			printf("; setsid()");
		else if (t->pgid_task == (int)i)
			printf("; setpgid(0, 0)");
		else if (t->pgid_task >= 0 && t->pgid != first[i])
			printf("; joins group %d once all tasks exist", t->pgid);
		printf("; session %s", t->sid ? "" : "from outside");
		if (t->sid)
			printf("%d", t->sid);
		printf(", group %s", t->pgid ? "" : "from outside");
		if (t->pgid)
			printf("%d", t->pgid);
		putchar('\n');
	}
	free(first);
	return fflush(stdout) ? 1 : 0;
}

/*
 * The init of a new pid namespace as the tree's coordinator: it makes the
 * root, its child, coordinates the restart, reports to the tool as the
 * single task's init does (report_to_tool()) and then lives as that init
 * does with the root as its task: when the root ends, the init exits with
 * its status and the namespace, with the tasks left in it, ends.
 */
static void __attribute__((noreturn))
tree_init(const struct opts *o, const struct ckpt_tree *tree, int imgfd,
	  int logfd, const struct newns *ns)
{
	struct mktree mt;
	pid_t root = -1;
	int rc = 1;

	/* Until the tree runs, the tool's end is the init's. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!mktree_init(&mt, tree, imgfd, logfd)) {
		mt.coord = getpid();
		mt.userns = ns->userns;
		mt.check_only = o->check_tree;
		root = mktree_clone(&mt, 0);
		if (root == 0)
			mktree_task(&mt, 0);
		if (root < 0) {
			fprintf(stderr, PROG ": cannot create pid %d in the new pid namespace: %s\n",
				tree->tasks[0].pid, strerror(errno));
			close(mt.status[0]);
			close(mt.status[1]);
			close(mt.go[0]);
			close(mt.go[1]);
		} else {
			rc = mktree_coordinate(&mt, root);
		}
	}
	close(imgfd);
	if (o->logfile)
		close(logfd);
	if (!rc && o->check_tree)
		rc = -1;	/* checked and gone: nothing to report */
	if (!rc)
		rc = settled(o, root);
	prctl(PR_SET_PDEATHSIG, 0);
	ns_init_finish(o, ns, rc, root);
}

/*
 * Make the tree in the tool's pid namespace (TREE_HERE) or as a new one's
 * first task (TREE_ROOT_INIT), the tool coordinating.  Returns 0 with the
 * root's pid in *root once the tree runs, 1 on failure (message printed),
 * -EEXIST when a pid of the tree is taken here (TREE_HERE, --pidns not
 * refused: the caller tries a new pid namespace).
 */
static int tree_here(const struct opts *o, const struct ckpt_tree *tree,
		     int imgfd, int logfd, enum tree_where where, pid_t *root)
{
	struct newns ns = { .ctl = -1 };
	struct mktree mt;
	long pid;
	int rc = 1;

	if (mktree_init(&mt, tree, imgfd, logfd))
		return 1;
	mt.check_only = o->check_tree;
	mt.quiet_eexist = o->pidns == PIDNS_AUTO;
	fflush(NULL);
	if (where == TREE_ROOT_INIT) {
		mt.coord = 0;	/* outside the root's namespace */
		pid = clone_pidns(&ns);
		mt.userns = ns.userns;
		if (pid == 0)
			mktree_task(&mt, 0);
		if (pid > 0)
			close(ns.ctl);
	} else {
		mt.coord = getpid();
		pid = mktree_clone(&mt, 0);
		if (pid == 0)
			mktree_task(&mt, 0);
		if (pid < 0) {
			rc = errno;
			if (o->pidns == PIDNS_AUTO && (rc == EEXIST || rc == EPERM))
				rc = -EEXIST;
			else
				fprintf(stderr, PROG ": cannot create the root task with pid %d: %s%s\n",
					tree->tasks[0].pid, strerror(rc),
					rc == EEXIST || rc == EPERM ?
					"; use --pidns" : "");
		}
	}
	if (pid < 0) {
		close(mt.status[0]);
		close(mt.status[1]);
		close(mt.go[0]);
		close(mt.go[1]);
		return where == TREE_HERE && rc == -EEXIST ? -EEXIST : 1;
	}
	*root = pid;
	rc = mktree_coordinate(&mt, pid);
	if (!rc && o->check_tree)
		return -1;
	if (!rc)
		rc = settled(o, pid);
	return rc;
}

/* The task, or the tree's root, runs: -d reports it, else wait for it. */
static int run_on(const struct opts *o, pid_t child, pid_t restored)
{
	/* Signals for the restored task: only now that it is one */
	if (!o->detach)
		forward_signals(child);
	if (o->pidfile && write_pidfile(o->pidfile, restored)) {
		kill(restored, SIGKILL);
		if (!o->detach)
			wait_status(child);
		return 1;
	}
	if (!o->detach)
		return wait_status(child);
	if (!o->pidfile) {
		printf("%d\n", restored);
		if (fflush(stdout)) {
			fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int restart_tree(const struct opts *o, const struct ckpt_tree *tree,
			int imgfd, int logfd)
{
	enum tree_where where = TREE_HERE;
	struct newns ns = { .ctl = -1 };
	pid_t busy, pid, restored;
	struct ckpt_err err;
	int rc;

	if (o->no_pids) {
		fprintf(stderr, PROG ": a tree image needs its pids: restart(2) finds its %u tasks by them (--no-pids)\n",
			tree->nr_tasks);
		return 1;
	}
	if (ckpt_tree_layout(tree, &err)) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	if (tree->tasks[0].pid == 1) {
		if (o->pidns == PIDNS_NEVER) {
			fprintf(stderr, PROG ": the root task's pid is 1: it is restored as the first task of a new pid namespace (--no-pidns)\n");
			return 1;
		}
		where = TREE_ROOT_INIT;
	} else if (o->pidns == PIDNS_ALWAYS) {
		where = TREE_NEWNS;
	} else {
		busy = pid_busy(tree);
		/* `checkpoint -k ROOT | restart`: see create_task() */
		if (busy && is_stream(imgfd) && !o->dry_run) {
			if (spool_image(&imgfd))
				return 1;
			busy = wait_for_pids(tree);
		}
		if (busy && o->pidns == PIDNS_NEVER) {
			fprintf(stderr, PROG ": pid %d of the tree is in use; use --pidns\n",
				busy);
			return 1;
		}
		if (busy) {
			fprintf(stderr, PROG ": pid %d is in use here: restoring the tree in a new pid namespace\n",
				busy);
			where = TREE_NEWNS;
		}
	}
	if (o->dry_run)
		return print_plan(tree, where);

	if (where != TREE_NEWNS) {
		rc = tree_here(o, tree, imgfd, logfd, where, &pid);
		if (rc != -EEXIST) {
			if (rc)
				return rc < 0 ? 0 : rc;
			close(imgfd);
			if (o->logfile)
				close(logfd);
			return run_on(o, pid, pid);
		}
		fprintf(stderr, PROG ": the pids of the tree cannot all be had here: restoring it in a new pid namespace\n");
	}
	fflush(NULL);
	pid = clone_pidns(&ns);
	if (pid < 0)
		return 1;
	if (pid == 0)
		tree_init(o, tree, imgfd, logfd, &ns);
	close(imgfd);
	if (o->logfile)
		close(logfd);
	rc = init_report(pid, ns.ctl, &restored);
	if (rc)
		return rc < 0 ? 0 : rc;
	return run_on(o, pid, restored);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ckpt_head head;
	struct ckpt_err err;
	struct newns ns = { .ctl = -1 };
	int imgfd, logfd, rc, init, sync[2], have;
	pid_t want, pid, restored;

	if (parse_args(argc, argv, &o))
		return 2;
	/* An inherited SIG_IGN would reap the tasks the tool waits for */
	signal(SIGCHLD, SIG_DFL);

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

	have = take_head(&imgfd, &head, &err);
	if (have < 0)
		return 1;
	if (!have && (o.dry_run || o.check_tree)) {
		fprintf(stderr, PROG ": %s: offset 0x%llx: %s\n",
			o.input ? o.input : "<stdin>",
			(unsigned long long)err.off, err.msg);
		return 1;
	}
	if (have && (head.tree.nr_tasks > 1 || o.check_tree)) {
		rc = restart_tree(&o, &head.tree, imgfd, logfd);
		ckpt_head_release(&head);
		return rc;
	}
	/*
	 * One task: restart(2) with RESTART_TASKSELF in a task of the tool's.
	 * An image the tool cannot parse goes the same way, with no pid to
	 * ask for: restart(2) says what is wrong with it.
	 */
	want = have ? head.tree.tasks[0].pid : 0;
	ckpt_head_release(&head);
	if (o.dry_run) {
		printf("1 task, pid %d: restarted alone (RESTART_TASKSELF) in a task of the tool's\n",
		       want);
		return fflush(stdout) ? 1 : 0;
	}

	if (pipe(sync) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return 1;
	}

	fflush(NULL);
	pid = create_task(&o, want, &imgfd, &ns);
	if (pid < 0)
		return 1;
	/* An image whose pid is 1 is restored as the namespace's first task */
	init = ns.on && want != 1;
	if (pid == 0) {
		if (init)
			pidns_init(&o, want, imgfd, logfd, sync, &ns);
		if (ns.on)
			close(ns.ctl);
		close(sync[0]);
		restarter(imgfd, logfd, sync[1], ns.userns);
	}

	/* The image and the log belong to the child now. */
	close(imgfd);
	if (o.logfile)
		close(logfd);
	close(sync[1]);
	restored = pid;
	if (init) {
		close(sync[0]);
		rc = init_report(pid, ns.ctl, &restored);
	} else {
		if (ns.on)
			close(ns.ctl);
		rc = synced(&o, pid, sync[0]);
	}
	if (rc)
		return rc < 0 ? 0 : rc;
	return run_on(&o, pid, restored);
}
