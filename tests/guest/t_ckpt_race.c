// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint(2) racing with itself and with its target:
 *
 * - two checkpoints of the same task at once: both end, each with a
 *   complete image or a clean errno, and the task runs on unchanged;
 * - checkpoints in a loop while the target maps, protects and unmaps
 *   memory as fast as it can, while it execs itself in a loop, and while
 *   it forks and reaps children (EOPNOTSUPP while it has one is fine);
 *   each image is complete, some are restored and verify themselves;
 * - restart(2) reading the image from a pipe while checkpoint(2) is
 *   still writing it.
 * After each checkpoint the target verifies its own state.
 *
 * Environment: T_RACE_SECS (budget of each loop, default 5 s, debug
 * kernel 20 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tfuzz.h"

static long budget_ms;

struct ckpt_res {
	long ret;
	int err;
	int complete;
};

/*
 * checkpoint(2) of pid in a child once go has a byte (go -1: at once),
 * into out (-1: a memfd, whose image it checks); result to wr
 */
static pid_t ckpt_child(pid_t pid, int go, int out, int wr)
{
	pid_t c = tf_fork();

	if (c == 0) {
		struct ckpt_res r = { 0 };
		struct t_image ti = { .complete = 1 };
		int fd = out >= 0 ? out : memfd_create("img", 0);
		char b;

		if (go >= 0 && read(go, &b, 1) != 1)
			_exit(1);
		r.ret = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, -1);
		r.err = errno;
		if (out < 0) {
			lseek(fd, 0, SEEK_SET);
			t_scan_fd(fd, &ti);
		}
		r.complete = ti.complete;
		_exit(write(wr, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	return c;
}

/* Why a checkpoint result is not acceptable (NULL: it is) */
static const char *bad_result(const struct ckpt_res *r, const int *allowed)
{
	static char why[128];

	if (!r->ret) {
		if (r->complete)
			return NULL;
		return "succeeded with an incomplete image";
	}
	for (; allowed && *allowed; allowed++)
		if (r->err == *allowed)
			return NULL;
	snprintf(why, sizeof(why), "failed with %s", t_errname(r->err));
	return why;
}

static const char *check_subject(struct tf_subject *s, char *why, size_t sz)
{
	const char *v = tf_subj_verify(s, 10000);

	if (v)
		snprintf(why, sz, "%s", v);
	else if (!tf_subj_runs(s, 5000))
		snprintf(why, sz, "the subject does not run on");
	else if (tf_kmsg_scan(why, sz, 0))
		return why;
	else
		return NULL;
	return why;
}

static void test_two_at_once(void)
{
	static const int allowed[] = { EBUSY, EAGAIN, 0 };
	const char *name = "two checkpoints of one task at once: both end cleanly, the task unchanged";
	struct tf_subject s;
	struct ckpt_res r[2];
	char why[512] = "";
	long long end = tf_now_ms() + budget_ms;
	int go[2], res[2], i, rounds = 0, ok = 0;
	pid_t c[2];

	if (tf_subj_start(&s, TF_FILES, 0))
		t_bail("subject");
	while (tf_now_ms() < end && !why[0]) {
		if (pipe(go) || pipe(res))
			t_bail("pipe");
		for (i = 0; i < 2; i++)
			c[i] = ckpt_child(s.pid, go[0], -1, res[1]);
		close(res[1]);
		write(go[1], "gg", 2);	/* both at once */
		for (i = 0; i < 2 && !why[0]; i++) {
			if (tf_wait_ms(c[i], 30000) == -1 ||
			    read(res[0], &r[i], sizeof(r[i])) != sizeof(r[i]))
				snprintf(why, sizeof(why), "a checkpoint did not end");
			else if (bad_result(&r[i], allowed))
				snprintf(why, sizeof(why), "%s", bad_result(&r[i], allowed));
			else
				ok += !r[i].ret;
		}
		for (i = 0; i < 2; i++) {
			kill(c[i], SIGKILL);
			tf_wait_ms(c[i], 1000);
		}
		close(go[0]);
		close(go[1]);
		close(res[0]);
		rounds++;
		if (!why[0])
			check_subject(&s, why, sizeof(why));
	}
	t_check(!why[0] && ok, name, "round %d: %s (%d successful)", rounds, why, ok);
	printf("# %d rounds, %d successful checkpoints of %d\n", rounds, ok, 2 * rounds);
	tf_subj_stop(&s);
}

/*
 * Checkpoint a subject of that kind in a loop; successes must give
 * complete images, failures one of the allowed errnos; every restore-th
 * image is restored and must verify itself (0: none).
 */
static void ckpt_loop(const char *name, int kind, const int *allowed, int restore)
{
	struct tf_subject s;
	struct tf_image im;
	struct tf_run o = { .src = TF_SRC_MEMFD, .limit_ms = 30000 };
	struct tf_result r;
	struct tf_hist h = { 0 };
	struct ckpt_res cr;
	char why[512] = "", res[64];
	long long end = tf_now_ms() + budget_ms;
	int n = 0, ok = 0, restored = 0;

	if (tf_subj_start(&s, kind, 0))
		t_bail("subject");
	for (; tf_now_ms() < end && !why[0]; n++) {
		struct tf_result fake = { 0 };
		char *log = NULL;

		memset(&im, 0, sizeof(im));
		cr.ret = tf_checkpoint_mem(s.pid, &im, &log);
		cr.err = cr.ret;
		cr.ret = cr.ret ? -1 : 0;
		if (!cr.ret) {
			struct t_image ti;
			int fd = tf_memfd(im.buf, im.len);

			t_scan_fd(fd, &ti);
			close(fd);
			cr.complete = ti.complete;
		}
		fake.err = cr.ret ? cr.err : 0;
		tf_hist_add(&h, &fake);
		if (bad_result(&cr, allowed))
			snprintf(why, sizeof(why), "checkpoint %d %s; log: %.200s", n,
				 bad_result(&cr, allowed), log ? log : "");
		else if (!cr.ret && restore && ++ok % restore == 1) {
			tf_restart(im.buf, im.len, &o, &r);
			restored++;
			if (r.outcome != TF_RESTORED || r.reports)
				snprintf(why, sizeof(why), "image %d restores as %s%s%s; log %.200s",
					 n, tf_result_str(&r, res, sizeof(res)),
					 r.reports ? ", kernel report " : "", r.report, r.log);
		}
		free(im.buf);
		free(log);
		if (!why[0])
			check_subject(&s, why, sizeof(why));
	}
	t_check(!why[0], name, "%s", why);
	printf("# %d checkpoints, %d restored\n", n, restored);
	tf_hist_print(&h, "checkpoint results");
	tf_subj_stop(&s);
}

/* restart(2) from a pipe that checkpoint(2) is writing into */
static void test_restart_while_written(void)
{
	const char *name = "restart from a pipe while checkpoint writes it: the copy restores";
	struct tf_subject s;
	struct ckpt_res cr;
	char why[512] = "";
	int p[2], res[2], i, st;
	pid_t rc, cc;

	if (tf_subj_start(&s, TF_PIPE, 1 << 20))
		t_bail("subject");
	for (i = 0; i < 5 && !why[0]; i++) {
		if (pipe(p) || pipe(res))
			t_bail("pipe");
		rc = tf_fork();
		if (rc == 0) {
			close(p[1]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(sys_restart(0, p[0], RESTART_TASKSELF, -1) < 0 ? 100 + errno : 99);
		}
		cc = ckpt_child(s.pid, -1, p[1], res[1]);
		close(p[0]);
		close(p[1]);
		close(res[1]);
		st = tf_wait_ms(cc, 60000);
		if (st == -1 || read(res[0], &cr, sizeof(cr)) != sizeof(cr) || cr.ret)
			snprintf(why, sizeof(why), "checkpoint: %s",
				 st == -1 ? "did not end" : t_errname(cr.err));
		st = tf_wait_ms(rc, 60000);
		if (!why[0] && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != TF_RESTORED_OK))
			snprintf(why, sizeof(why), "the restarting child: status 0x%x", st);
		kill(rc, SIGKILL);
		kill(cc, SIGKILL);
		tf_wait_ms(rc, 1000);
		tf_wait_ms(cc, 1000);
		close(res[0]);
		if (!why[0])
			check_subject(&s, why, sizeof(why));
	}
	t_check(!why[0], name, "round %d: %s", i, why);
	tf_subj_stop(&s);
}

int main(int argc, char **argv)
{
	static const int none[] = { 0 };
	static const int children[] = { EOPNOTSUPP, 0 };
	static const int exec[] = { EOPNOTSUPP, ESRCH, EBUSY, EAGAIN, 0 };

	if (tf_child_main(argc, argv) >= 0)
		return 0;
	tf_run_seed();
	tf_runner_init();
	budget_ms = tf_budget("T_RACE_SECS", 5, 20) * 1000;
	test_two_at_once();
	ckpt_loop("checkpoints while the task maps and unmaps memory: complete images, task unchanged",
		  TF_CHURN, none, 5);
	ckpt_loop("checkpoints while the task execs in a loop: complete images or clean errors",
		  TF_EXECER, exec, 0);
	ckpt_loop("checkpoints while the task forks and reaps: complete images or EOPNOTSUPP",
		  TF_FORKER, children, 0);
	test_restart_while_written();
	return t_done();
}
