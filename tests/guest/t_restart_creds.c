// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials survive checkpoint, SIGKILL and restart(2), and restart never
 * grants more than its caller has.  Root restarts a subject that changed
 * its ids, groups, fsuid/fsgid and set no_new_privs, and one that kept a
 * few capabilities (ambient, inheritable, a smaller bounding set, a
 * securebit); each verifies its credentials itself.  The user (uid 1000,
 * without groups and without CAP_SYS_BOOT in its bounding set) restarts
 * its own image, but not an image of root's task, nor its own image
 * patched to claim another id, a group, a capability, a larger bounding
 * set, an ambient capability or other securebits: restart(2) fails with
 * EPERM and the caller goes on unchanged, without a task left behind.
 * The user checkpoints neither another user's task nor a setuid-root
 * program; kernel.checkpoint_unprivileged (default 1) at 0 takes restart
 * away from it.  Runs as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "tlib.h"


#define SYSCTL "/proc/sys/kernel/checkpoint_unprivileged"
#define CAP(c)	(1ULL << (c))
/* Offset in the control file of what the test tells a subject */
#define EXPECT_OFF 100

static int last_cap;
static char dir[PATH_MAX];

/* Capabilities */

static int caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ eff >> 32, perm >> 32, inh >> 32 },
	};

	return syscall(SYS_capset, &h, d);
}

static uint64_t all_caps(void)
{
	return (2ULL << last_cap) - 1;
}

static uint64_t bset_get(void)
{
	uint64_t set = 0;
	int c;

	for (c = 0; c <= last_cap; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			set |= CAP(c);
	return set;
}

static uint64_t ambient_get(void)
{
	uint64_t set = 0;
	int c;

	for (c = 0; c <= last_cap; c++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			set |= CAP(c);
	return set;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;
	size_t n = strlen(s);

	if (fd < 0)
		return -1;
	ret = write(fd, s, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return ret;
}

static int write_int(const char *path, int v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d\n", v);
	return write_str(path, buf);
}

/* Check the credentials a subject has against what it expects. */
struct creds {
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	size_t ngroups;
	gid_t groups[8];
	uint64_t eff, perm, inh, bset, ambient;
	int securebits, nnp;
};

static void subj_check_creds(const struct creds *w)
{
	uid_t r, e, s;
	gid_t g[16];
	uint64_t eff = 0, perm = 0, inh = 0, v;
	int n;

	getresuid(&r, &e, &s);
	t_subj_check(r == w->uid && e == w->euid && s == w->suid, "uids",
		     "%u %u %u, expected %u %u %u", r, e, s, w->uid, w->euid,
		     w->suid);
	n = setfsuid(-1);
	t_subj_check((uid_t)n == w->fsuid, "fsuid", "%d, expected %u", n, w->fsuid);
	getresgid(&r, &e, &s);
	t_subj_check(r == w->gid && e == w->egid && s == w->sgid, "gids",
		     "%u %u %u, expected %u %u %u", r, e, s, w->gid, w->egid,
		     w->sgid);
	n = setfsgid(-1);
	t_subj_check((gid_t)n == w->fsgid, "fsgid", "%d, expected %u", n, w->fsgid);
	n = getgroups(16, g);
	t_subj_check(n == (int)w->ngroups &&
		     !memcmp(g, w->groups, w->ngroups * sizeof(g[0])),
		     "supplementary groups", "%d groups (%u %u %u ...), expected %zu",
		     n, n > 0 ? g[0] : 0, n > 1 ? g[1] : 0, n > 2 ? g[2] : 0,
		     w->ngroups);
	caps_get(&eff, &perm, &inh);
	t_subj_check(perm == w->perm, "permitted capabilities", "%#llx, expected %#llx",
		     (unsigned long long)perm, (unsigned long long)w->perm);
	t_subj_check(eff == w->eff, "effective capabilities", "%#llx, expected %#llx",
		     (unsigned long long)eff, (unsigned long long)w->eff);
	t_subj_check(inh == w->inh, "inheritable capabilities", "%#llx, expected %#llx",
		     (unsigned long long)inh, (unsigned long long)w->inh);
	v = bset_get();
	t_subj_check(v == w->bset, "bounding set", "%#llx, expected %#llx",
		     (unsigned long long)v, (unsigned long long)w->bset);
	v = ambient_get();
	t_subj_check(v == w->ambient, "ambient capabilities", "%#llx, expected %#llx",
		     (unsigned long long)v, (unsigned long long)w->ambient);
	n = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	t_subj_check(n == w->securebits, "securebits", "%#x, expected %#x", n,
		     w->securebits);
	n = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	t_subj_check(n == w->nnp, "no_new_privs", "%d, expected %d", n, w->nnp);
}

/* A user's task: ids, groups and capabilities as in the kernel */

static const gid_t ids_groups[] = { 5, 1000, 3000 };

static void ids_subject(void *arg)
{
	struct creds w = {
		.uid = 1000, .euid = 1001, .suid = 1002, .fsuid = 1002,
		.gid = 1000, .egid = 1001, .sgid = 1002, .fsgid = 1000,
		.ngroups = 3, .groups = { 5, 1000, 3000 }, .nnp = 1,
	};
	int fd;

	(void)arg;
	if (setgroups(3, ids_groups) || setresgid(1000, 1001, 1002) ||
	    setresuid(1000, 1001, 1002) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	setfsuid(1002);
	setfsgid(1000);
	t_subj_ready();
	t_subj_wait_go();

	w.bset = all_caps();
	subj_check_creds(&w);
	/* The kernel acts on them: root's home is closed to this task. */
	fd = open("/root", O_RDONLY | O_DIRECTORY);
	t_subj_check(fd < 0 && errno == EACCES, "the restored ids are in force (/root: EACCES)",
		     "open gave %d (%s)", fd, fd < 0 ? strerror(errno) : "opened");
	t_subj_check(kill(1, 0) < 0 && errno == EPERM,
		     "the restored ids are in force (kill(1, 0): EPERM)", "%s",
		     strerror(errno));
}

/* Root with a few capabilities of each kind */

#define CAPS_PERM	(CAP(CAP_SETUID) | CAP(CAP_SETGID) | CAP(CAP_KILL) | \
			 CAP(CAP_NET_RAW))
#define CAPS_EFF	CAP(CAP_KILL)
#define CAPS_INH	(CAP(CAP_NET_RAW) | CAP(CAP_KILL))
#define CAPS_AMB	CAP(CAP_NET_RAW)

static void caps_subject(void *arg)
{
	struct creds w = {
		.perm = CAPS_PERM, .eff = CAPS_EFF, .inh = CAPS_INH,
		.ambient = CAPS_AMB, .securebits = SECBIT_KEEP_CAPS,
	};

	(void)arg;
	if (prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0) ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    caps_set(CAPS_EFF, CAPS_PERM, CAPS_INH) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	w.bset = all_caps() & ~CAP(CAP_SYS_BOOT);
	subj_check_creds(&w);
}

/* What checkpoint wrote for the ids subject. */
static void check_ids_image(const char *path)
{
	struct ckpt_hdr_creds *c;
	struct t_edit e;
	uint32_t len = 0;

	if (t_edit_load(&e, path)) {
		t_fail("ids: the image", "%s", strerror(errno));
		return;
	}
	c = t_edit_find(&e, CKPT_HDR_CREDS, &len);
	if (!c)
		t_fail("ids: the creds record", "none in the image");
	else
		t_check(c->uid == 1000 && c->euid == 1001 && c->suid == 1002 &&
			c->fsuid == 1002 && c->gid == 1000 && c->egid == 1001 &&
			c->sgid == 1002 && c->fsgid == 1000 && c->ngroups == 3 &&
			len == sizeof(*c) + 12 && c->groups[0] == 5 &&
			c->groups[1] == 1000 && c->groups[2] == 3000 &&
			!c->cap_permitted && !c->cap_effective &&
			!c->cap_inheritable && !c->cap_ambient &&
			c->cap_bset == all_caps() && !c->securebits &&
			c->flags == CKPT_CREDS_NO_NEW_PRIVS,
			"ids: the creds record holds the subject's credentials",
			"uids %u %u %u %u gids %u %u %u %u, %u groups, caps %#llx %#llx %#llx bset %#llx ambient %#llx, securebits %#x flags %#x",
			c->uid, c->euid, c->suid, c->fsuid, c->gid, c->egid,
			c->sgid, c->fsgid, c->ngroups,
			(unsigned long long)c->cap_permitted,
			(unsigned long long)c->cap_effective,
			(unsigned long long)c->cap_inheritable,
			(unsigned long long)c->cap_bset,
			(unsigned long long)c->cap_ambient, c->securebits,
			c->flags);
	t_edit_free(&e);
}

static void root_subject(const char *prefix, void (*fn)(void *),
			 void (*check_image)(const char *))
{
	struct t_subject s;

	if (!t_subj_prepare(&s, prefix, fn, NULL)) {
		if (check_image)
			check_image(s.img_path);
		t_subj_restart_as(&s, prefix, NULL);
	}
	t_subj_cleanup(&s);
}

/* The user: no groups, CAP_SYS_BOOT out of its bounding set */

static void become_user(void)
{
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    t_become(T_USER, T_USER, 0, NULL))
		_exit(T_NO_SETUP);
}

static void become_user_nnp(void)
{
	become_user();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(T_NO_SETUP);
}

/*
 * The user with one more group, in a user namespace of its own where it has
 * every capability but setgroups(2) is denied, as an unprivileged user can
 * make one: it may not drop the group (negative group permissions).
 */
static void become_user_in_userns(void)
{
	const gid_t extra = 2000;

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    t_become(T_USER, T_USER, 1, &extra) || unshare(CLONE_NEWUSER) ||
	    write_str("/proc/self/setgroups", "deny") ||
	    write_str("/proc/self/uid_map", "1000 1000 1") ||
	    write_str("/proc/self/gid_map", "1000 1000 1"))
		_exit(T_NO_SETUP);
}

/* The user's own task; the test says at EXPECT_OFF whether it has NNP. */
static void user_subject(void *arg)
{
	struct creds w = {
		.uid = T_USER, .euid = T_USER, .suid = T_USER, .fsuid = T_USER,
		.gid = T_USER, .egid = T_USER, .sgid = T_USER, .fsgid = T_USER,
	};
	char nnp = 0;

	(void)arg;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    t_become(T_USER, T_USER, 0, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	pread(T_SUBJ_CTL, &nnp, 1, EXPECT_OFF);
	w.nnp = nnp == 'n';
	w.bset = all_caps() & ~CAP(CAP_SYS_BOOT);
	subj_check_creds(&w);
}

/* Restart path as the user: EPERM, returned to the caller, which goes on. */
static void expect_eperm(struct t_subject *s, const char *path,
			 const char *name)
{
	t_subj_refused(s, path, become_user, EPERM, NULL, name);
}

/* A copy of the image with the creds record changed by fn. */
static int patched(const char *from, const char *to,
		   void (*fn)(struct ckpt_hdr_creds *c, void *arg), void *arg)
{
	static unsigned char buf[65536];
	struct ckpt_hdr_creds *c;
	struct t_image im;
	struct t_edit e;
	uint32_t len;

	if (t_edit_load(&e, from))
		return -1;
	c = t_edit_find(&e, CKPT_HDR_CREDS, &len);
	if (!c || len > sizeof(buf) - 64) {
		t_edit_free(&e);
		return -1;
	}
	memcpy(buf, c, len);
	fn((struct ckpt_hdr_creds *)buf, arg);
	if (t_edit_replace(&e, c, buf, ((struct ckpt_hdr_creds *)buf)->h.len) ||
	    t_edit_save(&e, to)) {
		t_edit_free(&e);
		return -1;
	}
	t_edit_free(&e);
	/* A valid image: what restart refuses is the claim, not the form. */
	t_scan_path(to, &im);
	if (!im.complete) {
		t_fail("patched image", "%s at 0x%llx", im.err.msg,
		       (unsigned long long)im.err.off);
		return -1;
	}
	return 0;
}

/* The patches: one field of the creds record set to what the user lacks */
enum field { F_UID, F_EUID, F_SUID, F_FSUID, F_GID, F_EGID, F_SGID,
	     F_FSGID, F_PERM, F_EFF, F_INH, F_BSET, F_AMB, F_SECBITS,
	     F_GROUP };

struct patch {
	const char *name;
	enum field f;
	uint64_t v;
};

static void apply(struct ckpt_hdr_creds *c, void *arg)
{
	const struct patch *p = arg;
	uint32_t *ids[] = { &c->uid, &c->euid, &c->suid, &c->fsuid, &c->gid,
			    &c->egid, &c->sgid, &c->fsgid };
	__u64 *caps[] = { &c->cap_permitted, &c->cap_effective,
			  &c->cap_inheritable, &c->cap_bset,
			  &c->cap_ambient };

	if (p->f <= F_FSGID)
		*ids[p->f] = p->v;
	else if (p->f <= F_AMB)
		*caps[p->f - F_PERM] |= p->v;
	else if (p->f == F_SECBITS)
		c->securebits = p->v;
	else {
		c->groups[c->ngroups++] = p->v;
		c->h.len += sizeof(c->groups[0]);
	}
}

static const struct patch patches[] = {
	{ "uid 0", F_UID, 0 },
	{ "euid 0", F_EUID, 0 },
	{ "saved uid 0", F_SUID, 0 },
	{ "fsuid 0", F_FSUID, 0 },
	{ "another uid (1001)", F_UID, 1001 },
	{ "gid 0", F_GID, 0 },
	{ "egid 0", F_EGID, 0 },
	{ "saved gid 0", F_SGID, 0 },
	{ "fsgid 0", F_FSGID, 0 },
	{ "a supplementary group (2000)", F_GROUP, 2000 },
	{ "a permitted capability (CAP_KILL)", F_PERM, CAP(CAP_KILL) },
	{ "an effective capability not permitted (CAP_KILL)", F_EFF, CAP(CAP_KILL) },
	{ "an inheritable capability (CAP_KILL)", F_INH, CAP(CAP_KILL) },
	{ "CAP_SYS_BOOT in the bounding set", F_BSET, CAP(CAP_SYS_BOOT) },
	{ "an ambient capability (CAP_KILL)", F_AMB, CAP(CAP_KILL) },
	{ "securebits NOROOT", F_SECBITS, SECBIT_NOROOT },
};

/* restart -i path --no-pids run as the user: exit 1 naming EPERM. */
static void tool_eperm(const char *path)
{
	const char *name = "user: the restart tool refuses an image of root's task";
	char out[4096] = "";
	int p[2], rc;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p))
		t_bail("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		become_user();
		execl("/bin/restart", "restart", "-i", path, "--no-pids",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	rc = t_wait(pid);
	t_check(rc == 1 && strstr(out, "Operation not permitted"), name,
		"exit %d, output \"%.300s\"", rc, out);
}

static void test_user(void)
{
	struct t_subject s, r;
	char path[PATH_MAX + 16], name[256];
	size_t i;

	/* An image of root's task, which root restarts in the end */
	if (!t_subj_prepare(&r, "capabilities", caps_subject, NULL)) {
		expect_eperm(&r, r.img_path,
			     "user: restart of an image of root's task: EPERM");
		tool_eperm(r.img_path);
		t_subj_restart_as(&r, "capabilities", NULL);
	}
	t_subj_cleanup(&r);

	/* The user's own image, then patched */
	if (t_subj_prepare(&s, "user", user_subject, NULL))
		goto out;
	snprintf(path, sizeof(path), "%s.patched", s.img_path);
	for (i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		snprintf(name, sizeof(name),
			 "user: restart of its image claiming %s: EPERM",
			 patches[i].name);
		if (patched(s.img_path, path, apply, (void *)&patches[i]))
			t_fail(name, "cannot patch the image: %s", strerror(errno));
		else
			expect_eperm(&s, path, name);
	}
	unlink(path);

	{
		int saved = t_read_int(SYSCTL);

		t_check(saved == 1, "kernel.checkpoint_unprivileged is 1 by default",
			"%d", saved);
		if (saved >= 0 && !write_int(SYSCTL, 0)) {
			/* Refused on entry, as t_ckpt_perm expects: no log */
			t_subj_refused(&s, NULL, become_user, EPERM, "",
				       "sysctl 0: user restart of its own image: EPERM");
			if (write_int(SYSCTL, saved))
				t_fail("restoring the sysctl", "%s", strerror(errno));
		}
	}

	t_subj_refused(&s, NULL, become_user_in_userns, EPERM, "groups",
		       "user with an extra group, in a user namespace denying setgroups: restart of its image without the group: EPERM");

	pwrite(s.ctl, "-", 1, EXPECT_OFF);
	t_subj_restart_as(&s, "user restarts its own image", become_user);
	pwrite(s.ctl, "n", 1, EXPECT_OFF);
	t_subj_restart_as(&s, "user with no_new_privs restarts its image (the task gets no_new_privs)",
		       become_user_nnp);
out:
	t_subj_cleanup(&s);
}

/* Checkpoint as the user */

static void sleeper(int readyfd)
{
	if (write(readyfd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

/* A task of uid 1001, or a setuid-root program run by the user (path). */
static pid_t start_target(const char *suid, int *readyfd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		t_bail("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!suid) {
			if (t_become(1001, 1001, 0, NULL))
				_exit(T_NO_SETUP);
			sleeper(p[1]);
		}
		if (t_become(T_USER, T_USER, 0, NULL) || dup2(p[1], 3) < 0)
			_exit(T_NO_SETUP);
		execl(suid, suid, "--suid-sleeper", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*readyfd = p[0];
	return pid;
}

static void expect_ckpt_eperm(const char *name, const char *suid)
{
	char c, img[PATH_MAX];
	int readyfd, rc;
	pid_t target, pid;

	target = start_target(suid, &readyfd);
	if (read(readyfd, &c, 1) != 1) {
		t_fail(name, "the target did not start (status %d)", t_wait(target));
		close(readyfd);
		return;
	}
	close(readyfd);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd;

		if (t_become(T_USER, T_USER, 0, NULL))
			_exit(T_NO_SETUP);
		fd = t_mkstemp(img, "user-ckpt");
		if (fd < 0)
			_exit(T_NO_SETUP);
		rc = sys_checkpoint(target, fd, CHECKPOINT_SUBTREE, -1) ? errno : 0;
		unlink(img);
		_exit(rc);
	}
	rc = t_wait(pid);
	kill(target, SIGKILL);
	t_wait(target);
	t_check(rc == EPERM, name, "got %s, expected EPERM",
		rc == T_NO_SETUP ? "no user" : t_errname(rc));
}

static void test_user_checkpoint(const char *self)
{
	char suid[PATH_MAX];
	char *bin;
	size_t len;
	int fd;

	expect_ckpt_eperm("user: checkpoint of another user's task: EPERM", NULL);

	/* A setuid-root copy of this program */
	snprintf(suid, sizeof(suid), "%.4000s/suid", dir);
	bin = t_read_path(self, &len);
	fd = open(suid, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (!bin || fd < 0 || ckpt_write_full(fd, bin, len) || close(fd) ||
	    chown(suid, 0, 0) || chmod(suid, 04755)) {
		t_fail("a setuid-root program", "%s", strerror(errno));
	} else {
		expect_ckpt_eperm("user: checkpoint of a setuid-root program it runs: EPERM",
				  suid);
	}
	free(bin);
	unlink(suid);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--suid-sleeper")) {
		if (geteuid() != 0)
			return 3;	/* the setuid bit did not take */
		sleeper(3);
	}
	if (geteuid() != 0) {
		t_skip("credentials", "not root");
		return t_done();
	}
	last_cap = t_read_int("/proc/sys/kernel/cap_last_cap");
	if (last_cap < CAP_SYS_BOOT || last_cap > 63)
		last_cap = CAP_LAST_CAP;
	snprintf(dir, sizeof(dir), "%s/creds.%d", t_tmpdir(), getpid());
	if (mkdir(dir, 0755))
		t_bail("mkdir");

	root_subject("ids", ids_subject, check_ids_image);
	test_user();
	test_user_checkpoint("/proc/self/exe");

	rmdir(dir);
	return t_done();
}
