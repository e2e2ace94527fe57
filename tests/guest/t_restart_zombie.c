// SPDX-License-Identifier: GPL-2.0
/*
 * Zombies: a process with children that exited and that it has not waited
 * for yet is checkpointed with the tools (checkpoint -k), and restarted
 * (restart -d).  After the restart the process finds its zombies with
 * their pids and exit statuses (one exited with a code, one killed by a
 * signal), gets no second SIGCHLD for them, and still has its live child.
 * The restored process checks all that itself and writes what it found
 * to a report file, which the test reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"

#define IMG	"/tmp/t_restart_zombie.img"
#define REPORT	"/tmp/t_restart_zombie.report"
#define PIDFILE	"/tmp/t_restart_zombie.pid"

static volatile sig_atomic_t nr_sigchld, go;

static void on_sigchld(int sig)
{
	(void)sig;
	nr_sigchld++;
}

static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

/* Whether pid is a zombie, from /proc/pid/stat */
static int is_zombie(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static void report(FILE *f, int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(FILE *f, int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%s - zombie: %s", ok ? "ok" : "not ok", what);
	if (!ok) {
		fputs(": ", f);
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
	}
	fputc('\n', f);
}

/* The checkpointed process: its zombies and a live child, then the checks */
static void __attribute__((noreturn)) subject(int ready)
{
	struct sigaction sa = { .sa_handler = on_sigchld };
	pid_t me = getpid(), z1, z2, live, w;
	int st1 = -1, st2 = -1, stl = -1, i, before;
	sigset_t none;
	FILE *f;

	setpgid(0, 0);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR1, &sa, NULL);
	z1 = fork();
	if (!z1)
		_exit(5);
	z2 = fork();
	if (!z2) {
		raise(SIGTERM);
		_exit(99);
	}
	live = fork();
	if (!live) {
		for (;;)
			pause();
	}
	for (i = 0; i < 500 && !(is_zombie(z1) && is_zombie(z2)); i++)
		usleep(10000);
	/* Both SIGCHLDs were handled before the checkpoint */
	for (i = 0; i < 500 && nr_sigchld < 2; i++)
		usleep(10000);
	before = nr_sigchld;
	if (write(ready, "r", 1) != 1)
		_exit(3);
	close(ready);

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);

	f = fopen(REPORT ".tmp", "w");
	if (!f)
		_exit(4);
	report(f, getpid() == me, "same pid", "%d, was %d", getpid(), me);
	/* Two exits may have been one SIGCHLD */
	report(f, before >= 1 && nr_sigchld == before, "no SIGCHLD again after restart",
	       "%d before checkpoint, %d now", before, (int)nr_sigchld);
	report(f, is_zombie(z1) && is_zombie(z2), "both are zombies again",
	       "%d %s, %d %s", z1, is_zombie(z1) ? "zombie" : "not a zombie",
	       z2, is_zombie(z2) ? "zombie" : "not a zombie");
	w = waitpid(z1, &st1, WNOHANG);
	report(f, w == z1 && WIFEXITED(st1) && WEXITSTATUS(st1) == 5,
	       "exited child: waitpid gives its pid and exit code 5",
	       "waitpid %d, status %#x", w, st1);
	w = waitpid(z2, &st2, WNOHANG);
	report(f, w == z2 && WIFSIGNALED(st2) && WTERMSIG(st2) == SIGTERM,
	       "killed child: waitpid gives its pid and SIGTERM",
	       "waitpid %d, status %#x", w, st2);
	report(f, !kill(live, 0), "the live child is there", "%s", strerror(errno));
	kill(live, SIGKILL);
	w = waitpid(live, &stl, 0);
	report(f, w == live && WIFSIGNALED(stl), "the live child is its child",
	       "waitpid %d, status %#x", w, stl);
	w = waitpid(-1, &stl, WNOHANG);
	report(f, w < 0 && errno == ECHILD, "no other child", "waitpid %d", w);
	fclose(f);
	rename(REPORT ".tmp", REPORT);
	_exit(0);
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The restored subject's report, once it wrote it: 0, or -1 */
static int read_report(void)
{
	char line[512];
	FILE *f = NULL;
	int i;

	for (i = 0; i < 1000 && !f; i++) {
		f = fopen(REPORT, "r");
		if (!f)
			usleep(10000);
	}
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "ok - ", 5))
			t_pass(line + 5);
		else if (!strncmp(line, "not ok - ", 9))
			t_fail(line + 9, "(from the restored process)");
	}
	fclose(f);
	return 0;
}

int main(void)
{
	char cmd[256], buf[32] = "";
	int p[2], fd, rc;
	pid_t s, restored;

	unlink(REPORT);
	unlink(PIDFILE);
	if (pipe(p))
		t_bail("pipe");
	s = fork();
	if (s < 0)
		t_bail("fork");
	if (!s) {
		close(p[0]);
		subject(p[1]);
	}
	close(p[1]);
	if (!t_check(read(p[0], buf, 1) == 1, "zombie: the subject is ready",
		     "it ended first"))
		return t_done();
	close(p[0]);

	snprintf(cmd, sizeof(cmd), "/bin/checkpoint -k -o %s %d", IMG, s);
	rc = run(cmd);
	t_check(rc == 0, "zombie: checkpoint -k of a process with zombies",
		"exit %d", rc);
	t_wait(s);
	if (rc)
		return t_done();
	rc = run("/bin/ckptinfo " IMG " | grep -q 'zombie, exit code 0x500'");
	t_check(rc == 0, "zombie: ckptinfo shows the zombie and its exit code",
		"exit %d", rc);

	rc = run("/bin/restart -d --pidfile " PIDFILE " -i " IMG);
	if (!t_check(rc == 0, "zombie: restart -d", "exit %d", rc))
		return t_done();
	fd = open(PIDFILE, O_RDONLY);
	memset(buf, 0, sizeof(buf));
	restored = fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 ? atoi(buf) : 0;
	if (fd >= 0)
		close(fd);
	if (!t_check(restored > 0, "zombie: restart wrote the pid", "pidfile \"%s\"", buf))
		return t_done();
	t_check(!kill(restored, SIGUSR1), "zombie: the restored process runs",
		"kill: %s", strerror(errno));
	t_check(!read_report(), "zombie: the restored process reported",
		"no report in 10 s");
	unlink(IMG);
	unlink(REPORT);
	unlink(PIDFILE);
	return t_done();
}
