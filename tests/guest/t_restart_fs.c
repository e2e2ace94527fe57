// SPDX-License-Identifier: GPL-2.0
/*
 * The root and working directories and the umask survive checkpoint,
 * SIGKILL and restart(2).  A working directory removed since the
 * checkpoint makes restart(2) return ENOENT to its caller, one the caller
 * may not search EACCES, before the caller changed; a subject that chroot'ed
 * is restored in its jail by root, while the user (who may not chroot)
 * gets EPERM.  Runs as root; the user is uid 1000.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlib.h"


static char dir[PATH_MAX];

/* dir/name, in a buffer of the caller's */
static char *in_dir(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%.3000s/%s", dir, name);
	return buf;
}

/* Working directory and umask */

struct cwd_arg {
	const char *cwd;	/* absolute */
	mode_t umask;
	int user;		/* become the user once there */
};

static void cwd_subject(void *arg)
{
	const struct cwd_arg *a = arg;
	char buf[PATH_MAX] = "";
	struct stat st, here;
	mode_t m;
	int fd;

	umask(a->umask);
	if (chdir(a->cwd) || (a->user && t_become(T_USER, T_USER, 0, NULL))) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	t_subj_check(getcwd(buf, sizeof(buf)) && !strcmp(buf, a->cwd),
		     "working directory", "\"%s\", expected \"%s\"", buf, a->cwd);
	t_subj_check(stat(".", &here) == 0 && stat(a->cwd, &st) == 0 &&
		     here.st_ino == st.st_ino && here.st_dev == st.st_dev,
		     "\".\" is that directory", "ino %lu, %s has %lu",
		     (unsigned long)here.st_ino, a->cwd, (unsigned long)st.st_ino);
	fd = open("marker", O_RDONLY);
	t_subj_check(fd >= 0, "relative paths start there", "marker: %s",
		     strerror(errno));
	m = umask(0);
	umask(m);
	t_subj_check(m == a->umask, "umask", "0%o, expected 0%o", m, a->umask);
	fd = open("new", O_WRONLY | O_CREAT | O_EXCL, 0666);
	t_subj_check(fd >= 0 && fstat(fd, &st) == 0 &&
		     (st.st_mode & 0777) == (0666 & ~a->umask),
		     "files are created with the umask in force", "mode 0%o",
		     fd >= 0 ? st.st_mode & 0777 : 0);
	unlink("new");
	t_subj_check(access("/tests", F_OK) == 0, "the root is the caller's",
		     "/tests: %s", strerror(errno));
}

/* The fs record of an image: umask, root, cwd as expected. */
static void check_fs_record(const char *path, const char *name, mode_t umask,
			    const char *root, const char *cwd)
{
	struct ckpt_hdr_fs *fs;
	struct t_edit e;
	uint32_t len = 0;

	if (t_edit_load(&e, path)) {
		t_fail(name, "%s", strerror(errno));
		return;
	}
	fs = t_edit_find(&e, CKPT_HDR_FS, &len);
	if (!fs)
		t_fail(name, "no fs record");
	else
		t_check(fs->umask == umask && !strcmp(fs->paths, root) &&
			fs->root_len == strlen(root) + 1 &&
			!strcmp(fs->paths + fs->root_len, cwd), name,
			"umask 0%o root \"%s\" cwd \"%.200s\", expected 0%o \"%s\" \"%s\"",
			fs->umask, fs->paths, fs->paths + fs->root_len, umask,
			root, cwd);
	t_edit_free(&e);
}

/* Directory cwd (mode) with a file "marker" in it, whose path goes to p */
static void mkdir_marker(const char *cwd, mode_t mode, char *p)
{
	snprintf(p, PATH_MAX, "%.4000s/marker", cwd);
	if (mkdir(cwd, mode) || chmod(cwd, mode) ||
	    close(open(p, O_CREAT | O_WRONLY, 0644)))
		t_bail("cwd setup");
}

static void test_cwd(void)
{
	char cwd[PATH_MAX], p[PATH_MAX];
	struct cwd_arg a = { cwd, 0027, 0 };
	struct t_subject s;

	mkdir_marker(in_dir(cwd, "sub"), 0755, p);
	if (!t_subj_prepare(&s, "cwd", cwd_subject, &a)) {
		check_fs_record(s.img_path, "cwd: the fs record", 0027, "/", cwd);
		t_subj_restart_as(&s, "cwd", NULL);
	}
	t_subj_cleanup(&s);
}

/* A working directory removed, or closed to the user, since */

static void test_cwd_gone(void)
{
	const char *name = "restart of an image whose cwd was removed: ENOENT returned";
	char cwd[PATH_MAX], p[PATH_MAX];
	struct cwd_arg a = { cwd, 022, 0 };
	struct t_subject s;

	mkdir_marker(in_dir(cwd, "gone"), 0755, p);
	if (!t_subj_prepare(&s, "removed cwd", cwd_subject, &a)) {
		unlink(p);
		rmdir(cwd);
		t_subj_refused(&s, NULL, NULL, ENOENT, "gone", name);
		/* Back again: the same image restarts. */
		mkdir_marker(cwd, 0755, p);
		t_subj_restart_as(&s, "cwd back again", NULL);
	}
	t_subj_cleanup(&s);
	unlink(p);
	rmdir(cwd);
}

static void test_cwd_closed(void)
{
	const char *name = "user restart of an image whose cwd it may no longer search: EACCES returned";
	char cwd[PATH_MAX], p[PATH_MAX];
	struct cwd_arg a = { cwd, 077, 1 };
	struct t_subject s;

	mkdir_marker(in_dir(cwd, "closed"), 0777, p);
	if (!t_subj_prepare(&s, "user's cwd", cwd_subject, &a)) {
		t_subj_restart_as(&s, "user's cwd", t_user_hook);
		chmod(cwd, 0700);
		t_subj_refused(&s, NULL, t_user_hook, EACCES, "closed", name);
	}
	t_subj_cleanup(&s);
	unlink(p);
	rmdir(cwd);
}

/* A chroot'ed subject */

static void jail_subject(void *arg)
{
	const char *jail = arg;
	char buf[PATH_MAX] = "";
	mode_t m;

	umask(0002);
	if (chroot(jail) || chdir("/in") || t_become(T_USER, T_USER, 0, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	t_subj_check(access("/jail-marker", F_OK) == 0, "the root is the jail",
		     "/jail-marker: %s", strerror(errno));
	t_subj_check(access("/tests", F_OK) < 0 && errno == ENOENT,
		     "nothing outside the jail", "/tests: %s",
		     errno ? strerror(errno) : "found");
	t_subj_check(getcwd(buf, sizeof(buf)) && !strcmp(buf, "/in"),
		     "working directory inside the jail", "\"%s\"", buf);
	t_subj_check(access("../jail-marker", F_OK) == 0 &&
		     access("../../../../jail-marker", F_OK) == 0,
		     "\"..\" stops at the jail's root", "%s", strerror(errno));
	m = umask(0);
	t_subj_check(m == 0002, "umask", "0%o", m);
}

static void test_jail(void)
{
	char jail[PATH_MAX], p[PATH_MAX], cwd[PATH_MAX];
	struct t_subject s;

	in_dir(jail, "jail");
	if (mkdir(jail, 0755) || mkdir(in_dir(p, "jail/in"), 0755) ||
	    close(open(in_dir(p, "jail/jail-marker"), O_CREAT | O_WRONLY, 0644)))
		t_bail("jail setup");
	if (!t_subj_prepare(&s, "chroot", jail_subject, jail)) {
		snprintf(cwd, sizeof(cwd), "%.4000s/in", jail);
		check_fs_record(s.img_path, "chroot: the fs record", 0002, jail, cwd);
		t_subj_refused(&s, NULL, t_user_hook, EPERM, NULL,
			       "user restart of a chroot'ed task: EPERM returned");
		t_subj_restart_as(&s, "chroot, root restarts", NULL);
	}
	t_subj_cleanup(&s);
	unlink(p);
	rmdir(in_dir(p, "jail/in"));
	rmdir(jail);
}

int main(void)
{
	char p[PATH_MAX];

	if (geteuid() != 0) {
		t_skip("fs", "not root");
		return t_done();
	}
	snprintf(dir, sizeof(dir), "%s/fs.%d", t_tmpdir(), getpid());
	if (mkdir(dir, 0755) || chmod(dir, 0755))
		t_bail("mkdir");

	test_cwd();
	test_cwd_gone();
	test_cwd_closed();
	test_jail();

	unlink(in_dir(p, "sub/marker"));
	rmdir(in_dir(p, "sub"));
	rmdir(dir);
	return t_done();
}
