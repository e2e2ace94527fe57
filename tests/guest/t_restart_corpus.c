// SPDX-License-Identifier: GPL-2.0
/*
 * The regression corpus of restart(2): every image of tests/corpus/
 * (installed in /tests/corpus) is restarted with RESTART_TASKSELF in
 * a child, from a memfd and from a pipe.  The child is pid 2 of a pid
 * namespace of its own, like the fuzzer's: what an image turns into can
 * signal no task outside.  The images are seeds of the fuzzer
 * (t_restart_fuzz) with one change each (tests/corpus/README); whatever
 * kernel runs now, each must end cleanly: an errno with a log line,
 * SIGKILL, or a task that runs (killed at the time limit) or ends.  Never
 * a kernel report, a child that does not end, or a task left behind.
 * The first line of restart(2)'s log is printed for each run.  Every
 * image is also restarted as a tree, from a memfd: a coordinator in the
 * pid namespace makes the tasks its pids and tree records name (the
 * tests' mktree, lib/ttree.c), which join, and calls restart(root, fd,
 * 0, logfd); then no task may be half restored or left behind.
 *
 * Environment: T_CORPUS_DIR (default: corpus/ beside this program).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfuzz.h"

static int is_image(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 4 && !strcmp(e->d_name + n - 4, ".img");
}

static void replay(const char *dir, const char *file, struct tf_hist *h)
{
	static const enum tf_src srcs[] = { TF_SRC_MEMFD, TF_SRC_PIPE, TF_SRC_MEMFD };
	static struct tt_plan plan;
	struct tf_run o = { .limit_ms = 5000, .pidns = 1 };
	const char *how;
	struct tf_result r;
	char path[2 * PATH_MAX], name[PATH_MAX + 64], why[600], res[64];
	unsigned char *buf;
	size_t len, i;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	buf = (unsigned char *)t_read_path(path, &len);
	if (!buf) {
		t_fail(file, "cannot read %s", path);
		return;
	}
	tt_plan_image(buf, len, &plan);
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		o.src = srcs[i];
		o.tree = i == 2 ? &plan : NULL;
		how = i == 2 ? "memfd, as a tree" : o.src == TF_SRC_PIPE ? "pipe" : "memfd";
		tf_restart(buf, len, &o, &r);
		tf_hist_add(h, &r);
		snprintf(name, sizeof(name), "corpus %s from a %s: ends cleanly (%s)", file,
			 how, tf_result_str(&r, res, sizeof(res)));
		if (r.log[0])
			printf("# %s from a %s: %.*s\n", file, how,
			       (int)strcspn(r.log, "\n"), r.log);
		if (!tf_result_ok(&r, why, sizeof(why))) {
			t_fail(name, "%s", why);
			tf_repro_emit(file, why, buf, len);
		} else {
			t_pass(name);
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("T_CORPUS_DIR");
	char self[PATH_MAX], def[PATH_MAX + 16];
	struct dirent **list;
	struct tf_hist h = { 0 };
	ssize_t n;
	int i, nr;

	(void)argc;
	if (!dir || !*dir) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		*(strrchr(self, '/') ? strrchr(self, '/') : self) = '\0';
		snprintf(def, sizeof(def), "%s/corpus", n > 0 ? self : argv[0]);
		dir = def;
	}
	tf_runner_init();
	nr = scandir(dir, &list, is_image, alphasort);
	if (nr <= 0) {
		t_skip("corpus replay", "no images in the corpus directory");
		return t_done();
	}
	printf("# %d images in %s\n", nr, dir);
	for (i = 0; i < nr; i++) {
		replay(dir, list[i]->d_name, &h);
		free(list[i]);
	}
	free(list);
	tf_hist_print(&h, "corpus outcomes");
	return t_done();
}
