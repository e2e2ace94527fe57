// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the image library and of ckptinfo on hand-made
 * images.  Usage: test_ckptimg OUTDIR (where ckptinfo was built).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ckptimg.h"

#include <linux/capability.h>

static int passed, failed;
static const char *outdir;

static void __attribute__((format(printf, 3, 4)))
report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", name);
		passed++;
		return;
	}
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed++;
}

/* An image under construction. */
struct img {
	unsigned char buf[65536];
	size_t len;
	uint64_t nr;
};

static void add(struct img *im, const void *rec, uint32_t len)
{
	memcpy(im->buf + im->len, rec, len);
	im->len = ckpt_align(im->len + len);
	im->nr++;
}

static unsigned int page_shift(void)
{
	return __builtin_ctzl(sysconf(_SC_PAGESIZE));
}

static void add_header(struct img *im)
{
	struct ckpt_hdr_header h = { 0 };
	struct utsname u;

	uname(&u);
	h.h.type = CKPT_HDR_HEADER;
	h.h.len = sizeof(h);
	h.magic = CKPT_MAGIC_HEAD;
	h.version = CKPT_VERSION;
	h.arch = ckpt_this_arch();
	h.page_shift = page_shift();
	h.flags = CHECKPOINT_SUBTREE;
	h.time = time(NULL);
	snprintf(h.release, sizeof(h.release), "%s", u.release);
	snprintf(h.version_str, sizeof(h.version_str), "%s", u.version);
	snprintf(h.machine, sizeof(h.machine), "%s", u.machine);
	add(im, &h, sizeof(h));
}

static void add_tail(struct img *im)
{
	struct ckpt_hdr_tail t = { 0 };

	t.h.type = CKPT_HDR_TAIL;
	t.h.len = sizeof(t);
	t.magic = CKPT_MAGIC_TAIL;
	t.nr_records = im->nr;
	t.size = im->len;
	add(im, &t, sizeof(t));
}

static void add_error(struct img *im, int error, const char *msg)
{
	unsigned char rec[256] = { 0 };
	struct ckpt_hdr_error *e = (void *)rec;
	size_t n = strlen(msg) + 1;

	e->h.type = CKPT_HDR_ERROR;
	e->h.len = sizeof(*e) + n;
	e->error = error;
	memcpy(e->msg, msg, n);
	add(im, rec, e->h.len);
}

/* The pids record: one pid object of depth 0 for each of nrs[n]. */
static void add_pids(struct img *im, const pid_t *nrs, uint32_t n)
{
	static unsigned char buf[65536];
	struct ckpt_hdr_pids *p = (void *)buf;
	uint32_t i;

	memset(buf, 0, sizeof(*p) + 2 * n * sizeof(p->words[0]));
	p->h.type = CKPT_HDR_PIDS;
	p->h.len = sizeof(*p) + 2 * n * sizeof(p->words[0]);
	p->nr_pids = n;
	p->nr_words = 2 * n;
	for (i = 0; i < n; i++) {
		p->words[2 * i] = 0;
		p->words[2 * i + 1] = nrs[i];
	}
	add(im, p, p->h.len);
}

/* A task of a tree record: tags pid (also tgid), ppid, pgid, sid. */
#define TP(pid, ppid, pgid, sid) \
	{ (pid), (pid), (ppid), (pgid), (sid), SIGCHLD, 0, 0 }

static void add_tree(struct img *im, const struct ckpt_task_pids *e, uint32_t n)
{
	static unsigned char buf[65536];
	struct ckpt_hdr_tree *t = (void *)buf;

	memset(t, 0, sizeof(*t));
	t->h.type = CKPT_HDR_TREE;
	t->h.len = sizeof(*t) + n * sizeof(*e);
	t->nr_tasks = n;
	memcpy(t->tasks, e, n * sizeof(*e));
	add(im, t, t->h.len);
}

/* The smallest task section: no files, no mappings, no signals. */
#define MIN_TASK_RECORDS 9

static void add_min_task(struct img *im, pid_t pid)
{
	static unsigned char buf[4096];
	struct ckpt_hdr_task *t = (void *)buf;
	struct ckpt_hdr_creds *c = (void *)buf;
	struct ckpt_hdr_rlimits *rl = (void *)buf;
	struct ckpt_hdr_fs *fs = (void *)buf;
	struct ckpt_hdr_files *fl = (void *)buf;
	struct ckpt_hdr_mm *m = (void *)buf;
	struct ckpt_hdr_signals *sg = (void *)buf;
	struct ckpt_hdr_itimers *it = (void *)buf;
	struct ckpt_hdr_cpu *cpu = (void *)buf;
	int i;

	memset(buf, 0, sizeof(buf));
	t->h.type = CKPT_HDR_TASK;
	t->h.len = sizeof(*t);
	snprintf(t->comm, sizeof(t->comm), "task%d", pid);
	t->pid = t->tgid = pid;
	t->exit_signal = SIGCHLD;
	add(im, t, t->h.len);

	memset(buf, 0, sizeof(buf));
	c->h.type = CKPT_HDR_CREDS;
	c->h.len = sizeof(*c);
	add(im, c, c->h.len);

	memset(buf, 0, sizeof(buf));
	rl->h.type = CKPT_HDR_RLIMITS;
	rl->h.len = sizeof(*rl);
	for (i = 0; i < CKPT_RLIM_NLIMITS; i++)
		rl->rlim[i].cur = rl->rlim[i].max = ~0ULL;
	add(im, rl, rl->h.len);

	memset(buf, 0, sizeof(buf));
	fs->h.type = CKPT_HDR_FS;
	fs->h.len = sizeof(*fs) + 4;
	fs->root_len = 2;
	memcpy(fs->paths, "/\0/", 4);
	add(im, fs, fs->h.len);

	memset(buf, 0, sizeof(buf));
	fl->h.type = CKPT_HDR_FILES;
	fl->h.len = sizeof(*fl);
	add(im, fl, fl->h.len);

	memset(buf, 0, sizeof(buf));
	m->h.type = CKPT_HDR_MM;
	m->h.len = sizeof(*m) + sizeof("/bin/sh");
	strcpy(m->exe_path, "/bin/sh");
	add(im, m, m->h.len);

	memset(buf, 0, sizeof(buf));
	sg->h.type = CKPT_HDR_SIGNALS;
	sg->h.len = sizeof(*sg);
	add(im, sg, sg->h.len);

	memset(buf, 0, sizeof(buf));
	it->h.type = CKPT_HDR_ITIMERS;
	it->h.len = sizeof(*it);
	add(im, it, it->h.len);

	memset(buf, 0, sizeof(buf));
	cpu->h.type = CKPT_HDR_CPU;
	cpu->h.len = sizeof(*cpu);
	for (i = 0; i < CKPT_X86_TLS_ENTRIES; i++) {
		cpu->tls[i].entry_number = 12 + i;
		cpu->tls[i].read_exec_only = 1;
		cpu->tls[i].seg_not_present = 1;
	}
	add(im, cpu, cpu->h.len);
}

/* Header, pids, tree of one task, the task, tail: the smallest image. */
#define GOOD_RECORDS (4 + MIN_TASK_RECORDS)
#define PIDS_OFF	sizeof(struct ckpt_hdr_header)
#define TREE_OFF	(PIDS_OFF + sizeof(struct ckpt_hdr_pids) + 8)
#define TASK_OFF	(TREE_OFF + sizeof(struct ckpt_hdr_tree) + \
			 sizeof(struct ckpt_task_pids))
static size_t tail_off;		/* of the last good_image() */

static void good_image(struct img *im)
{
	static const pid_t nrs[] = { 4242 };
	static const struct ckpt_task_pids tasks[] = {
		TP(1, CKPT_PID_NONE, CKPT_PID_ROOT, CKPT_PID_ROOT),
	};

	memset(im, 0, sizeof(*im));
	add_header(im);
	add_pids(im, nrs, 1);
	add_tree(im, tasks, 1);
	add_min_task(im, 4242);
	tail_off = im->len;
	add_tail(im);
}

/* Feed len bytes to fd in chunks of chunk bytes from a child, then close. */
static pid_t feeder(int fd, const void *buf, size_t len, size_t chunk)
{
	pid_t pid = fork();
	size_t off;

	if (pid)
		return pid;
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (ckpt_write_full(fd, (const char *)buf + off, n))
			_exit(1);
	}
	_exit(0);
}

/*
 * Read an image through the library from a pipe (or a socketpair with a
 * chunked writer).  Returns 0 for a complete image, else -1 with *err.
 */
static int scan_chunked(const void *buf, size_t len, size_t chunk, int sock,
			struct ckpt_err *err, uint64_t *nrec)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	int fds[2], ret;
	pid_t pid;

	if (sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds)) {
		perror("pipe");
		exit(1);
	}
	pid = feeder(fds[1], buf, len, chunk);
	close(fds[1]);

	ckpt_reader_init(&r, fds[0]);
	while ((ret = ckpt_next(&r, &rec)) > 0)
		;
	*err = r.err;
	if (nrec)
		*nrec = r.nr_records;
	ckpt_reader_release(&r);
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return ret;
}

static int scan(const void *buf, size_t len, struct ckpt_err *err)
{
	return scan_chunked(buf, len, len ? len : 1, 0, err, NULL);
}

/* Expect the scan of buf to fail with errno e at offset off. */
static void expect(const char *name, const void *buf, size_t len, int e,
		   uint64_t off)
{
	struct ckpt_err err;
	int ret = scan(buf, len, &err);

	if (!e) {
		report(ret == 0, name, "got \"%s\" (%s) at 0x%llx, expected the image accepted",
		       err.msg, strerror(err.err), (unsigned long long)err.off);
		return;
	}
	if (ret == 0) {
		report(0, name, "image accepted, expected %s at 0x%llx",
		       strerror(e), (unsigned long long)off);
		return;
	}
	report(err.err == e && err.off == off, name,
	       "got \"%s\" (%s) at 0x%llx, expected %s at 0x%llx", err.msg,
	       strerror(err.err), (unsigned long long)err.off, strerror(e),
	       (unsigned long long)off);
}

#define HDR(im)		((struct ckpt_hdr_header *)(im)->buf)
#define TAIL(im)	((struct ckpt_hdr_tail *)((im)->buf + tail_off))
/* Where add_error() puts the error record after the header alone */
#define ERR_OFF		sizeof(struct ckpt_hdr_header)

static void test_valid(void)
{
	struct ckpt_err err;
	struct img im;
	uint64_t nr = 0;

	good_image(&im);
	report(sizeof(struct ckpt_hdr_header) == 256 &&
	       sizeof(struct ckpt_hdr_tail) == 32 &&
	       sizeof(struct ckpt_hdr_pids) == 16 &&
	       sizeof(struct ckpt_hdr_tree) == 16 &&
	       sizeof(struct ckpt_task_pids) == 32 && TASK_OFF == 328,
	       "record sizes", "header %zu, tail %zu, pids %zu, tree %zu + %zu",
	       sizeof(struct ckpt_hdr_header), sizeof(struct ckpt_hdr_tail),
	       sizeof(struct ckpt_hdr_pids), sizeof(struct ckpt_hdr_tree),
	       sizeof(struct ckpt_task_pids));
	report(scan_chunked(im.buf, im.len, im.len, 0, &err, &nr) == 0 &&
	       nr == GOOD_RECORDS, "valid image through a pipe",
	       "%s at 0x%llx (%llu records)",
	       err.msg, (unsigned long long)err.off, (unsigned long long)nr);
	report(scan_chunked(im.buf, im.len, 1, 1, &err, &nr) == 0 &&
	       nr == GOOD_RECORDS,
	       "valid image, 1-byte writes to a socket", "%s at 0x%llx",
	       err.msg, (unsigned long long)err.off);
	report(scan_chunked(im.buf, im.len, 7, 0, &err, &nr) == 0 &&
	       nr == GOOD_RECORDS,
	       "valid image, 7-byte writes to a pipe", "%s at 0x%llx",
	       err.msg, (unsigned long long)err.off);
}

static void test_truncated(void)
{
	struct ckpt_err err;
	struct img im;
	size_t cut;
	int bad = 0;

	good_image(&im);
	expect("empty image", im.buf, 0, ENODATA, 0);
	for (cut = 1; cut < im.len && !bad; cut++) {
		if (scan(im.buf, cut, &err) == 0 || err.err != ENODATA ||
		    err.off != cut) {
			report(0, "truncated at every offset",
			       "cut at %zu: %s at 0x%llx", cut, err.msg,
			       (unsigned long long)err.off);
			bad = 1;
		}
	}
	if (!bad)
		report(1, "truncated at every offset", " ");
}

static void test_header(void)
{
	struct ckpt_err err;
	struct img im;

	good_image(&im);
	HDR(&im)->magic ^= 1;
	expect("header magic", im.buf, im.len, EBADMSG, 8);

	good_image(&im);
	HDR(&im)->version = CKPT_VERSION + 1;
	expect("header version", im.buf, im.len, EPROTONOSUPPORT, 16);

	good_image(&im);
	HDR(&im)->flags = 2;
	expect("header unknown flags", im.buf, im.len, EBADMSG, 24);

	good_image(&im);
	HDR(&im)->reserved = 1;
	expect("header reserved", im.buf, im.len, EBADMSG, 28);

	good_image(&im);
	memset(HDR(&im)->release, 'A', CKPT_UTS_LEN);
	expect("release without NUL", im.buf, im.len, EBADMSG, 40);

	good_image(&im);
	memset(HDR(&im)->machine, 'A', CKPT_UTS_LEN);
	expect("machine without NUL", im.buf, im.len, EBADMSG, 40 + 2 * 72);

	good_image(&im);
	HDR(&im)->h.len = 255;
	expect("header len short", im.buf, im.len, EBADMSG, 4);
	HDR(&im)->h.len = 264;
	expect("header len long", im.buf, im.len, EBADMSG, 4);
	HDR(&im)->h.len = 0xffffffff;
	expect("header len 0xffffffff", im.buf, im.len, EBADMSG, 4);
	HDR(&im)->h.len = 0;
	expect("header len 0", im.buf, im.len, EBADMSG, 4);

	good_image(&im);
	HDR(&im)->h.type = CKPT_HDR_TAIL;
	expect("tail first", im.buf, im.len, EBADMSG, 0);
	HDR(&im)->h.type = 77;
	expect("unknown type first", im.buf, im.len, EBADMSG, 0);

	good_image(&im);
	report(ckpt_header_runnable(HDR(&im), 0, &err) == 0, "runnable header",
	       "%s", err.msg);
	HDR(&im)->arch = 2;
	report(ckpt_header_runnable(HDR(&im), 0, &err) < 0 &&
	       err.err == ENOEXEC && err.off == 20, "foreign arch",
	       "err %d at 0x%llx", err.err, (unsigned long long)err.off);
	good_image(&im);
	HDR(&im)->page_shift++;
	report(ckpt_header_runnable(HDR(&im), 0, &err) < 0 &&
	       err.err == ENOEXEC && err.off == 22, "foreign page_shift",
	       "err %d at 0x%llx", err.err, (unsigned long long)err.off);
}

static void test_tail(void)
{
	struct img im;

	good_image(&im);
	TAIL(&im)->h.type = 77;
	expect("unknown type for tail", im.buf, im.len, EBADMSG, tail_off);
	TAIL(&im)->h.type = CKPT_HDR_HEADER;
	expect("second header", im.buf, im.len, EBADMSG, tail_off);

	good_image(&im);
	TAIL(&im)->magic = 0;
	expect("tail magic", im.buf, im.len, EBADMSG, tail_off + 8);

	good_image(&im);
	TAIL(&im)->nr_records++;
	expect("tail nr_records high", im.buf, im.len, EBADMSG, tail_off + 16);
	TAIL(&im)->nr_records = 0;
	expect("tail nr_records 0", im.buf, im.len, EBADMSG, tail_off + 16);

	good_image(&im);
	TAIL(&im)->size += 8;
	expect("tail size", im.buf, im.len, EBADMSG, tail_off + 24);

	good_image(&im);
	TAIL(&im)->h.len = 24;
	expect("tail len short", im.buf, im.len, EBADMSG, tail_off + 4);
	TAIL(&im)->h.len = 40;
	expect("tail len long", im.buf, im.len, EBADMSG, tail_off + 4);

	good_image(&im);
	im.buf[im.len++] = 0;
	expect("data after the tail", im.buf, im.len, EBADMSG, im.len - 1);
}

static void test_error_record(void)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	struct ckpt_hdr_error *e;
	struct img im;
	int fds[2], n = 0, ret;
	pid_t pid;

	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_error(&im, -EIO, "boom");
	expect("error record", im.buf, im.len, ECANCELED, ERR_OFF);

	/* The error record itself is returned before the failure. */
	if (pipe(fds))
		exit(1);
	pid = feeder(fds[1], im.buf, im.len, im.len);
	close(fds[1]);
	ckpt_reader_init(&r, fds[0]);
	while ((ret = ckpt_next(&r, &rec)) > 0)
		n++;
	report(ret < 0 && n == 2 && rec.type == CKPT_HDR_ERROR &&
	       strstr(r.err.msg, "boom") && strstr(r.err.msg, "-5"),
	       "error record returned", "ret %d n %d msg %s", ret, n,
	       r.err.msg);
	ckpt_reader_release(&r);
	close(fds[0]);
	waitpid(pid, NULL, 0);

	e = (void *)(im.buf + ERR_OFF);
	e->reserved = 1;
	expect("error reserved", im.buf, im.len, EBADMSG, ERR_OFF + 12);
	e->reserved = 0;
	e->msg[4] = 'x';	/* len 21: "boomx", then padding */
	expect("error message without NUL", im.buf, im.len, EBADMSG,
	       ERR_OFF + 16);
	e->msg[4] = '\0';
	e->msg[6] = 1;		/* padding byte at offset 22 of the record */
	expect("nonzero padding", im.buf, im.len, EBADMSG, ERR_OFF + 22);
	e->msg[6] = 0;
	e->h.len = 16;
	expect("error len short", im.buf, im.len, EBADMSG, ERR_OFF + 4);
}

/* Run a program of outdir with args, image on stdin; capture stdout+stderr. */
static int run_prog(const char *prog, const char *const *args,
		    const void *img, size_t len, char *out, size_t outsz)
{
	char path[4096];
	const char *argv[8];
	int in[2], o[2], status, i;
	size_t got = 0;
	ssize_t n;
	pid_t pid, fpid;

	snprintf(path, sizeof(path), "%s/%s", outdir, prog);
	argv[0] = path;
	for (i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;

	if (pipe(in) || pipe(o))
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(o[1], 2);
		close(in[0]);
		close(in[1]);
		close(o[0]);
		close(o[1]);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	fpid = feeder(in[1], img, len, len ? len : 1);
	close(in[1]);
	while (got < outsz - 1 && (n = read(o[0], out + got, outsz - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(o[0]);
	waitpid(pid, &status, 0);
	kill(fpid, SIGKILL);
	waitpid(fpid, NULL, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int run_ckptinfo(const char *const *args, const void *img, size_t len,
			char *out, size_t outsz)
{
	return run_prog("ckptinfo", args, img, len, out, outsz);
}

static void test_ckptinfo(void)
{
	static const char *const dash[] = { "-", NULL };
	static const char *const vdash[] = { "-v", "-", NULL };
	static const char *const none[] = { NULL };
	static const char *const help[] = { "-h", NULL };
	static const char *const missing[] = { "/nonexistent/image", NULL };
	static char out[65536];
	struct img im;
	int rc;

	good_image(&im);
	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	{
		char tail[64], done[64];

		snprintf(tail, sizeof(tail), "0x%08zx tail       len 32\n",
			 tail_off);
		snprintf(done, sizeof(done), "complete image: %d records, %zu bytes\n",
			 GOOD_RECORDS, im.len);
		report(rc == 0 && strstr(out, "0x00000000 header") &&
		       strstr(out, "0x00000100 pids       len 24\n") &&
		       strstr(out, "0x00000118 tree       len 48\n") &&
		       strstr(out, "0x00000148 task") &&
		       strstr(out, tail) && strstr(out, done),
		       "ckptinfo valid", "exit %d, output:\n%s", rc, out);
	}

	rc = run_ckptinfo(vdash, im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "43 4b 50 54 48 45 41 44"),
	       "ckptinfo -v hexdump", "exit %d, output:\n%s", rc, out);

	rc = run_ckptinfo(dash, im.buf, 100, out, sizeof(out));
	report(rc == 1 && strstr(out, "ckptinfo: <stdin>: offset 0x64: "),
	       "ckptinfo truncated", "exit %d, output:\n%s", rc, out);

	TAIL(&im)->h.type = 77;
	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	report(rc == 1 && tail_off == 0xf30 &&
	       strstr(out, "offset 0xf30: unknown record type 77\n") &&
	       strstr(out, "0x00000000 header"),
	       "ckptinfo unknown type", "exit %d, output:\n%s", rc, out);

	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_error(&im, -EIO, "boom");
	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	report(rc == 1 && strstr(out, "0x00000100 error      len 21\n") &&
	       strstr(out, "error        -5 (Input/output error)") &&
	       strstr(out, "offset 0x100: image ends with an error record: checkpoint failed: boom (error -5)"),
	       "ckptinfo on an error record", "exit %d, output:\n%s", rc, out);

	rc = run_ckptinfo(none, NULL, 0, out, sizeof(out));
	report(rc == 2 && strstr(out, "Usage:"), "ckptinfo no args",
	       "exit %d, output:\n%s", rc, out);
	rc = run_ckptinfo(help, NULL, 0, out, sizeof(out));
	report(rc == 0 && strstr(out, "Usage: ckptinfo [-v] FILE") &&
	       strstr(out, "Exit status"), "ckptinfo -h",
	       "exit %d, output:\n%s", rc, out);
	rc = run_ckptinfo(missing, NULL, 0, out, sizeof(out));
	report(rc == 1 && strstr(out, "ckptinfo: /nonexistent/image: No such file or directory"),
	       "ckptinfo missing file", "exit %d, output:\n%s", rc, out);
}


#ifdef CKPT_COMM_LEN
/*
 * A task section: task, creds, rlimits, fs, files, pipe (FIFO), file, fd,
 * tmpfile, file_data(2), file, fd, file, fd, fd, file, tty, fd, mm,
 * vma, pages(2),
 * vma(file), signals, siginfo, itimers, cpu.  The offset of each record
 * in *offs.
 */
enum { R_TASK, R_MM, R_VMA, R_PAGES, R_VMA2, R_FILES, R_FILE, R_FD, R_FD2,
       R_SIGNALS, R_SIGINFO, R_CPU, R_TAIL,
       R_CREDS, R_RLIMITS, R_FS, R_PIPE, R_FIFO, R_FIFO_FD, R_TMPFILE,
       R_DATA, R_DATA2, R_UNL, R_UNL_FD, R_ITIMERS, R_TTYFILE, R_TTY,
       R_TTY_FD, R_N };

#define TASK_RECORDS	30	/* records of task_image() before its tail */

static unsigned char rec[16384];
static int skip_rec = -1;	/* task_image() leaves out this record */
static uint64_t nr_before[R_N];	/* records before each */

static void put(struct img *im, size_t *offs, int r, uint32_t len)
{
	offs[r] = im->len;
	nr_before[r] = im->nr;
	if (r != skip_rec)
		add(im, rec, len);
	memset(rec, 0, sizeof(rec));
}

static void task_mm(struct img *im, size_t *offs)
{
	struct ckpt_hdr_mm *m = (void *)rec;
	struct ckpt_hdr_vma *v = (void *)rec;
	struct ckpt_hdr_pages *pg = (void *)rec;

	m->h.type = CKPT_HDR_MM;
	m->h.len = sizeof(*m) + sizeof("/bin/victim");
	m->nr_vmas = 2;
	m->brk = 0x602000;
	strcpy(m->exe_path, "/bin/victim");
	put(im, offs, R_MM, m->h.len);

	v->h.type = CKPT_HDR_VMA;
	v->h.len = sizeof(*v);
	v->start = 0x10000;
	v->end = 0x14000;
	v->prot = 3;
	v->kind = CKPT_VMA_ANON;
	put(im, offs, R_VMA, v->h.len);

	pg->h.type = CKPT_HDR_PAGES;
	pg->h.len = sizeof(*pg) + 2 * 4096;
	pg->addr = 0x11000;
	pg->nr_pages = 2;
	memset(pg->data, 0xab, 2 * 4096);
	put(im, offs, R_PAGES, pg->h.len);

	v->h.type = CKPT_HDR_VMA;
	v->h.len = sizeof(*v) + sizeof("/lib/x.so");
	v->start = 0x20000;
	v->end = 0x22000;
	v->prot = 5;
	v->kind = CKPT_VMA_FILE;
	v->pgoff = 3;
	strcpy(v->path, "/lib/x.so");
	put(im, offs, R_VMA2, v->h.len);
}

static void add_file(struct img *im, size_t *offs, int r, int32_t tag,
		     uint32_t kind, uint32_t flags, int32_t object,
		     const char *path)
{
	struct ckpt_hdr_file *fi = (void *)rec;

	fi->h.type = CKPT_HDR_FILE;
	fi->h.len = sizeof(*fi) + strlen(path) + 1;
	fi->tag = tag;
	fi->kind = kind;
	fi->flags = flags;
	fi->object = object;
	fi->pos = 1234;
	strcpy(fi->path, path);
	put(im, offs, r, fi->h.len);
}

static void add_fd(struct img *im, size_t *offs, int r, int fdno, int32_t file,
		   uint32_t flags)
{
	struct ckpt_hdr_fd *fd = (void *)rec;

	fd->h.type = CKPT_HDR_FD;
	fd->h.len = sizeof(*fd);
	fd->fd = fdno;
	fd->file = file;
	fd->flags = flags;
	put(im, offs, r, fd->h.len);
}

/* creds, rlimits, fs */
static void task_creds(struct img *im, size_t *offs)
{
	struct ckpt_hdr_creds *c = (void *)rec;
	struct ckpt_hdr_rlimits *rl = (void *)rec;
	struct ckpt_hdr_fs *fs = (void *)rec;
	int i;

	c->h.type = CKPT_HDR_CREDS;
	c->h.len = sizeof(*c) + 2 * sizeof(c->groups[0]);
	c->uid = c->euid = c->suid = c->fsuid = 1000;
	c->gid = c->egid = c->sgid = 100;
	c->fsgid = 101;
	c->cap_permitted = 1ULL << 7;		/* CAP_SETUID */
	c->cap_effective = 1ULL << 7;
	c->cap_bset = (2ULL << CAP_LAST_CAP) - 1;
	c->securebits = 1 << 4;			/* KEEP_CAPS */
	c->flags = CKPT_CREDS_NO_NEW_PRIVS;
	c->ngroups = 2;
	c->groups[0] = 10;
	c->groups[1] = 1000;
	put(im, offs, R_CREDS, c->h.len);

	rl->h.type = CKPT_HDR_RLIMITS;
	rl->h.len = sizeof(*rl);
	for (i = 0; i < CKPT_RLIM_NLIMITS; i++)
		rl->rlim[i].cur = rl->rlim[i].max = ~0ULL;
	rl->rlim[7].cur = 1024;			/* RLIMIT_NOFILE */
	rl->rlim[7].max = 4096;
	put(im, offs, R_RLIMITS, rl->h.len);

	fs->h.type = CKPT_HDR_FS;
	fs->h.len = sizeof(*fs) + sizeof("/") + sizeof("/tmp");
	fs->umask = 022;
	fs->root_len = 2;
	memcpy(fs->paths, "/\0/tmp", sizeof("/\0/tmp"));
	put(im, offs, R_FS, fs->h.len);
}

/* files with a named pipe, an unlinked file, a regular file, a terminal */
static void task_files(struct img *im, size_t *offs)
{
	struct ckpt_hdr_files *fl = (void *)rec;
	struct ckpt_hdr_pipe *p = (void *)rec;
	struct ckpt_hdr_tmpfile *t = (void *)rec;
	struct ckpt_hdr_file_data *d = (void *)rec;

	fl->h.type = CKPT_HDR_FILES;
	fl->h.len = sizeof(*fl);
	fl->nr_fds = 5;
	put(im, offs, R_FILES, fl->h.len);

	p->h.type = CKPT_HDR_PIPE;
	p->h.len = sizeof(*p) + 5;
	p->tag = 3;
	p->size = 65536;
	p->flags = CKPT_PIPE_FIFO;
	memcpy(p->data, "fifo!", 5);
	put(im, offs, R_PIPE, p->h.len);
	add_file(im, offs, R_FIFO, 4, CKPT_FILE_FIFO, 04000, 3, "/tmp/fifo");
	add_fd(im, offs, R_FIFO_FD, 5, 4, 0);

	t->h.type = CKPT_HDR_TMPFILE;
	t->h.len = sizeof(*t) + sizeof("/tmp/gone");
	t->tag = 5;
	t->mode = 0600;
	t->size = 20000;
	memcpy(t + 1, "/tmp/gone", sizeof("/tmp/gone"));	/* its path */
	put(im, offs, R_TMPFILE, t->h.len);
	d->h.type = CKPT_HDR_FILE_DATA;
	d->h.len = sizeof(*d) + 100;
	d->pos = 0;
	memset(d->data, 0xcd, 100);
	put(im, offs, R_DATA, d->h.len);
	d->h.type = CKPT_HDR_FILE_DATA;
	d->h.len = sizeof(*d) + 4096;
	d->pos = 12288;
	memset(d->data, 0xcd, 4096);
	put(im, offs, R_DATA2, d->h.len);
	add_file(im, offs, R_UNL, 6, CKPT_FILE_UNLINKED, 02, 5, "/tmp/gone");
	add_fd(im, offs, R_UNL_FD, 6, 6, 0);

	add_file(im, offs, R_FILE, 7, CKPT_FILE_REG, 02 | 02000, 0, "/tmp/data");
	add_fd(im, offs, R_FD, 3, 7, 0);
	add_fd(im, offs, R_FD2, 9, 7, CKPT_FD_CLOEXEC);

	add_file(im, offs, R_TTYFILE, 8, CKPT_FILE_TTY, 02, 0, "/dev/pts/0");
	{
		struct ckpt_hdr_tty *tt = (void *)rec;

		memset(tt, 0, sizeof(*tt));
		tt->h.type = CKPT_HDR_TTY;
		tt->h.len = sizeof(*tt);
		tt->lflag = 0;
		tt->cflag = 0277;
		tt->ispeed = tt->ospeed = 38400;
		tt->cc[6] = 1;		/* VMIN */
		put(im, offs, R_TTY, tt->h.len);
	}
	add_fd(im, offs, R_TTY_FD, 10, 8, 0);
}

static void task_image(struct img *im, size_t *offs)
{
	struct ckpt_hdr_task *t = (void *)rec;
	struct ckpt_hdr_signals *sg = (void *)rec;
	struct ckpt_hdr_siginfo *si = (void *)rec;
	struct ckpt_hdr_cpu *c = (void *)rec;
	int32_t signo = SIGUSR1;

	memset(im, 0, sizeof(*im));
	memset(rec, 0, sizeof(rec));
	add_header(im);
	{
		static const pid_t nrs[] = { 4242 };
		static const struct ckpt_task_pids tasks[] = {
			TP(1, CKPT_PID_NONE, 1, 1),
		};

		add_pids(im, nrs, 1);
		add_tree(im, tasks, 1);
	}

	t->h.type = CKPT_HDR_TASK;
	t->h.len = sizeof(*t);
	strcpy(t->comm, "victim");
	t->pid = 4242;
	t->tgid = 4242;
	t->exit_signal = SIGCHLD;
	put(im, offs, R_TASK, t->h.len);

	task_creds(im, offs);
	task_files(im, offs);
	task_mm(im, offs);

	sg->h.type = CKPT_HDR_SIGNALS;
	sg->h.len = sizeof(*sg);
	sg->blocked = 1ULL << (SIGUSR1 - 1);
	sg->nr_pending = 1;
	sg->action[SIGUSR1 - 1].handler = 0x401234;
	sg->action[SIGUSR1 - 1].flags = 0x14000004;
	sg->action[SIGHUP - 1].handler = 1;
	put(im, offs, R_SIGNALS, sg->h.len);

	si->h.type = CKPT_HDR_SIGINFO;
	si->h.len = sizeof(*si);
	memcpy(si->info, &signo, sizeof(signo));
	put(im, offs, R_SIGINFO, si->h.len);

	{
		struct ckpt_hdr_itimers *it = (void *)rec;

		it->h.type = CKPT_HDR_ITIMERS;
		it->h.len = sizeof(*it);
		it->it[0].value = 1500000000;
		it->it[0].interval = 250000000;
		it->it[2].interval = 3000000000LL;
		put(im, offs, R_ITIMERS, it->h.len);
	}

	c->h.type = CKPT_HDR_CPU;
	c->h.len = sizeof(*c) + 832;
	c->regs.ip = 0x401000;
	c->regs.sp = 0x7ffc0000;
	c->regs.ax = 0x2a;
	c->regs.orig_ax = (uint64_t)-1;
	for (int i = 0; i < CKPT_X86_TLS_ENTRIES; i++) {
		c->tls[i].entry_number = 12 + i;
		c->tls[i].read_exec_only = 1;
		c->tls[i].seg_not_present = 1;
	}
	c->tls[1].base_addr = 0x10000;
	c->tls[1].limit = 0xfff;
	c->tls[1].seg_32bit = 1;
	c->tls[1].read_exec_only = 0;
	c->tls[1].seg_not_present = 0;
	c->regs.gs = (13 << 3) | 3;
	c->regs.gs_base = 0x10000;
	c->xfeatures = 7;
	c->xstate_size = 832;
	put(im, offs, R_CPU, c->h.len);

	offs[R_TAIL] = im->len;
	add_tail(im);
}

/* The task image without record r. */
static void task_image_without(struct img *im, size_t *offs, int r)
{
	skip_rec = r;
	task_image(im, offs);
	skip_rec = -1;
}

#define AT(im, offs, r, type) ((type *)((im)->buf + (offs)[r]))

static void test_task_records(void)
{
	static struct img im;
	static char out[65536];
	static const char *const dash[] = { "-", NULL };
	size_t o[R_N];
	struct ckpt_err err;
	uint64_t nr = 0;
	int rc;

	task_image(&im, o);
	report(scan_chunked(im.buf, im.len, 4096, 0, &err, &nr) == 0 &&
	       nr == TASK_RECORDS + 1, "task image accepted",
	       "%s at 0x%llx (%llu records)", err.msg,
	       (unsigned long long)err.off, (unsigned long long)nr);
	report(scan_chunked(im.buf, im.len, 13, 1, &err, &nr) == 0,
	       "task image, 13-byte writes to a socket", "%s", err.msg);

	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "task       len 96\n") &&
	       strstr(out, "comm         \"victim\"") &&
	       strstr(out, "pid          4242") && strstr(out, "umask        0022") &&
	       strstr(out, "nr_vmas      2") && strstr(out, "exe_path     \"/bin/victim\"") &&
	       strstr(out, "range        0x10000-0x14000 (16 KiB)") &&
	       strstr(out, "kind         1 (anon)") && strstr(out, "prot         0x3 (rw-)") &&
	       strstr(out, "addr         0x11000\n  nr_pages     2\n") &&
	       strstr(out, "path         \"/lib/x.so\"") &&
	       strstr(out, "kind         1 (reg)") &&
	       strstr(out, "flags        02002 (O_RDWR|O_APPEND)") &&
	       strstr(out, "pos          1234") && strstr(out, "path         \"/tmp/data\"") &&
	       strstr(out, "fd           9\n  flags        0x1 (CLOEXEC)\n  file         7") &&
	       strstr(out, "blocked      0x0000000000000200 (SIGUSR1)") &&
	       strstr(out, "SIGUSR1      handler 0x401234 flags 0x14000004") &&
	       strstr(out, "SIGHUP       handler SIG_IGN") &&
	       strstr(out, "signo        10 (SIGUSR1)") &&
	       strstr(out, "ip           0x0000000000401000") &&
	       strstr(out, "ax           0x000000000000002a") &&
	       strstr(out, "xstate_size  832") &&
	       strstr(out, "kind         7 (tty)") &&
	       strstr(out, "speed        38400 in, 38400 out") &&
	       strstr(out, "tls 13       base 0x00010000 limit 0x00fff 32bit type 0\n") &&
	       !strstr(out, "tls 12"),
	       "ckptinfo decodes the task records", "exit %d, output:\n%s", rc, out);
	{
		char want[64];

		snprintf(want, sizeof(want), "complete image: %d records",
			 TASK_RECORDS + 1);
		report(rc == 0 && strstr(out, want), "ckptinfo counts the records",
		       "exit %d, output:\n%.3000s", rc, out);
	}
	{
		static const char *const vdash[] = { "-v", "-", NULL };

		rc = run_ckptinfo(vdash, im.buf, im.len, out, sizeof(out));
		report(rc == 0 && !strstr(out, " ab ab ab ab") &&
		       !strstr(out, " cd cd cd cd") &&
		       strstr(out, "76 69 63 74 69 6d"),
		       "ckptinfo -v dumps records, not page or file contents",
		       "exit %d, output:\n%.3000s", rc, out);
	}

	/* Field checks */
	task_image(&im, o);
	memset(AT(&im, o, R_TASK, struct ckpt_hdr_task)->comm, 'x', CKPT_COMM_LEN);
	expect("task comm without NUL", im.buf, im.len, EBADMSG, o[R_TASK] + 8);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->start = 0x10001;
	expect("vma not page aligned", im.buf, im.len, EBADMSG, o[R_VMA] + 8);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->kind = 9;
	expect("vma unknown kind", im.buf, im.len, EBADMSG, o[R_VMA] + 40);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->kind = CKPT_VMA_SHMEM;
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->flags = CKPT_VMA_SHARED;
	expect("vma of shared memory without its object", im.buf, im.len,
	       EBADMSG, o[R_VMA] + 44);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->obj = 1;
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->pgoff = 2;
	expect("vma of shared memory accepted", im.buf, im.len, 0, 0);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->flags = 0;
	expect("vma of shared memory, not shared", im.buf, im.len, EBADMSG,
	       o[R_VMA] + 36);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->flags = CKPT_VMA_SHARED;
	expect("vma anonymous and shared", im.buf, im.len, EBADMSG, o[R_VMA] + 36);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->pgoff = 1;
	expect("vma anonymous with a file offset", im.buf, im.len, EBADMSG,
	       o[R_VMA] + 24);
	task_image(&im, o);
	AT(&im, o, R_VMA, struct ckpt_hdr_vma)->obj = 1;
	expect("vma anonymous with an object", im.buf, im.len, EBADMSG,
	       o[R_VMA] + 44);
	task_image(&im, o);
	AT(&im, o, R_PAGES, struct ckpt_hdr_pages)->nr_pages = 3;
	expect("pages count against length", im.buf, im.len, EBADMSG, o[R_PAGES] + 16);
	task_image(&im, o);
	AT(&im, o, R_PAGES, struct ckpt_hdr_pages)->addr = 0x13000;
	expect("pages beyond the vma", im.buf, im.len, EBADMSG, o[R_PAGES] + 8);
	task_image(&im, o);
	AT(&im, o, R_FILE, struct ckpt_hdr_file)->path[0] = 't';
	expect("file path not absolute", im.buf, im.len, EBADMSG, o[R_FILE] + 32);
	task_image(&im, o);
	AT(&im, o, R_FILE, struct ckpt_hdr_file)->flags = 03;
	expect("file bad access mode", im.buf, im.len, EBADMSG, o[R_FILE] + 16);
	task_image(&im, o);
	AT(&im, o, R_FD2, struct ckpt_hdr_fd)->file = 8;
	expect("fd names an unknown file", im.buf, im.len, EBADMSG, o[R_FD2] + 16);
	task_image(&im, o);
	AT(&im, o, R_FD, struct ckpt_hdr_fd)->flags = 2;
	expect("fd unknown flags", im.buf, im.len, EBADMSG, o[R_FD] + 12);
	task_image(&im, o);
	AT(&im, o, R_SIGINFO, struct ckpt_hdr_siginfo)->shared = 2;
	expect("siginfo shared 2", im.buf, im.len, EBADMSG, o[R_SIGINFO] + 8);
	task_image(&im, o);
	AT(&im, o, R_CPU, struct ckpt_hdr_cpu)->xstate_size = 512;
	expect("cpu xstate_size against length", im.buf, im.len, EBADMSG,
	       o[R_CPU] + offsetof(struct ckpt_hdr_cpu, xstate_size));
	task_image(&im, o);
	AT(&im, o, R_CPU, struct ckpt_hdr_cpu)->tls[2].entry_number = 7;
	expect("cpu TLS entry number", im.buf, im.len, EBADMSG,
	       o[R_CPU] + offsetof(struct ckpt_hdr_cpu, tls[2]));

	/* Counts and order */
	task_image(&im, o);
	AT(&im, o, R_MM, struct ckpt_hdr_mm)->nr_vmas = 3;
	expect("mm announces more vmas", im.buf, im.len, EBADMSG, o[R_SIGNALS]);
	task_image(&im, o);
	AT(&im, o, R_MM, struct ckpt_hdr_mm)->nr_vmas = 1;
	expect("mm announces fewer vmas", im.buf, im.len, EBADMSG, o[R_VMA2]);
	task_image(&im, o);
	AT(&im, o, R_FILES, struct ckpt_hdr_files)->nr_fds += 1;
	expect("files announces more fds", im.buf, im.len, EBADMSG, o[R_MM]);
	task_image(&im, o);
	AT(&im, o, R_SIGNALS, struct ckpt_hdr_signals)->nr_pending = 0;
	expect("siginfo not announced", im.buf, im.len, EBADMSG, o[R_SIGINFO]);
	task_image_without(&im, o, R_SIGNALS);
	expect("task without signals", im.buf, im.len, EBADMSG, o[R_SIGNALS]);
	task_image_without(&im, o, R_MM);
	expect("task without mm", im.buf, im.len, EBADMSG, o[R_MM]);
	task_image(&im, o);
	im.len = o[R_CPU];	/* the tail where the cpu record was */
	im.nr = nr_before[R_CPU];
	add_tail(&im);
	expect("tail inside a task", im.buf, im.len, EBADMSG, o[R_CPU]);
}

/* Set a field of record r of a fresh task image, expect e at its offset. */
#define FIELD(name, r, type, field, value, e)				\
	do {								\
		task_image(&im, o);					\
		AT(&im, o, r, type)->field = (value);			\
		expect(name, im.buf, im.len, e,				\
		       (e) ? o[r] + offsetof(type, field) : 0);		\
	} while (0)

static void test_new_records(void)
{
	static struct img im;
	static char out[65536];
	static const char *const dash[] = { "-", NULL };
	struct ckpt_hdr_creds *c;
	struct ckpt_hdr_fs *fs;
	size_t o[R_N];
	int rc;

	task_image(&im, o);
	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "creds      len 104\n") &&
	       strstr(out, "  uid          1000\n  euid         1000\n  suid         1000\n  fsuid        1000\n") &&
	       strstr(out, "  gid          100\n  egid         100\n  sgid         100\n  fsgid        101\n") &&
	       strstr(out, "  groups       2 (10 1000)\n") &&
	       strstr(out, "  cap_inheritable 0x0000000000000000\n") &&
	       strstr(out, "  cap_permitted 0x0000000000000080 (CAP_SETUID)\n") &&
	       strstr(out, "  cap_bset     0x000001ffffffffff (all)\n") &&
	       strstr(out, "  securebits   0x10 (KEEP_CAPS)\n") &&
	       strstr(out, "  flags        0x1 (NO_NEW_PRIVS)\n"),
	       "ckptinfo decodes creds", "exit %d, output:\n%.4000s", rc, out);
	report(rc == 0 && strstr(out, "rlimits    len 264\n") &&
	       strstr(out, "  cpu          soft unlimited hard unlimited\n") &&
	       strstr(out, "  nofile       soft 1024 hard 4096\n") &&
	       strstr(out, "  rttime       soft unlimited hard unlimited\n"),
	       "ckptinfo decodes rlimits", "exit %d, output:\n%.4000s", rc, out);
	report(rc == 0 && strstr(out, "fs         len 23\n  umask        0022\n  root         \"/\"\n  cwd          \"/tmp\"\n"),
	       "ckptinfo decodes fs", "exit %d, output:\n%.4000s", rc, out);
	report(rc == 0 && strstr(out, "  flags        0x1 (FIFO)\n  data         5 bytes\n") &&
	       strstr(out, "  kind         5 (fifo)\n  flags        04000 (O_RDONLY|O_NONBLOCK)\n  object       3\n") &&
	       strstr(out, "tmpfile    len 34\n  tag          5\n  mode         0600\n  size         20000\n  path         \"/tmp/gone\"\n") &&
	       strstr(out, "file_data  len 4112\n  pos          12288\n  data         4096 bytes\n") &&
	       strstr(out, "  kind         6 (unlinked)\n  flags        02 (O_RDWR)\n  object       5\n"),
	       "ckptinfo decodes named pipes and unlinked files",
	       "exit %d, output:\n%.6000s", rc, out);
	report(rc == 0 && strstr(out, "  real         value 1.500000000 s interval 0.250000000 s\n  virtual      disarmed\n  prof         disarmed, interval 3.000000000 s\n"),
	       "ckptinfo decodes itimers", "exit %d, output:\n%.6000s", rc, out);

	/* creds */
	FIELD("creds uid -1", R_CREDS, struct ckpt_hdr_creds, uid, 0xffffffff, EINVAL);
	FIELD("creds fsgid -1", R_CREDS, struct ckpt_hdr_creds, fsgid, 0xffffffff, EINVAL);
	FIELD("creds uid 0", R_CREDS, struct ckpt_hdr_creds, uid, 0, 0);
	FIELD("creds unknown capability", R_CREDS, struct ckpt_hdr_creds,
	      cap_effective, 1ULL << 63, EBADMSG);
	FIELD("creds unknown bounding capability", R_CREDS, struct ckpt_hdr_creds,
	      cap_bset, 2ULL << CAP_LAST_CAP, EBADMSG);
	FIELD("creds all capabilities", R_CREDS, struct ckpt_hdr_creds,
	      cap_ambient, (2ULL << CAP_LAST_CAP) - 1, 0);
	FIELD("creds unknown securebits", R_CREDS, struct ckpt_hdr_creds,
	      securebits, 1 << 8, EBADMSG);
	FIELD("creds unknown flags", R_CREDS, struct ckpt_hdr_creds, flags, 2, EBADMSG);
	FIELD("creds reserved", R_CREDS, struct ckpt_hdr_creds, reserved, 1, EBADMSG);
	FIELD("creds more groups than the record holds", R_CREDS,
	      struct ckpt_hdr_creds, ngroups, 3, EBADMSG);
	FIELD("creds fewer groups than the record holds", R_CREDS,
	      struct ckpt_hdr_creds, ngroups, 1, EBADMSG);
	FIELD("creds 0xffffffff groups", R_CREDS, struct ckpt_hdr_creds, ngroups,
	      0xffffffff, EBADMSG);
	task_image(&im, o);
	c = AT(&im, o, R_CREDS, struct ckpt_hdr_creds);
	c->groups[0] = 2000;
	expect("creds groups out of order", im.buf, im.len, EINVAL,
	       o[R_CREDS] + sizeof(*c) + 4);
	c->groups[0] = 1000;
	expect("creds a group twice", im.buf, im.len, 0, 0);
	c->groups[0] = c->groups[1] = 0xffffffff;
	expect("creds group -1", im.buf, im.len, EINVAL, o[R_CREDS] + sizeof(*c));
	task_image(&im, o);
	c = AT(&im, o, R_CREDS, struct ckpt_hdr_creds);
	c->h.len = sizeof(*c) - 4;
	expect("creds short", im.buf, im.len, EBADMSG, o[R_CREDS] + 4);

	/* rlimits */
	task_image(&im, o);
	AT(&im, o, R_RLIMITS, struct ckpt_hdr_rlimits)->rlim[7].cur = 4097;
	expect("rlimits soft above hard", im.buf, im.len, EINVAL,
	       o[R_RLIMITS] + 8 + 7 * 16);
	task_image(&im, o);
	AT(&im, o, R_RLIMITS, struct ckpt_hdr_rlimits)->rlim[15].max = 5;
	expect("rlimits hard below an unlimited soft", im.buf, im.len, EINVAL,
	       o[R_RLIMITS] + 8 + 15 * 16);
	task_image(&im, o);
	AT(&im, o, R_RLIMITS, struct ckpt_hdr_rlimits)->rlim[0].cur = 0;
	AT(&im, o, R_RLIMITS, struct ckpt_hdr_rlimits)->rlim[0].max = 0;
	expect("rlimits zero", im.buf, im.len, 0, 0);

	/* fs */
	FIELD("fs umask 01000", R_FS, struct ckpt_hdr_fs, umask, 01000, EBADMSG);
	FIELD("fs umask 0777", R_FS, struct ckpt_hdr_fs, umask, 0777, 0);
	FIELD("fs root_len 0", R_FS, struct ckpt_hdr_fs, root_len, 0, EBADMSG);
	FIELD("fs root_len past the record", R_FS, struct ckpt_hdr_fs, root_len,
	      7, EBADMSG);
	FIELD("fs root_len inside the root", R_FS, struct ckpt_hdr_fs, root_len,
	      1, EBADMSG);
	FIELD("fs root_len past the root's NUL", R_FS, struct ckpt_hdr_fs,
	      root_len, 3, EBADMSG);
	task_image(&im, o);
	fs = AT(&im, o, R_FS, struct ckpt_hdr_fs);
	fs->paths[0] = 'x';
	expect("fs root relative", im.buf, im.len, EBADMSG,
	       o[R_FS] + offsetof(struct ckpt_hdr_fs, root_len));
	task_image(&im, o);
	fs = AT(&im, o, R_FS, struct ckpt_hdr_fs);
	fs->paths[2] = 't';
	expect("fs cwd relative", im.buf, im.len, EBADMSG,
	       o[R_FS] + sizeof(*fs) + 2);
	task_image(&im, o);
	fs = AT(&im, o, R_FS, struct ckpt_hdr_fs);
	fs->paths[6] = 'x';
	expect("fs cwd without NUL", im.buf, im.len, EBADMSG,
	       o[R_FS] + sizeof(*fs) + 2);
	task_image(&im, o);
	fs = AT(&im, o, R_FS, struct ckpt_hdr_fs);
	fs->h.len = sizeof(*fs) + 2;
	expect("fs without a cwd", im.buf, im.len, EBADMSG, o[R_FS] + 4);

	/* task, pipe, tmpfile, file_data, itimers */
	FIELD("task reserved", R_TASK, struct ckpt_hdr_task, reserved, 022, EBADMSG);
	FIELD("pipe unknown flags", R_PIPE, struct ckpt_hdr_pipe, flags, 3, EBADMSG);
	FIELD("pipe reserved", R_PIPE, struct ckpt_hdr_pipe, reserved, 1, EBADMSG);
	FIELD("tmpfile mode 010600", R_TMPFILE, struct ckpt_hdr_tmpfile, mode,
	      010600, EBADMSG);
	FIELD("tmpfile mode 04755 (setuid)", R_TMPFILE, struct ckpt_hdr_tmpfile,
	      mode, 04755, EBADMSG);
	FIELD("tmpfile mode 0777", R_TMPFILE, struct ckpt_hdr_tmpfile, mode,
	      0777, 0);
	task_image(&im, o);
	((char *)(AT(&im, o, R_TMPFILE, struct ckpt_hdr_tmpfile) + 1))[0] = 't';
	expect("tmpfile path relative", im.buf, im.len, EBADMSG,
	       o[R_TMPFILE] + sizeof(struct ckpt_hdr_tmpfile));
	task_image(&im, o);
	((char *)(AT(&im, o, R_TMPFILE, struct ckpt_hdr_tmpfile) + 1))[9] = 'x';
	expect("tmpfile path without NUL", im.buf, im.len, EBADMSG,
	       o[R_TMPFILE] + sizeof(struct ckpt_hdr_tmpfile));
	task_image(&im, o);
	AT(&im, o, R_TMPFILE, struct ckpt_hdr_tmpfile)->h.len =
		sizeof(struct ckpt_hdr_tmpfile);
	expect("tmpfile without a path", im.buf, im.len, EBADMSG, o[R_TMPFILE] + 4);
	FIELD("tmpfile tag 0", R_TMPFILE, struct ckpt_hdr_tmpfile, tag, 0, EBADMSG);
	FIELD("tmpfile negative size", R_TMPFILE, struct ckpt_hdr_tmpfile, size,
	      -1, EBADMSG);
	FIELD("tmpfile ending with its data", R_TMPFILE, struct ckpt_hdr_tmpfile,
	      size, 12288 + 4096, 0);
	task_image(&im, o);
	AT(&im, o, R_TMPFILE, struct ckpt_hdr_tmpfile)->size = 12288 + 4095;
	expect("file_data past the size", im.buf, im.len, EBADMSG,
	       o[R_DATA2] + offsetof(struct ckpt_hdr_file_data, pos));
	FIELD("file_data overlaps the one before", R_DATA2,
	      struct ckpt_hdr_file_data, pos, 99, EBADMSG);
	FIELD("file_data right after the one before", R_DATA2,
	      struct ckpt_hdr_file_data, pos, 100, 0);
	FIELD("file_data negative position", R_DATA, struct ckpt_hdr_file_data,
	      pos, -1, EBADMSG);
	task_image(&im, o);
	AT(&im, o, R_DATA2, struct ckpt_hdr_file_data)->h.len =
		sizeof(struct ckpt_hdr_file_data);
	expect("file_data without data", im.buf, im.len, EBADMSG, o[R_DATA2] + 4);
	FIELD("file_data of no tmpfile", R_TMPFILE, struct ckpt_hdr_tmpfile, h.type,
	      CKPT_HDR_FILE_DATA, EBADMSG);
	task_image_without(&im, o, R_TMPFILE);
	expect("file_data without its tmpfile", im.buf, im.len, EBADMSG, o[R_TMPFILE]);
	task_image(&im, o);
	{
		/* file_data after the file of the tmpfile: out of place */
		struct img im2;

		memcpy(&im2, &im, sizeof(im2));
		memmove(im2.buf + o[R_DATA2], im.buf + o[R_UNL],
			o[R_UNL_FD] - o[R_UNL]);
		memmove(im2.buf + o[R_DATA2] + (o[R_UNL_FD] - o[R_UNL]),
			im.buf + o[R_DATA2], o[R_UNL] - o[R_DATA2]);
		expect("file_data after the file", im2.buf, im2.len, EBADMSG,
		       o[R_DATA2] + (o[R_UNL_FD] - o[R_UNL]));
	}
	FIELD("itimers negative value", R_ITIMERS, struct ckpt_hdr_itimers,
	      it[1].value, -1, EBADMSG);
	FIELD("itimers negative interval", R_ITIMERS, struct ckpt_hdr_itimers,
	      it[2].interval, -5, EBADMSG);

	/* objects */
	FIELD("fifo file naming the tmpfile", R_FIFO, struct ckpt_hdr_file,
	      object, 5, EBADMSG);
	FIELD("fifo file naming no record", R_FIFO, struct ckpt_hdr_file,
	      object, 77, EBADMSG);
	FIELD("fifo file without an object", R_FIFO, struct ckpt_hdr_file,
	      object, 0, EBADMSG);
	task_image(&im, o);
	AT(&im, o, R_FIFO, struct ckpt_hdr_file)->kind = CKPT_FILE_PIPE;
	expect("pipe(2) end naming a named pipe", im.buf, im.len, EBADMSG,
	       o[R_FIFO] + offsetof(struct ckpt_hdr_file, object));
	FIELD("unlinked file naming the pipe", R_UNL, struct ckpt_hdr_file,
	      object, 3, EBADMSG);
	FIELD("unlinked file naming itself", R_UNL, struct ckpt_hdr_file,
	      object, 6, EBADMSG);
	FIELD("unknown file kind 8", R_UNL, struct ckpt_hdr_file, kind, 8, EBADMSG);
	FIELD("tty reserved field", R_TTY, struct ckpt_hdr_tty, reserved, 1, EBADMSG);
	task_image_without(&im, o, R_TTY);
	expect("terminal without its tty record", im.buf, im.len, EBADMSG, o[R_TTY_FD]);
	task_image(&im, o);
	AT(&im, o, R_TTYFILE, struct ckpt_hdr_file)->kind = CKPT_FILE_CHR;
	expect("tty record after a file that is no terminal", im.buf, im.len,
	       EBADMSG, o[R_TTY]);
	task_image(&im, o);
	AT(&im, o, R_PIPE, struct ckpt_hdr_pipe)->flags = 0;
	expect("named pipe end naming a pipe(2)", im.buf, im.len, EBADMSG,
	       o[R_FIFO] + offsetof(struct ckpt_hdr_file, object));
	task_image(&im, o);
	AT(&im, o, R_PIPE, struct ckpt_hdr_pipe)->flags = 0;
	AT(&im, o, R_FIFO, struct ckpt_hdr_file)->kind = CKPT_FILE_PIPE;
	expect("pipe(2) end with a path", im.buf, im.len, 0, 0);
	FIELD("fd naming the tmpfile", R_UNL_FD, struct ckpt_hdr_fd, file, 5, EBADMSG);
	FIELD("fd naming the pipe", R_FD2, struct ckpt_hdr_fd, file, 3, EBADMSG);
	FIELD("tmpfile reusing the pipe's tag", R_TMPFILE, struct ckpt_hdr_tmpfile,
	      tag, 3, EBADMSG);

	/* order */
	task_image_without(&im, o, R_CREDS);
	expect("task without creds", im.buf, im.len, EBADMSG, o[R_CREDS]);
	task_image_without(&im, o, R_RLIMITS);
	expect("task without rlimits", im.buf, im.len, EBADMSG, o[R_RLIMITS]);
	task_image_without(&im, o, R_FS);
	expect("task without fs", im.buf, im.len, EBADMSG, o[R_FS]);
	task_image_without(&im, o, R_ITIMERS);
	expect("task without itimers", im.buf, im.len, EBADMSG, o[R_ITIMERS]);
	task_image_without(&im, o, R_FILES);
	expect("task without files", im.buf, im.len, EBADMSG, o[R_FILES]);
	task_image(&im, o);
	{
		/* the creds and the rlimits swapped */
		struct img im2;
		size_t a = o[R_RLIMITS] - o[R_CREDS], b = o[R_FS] - o[R_RLIMITS];

		memcpy(&im2, &im, sizeof(im2));
		memcpy(im2.buf + o[R_CREDS], im.buf + o[R_RLIMITS], b);
		memcpy(im2.buf + o[R_CREDS] + b, im.buf + o[R_CREDS], a);
		expect("rlimits before creds", im2.buf, im2.len, EBADMSG, o[R_CREDS]);
	}
	{
		/* the files after the mm: the order of the format before */
		struct img im2;
		size_t f = o[R_MM] - o[R_FILES], m = o[R_SIGNALS] - o[R_MM];

		memcpy(&im2, &im, sizeof(im2));
		memcpy(im2.buf + o[R_FILES], im.buf + o[R_MM], m);
		memcpy(im2.buf + o[R_FILES] + m, im.buf + o[R_FILES], f);
		expect("mm before files", im2.buf, im2.len, EBADMSG, o[R_FILES]);
	}
	{
		/* a restart block after the itimers, before the cpu */
		struct ckpt_hdr_restart_block b = {
			.h = { CKPT_HDR_RESTART_BLOCK, sizeof(b) },
			.kind = CKPT_RESTART_NANOSLEEP, .remaining = 5,
		};
		struct img im2;

		memcpy(&im2, &im, sizeof(im2));
		im2.len = o[R_CPU];
		im2.nr = nr_before[R_CPU];
		add(&im2, &b, sizeof(b));
		add(&im2, im.buf + o[R_CPU], o[R_TAIL] - o[R_CPU]);
		add_tail(&im2);
		expect("restart_block after the itimers", im2.buf, im2.len, 0, 0);
		/* ... and before them */
		memcpy(&im2, &im, sizeof(im2));
		im2.len = o[R_ITIMERS];
		im2.nr = nr_before[R_ITIMERS];
		add(&im2, &b, sizeof(b));
		add(&im2, im.buf + o[R_ITIMERS], o[R_TAIL] - o[R_ITIMERS]);
		add_tail(&im2);
		expect("restart_block before the itimers", im2.buf, im2.len,
		       EBADMSG, o[R_ITIMERS]);
	}
}
#undef FIELD
#endif


/*
 * A tree of four tasks: the root (pid 100, group and session from
 * outside), its child 101 leading a session, whose children 102 (leading
 * a group of that session) and 103 (in 102's group, exit signal SIGUSR1).
 */
#define TREE_N		4
static const pid_t tree_nrs[TREE_N] = { 100, 101, 102, 103 };
static struct ckpt_task_pids tree_ents[TREE_N];
static size_t tree_task_off[TREE_N];	/* of the task records */

static void tree_reset(void)
{
	static const struct ckpt_task_pids e[TREE_N] = {
		TP(1, CKPT_PID_NONE, CKPT_PID_ROOT, CKPT_PID_ROOT),
		TP(2, 1, 2, 2),
		TP(3, 2, 3, 2),
		{ 4, 4, 2, 3, 2, SIGUSR1, 0, 0 },
	};

	memcpy(tree_ents, e, sizeof(e));
}

/* The tree image of tree_ents and tree_nrs; n task sections of them. */
static void tree_image_n(struct img *im, uint32_t n)
{
	uint32_t i;

	memset(im, 0, sizeof(*im));
	add_header(im);
	add_pids(im, tree_nrs, TREE_N);
	add_tree(im, tree_ents, TREE_N);
	for (i = 0; i < n; i++) {
		tree_task_off[i] = im->len;
		add_min_task(im, tree_nrs[i]);
	}
	tail_off = im->len;
	add_tail(im);
}

static void tree_image(struct img *im)
{
	tree_image_n(im, TREE_N);
}

#define TREE_PIDS(im)	((struct ckpt_hdr_pids *)((im)->buf + PIDS_OFF))
#define TREE_HDR_OFF	(PIDS_OFF + sizeof(struct ckpt_hdr_pids) + 8 * TREE_N)
#define TREE_REC(im)	((struct ckpt_hdr_tree *)((im)->buf + TREE_HDR_OFF))
/* Offset of a field of entry i of the tree record */
#define ENT_OFF(i, field) (TREE_HDR_OFF + sizeof(struct ckpt_hdr_tree) + \
			   (i) * sizeof(struct ckpt_task_pids) + \
			   offsetof(struct ckpt_task_pids, field))
/* Offset of pid word w of the pids record */
#define WORD_OFF(w)	(PIDS_OFF + sizeof(struct ckpt_hdr_pids) + 4 * (w))

/* Set an entry field of the tree, expect e at its offset (0: accepted). */
#define ENTRY(name, i, field, value, e)					\
	do {								\
		tree_reset();						\
		tree_ents[i].field = (value);				\
		tree_image(&im);					\
		expect(name, im.buf, im.len, e,				\
		       (e) ? ENT_OFF(i, field) : 0);			\
	} while (0)

static void test_tree_records(void)
{
	static struct img im;
	static char out[65536];
	static const char *const dash[] = { "-", NULL };
	struct ckpt_err err;
	uint64_t nr = 0;
	int rc;

	tree_reset();
	tree_image(&im);
	report(scan_chunked(im.buf, im.len, 4096, 0, &err, &nr) == 0 &&
	       nr == 3 + TREE_N * MIN_TASK_RECORDS + 1, "tree image accepted",
	       "%s at 0x%llx (%llu records)", err.msg,
	       (unsigned long long)err.off, (unsigned long long)nr);
	rc = run_ckptinfo(dash, im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "pids       len 48\n  nr_pids      4\n  nr_words     8\n  pid 1        100\n  pid 2        101\n  pid 3        102\n  pid 4        103\n") &&
	       strstr(out, "tree       len 144\n  nr_tasks     4\n") &&
	       strstr(out, "  task 0       pid 100 (tag 1) tgid 100 (tag 1) ppid none (tag 0) pgid outside (tag -1) sid outside (tag -1) exit_signal 17 (SIGCHLD)\n") &&
	       strstr(out, "  task 1       pid 101 (tag 2) tgid 101 (tag 2) ppid 100 (tag 1) pgid 101 (tag 2) sid 101 (tag 2) exit_signal 17 (SIGCHLD)\n") &&
	       strstr(out, "  task 3       pid 103 (tag 4) tgid 103 (tag 4) ppid 101 (tag 2) pgid 102 (tag 3) sid 101 (tag 2) exit_signal 10 (SIGUSR1)\n") &&
	       strstr(out, "comm         \"task103\"\n  pid          103\n"),
	       "ckptinfo decodes pids and tree", "exit %d, output:\n%.3000s",
	       rc, out);
	{
		static const char *const vdash[] = { "-v", "-", NULL };
		static char big[1 << 20];

		/* the words of the pids record: depth 0, 100, depth 0, 101 */
		rc = run_ckptinfo(vdash, im.buf, im.len, big, sizeof(big));
		report(rc == 0 && strstr(big, "00000110  00 00 00 00 64 00 00 00 00 00 00 00 65 00 00 00"),
		       "ckptinfo -v dumps pids", "exit %d, output:\n%.3000s",
		       rc, big);
	}

	/* pids */
	tree_reset();
	tree_image(&im);
	TREE_PIDS(&im)->nr_words = 6;
	expect("pids words against length", im.buf, im.len, EBADMSG, PIDS_OFF + 12);
	tree_image(&im);
	TREE_PIDS(&im)->nr_pids = 0;
	expect("pids none", im.buf, im.len, EBADMSG, PIDS_OFF + 8);
	tree_image(&im);
	TREE_PIDS(&im)->nr_pids = 5;
	expect("pids more than the words hold", im.buf, im.len, EBADMSG, PIDS_OFF + 8);
	tree_image(&im);
	TREE_PIDS(&im)->nr_pids = 3;
	expect("pids words after the last", im.buf, im.len, EBADMSG, WORD_OFF(6));
	tree_image(&im);
	TREE_PIDS(&im)->words[2] = 1;
	expect("pids depth 1 not supported", im.buf, im.len, EOPNOTSUPP, WORD_OFF(2));
	tree_image(&im);
	TREE_PIDS(&im)->words[2] = -1;
	expect("pids depth -1", im.buf, im.len, EBADMSG, WORD_OFF(2));
	tree_image(&im);
	TREE_PIDS(&im)->words[6] = 1;
	expect("pids depth past the words", im.buf, im.len, EBADMSG, WORD_OFF(6));
	tree_image(&im);
	TREE_PIDS(&im)->words[3] = 0;
	expect("pids number 0", im.buf, im.len, EBADMSG, WORD_OFF(3));
	tree_image(&im);
	TREE_PIDS(&im)->words[3] = -5;
	expect("pids number -5", im.buf, im.len, EBADMSG, WORD_OFF(3));
	tree_image(&im);
	TREE_PIDS(&im)->words[3] = 4 * 1024 * 1024 + 1;
	expect("pids number above PID_MAX_LIMIT", im.buf, im.len, EBADMSG, WORD_OFF(3));
	tree_image(&im);
	TREE_PIDS(&im)->words[7] = 100;
	expect("pids a number twice", im.buf, im.len, EBADMSG, PIDS_OFF);
	tree_image(&im);
	TREE_PIDS(&im)->h.len = sizeof(struct ckpt_hdr_pids) - 8;
	expect("pids short", im.buf, im.len, EBADMSG, PIDS_OFF + 4);

	/* tree */
	tree_image(&im);
	TREE_REC(&im)->nr_tasks = 0;
	expect("tree no task", im.buf, im.len, EBADMSG, TREE_HDR_OFF + 8);
	tree_image(&im);
	TREE_REC(&im)->nr_tasks = 5;
	expect("tree tasks against length", im.buf, im.len, EBADMSG, TREE_HDR_OFF + 8);
	tree_image(&im);
	TREE_REC(&im)->nr_tasks = CKPT_TREE_MAX_TASKS + 1;
	expect("tree too many tasks", im.buf, im.len, EBADMSG, TREE_HDR_OFF + 8);
	tree_image(&im);
	TREE_REC(&im)->reserved = 1;
	expect("tree reserved", im.buf, im.len, EBADMSG, TREE_HDR_OFF + 12);
	ENTRY("tree entry flags", 2, flags, 2, EBADMSG);
	ENTRY("tree zombie root", 0, flags, CKPT_TASK_ZOMBIE, EBADMSG);
	ENTRY("tree exit code of a live task", 3, exit_code, 1, EBADMSG);
	ENTRY("tree exit signal 65", 1, exit_signal, 65, EBADMSG);
	ENTRY("tree exit signal 64", 1, exit_signal, 64, 0);
	ENTRY("tree exit signal 0", 3, exit_signal, 0, 0);
	ENTRY("tree pid tag 0", 1, pid, 0, EBADMSG);
	ENTRY("tree pid tag past the pids", 3, pid, 5, EBADMSG);
	ENTRY("tree pid tag twice", 2, pid, 2, EBADMSG);
	ENTRY("tree a thread", 2, tgid, 2, EOPNOTSUPP);
	ENTRY("tree root with a parent", 0, ppid, 2, EBADMSG);
	ENTRY("tree root with ppid -1", 0, ppid, CKPT_PID_ROOT, EBADMSG);
	ENTRY("tree parent after the child", 1, ppid, 3, EBADMSG);
	ENTRY("tree parent itself", 1, ppid, 2, EBADMSG);
	ENTRY("tree child without a parent", 2, ppid, CKPT_PID_NONE, EBADMSG);
	ENTRY("tree ppid -1", 2, ppid, CKPT_PID_ROOT, EBADMSG);
	ENTRY("tree pgid tag past the pids", 2, pgid, 5, EBADMSG);
	ENTRY("tree pgid tag 0", 2, pgid, 0, EBADMSG);
	ENTRY("tree sid tag -2", 3, sid, -2, EBADMSG);
	ENTRY("tree sid outside", 3, sid, CKPT_PID_ROOT, 0);
	ENTRY("tree pgid of a later task", 1, pgid, 4, 0);

	/* order, and the task records against the tree */
	tree_reset();
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_tree(&im, tree_ents, TREE_N);
	expect("tree without pids", im.buf, im.len, EBADMSG, PIDS_OFF);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_min_task(&im, 100);
	expect("task right after the header", im.buf, im.len, EBADMSG, PIDS_OFF);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_tail(&im);
	expect("header and tail only", im.buf, im.len, EBADMSG, PIDS_OFF);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_pids(&im, tree_nrs, TREE_N);
	add_min_task(&im, 100);
	expect("task right after the pids", im.buf, im.len, EBADMSG, TREE_HDR_OFF);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_pids(&im, tree_nrs, TREE_N);
	add_tree(&im, tree_ents, TREE_N);
	tail_off = im.len;
	add_pids(&im, tree_nrs, TREE_N);
	expect("second pids", im.buf, im.len, EBADMSG, tail_off);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_pids(&im, tree_nrs, TREE_N);
	add_error(&im, -EOPNOTSUPP, "threads");
	expect("error record after the pids", im.buf, im.len, ECANCELED, TREE_HDR_OFF);
	tree_image_n(&im, 0);
	expect("tail right after the tree", im.buf, im.len, EBADMSG, tail_off);
	tree_image_n(&im, 3);
	expect("tail after 3 of 4 tasks", im.buf, im.len, EBADMSG, tail_off);
	tree_image(&im);
	{
		struct img im2;

		/* a fifth task section */
		memcpy(&im2, &im, sizeof(im2));
		im2.len = tail_off;
		im2.nr--;
		add_min_task(&im2, 103);
		add_tail(&im2);
		expect("task beyond the tree", im2.buf, im2.len, EBADMSG, tail_off);
		/* tasks 2 and 3 swapped */
		memcpy(&im2, &im, sizeof(im2));
		memcpy(im2.buf + tree_task_off[2], im.buf + tree_task_off[3],
		       tree_task_off[3] - tree_task_off[2]);
		memcpy(im2.buf + tree_task_off[3], im.buf + tree_task_off[2],
		       tree_task_off[3] - tree_task_off[2]);
		expect("tasks out of the tree's order", im2.buf, im2.len, EBADMSG,
		       tree_task_off[2] + offsetof(struct ckpt_hdr_task, pid));
	}
	tree_image(&im);
	((struct ckpt_hdr_task *)(im.buf + tree_task_off[1]))->tgid = 100;
	expect("task tgid against the tree", im.buf, im.len, EBADMSG,
	       tree_task_off[1] + offsetof(struct ckpt_hdr_task, tgid));
}

/* ckpt_read_head() of the bytes buf[len] through a pipe; next 8 bytes. */
static int head_of(const void *buf, size_t len, struct ckpt_head *head,
		   struct ckpt_err *err, struct ckpt_hdr *next)
{
	int fds[2], ret;
	pid_t pid;

	if (pipe(fds))
		exit(1);
	pid = feeder(fds[1], buf, len, 100);
	close(fds[1]);
	ret = ckpt_read_head(fds[0], head, err);
	memset(next, 0, sizeof(*next));
	if (ckpt_read_full(fds[0], next, sizeof(*next)) < 0)
		ret = -2;
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return ret;
}

static void test_read_head(void)
{
	static struct img im;
	struct ckpt_head head;
	struct ckpt_err err;
	struct ckpt_hdr next;
	const struct ckpt_tree_task *t;
	int ret;

	tree_reset();
	tree_image(&im);
	ret = head_of(im.buf, im.len, &head, &err, &next);
	t = head.tree.tasks;
	report(ret == 0 && head.len == tree_task_off[0] &&
	       !memcmp(head.bytes, im.buf, head.len) &&
	       next.type == CKPT_HDR_TASK && head.header.magic == CKPT_MAGIC_HEAD &&
	       head.tree.nr_pids == 4 && head.tree.nr_tasks == 4 &&
	       t[0].pid == 100 && t[0].parent == -1 && t[0].ppid == 0 &&
	       t[0].pgid == 0 && t[0].sid == 0 && t[0].pgid_task == -1 &&
	       t[1].sid == 101 && t[1].sid_task == 1 && t[1].parent == 0 &&
	       t[3].pid == 103 && t[3].ppid == 101 && t[3].parent == 1 &&
	       t[3].pgid == 102 && t[3].pgid_task == 2 && t[3].sid_task == 1 &&
	       t[3].exit_signal == SIGUSR1 && t[3].ent.pid == 4,
	       "ckpt_read_head reads header, pids and tree",
	       "ret %d (%s), len %zu, next type %u", ret,
	       ret ? err.msg : "", head.len, next.type);
	if (!ret)
		ckpt_head_release(&head);

	ret = head_of(im.buf, TREE_HDR_OFF + 20, &head, &err, &next);
	report(ret == -1 && err.err == ENODATA && err.off == TREE_HDR_OFF + 20 &&
	       head.len == TREE_HDR_OFF + 20 && !head.tree.tasks &&
	       !memcmp(head.bytes, im.buf, head.len),
	       "ckpt_read_head of a short image keeps what it read",
	       "ret %d: %s at 0x%llx", ret, err.msg, (unsigned long long)err.off);
	ckpt_head_release(&head);
	HDR(&im)->arch = 2;
	ret = head_of(im.buf, im.len, &head, &err, &next);
	report(ret == -1 && err.err == ENOEXEC && head.len == PIDS_OFF,
	       "ckpt_read_head of a foreign image", "ret %d: %s", ret, err.msg);
	ckpt_head_release(&head);
	tree_image(&im);
	TREE_REC(&im)->reserved = 1;
	ret = head_of(im.buf, im.len, &head, &err, &next);
	report(ret == -1 && err.err == EBADMSG && err.off == TREE_HDR_OFF + 12,
	       "ckpt_read_head of a bad tree", "ret %d: %s at 0x%llx", ret,
	       err.msg, (unsigned long long)err.off);
	ckpt_head_release(&head);
	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_error(&im, -EPERM, "no");
	ret = head_of(im.buf, im.len, &head, &err, &next);
	report(ret == -1 && err.err == ECANCELED && head.len == im.len,
	       "ckpt_read_head of a failed checkpoint", "ret %d: %s", ret, err.msg);
	ckpt_head_release(&head);
}

/* ckpt_tree_layout() of tree_ents (five pids: a pid 555 of no task). */
static int layout(struct ckpt_err *err)
{
	static const pid_t nrs[] = { 100, 101, 102, 103, 555 };
	static struct img im;
	struct ckpt_head head;
	struct ckpt_hdr next;
	int ret;

	memset(&im, 0, sizeof(im));
	add_header(&im);
	add_pids(&im, nrs, 5);
	add_tree(&im, tree_ents, TREE_N);
	if (head_of(im.buf, im.len, &head, err, &next)) {
		printf("# layout: image refused: %s\n", err->msg);
		ckpt_head_release(&head);
		return -2;
	}
	ret = ckpt_tree_layout(&head.tree, err);
	ckpt_head_release(&head);
	return ret;
}

/* Set an entry field, expect the layout refused (why != NULL) or not. */
#define LAYOUT(name, i, field, value, why)				\
	do {								\
		tree_ents[i].field = (value);				\
		ret = layout(&err);					\
		if (why)						\
			report(ret == -1 && err.err == EOPNOTSUPP &&	\
			       strstr(err.msg, "session layout not supported yet") && \
			       strstr(err.msg, (why) ? (why) : ""), name, \
			       "ret %d: %s", ret, err.msg);		\
		else							\
			report(ret == 0, name, "ret %d: %s", ret, err.msg); \
	} while (0)

static void test_layout(void)
{
	struct ckpt_err err;
	int ret;

	tree_reset();
	LAYOUT("layout of the tree", 0, exit_signal, SIGCHLD, NULL);
	tree_ents[3].pgid = 4;
	LAYOUT("layout: a member joins the group of a later sibling", 2, pgid, 4, NULL);
	tree_reset();
	LAYOUT("layout: root leads its group", 0, pgid, 1, NULL);
	LAYOUT("layout: root leads its session", 0, sid, 1, NULL);
	tree_ents[1].sid = tree_ents[2].sid = tree_ents[3].sid = 1;
	LAYOUT("layout: a child in the root's session, leading a group",
	       1, pgid, 2, NULL);
	LAYOUT("layout: a child in the root's session and group", 1, pgid, 1, NULL);
	tree_reset();
	tree_ents[0].pgid = 1;
	LAYOUT("layout: a task in a group of another session", 2, pgid, 1,
	       "task 2 (pid 102) is in a process group of another session");
	tree_reset();
	LAYOUT("layout: root leads its session, not its group", 0, sid, 1,
	       "task 0 (pid 100) leads a session but not its process group");
	tree_reset();
	LAYOUT("layout: root in a session of another task", 0, sid, 2,
	       "task 0 (pid 100) is the root");
	tree_reset();
	LAYOUT("layout: a task in a session it did not inherit", 2, sid, 4,
	       "task 2 (pid 102) is in another session than its parent");
	tree_reset();
	LAYOUT("layout: a session of no task", 2, sid, 5,
	       "task 2 (pid 102) is in another session");
	tree_reset();
	tree_ents[2].pgid = CKPT_PID_ROOT;
	LAYOUT("layout: a task back in the root's session", 2, sid, CKPT_PID_ROOT,
	       "task 2 (pid 102) is in another session");
	tree_reset();
	tree_ents[1].sid = tree_ents[2].sid = tree_ents[3].sid = CKPT_PID_ROOT;
	LAYOUT("layout: groups without a session of the tree", 0, exit_signal,
	       SIGCHLD, NULL);
	LAYOUT("layout: a task in the outside group, its parent not", 3, pgid,
	       CKPT_PID_ROOT, "task 3 (pid 103) is in the root's process group from outside");
	LAYOUT("layout: tasks in the root's outside group", 1, pgid,
	       CKPT_PID_ROOT, NULL);
	tree_reset();
	LAYOUT("layout: a task of a session of the tree in the outside group",
	       2, pgid, CKPT_PID_ROOT, "task 2 (pid 102) is in the root's process group");
	tree_reset();
	LAYOUT("layout: a group whose leader is not in the tree", 3, pgid, 5,
	       "task 3 (pid 103) is in a process group whose leader is not in the tree");
	tree_reset();
	tree_ents[2].pgid = 2;
	LAYOUT("layout: a group whose leader left it", 3, pgid, 3,
	       "task 3 (pid 103) is in a process group whose leader left it");
}
#undef ENTRY
#undef LAYOUT


/* The tree image with pids base, base + 1, ...; the root's pid root. */
static void tree_image_at(struct img *im, pid_t root, pid_t base)
{
	pid_t nrs[TREE_N];
	uint32_t i;

	for (i = 0; i < TREE_N; i++)
		nrs[i] = i ? base + (pid_t)i : root;
	memset(im, 0, sizeof(*im));
	add_header(im);
	add_pids(im, nrs, TREE_N);
	add_tree(im, tree_ents, TREE_N);
	for (i = 0; i < TREE_N; i++)
		add_min_task(im, nrs[i]);
	add_tail(im);
}

/* Write an image to a file of outdir: its path. */
static const char *image_file(const struct img *im, const char *name)
{
	static char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/tests/%s", outdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ckpt_write_full(fd, im->buf, im->len) || close(fd)) {
		perror(path);
		exit(1);
	}
	return path;
}

/* Whether pid is a live task (not a zombie that its reaper did not reap yet). */
static int alive(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* restart --dry-run and --check-tree: mktree without restart(2). */
static void test_restart_tree(void)
{
	static struct img im;
	static char out[65536];
	const char *path;
	int rc;

	tree_reset();
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--dry-run", "--pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "4 tasks, in a new pid namespace, coordinated by its init\n") &&
	       strstr(out, "task 0: pid 100, child of the coordinator, exit signal SIGCHLD; session from outside, group from outside\n") &&
	       strstr(out, "task 1: pid 101, child of task 0 (pid 100), exit signal SIGCHLD; setsid(); session 101, group 101\n") &&
	       strstr(out, "task 2: pid 102, child of task 1 (pid 101), exit signal SIGCHLD; setpgid(0, 0); session 101, group 102\n") &&
	       strstr(out, "task 3: pid 103, child of task 1 (pid 101), exit signal SIGUSR1; joins group 102 once all tasks exist; session 101, group 102\n"),
	       "restart --dry-run prints the plan", "exit %d, output:\n%s", rc, out);
	tree_ents[3].pgid = 4;
	tree_ents[2].pgid = 4;
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--dry-run", "--pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "task 2: pid 102, child of task 1 (pid 101), exit signal SIGCHLD; joins group 103 once all tasks exist; session 101, group 103\n"),
	       "restart --dry-run: a group joined later", "exit %d, output:\n%s", rc, out);
	tree_reset();
	tree_ents[2].sid = 4;
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 1 && strstr(out, "restart: session layout not supported yet: task 2 (pid 102) is in another session than its parent and does not lead it\n"),
	       "restart: a session layout not supported", "exit %d, output:\n%s", rc, out);
	tree_reset();
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--no-pids", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 1 && strstr(out, "restart: a tree image needs its pids"),
	       "restart --no-pids of a tree", "exit %d, output:\n%s", rc, out);
	rc = run_prog("restart", (const char *const[]){ "--dry-run", NULL },
		      im.buf, 400, out, sizeof(out));
	report(rc == 1 && strstr(out, "restart: <stdin>: offset 0x190: image ends inside tree record"),
	       "restart --dry-run of a truncated image", "exit %d, output:\n%s", rc, out);
	good_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--dry-run", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "1 task, pid 4242: restarted alone (RESTART_TASKSELF)"),
	       "restart --dry-run of one task", "exit %d, output:\n%s", rc, out);
	rc = run_prog("restart", (const char *const[]){ "-h", NULL },
		      NULL, 0, out, sizeof(out));
	report(rc == 0 && strstr(out, "--dry-run") && strstr(out, "--check-tree") &&
	       strstr(out, "tree"), "restart -h tells about trees",
	       "exit %d, output:\n%s", rc, out);

	if (geteuid() != 0) {
		printf("ok - restart --check-tree # SKIP not root\n");
		return;
	}
	/* A new pid namespace, the image from a pipe: the feeder path */
	tree_reset();
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--check-tree", "--pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "4 tasks made as the image says\n"),
	       "restart --check-tree --pidns, image from a pipe",
	       "exit %d, output:\n%s", rc, out);
	/* The root as pid 1, image from a file */
	tree_ents[3].pgid = 4;
	tree_ents[2].pgid = 4;
	tree_ents[0].pgid = tree_ents[0].sid = 1;
	tree_ents[1].exit_signal = 0;
	tree_image_at(&im, 1, 100);
	path = image_file(&im, "tree-pid1.img");
	rc = run_prog("restart", (const char *const[]){ "--check-tree", "-i", path, NULL },
		      NULL, 0, out, sizeof(out));
	report(rc == 0 && strstr(out, "4 tasks made as the image says\n"),
	       "restart --check-tree of a root of pid 1, a group joined later, exit signal 0",
	       "exit %d, output:\n%s", rc, out);
	/* In the tool's pid namespace: pids that are free here */
	{
		pid_t base = 0;
		int k;

		for (k = 0; k < 50 && !base; k++) {
			pid_t b = 20000 + 97 * k, p;

			for (p = b; p < b + TREE_N; p++)
				if (!kill(p, 0) || errno != ESRCH ||
				    !kill(-p, 0) || errno != ESRCH)
					break;
			if (p == b + TREE_N)
				base = b;
		}
		tree_reset();
		tree_image_at(&im, base, base);
		path = image_file(&im, "tree-here.img");
		rc = run_prog("restart", (const char *const[]){ "--check-tree", "--no-pidns", "-i", path, NULL },
			      NULL, 0, out, sizeof(out));
		report(base && rc == 0 && strstr(out, "4 tasks made as the image says\n") &&
		       !strstr(out, "new pid namespace"),
		       "restart --check-tree --no-pidns: the tree in the tool's pid namespace",
		       "base %d, exit %d, output:\n%s", base, rc, out);
		for (k = 0; k < TREE_N; k++)
			if (alive(base + k))
				break;
		report(k == TREE_N, "restart --check-tree leaves no task behind",
		       "pid %d is alive", base + k);
	}
	/* A pid in use here: the default takes a new pid namespace */
	tree_reset();
	tree_image_at(&im, getpid(), 100);
	rc = run_prog("restart", (const char *const[]){ "--check-tree", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 0 && strstr(out, "is in use here: restoring the tree in a new pid namespace") &&
	       strstr(out, "4 tasks made as the image says\n"),
	       "restart --check-tree: a pid in use here, a new pid namespace",
	       "exit %d, output:\n%s", rc, out);
	rc = run_prog("restart", (const char *const[]){ "--check-tree", "--no-pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 1 && strstr(out, "of the tree is in use; use --pidns\n"),
	       "restart --no-pidns: a pid of the tree in use",
	       "exit %d, output:\n%s", rc, out);
	/*
	 * restart(2) itself: the host kernel has none (or another call of
	 * that number), so the tasks' or the coordinator's call fails.
	 */
	tree_reset();
	tree_image(&im);
	rc = run_prog("restart", (const char *const[]){ "--pidns", NULL },
		      im.buf, im.len, out, sizeof(out));
	report(rc == 1 && (strstr(out, "restart: restart: ") ||
			   strstr(out, "): restart(0, -1, 0, -1): ")),
	       "restart of a tree where restart(2) fails: exit 1, the errno named",
	       "exit %d, output:\n%s", rc, out);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_ckptimg OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	test_valid();
	test_truncated();
	test_header();
	test_tail();
	test_error_record();
	test_ckptinfo();
#ifdef CKPT_COMM_LEN
	test_task_records();
#endif
	test_new_records();
	test_tree_records();
	test_read_head();
	test_layout();
	test_restart_tree();

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
