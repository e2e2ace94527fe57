/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the guest test programs: one "ok - NAME" or
 * "not ok - NAME: REASON" line per test, a final "N passed, N failed"
 * line, and the children the tests checkpoint.
 */
#ifndef TLIB_H
#define TLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ckptimg.h"
#include "ckptsys.h"

/* Reporting */
void t_pass(const char *name);
void t_fail(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Pass when cond holds, else fail with the formatted reason. */
int t_check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void t_skip(const char *name, const char *why);
/* Print the summary line; the exit status of the program. */
int t_done(void);
/* Abort the program on a setup failure that makes further tests moot. */
void t_bail(const char *what) __attribute__((noreturn));

/* Expect a syscall result of -1 with errno e; describes the mismatch. */
int t_check_errno(long ret, int err, int e, const char *name);

/* Files */
const char *t_tmpdir(void);
/* Create a new temporary file; its path goes to path (PATH_MAX). */
int t_mkstemp(char *path, const char *tag);
/* Write buf to a new temporary file and reopen it with flags. */
int t_file_with(const void *buf, size_t len, int flags, char *path);
/* Read a whole fd from its current offset (pipes too); malloc'ed, NUL ended. */
char *t_read_fd(int fd, size_t *len);
/* The integer a file (a sysctl, a /proc value) holds; -1 if none. */
int t_read_int(const char *path);
char *t_read_path(const char *path, size_t *len);
/* Fork a child that writes buf to fd, then closes it and exits. */
pid_t t_feed(int fd, const void *buf, size_t len);
/*
 * Fork a child that copies fd to a new file until end of stream; it closes
 * other_end (the writer's end of the pipe) first.
 */
pid_t t_drain(int fd, int other_end, const char *path);

/*
 * A child that counts in a loop until told to stop, recording signals it
 * receives.  It holds nothing checkpoint(2) refuses: its counter is private
 * (read through /proc/PID/mem), the stop request and its report go through
 * a regular file in the temporary directory, its standard fds are /dev/null
 * and it closes every other fd; it yields instead of sleeping.
 */
struct t_loop_report {
	uint64_t count;
	int signals;	/* handled signals */
	int last_signal;
	int eintr;	/* calls that failed with EINTR */
};

struct t_loop {
	pid_t pid;
	int ctl;			/* the control file: stop byte, report */
	char path[4096];		/* its path, removed at stop/kill */
};

int t_loop_start(struct t_loop *l);
/* The child's counter now (0 if it cannot be read). */
uint64_t t_loop_count(struct t_loop *l);
/* Wait up to ms milliseconds for the counter to pass from. */
int t_loop_advances(struct t_loop *l, uint64_t from, int ms);
/* Stop the child, collect its report and exit status (waitpid's). */
int t_loop_stop(struct t_loop *l, struct t_loop_report *rep, int *status);
/* Kill and reap the child. */
void t_loop_kill(struct t_loop *l);
/* Release what is left of a loop whose child was reaped elsewhere. */
void t_loop_forget(struct t_loop *l);

/*
 * A header-and-tail image: the header checkpoint(2) wrote for a counting
 * child, followed by a tail.  restart(2) restores no task from it.  Written
 * to a new temporary file (path); 0, or -1 with errno.
 */
int t_notask_image(char *path);

/*
 * The head of an image and a tail: the header, pids and tree records
 * checkpoint(2) wrote for a counting child, then a tail.  The tree names
 * a task whose section is missing: restart(2) restores nothing from it.
 * Written to a new temporary file (path); 0, or -1 with errno.
 */
int t_head_image(char *path);

/* Wait for a child: its exit code, or 128+signal. */
int t_wait(pid_t pid);

/* An image read back through the library. */
#define T_MAX_RECORDS 4096
struct t_image {
	int complete;			/* ended with a valid tail */
	struct ckpt_err err;		/* why not */
	struct ckpt_hdr_header hdr;
	struct ckpt_hdr_tail tail;
	size_t nr;
	uint32_t type[T_MAX_RECORDS];
	uint32_t len[T_MAX_RECORDS];
	uint64_t off[T_MAX_RECORDS];
	uint64_t size;			/* bytes read */
};
void t_scan_fd(int fd, struct t_image *im);
void t_scan_path(const char *path, struct t_image *im);

/* Checkpoint pid into a new temporary file; -1 with errno on failure. */
int t_checkpoint_file(pid_t pid, unsigned long flags, char *path);

/*
 * restart(2) in a child of its own, so that an image that does restore a
 * task never takes over the test program.  The outcome: 0, the errno, or
 * -signal when the child was killed (it has 30 s).
 */
int t_restart_child(int imgfd, pid_t pid, unsigned long flags, int logfd);
/* Name of an outcome of t_restart_child(): "success", "EBADMSG", ... */
const char *t_errname(int e);
/* A new unlinked temporary file for a log, open for reading and writing. */
int t_log_fd(void);
/*
 * Why a log does not report error e (NULL when it does): at least one
 * complete line, one ending with "(error -e)" and naming word (any case)
 * if word is not NULL.
 */
const char *t_log_problem(const char *log, int e, const char *word);

/*
 * Run fn(arg) (a system call: -1 with errno on failure) in a child that
 * handles SIGUSR1 without SA_RESTART; after ms milliseconds, if it is still
 * blocked, send it sig.  Returns 0 or the errno fn failed with, -signal when
 * the child was killed, T_NOT_BLOCKED when fn returned before the signal
 * (*early then holds its outcome), T_HUNG when the child did not end within
 * 10 s of the signal (it is killed).
 */
#define T_NOT_BLOCKED	1000
#define T_HUNG		1001
int t_interrupt(long (*fn)(void *), void *arg, int ms, int sig, int *early);
/* Report a t_interrupt() outcome: pass when it is the errno want. */
int t_check_interrupt(const char *name, const char *what, int rc, int want,
		      int early);

/*
 * Whether a failed call of fn(arg, fd) leaks its reference to fd's file:
 * fn runs in a child with a second thread alive (the fd table shared, so
 * the kernel takes a real reference) on one end of a new pipe, then every
 * descriptor of that end is closed.  Returns 1 when the other end still
 * sees it open, 0 when it does not, -1 when fn did not fail with EBADF.
 */
int t_leaks_fd_ref(long (*fn)(void *arg, int fd), void *arg, int read_end);

/*
 * A subject: a child that sets up some state, is checkpointed, killed and
 * restarted, and then verifies its own state.  It holds only what
 * checkpoint(2) saves: fds 0-2 are /dev/null, T_SUBJ_CTL the control file
 * (byte 0: ready, byte T_SUBJ_GO_OFF: go), T_SUBJ_REP the report file it appends its
 * "ok - ..." / "not ok - ...: ..." lines to (with its position: after the
 * restart, the lines continue where they were); every other fd is closed
 * before fn runs.  fn calls t_subj_ready() once set up, then
 * t_subj_wait_go() (restored there), verifies with t_subj_check(), and
 * ends with t_subj_exit(): exit status the number of failed checks.
 */
#define T_SUBJ_CTL	3
#define T_SUBJ_REP	4
#define T_SUBJ_GO_OFF	4096	/* offset of the go byte, past anything else */

struct t_subject {
	pid_t pid;		/* the subject, then the restored task */
	pid_t orig_pid;
	int ctl, rep;		/* the test's fds of the two files */
	char ctl_path[4096], rep_path[4096], img_path[4096];
	char *log;		/* checkpoint(2) or restart(2) log, malloc'ed */
	int restart_err;	/* errno restart(2) failed with, 0 */
	pid_t restart_pid;	/* the child t_subj_restart() created */
	int restart_status;	/* its wait status if it ended early, else -1 */
};

int t_subj_start(struct t_subject *s, void (*fn)(void *arg), void *arg);
void t_subj_ready(void);
/* Wait (sched_yield, pread) until the test says go. */
void t_subj_wait_go(void);
int t_subj_check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void t_subj_exit(void) __attribute__((noreturn));

/* The test's side: 0, or -1 (the subject is gone, a failure reported). */
int t_subj_wait_ready(struct t_subject *s, const char *name);
/* Checkpoint to s->img_path: 0 or the errno; the log in s->log. */
int t_subj_checkpoint(struct t_subject *s);
/* SIGKILL and reap the subject. */
void t_subj_kill(struct t_subject *s);
/*
 * Restart s->img_path in a new child (with the original pid if same_pid and
 * it can: clone3 set_tid), which restart(2) turns into the subject.
 * 0 when restart(2) did not fail early, else the errno (s->log holds the
 * log); a restart that fails later kills the child (see t_subj_finish).
 * A child that ended within the first 0.5 s is reaped: EINTR when it was
 * killed (s->restart_status has its wait status), and the log gets a last
 * line "[the restarting child ended: status 0x..]".
 */
int t_subj_restart(struct t_subject *s, int same_pid);
/*
 * Tell the restored subject to go, wait for it and report its lines, each
 * prefixed with "prefix: ", and its exit status.  Returns its exit status
 * (128+signal when killed).
 */
int t_subj_finish(struct t_subject *s, const char *prefix);
/* Remove the files. */
void t_subj_cleanup(struct t_subject *s);
/* All of it: start, checkpoint, kill, restart, finish, cleanup. */
void t_subj_run(const char *prefix, void (*fn)(void *arg), void *arg,
		int same_pid);

/*
 * Called, when set, in the child t_subj_restart() creates, right before it
 * calls restart(2) or runs the tool: to restart as another user, say.  It
 * _exit()s with T_NO_SETUP when it cannot do its part.
 */
extern void (*t_subj_restart_hook)(void);
#define T_NO_SETUP	124

/*
 * Become a user: groups, then gid, then uid (real, effective and saved),
 * and dumpable again as a user's ordinary task.  0, or -1 with errno.
 */
#define T_USER		1000	/* the guest's unprivileged user */
int t_become(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups);

/* A t_subj_restart_hook: become T_USER (without groups). */
void t_user_hook(void);

/*
 * Start fn(arg) as a subject whose control and report files anyone may
 * open (so that a user may restart it), wait until it is ready, checkpoint
 * it to s->img_path (readable by all) and kill it: 0, or -1 with the
 * failure reported.  The subject must write nothing before it is ready:
 * t_subj_restart_as() empties the report file before each restart.
 */
int t_subj_prepare(struct t_subject *s, const char *prefix,
		   void (*fn)(void *arg), void *arg);
/* Restart s->img_path with t_subj_restart_hook = hook, then finish. */
void t_subj_restart_as(struct t_subject *s, const char *prefix,
		       void (*hook)(void));
/*
 * Restart the image path (s->img_path when NULL) with hook: pass when
 * restart(2) fails with e and returns to its caller, which goes on (it
 * exits 125 after reporting the errno: nothing of it was changed, no task
 * is left), and the log reports e (and names word, if not NULL; with word
 * "" the log is not checked).  A subject restored against expectation is
 * killed.  Returns 1 on a pass.
 */
int t_subj_refused(struct t_subject *s, const char *path, void (*hook)(void),
		   int e, const char *word, const char *name);

/*
 * An image in memory, to be changed and written out again: records are
 * found through the library's reader and replaced whole; the tail's size
 * follows.
 */
struct t_edit {
	unsigned char *buf;
	size_t len;
};
/* Read a complete image: 0, or -1 (errno; EBADMSG for an invalid one). */
int t_edit_load(struct t_edit *e, const char *path);
/* The first record of a type, its length in *len (may be NULL); or NULL. */
void *t_edit_find(struct t_edit *e, uint32_t type, uint32_t *len);
/* Replace the record rec (from t_edit_find) with len bytes from new. */
int t_edit_replace(struct t_edit *e, void *rec, const void *new, uint32_t len);
/* Write the image to a new file path: 0, or -1 with errno. */
int t_edit_save(struct t_edit *e, const char *path);
void t_edit_free(struct t_edit *e);

#endif /* TLIB_H */
