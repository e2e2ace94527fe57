// SPDX-License-Identifier: GPL-2.0
/*
 * Open files survive checkpoint, SIGKILL and restart(2): a regular file
 * with its position, one opened O_APPEND, a directory, /dev/null, two fds
 * sharing one open file (dup), close-on-exec flags, the report file's
 * own position.  Files checkpoint(2) cannot save (a socket, an unlinked
 * file) make it fail with EOPNOTSUPP naming the fd; an image whose file
 * was deleted since fails to restart cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tlib.h"

static char data_path[PATH_MAX], app_path[PATH_MAX], dir_path[256];

static void files_subject(void *arg)
{
	int data, app, dir, null, dupfd, ce;
	off_t rep_pos;
	char buf[16] = "";
	struct stat st;
	int fl;

	(void)arg;
	data = open(data_path, O_RDWR);
	app = open(app_path, O_WRONLY | O_APPEND);
	dir = open(dir_path, O_RDONLY | O_DIRECTORY);
	null = open("/dev/null", O_WRONLY);
	ce = open(data_path, O_RDONLY | O_CLOEXEC);
	if (data < 0 || app < 0 || dir < 0 || null < 0 || ce < 0) {
		t_subj_check(0, "setup", "open: %s", strerror(errno));
		t_subj_exit();
	}
	lseek(data, 5, SEEK_SET);
	dupfd = dup(data);
	lseek(ce, 3, SEEK_SET);
	t_subj_check(1, "report line before the checkpoint", " ");
	rep_pos = lseek(T_SUBJ_REP, 0, SEEK_CUR);

	t_subj_ready();
	t_subj_wait_go();

	t_subj_check(lseek(T_SUBJ_REP, 0, SEEK_CUR) == rep_pos,
		     "report file keeps its position", "%lld, was %lld",
		     (long long)lseek(T_SUBJ_REP, 0, SEEK_CUR), (long long)rep_pos);
	t_subj_check(lseek(data, 0, SEEK_CUR) == 5, "file position",
		     "%lld, expected 5", (long long)lseek(data, 0, SEEK_CUR));
	t_subj_check(read(data, buf, 5) == 5 && !memcmp(buf, "56789", 5),
		     "file reads from its position", "\"%.5s\"", buf);
	t_subj_check(lseek(dupfd, 0, SEEK_CUR) == 10,
		     "dup'ed fd shares the position", "%lld, expected 10",
		     (long long)lseek(dupfd, 0, SEEK_CUR));
	fl = fcntl(data, F_GETFL);
	t_subj_check((fl & O_ACCMODE) == O_RDWR, "file access mode", "flags %#x", fl);
	t_subj_check(write(data, "XY", 2) == 2 && lseek(dupfd, 0, SEEK_CUR) == 12,
		     "file writable, dup follows", "pos %lld",
		     (long long)lseek(dupfd, 0, SEEK_CUR));
	fl = fcntl(app, F_GETFL);
	t_subj_check((fl & O_APPEND) && (fl & O_ACCMODE) == O_WRONLY,
		     "O_APPEND kept", "flags %#x", fl);
	t_subj_check(write(app, "tail", 4) == 4 && fstat(app, &st) == 0 &&
		     st.st_size == 8 + 4, "O_APPEND writes at the end",
		     "size %lld", (long long)st.st_size);
	fl = fcntl(dir, F_GETFL);
	t_subj_check(fstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		     faccessat(dir, "inside", F_OK, 0) == 0,
		     "directory fd", "mode %o flags %#x", st.st_mode, fl);
	t_subj_check(fstat(null, &st) == 0 && S_ISCHR(st.st_mode) &&
		     st.st_rdev == makedev(1, 3) && write(null, "x", 1) == 1,
		     "/dev/null", "mode %o rdev %#llx", st.st_mode,
		     (unsigned long long)st.st_rdev);
	t_subj_check(fcntl(ce, F_GETFD) == FD_CLOEXEC && fcntl(data, F_GETFD) == 0 &&
		     fcntl(dupfd, F_GETFD) == 0, "close-on-exec flags",
		     "ce %d data %d dup %d", fcntl(ce, F_GETFD),
		     fcntl(data, F_GETFD), fcntl(dupfd, F_GETFD));
	t_subj_check(lseek(ce, 0, SEEK_CUR) == 3, "separate open file, own position",
		     "%lld", (long long)lseek(ce, 0, SEEK_CUR));
	{
		int n = 0;

		for (int fd = 0; fd < 64; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				n++;
		/* 0-2, ctl, rep, data, app, dir, null, ce, dup */
		t_subj_check(n == 11, "no fd more, none less", "%d open fds", n);
	}
}

/* A subject holding a socket or an unlinked file: checkpoint refuses it. */
static void refused_subject(void *arg)
{
	int kind = *(int *)arg, fd;

	if (kind == 0) {
		int sv[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		fd = sv[0];
	} else {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%.4000s/unlinked", dir_path);
		fd = open(path, O_RDWR | O_CREAT, 0600);
		unlink(path);
	}
	(void)fd;
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(1, "refused subject ran on", " ");
}

static void test_refused(int kind, const char *name, const char *word)
{
	struct t_subject s;
	int err;

	if (t_subj_start(&s, refused_subject, &kind))
		t_bail("subject");
	if (t_subj_wait_ready(&s, name))
		goto out;
	err = t_subj_checkpoint(&s);
	if (err != EOPNOTSUPP)
		t_fail(name, "got %s, expected EOPNOTSUPP; log %.300s",
		       t_errname(err), s.log ? s.log : "");
	else
		t_check(!t_log_problem(s.log, EOPNOTSUPP, word), name, "%s",
			t_log_problem(s.log, EOPNOTSUPP, word));
	t_subj_finish(&s, name);	/* undisturbed: it finishes */
out:
	t_subj_cleanup(&s);
}

static void simple_subject(void *arg)
{
	int fd = open((const char *)arg, O_RDONLY);

	(void)fd;
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(0, "restored although its file is gone", " ");
}

/*
 * The image names a file deleted since.  Files are restored after the
 * address space, so restart(2) has already changed the task when it finds
 * the file missing: as documented, the kernel logs the failure (the file's
 * path, error -ENOENT) and kills the task with SIGKILL instead of
 * returning an error.  Nothing of the restart may be left.
 */
static void test_deleted(void)
{
	const char *name = "restart of an image whose file was deleted: killed by SIGKILL";
	char path[PATH_MAX];
	struct t_subject s;
	const char *why;
	int fd, err, status, i;
	pid_t pid;

	fd = t_mkstemp(path, "doomed");
	close(fd);
	if (t_subj_start(&s, simple_subject, path))
		t_bail("subject");
	if (t_subj_wait_ready(&s, name))
		goto out;
	err = t_subj_checkpoint(&s);
	if (!t_check(!err, "deleted: checkpoint", "%s", t_errname(err)))
		goto out;
	t_subj_kill(&s);
	unlink(path);
	err = t_subj_restart(&s, 0);
	pid = s.restart_pid;
	status = s.restart_status;
	if (s.pid > 0) {
		/* Not ended within 0.5 s: it must still die, and soon. */
		for (i = 0; i < 1000 && status == -1; i++) {
			if (waitpid(s.pid, &status, WNOHANG) != s.pid) {
				status = -1;
				usleep(10000);
			}
		}
		if (status == -1) {
			t_fail(name, "the task still runs 10 s after restart(2); log %.300s",
			       s.log ? s.log : "");
			goto out;	/* t_subj_cleanup kills it */
		}
		s.pid = 0;
	}
	t_check((err == 0 || err == EINTR) && status != -1 && WIFSIGNALED(status) &&
		WTERMSIG(status) == SIGKILL, name,
		"restart gave %s, the task's status 0x%x; log %.300s",
		t_errname(err), status, s.log ? s.log : "");
	why = t_log_problem(s.log, ENOENT, NULL);
	if (!why && !strstr(s.log, path))
		why = "no line names the deleted file";
	t_check(!why, "deleted: the log names the missing file with error -ENOENT",
		"%s; log %.300s", why ? why : "", s.log ? s.log : "");
	{
		int gone = pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
		pid_t left = waitpid(-1, NULL, WNOHANG);
		int none = left < 0 && errno == ECHILD;

		t_check(gone && none, "deleted: no task left",
			"pid %d %s; waitpid(-1) %d", pid, gone ? "gone" : "still there",
			left);
	}
out:
	t_subj_cleanup(&s);
}

int main(void)
{
	int fd;

	snprintf(dir_path, sizeof(dir_path), "%s/files.%d", t_tmpdir(), getpid());
	snprintf(data_path, sizeof(data_path), "%s/data", dir_path);
	snprintf(app_path, sizeof(app_path), "%s/append", dir_path);
	if (mkdir(dir_path, 0700))
		t_bail("mkdir");
	fd = open(data_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16)
		t_bail("data file");
	close(fd);
	fd = open(app_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || write(fd, "appended", 8) != 8)
		t_bail("append file");
	close(fd);
	close(open(strcat(strcpy((char[PATH_MAX]){ 0 }, dir_path), "/inside"),
		   O_CREAT | O_WRONLY, 0600));

	t_subj_run("files", files_subject, NULL, 0);
	test_refused(0, "checkpoint of a task with a socket: EOPNOTSUPP", "fd");
	test_refused(1, "checkpoint of a task with an unlinked file: EOPNOTSUPP", "fd");
	test_deleted();

	unlink(data_path);
	unlink(app_path);
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%.4000s/inside", dir_path);
		unlink(p);
	}
	rmdir(dir_path);
	return t_done();
}
