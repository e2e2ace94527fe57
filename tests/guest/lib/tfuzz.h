/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the robustness tests (fuzzer, corpus replay, fault injection,
 * SIGKILL at random moments, concurrency):
 *
 * - a seeded deterministic PRNG;
 * - verifiable subjects: children that hold some kind of state (memory,
 *   pipes, signals, files, mappings, a sleep...), keep checking it
 *   themselves, answer "verify" requests through a shared page, and exit
 *   with TF_RESTORED_OK as soon as they find themselves restored (their
 *   pid changed), after checking their state once more;
 * - running restart(2) of an image in a child with a time limit, in a pid
 *   namespace of its own if asked, and classifying how it ended;
 * - scanning /dev/kmsg for kernel reports, so that a report is tied to
 *   the image that caused it;
 * - printing a reproducer on the console (scripts/extract-repro.sh turns
 *   it back into a file).
 */
#ifndef TFUZZ_H
#define TFUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tlib.h"
#include "ttree.h"

/* PRNG (splitmix64): the same seed gives the same run. */
struct tf_rng {
	uint64_t s;
};
void tf_rng_seed(struct tf_rng *r, uint64_t seed);
uint64_t tf_rand(struct tf_rng *r);
/* Uniform in [0, n), 0 when n is 0. */
uint64_t tf_below(struct tf_rng *r, uint64_t n);
/* The seed of a run: T_SEED if set, else the time; printed. */
uint64_t tf_run_seed(void);

long long tf_now_ms(void);
void tf_sleep_ms(long ms);
/* Seconds of budget: env var name if set, else lcr.<name> on the kernel
 * command line, else dflt_debug on a kernel with fault injection (the
 * debug kernel), else dflt. */
long tf_budget(const char *name, long dflt, long dflt_debug);
/* Whether this is the debug kernel (it has /proc/self/fail-nth). */
int tf_debug_kernel(void);

/* Subjects */
enum tf_kind {
	TF_BASIC,	/* heap memory, yields */
	TF_PIPE,	/* pipes holding data, one with both ends open */
	TF_SIGNALS,	/* handlers, blocked and pending signals, altstack */
	TF_SLEEP,	/* mostly in nanosleep(): a restart block */
	TF_FILES,	/* regular files at offsets, a directory, dups, cloexec */
	TF_MAPS,	/* file mappings, shared memory, holes, many vmas */
	TF_UNLINKED,	/* an open file that was unlinked */
	TF_FIFO,	/* both ends of a named pipe */
	TF_TIMERS,	/* interval timers, rlimits, umask, cwd */
	TF_SOCKET,	/* a socket: checkpoint fails (an error record) */
	TF_CHURN,	/* mmap/mprotect/munmap as fast as it can */
	TF_FORKER,	/* forks and reaps children in a loop */
	TF_EXECER,	/* execs itself in a loop (see tf_exec_main) */
	TF_SHANON,	/* shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS) */
	TF_MEMFD,	/* a shared mapping of a memfd, the fd closed */
	TF_TTY,		/* a pseudo-terminal slave in raw mode (master: ours) */
	TF_TREE,	/* a parent and two children, a pipe between these, the
			 * second child in a process group of its own, and a
			 * zombie child: the parent checks the children once
			 * restored, and waits for the zombie */
	TF_NR_KINDS,
};
const char *tf_kind_name(int kind);

/* Exit status of a restored subject: state verified, or not. */
#define TF_RESTORED_OK	77
#define TF_RESTORED_BAD	78
/* Verified, and the fail-nth armed before restart(2) did not fire */
#define TF_RESTORED_UNFIRED	76

/* The page a subject shares with the test (also saved in its images). */
struct tf_shared {
	volatile int ready;
	volatile int req, ack;		/* verify request and its answer */
	volatile int bad;		/* a failed check, once seen */
	volatile uint64_t count;	/* loop iterations */
	volatile uint64_t execs;	/* TF_EXECER: exec generations */
	char why[256];			/* what failed */
};

struct tf_subject {
	pid_t pid;
	int kind;
	size_t mem;			/* bytes of patterned memory */
	struct tf_shared *sh;
	char dir[4096];			/* its files live here */
};

/*
 * Start a subject of that kind with mem bytes of patterned memory (0: a
 * default) and wait until it is ready.  0, or -1 (it is gone).
 */
int tf_subj_start(struct tf_subject *s, int kind, size_t mem);
/*
 * Ask the subject to check its whole state now; it answers within ms.
 * NULL when it did and all was well, else why not.
 */
const char *tf_subj_verify(struct tf_subject *s, int ms);
/* Whether its loop counter moves past its current value within ms. */
int tf_subj_runs(struct tf_subject *s, int ms);
void tf_subj_stop(struct tf_subject *s);
/*
 * Subjects are the test program exec'ed again: its main() starts with
 *	if (tf_child_main(argc, argv) >= 0) return 0;
 * which runs the subject when argv says so (and does not return then).
 */
int tf_child_main(int argc, char **argv);

/* An image in memory */
struct tf_image {
	unsigned char *buf;
	size_t len;
	char name[64];
};
/*
 * Checkpoint pid into memory: 0 or the errno; the image (complete or not)
 * in *im either way when some bytes were written.
 */
int tf_checkpoint_mem(pid_t pid, struct tf_image *im, char **log);
/* A memfd holding buf, at offset 0 */
int tf_memfd(const void *buf, size_t len);

/* restart(2) of an image in a child */
enum tf_src { TF_SRC_MEMFD, TF_SRC_PIPE, TF_SRC_FILE };

struct tf_run {
	enum tf_src src;
	int limit_ms;		/* then SIGKILL; 0: 10 s */
	int grace_ms;		/* for the SIGKILL to take; 0: 10 s */
	int fail_nth;		/* the restarting child writes it to fail-nth */
	int make_it_fail;	/* ... and 1 to make-it-fail */
	int kill_after_us;	/* SIGKILL the child then (0: no) */
	/*
	 * Restart in a new pid namespace, as pid 2 under a small init: what
	 * the image turns into (arbitrary code, as root) can see and signal
	 * no task outside it, and nothing of it outlives the init.  Tasks it
	 * leaves behind count as leftovers all the same.
	 */
	int pidns;
	void (*before)(void);	/* the restarting child runs it first */
	/*
	 * Restart as a tree: the restarting child is the coordinator, makes
	 * the tree of the plan (ttree.h), whose tasks join, and calls
	 * restart(root, fd, 0, logfd).  On success it waits for the root
	 * and ends as the root did; on failure it checks that every task
	 * is gone or still waiting to join (tf_result.tree_bad otherwise),
	 * kills those and returns the errno as with RESTART_TASKSELF.
	 */
	const struct tt_plan *tree;
	/*
	 * With tree and kill_after_us: SIGKILL that long after the
	 * coordinator called restart(2) not the coordinator but a task of
	 * the tree: the kill_task-th (modulo their number) in the order the
	 * tree is walked from the root, parents first.
	 */
	int kill_task;
};

enum tf_outcome {
	TF_ERRNO,		/* restart(2) returned an errno (0 too) */
	TF_KILLED,		/* ended by SIGKILL before returning */
	TF_RESTORED,		/* the subject ran, found its state right */
	TF_RESTORED_WRONG,	/* it found its state wrong */
	TF_RESTORED_OTHER,	/* something ran and ended otherwise */
	TF_RUNNING,		/* still running at the limit, not in restart */
	TF_SLOW,		/* still in restart(2) at the limit, killable */
	TF_HANG,		/* did not end after SIGKILL and the grace */
	TF_NR_OUTCOMES,
};

struct tf_result {
	enum tf_outcome outcome;
	int err;		/* TF_ERRNO: what restart(2) returned */
	int status;		/* wait status (TF_RESTORED_OTHER) */
	long ms;		/* how long it took */
	char log[512];		/* start of restart(2)'s log */
	int log_ok;		/* TF_ERRNO: the log has the "(error -N)" line */
	int nth_unfired;	/* TF_RESTORED: fail-nth still armed */
	int leftovers;		/* other children that were reaped after it */
	int reports;		/* kernel reports on /dev/kmsg meanwhile */
	char report[256];	/* the first one */
	/*
	 * Tree restarts: tasks of the tree alive outside restart(2) after
	 * the coordinator's restart(2) failed (half restored, returned to
	 * user space), or joiners whose restart(2) returned; why.
	 */
	int tree_bad;
	char tree_why[256];
};

/* Make the caller a subreaper and open /dev/kmsg; call once. */
void tf_runner_init(void);
void tf_restart(const void *buf, size_t len, const struct tf_run *o,
		struct tf_result *r);
const char *tf_outcome_name(enum tf_outcome o);
/* Describe a result in buf: "EBADMSG", "killed", "restored"... */
const char *tf_result_str(const struct tf_result *r, char *buf, size_t sz);
/* Whether a mutant's result is acceptable, else why not in buf. */
int tf_result_ok(const struct tf_result *r, char *why, size_t sz);

/* Outcome counts */
struct tf_hist {
	unsigned long outcome[TF_NR_OUTCOMES];
	unsigned long err[256];
	unsigned long total;
};
void tf_hist_add(struct tf_hist *h, const struct tf_result *r);
void tf_hist_print(const struct tf_hist *h, const char *prefix);

/*
 * Kernel reports: read what /dev/kmsg got since the last call.  Returns
 * the number of report lines (BUG, WARNING, KASAN, lockdep...), the first
 * in first.  With echo, also print them on stdout in the console's format
 * (for when the console log level is lowered).
 */
int tf_kmsg_scan(char *first, size_t sz, int echo);

/* A reproducer on the console, between LINUXCR-REPRO markers. */
void tf_repro_emit(const char *name, const char *why, const void *buf,
		   size_t len);

/* Children */
/* fork() with stdio flushed first; bails out on failure */
pid_t tf_fork(void);
/* Wait for pid for at most ms: its wait status, or -1 if it did not end. */
int tf_wait_ms(pid_t pid, int ms);
/*
 * Memory available (KiB): /proc/meminfo's MemAvailable plus the free pages
 * on the per-cpu lists, which swing by tens of MiB with what was freed
 * last and would hide a leak or fake one.
 */
long tf_mem_available(void);
/* Allocated file handles (/proc/sys/fs/file-nr) */
long tf_files_allocated(void);

/* Shared memory that checkpoint(2) saves (an unlinked tmpfs file) */
void *tf_shared_mem(size_t len);

/* Write a string to a /proc or /sys file: 0 or -1 */
int tf_write_file(const char *path, const char *s);
/* Read a small file into buf (trailing newline cut): 0 or -1 */
int tf_read_file(const char *path, char *buf, size_t sz);

#endif /* TFUZZ_H */
