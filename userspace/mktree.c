// SPDX-License-Identifier: GPL-2.0
/*
 * mktree: make the tasks of an image's tree for restart(2) (see mktree.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "ckptsys.h"
#include "mktree.h"

#define PROG "restart"

/* How long the coordinator waits for a word from the tasks. */
#define QUIET_MS	60000
/* How long it waits for the tasks to end after it killed them. */
#define KILL_WAIT_MS	10000
/* How long a failed restart(2) waits for a task to say why it refused it. */
#define JOIN_WAIT_MS	200
/* How often a task waiting for phase 2 looks for a dead child. */
#define CHILD_POLL_MS	100

/* What a task tells the coordinator: struct task_msg.what */
enum {
	MSG_CREATED = 1,	/* its children exist: ready for phase 2 */
	MSG_READY,		/* set up: about to join restart(2) */
	MSG_SETSID,		/* setsid() failed */
	MSG_SETPGID,		/* setpgid() failed */
	MSG_CLONE,		/* task idx could not be created */
	MSG_PDEATH,		/* prctl(PR_SET_PDEATHSIG) failed */
	MSG_CHILD_DIED,		/* child idx ended before the restart */
	MSG_JOIN,		/* restart(0, -1, 0, -1) returned */
};

/* One write, shorter than PIPE_BUF: atomic. */
struct task_msg {
	int32_t idx;		/* the task it is about */
	int32_t what;
	int32_t err;		/* errno, or the wait status of MSG_CHILD_DIED */
	int32_t pid, ppid, pgid, sid;	/* MSG_READY: as the task sees them */
};

int mktree_init(struct mktree *mt, const struct ckpt_tree *tree, int imgfd,
		int logfd)
{
	memset(mt, 0, sizeof(*mt));
	mt->tree = tree;
	mt->imgfd = imgfd;
	mt->logfd = logfd;
	mt->rootfd = -1;
	if (pipe2(mt->status, O_CLOEXEC) == 0) {
		if (pipe2(mt->go, O_CLOEXEC) == 0)
			return 0;
		close(mt->status[0]);
		close(mt->status[1]);
	}
	fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
	return -1;
}

long mktree_clone(const struct mktree *mt, unsigned int i)
{
	const struct ckpt_tree_task *t = &mt->tree->tasks[i];
	pid_t tid = t->pid;
	struct clone_args args = {
		.exit_signal = i ? t->exit_signal : SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};

	return syscall(SYS_clone3, &args, sizeof(args));
}

/* Tasks */

static void say(const struct mktree *mt, unsigned int idx, int what, int err)
{
	struct task_msg m = { .idx = idx, .what = what, .err = err };

	if (what == MSG_READY) {
		m.pid = getpid();
		m.ppid = getppid();
		m.pgid = getpgid(0);
		m.sid = getsid(0);
	}
	ckpt_write_full(mt->status[1], &m, sizeof(m));
}

static void __attribute__((noreturn))
task_fail(const struct mktree *mt, unsigned int idx, int what, int err)
{
	say(mt, idx, what, err);
	_exit(1);
}

/* Keep only the standard streams and the task's ends of the pipes. */
static void task_fds(const struct mktree *mt)
{
	int a = mt->status[1], b = mt->go[0];
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

/*
 * Phase 1 is done: wait for the coordinator to close the go pipe.  A child
 * that ends meanwhile (killed from outside: the tree cannot be made) is
 * reported; children with exit signal 0 send no SIGCHLD, so look for them.
 */
static void wait_go(const struct mktree *mt, unsigned int i)
{
	const struct ckpt_tree *tree = mt->tree;
	struct pollfd pfd = { .fd = mt->go[0], .events = POLLIN };
	char c;

	for (;;) {
		int status;
		pid_t pid;
		uint32_t k;

		if (poll(&pfd, 1, CHILD_POLL_MS) > 0) {
			if (read(mt->go[0], &c, 1) == 0)
				return;	/* closed: go */
			continue;
		}
		pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid <= 0)
			continue;
		for (k = i + 1; k < tree->nr_tasks; k++)
			if (tree->tasks[k].parent == (int)i &&
			    tree->tasks[k].pid == pid)
				break;
		task_fail(mt, k < tree->nr_tasks ? k : i, MSG_CHILD_DIED,
			  status);
	}
}

void mktree_task(struct mktree *mt, unsigned int i)
{
	const struct ckpt_tree *tree = mt->tree;
	const struct ckpt_tree_task *t = &tree->tasks[i];
	pid_t parent = i ? t->ppid : mt->coord;
	uint32_t k;

	task_fds(mt);
	close(mt->status[0]);
	close(mt->go[1]);
	/* Die with the parent, until restart(2) gives the image's signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		task_fail(mt, i, MSG_PDEATH, errno);
	if (getppid() != parent)
		_exit(1);	/* the parent is gone: so is the restart */

	if (t->sid_task == (int)i) {
		if (setsid() < 0)
			task_fail(mt, i, MSG_SETSID, errno);
	} else if (t->pgid_task == (int)i) {
		if (setpgid(0, 0))
			task_fail(mt, i, MSG_SETPGID, errno);
	}
	for (k = i + 1; k < tree->nr_tasks; k++) {
		long pid;

		if (tree->tasks[k].parent != (int)i)
			continue;
		pid = mktree_clone(mt, k);
		if (pid == 0)
			mktree_task(mt, k);
		if (pid < 0)
			task_fail(mt, k, MSG_CLONE, errno);
	}
	say(mt, i, MSG_CREATED, 0);
	wait_go(mt, i);

	/* Phase 2: every group exists now; join the one of another task. */
	if (t->pgid_task >= 0 && t->pgid_task != (int)i &&
	    getpgid(0) != t->pgid && setpgid(0, t->pgid))
		task_fail(mt, i, MSG_SETPGID, errno);
	close(mt->go[0]);
	say(mt, i, MSG_READY, 0);
	if (mt->check_only) {
		for (;;)
			pause();	/* the coordinator kills the tree */
	}
	sys_restart(0, -1, 0, -1);
	/* Only a restart(2) that refused the task returns to it. */
	task_fail(mt, i, MSG_JOIN, errno);
}

/* The coordinator */

static void task_name(char *buf, size_t n, const struct mktree *mt,
		      unsigned int idx)
{
	if (idx < mt->tree->nr_tasks)
		snprintf(buf, n, "task %u (pid %d)", idx,
			 mt->tree->tasks[idx].pid);
	else
		snprintf(buf, n, "task %u", idx);
}

/* Print what went wrong in a task; -EEXIST for a quiet pid in use. */
static int task_failed(const struct mktree *mt, const struct task_msg *m)
{
	char name[64];

	task_name(name, sizeof(name), mt, m->idx);
	switch (m->what) {
	case MSG_SETSID:
		fprintf(stderr, PROG ": %s: setsid: %s\n", name, strerror(m->err));
		break;
	case MSG_SETPGID:
		fprintf(stderr, PROG ": %s: setpgid: %s\n", name, strerror(m->err));
		break;
	case MSG_PDEATH:
		fprintf(stderr, PROG ": %s: prctl(PR_SET_PDEATHSIG): %s\n", name,
			strerror(m->err));
		break;
	case MSG_CLONE:
		if (m->err == EEXIST && mt->quiet_eexist)
			return -EEXIST;
		fprintf(stderr, PROG ": cannot create %s: clone3: %s%s\n", name,
			strerror(m->err), m->err == EEXIST ?
			" (the pid is in use: use --pidns)" : "");
		break;
	case MSG_CHILD_DIED:
		if (WIFSIGNALED(m->err))
			fprintf(stderr, PROG ": %s was killed by signal %d before the restart\n",
				name, WTERMSIG(m->err));
		else
			fprintf(stderr, PROG ": %s ended before the restart (status 0x%x)\n",
				name, m->err);
		break;
	case MSG_JOIN:
		fprintf(stderr, PROG ": %s: restart(0, -1, 0, -1): %s\n", name,
			strerror(m->err));
		break;
	default:
		fprintf(stderr, PROG ": %s: unknown message %d\n", name, m->what);
	}
	return 1;
}

/* A task's report against the image: 0, or 1 with a message. */
static int check_task(const struct mktree *mt, const struct task_msg *m,
		      const struct task_msg *root)
{
	const struct ckpt_tree_task *t = &mt->tree->tasks[m->idx];
	pid_t pgid = t->pgid ? t->pgid : root->pgid;
	pid_t sid = t->sid ? t->sid : root->sid;
	char name[64];

	task_name(name, sizeof(name), mt, m->idx);
	if (m->pid != t->pid || (m->idx && m->ppid != t->ppid) ||
	    m->pgid != pgid || m->sid != sid) {
		fprintf(stderr, PROG ": %s is pid %d, child of %d, in group %d and session %d; the image says pid %d, child of %d, group %d, session %d\n",
			name, m->pid, m->ppid, m->pgid, m->sid, t->pid,
			m->idx ? t->ppid : m->ppid, pgid, sid);
		return 1;
	}
	return 0;
}

/*
 * Read one message.  Returns 1 with *m, 0 when every task is gone (end of
 * file), -1 when the root ended, -2 after ms milliseconds without a word.
 */
static int next_msg(const struct mktree *mt, struct task_msg *m, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = mt->status[0], .events = POLLIN },
		{ .fd = mt->rootfd, .events = POLLIN },
	};
	ssize_t n;
	int r;

	do
		r = poll(pfd, mt->rootfd >= 0 ? 2 : 1, ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -2;
	if (r < 0 || !(pfd[0].revents & (POLLIN | POLLHUP)))
		return -1;	/* the root ended, nothing more to read */
	n = ckpt_read_full(mt->status[0], m, sizeof(*m));
	if (n == sizeof(*m) && m->idx >= 0)
		return 1;
	return 0;
}

/* Wait up to KILL_WAIT_MS for every task to close its status pipe. */
static void wait_tasks_gone(const struct mktree *mt)
{
	struct timespec t0, t;
	struct task_msg m;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = mt->status[0], .events = POLLIN };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= KILL_WAIT_MS ||
		    poll(&pfd, 1, KILL_WAIT_MS - ms) <= 0 ||
		    read(mt->status[0], &m, sizeof(m)) <= 0)
			break;
	}
}

/*
 * Kill every task the tool made: the root, and with it (parent death
 * signal, down the tree) every task restart(2) did not adopt; those it
 * adopted it killed itself.  Then reap the root.
 */
static void kill_tree(struct mktree *mt)
{
	int status;

	if (syscall(SYS_pidfd_send_signal, mt->rootfd, SIGKILL, NULL, 0))
		kill(mt->root, SIGKILL);
	wait_tasks_gone(mt);
	while (waitpid(mt->root, &status, __WALL) < 0 && errno == EINTR)
		;
}

int mktree_coordinate(struct mktree *mt, pid_t root)
{
	const struct ckpt_tree *tree = mt->tree;
	struct task_msg m, *ready;
	uint32_t created = 0, nready = 0, i;
	int rc = 1, r;

	mt->root = root;
	close(mt->status[1]);
	close(mt->go[0]);
	mt->rootfd = syscall(SYS_pidfd_open, root, 0);
	ready = calloc(tree->nr_tasks, sizeof(*ready));
	if (!ready) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		goto fail;
	}
	while (nready < tree->nr_tasks) {
		r = next_msg(mt, &m, QUIET_MS);
		if (r <= 0) {
			fprintf(stderr, PROG ": %s\n", r == -2 ?
				"the tasks of the tree made no progress for 60 s" :
				"the tasks of the tree ended before they were set up");
			goto fail;
		}
		if ((uint32_t)m.idx >= tree->nr_tasks) {
			fprintf(stderr, PROG ": message about task %d of %u\n",
				m.idx, tree->nr_tasks);
			goto fail;
		}
		switch (m.what) {
		case MSG_CREATED:
			if (++created == tree->nr_tasks) {
				close(mt->go[1]);	/* phase 2 */
				mt->go[1] = -1;
			}
			break;
		case MSG_READY:
			ready[m.idx] = m;
			nready++;
			break;
		default:
			rc = task_failed(mt, &m);
			goto fail;
		}
	}
	for (i = 0; i < tree->nr_tasks; i++)
		if (check_task(mt, &ready[i], &ready[0]))
			goto fail;
	free(ready);
	ready = NULL;

	if (mt->check_only) {
		printf("%u tasks made as the image says\n", tree->nr_tasks);
		fflush(stdout);
		kill_tree(mt);
		rc = 0;
		goto out;
	}
	if (sys_restart(root, mt->imgfd, 0, mt->logfd) < 0) {
		int err = errno;

		fprintf(stderr, PROG ": restart: %s\n", strerror(err));
		if (mt->userns && (err == EINVAL || err == EPERM))
			fprintf(stderr, PROG ": the new user namespace maps only uid %u and gid %u and denies setgroups: an image with other ids or supplementary groups cannot be restored in it (the kernel's log names them); use --no-pidns as a privileged user\n",
				getuid(), getgid());
		/*
		 * A task that restart(2) refused at once says why; the others
		 * wait in it to be adopted, until they are killed.
		 */
		while ((r = next_msg(mt, &m, JOIN_WAIT_MS)) == 1 &&
		       m.what != MSG_JOIN)
			;
		if (r == 1 && (uint32_t)m.idx < tree->nr_tasks)
			task_failed(mt, &m);
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	free(ready);
	kill_tree(mt);
	if (rc == 0)
		rc = 1;
out:
	if (mt->go[1] >= 0)
		close(mt->go[1]);
	close(mt->status[0]);
	if (mt->rootfd >= 0)
		close(mt->rootfd);
	return rc;
}
