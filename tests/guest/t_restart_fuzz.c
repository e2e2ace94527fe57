// SPDX-License-Identifier: GPL-2.0
/*
 * restart(2) on hostile images: a mutating fuzzer over full images.
 *
 * Seeds are made at run time: subjects that between them hold every kind
 * of state checkpoint(2) saves (memory, mappings, files, pipes, signals, a
 * sleep, ...) are checkpointed, so the fuzzer follows the image format as
 * it grows.  Each seed must restore into a subject that verifies itself.
 *
 * Then mutants: a systematic part (truncation at every record boundary and
 * inside every record, each record dropped, duplicated, its length broken)
 * and a random part (bit and byte flips, blocks, insertions, words of a
 * record set to 0, 1, max, negative, overflowing values, tag-like values
 * pointed elsewhere, record types changed, records duplicated, dropped,
 * moved, spliced in from another seed, trailing strings replaced), with
 * the tail fixed up half of the time so that the kernel gets past it.
 * Only the record framing (struct ckpt_hdr) and what the image library
 * says about a type (its size) are known here, no record layout.
 *
 * Each mutant is restarted with RESTART_TASKSELF in a child with a time
 * limit, pid 2 of a pid namespace of its own: a mutant restored with
 * changed memory or registers runs arbitrary code as root, and from there
 * it can signal no task outside (see tf_restart()).  Acceptable: an errno
 * with a log line, death by SIGKILL, or a task that runs (the subject,
 * perhaps with different state).  A bug: a
 * kernel report on /dev/kmsg, a child that does not end after SIGKILL, a
 * child stuck in restart(2), a task left behind, an errno without a log
 * line.  A bad mutant is printed as a reproducer (LINUXCR-REPRO markers;
 * scripts/extract-repro.sh saves it into tests/corpus/).
 *
 * First, the runner: a restarting child that signals everyone, leaves a
 * task behind or overstays is contained and reported as such.  Then the
 * oracle part: single-byte corruptions of the header, pids, tree and
 * tail records of a head-and-tail image (no task section) get exactly the
 * outcome the image library predicts.
 *
 * Environment (or lcr.NAME=... on the kernel command line):
 *   T_SEED            repeat a run (the seed is printed)
 *   T_FUZZ_SECS       time budget of the mutants (default 25 s, debug
 *                     kernel 110 s)
 *   T_FUZZ_EMIT=1     print the first mutant of each (mutator, outcome)
 *                     as a reproducer: material for the corpus
 *   T_FUZZ_ONLY=N     run mutant N only (with T_SEED), and print it
 *   T_FUZZ_EMIT=seeds print the seed images as reproducers
 *   T_FUZZ_SEED_DIR   take the seeds from the .img files of a directory
 *   T_FUZZ_DRY=1      build the mutants, do not restart them
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tfuzz.h"

/* The oracle part: header, pids, tree and tail against the library */

#define NR_RANDOM	300
#define NR_GARBAGE	100

static unsigned char *base;
static size_t base_len;
static struct t_image base_im;

/* How closely restart(2) must follow the library */
enum agree {
	AGREE_EXACTLY,		/* the same outcome */
	AGREE_ON_REJECTS,	/* no image accepted that the library rejects */
};

/* What the library says restart(2) returns for buf: 0 or an errno. */
static int predict(const void *buf, size_t len, struct ckpt_err *err)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	int fd, ret;

	fd = tf_memfd(buf, len);
	ckpt_reader_init(&r, fd);
	while ((ret = ckpt_next(&r, &rec)) > 0) {
		if (rec.type == CKPT_HDR_HEADER &&
		    ckpt_header_runnable(&r.header, rec.off, &r.err)) {
			ret = -1;
			break;
		}
	}
	*err = r.err;
	ckpt_reader_release(&r);
	close(fd);
	return ret < 0 ? err->err : 0;
}

static int documented(int rc)
{
	switch (rc) {
	case 0:
	case ENODATA:
	case EBADMSG:
	case EPROTONOSUPPORT:
	case ENOEXEC:
	case ECANCELED:
	case EOPNOTSUPP:	/* in the tree record: a layout not supported yet */
	case EINVAL:		/* RESTART_TASKSELF of a tree of several tasks */
		return 1;
	}
	return 0;
}

/* One corrupted image: NULL when restart(2) behaves, else why not. */
static const char *check_one(const unsigned char *buf, size_t len,
			     enum agree agree)
{
	static char why[1024];
	struct tf_run o = { .src = TF_SRC_MEMFD, .pidns = 1 };
	struct ckpt_err err = { 0 };
	struct tf_result r;
	char res[64];
	int want, rc;

	want = predict(buf, len, &err);
	tf_restart(buf, len, &o, &r);
	rc = r.outcome == TF_ERRNO ? r.err : -1;
	why[0] = '\0';
	if (tf_result_ok(&r, why, sizeof(why))) {
		why[0] = '\0';
		if (!documented(rc))
			snprintf(why, sizeof(why), "got %s, not a documented error",
				 tf_result_str(&r, res, sizeof(res)));
		else if (agree == AGREE_EXACTLY ? rc != want : !rc && want)
			snprintf(why, sizeof(why), "got %s, the library says %s (offset 0x%llx: %s)",
				 t_errname(rc), t_errname(want),
				 (unsigned long long)err.off, err.msg);
	}
	if (why[0] && r.log[0]) {
		size_t n = strlen(why);

		snprintf(why + n, sizeof(why) - n, "; log \"%.200s\"", r.log);
	}
	return why[0] ? why : NULL;
}

static void oracle_single_bytes(void)
{
	static const struct { int xor; int set; } muts[] = {
		{ 0x01, -1 }, { 0x80, -1 }, { 0, 0x00 }, { 0, 0xff },
	};
	unsigned char *buf = malloc(base_len);
	char first[1100] = "";
	const char *why;
	size_t off, m, n = 0, bad = 0;

	if (!buf)
		t_bail("malloc");
	/* Every byte: the library knows these records entirely. */
	for (off = 0; off < base_len; off++) {
		for (m = 0; m < sizeof(muts) / sizeof(muts[0]); m++) {
			memcpy(buf, base, base_len);
			buf[off] = muts[m].set >= 0 ? muts[m].set :
						      buf[off] ^ muts[m].xor;
			if (buf[off] == base[off])
				continue;
			n++;
			why = check_one(buf, base_len, AGREE_EXACTLY);
			if (why && !bad++)
				snprintf(first, sizeof(first), "byte 0x%zx = 0x%02x: %s",
					 off, buf[off], why);
			else if (why && bad <= 5)
				printf("# oracle: also byte 0x%zx = 0x%02x: %.400s\n", off,
				       buf[off], why);
		}
	}
	t_check(!bad, "oracle: single-byte corruptions of header, pids, tree and tail",
		"%zu of %zu wrong, first: %s", bad, n, first);
	free(buf);
}

static void oracle_random(struct tf_rng *rng)
{
	size_t cap = base_len + 64, i, bad = 0;
	unsigned char *buf = malloc(cap);
	char first[1100] = "";
	const char *why;

	if (!buf)
		t_bail("malloc");
	for (i = 0; i < NR_RANDOM + NR_GARBAGE; i++) {
		size_t len = base_len, k, nr = 1 + tf_below(rng, 8);

		memcpy(buf, base, base_len);
		if (i < NR_RANDOM) {
			for (k = 0; k < nr; k++)
				buf[tf_below(rng, base_len)] = tf_rand(rng);
			if (tf_below(rng, 4) == 0)
				len = tf_below(rng, base_len + 1);
		} else {
			/* Garbage; half of it starts like a record. */
			len = tf_below(rng, cap);
			for (k = 0; k < len; k++)
				buf[k] = tf_rand(rng);
			if (i % 2 && len >= 8) {
				((struct ckpt_hdr *)buf)->type = tf_below(rng, 4);
				((struct ckpt_hdr *)buf)->len = tf_below(rng, 512);
			}
		}
		why = check_one(buf, len, AGREE_ON_REJECTS);
		if (why && !bad++)
			snprintf(first, sizeof(first), "image %zu (%zu bytes): %s",
				 i, len, why);
		else if (why && bad <= 5)
			printf("# oracle: also image %zu (%zu bytes): %.400s\n", i, len, why);
	}
	t_check(!bad, "oracle: random corruptions and streams",
		"%zu of %d wrong, first: %s", bad, NR_RANDOM + NR_GARBAGE, first);
	free(buf);
}

static void oracle(struct tf_rng *rng)
{
	char path[PATH_MAX];

	/*
	 * The header, pids and tree records checkpoint(2) wrote, then a
	 * tail: no task section, restart(2) fails at the tail (EBADMSG).
	 */
	if (t_head_image(path))
		t_bail("head-and-tail image of the counting child");
	base = (unsigned char *)t_read_path(path, &base_len);
	t_scan_path(path, &base_im);
	unlink(path);
	if (!base || base_im.complete || base_im.nr != 3 || base_im.err.err != EBADMSG) {
		t_fail("oracle: head-and-tail image", "%zu records, offset 0x%llx: %s",
		       base_im.nr, (unsigned long long)base_im.err.off, base_im.err.msg);
		return;
	}
	oracle_single_bytes();
	oracle_random(rng);
}

/*
 * The runner itself: a restarting child that misbehaves before restart(2)
 * (as a wild restored mutant would after it) is contained and reported.
 */

static volatile sig_atomic_t strays;
static pid_t runner_pid;
static volatile pid_t *orphan;	/* shared: the pid of a task left behind */

static void on_stray(int sig)
{
	(void)sig;
	strays++;
}

static void signal_everyone(void)
{
	kill(-1, SIGWINCH);
	kill(runner_pid, SIGWINCH);
}

static void leave_a_task(void)
{
	char buf[32];
	ssize_t n;

	if (tf_fork() == 0) {
		/* /proc/self: our pid as the test sees it */
		n = readlink("/proc/self", buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		*orphan = n > 0 ? atoi(buf) : -1;
		for (;;)
			pause();
	}
	while (!*orphan)
		sched_yield();
}

static void never_restart(void)
{
	for (;;)
		pause();
}

static void runner_selftest(void)
{
	static const unsigned char junk[64];
	struct sigaction sa = { .sa_handler = on_stray }, old;
	struct tf_run o = { .src = TF_SRC_MEMFD, .pidns = 1 };
	struct tf_result r;
	char res[64], why[600];
	int ok;

	runner_pid = getpid();
	orphan = tf_shared_mem(4096);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, &old);
	o.before = signal_everyone;
	tf_restart(junk, sizeof(junk), &o, &r);
	sigaction(SIGWINCH, &old, NULL);
	t_check(!strays && r.outcome == TF_ERRNO && r.log_ok && tf_result_ok(&r, why, sizeof(why)),
		"runner: kill(-1) and kill(our pid) from the restarting child reach no task outside",
		"%d signal(s) came; %s; log \"%.200s\"", (int)strays,
		tf_result_str(&r, res, sizeof(res)), r.log);

	o.before = leave_a_task;
	tf_restart(junk, sizeof(junk), &o, &r);
	ok = !tf_result_ok(&r, why, sizeof(why));
	t_check(ok && r.leftovers == 1 && *orphan > 0 && kill(*orphan, 0) && errno == ESRCH,
		"runner: a task left behind is reported, and gone",
		"%d left behind, pid %d %s; %s", r.leftovers, *orphan,
		*orphan > 0 && !kill(*orphan, 0) ? "still there" : "gone",
		ok ? why : "reported as fine");
	if (*orphan > 0)
		kill(*orphan, SIGKILL);

	o.before = never_restart;
	o.limit_ms = 300;
	tf_restart(junk, sizeof(junk), &o, &r);
	t_check(r.outcome == TF_RUNNING && !r.leftovers && tf_result_ok(&r, why, sizeof(why)),
		"runner: a child past the time limit is running, and ended",
		"%s, %d left behind, %s", tf_result_str(&r, res, sizeof(res)),
		r.leftovers, why);
	munmap((void *)orphan, 4096);
}

/* Images as records: only the framing is known */

#define MAX_RECS	8192

struct rec {
	size_t off;		/* in the image */
	size_t span;		/* to the next record (padding included) */
	uint32_t type, len;
};

/* Split buf into records while the framing holds; the number found. */
static size_t walk(const unsigned char *buf, size_t len, struct rec *r,
		   size_t max)
{
	size_t off = 0, n = 0;

	while (off + sizeof(struct ckpt_hdr) <= len && n < max) {
		const struct ckpt_hdr *h = (const void *)(buf + off);
		uint64_t span = ckpt_align(h->len);

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

/* Bytes of a record that its type fixes (the rest: strings, payload). */
static size_t fixed_part(const struct rec *r)
{
	const struct ckpt_rec_type *rt = ckpt_rec_type(r->type);
	size_t n = rt ? rt->size : r->len;

	return n < r->len ? n : r->len;
}

struct seed {
	struct tf_image im;
	struct rec *recs;
	size_t nr;
	int restores;		/* the unmutated image restores a subject */
};

/* The tree the coordinator makes for the image at hand (ttree.h) */
static struct tt_plan plan;

#define MAX_SEEDS	32
static struct seed seeds[MAX_SEEDS];
static size_t nseeds;

/* A mutant under construction */
struct mut {
	unsigned char *p;
	size_t len, cap;
	const struct seed *seed;
	struct rec recs[MAX_RECS];
	size_t nr;
};

static void mut_reserve(struct mut *m, size_t len)
{
	if (len <= m->cap)
		return;
	m->cap = len + 4096;
	m->p = realloc(m->p, m->cap);
	if (!m->p)
		t_bail("realloc");
}

/* Replace [off, off + del) with ins (ilen bytes; NULL: zeros). */
static void mut_splice(struct mut *m, size_t off, size_t del, const void *ins,
		   size_t ilen)
{
	if (off > m->len)
		off = m->len;
	if (del > m->len - off)
		del = m->len - off;
	mut_reserve(m, m->len - del + ilen);
	memmove(m->p + off + ilen, m->p + off + del, m->len - off - del);
	if (ins)
		memcpy(m->p + off, ins, ilen);
	else
		memset(m->p + off, 0, ilen);
	m->len = m->len - del + ilen;
}

static void rewalk(struct mut *m)
{
	m->nr = walk(m->p, m->len, m->recs, MAX_RECS);
}

/* Make the tail agree with the records before it, if there is one. */
static void fix_tail(struct mut *m)
{
	struct ckpt_hdr_tail *t;
	struct rec *last;

	rewalk(m);
	if (!m->nr)
		return;
	last = &m->recs[m->nr - 1];
	if (last->type != CKPT_HDR_TAIL || last->len != sizeof(*t))
		return;
	t = (void *)(m->p + last->off);
	t->nr_records = m->nr - 1;
	t->size = last->off;
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 100, 127, 128, 255,
	256, 1023, 1024, 4095, 4096, 4097, 8192, 65535, 65536, 1 << 20,
	(64U << 20) + 1, 0x7ffffff0, 0x7fffffff, 0x80000000, 0xfffffff8,
	0xffffffff, 0x100000000ULL, 0x100000001ULL, 0x7fffffffe000ULL,
	0x7ffffffff000ULL, 0x7fffffffffffULL, 0x800000000000ULL,
	0xffff800000000000ULL, 0xffffffffff600000ULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, 0xfffffffffffff000ULL, 0xffffffffffffffffULL,
};

#define NR_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

/* A value worth trying in place of old: boundaries, neighbours, random. */
static uint64_t pick_value(struct tf_rng *r, uint64_t old)
{
	switch (tf_below(r, 8)) {
	case 0:
		return old + 1;
	case 1:
		return old - 1;
	case 2:
		return -old;
	case 3:
		return old << (1 + tf_below(r, 16));
	case 4:
		return old ^ (1ULL << tf_below(r, 64));
	case 5:
		return tf_rand(r);
	}
	return interesting[tf_below(r, NR_INTERESTING)];
}

static void put(unsigned char *p, int width, uint64_t v)
{
	memcpy(p, &v, width);	/* little-endian */
}

static uint64_t get(const unsigned char *p, int width)
{
	uint64_t v = 0;

	memcpy(&v, p, width);
	return v;
}

/* A random record index, other than the header most of the time. */
static size_t pick_rec(struct tf_rng *r, const struct mut *m)
{
	if (m->nr > 1 && tf_below(r, 8))
		return 1 + tf_below(r, m->nr - 1);
	return tf_below(r, m->nr);
}

/* The mutators: each returns 0 when it could not apply. */

static int m_bitflip(struct tf_rng *r, struct mut *m)
{
	int i, n = 1 + tf_below(r, 8);

	for (i = 0; i < n && m->len; i++)
		m->p[tf_below(r, m->len)] ^= 1 << tf_below(r, 8);
	return m->len > 0;
}

static int m_bytes(struct tf_rng *r, struct mut *m)
{
	static const unsigned char vals[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe };
	int i, n = 1 + tf_below(r, 8);

	for (i = 0; i < n && m->len; i++)
		m->p[tf_below(r, m->len)] = tf_below(r, 2) ? tf_rand(r) :
					    vals[tf_below(r, sizeof(vals))];
	return m->len > 0;
}

/* A block overwritten with random bytes or a copy of another part */
static int m_block(struct tf_rng *r, struct mut *m)
{
	size_t n = 1 + tf_below(r, 64), off, src, i;

	if (m->len < n * 2)
		return 0;
	off = tf_below(r, m->len - n);
	src = tf_below(r, m->len - n);
	for (i = 0; i < n; i++)
		m->p[off + i] = tf_below(r, 2) ? tf_rand(r) : m->p[src + i];
	return 1;
}

/* Bytes inserted or deleted: everything after is misaligned */
static int m_insdel(struct tf_rng *r, struct mut *m)
{
	size_t off = tf_below(r, m->len + 1), n = 1 + tf_below(r, 16);

	if (tf_below(r, 2)) {
		unsigned char junk[16];
		size_t i;

		for (i = 0; i < n; i++)
			junk[i] = tf_rand(r);
		mut_splice(m, off, 0, junk, n);
	} else {
		mut_splice(m, off, n, NULL, 0);
	}
	return 1;
}

static int m_truncate(struct tf_rng *r, struct mut *m)
{
	struct rec *x;

	if (!m->nr)
		return 0;
	x = &m->recs[pick_rec(r, m)];
	/* At a boundary half the time, else inside the record. */
	m->len = tf_below(r, 2) ? x->off : x->off + 1 + tf_below(r, x->span - 1);
	return 1;
}

static int m_len(struct tf_rng *r, struct mut *m)
{
	struct rec *x;
	struct ckpt_hdr *h;

	if (!m->nr)
		return 0;
	x = &m->recs[pick_rec(r, m)];
	h = (void *)(m->p + x->off);
	switch (tf_below(r, 4)) {
	case 0:
		h->len = fixed_part(x) + tf_below(r, 3) - 1;
		break;
	case 1:
		h->len = (uint32_t)pick_value(r, h->len);
		break;
	default:
		h->len = interesting[tf_below(r, NR_INTERESTING)];
	}
	return 1;
}

static int m_type(struct tf_rng *r, struct mut *m)
{
	struct rec *x, *other;

	if (!m->nr)
		return 0;
	x = &m->recs[pick_rec(r, m)];
	other = &m->recs[tf_below(r, m->nr)];
	((struct ckpt_hdr *)(m->p + x->off))->type =
		tf_below(r, 4) ? other->type : (uint32_t)pick_value(r, x->type);
	return 1;
}

/* A word of a record's fixed part (sometimes anywhere in it) */
static int m_word(struct tf_rng *r, struct mut *m)
{
	static const int widths[] = { 1, 2, 4, 4, 8, 8 };
	int width = widths[tf_below(r, 6)];
	size_t lim, off;
	struct rec *x;

	if (!m->nr)
		return 0;
	x = &m->recs[pick_rec(r, m)];
	lim = tf_below(r, 5) ? fixed_part(x) : x->len;
	if (lim < sizeof(struct ckpt_hdr) + width)
		return 0;
	off = sizeof(struct ckpt_hdr) +
	      tf_below(r, (lim - sizeof(struct ckpt_hdr)) / width) * width;
	off = x->off + (off & ~(size_t)(width - 1));
	put(m->p + off, width, pick_value(r, get(m->p + off, width)));
	return 1;
}

/*
 * Small 32-bit values (1..64) in fixed parts are mostly tags, counts and
 * kinds: point one at another such value (another object, perhaps of
 * another type or not defined yet), one past the largest (missing), 0 or
 * -1.
 */
static int m_tag(struct tf_rng *r, struct mut *m)
{
	size_t offs[1024], n = 0, i, off;
	uint32_t v, maxv = 0;

	for (i = 0; i < m->nr && n < 1024; i++) {
		size_t end = m->recs[i].off + fixed_part(&m->recs[i]);

		for (off = m->recs[i].off + 8; off + 4 <= end && n < 1024; off += 4) {
			v = get(m->p + off, 4);
			if (v >= 1 && v <= 64) {
				offs[n++] = off;
				maxv = v > maxv ? v : maxv;
			}
		}
	}
	if (!n)
		return 0;
	off = offs[tf_below(r, n)];
	switch (tf_below(r, 4)) {
	case 0:
		v = maxv + 1;
		break;
	case 1:
		v = tf_below(r, 2) ? 0 : 0xffffffff;
		break;
	default:
		v = get(m->p + offs[tf_below(r, n)], 4);
	}
	put(m->p + off, 4, v);
	return 1;
}

/* A copy of record x inserted at offset to */
static void dup_at(struct mut *m, const struct rec *x, size_t to)
{
	unsigned char *copy = malloc(x->span);

	if (!copy)
		t_bail("malloc");
	memcpy(copy, m->p + x->off, x->span);
	mut_splice(m, to, 0, copy, x->span);
	free(copy);
}

static int m_dup(struct tf_rng *r, struct mut *m)
{
	struct rec x;

	if (!m->nr)
		return 0;
	x = m->recs[pick_rec(r, m)];
	dup_at(m, &x, tf_below(r, 2) ? x.off : m->recs[tf_below(r, m->nr)].off);
	return 1;
}

static int m_drop(struct tf_rng *r, struct mut *m)
{
	struct rec *x;

	if (!m->nr)
		return 0;
	x = &m->recs[pick_rec(r, m)];
	mut_splice(m, x->off, x->span, NULL, 0);
	return 1;
}

static int m_move(struct tf_rng *r, struct mut *m)
{
	struct rec x, y;

	if (m->nr < 2)
		return 0;
	x = m->recs[pick_rec(r, m)];
	y = m->recs[pick_rec(r, m)];
	/* A copy at y, then the original (shifted when y was before it) goes. */
	dup_at(m, &x, y.off);
	mut_splice(m, y.off <= x.off ? x.off + x.span : x.off, x.span, NULL, 0);
	return 1;
}

/* A record of another seed inserted, or in place of one of ours */
static int m_splice(struct tf_rng *r, struct mut *m)
{
	const struct seed *s = &seeds[tf_below(r, nseeds)];
	const struct rec *y;
	struct rec *x;

	if (!m->nr || !s->nr)
		return 0;
	y = &s->recs[tf_below(r, s->nr)];
	x = &m->recs[pick_rec(r, m)];
	mut_splice(m, x->off, tf_below(r, 2) ? x->span : 0, s->im.buf + y->off, y->span);
	return 1;
}

/* A NUL-terminated printable string ending the record, replaced */
static int m_string(struct tf_rng *r, struct mut *m)
{
	static const char *const strs[] = {
		"", "/", ".", "..", "/proc/self/mem", "/proc/self/exe",
		"/dev/mem", "/dev/kmsg", "/sys/kernel/debug/kmemleak",
		"/nonexistent/file", "/tmp", "/tests", "/proc/1/root/init",
		"//////////////////////////////////////////////////",
	};
	const struct ckpt_rec_type *rt;
	char longstr[5000];
	const char *s;
	struct rec x;
	size_t start, end, n, newlen;
	unsigned char pad[8] = { 0 };

	if (!m->nr)
		return 0;
	x = m->recs[pick_rec(r, m)];
	rt = ckpt_rec_type(x.type);
	end = x.off + x.len - 1;
	if (!rt || !rt->varlen || m->p[end] != '\0')
		return 0;
	for (start = end; start > x.off + 8 && m->p[start - 1] >= 0x20 &&
	     m->p[start - 1] < 0x7f; start--)
		;
	switch (tf_below(r, 3)) {
	case 0:		/* no NUL: the string runs to the end */
		memset(m->p + start, 'A', end + 1 - start);
		return 1;
	case 1:
		memset(longstr, 'x', sizeof(longstr));
		longstr[tf_below(r, sizeof(longstr))] = '\0';
		s = longstr;
		break;
	default:
		s = strs[tf_below(r, sizeof(strs) / sizeof(strs[0]))];
	}
	n = strlen(s) + 1;
	newlen = start - x.off + n;
	mut_splice(m, start, x.off + x.span - start, s, n);
	mut_splice(m, start + n, 0, pad, ckpt_align(newlen) - newlen);
	((struct ckpt_hdr *)(m->p + x.off))->len = newlen;
	return 1;
}

/*
 * The tree section: the pids and tree records (<linux/checkpoint_hdr.h>).
 * These mutators know their layout: counts, depths, pid numbers and the
 * tags that tie tasks to pids, changed one at a time so that the rest of
 * the section still makes sense and restart(2) gets past it.
 */

/* The first record of a type that holds its fixed part (size bytes) */
static struct rec *find_rec(struct mut *m, uint32_t type, size_t size)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (m->recs[i].type == type && m->recs[i].len >= size)
			return &m->recs[i];
	return NULL;
}

/* Replace record x with len bytes of rec (its ckpt_hdr.len set, padded) */
static void replace_rec(struct mut *m, const struct rec *x, void *rec, size_t len)
{
	size_t n = ckpt_align(len);
	unsigned char *p = calloc(1, n);

	if (!p)
		t_bail("calloc");
	memcpy(p, rec, len);
	((struct ckpt_hdr *)p)->len = len;
	mut_splice(m, x->off, x->span, p, n);
	free(p);
}

static int pid_max(void)
{
	static int v;

	if (!v)
		v = t_read_int("/proc/sys/kernel/pid_max");
	return v > 0 ? v : 32768;
}

/* A pid number worth trying in place of old */
static int32_t pick_pid(struct tf_rng *r, int32_t old, const int32_t *others, size_t n)
{
	switch (tf_below(r, 12)) {
	case 0: return 0;
	case 1: return -1;
	case 2: return INT32_MIN;
	case 3: return INT32_MAX;
	case 4: return pid_max();
	case 5: return pid_max() - 1;
	case 6: return 1;		/* the init of the namespace */
	case 7: return 2;		/* the coordinator in the fuzzer's */
	case 8: return getpid();	/* ours, outside */
	case 9: return old + 1;
	case 10: return (int32_t)pick_value(r, old);
	}
	return n ? others[tf_below(r, n)] : old;	/* another task's */
}

/* Offsets (in words) of the depth word of each pid object, up to max */
static size_t pid_objects(const struct ckpt_hdr_pids *h, uint32_t nw, uint32_t *obj,
			  size_t max)
{
	uint32_t idx = 0;
	size_t n = 0;

	while (n < max && n < h->nr_pids && idx < nw) {
		int32_t d = h->words[idx];

		if (d < 0 || idx + 1 + (uint32_t)d >= nw)
			break;
		obj[n++] = idx;
		idx += d + 2;
	}
	return n;
}

static int m_pids(struct tf_rng *r, struct mut *m)
{
	static const uint32_t counts[] = {
		0, 1, 2, 3, 4096, 4097, 3 * CKPT_TREE_MAX_TASKS, 3 * CKPT_TREE_MAX_TASKS + 1,
		0x7fffffff, 0x80000000, 0xffffffff,
	};
	struct rec *x = find_rec(m, CKPT_HDR_PIDS, sizeof(struct ckpt_hdr_pids));
	struct ckpt_hdr_pids *h, *nh;
	uint32_t nw, obj[64], i, k;
	int32_t nums[64];
	size_t nobj, len;
	int c;

	if (!x)
		return 0;
	h = (void *)(m->p + x->off);
	nw = (x->len - sizeof(*h)) / sizeof(h->words[0]);
	nobj = pid_objects(h, nw, obj, 64);
	for (i = 0; i < nobj; i++)
		nums[i] = h->words[obj[i] + 1];
	k = nobj ? obj[tf_below(r, nobj)] : 0;
	switch ((c = tf_below(r, 9))) {
	case 0:
		h->nr_pids = tf_below(r, 2) ? counts[tf_below(r, 11)] :
			     h->nr_pids + tf_below(r, 3) - 1;
		return 1;
	case 1:
		h->nr_words = tf_below(r, 2) ? 2 * counts[tf_below(r, 11)] :
			      h->nr_words + tf_below(r, 5) - 2;
		return 1;
	case 2:		/* a depth, the numbers left as they are */
		if (!nobj)
			return 0;
		h->words[k] = tf_below(r, 2) ? 1 : (int32_t)pick_value(r, 1);
		return 1;
	case 3:		/* a number */
		if (!nobj)
			return 0;
		h->words[k + 1] = pick_pid(r, h->words[k + 1], nums, nobj);
		return 1;
	case 4:		/* depth 1 with its second number: well formed */
	case 5:		/* an object more */
	case 6:		/* an object less */
		break;
	case 7:		/* the record longer or shorter than its words */
		h->h.len = sizeof(*h) + (nw + tf_below(r, 5) - 2) * sizeof(h->words[0]);
		return 1;
	default:	/* two objects with the same number */
		if (nobj < 2)
			return 0;
		h->words[k + 1] = nums[tf_below(r, nobj)];
		return 1;
	}
	if (!nobj)
		return 0;
	len = x->len + 2 * sizeof(h->words[0]);
	nh = calloc(1, len);
	if (!nh)
		t_bail("calloc");
	memcpy(nh, h, x->len);
	nw = (x->len - sizeof(*h)) / sizeof(h->words[0]);
	switch (c) {
	case 4:		/* depth 1: a number for a nested namespace */
		memmove(&nh->words[k + 2], &nh->words[k + 1], (nw - k - 1) * sizeof(nh->words[0]));
		nh->words[k] = 1;
		nh->words[k + 2] = 1 + tf_below(r, 4);
		nh->nr_words++;
		len -= sizeof(h->words[0]);
		break;
	case 5:
		nh->words[nw] = 0;
		nh->words[nw + 1] = pick_pid(r, nums[0] + 100, nums, nobj);
		nh->nr_pids++;
		nh->nr_words += 2;
		break;
	default:
		k = obj[nobj - 1];
		len = sizeof(*h) + k * sizeof(h->words[0]);
		nh->nr_pids--;
		nh->nr_words = k;
	}
	replace_rec(m, x, nh, len);
	free(nh);
	return 1;
}

/* A tag in place of old: 0, -1, missing, another task's pid, ... */
static int32_t pick_tag(struct tf_rng *r, int32_t old, const struct ckpt_hdr_tree *t,
			uint32_t n, uint32_t nr_pids)
{
	switch (tf_below(r, 9)) {
	case 0: return CKPT_PID_NONE;
	case 1: return CKPT_PID_ROOT;
	case 2: return nr_pids + 1;		/* no such pid */
	case 3: return -2;
	case 4: return INT32_MAX;
	case 5: return INT32_MIN;
	case 6: return (int32_t)pick_value(r, old);
	}
	return n ? t->tasks[tf_below(r, n)].pid : old;	/* another task's */
}

/*
 * The tree record with another number of tasks, 0 to one more than the
 * most: the new tasks copies of others, or tasks of their own (a pid
 * object each, numbers from 20000, children of a task of the tree).
 */
static int m_tree_resize(struct tf_rng *r, struct mut *m, struct rec *x,
			 struct rec *px)
{
	static const uint32_t sizes[] = {
		0, 1, 2, 3, 4, 16, CKPT_TREE_MAX_TASKS, CKPT_TREE_MAX_TASKS + 1,
	};
	const struct ckpt_hdr_tree *t = (void *)(m->p + x->off);
	const struct ckpt_hdr_pids *h = px ? (void *)(m->p + px->off) : NULL;
	uint32_t have = (x->len - sizeof(*t)) / sizeof(t->tasks[0]), want, i, nw = 0;
	struct ckpt_hdr_pids *nh = NULL;
	struct ckpt_hdr_tree *nt;
	size_t len, plen = 0;
	int own = h && tf_below(r, 2);

	if (t->nr_tasks < have)
		have = t->nr_tasks;
	want = sizes[tf_below(r, 8)];
	len = sizeof(*t) + (size_t)want * sizeof(t->tasks[0]);
	nt = calloc(1, len);
	if (!nt)
		t_bail("calloc");
	memcpy(nt, t, sizeof(*t) + (size_t)(have < want ? have : want) * sizeof(t->tasks[0]));
	nt->nr_tasks = want;
	if (own && want > have) {
		nw = (px->len - sizeof(*h)) / sizeof(h->words[0]);
		if (h->nr_words < nw)
			nw = h->nr_words;
		plen = sizeof(*h) + (nw + 2 * (size_t)(want - have)) * sizeof(h->words[0]);
		nh = calloc(1, plen);
		if (!nh)
			t_bail("calloc");
		memcpy(nh, h, sizeof(*h) + nw * sizeof(h->words[0]));
	}
	for (i = have; i < want; i++) {
		struct ckpt_task_pids *e = &nt->tasks[i];

		if (nh) {
			nh->words[nw++] = 0;
			nh->words[nw++] = 20000 + i;
			e->pid = e->tgid = ++nh->nr_pids;
			e->ppid = have ? t->tasks[tf_below(r, have)].pid : CKPT_PID_NONE;
			e->pgid = e->sid = CKPT_PID_ROOT;
			e->exit_signal = SIGCHLD;
		} else if (have) {
			*e = t->tasks[i % have];
		}
	}
	if (nh)
		nh->nr_words = nw;
	/* The later record first: the earlier one's offset stays valid. */
	if (nh && px->off > x->off)
		replace_rec(m, px, nh, plen);
	replace_rec(m, x, nt, len);
	if (nh && px->off < x->off)
		replace_rec(m, px, nh, plen);
	free(nt);
	free(nh);
	return 1;
}

static int m_tree(struct tf_rng *r, struct mut *m)
{
	static const uint32_t counts[] = {
		0, 1, 2, 3, CKPT_TREE_MAX_TASKS, CKPT_TREE_MAX_TASKS + 1,
		0x7fffffff, 0x80000000, 0xffffffff,
	};
	static const uint32_t sigs[] = {
		0, SIGKILL, SIGSTOP, 32, 64, 65, 0x80000000, 0xffffffff,
	};
	/* wait(2) statuses: exited 0 and 42, killed, dumped core, stopped... */
	static const uint32_t codes[] = {
		0, 42 << 8, SIGKILL, SIGSEGV | 0x80, 0x7f, 0xffff, 0x10000, 0x80000000,
	};
	struct rec *x = find_rec(m, CKPT_HDR_TREE, sizeof(struct ckpt_hdr_tree));
	struct rec *px = find_rec(m, CKPT_HDR_PIDS, sizeof(struct ckpt_hdr_pids));
	uint32_t nr_pids = px ? ((struct ckpt_hdr_pids *)(m->p + px->off))->nr_pids : 0;
	struct ckpt_hdr_tree *t;
	struct ckpt_task_pids *e, *f, tmp;
	uint32_t n, i, j;
	int32_t *field;

	if (!x)
		return 0;
	t = (void *)(m->p + x->off);
	n = (x->len - sizeof(*t)) / sizeof(t->tasks[0]);
	if (t->nr_tasks < n)
		n = t->nr_tasks;
	i = tf_below(r, n);
	j = tf_below(r, n);
	e = n ? &t->tasks[i] : NULL;
	f = n ? &t->tasks[j] : NULL;
	switch (tf_below(r, 10)) {
	case 0:
		t->nr_tasks = tf_below(r, 2) ? counts[tf_below(r, 9)] :
			      t->nr_tasks + tf_below(r, 3) - 1;
		return 1;
	case 1:
		return m_tree_resize(r, m, x, px);
	case 2:		/* a tag of a task */
		if (!e)
			return 0;
		field = (int32_t *)e + tf_below(r, 5);	/* pid .. sid */
		*field = pick_tag(r, *field, t, n, nr_pids);
		return 1;
	case 3:		/* a loop: two tasks each other's parent, or its own */
		if (!e)
			return 0;
		e->ppid = f->pid;
		f->ppid = e->pid;
		return 1;
	case 4:		/* a second root, or a parent for the root */
		if (!e)
			return 0;
		if (tf_below(r, 2))
			e->ppid = CKPT_PID_NONE;
		else
			t->tasks[0].ppid = f->pid;
		return 1;
	case 5:		/* the group or the session of another task */
		if (!e)
			return 0;
		if (tf_below(r, 2))
			e->pgid = f->pid;
		else
			e->sid = f->pid;
		return 1;
	case 6:
		if (!e)
			return 0;
		e->exit_signal = sigs[tf_below(r, 8)];
		return 1;
	case 7:		/* a zombie (with no section) or not, its exit code, flags */
		if (e && tf_below(r, 2)) {
			e->flags ^= CKPT_TASK_ZOMBIE;
			if (tf_below(r, 2))
				e->exit_code = codes[tf_below(r, 8)];
		} else if (e && tf_below(r, 2)) {
			(tf_below(r, 2) ? &e->flags : &e->exit_code)[0] =
				tf_below(r, 2) ? 1U << tf_below(r, 32) : ~0U;
		} else {
			t->reserved = tf_below(r, 2) ? 1 : ~0U;
		}
		return 1;
	case 8:		/* two tasks swapped (a child before its parent), or one twice */
		if (!e || i == j)
			return 0;
		tmp = *e;
		if (tf_below(r, 2))
			*e = *f;
		*f = tmp;
		return 1;
	default:	/* a thread: its tgid another task's pid */
		if (!e)
			return 0;
		e->tgid = f->pid;
		return 1;
	}
}

struct mutator {
	const char *name;
	int (*fn)(struct tf_rng *r, struct mut *m);
	int weight;
};

static const struct mutator mutators[] = {
	{ "bitflip", m_bitflip, 3 }, { "bytes", m_bytes, 3 },
	{ "block", m_block, 2 }, { "insdel", m_insdel, 1 },
	{ "truncate", m_truncate, 2 }, { "len", m_len, 3 },
	{ "type", m_type, 2 }, { "word", m_word, 8 }, { "tag", m_tag, 4 },
	{ "dup", m_dup, 2 }, { "drop", m_drop, 2 }, { "move", m_move, 2 },
	{ "splice", m_splice, 2 }, { "string", m_string, 2 },
	{ "pids", m_pids, 5 }, { "tree", m_tree, 6 },
};

#define NR_MUTATORS (sizeof(mutators) / sizeof(mutators[0]))

static size_t pick_mutator(struct tf_rng *r)
{
	int total = 0, x;
	size_t i;

	for (i = 0; i < NR_MUTATORS; i++)
		total += mutators[i].weight;
	x = tf_below(r, total);
	for (i = 0; i < NR_MUTATORS - 1; i++) {
		x -= mutators[i].weight;
		if (x < 0)
			break;
	}
	return i;
}

/*
 * Systematic mutants of a seed: per record, cut at its start, cut inside
 * it (after its type, after its len, in the middle, before its end), drop
 * it, duplicate it, its len 0 and ~0.  Numbered 0 .. 8 * nr - 1.
 */
#define SYS_PER_REC	9

static const char *const sys_names[SYS_PER_REC] = {
	"cut-at", "cut-type", "cut-len", "cut-middle", "cut-end", "drop-each",
	"dup-each", "len-0", "len-max",
};

static int systematic(struct mut *m, size_t k)
{
	struct rec x = m->recs[k / SYS_PER_REC];
	struct ckpt_hdr *h = (void *)(m->p + x.off);

	switch (k % SYS_PER_REC) {
	case 0:
		m->len = x.off;
		return 0;
	case 1:
		m->len = x.off + 4;
		return 0;
	case 2:
		m->len = x.off + 8;
		return 0;
	case 3:
		m->len = x.off + x.span / 2;
		return 0;
	case 4:
		m->len = x.off + x.span - 1;
		return 0;
	case 5:
		mut_splice(m, x.off, x.span, NULL, 0);
		return 1;
	case 6:
		dup_at(m, &x, x.off);
		return 1;
	case 7:
		h->len = 0;
		return 0;
	}
	h->len = 0xffffffff;
	return 0;
}

/* Seeds */

static void add_seed(const char *name, unsigned char *buf, size_t len,
		     int restores)
{
	struct seed *s = &seeds[nseeds];

	if (nseeds == MAX_SEEDS)
		return;
	s->im.buf = buf;
	s->im.len = len;
	snprintf(s->im.name, sizeof(s->im.name), "%s", name);
	s->recs = malloc(MAX_RECS * sizeof(*s->recs));
	if (!s->recs)
		t_bail("malloc");
	s->nr = walk(buf, len, s->recs, MAX_RECS);
	s->restores = restores;
	nseeds++;
}

static void check_seed_result(int kind, const char *tname, const struct tf_result *rp,
			      int want_err)
{
	const struct tf_result r = *rp;
	char res[64], why[600];

	if (!tf_result_ok(&r, why, sizeof(why)))
		t_fail(tname, "%s", why);
	else if (kind == TF_TIMERS && r.outcome == TF_RESTORED_WRONG && !r.reports)
		t_skip(tname, "timers, rlimits or cwd not restored by this kernel");
	else if (want_err)
		/* The error record comes after the task began: killed then. */
		t_check((r.outcome == TF_ERRNO && r.err == want_err) ||
			r.outcome == TF_KILLED, tname,
			"got %s, expected %s; log \"%.200s\"",
			tf_result_str(&r, res, sizeof(res)), t_errname(want_err), r.log);
	else
		t_check(r.outcome == TF_RESTORED && !r.reports, tname,
			"got %s%s%s; log \"%.200s\"", tf_result_str(&r, res, sizeof(res)),
			r.reports ? ", kernel report " : "", r.report, r.log);
}

/*
 * Restart a seed unchanged: the subject comes back and checks itself,
 * with RESTART_TASKSELF and as a tree (a tree of several tasks only as a
 * tree: alone, restart(2) refuses it with EINVAL).
 */
static void check_seed(int kind, const unsigned char *buf, size_t len,
		       int want_err)
{
	const char *name = tf_kind_name(kind);
	struct tf_run o = { .src = TF_SRC_MEMFD, .limit_ms = 30000, .pidns = 1 };
	struct tf_result r;
	char tname[160], res[64], why[600];
	int tree;

	for (tree = 0; tree < 2; tree++) {
		o.tree = tree ? &plan : NULL;
		if (tree && tt_plan_image(buf, len, &plan) && !want_err)
			t_fail("seed: its pids and tree records make a tree", "%s: not as mktree makes it",
			       name);
		snprintf(tname, sizeof(tname), "seed %s%s: the image restores%s", name,
			 tree ? " as a tree" : "",
			 want_err ? " as the error it holds" : " a subject that verifies itself");
		tf_restart(buf, len, &o, &r);
		if (kind == TF_TREE && !tree) {
			snprintf(tname, sizeof(tname),
				 "seed %s: RESTART_TASKSELF refuses a tree of 4 tasks (EINVAL)", name);
			t_check(r.outcome == TF_ERRNO && r.err == EINVAL && r.log_ok &&
				tf_result_ok(&r, why, sizeof(why)), tname,
				"got %s; log \"%.200s\"", tf_result_str(&r, res, sizeof(res)), r.log);
			continue;
		}
		check_seed_result(kind, tname, &r, want_err);
	}
}

static void make_seed(int kind)
{
	struct tf_subject s;
	struct tf_image im = { 0 };
	struct t_image ti;
	char name[128], *log = NULL;
	int err, fd;

	snprintf(name, sizeof(name), "seed %s: checkpoint", tf_kind_name(kind));
	if (tf_subj_start(&s, kind, 0)) {
		t_fail(name, "the subject did not start");
		return;
	}
	err = tf_checkpoint_mem(s.pid, &im, &log);
	fd = tf_memfd(im.buf, im.len);
	t_scan_fd(fd, &ti);
	close(fd);
	if (err == EOPNOTSUPP && kind == TF_SOCKET) {
		/* Its image ends with the error record. */
		t_check(ti.err.err == ECANCELED, name, "the image does not end with an error record: %s",
			ti.err.msg);
		check_seed(kind, im.buf, im.len, ECANCELED);
		add_seed(tf_kind_name(kind), im.buf, im.len, 0);
	} else if (err == EOPNOTSUPP) {
		/* Not supported yet: no seed, but say so. */
		printf("# seed %s: checkpoint not supported yet: %.200s", tf_kind_name(kind),
		       log ? log : "\n");
		free(im.buf);
	} else if (t_check(!err && ti.complete, name, "%s; image: %s; log: %.200s",
			   t_errname(err), ti.err.msg, log ? log : "")) {
		const char *why = tf_subj_verify(&s, 5000);

		snprintf(name, sizeof(name), "seed %s: the subject runs on unchanged",
			 tf_kind_name(kind));
		t_check(!why, name, "%s", why);
		check_seed(kind, im.buf, im.len, 0);
		add_seed(tf_kind_name(kind), im.buf, im.len, 1);
	} else {
		free(im.buf);
	}
	free(log);
	tf_subj_stop(&s);
}

/* Seeds from files (T_FUZZ_SEED_DIR): e.g. the corpus, or seeds on the host */
static int load_seeds(const char *dir)
{
	struct dirent **list;
	char path[PATH_MAX], name[64];
	unsigned char *buf;
	size_t len;
	int i, nr = scandir(dir, &list, NULL, alphasort);

	for (i = 0; i < nr; i++) {
		const char *f = list[i]->d_name;

		if (strlen(f) > 4 && !strcmp(f + strlen(f) - 4, ".img")) {
			snprintf(path, sizeof(path), "%s/%s", dir, f);
			snprintf(name, sizeof(name), "%.*s", (int)strlen(f) - 4, f);
			buf = (unsigned char *)t_read_path(path, &len);
			if (buf)
				add_seed(name, buf, len, 0);
		}
		free(list[i]);
	}
	free(nr > 0 ? list : NULL);
	return nseeds ? 0 : -1;
}

static void make_seeds(void)
{
	static const int kinds[] = {
		TF_BASIC, TF_PIPE, TF_SIGNALS, TF_SLEEP, TF_FILES, TF_MAPS,
		TF_UNLINKED, TF_FIFO, TF_TIMERS, TF_SOCKET, TF_SHANON, TF_MEMFD,
		TF_TTY, TF_TREE,
	};
	char path[PATH_MAX];
	size_t i, len;
	unsigned char *buf;

	const char *dir = getenv("T_FUZZ_SEED_DIR");
	const char *e = getenv("T_FUZZ_EMIT");

	if (dir && *dir) {
		if (load_seeds(dir))
			t_bail("no seed image in T_FUZZ_SEED_DIR");
		return;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		make_seed(kinds[i]);
	if (!t_head_image(path)) {
		buf = (unsigned char *)t_read_path(path, &len);
		unlink(path);
		if (buf)
			add_seed("head", buf, len, 0);
	}
	/* T_FUZZ_EMIT=seeds: the seeds themselves, for work on the host */
	for (i = 0; e && !strcmp(e, "seeds") && i < nseeds; i++) {
		char name[80];

		snprintf(name, sizeof(name), "seed-%s", seeds[i].im.name);
		tf_repro_emit(name, "seed", seeds[i].im.buf, seeds[i].im.len);
	}
}

/* Every record type the library knows is in some seed. */
static void check_coverage(void)
{
	char missing[1024] = "", seen[1024] = "";
	size_t i, j, nm = 0, ns = 0;
	uint32_t type;

	for (type = 0; type < 4096; type++) {
		int found = 0;

		if (!ckpt_rec_type(type))
			continue;
		for (i = 0; i < nseeds && !found; i++)
			for (j = 0; j < seeds[i].nr && !found; j++)
				found = seeds[i].recs[j].type == type;
		if (found)
			ns += snprintf(seen + ns, sizeof(seen) - ns, " %s",
				       ckpt_type_name(type));
		else
			nm += snprintf(missing + nm, sizeof(missing) - nm, " %s",
				       ckpt_type_name(type));
		if (ns >= sizeof(seen) || nm >= sizeof(missing))
			break;
	}
	printf("# seed record types:%s\n", seen);
	t_check(!nm, "seeds hold every record type the image library knows",
		"missing:%s", missing);
}

/*
 * How a mutant is run, every mutant in each mode (T_FUZZ_MODE=taskself
 * or tree for one of them): restart(2) with RESTART_TASKSELF, or as a
 * tree under a coordinator, from a memfd, or from a pipe one time in
 * eight.
 */
struct mode {
	const char *name;
	void (*run)(const unsigned char *buf, size_t len, struct tf_rng *r,
		    struct tf_result *res);
};

static int limit_ms, grace_ms, dry;

static void run_taskself(const unsigned char *buf, size_t len,
			 struct tf_rng *r, struct tf_result *res)
{
	struct tf_run o = {
		.src = tf_below(r, 8) ? TF_SRC_MEMFD : TF_SRC_PIPE,
		.limit_ms = limit_ms,
		.grace_ms = grace_ms,
		.pidns = 1,
	};

	/* T_FUZZ_DRY=1: mutants only (to test the mutators on the host) */
	if (dry) {
		memset(res, 0, sizeof(*res));
		res->log_ok = 1;
		return;
	}
	tf_restart(buf, len, &o, res);
}

/*
 * As a tree: in the pid namespace, the restarting child is a coordinator
 * that makes the tasks the mutant's pids and tree records name, as far
 * as they make sense (with their pids, sessions and groups; one task
 * with any pid when nothing does), which join, and calls restart(root,
 * fd, 0, logfd).  Acceptable: an errno with a log line while every task
 * is gone or still waiting to join (not adopted), or the tree restored.
 */
static void run_tree(const unsigned char *buf, size_t len, struct tf_rng *r,
		     struct tf_result *res)
{
	struct tf_run o = {
		.src = tf_below(r, 8) ? TF_SRC_MEMFD : TF_SRC_PIPE,
		.limit_ms = limit_ms,
		.grace_ms = grace_ms,
		.pidns = 1,
		.tree = &plan,
	};

	tt_plan_image(buf, len, &plan);
	if (dry) {
		memset(res, 0, sizeof(*res));
		res->log_ok = 1;
		return;
	}
	tf_restart(buf, len, &o, res);
}

static const struct mode all_modes[] = {
	{ "taskself", run_taskself },
	{ "tree", run_tree },
};

static const struct mode *modes = all_modes;
static size_t nr_modes = 2;

static void pick_modes(void)
{
	const char *e = getenv("T_FUZZ_MODE");

	if (e && !strcmp(e, "taskself"))
		nr_modes = 1;
	else if (e && !strcmp(e, "tree"))
		modes = all_modes + 1, nr_modes = 1;
}

/* The fuzzing loop */

struct stats {
	struct tf_hist hist, mode_hist[2];
	unsigned long per_mut[NR_MUTATORS + 1];
	unsigned long mutants, nsys, bad, hangs, reports, slow, left, nolog;
	unsigned long emitted;
	char first_bad[600];
	int emit[NR_MUTATORS + 1][TF_NR_OUTCOMES];
};

static struct stats stats;
static struct mut mut;

/* Build mutant n into mut; its name in name. */
static void build_mutant(uint64_t seed, unsigned long n, size_t nsys_total,
			 const size_t *sys_order, int systematic_phase,
			 char *name, size_t sz, size_t *mi)
{
	struct tf_rng r;
	const struct seed *s;
	int fix = 0, i, k;

	tf_rng_seed(&r, seed ^ (n * 0x9e3779b97f4a7c15ULL));
	if (systematic_phase) {
		size_t idx = sys_order[n % nsys_total], si = 0;

		/* idx counts over the seeds' records in turn */
		while (idx >= seeds[si].nr * SYS_PER_REC) {
			idx -= seeds[si].nr * SYS_PER_REC;
			si++;
		}
		s = &seeds[si];
		mut.len = 0;
		mut_splice(&mut, 0, 0, s->im.buf, s->im.len);
		rewalk(&mut);
		fix = systematic(&mut, idx);
		snprintf(name, sz, "%s-%s-%zu", s->im.name, sys_names[idx % SYS_PER_REC],
			 idx / SYS_PER_REC);
		*mi = NR_MUTATORS;
	} else {
		s = &seeds[tf_below(&r, nseeds)];
		mut.len = 0;
		mut_splice(&mut, 0, 0, s->im.buf, s->im.len);
		k = 1 + (tf_below(&r, 3) ? 0 : tf_below(&r, 3));
		*mi = pick_mutator(&r);
		for (i = 0; i < k; i++) {
			size_t j = i ? pick_mutator(&r) : *mi;

			rewalk(&mut);
			mutators[j].fn(&r, &mut);
		}
		fix = tf_below(&r, 2);
		snprintf(name, sz, "%s-%s-%lu", s->im.name, mutators[*mi].name, n);
	}
	mut.seed = s;
	if (fix)
		fix_tail(&mut);
}

static void note_bad(const char *name, unsigned long n, const struct tf_result *r,
		     const char *why)
{
	char rname[256];

	stats.bad++;
	stats.hangs += r->outcome == TF_HANG;
	stats.slow += r->outcome == TF_SLOW;
	stats.reports += r->reports > 0;
	stats.left += r->leftovers > 0;
	stats.nolog += !r->log_ok;
	printf("# BAD mutant %lu (%s): %s\n", n, name, why);
	if (!stats.first_bad[0])
		snprintf(stats.first_bad, sizeof(stats.first_bad), "mutant %lu (%.150s): %.400s",
			 n, name, why);
	if (stats.emitted++ < 20) {
		snprintf(rname, sizeof(rname), "fuzz-%s", name);
		tf_repro_emit(rname, why, mut.p, mut.len);
	}
}

/* T_FUZZ_EMIT: the first mutant of each (mutator, outcome), for the corpus */
static void maybe_emit(const char *name, size_t mi, const struct tf_result *r)
{
	char rname[200], res[64];

	if (stats.emit[mi][r->outcome]++)
		return;
	snprintf(rname, sizeof(rname), "%s-%s", name, tf_outcome_name(r->outcome));
	tf_repro_emit(rname, tf_result_str(r, res, sizeof(res)), mut.p, mut.len);
}

static void run_one(uint64_t seed, unsigned long n, size_t nsys,
		    const size_t *order, int sys_phase, int emit, int verbose)
{
	struct tf_rng r;
	struct tf_result res;
	char name[128], why[600];
	size_t mi, md;

	build_mutant(seed, n, nsys, order, sys_phase, name, sizeof(name), &mi);
	stats.mutants++;
	tf_rng_seed(&r, seed ^ n);
	for (md = 0; md < nr_modes; md++) {
		char mname[200];

		modes[md].run(mut.p, mut.len, &r, &res);
		tf_hist_add(&stats.hist, &res);
		tf_hist_add(&stats.mode_hist[modes - all_modes + md], &res);
		stats.per_mut[mi]++;
		snprintf(mname, sizeof(mname), "%s-%s", name, modes[md].name);
		if (verbose)
			printf("# mutant %lu %s (%zu bytes): %s in %ld ms\n", n, mname,
			       mut.len, tf_result_str(&res, why, sizeof(why)), res.ms);
		if (!tf_result_ok(&res, why, sizeof(why)))
			note_bad(mname, n, &res, why);
		else if (emit)
			maybe_emit(name, mi, &res);
	}
}

static size_t *shuffled(size_t n, uint64_t seed)
{
	size_t *o = malloc((n + 1) * sizeof(*o)), i;
	struct tf_rng r;

	if (!o)
		t_bail("malloc");
	tf_rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		o[i] = i;
	for (i = n; i > 1; i--) {
		size_t j = tf_below(&r, i), t = o[i - 1];

		o[i - 1] = o[j];
		o[j] = t;
	}
	return o;
}

static void print_stats(long long ms)
{
	char line[1024];
	size_t i, n = 0;

	tf_hist_print(&stats.hist, "fuzz outcomes");
	tf_hist_print(&stats.mode_hist[0], "fuzz outcomes, taskself");
	tf_hist_print(&stats.mode_hist[1], "fuzz outcomes, tree");
	for (i = 0; i <= NR_MUTATORS; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
			      i < NR_MUTATORS ? mutators[i].name : "systematic",
			      stats.per_mut[i]);
	printf("# fuzz per mutator:%s\n", line);
	/* mutants: images made; runs: restarts of them, one per mode */
	printf("FUZZ-STATS mutants=%lu runs=%lu modes=%zu systematic=%lu ms=%lld per_s=%.1f runs_per_s=%.1f bad=%lu reports=%lu hangs=%lu slow=%lu left=%lu nolog=%lu\n",
	       stats.mutants, stats.hist.total, nr_modes, stats.nsys, ms,
	       ms ? stats.mutants * 1000.0 / ms : 0.0,
	       ms ? stats.hist.total * 1000.0 / ms : 0.0, stats.bad, stats.reports,
	       stats.hangs, stats.slow, stats.left, stats.nolog);
}

static void fuzz(uint64_t seed)
{
	long secs = tf_budget("T_FUZZ_SECS", 25, 110);
	const char *only = getenv("T_FUZZ_ONLY");
	const char *e = getenv("T_FUZZ_EMIT");
	int emit = e && *e == '1', verbose = !!getenv("T_FUZZ_VERBOSE");
	size_t nsys = 0, i, *order;
	long long t0 = tf_now_ms(), end = t0 + secs * 1000, ms;
	long files0 = tf_files_allocated(), files1;
	unsigned long n;

	for (i = 0; i < nseeds; i++)
		nsys += seeds[i].nr * SYS_PER_REC;
	order = shuffled(nsys, seed);
	printf("# fuzz: %zu seeds, %zu systematic mutants, budget %ld s\n", nseeds, nsys,
	       secs);
	if (only && *only) {
		n = strtoul(only, NULL, 0);
		run_one(seed, n, nsys, order, n < nsys, 1, 1);
		print_stats(tf_now_ms() - t0);
		free(order);
		return;
	}
	/* Systematic mutants in the first half of the budget, random after. */
	for (n = 0; tf_now_ms() < end && stats.hangs < 3; n++) {
		int sys = n < nsys && tf_now_ms() < t0 + secs * 500;

		stats.nsys += sys;
		run_one(seed, n, nsys, order, sys, emit, verbose);
		if (n % 500 == 499)
			printf("# fuzz: %lu mutants, %.1f/s\n", n + 1,
			       (n + 1) * 1000.0 / (tf_now_ms() - t0 + 1));
	}
	ms = tf_now_ms() - t0;
	print_stats(ms);
	tf_sleep_ms(200);	/* files are released a little after exit */
	files1 = tf_files_allocated();
	t_check(!stats.bad, "fuzz: every mutant restarts cleanly or fails cleanly",
		"%lu of %lu runs bad (reports %lu, hangs %lu, slow %lu, left behind %lu, no log %lu); first: %s",
		stats.bad, stats.hist.total, stats.reports, stats.hangs, stats.slow,
		stats.left, stats.nolog, stats.first_bad);
	printf("# fuzz: %lu of %zu systematic mutants within the budget\n",
	       stats.nsys, nsys);
	t_check(files1 - files0 < 256, "fuzz: no file handles leaked",
		"%ld allocated before, %ld after", files0, files1);
	free(order);
}

/*
 * A mutant restored with changed memory or registers runs arbitrary code
 * as root.  In its pid namespace it reaches no task of ours, its exit
 * signal (the image's) goes to the namespace's init; should anything come
 * through all the same, once the seeds are made the fuzzer ignores every
 * signal it does not need.  A restart child gets the dispositions of its
 * image anyway.
 */
static void ignore_stray_signals(void)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGABRT:
		case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
		case SIGTRAP: case SIGSYS:
			continue;
		}
		signal(sig, SIG_IGN);
	}
}

int main(int argc, char **argv)
{
	uint64_t seed;
	struct tf_rng rng;

	if (tf_child_main(argc, argv) >= 0)
		return 0;
	seed = tf_run_seed();
	tf_runner_init();
	tf_rng_seed(&rng, seed);
	limit_ms = tf_debug_kernel() ? 60000 : 20000;
	grace_ms = tf_debug_kernel() ? 30000 : 10000;
	dry = !!getenv("T_FUZZ_DRY");
	pick_modes();
	if (!getenv("T_FUZZ_ONLY") && !dry) {
		runner_selftest();
		oracle(&rng);
	}
	make_seeds();
	check_coverage();
	if (!nseeds)
		t_bail("no seed image");
	ignore_stray_signals();
	fuzz(seed);
	return t_done();
}
