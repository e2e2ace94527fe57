// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits and interval timers survive checkpoint, SIGKILL and
 * restart(2).  Every soft and hard limit comes back as the subject set it
 * (restart applies them as setrlimit(2) would: root may raise a hard limit
 * beyond its own, the user may not: EPERM, returned before anything
 * changed).  ITIMER_REAL fires after the restart when the time it had
 * left at the checkpoint has passed (the time between checkpoint and
 * restart does not count), then again after its interval; ITIMER_VIRTUAL
 * and ITIMER_PROF keep their values and intervals.  A task with a POSIX
 * timer (timer_create) is refused at checkpoint with EOPNOTSUPP.  Runs as
 * root; the user is uid 1000.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"


/* Offset in the control file of the limits a subject expects */
#define EXPECT_OFF 256

#define INF	RLIM_INFINITY
#define NOFILE_SOFT 100
#define NOFILE_HARD 200

/* What the subject sets (INF: leave it). */
static const struct rlimit limits[CKPT_RLIM_NLIMITS] = {
	[RLIMIT_CPU] = { 1000, 2000 },
	[RLIMIT_FSIZE] = { 1 << 30, 1U << 31 },
	[RLIMIT_DATA] = { INF, INF },
	[RLIMIT_STACK] = { 4 << 20, 64 << 20 },
	[RLIMIT_CORE] = { 0, 1 << 20 },
	[RLIMIT_RSS] = { 1 << 28, INF },
	[RLIMIT_NPROC] = { 500, 1000 },
	[RLIMIT_NOFILE] = { NOFILE_SOFT, NOFILE_HARD },
	[RLIMIT_MEMLOCK] = { 65536, 131072 },
	[RLIMIT_AS] = { INF, INF },
	[RLIMIT_LOCKS] = { 50, 100 },
	[RLIMIT_SIGPENDING] = { 100, 200 },
	[RLIMIT_MSGQUEUE] = { 8192, 16384 },
	[RLIMIT_NICE] = { 0, 5 },
	[RLIMIT_RTPRIO] = { 0, 3 },
	[RLIMIT_RTTIME] = { 1000000, 2000000 },
};

static const char *const names[CKPT_RLIM_NLIMITS] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO",
	"RTTIME",
};

/*
 * Whether a subject sets limit i: root's sets them all, the user's only
 * those it could (not above the hard limits it starts with).
 */
static int sets(int i, int user)
{
	struct rlimit own;

	if (limits[i].rlim_cur == INF && limits[i].rlim_max == INF)
		return 0;
	getrlimit(i, &own);
	return !user || limits[i].rlim_max <= own.rlim_max;
}

static void limits_subject(void *arg)
{
	struct rlimit want[CKPT_RLIM_NLIMITS], got;
	int user = arg != NULL, i;

	for (i = 0; i < CKPT_RLIM_NLIMITS; i++) {
		if (!sets(i, user))
			continue;
		if (setrlimit(i, &limits[i])) {
			t_subj_check(0, "setup", "RLIMIT_%s: %s", names[i],
				     strerror(errno));
			t_subj_exit();
		}
	}
	if (user && t_become(T_USER, T_USER, 0, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	if (pread(T_SUBJ_CTL, want, sizeof(want), EXPECT_OFF) != sizeof(want)) {
		t_subj_check(0, "the expected limits", "%s", strerror(errno));
		return;
	}
	for (i = 0; i < CKPT_RLIM_NLIMITS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "RLIMIT_%s", names[i]);
		getrlimit(i, &got);
		t_subj_check(got.rlim_cur == want[i].rlim_cur &&
			     got.rlim_max == want[i].rlim_max, name,
			     "soft %lld hard %lld, expected %lld %lld",
			     (long long)got.rlim_cur, (long long)got.rlim_max,
			     (long long)want[i].rlim_cur,
			     (long long)want[i].rlim_max);
	}
}

/* What a subject started with: limits[] over the test's own. */
static void expected(struct rlimit *want, int user)
{
	int i;

	for (i = 0; i < CKPT_RLIM_NLIMITS; i++) {
		if (sets(i, user))
			want[i] = limits[i];
		else
			getrlimit(i, &want[i]);
	}
}

static void tell(struct t_subject *s, const struct rlimit *want)
{
	if (pwrite(s->ctl, want, sizeof(*want) * CKPT_RLIM_NLIMITS,
		   EXPECT_OFF) != (ssize_t)(sizeof(*want) * CKPT_RLIM_NLIMITS))
		t_bail("control file");
}

/* The user, with a CPU time hard limit of 2000 s */
static void user_low_cpu_hook(void)
{
	struct rlimit cpu = { 1000, 2000 };

	if (setrlimit(RLIMIT_CPU, &cpu))
		_exit(T_NO_SETUP);
	t_user_hook();
}

/* A copy of the image with the hard limit of resource res set to max. */
static int patch_hard(const char *from, const char *to, int res, uint64_t max)
{
	struct ckpt_hdr_rlimits r, *p;
	struct t_edit e;
	int ret = -1;

	if (t_edit_load(&e, from))
		return -1;
	p = t_edit_find(&e, CKPT_HDR_RLIMITS, NULL);
	if (p) {
		memcpy(&r, p, sizeof(r));
		r.rlim[res].max = max;
		ret = t_edit_replace(&e, p, &r, sizeof(r)) ||
		      t_edit_save(&e, to) ? -1 : 0;
	}
	t_edit_free(&e);
	return ret;
}

static void test_limits(void)
{
	struct rlimit want[CKPT_RLIM_NLIMITS], own;
	char path[PATH_MAX];
	struct t_subject s;
	int i;

	expected(want, 0);

	/* Root's subject, restarted by root */
	if (!t_subj_prepare(&s, "limits", limits_subject, NULL)) {
		struct ckpt_hdr_rlimits *r;
		struct t_edit e;

		if (t_edit_load(&e, s.img_path) ||
		    !(r = t_edit_find(&e, CKPT_HDR_RLIMITS, NULL))) {
			t_fail("limits: the rlimits record", "none");
		} else {
			for (i = 0; i < CKPT_RLIM_NLIMITS; i++)
				if (r->rlim[i].cur != (uint64_t)want[i].rlim_cur ||
				    r->rlim[i].max != (uint64_t)want[i].rlim_max)
					break;
			t_check(i == CKPT_RLIM_NLIMITS,
				"limits: the rlimits record holds the subject's limits",
				"RLIMIT_%s: %llu %llu", i < CKPT_RLIM_NLIMITS ?
				names[i] : "?",
				i < CKPT_RLIM_NLIMITS ? (unsigned long long)r->rlim[i].cur : 0,
				i < CKPT_RLIM_NLIMITS ? (unsigned long long)r->rlim[i].max : 0);
		}
		t_edit_free(&e);
		tell(&s, want);
		t_subj_restart_as(&s, "limits", NULL);

		/* Root may raise a hard limit above its own. */
		getrlimit(RLIMIT_NOFILE, &own);
		snprintf(path, sizeof(path), "%.4000s.patched", s.img_path);
		if (patch_hard(s.img_path, path, RLIMIT_NOFILE, own.rlim_max + 1)) {
			t_fail("limits: patching the image", "%s", strerror(errno));
		} else {
			struct rlimit raised[CKPT_RLIM_NLIMITS];
			char saved[sizeof(s.img_path)];

			memcpy(raised, want, sizeof(raised));
			raised[RLIMIT_NOFILE].rlim_max = own.rlim_max + 1;
			tell(&s, raised);
			memcpy(saved, s.img_path, sizeof(saved));
			snprintf(s.img_path, sizeof(s.img_path), "%s", path);
			t_subj_restart_as(&s, "root raises a hard limit above its own", NULL);
			memcpy(s.img_path, saved, sizeof(saved));
			unlink(path);
		}
	}
	t_subj_cleanup(&s);

	/* The user's subject */
	if (t_subj_prepare(&s, "user's limits", limits_subject, "user"))
		goto out;
	expected(want, 1);
	tell(&s, want);
	t_subj_restart_as(&s, "user's limits", t_user_hook);
	getrlimit(RLIMIT_NOFILE, &own);	/* the user's too */
	snprintf(path, sizeof(path), "%.4000s.patched", s.img_path);
	if (patch_hard(s.img_path, path, RLIMIT_NOFILE, own.rlim_max + 1))
		t_fail("user: patching the image", "%s", strerror(errno));
	else
		t_subj_refused(&s, path, t_user_hook, EPERM, NULL,
			       "user restart of an image raising a hard limit above its own: EPERM returned");
	if (patch_hard(s.img_path, path, RLIMIT_CPU, INF))
		t_fail("user: patching the image", "%s", strerror(errno));
	else
		t_subj_refused(&s, path, user_low_cpu_hook, EPERM, NULL,
			       "user (CPU hard limit 2000 s) restart of an image without a CPU limit: EPERM returned");
	unlink(path);
out:
	t_subj_cleanup(&s);
}

/* Interval timers */

#define REAL_NS		4000000000LL	/* ITIMER_REAL: fires 4 s after setup */
#define REAL_IVAL_NS	500000000LL	/* then every 0.5 s */
#define VIRT_S		100
#define VIRT_IVAL_S	7
#define PROF_S		200
#define PROF_IVAL_S	11
#define GAP_S		3		/* between checkpoint and restart */

static volatile int alarms;
static struct timespec alarm_at[4];

static void on_alarm(int sig)
{
	(void)sig;
	if (alarms < 4)
		clock_gettime(CLOCK_MONOTONIC, &alarm_at[alarms]);
	alarms++;
}

static long long tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;
}

static long long ts_ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void timers_subject(void *arg)
{
	struct itimerval real = { { 0, REAL_IVAL_NS / 1000 }, { REAL_NS / 1000000000, 0 } };
	struct itimerval virt = { { VIRT_IVAL_S, 0 }, { VIRT_S, 0 } };
	struct itimerval prof = { { PROF_IVAL_S, 0 }, { PROF_S, 0 } };
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it;
	struct timespec go, tick = { 0, 10000000 };
	long long left, first;
	int i;

	(void)arg;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &real, NULL) ||
	    setitimer(ITIMER_VIRTUAL, &virt, NULL) ||
	    setitimer(ITIMER_PROF, &prof, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();

	getitimer(ITIMER_REAL, &it);
	clock_gettime(CLOCK_MONOTONIC, &go);
	left = tv_ns(&it.it_value);
	t_subj_check(alarms == 0, "ITIMER_REAL did not fire early",
		     "%d SIGALRM before the go", alarms);
	t_subj_check(tv_ns(&it.it_interval) == REAL_IVAL_NS, "ITIMER_REAL interval",
		     "%lld ns, expected %lld", tv_ns(&it.it_interval), REAL_IVAL_NS);
	/* The restart came 3 s after the checkpoint: that time does not count. */
	t_subj_check(left > REAL_NS - 2000000000LL && left <= REAL_NS,
		     "ITIMER_REAL keeps the time it had left at the checkpoint",
		     "%lld ns left, expected 2-4 s (less than 1 s means the time between checkpoint and restart counted)",
		     left);
	for (i = 0; i < 1000 && alarms < 2; i++)
		nanosleep(&tick, NULL);
	if (t_subj_check(alarms >= 2, "ITIMER_REAL fires after the restart, then again",
			 "%d SIGALRM in 10 s", alarms)) {
		/* Not early; late by a loaded emulator's latency at most */
		first = ts_ns(&go, &alarm_at[0]);
		t_subj_check(first > left - 250000000LL && first < left + 1500000000LL,
			     "ITIMER_REAL fires when its time is up",
			     "after %lld ns, it had %lld left", first, left);
		first = ts_ns(&alarm_at[0], &alarm_at[1]);
		t_subj_check(first > 0 && first < 2 * REAL_IVAL_NS + 1000000000LL,
			     "ITIMER_REAL fires again after its interval",
			     "%lld ns later, interval %lld", first, REAL_IVAL_NS);
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);

	getitimer(ITIMER_VIRTUAL, &it);
	t_subj_check(it.it_interval.tv_sec == VIRT_IVAL_S && !it.it_interval.tv_usec &&
		     it.it_value.tv_sec >= VIRT_S - 10 &&
		     tv_ns(&it.it_value) <= VIRT_S * 1000000000LL,
		     "ITIMER_VIRTUAL value and interval",
		     "value %lld ns interval %lld ns, expected 90-100 s and %d s",
		     tv_ns(&it.it_value), tv_ns(&it.it_interval), VIRT_IVAL_S);
	getitimer(ITIMER_PROF, &it);
	t_subj_check(it.it_interval.tv_sec == PROF_IVAL_S && !it.it_interval.tv_usec &&
		     it.it_value.tv_sec >= PROF_S - 10 &&
		     tv_ns(&it.it_value) <= PROF_S * 1000000000LL,
		     "ITIMER_PROF value and interval",
		     "value %lld ns interval %lld ns, expected 190-200 s and %d s",
		     tv_ns(&it.it_value), tv_ns(&it.it_interval), PROF_IVAL_S);
}

static void test_itimers(void)
{
	struct t_subject s;

	if (!t_subj_prepare(&s, "itimers", timers_subject, NULL)) {
		struct ckpt_hdr_itimers *it;
		struct t_edit e;

		if (t_edit_load(&e, s.img_path) ||
		    !(it = t_edit_find(&e, CKPT_HDR_ITIMERS, NULL)))
			t_fail("itimers: the itimers record", "none");
		else
			t_check(it->it[0].value > 0 && it->it[0].value <= REAL_NS &&
				it->it[0].interval == REAL_IVAL_NS &&
				it->it[1].interval == VIRT_IVAL_S * 1000000000LL &&
				it->it[1].value > 0 &&
				it->it[2].interval == PROF_IVAL_S * 1000000000LL &&
				it->it[2].value > 0,
				"itimers: the record holds the timers",
				"real %lld/%lld virtual %lld/%lld prof %lld/%lld",
				(long long)it->it[0].value, (long long)it->it[0].interval,
				(long long)it->it[1].value, (long long)it->it[1].interval,
				(long long)it->it[2].value, (long long)it->it[2].interval);
		t_edit_free(&e);
		sleep(GAP_S);
		t_subj_restart_as(&s, "itimers", NULL);
	}
	t_subj_cleanup(&s);
}

/* POSIX timers: refused */

static void posix_timer_subject(void *arg)
{
	struct itimerspec its = { { 0, 0 }, { 1000, 0 } };
	timer_t t;

	(void)arg;
	if (timer_create(CLOCK_MONOTONIC, NULL, &t) || timer_settime(t, 0, &its, NULL)) {
		t_subj_check(0, "setup", "%s", strerror(errno));
		t_subj_exit();
	}
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(timer_gettime(t, &its) == 0 && its.it_value.tv_sec > 900,
		     "its timer still runs", "%s", strerror(errno));
}

static void test_posix_timer(void)
{
	const char *name = "checkpoint of a task with a POSIX timer: EOPNOTSUPP";
	struct t_subject s;
	int err;

	if (t_subj_start(&s, posix_timer_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, name))
		goto out;
	err = t_subj_checkpoint(&s);
	if (err != EOPNOTSUPP)
		t_fail(name, "got %s; log %.300s", t_errname(err),
		       s.log ? s.log : "");
	else
		t_check(!t_log_problem(s.log, EOPNOTSUPP, "timer"), name, "%s",
			t_log_problem(s.log, EOPNOTSUPP, "timer"));
	t_subj_finish(&s, "posix timer, refused");	/* undisturbed */
out:
	t_subj_cleanup(&s);
}

int main(void)
{
	if (geteuid() != 0) {
		t_skip("limits", "not root");
		return t_done();
	}
	test_limits();
	test_itimers();
	test_posix_timer();
	return t_done();
}
