// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals: a task with a pseudo-terminal slave in raw mode survives
 * checkpoint, SIGKILL and restart(2) with its settings (the test puts the
 * terminal back in canonical mode in between, so nothing else brings them
 * back), and reads what is typed after the restart without a newline.  A
 * pseudo-terminal master and character devices whose open file has state
 * of its own (/dev/kmsg) are refused at checkpoint with EOPNOTSUPP; a
 * terminal that is gone at restart gives ENOENT and leaves the caller as
 * it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tlib.h"

#define TTY_FD	5		/* the subject's terminal */

static char slave_path[64];
static struct termios want;	/* what the subject set: kept in its memory */

static int same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	       a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	       !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) &&
	       cfgetispeed(a) == cfgetispeed(b) &&
	       cfgetospeed(a) == cfgetospeed(b);
}

static void raw_subject(void *arg)
{
	struct pollfd p = { .fd = TTY_FD, .events = POLLIN };
	struct termios now;
	char buf[8] = "";
	int fd, n;

	(void)arg;
	fd = open(slave_path, O_RDWR | O_NOCTTY);
	if (fd < 0 || dup2(fd, TTY_FD) < 0) {
		t_subj_check(0, "open the terminal", "%s: %s", slave_path,
			     strerror(errno));
		t_subj_exit();
	}
	if (fd != TTY_FD)
		close(fd);
	tcgetattr(TTY_FD, &want);
	cfmakeraw(&want);
	want.c_cc[VMIN] = 3;
	want.c_cc[VTIME] = 0;
	want.c_cc[VEOF] = 0x12;
	cfsetispeed(&want, B9600);
	cfsetospeed(&want, B9600);
	tcsetattr(TTY_FD, TCSANOW, &want);
	tcgetattr(TTY_FD, &want);
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(!tcgetattr(TTY_FD, &now) && same_termios(&now, &want),
		     "raw settings kept", "iflag %#x lflag %#x, expected %#x %#x",
		     now.c_iflag, now.c_lflag, want.c_iflag, want.c_lflag);
	/* Raw: three bytes without a newline can be read. */
	n = poll(&p, 1, 3000) == 1 ? read(TTY_FD, buf, sizeof(buf) - 1) : -1;
	t_subj_check(n == 3 && !memcmp(buf, "ab\003", 3),
		     "reads typed bytes without a newline", "read %d \"%.7s\"",
		     n, buf);
	t_subj_check(write(TTY_FD, "out", 3) == 3, "writes to the terminal",
		     "%s", strerror(errno));
}

/* Open a new pseudo-terminal: the master, its slave's path in slave_path. */
static int open_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) || unlockpt(m) ||
	    ptsname_r(m, slave_path, sizeof(slave_path))) {
		if (m >= 0)
			close(m);
		return -1;
	}
	return m;
}

static void test_raw(void)
{
	struct termios cooked;
	struct t_subject s;
	char buf[16] = "";
	int m, sl, n;

	m = open_pty();
	if (m < 0) {
		t_skip("raw", "no pseudo-terminal (devpts)");
		return;
	}
	sl = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl < 0 || tcgetattr(sl, &cooked))
		t_bail("the slave's settings");
	if (t_subj_start(&s, raw_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, "raw"))
		goto out;
	if (!t_check(!t_subj_checkpoint(&s), "raw: checkpoint", "log %.300s",
		     s.log ? s.log : ""))
		goto out;
	t_subj_kill(&s);
	/* Back to canonical mode: only the restart can make it raw again. */
	t_check(!tcsetattr(sl, TCSANOW, &cooked), "raw: terminal canonical again",
		"%s", strerror(errno));
	t_subj_restart(&s, 0);
	if (!t_check(!s.restart_err, "raw: restart", "%s; log %.300s",
		     t_errname(s.restart_err), s.log ? s.log : ""))
		goto out;
	/* In canonical mode ^C would flush the line, and nothing is read */
	t_check(write(m, "ab\003", 3) == 3, "raw: typed three bytes", "%s",
		strerror(errno));
	t_subj_finish(&s, "raw");
	n = read(m, buf, sizeof(buf) - 1);
	t_check(n >= 3 && strstr(buf, "out"), "raw: the master reads what it wrote",
		"read %d \"%.15s\"", n, buf);
out:
	t_subj_cleanup(&s);
	close(sl);
	close(m);
}

static void gone_subject(void *arg)
{
	int fd = open(slave_path, O_RDWR | O_NOCTTY);

	(void)arg;
	if (fd >= 0 && fd != TTY_FD) {
		dup2(fd, TTY_FD);
		close(fd);
	}
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(0, "restored without its terminal", "should have failed");
}

/* The terminal is gone at restart: ENOENT, the caller goes on. */
static void test_gone(void)
{
	struct t_subject s;
	int m = open_pty();

	if (m < 0) {
		t_skip("gone", "no pseudo-terminal (devpts)");
		return;
	}
	if (t_subj_prepare(&s, "gone", gone_subject, NULL)) {
		close(m);
		t_subj_cleanup(&s);
		return;
	}
	close(m);	/* the last reference: the slave disappears */
	t_subj_refused(&s, NULL, NULL, ENOENT, slave_path,
		       "gone: restart without the terminal: ENOENT");
	t_subj_cleanup(&s);
}

static const char *refused_path;

static void holder_subject(void *arg)
{
	int fd;

	(void)arg;
	if (!strcmp(refused_path, "/dev/ptmx"))
		fd = posix_openpt(O_RDWR | O_NOCTTY);
	else
		fd = open(refused_path, O_RDONLY | O_NOCTTY);
	t_subj_check(fd >= 0, "open", "%s: %s", refused_path, strerror(errno));
	t_subj_ready();
	t_subj_wait_go();
}

/* Devices whose open file has a state reopening would lose: refused. */
static void test_refused(const char *path, const char *name)
{
	struct t_subject s;
	char what[96];
	int e;

	refused_path = path;
	if (t_subj_start(&s, holder_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, name))
		goto out;
	e = t_subj_checkpoint(&s);
	snprintf(what, sizeof(what), "%s: checkpoint refused: EOPNOTSUPP", name);
	t_check(e == EOPNOTSUPP, what, "%s; log %.300s", t_errname(e),
		s.log ? s.log : "");
	snprintf(what, sizeof(what), "%s: the log names the device", name);
	t_check(s.log && strstr(s.log, path), what, "log %.300s",
		s.log ? s.log : "");
	snprintf(what, sizeof(what), "%s: the task runs on", name);
	t_check(!kill(s.pid, 0), what, "%s", strerror(errno));
	t_subj_kill(&s);
out:
	t_subj_cleanup(&s);
}

int main(void)
{
	test_raw();
	test_gone();
	test_refused("/dev/ptmx", "ptmx");
	test_refused("/dev/kmsg", "kmsg");
	return t_done();
}
