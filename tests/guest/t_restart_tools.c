// SPDX-License-Identifier: GPL-2.0
/*
 * The tools on a real task: checkpoint -o FILE and restart -i FILE with
 * the original pid; `checkpoint PID | restart`; restart -d with --pidfile;
 * a pid in use (restart says so, --no-pids restores under a new pid);
 * ckptinfo decodes the image.  The restored subject verifies itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlib.h"

static const char *bindir;
static pid_t orig;

static void tool_subject(void *arg)
{
	(void)arg;
	/* Detached, its parent (the tool) exits: no death signal then. */
	prctl(PR_SET_PDEATHSIG, 0);
	orig = getpid();
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(1, "restored by the tools", " ");
}

/* Run a shell command line; its exit status; stdout+stderr into out. */
static int sh(char *out, size_t outsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[2048], path[PATH_MAX];
	va_list ap;
	int fd, rc;
	char *s;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = t_mkstemp(path, "sh");
	close(fd);
	{
		char full[8192];

		snprintf(full, sizeof(full), "PATH=%.200s:$PATH; (%s) >%.4000s 2>&1",
			 bindir, cmd, path);
		rc = system(full);
	}
	s = t_read_path(path, NULL);
	snprintf(out, outsz, "%s", s ? s : "");
	free(s);
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

/* Start a subject and checkpoint it with the tool into s.img_path. */
static int start_and_checkpoint(struct t_subject *s, const char *name, int kill_it)
{
	char out[4096];
	int rc;

	if (t_subj_start(s, tool_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(s, name))
		return -1;
	rc = sh(out, sizeof(out), "checkpoint %s -o %s %d", kill_it ? "-k" : "",
		s->img_path, s->pid);
	if (!t_check(rc == 0, name, "checkpoint exit %d: %.300s", rc, out))
		return -1;
	if (kill_it) {
		t_wait(s->pid);
		s->pid = 0;
	}
	return 0;
}

/* Reap what restart -d left to us, for at most 5 s; then kill it. */
static void reap_all(void)
{
	int i;

	for (i = 0; i < 500; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0)
			return;
		if (p == 0)
			usleep(10000);
	}
	t_fail("restored tasks end", "still running after 5 s");
	kill(0, SIGKILL);
}

/* Reap a restored subject that restart -d left to init: tell it to go. */
static void finish_detached(struct t_subject *s, pid_t pid, const char *name)
{
	char rep[4096];
	int i;
	size_t n = 0;
	char *buf = NULL;

	pwrite(s->ctl, "g", 1, T_SUBJ_GO_OFF);
	for (i = 0; i < 500; i++) {
		free(buf);
		buf = t_read_path(s->rep_path, &n);
		if (buf && strstr(buf, "# subject done"))
			break;
		usleep(10000);
	}
	snprintf(rep, sizeof(rep), "%s", buf ? buf : "");
	t_check(strstr(rep, "ok - restored by the tools") != NULL, name,
		"pid %d reported \"%.200s\"", pid, rep);
	free(buf);
}

int main(void)
{
	struct t_subject s;
	char out[8192], name[128];
	int rc, root = geteuid() == 0;

	bindir = getenv("CKPT_BINDIR");
	if (!bindir || !*bindir)
		bindir = "/bin";
	/* Restored tasks left by restart -d are ours to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	/* checkpoint -k -o FILE; ckptinfo; restart -i FILE (same pid). */
	if (!start_and_checkpoint(&s, "checkpoint -k -o FILE PID", 1)) {
		rc = sh(out, sizeof(out), "ckptinfo %s", s.img_path);
		t_check(rc == 0 && strstr(out, " task ") && strstr(out, " cpu ") &&
			strstr(out, " mm ") && strstr(out, " vma ") &&
			strstr(out, " pages ") && strstr(out, " fd ") &&
			strstr(out, " signals ") && strstr(out, "complete image"),
			"ckptinfo decodes the image", "exit %d: %.500s", rc, out);
		snprintf(name, sizeof(name), "\"pid %d", s.orig_pid);
		snprintf(out, sizeof(out), "%d", s.orig_pid);
		rc = sh(out, sizeof(out), "restart -d --pidfile %s.pid -i %s; cat %s.pid",
			s.img_path, s.img_path, s.img_path);
		if (root) {
			t_check(rc == 0 && atoi(out) == s.orig_pid,
				"restart -d --pidfile: the original pid",
				"exit %d, pidfile \"%.200s\", original pid %d", rc, out,
				s.orig_pid);
			/* Now the pid is in use. */
			rc = sh(out, sizeof(out), "restart --no-pidns -i %s", s.img_path);
			snprintf(name, sizeof(name), "pid %d is in use; use --no-pids",
				 s.orig_pid);
			t_check(rc == 1 && strstr(out, name), "restart --no-pidns of a pid in use: exit 1, says so",
				"exit %d: %.300s", rc, out);
			/* --no-pids restores it anyway: a second copy. */
			rc = sh(out, sizeof(out), "restart -d --no-pids -i %s", s.img_path);
			t_check(rc == 0 && atoi(out) > 0 && atoi(out) != s.orig_pid,
				"restart -d --no-pids: a new pid", "exit %d: %.200s", rc, out);
			/* Both copies share the control file: go ends them both. */
			finish_detached(&s, s.orig_pid, "restored subject (original pid) verifies itself");
			reap_all();
		} else {
			t_check(rc == 1 && strstr(out, "use --no-pids"),
				"restart without privilege asks for --no-pids",
				"exit %d: %.300s", rc, out);
		}
	}
	t_subj_cleanup(&s);

	/* checkpoint PID | restart (waits, passes on the exit status). */
	if (!start_and_checkpoint(&s, "checkpoint of a second subject", 0)) {
		pid_t pid = s.pid;

		/* Tell the subject to go in advance: the restored copy goes. */
		t_subj_kill(&s);
		pwrite(s.ctl, "g", 1, T_SUBJ_GO_OFF);
		rc = sh(out, sizeof(out), "cat %s | restart --no-pids", s.img_path);
		t_check(rc == 0, "cat IMAGE | restart: the restored task's exit status",
			"exit %d: %.300s (subject was %d)", rc, out, pid);
		t_check(t_read_path(s.rep_path, NULL) &&
			strstr(t_read_path(s.rep_path, NULL), "ok - restored by the tools"),
			"cat IMAGE | restart: the task ran", "report missing");
	}
	t_subj_cleanup(&s);

	/*
	 * checkpoint -k PID | restart, the same pid: restart finds the pid in
	 * use until the image is complete, -k has killed the subject and its
	 * parent (this program) has reaped it; it takes in the image and
	 * waits for the pid.  Nothing here waits without a bound: a pipeline
	 * that ends without killing the subject is a failure, not a hang.
	 */
	if (!t_subj_start(&s, tool_subject, NULL) && !t_subj_wait_ready(&s, "pipe subject")) {
		char outpath[PATH_MAX], *o;
		pid_t runner, subj = s.pid;
		int status = 0, subj_dead = 0, runner_done = 0, i;

		close(t_mkstemp(outpath, "pipe-out"));
		fflush(NULL);
		runner = fork();
		if (runner == 0) {
			FILE *f;

			setpgid(0, 0);	/* the pipeline and the restored task */
			rc = sh(out, sizeof(out), "checkpoint -k %d | restart %s",
				subj, root ? "" : "--no-pids");
			f = fopen(outpath, "w");
			if (f) {
				fputs(out, f);
				fclose(f);
			}
			_exit(rc);
		}
		setpgid(runner, runner);
		/* Killed by checkpoint -k, reaped here: then the restored copy may go. */
		for (i = 0; i < 3000 && !subj_dead; i++) {
			if (waitpid(subj, NULL, WNOHANG) == subj) {
				subj_dead = 1;
			} else if (!runner_done &&
				   waitpid(runner, &status, WNOHANG) == runner) {
				runner_done = 1;
				i = 2800;	/* the pipeline is over: 2 s more */
			} else {
				usleep(10000);
			}
		}
		s.pid = 0;
		if (subj_dead)
			pwrite(s.ctl, "g", 1, T_SUBJ_GO_OFF);
		else
			kill(subj, SIGKILL);	/* reaped by t_subj_cleanup's waitpid */
		if (!subj_dead)
			s.pid = subj;
		for (i = 0; i < 3000 && !runner_done; i++) {
			if (waitpid(runner, &status, WNOHANG) == runner)
				runner_done = 1;
			else
				usleep(10000);
		}
		if (!runner_done) {
			kill(-runner, SIGKILL);
			waitpid(runner, &status, 0);
		}
		o = t_read_path(outpath, NULL);
		unlink(outpath);
		rc = !runner_done ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		if (!subj_dead)
			t_fail("checkpoint -k PID | restart",
			       "the subject was not killed; pipeline %s %d: %.300s",
			       runner_done ? "exit" : "still running, killed;", rc,
			       o ? o : "");
		else
			t_check(rc == 0 && strstr(t_read_path(s.rep_path, NULL) ?: "",
						  "ok - restored by the tools"),
				"checkpoint -k PID | restart", "exit %d: %.300s", rc,
				!runner_done ? "(pipeline hung, killed)" : o ? o : "");
		free(o);
	}
	t_subj_cleanup(&s);
	return t_done();
}
