// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and describing checkpoint images.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckptimg.h"

/* The checkpoint(2) flags an image header may carry. */
#define CKPT_HEADER_FLAGS	CHECKPOINT_SUBTREE

static int fail(struct ckpt_err *e, uint64_t off, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct ckpt_err *e, uint64_t off, int err, const char *fmt, ...)
{
	va_list ap;

	e->off = off;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

ssize_t ckpt_read_full(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

int ckpt_write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += w;
	}
	return 0;
}

/* Architectures */

static const char *const arch_names[] = {
	[CKPT_ARCH_X86_64] = "x86_64",
};

const char *ckpt_arch_name(unsigned int arch)
{
	if (arch < sizeof(arch_names) / sizeof(arch_names[0]))
		return arch_names[arch];
	return NULL;
}

unsigned int ckpt_this_arch(void)
{
#if defined(__x86_64__)
	return CKPT_ARCH_X86_64;
#else
	return 0;
#endif
}

static unsigned int this_page_shift(void)
{
	long sz = sysconf(_SC_PAGESIZE);
	unsigned int shift = 0;

	while (sz > 1) {
		sz >>= 1;
		shift++;
	}
	return shift;
}

/* Printing helpers */

static void print_str(FILE *f, const char *name, const char *s, size_t max)
{
	size_t i;

	fprintf(f, "  %-12s \"", name);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
	fputs("\"\n", f);
}

static void print_magic(FILE *f, uint64_t magic)
{
	char s[9];
	int i;

	for (i = 0; i < 8; i++) {
		unsigned char c = magic >> (8 * i);

		s[i] = (c >= 0x20 && c < 0x7f) ? c : '.';
	}
	s[8] = '\0';
	fprintf(f, "  %-12s 0x%016llx \"%s\"\n", "magic",
		(unsigned long long)magic, s);
}

static void print_errno(FILE *f, const char *name, int error)
{
	fprintf(f, "  %-12s %d", name, error);
	if (error < 0 && error > -4096)
		fprintf(f, " (%s)", strerror(-error));
	fputc('\n', f);
}

void ckpt_hexdump(FILE *f, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		fprintf(f, "    %08llx ", (unsigned long long)(off + i));
		for (j = i; j < i + 16; j++) {
			if (j < len)
				fprintf(f, " %02x", p[j]);
			else
				fputs("   ", f);
		}
		fputs("  |", f);
		for (j = i; j < i + 16 && j < len; j++)
			fputc(p[j] >= 0x20 && p[j] < 0x7f ? p[j] : '.', f);
		fputs("|\n", f);
	}
}

static bool has_nul(const char *s, size_t max)
{
	return memchr(s, '\0', max) != NULL;
}

/* CKPT_HDR_HEADER */

static int header_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_header *h = rec->data;

	if (h->magic != CKPT_MAGIC_HEAD)
		return fail(err, offsetof(struct ckpt_hdr_header, magic),
			    EBADMSG, "header: bad magic 0x%016llx",
			    (unsigned long long)h->magic);
	if (h->version != CKPT_VERSION)
		return fail(err, offsetof(struct ckpt_hdr_header, version),
			    EPROTONOSUPPORT,
			    "header: image format version %u, expected %d",
			    h->version, CKPT_VERSION);
	if (h->flags & ~CKPT_HEADER_FLAGS)
		return fail(err, offsetof(struct ckpt_hdr_header, flags),
			    EBADMSG, "header: unknown checkpoint flags 0x%x",
			    h->flags);
	if (h->reserved)
		return fail(err, offsetof(struct ckpt_hdr_header, reserved),
			    EBADMSG, "header: reserved field is 0x%x, not 0",
			    h->reserved);
	if (!has_nul(h->release, sizeof(h->release)))
		return fail(err, offsetof(struct ckpt_hdr_header, release),
			    EBADMSG, "header: release is not NUL terminated");
	if (!has_nul(h->version_str, sizeof(h->version_str)))
		return fail(err, offsetof(struct ckpt_hdr_header, version_str),
			    EBADMSG, "header: version_str is not NUL terminated");
	if (!has_nul(h->machine, sizeof(h->machine)))
		return fail(err, offsetof(struct ckpt_hdr_header, machine),
			    EBADMSG, "header: machine is not NUL terminated");
	return 0;
}

static void header_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_header *h = rec->data;
	const char *arch = ckpt_arch_name(h->arch);
	time_t t = (time_t)h->time;
	struct tm tm;
	char when[64] = "?";

	print_magic(f, h->magic);
	fprintf(f, "  %-12s %u\n", "version", h->version);
	fprintf(f, "  %-12s %u (%s)\n", "arch", h->arch, arch ? arch : "unknown");
	fprintf(f, "  %-12s %u", "page_shift", h->page_shift);
	if (h->page_shift < 64)
		fprintf(f, " (%llu-byte pages)", 1ULL << h->page_shift);
	fputc('\n', f);
	fprintf(f, "  %-12s 0x%x", "flags", h->flags);
	if (h->flags & CHECKPOINT_SUBTREE)
		fputs(" (SUBTREE)", f);
	fputc('\n', f);
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "  %-12s %llu (%s)\n", "time",
		(unsigned long long)h->time, when);
	print_str(f, "release", h->release, sizeof(h->release));
	print_str(f, "version_str", h->version_str, sizeof(h->version_str));
	print_str(f, "machine", h->machine, sizeof(h->machine));
}

/* CKPT_HDR_TAIL */

static int tail_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_tail *t = rec->data;

	if (t->magic != CKPT_MAGIC_TAIL)
		return fail(err, offsetof(struct ckpt_hdr_tail, magic),
			    EBADMSG, "tail: bad magic 0x%016llx",
			    (unsigned long long)t->magic);
	return 0;
}

static void tail_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tail *t = rec->data;

	print_magic(f, t->magic);
	fprintf(f, "  %-12s %llu\n", "nr_records",
		(unsigned long long)t->nr_records);
	fprintf(f, "  %-12s %llu\n", "size", (unsigned long long)t->size);
}

/* CKPT_HDR_ERROR */

static int error_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_error *e = rec->data;
	size_t msglen = rec->len - sizeof(*e);

	if (e->reserved)
		return fail(err, offsetof(struct ckpt_hdr_error, reserved),
			    EBADMSG, "error: reserved field is 0x%x, not 0",
			    e->reserved);
	if (!has_nul(e->msg, msglen))
		return fail(err, sizeof(*e), EBADMSG,
			    "error: message is not NUL terminated");
	return 0;
}

static void error_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_error *e = rec->data;

	print_errno(f, "error", e->error);
	print_str(f, "msg", e->msg, rec->len - sizeof(*e));
}

/*
 * Every record type the library knows.  ERROR must hold at least the
 * message's NUL.
 */
static const struct ckpt_rec_type rec_types[] = {
	{ CKPT_HDR_HEADER, "header", sizeof(struct ckpt_hdr_header), 0,
	  header_check, header_print },
	{ CKPT_HDR_TAIL, "tail", sizeof(struct ckpt_hdr_tail), 0,
	  tail_check, tail_print },
	{ CKPT_HDR_ERROR, "error", sizeof(struct ckpt_hdr_error) + 1, 1,
	  error_check, error_print },
};

const struct ckpt_rec_type *ckpt_rec_type(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(rec_types) / sizeof(rec_types[0]); i++)
		if (rec_types[i].type == type)
			return &rec_types[i];
	return NULL;
}

const char *ckpt_type_name(uint32_t type)
{
	const struct ckpt_rec_type *rt = ckpt_rec_type(type);

	return rt ? rt->name : NULL;
}

void ckpt_print_record(FILE *f, const struct ckpt_record *rec)
{
	fprintf(f, "0x%08llx %-10s len %u\n", (unsigned long long)rec->off,
		rec->rt ? rec->rt->name : "?", rec->len);
	if (rec->rt && rec->rt->print)
		rec->rt->print(f, rec);
}

int ckpt_header_runnable(const struct ckpt_hdr_header *h, uint64_t off,
			 struct ckpt_err *err)
{
	const char *name = ckpt_arch_name(h->arch);

	if (!ckpt_this_arch() || h->arch != ckpt_this_arch())
		return fail(err, off + offsetof(struct ckpt_hdr_header, arch),
			    ENOEXEC, "header: image is for arch %u (%s), this is %s",
			    h->arch, name ? name : "unknown",
			    ckpt_arch_name(ckpt_this_arch()) ?: "unsupported");
	if (h->page_shift != this_page_shift())
		return fail(err, off + offsetof(struct ckpt_hdr_header, page_shift),
			    ENOEXEC, "header: image has page_shift %u, this machine %u",
			    h->page_shift, this_page_shift());
	return 0;
}

/* The reader */

void ckpt_reader_init(struct ckpt_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->state = CKPT_RD_HEADER;
}

void ckpt_reader_release(struct ckpt_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->bufsz = 0;
}

size_t ckpt_read_raw(struct ckpt_reader *r, void *buf, size_t n)
{
	ssize_t got = ckpt_read_full(r->fd, buf, n);

	if (got < 0)
		return 0;
	r->off += got;
	return got;
}

/* Read n bytes that the image must contain; ENODATA when it ends first. */
static int need(struct ckpt_reader *r, void *buf, size_t n, const char *what,
		uint64_t rec_off)
{
	ssize_t got = ckpt_read_full(r->fd, buf, n);

	if (got < 0)
		return fail(&r->err, r->off, errno, "read: %s", strerror(errno));
	r->off += got;
	if ((size_t)got < n)
		return fail(&r->err, r->off, ENODATA,
			    "image ends inside %s at 0x%llx", what,
			    (unsigned long long)rec_off);
	return 0;
}

static int grow(struct ckpt_reader *r, size_t n)
{
	unsigned char *p;

	if (n <= r->bufsz)
		return 0;
	p = realloc(r->buf, n);
	if (!p)
		return fail(&r->err, r->off, ENOMEM, "%s", strerror(ENOMEM));
	r->buf = p;
	r->bufsz = n;
	return 0;
}

/* Validate the record's length against its type: 0 or -1 (EBADMSG). */
static int check_len(struct ckpt_reader *r, const struct ckpt_rec_type *rt,
		     uint64_t off, uint32_t len)
{
	uint64_t len_off = off + offsetof(struct ckpt_hdr, len);

	if (len < rt->size || (!rt->varlen && len != rt->size))
		return fail(&r->err, len_off, EBADMSG,
			    "%s: record length %u, expected %s%u", rt->name,
			    len, rt->varlen ? "at least " : "", rt->size);
	if (len > CKPT_REC_MAX)
		return fail(&r->err, len_off, EBADMSG,
			    "%s: record length %u too large", rt->name, len);
	return 0;
}

static int read_padding(struct ckpt_reader *r, const struct ckpt_rec_type *rt,
			uint64_t rec_off, uint32_t len)
{
	unsigned char pad[CKPT_RECORD_ALIGN];
	size_t n = ckpt_align(len) - len, i;
	uint64_t pad_off = r->off;
	char what[64];

	if (!n)
		return 0;
	snprintf(what, sizeof(what), "padding of %s record", rt->name);
	if (need(r, pad, n, what, rec_off))
		return -1;
	for (i = 0; i < n; i++)
		if (pad[i])
			return fail(&r->err, pad_off + i, EBADMSG,
				    "%s: nonzero padding byte 0x%02x",
				    rt->name, pad[i]);
	return 0;
}

/* The record's place in the image. */
static int check_order(struct ckpt_reader *r, const struct ckpt_rec_type *rt,
		       uint64_t off, uint32_t type)
{
	if (r->state == CKPT_RD_HEADER && type != CKPT_HDR_HEADER)
		return fail(&r->err, off, EBADMSG,
			    "expected header record, found %s record",
			    rt->name);
	if (r->state != CKPT_RD_HEADER && type == CKPT_HDR_HEADER)
		return fail(&r->err, off, EBADMSG, "second header record");
	return 0;
}

static int check_tail(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tail *t = rec->data;

	if (t->nr_records != r->nr_records)
		return fail(&r->err,
			    rec->off + offsetof(struct ckpt_hdr_tail, nr_records),
			    EBADMSG, "tail: nr_records %llu, image has %llu",
			    (unsigned long long)t->nr_records,
			    (unsigned long long)r->nr_records);
	if (t->size != rec->off)
		return fail(&r->err,
			    rec->off + offsetof(struct ckpt_hdr_tail, size),
			    EBADMSG, "tail: size %llu, image has %llu",
			    (unsigned long long)t->size,
			    (unsigned long long)rec->off);
	return 0;
}

static int finish(struct ckpt_reader *r)
{
	unsigned char c;
	uint64_t off = r->off;
	ssize_t got;

	if (r->state == CKPT_RD_ERROR) {
		r->state = CKPT_RD_FAILED;
		return -1;	/* err was filled when the record was read */
	}
	got = ckpt_read_full(r->fd, &c, 1);
	if (got < 0) {
		r->state = CKPT_RD_FAILED;
		return fail(&r->err, off, errno, "read: %s", strerror(errno));
	}
	if (got > 0) {
		r->off++;
		r->state = CKPT_RD_FAILED;
		return fail(&r->err, off, EBADMSG, "data after the tail");
	}
	r->state = CKPT_RD_DONE;
	return 0;
}

static int next(struct ckpt_reader *r, struct ckpt_record *rec)
{
	const struct ckpt_rec_type *rt;
	struct ckpt_hdr h;
	uint64_t off = r->off;
	char what[64];
	ssize_t got;

	got = ckpt_read_full(r->fd, &h, sizeof(h));
	if (got < 0)
		return fail(&r->err, off, errno, "read: %s", strerror(errno));
	r->off += got;
	if (got == 0)
		return fail(&r->err, off, ENODATA,
			    r->state == CKPT_RD_HEADER ? "empty image" :
			    "image ends without a tail record");
	if ((size_t)got < sizeof(h))
		return fail(&r->err, r->off, ENODATA,
			    "image ends inside record header at 0x%llx",
			    (unsigned long long)off);

	rt = ckpt_rec_type(h.type);
	if (!rt)
		return fail(&r->err, off, EBADMSG, "unknown record type %u",
			    h.type);
	if (check_order(r, rt, off, h.type) || check_len(r, rt, off, h.len))
		return -1;
	if (grow(r, h.len))
		return -1;
	memcpy(r->buf, &h, sizeof(h));
	snprintf(what, sizeof(what), "%s record", rt->name);
	if (need(r, r->buf + sizeof(h), h.len - sizeof(h), what, off) ||
	    read_padding(r, rt, off, h.len))
		return -1;

	rec->off = off;
	rec->type = h.type;
	rec->len = h.len;
	rec->rt = rt;
	rec->data = r->buf;

	if (rt->check && rt->check(rec, &r->err)) {
		r->err.off += off;
		return -1;
	}

	switch (h.type) {
	case CKPT_HDR_HEADER:
		memcpy(&r->header, r->buf, sizeof(r->header));
		r->state = CKPT_RD_BODY;
		break;
	case CKPT_HDR_TAIL:
		if (check_tail(r, rec))
			return -1;
		memcpy(&r->tail, r->buf, sizeof(r->tail));
		r->state = CKPT_RD_TAIL;
		break;
	case CKPT_HDR_ERROR: {
		const struct ckpt_hdr_error *e = rec->data;

		fail(&r->err, off, ECANCELED,
		     "image ends with an error record: checkpoint failed: %s (error %d)",
		     e->msg, e->error);
		r->state = CKPT_RD_ERROR;
		break;
	}
	}
	r->nr_records++;
	return 1;
}

int ckpt_next(struct ckpt_reader *r, struct ckpt_record *rec)
{
	switch (r->state) {
	case CKPT_RD_DONE:
		return 0;
	case CKPT_RD_FAILED:
		return -1;
	case CKPT_RD_TAIL:
	case CKPT_RD_ERROR:
		return finish(r);
	default:
		break;
	}
	if (next(r, rec) < 0) {
		r->state = CKPT_RD_FAILED;
		return -1;
	}
	return 1;
}
