/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mktree: make the tasks of an image's tree for restart(2).
 *
 * The coordinator (the parent of the root task, not in the tree) creates
 * the root; every task creates its children with their image pids (clone3
 * set_tid) and exit signals, in the order of the tree.  The sessions and
 * groups: a session leader calls setsid() and a group leader setpgid(0, 0)
 * before it creates its children (phase 1); once every task exists, the
 * tasks in the group of another task join it (phase 2).  Then each task
 * reports what it is (pid, parent, group, session) and calls
 * restart(0, -1, 0, -1) to wait for the coordinator, which checks the
 * reports against the image and calls restart(root, fd, 0, logfd).
 *
 * The tasks talk to the coordinator through two pipes: a status pipe on
 * which each writes short messages, and a go pipe whose write end only the
 * coordinator holds: closing it starts phase 2.  Every task dies with its
 * parent (PR_SET_PDEATHSIG, SIGKILL) until restart(2) gives it the one of
 * the image, so killing the root kills the tasks that restart(2) did not
 * adopt.
 */
#ifndef MKTREE_H
#define MKTREE_H

#include <sys/types.h>

#include "ckptimg.h"

struct mktree {
	const struct ckpt_tree *tree;
	int imgfd;		/* the image, for the coordinator */
	int logfd;
	int userns;		/* the tasks are in a user namespace of the tool's */
	int check_only;		/* make the tree and check it, no restart(2) */
	int quiet_eexist;	/* a pid in use: fail without a message */
	pid_t coord;		/* the coordinator's pid as the root sees it */
	int status[2];		/* tasks -> coordinator */
	int go[2];		/* closed by the coordinator: phase 2 */
	int rootfd;		/* pidfd of the root, in the coordinator */
	pid_t root;		/* the root's pid in the coordinator's namespace */
};

/* The pipes, before the root is created: 0, or -1 with a message. */
int mktree_init(struct mktree *mt, const struct ckpt_tree *tree, int imgfd,
		int logfd);

/*
 * Create task i (the root: i == 0) as a child of the caller, with its
 * image pid in the caller's pid namespace and its exit signal (the root:
 * SIGCHLD).  Returns as fork() does; -1 with errno.
 */
long mktree_clone(const struct mktree *mt, unsigned int i);

/* What task i runs once it exists: never returns. */
void __attribute__((noreturn)) mktree_task(struct mktree *mt, unsigned int i);

/*
 * In the coordinator, once the root (pid root in its namespace) exists:
 * wait until every task is set up, check the tree, call restart(2).
 * Returns 0 once the tree runs (or with check_only, once it was checked
 * and killed), or 1 after killing the tasks, a message printed; -EEXIST
 * when quiet_eexist and a pid was in use.
 */
int mktree_coordinate(struct mktree *mt, pid_t root);

#endif /* MKTREE_H */
