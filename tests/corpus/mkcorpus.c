// SPDX-License-Identifier: GPL-2.0
/*
 * mkcorpus - make the restart(2) regression corpus from seed images, or
 * check it (host side; see README here and scripts/mkcorpus.sh).
 *
 *   mkcorpus SEED_DIR OUT_DIR   write OUT_DIR/NAME.img for every image of
 *                               the corpus, each a seed of SEED_DIR
 *                               (seed-KIND.img, as t_restart_fuzz prints
 *                               them with T_FUZZ_EMIT=seeds) with one change
 *   mkcorpus -c DIR             check the images of DIR
 *
 * Each image is checked with the image library (userspace/lib), which
 * reads an image as restart(2) does: it must parse up to the record its
 * change breaks and fail there with the errno restart(2) gives for it, or
 * parse completely when the change is one only the kernel can judge.
 * Written images are also checked to stop exactly at the changed record.
 * One line per image; the exit status is 1 when any image is missing or
 * not as intended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptimg.h"

#define PROG "mkcorpus"

struct rec {
	uint64_t off;
	uint32_t type, len;
};

/* An image and the records the library read from it */
struct img {
	unsigned char *p;
	size_t len;
	struct rec *r;
	size_t nr;
	int ret;		/* ckpt_next(): 0 complete, -1 failed */
	struct ckpt_err err;
};

/*
 * A change: fills *at with the offset of the record where the library
 * (and restart(2)) must stop; returns 0, or -1 when the seed does not
 * have what the change needs.
 */
typedef int (*mutate_fn)(struct img *im, uint64_t *at);

struct recipe {
	const char *name;	/* NAME.img */
	const char *seed;	/* seed-SEED.img */
	mutate_fn mutate;
	int err;		/* where it stops: errno, 0 when it parses */
	uint32_t at_type;	/* the type of the record it stops at */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror(PROG);
		exit(2);
	}
	return p;
}

/* Read the records of im->p through the library, as restart(2) would. */
static void parse(struct img *im)
{
	struct ckpt_reader rd;
	struct ckpt_record rec;
	size_t max = 64;
	int fd = memfd_create("img", MFD_CLOEXEC);

	if (fd < 0 || ckpt_write_full(fd, im->p, im->len) || lseek(fd, 0, SEEK_SET)) {
		perror(PROG ": memfd");
		exit(2);
	}
	free(im->r);
	im->r = xmalloc(max * sizeof(*im->r));
	im->nr = 0;
	ckpt_reader_init(&rd, fd);
	while ((im->ret = ckpt_next(&rd, &rec)) > 0) {
		if (im->nr == max) {
			max *= 2;
			im->r = realloc(im->r, max * sizeof(*im->r));
			if (!im->r) {
				perror(PROG);
				exit(2);
			}
		}
		im->r[im->nr].off = rec.off;
		im->r[im->nr].type = rec.type;
		im->r[im->nr].len = rec.len;
		im->nr++;
	}
	im->err = rd.err;
	ckpt_reader_release(&rd);
	close(fd);
}

static int load(const char *path, struct img *im)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(im, 0, sizeof(*im));
	if (fd < 0 || fstat(fd, &sb)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	im->len = sb.st_size;
	im->p = xmalloc(im->len);
	if (ckpt_read_full(fd, im->p, im->len) != (ssize_t)im->len) {
		close(fd);
		return -1;
	}
	close(fd);
	parse(im);
	return 0;
}

static void release(struct img *im)
{
	free(im->p);
	free(im->r);
	memset(im, 0, sizeof(*im));
}

/* Record n (from 0) of that type, NULL when there are fewer */
static struct rec *nth(struct img *im, uint32_t type, int n)
{
	size_t i;

	for (i = 0; i < im->nr; i++)
		if (im->r[i].type == type && !n--)
			return &im->r[i];
	return NULL;
}

static uint64_t span(const struct rec *r)
{
	return ckpt_align(r->len);
}

static void *at(struct img *im, const struct rec *r)
{
	return im->p + r->off;
}

/* Replace [off, off + del) with ilen bytes of ins (the records not updated) */
static void replace(struct img *im, size_t off, size_t del, const void *ins,
		    size_t ilen)
{
	unsigned char *p = xmalloc(im->len - del + ilen);

	memcpy(p, im->p, off);
	if (ilen)
		memcpy(p + off, ins, ilen);
	memcpy(p + off + ilen, im->p + off + del, im->len - off - del);
	free(im->p);
	im->p = p;
	im->len = im->len - del + ilen;
}

/* The tail after records were added (nr) and the image grew (bytes) */
static void fix_tail(struct img *im, int nr, int64_t bytes)
{
	struct ckpt_hdr_tail *t;

	t = (void *)(im->p + im->len - sizeof(*t));
	t->nr_records += nr;
	t->size += bytes;
}

/* A copy of record r inserted after it */
static uint64_t dup_after(struct img *im, const struct rec *r)
{
	uint64_t off = r->off + span(r), n = span(r);
	unsigned char *copy = xmalloc(n);

	memcpy(copy, at(im, r), n);
	replace(im, off, 0, copy, n);
	free(copy);
	fix_tail(im, 1, n);
	return off;
}

/* The changes */

static int header_duplicated(struct img *im, uint64_t *off)
{
	struct rec *h = nth(im, CKPT_HDR_HEADER, 0);

	*off = dup_after(im, h);
	return 0;
}

/* The stream ends in the middle of the third vma record */
static int vma_truncated(struct img *im, uint64_t *off)
{
	struct rec *v = nth(im, CKPT_HDR_VMA, 2);

	if (!v)
		return -1;
	*off = v->off;
	im->len = v->off + span(v) / 2;
	return 0;
}

/* The first fd refers to file tag 999, which no record defines */
static int fd_tag_missing(struct img *im, uint64_t *off)
{
	struct rec *f = nth(im, CKPT_HDR_FD, 0);

	if (!f)
		return -1;
	((struct ckpt_hdr_fd *)at(im, f))->file = 999;
	*off = f->off;
	return 0;
}

/* The fd of the second pipe's file refers to the first pipe record */
static int fd_tag_pipe(struct img *im, uint64_t *off)
{
	struct rec *p = nth(im, CKPT_HDR_PIPE, 0), *q = nth(im, CKPT_HDR_PIPE, 1);
	struct rec *f = q ? q + 2 : NULL;

	if (!p || !f || f >= im->r + im->nr || f->type != CKPT_HDR_FD)
		return -1;
	((struct ckpt_hdr_fd *)at(im, f))->file = ((struct ckpt_hdr_pipe *)at(im, p))->tag;
	*off = f->off;
	return 0;
}

/* The first pipe record moved after the file record that refers to it */
static int pipe_after_file(struct img *im, uint64_t *off)
{
	struct rec *p = nth(im, CKPT_HDR_PIPE, 0), *f = p ? p + 1 : NULL;
	uint64_t n = p ? span(p) : 0;
	unsigned char *copy;

	if (!p || f >= im->r + im->nr || f->type != CKPT_HDR_FILE ||
	    ((struct ckpt_hdr_file *)at(im, f))->object !=
	    ((struct ckpt_hdr_pipe *)at(im, p))->tag)
		return -1;
	copy = xmalloc(n);
	memcpy(copy, at(im, p), n);
	replace(im, f->off + span(f), 0, copy, n);
	replace(im, p->off, n, NULL, 0);
	free(copy);
	*off = p->off;		/* the file record is there now */
	return 0;
}

static int pages_nr_max(struct img *im, uint64_t *off)
{
	struct rec *pg = nth(im, CKPT_HDR_PAGES, 0);

	if (!pg)
		return -1;
	((struct ckpt_hdr_pages *)at(im, pg))->nr_pages = ~0ULL;
	*off = pg->off;
	return 0;
}

/* The tail cannot follow: the stream has no end of that record. */
static int pages_len_max(struct img *im, uint64_t *off)
{
	struct rec *pg = nth(im, CKPT_HDR_PAGES, 0);

	if (!pg)
		return -1;
	((struct ckpt_hdr *)at(im, pg))->len = 0xffffffff;
	*off = pg->off;
	return 0;
}

/* The mm announces 2^32-1 mappings: the signals come too early. */
static int mm_nr_vmas_max(struct img *im, uint64_t *off)
{
	struct rec *mm = nth(im, CKPT_HDR_MM, 0), *s = nth(im, CKPT_HDR_SIGNALS, 0);

	if (!mm || !s)
		return -1;
	((struct ckpt_hdr_mm *)at(im, mm))->nr_vmas = 0xffffffff;
	*off = s->off;
	return 0;
}

/* The signals announce 2^31-1 pending ones: the itimers come too early. */
static int nr_pending_overflow(struct img *im, uint64_t *off)
{
	struct rec *s = nth(im, CKPT_HDR_SIGNALS, 0), *t = nth(im, CKPT_HDR_ITIMERS, 0);

	if (!s || !t || !nth(im, CKPT_HDR_SIGINFO, 0))
		return -1;
	((struct ckpt_hdr_signals *)at(im, s))->nr_pending = 0x7fffffff;
	*off = t->off;
	return 0;
}

static int restart_block_dup(struct img *im, uint64_t *off)
{
	struct rec *rb = nth(im, CKPT_HDR_RESTART_BLOCK, 0);

	if (!rb)
		return -1;
	*off = dup_after(im, rb);
	return 0;
}

/* The second mapping, one of the executable, maps /proc/self/mem instead. */
static int vma_proc_self_mem(struct img *im, uint64_t *off)
{
	static const char path[] = "/proc/self/mem";
	struct rec *v = nth(im, CKPT_HDR_VMA, 1);
	struct ckpt_hdr_vma *h;
	size_t len = sizeof(*h) + sizeof(path);
	size_t n = ckpt_align(len);

	if (!v || ((struct ckpt_hdr_vma *)at(im, v))->kind != CKPT_VMA_FILE)
		return -1;
	h = calloc(1, n);
	if (!h)
		return -1;
	memcpy(h, at(im, v), sizeof(*h));
	h->h.len = len;
	memcpy(h->path, path, sizeof(path));
	replace(im, v->off, span(v), h, n);
	fix_tail(im, 0, (int64_t)n - (int64_t)span(v));
	free(h);
	*off = v->off;
	return 0;
}

/*
 * The task's exit signal is SIGKILL: its parent gets that when it ends.
 * It parses: the library, like restart(2), takes any valid signal.
 */
static int exit_signal_kill(struct img *im, uint64_t *off)
{
	struct rec *t = nth(im, CKPT_HDR_TASK, 0);

	if (!t)
		return -1;
	((struct ckpt_hdr_task *)at(im, t))->exit_signal = SIGKILL;
	*off = t->off;
	return 0;
}

/* A seed as it is, once it holds a mapping saved with its contents */
static int shmem_seed(struct img *im, uint64_t *off)
{
	size_t i;

	*off = 0;
	for (i = 0; i + 1 < im->nr; i++)
		if (im->r[i].type == CKPT_HDR_VMA &&
		    ((struct ckpt_hdr_vma *)at(im, &im->r[i]))->kind == CKPT_VMA_SHMEM &&
		    im->r[i + 1].type == CKPT_HDR_PAGES)
			return 0;
	return -1;
}

/*
 * The tree section (pids and tree records): the seed's tree has 4 tasks,
 * a parent, its two children and a zombie child
 */

/* Record r replaced with len bytes of rec (its length set, padded) */
static void replace_rec(struct img *im, const struct rec *r, void *rec, size_t len)
{
	size_t n = ckpt_align(len);
	unsigned char *p = xmalloc(n);

	memset(p, 0, n);
	memcpy(p, rec, len);
	((struct ckpt_hdr *)p)->len = len;
	fix_tail(im, 0, (int64_t)n - (int64_t)span(r));
	replace(im, r->off, span(r), p, n);
	free(p);
}

/*
 * The tree has 4097 tasks, one more than the most: the seed's, then
 * children of the root, each with a pid of its own (numbers from 20000).
 * Everything else about them is right.
 */
static int tree_nr_tasks_max_plus_1(struct img *im, uint64_t *off)
{
	struct rec *p = nth(im, CKPT_HDR_PIDS, 0), *t = nth(im, CKPT_HDR_TREE, 0);
	const struct ckpt_hdr_pids *op;
	const struct ckpt_hdr_tree *ot;
	struct ckpt_hdr_pids *np;
	struct ckpt_hdr_tree *nt;
	uint32_t want = CKPT_TREE_MAX_TASKS + 1, have, i, extra;
	size_t plen, tlen;
	uint64_t poff;

	if (!p || !t || t->off < p->off)
		return -1;
	op = at(im, p);
	ot = at(im, t);
	have = ot->nr_tasks;
	extra = want - have;
	plen = sizeof(*op) + ((size_t)op->nr_words + 2 * extra) * sizeof(op->words[0]);
	tlen = sizeof(*ot) + (size_t)want * sizeof(ot->tasks[0]);
	np = xmalloc(plen);
	nt = xmalloc(tlen);
	memcpy(np, op, sizeof(*op) + op->nr_words * sizeof(op->words[0]));
	memcpy(nt, ot, sizeof(*ot) + have * sizeof(ot->tasks[0]));
	memset(nt->tasks + have, 0, extra * sizeof(nt->tasks[0]));
	for (i = 0; i < extra; i++) {
		struct ckpt_task_pids *e = &nt->tasks[have + i];

		np->words[np->nr_words++] = 0;
		np->words[np->nr_words++] = 20000 + i;
		e->pid = e->tgid = ++np->nr_pids;
		e->ppid = ot->tasks[0].pid;
		e->pgid = e->sid = CKPT_PID_ROOT;
		e->exit_signal = SIGCHLD;
	}
	nt->nr_tasks = want;
	poff = p->off;
	replace_rec(im, t, nt, tlen);	/* the later one first */
	replace_rec(im, p, np, plen);
	*off = poff + ckpt_align(plen);
	free(np);
	free(nt);
	return 0;
}

/* The first pid has depth 1: a number in a nested pid namespace too */
static int pids_depth_1(struct img *im, uint64_t *off)
{
	struct rec *p = nth(im, CKPT_HDR_PIDS, 0);
	const struct ckpt_hdr_pids *op;
	struct ckpt_hdr_pids *np;
	size_t len;

	if (!p)
		return -1;
	op = at(im, p);
	if (op->nr_words < 2 || op->words[0] != 0)
		return -1;
	len = sizeof(*op) + (op->nr_words + 1) * sizeof(op->words[0]);
	np = xmalloc(len);
	memcpy(np, op, sizeof(*op));
	np->words[0] = 1;
	np->words[1] = op->words[1];
	np->words[2] = 2;		/* its number in the nested namespace */
	memcpy(np->words + 3, op->words + 2, (op->nr_words - 2) * sizeof(op->words[0]));
	np->nr_words++;
	*off = p->off;
	replace_rec(im, p, np, len);
	free(np);
	return 0;
}

/* The process group of the second child (its own) names no pid */
static int tree_pgid_tag_missing(struct img *im, uint64_t *off)
{
	struct rec *p = nth(im, CKPT_HDR_PIDS, 0), *t = nth(im, CKPT_HDR_TREE, 0);
	struct ckpt_hdr_tree *tr;

	if (!p || !t)
		return -1;
	tr = at(im, t);
	if (tr->nr_tasks < 3 || tr->tasks[2].pgid != tr->tasks[2].pid)
		return -1;
	tr->tasks[2].pgid = ((struct ckpt_hdr_pids *)at(im, p))->nr_pids + 1;
	*off = t->off;
	return 0;
}

/* The two children each other's parent */
static int tree_ppid_loop(struct img *im, uint64_t *off)
{
	struct rec *t = nth(im, CKPT_HDR_TREE, 0);
	struct ckpt_hdr_tree *tr;

	if (!t)
		return -1;
	tr = at(im, t);
	if (tr->nr_tasks < 3)
		return -1;
	tr->tasks[1].ppid = tr->tasks[2].pid;
	tr->tasks[2].ppid = tr->tasks[1].pid;
	*off = t->off;
	return 0;
}

/* The seed as it is: a tree, restored as a tree only */
static int tree_seed(struct img *im, uint64_t *off)
{
	struct rec *t = nth(im, CKPT_HDR_TREE, 0);

	*off = 0;
	return t && ((struct ckpt_hdr_tree *)at(im, t))->nr_tasks == 4 ? 0 : -1;
}

static const struct recipe recipes[] = {
	{ "header-duplicated", "basic", header_duplicated, EBADMSG, CKPT_HDR_HEADER },
	{ "vma-record-truncated", "basic", vma_truncated, ENODATA, CKPT_HDR_VMA },
	{ "fd-file-tag-missing", "files", fd_tag_missing, EBADMSG, CKPT_HDR_FD },
	{ "fd-file-tag-is-a-pipe", "pipe", fd_tag_pipe, EBADMSG, CKPT_HDR_FD },
	{ "file-pipe-object-not-yet-defined", "pipe", pipe_after_file, EBADMSG,
	  CKPT_HDR_FILE },
	{ "pages-nr-pages-max", "basic", pages_nr_max, EBADMSG, CKPT_HDR_PAGES },
	{ "pages-len-max", "basic", pages_len_max, EBADMSG, CKPT_HDR_PAGES },
	{ "mm-nr-vmas-max", "basic", mm_nr_vmas_max, EBADMSG, CKPT_HDR_SIGNALS },
	{ "signals-nr-pending-overflow", "signals", nr_pending_overflow, EBADMSG,
	  CKPT_HDR_ITIMERS },
	{ "restart-block-duplicated", "sleep", restart_block_dup, EBADMSG,
	  CKPT_HDR_RESTART_BLOCK },
	{ "vma-path-proc-self-mem", "maps", vma_proc_self_mem, 0, 0 },
	{ "task-exit-signal-sigkill", "basic", exit_signal_kill, 0, 0 },
	{ "shared-anonymous-mapping", "shanon", shmem_seed, 0, 0 },
	{ "shared-memfd-mapping", "memfd", shmem_seed, 0, 0 },
	{ "tree-nr-tasks-4097", "tree", tree_nr_tasks_max_plus_1, EBADMSG, CKPT_HDR_TREE },
	{ "pids-depth-1", "basic", pids_depth_1, EOPNOTSUPP, CKPT_HDR_PIDS },
	{ "tree-pgid-tag-missing", "tree", tree_pgid_tag_missing, EBADMSG, CKPT_HDR_TREE },
	{ "tree-ppid-loop", "tree", tree_ppid_loop, EBADMSG, CKPT_HDR_TREE },
	{ "tree-four-tasks", "tree", tree_seed, 0, 0 },
};

#define NR_RECIPES (sizeof(recipes) / sizeof(recipes[0]))

/*
 * Whether im is as the recipe says: its errno, and where the library
 * stops (the record after the last one it read).  *stop gets that offset.
 */
static int as_intended(const struct recipe *rc, struct img *im, uint64_t *stop,
		       char *why, size_t sz)
{
	const struct rec *last = im->nr ? &im->r[im->nr - 1] : NULL;
	const char *tname;
	uint32_t type = 0;

	*stop = last ? last->off + span(last) : 0;
	if (im->ret == 0) {
		snprintf(why, sz, "parses completely (%zu records)", im->nr);
		return !rc->err;
	}
	if (*stop + sizeof(type) <= im->len)
		memcpy(&type, im->p + *stop, sizeof(type));
	tname = ckpt_type_name(type);
	snprintf(why, sz, "stops in the %s record at 0x%llx: offset 0x%llx: %s (%s)",
		 tname ? tname : "unknown", (unsigned long long)*stop,
		 (unsigned long long)im->err.off, im->err.msg,
		 strerrorname_np(im->err.err) ?: "?");
	return rc->err && im->err.err == rc->err && type == rc->at_type;
}

static int make(const char *seeds, const char *out)
{
	char path[4096], why[512];
	const struct recipe *rc;
	struct img im;
	uint64_t defect, stop;
	int bad = 0, fd;

	for (rc = recipes; rc < recipes + NR_RECIPES; rc++) {
		snprintf(path, sizeof(path), "%s/seed-%s.img", seeds, rc->seed);
		if (load(path, &im) || im.ret) {
			fprintf(stderr, PROG ": %s: %s\n", path,
				im.p ? im.err.msg : strerror(errno));
			release(&im);
			bad = 1;
			continue;
		}
		if (rc->mutate(&im, &defect)) {
			fprintf(stderr, PROG ": %s: seed %s lacks what the change needs\n",
				rc->name, rc->seed);
			release(&im);
			bad = 1;
			continue;
		}
		parse(&im);
		if (!as_intended(rc, &im, &stop, why, sizeof(why)) ||
		    (rc->err && stop != defect)) {
			fprintf(stderr, PROG ": %s: not as intended (change at 0x%llx): %s\n",
				rc->name, (unsigned long long)defect, why);
			release(&im);
			bad = 1;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.img", out, rc->name);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ckpt_write_full(fd, im.p, im.len) || close(fd)) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			exit(2);
		}
		printf("%-36s %7zu bytes, from seed-%s: %s\n", rc->name, im.len,
		       rc->seed, why);
		release(&im);
	}
	return bad;
}

static int check(const char *dir)
{
	char path[4096], why[512];
	const struct recipe *rc;
	struct img im;
	uint64_t stop;
	int bad = 0;

	for (rc = recipes; rc < recipes + NR_RECIPES; rc++) {
		snprintf(path, sizeof(path), "%s/%s.img", dir, rc->name);
		if (load(path, &im)) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			bad = 1;
			continue;
		}
		if (as_intended(rc, &im, &stop, why, sizeof(why))) {
			printf("%-36s ok: %s\n", rc->name, why);
		} else {
			printf("%-36s NOT AS INTENDED: %s\n", rc->name, why);
			bad = 1;
		}
		release(&im);
	}
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "-c"))
		return check(argv[2]);
	if (argc == 3 && argv[1][0] != '-')
		return make(argv[1], argv[2]);
	fprintf(stderr, "usage: " PROG " SEED_DIR OUT_DIR | " PROG " -c DIR\n");
	return 2;
}
