// SPDX-License-Identifier: GPL-2.0
/*
 * Trees of tasks for the guest tests: the image's pids and tree records,
 * a small mktree and the coordinator's restart(2) (see ttree.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ckptsys.h"
#include "ttree.h"

/* Records by their framing */

size_t tt_walk(const void *buf, size_t len, struct tt_rec *r, size_t max)
{
	const unsigned char *p = buf;
	size_t off = 0, n = 0;

	while (off + sizeof(struct ckpt_hdr) <= len && n < max) {
		const struct ckpt_hdr *h = (const void *)(p + off);
		uint64_t span = ((uint64_t)h->len + CKPT_RECORD_ALIGN - 1) &
				~(uint64_t)(CKPT_RECORD_ALIGN - 1);

		if (h->len < sizeof(*h) || off + span > len)
			break;
		r[n].off = off;
		r[n].span = span;
		r[n].type = h->type;
		r[n].len = h->len;
		n++;
		off += span;
	}
	return n;
}

struct tt_rec *tt_find(struct tt_rec *r, size_t nr, uint32_t type, int n)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (r[i].type == type && !n--)
			return &r[i];
	return NULL;
}

void tt_fix_tail(void *buf, size_t len)
{
	static struct tt_rec r[8192];
	struct ckpt_hdr_tail *t;
	size_t n = tt_walk(buf, len, r, 8192);

	if (!n || r[n - 1].type != CKPT_HDR_TAIL || r[n - 1].len != sizeof(*t))
		return;
	t = (void *)((unsigned char *)buf + r[n - 1].off);
	t->nr_records = n - 1;
	t->size = r[n - 1].off;
}

/* The plan of an image */

#define TT_MAX_TAGS	8192
static pid_t tag_pid[TT_MAX_TAGS + 1];	/* number of each pid tag, 0: none */
static uint32_t nr_tags;

static pid_t tag_number(int32_t tag)
{
	return tag > 0 && (uint32_t)tag <= nr_tags ? tag_pid[tag] : 0;
}

/* The pid objects: 0 when the record is exactly as the format says. */
static int read_pids(const unsigned char *buf, const struct tt_rec *rec)
{
	const struct ckpt_hdr_pids *h = (const void *)(buf + rec->off);
	uint32_t avail, nr, idx = 0, tag = 0;
	int exact = 1;

	nr_tags = 0;
	if (rec->len < sizeof(*h))
		return -1;
	avail = (rec->len - sizeof(*h)) / sizeof(h->words[0]);
	nr = h->nr_words < avail ? h->nr_words : avail;
	if (nr != h->nr_words || rec->len != sizeof(*h) + nr * sizeof(h->words[0]))
		exact = 0;
	while (tag < h->nr_pids && tag < TT_MAX_TAGS && idx < nr) {
		int32_t d = h->words[idx];

		if (d < 0 || d > 32 || idx + 1 + (uint32_t)d >= nr)
			break;
		tag_pid[++tag] = h->words[idx + 1] > 0 ? h->words[idx + 1] : 0;
		if (d)
			exact = 0;	/* only depth 0 for now */
		idx += d + 2;
	}
	nr_tags = tag;
	return exact && tag == h->nr_pids && idx == nr ? 0 : -1;
}

static int find_task(const struct ckpt_hdr_tree *t, int n, int32_t tag)
{
	int j;

	for (j = 0; j < n; j++)
		if (t->tasks[j].pid == tag)
			return j;
	return -1;
}

/* A best guess: one task, with the pid of the first task record. */
static int guess(const unsigned char *buf, struct tt_rec *r, size_t n,
		 struct tt_plan *p)
{
	struct tt_rec *t = tt_find(r, n, CKPT_HDR_TASK, 0);

	p->n = 1;
	p->exact = 0;
	if (t && t->len >= sizeof(struct ckpt_hdr_task)) {
		pid_t pid = ((const struct ckpt_hdr_task *)(buf + t->off))->pid;

		p->t[0].pid = pid > 1 ? pid : 0;
	}
	return -1;
}

int tt_plan_image(const void *image, size_t len, struct tt_plan *p)
{
	static struct tt_rec r[64];
	const unsigned char *buf = image;
	const struct ckpt_hdr_tree *t;
	struct tt_rec *pr, *tr;
	size_t nr = tt_walk(buf, len, r, 64);
	uint32_t avail;
	int i, n, exact;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < TT_MAX_TASKS; i++)
		p->t[i] = (struct tt_task){ 0, -1, 0, TT_PGID_ROOT, SIGCHLD };
	pr = tt_find(r, nr, CKPT_HDR_PIDS, 0);
	tr = tt_find(r, nr, CKPT_HDR_TREE, 0);
	if (!pr || !tr || tr->len < sizeof(*t))
		return guess(buf, r, nr, p);
	exact = !read_pids(buf, pr);
	t = (const void *)(buf + tr->off);
	avail = (tr->len - sizeof(*t)) / sizeof(t->tasks[0]);
	p->nr_tasks = t->nr_tasks;
	n = t->nr_tasks < avail ? t->nr_tasks : avail;
	if ((uint32_t)n != t->nr_tasks || n > TT_MAX_TASKS ||
	    tr->len != sizeof(*t) + n * sizeof(t->tasks[0]))
		exact = 0;
	if (n > TT_MAX_TASKS)
		n = TT_MAX_TASKS;
	if (n < 1)
		return guess(buf, r, nr, p);
	p->n = n;
	for (i = 0; i < n; i++) {
		const struct ckpt_task_pids *e = &t->tasks[i];
		struct tt_task *k = &p->t[i];
		int j;

		k->pid = tag_number(e->pid);
		/* A zombie is made too: it joins, and exits as the image says. */
		if (!k->pid || e->tgid != e->pid || (e->flags & ~CKPT_TASK_ZOMBIE) ||
		    (!(e->flags & CKPT_TASK_ZOMBIE) && e->exit_code))
			exact = 0;
		j = find_task(t, i, e->ppid);
		k->parent = i ? j : -1;
		if (i ? j < 0 : e->ppid != CKPT_PID_NONE)
			exact = 0;
		k->setsid = e->sid == e->pid;
		if (!k->setsid && e->sid != CKPT_PID_ROOT &&
		    (k->parent < 0 || e->sid != t->tasks[k->parent].sid))
			exact = 0;	/* not a layout mktree makes */
		if (e->pgid == CKPT_PID_ROOT) {
			k->pgid = TT_PGID_ROOT;
		} else if (e->pgid == e->pid) {
			k->pgid = TT_PGID_OWN;
		} else {
			j = find_task(t, n, e->pgid);
			k->pgid = j >= 0 ? j : TT_PGID_ROOT;
			exact &= j >= 0;
		}
		if (i && e->exit_signal <= 64) {
			k->exit_signal = e->exit_signal;
		} else if (i) {
			k->exit_signal = SIGCHLD;
			exact = 0;
		}
	}
	p->exact = exact;
	return exact ? 0 : -1;
}

/* Making the tree: system calls only (see ttree.h) */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read a small file into buf (NUL ended): bytes, or -1 */
static ssize_t read_small(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sz - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* "/proc/" + number + suffix, without snprintf */
static void proc_path(char *buf, pid_t pid, const char *suffix)
{
	char digits[16];
	int n = 0;

	strcpy(buf, "/proc/");
	do {
		digits[n++] = '0' + pid % 10;
		pid /= 10;
	} while (pid > 0 && n < 15);
	buf += 6;
	while (n)
		*buf++ = digits[--n];
	strcpy(buf, suffix);
}

static void note(struct tt_state *st, int i, int step)
{
	if (!st->setup_err[i])
		st->setup_err[i] = errno + 1000 * step;
}

/* Wait for the coordinator's phase; give up after a minute. */
static void wait_phase(struct tt_state *st, int phase)
{
	int i;

	for (i = 0; st->phase < phase; i++) {
		if (i > 60000)
			_exit(124);
		sleep_ms(1);
	}
}

static pid_t spawn(const struct tt_plan *p, const struct tt_opts *o,
		   struct tt_state *st, int j);

static void __attribute__((noreturn)) task_main(const struct tt_plan *p,
						const struct tt_opts *o,
						struct tt_state *st, int i)
{
	const struct tt_task *k = &p->t[i];
	char buf[32];
	long ret;
	int j;

	st->pid[i] = syscall(SYS_getpid);
	if (read_small("/proc/self/stat", buf, sizeof(buf)) > 0)
		st->gpid[i] = atoi(buf);
	if (k->setsid && setsid() < 0)
		note(st, i, 1);
	for (j = i + 1; j < p->n; j++)
		if (p->t[j].parent == i)
			spawn(p, o, st, j);
	st->ready[i] = 1;
	wait_phase(st, 1);
	if (k->pgid == TT_PGID_OWN && !k->setsid && setpgid(0, 0))
		note(st, i, 2);
	st->ready[i] = 2;
	wait_phase(st, 2);
	if (k->pgid == TT_PGID_ROOT && i) {
		pid_t g = getpgid(st->pid[0]);

		if (g > 0 && g != getpgid(0) && setpgid(0, g))
			note(st, i, 3);
	} else if (k->pgid >= 0 && k->pgid != i && st->pid[k->pgid] > 0 &&
		   setpgid(0, st->pid[k->pgid])) {
		note(st, i, 3);
	}
	st->ready[i] = 3;
	wait_phase(st, 3);
	if (o->exit_before_join == i)
		_exit(0);
	ret = sys_restart(0, -1, 0, -1);
	st->joiner_err[i] = (ret < 0 ? errno : 0) + 1;
	_exit(TT_JOINER_RETURNED);
}

/* Create task j of the plan, a child of the caller: its pid, or -1. */
static pid_t spawn(const struct tt_plan *p, const struct tt_opts *o,
		   struct tt_state *st, int j)
{
	pid_t tid = p->t[j].pid, pid = -1;
	struct clone_args a = { .exit_signal = j ? p->t[j].exit_signal : SIGCHLD };

	if (tid > 0 && !o->any_pid) {
		a.set_tid = (uintptr_t)&tid;
		a.set_tid_size = 1;
		pid = syscall(SYS_clone3, &a, sizeof(a));
		if (pid < 0)
			note(st, j, 5);
		a.set_tid = 0;
		a.set_tid_size = 0;
	}
	if (pid < 0)
		pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0)
		task_main(p, o, st, j);
	if (pid < 0) {
		note(st, j, 6);
		st->ready[j] = 100;	/* nothing to wait for */
	}
	return pid;
}

/* Wait until every task is at least at step; 0, or -1 at the deadline */
static int wait_ready(struct tt_state *st, int step, long long end)
{
	int i, all;

	for (;;) {
		for (i = 0, all = 1; i < st->n; i++)
			all &= st->ready[i] >= step;
		if (all)
			return 0;
		if (now_ms() >= end)
			return -1;
		sleep_ms(1);
	}
}

static int blocked_in_restart(pid_t gpid)
{
	char path[64], buf[64];

	if (gpid <= 0)
		return 0;
	proc_path(path, gpid, "/syscall");
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	return atoi(buf) == __NR_restart && buf[3] == ' ';
}

static void set_why(struct tt_state *st, const char *what, int i)
{
	size_t n;

	if (st->why[0])
		return;
	n = strlen(what);
	if (n > sizeof(st->why) - 16)
		n = sizeof(st->why) - 16;
	memcpy(st->why, what, n);
	st->why[n++] = ' ';
	st->why[n++] = 't';
	st->why[n++] = 'a';
	st->why[n++] = 's';
	st->why[n++] = 'k';
	st->why[n++] = ' ';
	st->why[n++] = '0' + i / 10;
	st->why[n++] = '0' + i % 10;
	st->why[n] = '\0';
}

long tt_restart_tree(const struct tt_plan *p, const struct tt_opts *o,
		     int imgfd, int logfd, struct tt_state *st)
{
	long long end = now_ms() + (o->ready_ms ? o->ready_ms : 5000);
	pid_t root = -1;
	int i, j, all;

	st->n = p->n < 1 ? 1 : p->n > TT_MAX_TASKS ? TT_MAX_TASKS : p->n;
	for (i = 0; i < st->n; i++)
		if (p->t[i].parent < 0) {
			pid_t pid = spawn(p, o, st, i);

			if (!i)
				root = pid;
		}
	for (j = 1; j <= 3; j++) {
		if (wait_ready(st, j, end)) {
			for (i = 0; i < st->n && st->ready[i] >= j; i++)
				;
			set_why(st, j == 1 ? "not created:" : "not set up:", i);
			break;
		}
		st->phase = j;
	}
	st->phase = 3;
	/* Every task in restart(2) before the coordinator calls it */
	do {
		for (i = 0, all = 1; i < st->n; i++) {
			if (!st->in_restart[i])
				st->in_restart[i] = blocked_in_restart(st->gpid[i]);
			/* or it will never be: not created, or returned */
			all &= st->in_restart[i] || i == o->exit_before_join ||
			       st->ready[i] == 100 || st->joiner_err[i];
		}
		if (!all)
			sleep_ms(2);
	} while (!all && now_ms() < end);
	for (i = 0; !all && i < st->n; i++)
		if (!st->in_restart[i] && i != o->exit_before_join)
			set_why(st, "not in restart(2):", i);
	if (o->exit_before_join >= 0)
		sleep_ms(50);	/* it is gone */
	if (o->before)
		o->before();
	st->called = 1;
	if (o->called)
		*o->called = 1;
	st->ret = sys_restart(root, imgfd, o->flags, logfd);
	st->err = st->ret < 0 ? errno : 0;
	st->returned = 1;
	if (st->ret < 0)
		errno = st->err;
	return st->ret;
}

struct tt_state *tt_state_new(void)
{
	struct tt_state *st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (st == MAP_FAILED)
		return NULL;
	memset(st, 0, sizeof(*st));
	return st;
}

void tt_state_free(struct tt_state *st)
{
	if (st)
		munmap(st, sizeof(*st));
}

/* What became of the tasks */

enum tt_fate tt_fate(pid_t gpid, char *desc, size_t sz)
{
	char path[64], buf[512], *p;
	char state;

	if (desc && sz)
		desc[0] = '\0';
	if (gpid <= 0)
		return TT_GONE;
	proc_path(path, gpid, "/stat");
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return TT_GONE;
	p = strrchr(buf, ')');
	state = p && p[1] == ' ' ? p[2] : '?';
	if (state == 'Z' || state == 'X')
		return TT_GONE;
	if (blocked_in_restart(gpid))
		return TT_JOINED;
	if (desc && sz) {
		char sc[64];

		proc_path(path, gpid, "/syscall");
		if (read_small(path, sc, sizeof(sc)) <= 0)
			strcpy(sc, "?");
		sc[strcspn(sc, " \n")] = '\0';
		/* "state R, syscall running" */
		p = desc;
		if (sz > 40 + strlen(sc)) {
			strcpy(p, "state ");
			p[6] = state;
			strcpy(p + 7, ", syscall ");
			strcat(p, sc);
		}
	}
	return TT_ALIVE;
}

int tt_settle(struct tt_state *st, int ms, char *why, size_t sz)
{
	long long end = now_ms() + ms;
	char desc[96];
	int i, alive;

	for (;;) {
		for (i = 0, alive = 0; i < st->n; i++)
			alive += tt_fate(st->gpid[i], NULL, 0) == TT_ALIVE;
		if (!alive || now_ms() >= end)
			break;
		sleep_ms(10);
	}
	if (why && sz)
		why[0] = '\0';
	for (i = 0; alive && why && i < st->n; i++) {
		size_t n = strlen(why);

		if (tt_fate(st->gpid[i], desc, sizeof(desc)) != TT_ALIVE ||
		    n + 120 > sz)
			continue;
		/* "task 1 (pid 300): state R, syscall running; " */
		strcpy(why + n, "task ");
		n += 5;
		why[n++] = '0' + i / 10;
		why[n++] = '0' + i % 10;
		why[n++] = ' ';
		proc_path(why + n, st->gpid[i], "");	/* "/proc/300" */
		strcat(why, ": ");
		strcat(why, desc);
		strcat(why, "; ");
	}
	return alive;
}

void tt_kill_all(struct tt_state *st)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (st->pid[i] > 0 && tt_fate(st->gpid[i], NULL, 0) != TT_GONE)
			kill(st->pid[i], SIGKILL);
}
