// SPDX-License-Identifier: GPL-2.0
/*
 * Open files survive checkpoint, SIGKILL and restart(2): a regular file
 * with its position, one opened O_APPEND, a directory, /dev/null, two fds
 * sharing one open file (dup), close-on-exec flags, the report file's
 * own position; pipes (data, ends, O_NONBLOCK); an unlinked file
 * (contents with holes, mode, position, shared by two fds and a second
 * open file, writable, made anew in its directory); named pipes (unread data, each end with its flags, a reader
 * blocked in read() that gets what is written after the restart);
 * O_DIRECT.  A socket makes checkpoint(2) fail with EOPNOTSUPP naming the
 * fd; an image whose file (or named pipe, or the directory of an unlinked
 * file) was removed since makes restart(2) return ENOENT before its caller
 * changed, a file the user may no longer open EACCES.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
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
 * The image names a file deleted since.  restart(2) opens the files before
 * it changes its caller: it returns ENOENT, the caller goes on unchanged,
 * the log names the file, and no task is left.
 */
static void test_missing(void)
{
	const char *name = "restart of an image whose file was deleted: ENOENT returned";
	char path[PATH_MAX];
	struct t_subject s;
	int fd;

	fd = t_mkstemp(path, "doomed");
	close(fd);
	if (!t_subj_prepare(&s, "deleted", simple_subject, path)) {
		pid_t left;

		unlink(path);
		t_subj_refused(&s, NULL, NULL, ENOENT, "doomed", name);
		left = waitpid(-1, NULL, WNOHANG);
		t_check(left < 0 && errno == ECHILD, "deleted: no task left",
			"waitpid(-1) gave %d", left);
	}
	unlink(path);
	t_subj_cleanup(&s);
}

/* An unlinked file: contents with holes, mode, position, shared files */

#define UNL_SIZE	(5 * 4096 + 100)
#define UNL_TAIL_OFF	(3 * 4096 + 10)

static void unlinked_expected(char *buf)
{
	memset(buf, 0, UNL_SIZE);
	memcpy(buf, "head-of-file", 12);
	memcpy(buf + UNL_TAIL_OFF, "tail", 4);
}

static void unlinked_subject(void *arg)
{
	static char want[UNL_SIZE], got[UNL_SIZE + 1];
	char path[PATH_MAX], link[PATH_MAX] = "", proc[64];
	int fd, dupfd, ro, fl;
	struct stat st, st2, dst;
	ssize_t n, i;

	(void)arg;
	snprintf(path, sizeof(path), "%.4000s/unlinked", dir_path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0 || pwrite(fd, "head-of-file", 12, 0) != 12 ||
	    pwrite(fd, "tail", 4, UNL_TAIL_OFF) != 4 || ftruncate(fd, UNL_SIZE) ||
	    fchmod(fd, 0640) || unlink(path)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	lseek(fd, 10, SEEK_SET);
	dupfd = dup(fd);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ro = open(proc, O_RDONLY);	/* another open file of the inode */
	lseek(ro, 3, SEEK_SET);
	t_subj_ready();
	t_subj_wait_go();

	unlinked_expected(want);
	t_subj_check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0,
		     "a regular file without a name", "mode 0%o nlink %lu",
		     st.st_mode, (unsigned long)st.st_nlink);
	t_subj_check((st.st_mode & 07777) == 0640, "its mode", "0%o",
		     st.st_mode & 07777);
	t_subj_check(st.st_size == UNL_SIZE, "its size", "%lld, expected %d",
		     (long long)st.st_size, UNL_SIZE);
	n = pread(fd, got, sizeof(got), 0);
	for (i = 0; i < n && i < UNL_SIZE && got[i] == want[i]; i++)
		;
	t_subj_check(n == UNL_SIZE && i == UNL_SIZE,
		     "its contents, the holes read as zeros",
		     "read %zd bytes, the first wrong one at %zd (0x%02x)", n, i,
		     i < n ? (unsigned char)got[i] : 0);
	fl = fcntl(fd, F_GETFL);
	t_subj_check((fl & O_ACCMODE) == O_RDWR, "access mode", "flags %#x", fl);
	t_subj_check(lseek(fd, 0, SEEK_CUR) == 10, "position", "%lld, expected 10",
		     (long long)lseek(fd, 0, SEEK_CUR));
	n = read(fd, got, 2);
	t_subj_check(n == 2 && !memcmp(got, "le", 2), "reads from its position",
		     "read %zd: \"%.2s\"", n, got);
	i = lseek(dupfd, 0, SEEK_CUR);
	t_subj_check(i == 12, "the dup'ed fd shares the open file",
		     "dup at %zd after a read of 2 at 10", i);
	fl = fcntl(ro, F_GETFL);
	t_subj_check(lseek(ro, 0, SEEK_CUR) == 3 && (fl & O_ACCMODE) == O_RDONLY,
		     "the other open file keeps its position and mode",
		     "at %lld, flags %#x", (long long)lseek(ro, 0, SEEK_CUR), fl);
	t_subj_check(fstat(ro, &st2) == 0 && st2.st_ino == st.st_ino &&
		     st2.st_dev == st.st_dev, "both open files have the same inode",
		     "ino %lu and %lu", (unsigned long)st.st_ino,
		     (unsigned long)st2.st_ino);
	t_subj_check(pwrite(fd, "new!", 4, 100) == 4 && pread(ro, got, 4, 100) == 4 &&
		     !memcmp(got, "new!", 4), "writes after the restart, seen through the other file",
		     "\"%.4s\"", got);
	t_subj_check(pwrite(dupfd, "more", 4, UNL_SIZE) == 4 && fstat(fd, &st) == 0 &&
		     st.st_size == UNL_SIZE + 4, "the file grows", "size %lld",
		     (long long)st.st_size);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n > 0)
		link[n] = '\0';
	t_subj_check(n > 0 && !strncmp(link, dir_path, strlen(dir_path)) &&
		     link[strlen(dir_path)] == '/' && strstr(link, " (deleted)") &&
		     stat(dir_path, &dst) == 0 && dst.st_dev == st.st_dev,
		     "created in the directory the file was in", "\"%s\"", link);
}

/* Named pipes: the data, the ends and their flags */

static char fifo_path[PATH_MAX], fifo2_path[PATH_MAX];

static void fifo_subject(void *arg)
{
	char buf[64] = "";
	int rd, wr, rw, sz, fl;
	struct stat st, pst;
	ssize_t n;

	(void)arg;
	rd = open(fifo_path, O_RDONLY | O_NONBLOCK);
	wr = open(fifo_path, O_WRONLY);
	rw = open(fifo_path, O_RDWR);
	if (rd < 0 || wr < 0 || rw < 0 || write(wr, "fifo-data", 9) != 9 ||
	    read(rd, buf, 4) != 4) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	sz = fcntl(rd, F_GETPIPE_SZ);
	t_subj_ready();
	t_subj_wait_go();

	t_subj_check(fstat(rd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		     stat(fifo_path, &pst) == 0 && st.st_ino == pst.st_ino,
		     "the named pipe, reopened by its path", "ino %lu, the path's %lu",
		     (unsigned long)st.st_ino, (unsigned long)pst.st_ino);
	fl = fcntl(rd, F_GETFL);
	t_subj_check((fl & O_ACCMODE) == O_RDONLY && (fl & O_NONBLOCK),
		     "read end: O_RDONLY|O_NONBLOCK", "flags %#x", fl);
	fl = fcntl(wr, F_GETFL);
	t_subj_check((fl & O_ACCMODE) == O_WRONLY && !(fl & O_NONBLOCK),
		     "write end: O_WRONLY", "flags %#x", fl);
	fl = fcntl(rw, F_GETFL);
	t_subj_check((fl & O_ACCMODE) == O_RDWR, "O_RDWR end", "flags %#x", fl);
	t_subj_check(fcntl(rd, F_GETPIPE_SZ) == sz, "pipe size", "%d, was %d",
		     fcntl(rd, F_GETPIPE_SZ), sz);
	memset(buf, 0, sizeof(buf));
	n = read(rd, buf, sizeof(buf));
	t_subj_check(n == 5 && !memcmp(buf, "-data", 5), "the unread data is back",
		     "read %zd: \"%.20s\"", n, buf);
	n = read(rd, buf, sizeof(buf));
	t_subj_check(n < 0 && errno == EAGAIN, "then the pipe is empty",
		     "read gave %zd (%s)", n, n < 0 ? strerror(errno) : "data");
	memset(buf, 0, sizeof(buf));
	t_subj_check(write(wr, "more", 4) == 4 && read(rd, buf, sizeof(buf)) == 4 &&
		     !strcmp(buf, "more"), "the write end feeds the read end",
		     "\"%s\"", buf);
	memset(buf, 0, sizeof(buf));
	t_subj_check(write(rw, "rw", 2) == 2 && read(rd, buf, sizeof(buf)) == 2 &&
		     !strcmp(buf, "rw"), "so does the O_RDWR end", "\"%s\"", buf);
}

/* pipe(2): the data, both ends, O_NONBLOCK, a pipe whose writer is gone */
static void pipe_subject(void *arg)
{
	int p[2], q[2], fl;
	char buf[64] = "";
	ssize_t n;

	(void)arg;
	if (pipe(p) || pipe2(q, O_NONBLOCK) || write(p[1], "pipe-data", 9) != 9 ||
	    write(q[1], "last", 4) != 4 || close(q[1])) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	n = read(p[0], buf, sizeof(buf));
	t_subj_check(n == 9 && !memcmp(buf, "pipe-data", 9), "the unread data is back",
		     "read %zd: \"%.20s\"", n, buf);
	memset(buf, 0, sizeof(buf));
	t_subj_check(write(p[1], "more", 4) == 4 && read(p[0], buf, sizeof(buf)) == 4 &&
		     !strcmp(buf, "more"), "its write end feeds its read end",
		     "\"%s\"", buf);
	fl = fcntl(q[0], F_GETFL);
	t_subj_check((fl & O_NONBLOCK) && (fl & O_ACCMODE) == O_RDONLY,
		     "O_NONBLOCK read end", "flags %#x", fl);
	memset(buf, 0, sizeof(buf));
	n = read(q[0], buf, sizeof(buf));
	t_subj_check(n == 4 && !strcmp(buf, "last"),
		     "a pipe without writers keeps its data", "read %zd", n);
	n = read(q[0], buf, sizeof(buf));
	t_subj_check(n == 0, "then reads end of file, no writer came back",
		     "read %zd (%s)", n, n < 0 ? strerror(errno) : "data");
}

/*
 * Named pipes with one open file each: an O_RDWR one holding data, and a
 * read end whose writer closed after writing.
 */
static char fifo3_path[PATH_MAX], fifo4_path[PATH_MAX];

static void fifo_alone_subject(void *arg)
{
	char buf[256];
	int rw, rd, wr, n = -1;
	ssize_t got;

	(void)arg;
	memset(buf, 'f', sizeof(buf));
	rw = open(fifo3_path, O_RDWR);
	rd = open(fifo4_path, O_RDONLY | O_NONBLOCK);
	wr = open(fifo4_path, O_WRONLY);
	if (rw < 0 || rd < 0 || wr < 0 || write(rw, buf, 100) != 100 ||
	    write(wr, "bye", 3) != 3 || close(wr)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	t_subj_check(ioctl(rw, FIONREAD, &n) == 0 && n == 100,
		     "O_RDWR alone: the 100 bytes are back", "FIONREAD %d", n);
	got = read(rw, buf, sizeof(buf));
	t_subj_check(got == 100, "O_RDWR alone: reads them", "read %zd", got);
	n = -1;
	t_subj_check(ioctl(rd, FIONREAD, &n) == 0 && n == 3,
		     "read end alone: the data its writer left", "FIONREAD %d", n);
	got = read(rd, buf, sizeof(buf));
	t_subj_check(got == 3 && !memcmp(buf, "bye", 3), "read end alone: reads it",
		     "read %zd", got);
	got = read(rd, buf, sizeof(buf));
	t_subj_check(got == 0, "read end alone: then end of file, no writer",
		     "read %zd (%s)", got, got < 0 ? strerror(errno) : "data");
}

/* Blocked in read() on a named pipe: it reads what the test writes after. */
static void fifo_reader_subject(void *arg)
{
	char buf[64] = "";
	int rd, wr;
	ssize_t n;

	(void)arg;
	rd = open(fifo2_path, O_RDONLY | O_NONBLOCK);
	wr = open(fifo2_path, O_WRONLY);	/* a writer: read() blocks */
	if (rd < 0 || wr < 0 || fcntl(rd, F_SETFL, 0)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	n = read(rd, buf, sizeof(buf) - 1);
	t_subj_wait_go();
	t_subj_check(n == 8 && !strcmp(buf, "wake-up\n"),
		     "read() returns what was written after the restart",
		     "read %zd: \"%s\"%s", n, buf, n < 0 ? strerror(errno) : "");
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256] = "", *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

static void test_fifo_reader(void)
{
	const char *prefix = "blocked fifo reader";
	struct t_subject s;
	char name[256], state;
	int fd, err, i;

	if (t_subj_start(&s, fifo_reader_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, prefix))
		goto out;
	for (i = 0; i < 500 && proc_state(s.pid) != 'S'; i++)
		usleep(2000);
	snprintf(name, sizeof(name), "%s: checkpoint", prefix);
	err = t_subj_checkpoint(&s);
	if (!t_check(!err, name, "%s; log: %.300s", t_errname(err),
		     s.log ? s.log : ""))
		goto out;
	t_subj_kill(&s);
	snprintf(name, sizeof(name), "%s: restart", prefix);
	err = t_subj_restart(&s, 0);
	if (!t_check(!err, name, "%s; log: %.300s", t_errname(err),
		     s.log ? s.log : ""))
		goto out;
	for (i = 0; i < 500 && (state = proc_state(s.pid)) != 'S'; i++)
		usleep(2000);
	snprintf(name, sizeof(name), "%s: blocked again after the restart", prefix);
	t_check(state == 'S', name, "state %c", state);
	{
		/*
		 * Restored, not stuck inside restart(2) opening the read end
		 * until a writer comes: its fds are its own (5 the read end).
		 */
		char fdpath[64], link[PATH_MAX] = "", *wchan;
		ssize_t n;

		snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/5", s.pid);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n > 0)
			link[n] = '\0';
		snprintf(fdpath, sizeof(fdpath), "/proc/%d/wchan", s.pid);
		wchan = t_read_path(fdpath, NULL);
		snprintf(name, sizeof(name),
			 "%s: restored before anyone opened the fifo for writing", prefix);
		t_check(n > 0 && !strcmp(link, fifo2_path), name,
			"fd 5 is \"%s\", expected the fifo; wchan %s", link,
			wchan ? wchan : "?");
		free(wchan);
	}
	/* ENXIO here: no reader has the named pipe open. */
	fd = open(fifo2_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	snprintf(name, sizeof(name), "%s: the restored read end is open", prefix);
	if (t_check(fd >= 0, name, "open for writing: %s", strerror(errno))) {
		if (write(fd, "wake-up\n", 8) != 8)
			t_fail("writing to the fifo", "%s", strerror(errno));
		close(fd);
	}
	t_subj_finish(&s, prefix);
out:
	t_subj_cleanup(&s);
}

/*
 * What checkpoint wrote for the unlinked file: one tmpfile record (mode,
 * size, the path it had) whose file_data leave the holes out, and two file
 * records naming it (the open file of fd and its dup, the other one).
 */
static void check_unlinked_image(const char *img)
{
	static struct t_image im;
	struct ckpt_hdr_tmpfile *t;
	char path[PATH_MAX];
	struct t_edit e;
	uint64_t data = 0;
	size_t i;
	int files = 0, fds = 0;

	t_scan_path(img, &im);
	for (i = 0; i < im.nr && i < T_MAX_RECORDS; i++) {
		if (im.type[i] == CKPT_HDR_FILE_DATA)
			data += im.len[i] - sizeof(struct ckpt_hdr_file_data);
		fds += im.type[i] == CKPT_HDR_FD;
	}
	snprintf(path, sizeof(path), "%.4000s/unlinked", dir_path);
	if (t_edit_load(&e, img) || !(t = t_edit_find(&e, CKPT_HDR_TMPFILE, NULL))) {
		t_fail("unlinked file: the tmpfile record", "none: %s", im.err.msg);
		return;
	}
	t_check(t->mode == 0640 && t->size == UNL_SIZE &&
		!strcmp((char *)(t + 1), path), "unlinked file: the tmpfile record",
		"mode 0%o size %lld path \"%s\"", t->mode, (long long)t->size,
		(char *)(t + 1));
	t_check(data >= 16 && data <= 2 * 4096, "unlinked file: the holes are not saved",
		"%llu bytes of file data for 16 in a file of %d",
		(unsigned long long)data, UNL_SIZE);
	for (i = 0; i < im.nr && i < T_MAX_RECORDS; i++) {
		struct ckpt_hdr_file *f = (void *)(e.buf + im.off[i]);

		if (im.type[i] == CKPT_HDR_FILE && f->kind == CKPT_FILE_UNLINKED)
			files += f->object == t->tag;
	}
	t_check(files == 2 && fds == 8, "unlinked file: two open files, three fds on it",
		"%d file records name the tmpfile, %d fds in all (expected 8)",
		files, fds);
	t_edit_free(&e);
}

static void test_unlinked(void)
{
	char dir2[PATH_MAX];
	struct t_subject s;

	if (!t_subj_prepare(&s, "unlinked file", unlinked_subject, NULL)) {
		check_unlinked_image(s.img_path);
		t_subj_restart_as(&s, "unlinked file", NULL);
		/* Its directory gone: no place for the file */
		snprintf(dir2, sizeof(dir2), "%.4000s.moved", dir_path);
		if (rename(dir_path, dir2)) {
			t_fail("moving the directory", "%s", strerror(errno));
		} else {
			t_subj_refused(&s, NULL, NULL, ENOENT, "tmpfile",
				       "restart of an unlinked file whose directory is gone: ENOENT returned");
			rename(dir2, dir_path);
		}
	}
	t_subj_cleanup(&s);
}

static void test_fifo(void)
{
	char moved[PATH_MAX + 8];
	struct t_subject s;

	if (!t_subj_prepare(&s, "fifo", fifo_subject, NULL)) {
		t_subj_restart_as(&s, "fifo", NULL);
		snprintf(moved, sizeof(moved), "%s.moved", fifo_path);
		if (rename(fifo_path, moved)) {
			t_fail("moving the fifo", "%s", strerror(errno));
		} else {
			t_subj_refused(&s, NULL, NULL, ENOENT, "fifo",
				       "restart of an image whose named pipe is gone: ENOENT returned");
			rename(moved, fifo_path);
		}
	}
	t_subj_cleanup(&s);
}

/* The user's task and a file it may no longer open */

static void user_file_subject(void *arg)
{
	char buf[8] = "";
	int fd = open((const char *)arg, O_RDONLY);

	if (fd < 0 || t_become(T_USER, T_USER, 0, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "0123", 4) &&
		     getuid() == T_USER, "the user's file", "\"%.4s\" uid %d",
		     buf, getuid());
}

static void test_user_eacces(void)
{
	char path[PATH_MAX];
	struct t_subject s;
	int fd;

	fd = t_mkstemp(path, "users");
	if (fd < 0 || write(fd, "0123", 4) != 4 || fchmod(fd, 0644))
		t_bail("the user's file");
	close(fd);
	if (!t_subj_prepare(&s, "user's file", user_file_subject, path)) {
		t_subj_restart_as(&s, "user's file", t_user_hook);
		chmod(path, 0600);
		t_subj_refused(&s, NULL, t_user_hook, EACCES, "users",
			       "user restart of an image with a file it may no longer open: EACCES returned");
	}
	t_subj_cleanup(&s);
	unlink(path);
}

/* O_DIRECT */

static char direct_path[PATH_MAX];

static void direct_subject(void *arg)
{
	void *buf = NULL;
	int fd, fl;

	(void)arg;
	fd = open(direct_path, O_RDWR | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, 4096, 4096)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();
	fl = fcntl(fd, F_GETFL);
	t_subj_check((fl & O_DIRECT) && (fl & O_ACCMODE) == O_RDWR,
		     "O_DIRECT kept", "flags %#x", fl);
	t_subj_check(pread(fd, buf, 4096, 4096) == 4096 &&
		     ((char *)buf)[0] == 'd', "aligned direct read", "%s",
		     strerror(errno));
}

static void test_new_kinds(void)
{
	char buf[8192];
	int fd;

	snprintf(fifo_path, sizeof(fifo_path), "%.4000s/fifo", dir_path);
	snprintf(fifo2_path, sizeof(fifo2_path), "%.4000s/fifo-reader", dir_path);
	snprintf(direct_path, sizeof(direct_path), "%.4000s/direct", dir_path);
	snprintf(fifo3_path, sizeof(fifo3_path), "%.4000s/fifo-rdwr", dir_path);
	snprintf(fifo4_path, sizeof(fifo4_path), "%.4000s/fifo-rdonly", dir_path);
	if (mkfifo(fifo_path, 0600) || mkfifo(fifo2_path, 0600) ||
	    mkfifo(fifo3_path, 0600) || mkfifo(fifo4_path, 0600))
		t_bail("mkfifo");

	t_subj_run("pipe", pipe_subject, NULL, 0);
	test_unlinked();
	test_fifo();
	t_subj_run("fifo alone", fifo_alone_subject, NULL, 0);
	if (geteuid() == 0)
		test_user_eacces();
	test_fifo_reader();

	memset(buf, 'd', sizeof(buf));
	fd = open(direct_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		t_bail("direct file");
	close(fd);
	fd = open(direct_path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		t_skip("O_DIRECT", strerror(errno));
	} else {
		close(fd);
		t_subj_run("O_DIRECT", direct_subject, NULL, 0);
	}
	unlink(direct_path);
	unlink(fifo_path);
	unlink(fifo2_path);
	unlink(fifo3_path);
	unlink(fifo4_path);
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
	test_missing();
	test_new_kinds();

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
