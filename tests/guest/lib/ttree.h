/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trees of tasks for the guest tests: the pids and tree records of an
 * image read leniently (a fuzzer's mutant too), a small mktree that
 * creates the tasks an image names (clone3 set_tid, setsid, setpgid),
 * each of which joins with restart(0, -1, 0, -1), and the coordinator's
 * restart(root, fd, 0, logfd); then what became of every task.
 *
 * The tree is the tests' own, not the restart tool's: a test can make one
 * task exit before it joins, restart as another user, kill the coordinator
 * or one task at a chosen moment, and see each task's fate.  The code that
 * runs in the coordinator and its tasks makes system calls only (no
 * malloc, no stdio): the fuzzer runs it in a copy of its memory taken
 * while another thread of it may hold their locks.
 *
 * Records are found by their framing only (struct ckpt_hdr), without the
 * image library: a test edits images the library would refuse.
 */
#ifndef TTREE_H
#define TTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/checkpoint_hdr.h>

/* Records by their framing */
struct tt_rec {
	size_t off;		/* in the image */
	size_t span;		/* to the next record (padding included) */
	uint32_t type, len;
};
/* Split buf into records while the framing holds; the number found. */
size_t tt_walk(const void *buf, size_t len, struct tt_rec *r, size_t max);
/* The n-th (from 0) record of a type, or NULL. */
struct tt_rec *tt_find(struct tt_rec *r, size_t nr, uint32_t type, int n);
/* Make a final tail record agree with the records before it. */
void tt_fix_tail(void *buf, size_t len);

/*
 * A tree to make: the tasks of an image in its order, the root first.
 * Built from the image's pids and tree records as far as they make sense.
 */
#define TT_MAX_TASKS	16
#define TT_PGID_ROOT	(-1)	/* the root task's group (the root: the
				 * coordinator's, as it inherits it) */
#define TT_PGID_OWN	(-2)	/* a group of its own */

struct tt_task {
	pid_t pid;		/* the pid to ask for (0: any) */
	int parent;		/* index of its parent, -1: the coordinator */
	int setsid;		/* calls setsid() */
	int pgid;		/* TT_PGID_*, or the index of its group's leader */
	int exit_signal;	/* what its parent gets (a valid signal) */
};

struct tt_plan {
	int n;
	struct tt_task t[TT_MAX_TASKS];
	int exact;		/* follows the image (else a best guess) */
	uint32_t nr_tasks;	/* as the tree record says */
};

/*
 * Read the pids and tree records of an image into a plan: 0 when they
 * are there and the plan is exact, -1 when the plan is only a guess (at
 * least one task, with any pid, when nothing makes sense).
 */
int tt_plan_image(const void *buf, size_t len, struct tt_plan *p);

/* How to run a tree restart */
struct tt_opts {
	unsigned long flags;	/* of the coordinator's restart(2) */
	int exit_before_join;	/* index of a task that exits instead, or -1 */
	int any_pid;		/* ignore the plan's pids */
	int ready_ms;		/* for the tasks to be set up and joined (0: 5 s) */
	/* The coordinator, right before restart(2) (e.g. drop privileges) */
	void (*before)(void);
	/* Set to 1 right before restart(2) (shared memory), if not NULL */
	volatile int *called;
};

/* Set by a joining task whose restart(0, -1, 0, -1) returned */
#define TT_JOINER_RETURNED	123

/* What the coordinator saw; shared with the tasks before they restore. */
struct tt_state {
	volatile int phase;
	volatile int ready[TT_MAX_TASKS];	/* setup steps done */
	volatile pid_t pid[TT_MAX_TASKS];	/* in the coordinator's pid ns */
	volatile pid_t gpid[TT_MAX_TASKS];	/* as /proc names it */
	volatile int setup_err[TT_MAX_TASKS];	/* errno of a failed step + 1000 * step */
	volatile int joiner_err[TT_MAX_TASKS];	/* restart(2) returned: errno + 1 */
	volatile int in_restart[TT_MAX_TASKS];	/* seen blocked in restart(2) */
	int n;
	int called;		/* the coordinator called restart(2) */
	volatile int returned;	/* it returned ... */
	long ret;		/* ... this */
	int err;		/* its errno, 0 */
	char why[160];		/* a setup problem, "" */
};

/*
 * Make the tree of plan p (the root a child of the caller), wait until
 * every task joined (or ready_ms passed), then call
 * restart(root, imgfd, o->flags, logfd) and return its result (0 or -1
 * with errno, as in st->ret, st->err).  st must be shared memory
 * (tt_state_new()): the tasks fill it.  Setup failures are noted in
 * st->why; restart(2) is called all the same.
 */
long tt_restart_tree(const struct tt_plan *p, const struct tt_opts *o,
		     int imgfd, int logfd, struct tt_state *st);
/* A new tt_state in shared memory (MAP_SHARED | MAP_ANONYMOUS). */
struct tt_state *tt_state_new(void);
void tt_state_free(struct tt_state *st);

/* What a task of the tree looks like now, from /proc (by its gpid). */
enum tt_fate {
	TT_GONE,		/* no such task, or a zombie */
	TT_JOINED,		/* blocked in restart(2) */
	TT_ALIVE,		/* anything else: running, in user space... */
};
enum tt_fate tt_fate(pid_t gpid, char *desc, size_t sz);
/*
 * After a failed restart: wait up to ms for every task of st to be gone
 * or blocked in restart(2) (not adopted).  Returns the number of tasks
 * alive otherwise (half-restored, returned to user space), described in
 * why.
 */
int tt_settle(struct tt_state *st, int ms, char *why, size_t sz);
/* SIGKILL every task of st that is still there. */
void tt_kill_all(struct tt_state *st);

#endif /* TTREE_H */
