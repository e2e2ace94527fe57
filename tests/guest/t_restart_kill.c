// SPDX-License-Identifier: GPL-2.0
/*
 * SIGKILL at random moments, on a subject with a lot of touched memory
 * (64 MiB; 32 MiB on the debug kernel):
 *
 * - the caller of checkpoint(2) is killed at random delays while it writes
 *   to a file, and while it is blocked on a full pipe nobody reads: it
 *   must end, and the subject must run on unchanged (it verifies its own
 *   memory and state) and be checkpointable again;
 * - the child restarting the image is killed at random delays, the image
 *   read from a file and from a pipe: it must end (killed, or the subject
 *   restored in full), leave nothing behind, and no memory may be lost;
 * - a tree (a parent and two children, a quarter of that memory each) is
 *   checkpointed while checkpoints of it are killed (it runs on), and
 *   restarted under a coordinator while one of its tasks is killed at
 *   random delays: the coordinator gets an errno and no task is left half
 *   restored, or the tree is restored (then without that task, which its
 *   parent sees); nothing left behind, no memory lost.
 *
 * Environment: T_KILL_MB (memory of the subject), T_KILL_SECS (budget of
 * each of the 6 parts, default 10 s (the six fit in the 120 s a test
 * program gets), debug kernel 30 s), T_SEED.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tfuzz.h"

static struct tf_rng rng;
static long budget_ms;

/* A checkpoint of pid into fd in a child; its pid */
static pid_t ckpt_child(pid_t pid, int fd, int other)
{
	pid_t c = tf_fork();

	if (c == 0) {
		if (other >= 0)
			close(other);
		_exit(sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, -1) < 0 ? errno : 0);
	}
	return c;
}

/* How long a whole checkpoint of s takes (ms), or -1 */
static long ckpt_time(struct tf_subject *s, struct tf_image *im)
{
	long long t0 = tf_now_ms();

	free(im->buf);
	memset(im, 0, sizeof(*im));
	if (tf_checkpoint_mem(s->pid, im, NULL))
		return -1;
	return tf_now_ms() - t0;
}

/* Kill checkpoints of s at random moments; NULL when all went well */
static const char *kill_checkpoints(struct tf_subject *s, long full_ms,
				    int to_pipe, int *runs)
{
	static char why[400];
	const char *v;
	long long end = tf_now_ms() + budget_ms;
	int p[2], fd, status;
	pid_t c;

	for (*runs = 0; tf_now_ms() < end; (*runs)++) {
		long delay = tf_below(&rng, full_ms * 1200 + 1);

		if (to_pipe ? pipe(p) : (p[1] = memfd_create("img", MFD_CLOEXEC)) < 0)
			t_bail("pipe");
		fd = p[1];
		c = ckpt_child(s->pid, fd, to_pipe ? p[0] : -1);
		usleep(delay);
		kill(c, SIGKILL);
		status = tf_wait_ms(c, 30000);
		close(fd);
		if (to_pipe)
			close(p[0]);
		if (status == -1) {
			snprintf(why, sizeof(why), "the checkpointing child killed after %ld us did not end",
				 delay);
			return why;
		}
		v = tf_subj_verify(s, 30000);
		if (v || !tf_subj_runs(s, 5000)) {
			snprintf(why, sizeof(why), "checkpoint killed after %ld us: %s", delay,
				 v ? v : "the subject does not run on");
			return why;
		}
		if (tf_kmsg_scan(why, sizeof(why), 0))
			return why;
	}
	return NULL;
}

static void test_checkpoint(struct tf_subject *s, struct tf_image *im)
{
	const char *why;
	char name[128];
	long full = ckpt_time(s, im);
	int runs;

	printf("# checkpoint of %zu MiB: %ld ms, image %zu bytes\n", s->mem >> 20, full,
	       im->len);
	if (!t_check(full >= 0, "checkpoint of the big subject", "%s", t_errname(errno)))
		return;
	why = kill_checkpoints(s, full, 0, &runs);
	snprintf(name, sizeof(name), "checkpoint into a memfd killed at random (%d times): subject unchanged",
		 runs);
	t_check(!why, name, "%s", why);
	why = kill_checkpoints(s, full, 1, &runs);
	snprintf(name, sizeof(name), "checkpoint blocked on a full pipe killed (%d times): subject unchanged",
		 runs);
	t_check(!why, name, "%s", why);
	full = ckpt_time(s, im);
	t_check(full >= 0 && !tf_subj_verify(s, 30000),
		"the subject is checkpointed again afterwards", "%s",
		full < 0 ? t_errname(errno) : "it does not verify");
}

/* Kill restarts of im at random moments; NULL when all went well */
static const char *kill_restarts(struct tf_image *im, enum tf_src src,
				 long full_ms, struct tf_hist *h)
{
	static char why[700];
	struct tf_run o = { .src = src, .limit_ms = 60000, .grace_ms = 30000 };
	struct tf_result r;
	char res[64];
	long long end = tf_now_ms() + budget_ms;

	while (tf_now_ms() < end) {
		/* The restart begins after the image is written (file, memfd). */
		o.kill_after_us = 1 + tf_below(&rng, full_ms * 1200 + 1);
		tf_restart(im->buf, im->len, &o, &r);
		tf_hist_add(h, &r);
		if (!tf_result_ok(&r, why, sizeof(why)))
			return why;
		if (r.outcome != TF_KILLED && r.outcome != TF_RESTORED &&
		    !(r.outcome == TF_ERRNO && r.err == EINTR)) {
			snprintf(why, sizeof(why), "killed after %d us: %s", o.kill_after_us,
				 tf_result_str(&r, res, sizeof(res)));
			return why;
		}
	}
	return NULL;
}

static void test_restart(struct tf_image *im)
{
	static const enum tf_src srcs[] = { TF_SRC_FILE, TF_SRC_PIPE };
	static const char *const names[] = { "a file", "a pipe" };
	struct tf_run o = { .src = TF_SRC_FILE, .limit_ms = 120000 };
	struct tf_result r;
	struct tf_hist h;
	char name[128], res[64];
	const char *why;
	long avail0, avail1, files0, files1;
	size_t i;

	tf_restart(im->buf, im->len, &o, &r);
	printf("# restart of %zu bytes: %ld ms\n", im->len, r.ms);
	if (!t_check(r.outcome == TF_RESTORED, "the big image restores", "%s; log %.200s",
		     tf_result_str(&r, res, sizeof(res)), r.log))
		return;
	avail0 = tf_mem_available();
	files0 = tf_files_allocated();
	for (i = 0; i < 2; i++) {
		memset(&h, 0, sizeof(h));
		why = kill_restarts(im, srcs[i], r.ms, &h);
		snprintf(name, sizeof(name), "restart from %s killed at random (%lu times): ends cleanly",
			 names[i], h.total);
		t_check(!why, name, "%s", why);
		tf_hist_print(&h, names[i]);
	}
	tf_sleep_ms(500);
	avail1 = tf_mem_available();
	files1 = tf_files_allocated();
	/*
	 * Less than half the image: a leaked address space would show.  (The
	 * free pages the kernel keeps on its per-cpu lists count as available:
	 * they are tens of MiB after a big exit, fewer a few seconds later.)
	 */
	t_check(avail0 - avail1 < (long)(im->len >> 11),
		"no memory lost to killed restarts",
		"%ld kB available before, %ld kB after (MemAvailable and per-cpu free pages)",
		avail0, avail1);
	t_check(files1 - files0 < 64, "no file handles lost to killed restarts",
		"%ld allocated before, %ld after", files0, files1);
}

/* A task of a tree restart killed at random moments */
static void test_tree(size_t mem)
{
	static struct tt_plan plan;
	struct tf_subject s;
	struct tf_image im = { 0 };
	struct tf_run o = { .src = TF_SRC_FILE, .limit_ms = 120000, .pidns = 1 };
	struct tf_result r;
	struct tf_hist h = { 0 };
	char res[64], why[700] = "", name[160];
	long full, avail0, avail1, files0, files1;
	long long end;
	int runs;
	const char *w;

	if (tf_subj_start(&s, TF_TREE, mem))
		t_bail("the tree subject");
	full = ckpt_time(&s, &im);
	printf("# checkpoint of the tree (%zu MiB each): %ld ms, image %zu bytes\n", mem >> 20,
	       full, im.len);
	if (!t_check(full >= 0, "checkpoint of the tree", "%s", t_errname(errno))) {
		tf_subj_stop(&s);
		return;
	}
	w = kill_checkpoints(&s, full, 0, &runs);
	snprintf(name, sizeof(name), "checkpoint of the tree killed at random (%d times): the tree runs on",
		 runs);
	t_check(!w, name, "%s", w);
	tf_subj_stop(&s);

	tt_plan_image(im.buf, im.len, &plan);
	o.tree = &plan;
	tf_restart(im.buf, im.len, &o, &r);
	printf("# restart of the tree: %ld ms\n", r.ms);
	if (!t_check(r.outcome == TF_RESTORED, "the tree restores", "%s; log %.200s",
		     tf_result_str(&r, res, sizeof(res)), r.log)) {
		free(im.buf);
		return;
	}
	avail0 = tf_mem_available();
	files0 = tf_files_allocated();
	o.limit_ms = 60000;
	o.grace_ms = 30000;
	for (end = tf_now_ms() + budget_ms; tf_now_ms() < end && !why[0];) {
		o.kill_after_us = 1 + tf_below(&rng, r.ms * 1200 + 1);
		o.kill_task = tf_below(&rng, 3);
		tf_restart(im.buf, im.len, &o, &r);
		tf_hist_add(&h, &r);
		if (!tf_result_ok(&r, why, sizeof(why)))
			continue;
		why[0] = '\0';
		/*
		 * Killed after the tree was restored: the root sees it; or it
		 * was the root, and the coordinator, which ends as the root
		 * did, ends by SIGKILL too.
		 */
		if (r.outcome != TF_ERRNO && r.outcome != TF_RESTORED &&
		    r.outcome != TF_RESTORED_WRONG &&
		    !(r.outcome == TF_KILLED && o.kill_task == 0))
			snprintf(why, sizeof(why), "task %d killed after %d us: %s", o.kill_task,
				 o.kill_after_us, tf_result_str(&r, res, sizeof(res)));
	}
	snprintf(name, sizeof(name), "tree restart, a task killed at random (%lu times): ends cleanly",
		 h.total);
	t_check(!why[0], name, "%s", why);
	tf_hist_print(&h, "tree, a task killed");
	tf_sleep_ms(500);
	avail1 = tf_mem_available();
	files1 = tf_files_allocated();
	t_check(avail0 - avail1 < (long)(im.len >> 11), "no memory lost to killed tree restarts",
		"%ld kB available before, %ld kB after", avail0, avail1);
	t_check(files1 - files0 < 64, "no file handles lost to killed tree restarts",
		"%ld allocated before, %ld after", files0, files1);
	free(im.buf);
}

int main(int argc, char **argv)
{
	struct tf_subject s;
	struct tf_image im = { 0 };
	size_t mb;

	if (tf_child_main(argc, argv) >= 0)
		return 0;
	tf_rng_seed(&rng, tf_run_seed());
	tf_runner_init();
	mb = tf_budget("T_KILL_MB", 64, 32);
	budget_ms = tf_budget("T_KILL_SECS", 10, 30) * 1000;
	if (tf_subj_start(&s, TF_BASIC, mb << 20))
		t_bail("the big subject");
	test_checkpoint(&s, &im);
	tf_subj_stop(&s);
	if (im.buf)
		test_restart(&im);
	free(im.buf);
	test_tree((mb << 20) / 4);
	if (tf_kmsg_scan(NULL, 0, 0))
		t_fail("no kernel reports", "see the console");
	return t_done();
}
