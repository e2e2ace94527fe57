// SPDX-License-Identifier: GPL-2.0
/*
 * Who may checkpoint and restart: an unprivileged user checkpoints its own
 * tasks, not root's; kernel.checkpoint_unprivileged = 0 takes both calls
 * away from users without CAP_CHECKPOINT_RESTORE (flags are still checked
 * first) and leaves root alone.  Runs as root; the user is uid 1000.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlib.h"

#define SYSCTL "/proc/sys/kernel/checkpoint_unprivileged"
#define USER_ID 1000
/* Exit code of a user child that could not become the user */
#define NO_USER 200

static char image[PATH_MAX];	/* an image's head, readable by the user */
static pid_t root_target;

static const char *outcome(int rc)
{
	static char buf[64];
	const char *n;

	if (rc == 0)
		return "success";
	if (rc == NO_USER)
		return "could not switch to the user";
	n = strerrorname_np(rc);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "exit %d", rc);
	return buf;
}

static int sysctl_set(int v)
{
	char buf[4];
	int fd = open(SYSCTL, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d\n", v);
	ret = write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf) ? 0 : -1;
	close(fd);
	return ret;
}

/* What the user child does; returns 0 or an errno. */
enum user_op {
	CKPT_OWN,		/* checkpoint a task of its own */
	CKPT_OWN_BADFLAGS,	/* the same with unknown flags */
	CKPT_ROOT,		/* checkpoint root's task */
	RESTART_IMAGE,		/* restart the image's head */
};

static int user_op(enum user_op op)
{
	struct t_loop loop;
	char path[PATH_MAX];
	int fd, ret = 0;

	switch (op) {
	case CKPT_OWN:
	case CKPT_OWN_BADFLAGS:
		if (t_loop_start(&loop))
			return NO_USER;
		fd = t_mkstemp(path, "user");
		if (fd < 0)
			return NO_USER;
		if (sys_checkpoint(loop.pid, fd,
				   op == CKPT_OWN ? CHECKPOINT_SUBTREE : 2, -1))
			ret = errno;
		close(fd);
		unlink(path);
		t_loop_kill(&loop);
		return ret;
	case CKPT_ROOT:
		fd = t_mkstemp(path, "user");
		if (fd < 0)
			return NO_USER;
		if (sys_checkpoint(root_target, fd, CHECKPOINT_SUBTREE, -1))
			ret = errno;
		close(fd);
		unlink(path);
		return ret;
	case RESTART_IMAGE:
		fd = open(image, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NO_USER;
		if (sys_restart(0, fd, RESTART_TASKSELF, -1))
			ret = errno;
		close(fd);
		return ret;
	}
	return NO_USER;
}

/* Run op as the user in a child; its result. */
static int as_user(enum user_op op)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(USER_ID, USER_ID, USER_ID) ||
		    setresuid(USER_ID, USER_ID, USER_ID))
			_exit(NO_USER);
		/*
		 * Changing the uid made this process non-dumpable, and its
		 * children with it: a user's ordinary tasks are dumpable.
		 */
		prctl(PR_SET_DUMPABLE, 1);
		_exit(user_op(op));
	}
	return t_wait(pid);
}

static void expect_user(const char *name, enum user_op op, int e)
{
	int rc = as_user(op);

	t_check(rc == e, name, "got %s, expected %s", outcome(rc), outcome(e));
}

/* Root still checkpoints with the sysctl at 0. */
static void expect_root(const char *name)
{
	char path[PATH_MAX];

	if (t_checkpoint_file(root_target, CHECKPOINT_SUBTREE, path))
		t_fail(name, "%s", strerror(errno));
	else
		t_pass(name);
	unlink(path);
}

int main(void)
{
	struct t_loop loop;
	int saved;

	if (geteuid() != 0) {
		t_skip("permissions", "not root");
		return t_done();
	}
	if (t_loop_start(&loop))
		t_bail("starting the counting child");
	root_target = loop.pid;
	/*
	 * The head of an image (header, pids, tree) and a tail: what is
	 * checked is who may call restart(2).  One who may gets to the
	 * missing task section: EBADMSG.
	 */
	if (t_head_image(image))
		t_bail("head-and-tail image of a counting child");
	chmod(image, 0644);

	expect_user("user checkpoints its own task", CKPT_OWN, 0);
	expect_user("user checkpoints root's task: EPERM", CKPT_ROOT, EPERM);
	expect_user("user may restart an image (its head: EBADMSG at the missing task)",
		    RESTART_IMAGE, EBADMSG);

	saved = t_read_int(SYSCTL);
	if (saved < 0) {
		t_skip("kernel.checkpoint_unprivileged", "no " SYSCTL);
	} else if (sysctl_set(0)) {
		t_fail("kernel.checkpoint_unprivileged = 0", "%s", strerror(errno));
	} else {
		expect_user("sysctl 0: user checkpoint of its own task: EPERM",
			    CKPT_OWN, EPERM);
		expect_user("sysctl 0: unknown flags are still EINVAL",
			    CKPT_OWN_BADFLAGS, EINVAL);
		expect_user("sysctl 0: user restart: EPERM", RESTART_IMAGE,
			    EPERM);
		expect_root("sysctl 0: root checkpoints");
		if (sysctl_set(saved))
			t_fail("restoring the sysctl", "%s", strerror(errno));
		expect_user("sysctl restored: user checkpoints its own task",
			    CKPT_OWN, 0);
	}

	t_loop_kill(&loop);
	unlink(image);
	return t_done();
}
