// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint(2) and restart(2) under injected allocation failures (the
 * debug kernel: CONFIG_FAULT_INJECTION, failslab, fail_page_alloc; skipped
 * elsewhere).
 *
 * - fail-nth sweep over checkpoint(2): the n-th fault point of the call
 *   fails, n = 1, 2, ... until a checkpoint succeeds without reaching it.
 *   Each time the subject must keep running unchanged (it verifies its
 *   own state on request) and a successful image must be complete.
 * - fail-nth sweep over restart(2) in a child: a clean errno, SIGKILL, or
 *   the subject fully restored (it verifies itself); never a half-restored
 *   task that runs, a hang, or a task left behind.
 * - failslab and fail_page_alloc with a probability, for the tasks that
 *   set make-it-fail, over a random mix of checkpoints and restarts.
 *
 * Allocation failure warnings ("page allocation failure", their stack
 * dumps) are normal here: the console log level is lowered while faults
 * are injected, and kernel reports are read from /dev/kmsg instead and
 * printed in the console's format, so scripts/guest.sh still sees them.
 *
 * Environment: T_FAULT_SECS (time budget of each of the 5 parts, default 25 s),
 * T_FAULT_MAX (largest n of a sweep, default 2000), T_SEED.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tfuzz.h"

#define DBG "/sys/kernel/debug"

/* Fault injection settings, restored at exit */
struct knob {
	const char *path;
	const char *val;	/* what the sweeps need */
	char old[64];
	int saved;
};

#define KNOB(p, v) { .path = (p), .val = (v) }

static struct knob knobs[] = {
	KNOB("/proc/sys/kernel/printk", "1"),
	KNOB(DBG "/failslab/ignore-gfp-wait", "N"),
	KNOB(DBG "/failslab/verbose", "0"),
	KNOB(DBG "/failslab/task-filter", "Y"),
	KNOB(DBG "/failslab/interval", "1"),
	KNOB(DBG "/failslab/times", "-1"),
	KNOB(DBG "/failslab/probability", "0"),
	KNOB(DBG "/fail_page_alloc/ignore-gfp-wait", "N"),
	KNOB(DBG "/fail_page_alloc/ignore-gfp-highmem", "N"),
	KNOB(DBG "/fail_page_alloc/min-order", "0"),
	KNOB(DBG "/fail_page_alloc/verbose", "0"),
	KNOB(DBG "/fail_page_alloc/task-filter", "Y"),
	KNOB(DBG "/fail_page_alloc/interval", "1"),
	KNOB(DBG "/fail_page_alloc/times", "-1"),
	KNOB(DBG "/fail_page_alloc/probability", "0"),
};

#define NR_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

static void restore_knobs(void)
{
	size_t i;

	for (i = 0; i < NR_KNOBS; i++)
		if (knobs[i].saved)
			tf_write_file(knobs[i].path, knobs[i].old);
	tf_kmsg_scan(NULL, 0, 1);
}

/* 0, or -1 with the first knob that could not be set in *what */
static int set_knobs(const char **what)
{
	size_t i;

	atexit(restore_knobs);
	for (i = 0; i < NR_KNOBS; i++) {
		if (tf_read_file(knobs[i].path, knobs[i].old, sizeof(knobs[i].old))) {
			*what = knobs[i].path;
			return -1;
		}
		/* printk has four levels: keep the console's only */
		knobs[i].old[strcspn(knobs[i].old, " \t")] = '\0';
		knobs[i].saved = 1;
		if (tf_write_file(knobs[i].path, knobs[i].val)) {
			*what = knobs[i].path;
			return -1;
		}
	}
	return 0;
}

static void set_probability(const char *p)
{
	tf_write_file(DBG "/failslab/probability", p);
	tf_write_file(DBG "/fail_page_alloc/probability", p);
}

static long budget_ms;

/* What a checkpoint in a child with faults reports */
struct ckpt_res {
	long ret;
	int err;
	int left;		/* fail-nth after the call: 0 when it fired */
	int complete;		/* the image reads to its tail */
	char log[200];
};

static void __attribute__((noreturn)) ckpt_child(pid_t pid, int nth, int wr)
{
	struct ckpt_res r = { 0 };
	struct t_image ti;
	char v[32];
	int fd = memfd_create("img", 0), logfd = memfd_create("log", 0);
	int nthfd = open("/proc/thread-self/fail-nth", O_RDWR);
	int mif = open("/proc/thread-self/make-it-fail", O_WRONLY);
	int tries;

	if (fd < 0 || logfd < 0 || nthfd < 0 || mif < 0)
		_exit(2);
	/*
	 * make-it-fail is opened before it is set: with it set, opening a
	 * file to clear it may itself fail, and every allocation after,
	 * the pipe's page for the result too, would fail at 3%.
	 */
	if (!nth && write(mif, "1", 1) != 1)
		_exit(6);
	snprintf(v, sizeof(v), "%d", nth);
	if (nth && write(nthfd, v, strlen(v)) < 0)
		_exit(3);
	r.ret = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, logfd);
	r.err = errno;
	if (nth) {
		memset(v, 0, sizeof(v));
		pread(nthfd, v, sizeof(v) - 1, 0);
		r.left = atoi(v);
		write(nthfd, "0", 1);
	}
	for (tries = 0; !nth && write(mif, "0", 1) != 1; tries++)
		if (tries > 1000)
			_exit(4);
	lseek(fd, 0, SEEK_SET);
	t_scan_fd(fd, &ti);
	r.complete = ti.complete;
	pread(logfd, r.log, sizeof(r.log) - 1, 0);
	if (write(wr, &r, sizeof(r)) != sizeof(r))
		_exit(5);
	_exit(0);
}

/* Checkpoint s in a child with fail-nth nth (0: make-it-fail): 0 or -1 */
static int ckpt_faulty(struct tf_subject *s, int nth, struct ckpt_res *r,
		       char *why, size_t sz)
{
	int p[2], status;
	pid_t c;

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		t_bail("pipe");
	c = tf_fork();
	if (c == 0) {
		close(p[0]);
		ckpt_child(s->pid, nth, p[1]);
	}
	close(p[1]);
	status = tf_wait_ms(c, 60000);
	if (status == -1) {
		kill(c, SIGKILL);
		snprintf(why, sz, "checkpoint still running after 60 s, %s",
			 tf_wait_ms(c, 10000) == -1 ? "and SIGKILL did not end it" :
						    "ended by SIGKILL");
		close(p[0]);
		return -1;
	}
	if (read(p[0], r, sizeof(*r)) != sizeof(*r)) {
		snprintf(why, sz, "the checkpointing child ended with status 0x%x", status);
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return 0;
}

/* After a checkpoint with faults: NULL when all is as it should be */
static const char *after_ckpt(struct tf_subject *s, const struct ckpt_res *r,
			      char *why, size_t sz)
{
	const char *v = tf_subj_verify(s, 10000);
	char rep[256];

	if (tf_kmsg_scan(rep, sizeof(rep), 1))
		snprintf(why, sz, "kernel report: %s", rep);
	else if (v)
		snprintf(why, sz, "after %s: %s", t_errname(r->ret ? r->err : 0), v);
	else if (!tf_subj_runs(s, 5000))
		snprintf(why, sz, "the subject does not run on");
	else if (!r->ret && !r->complete)
		snprintf(why, sz, "checkpoint succeeded with an incomplete image");
	else
		return NULL;
	return why;
}

/* The result of a sweep that stopped at n: how it ended in end (NULL: budget) */
static void report_sweep(const char *name, const char *why, int kind, int n,
			 const char *end, const struct tf_hist *h)
{
	if (why[0])
		t_fail(name, "fail-nth %d: %s", n, why);
	else
		t_pass(name);
	printf("# %s: %d fault points%s%s\n", tf_kind_name(kind), n,
	       end ? ", then " : " (budget reached)", end ? end : "");
	tf_hist_print(h, "outcomes");
}

static void sweep_checkpoint(int kind)
{
	struct tf_subject s;
	struct ckpt_res r;
	struct tf_hist h = { 0 };
	struct tf_result fake = { 0 };
	char name[128], why[512] = "";
	int n, max = tf_budget("T_FAULT_MAX", 2000, 2000), done = 0;
	long long end = tf_now_ms() + budget_ms;

	snprintf(name, sizeof(name), "checkpoint of a %s subject with fail-nth 1, 2, ...: subject unchanged",
		 tf_kind_name(kind));
	if (tf_subj_start(&s, kind, 0)) {
		t_fail(name, "the subject did not start");
		return;
	}
	for (n = 1; n <= max && !done && !why[0] && tf_now_ms() < end; n++) {
		if (ckpt_faulty(&s, n, &r, why, sizeof(why)))
			break;
		fake.err = r.ret ? r.err : 0;
		tf_hist_add(&h, &fake);
		after_ckpt(&s, &r, why, sizeof(why));
		done = !r.ret && r.left > 0;
	}
	report_sweep(name, why, kind, n - 1, done ? "a clean checkpoint" : NULL, &h);
	tf_subj_stop(&s);
}

/* A restart with faults: NULL when it ended acceptably */
static const char *restart_ok(const struct tf_result *r, char *why, size_t sz)
{
	struct tf_result q = *r;
	char res[64];

	/* Under faults the log itself may fail: no log line is no error. */
	q.log_ok = 1;
	if (!tf_result_ok(&q, why, sz))
		return why;
	if (r->outcome == TF_ERRNO && r->err == 0)
		snprintf(why, sz, "restart(2) returned 0 with a task in the image");
	else if (r->outcome != TF_ERRNO && r->outcome != TF_KILLED &&
		 r->outcome != TF_RESTORED)
		snprintf(why, sz, "%s: a half-restored task ran", tf_result_str(r, res, sizeof(res)));
	else
		return NULL;
	return why;
}

/* The image of a subject of that kind, for the restart parts */
static int subject_image(int kind, struct tf_image *im)
{
	struct tf_subject s;
	int err;

	if (tf_subj_start(&s, kind, 0))
		return -1;
	err = tf_checkpoint_mem(s.pid, im, NULL);
	tf_subj_stop(&s);
	return err ? -1 : 0;
}

static void sweep_restart(int kind)
{
	struct tf_image im;
	struct tf_run o = { .src = TF_SRC_MEMFD, .limit_ms = 30000, .grace_ms = 30000 };
	struct tf_result r;
	struct tf_hist h = { 0 };
	char name[128], why[600] = "";
	int n, unfired = 0, max = tf_budget("T_FAULT_MAX", 2000, 2000);
	long long end = tf_now_ms() + budget_ms;

	snprintf(name, sizeof(name), "restart of a %s image with fail-nth 1, 2, ...: clean error, SIGKILL or restored",
		 tf_kind_name(kind));
	if (subject_image(kind, &im)) {
		t_fail(name, "no image");
		return;
	}
	/* Until the restored subject finds fail-nth unfired: past the end. */
	for (n = 1; n <= max && !unfired && !why[0] && tf_now_ms() < end; n++) {
		o.fail_nth = n;
		tf_restart(im.buf, im.len, &o, &r);
		tf_hist_add(&h, &r);
		unfired = r.outcome == TF_RESTORED && r.nth_unfired;
		if (restart_ok(&r, why, sizeof(why)))
			tf_repro_emit("faults-restart", why, im.buf, im.len);
	}
	report_sweep(name, why, kind, n - 1, unfired ? "a restore without a fault" : NULL, &h);
	free(im.buf);
}

/* failslab and fail_page_alloc with a probability, checkpoints and restarts */
static void random_faults(uint64_t seed)
{
	const char *name = "failslab/fail_page_alloc at 3%: checkpoints and restarts end cleanly";
	struct tf_run o = { .src = TF_SRC_MEMFD, .make_it_fail = 1, .limit_ms = 30000 };
	struct tf_subject s;
	struct tf_image im;
	struct ckpt_res cr;
	struct tf_result r;
	struct tf_hist h = { 0 };
	struct tf_rng rng;
	char why[600] = "";
	long long end = tf_now_ms() + budget_ms;
	int n = 0;

	tf_rng_seed(&rng, seed);
	if (subject_image(TF_FILES, &im) || tf_subj_start(&s, TF_SIGNALS, 0)) {
		t_fail(name, "no subject");
		return;
	}
	set_probability("3");
	for (; tf_now_ms() < end && !why[0]; n++) {
		o.src = tf_below(&rng, 2) ? TF_SRC_MEMFD : TF_SRC_PIPE;
		if (tf_below(&rng, 2)) {
			tf_restart(im.buf, im.len, &o, &r);
			tf_hist_add(&h, &r);
			if (restart_ok(&r, why, sizeof(why)))
				tf_repro_emit("faults-random-restart", why, im.buf, im.len);
		} else if (!ckpt_faulty(&s, 0, &cr, why, sizeof(why))) {
			after_ckpt(&s, &cr, why, sizeof(why));
		}
	}
	set_probability("0");
	t_check(!why[0], name, "after %d runs: %s", n, why);
	tf_hist_print(&h, "random faults: restart outcomes");
	tf_subj_stop(&s);
	free(im.buf);
}

int main(int argc, char **argv)
{
	const char *what = NULL;
	uint64_t seed;

	if (tf_child_main(argc, argv) >= 0)
		return 0;
	seed = tf_run_seed();
	tf_runner_init();
	if (access("/proc/self/fail-nth", F_OK)) {
		t_skip("fault injection", "no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION");
		return t_done();
	}
	/* /init mounts debugfs; when it did not, try here */
	if (access(DBG "/failslab", F_OK))
		mount("debugfs", DBG, "debugfs", 0, NULL);
	if (set_knobs(&what)) {
		t_skip("fault injection", what);
		return t_done();
	}
	budget_ms = tf_budget("T_FAULT_SECS", 25, 25) * 1000;
	sweep_checkpoint(TF_PIPE);
	sweep_checkpoint(TF_SIGNALS);
	sweep_restart(TF_FILES);
	sweep_restart(TF_SLEEP);
	random_faults(seed);
	return t_done();
}
