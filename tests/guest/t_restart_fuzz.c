// SPDX-License-Identifier: GPL-2.0
/*
 * restart(2) on corrupted images, with the image library as the oracle.
 *
 * Every single-byte corruption of the header and the tail of a valid
 * image (each offset, a few values) must give exactly the outcome the
 * library predicts: restart(2) and ckptinfo agree on what is an image.
 * Corruptions elsewhere (the library checks the structure of a record, the
 * kernel also what it means), random multi-byte corruptions, truncations
 * and random streams must fail with a documented errno and a log line,
 * never be accepted when the library rejects them, and never crash or
 * hang.  T_SEED=<n> repeats a run; the seed is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"

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
	char path[PATH_MAX];
	struct ckpt_reader r;
	struct ckpt_record rec;
	int fd, ret;

	fd = t_file_with(buf, len, O_RDONLY, path);
	if (fd < 0)
		t_bail("image file");
	unlink(path);
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

/* restart(2) of buf from a file: the outcome, the log in *log. */
static int restart_buf(const void *buf, size_t len, char **log)
{
	char path[PATH_MAX];
	int fd, logfd, rc;

	fd = t_file_with(buf, len, O_RDONLY, path);
	if (fd < 0)
		t_bail("image file");
	unlink(path);
	logfd = t_log_fd();
	rc = t_restart_child(fd, 0, RESTART_TASKSELF, logfd);
	close(fd);
	lseek(logfd, 0, SEEK_SET);
	*log = t_read_fd(logfd, NULL);
	close(logfd);
	return rc;
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
		return 1;
	}
	return 0;
}

/* One corrupted image: NULL when restart(2) behaves, else why not. */
static const char *check_one(const unsigned char *buf, size_t len,
			     enum agree agree)
{
	static char why[1024];
	struct ckpt_err err = { 0 };
	const char *p = NULL;
	char *log = NULL;
	int want, rc;

	want = predict(buf, len, &err);
	rc = restart_buf(buf, len, &log);
	if (rc)
		p = t_log_problem(log, rc, NULL);
	if (!documented(rc))
		snprintf(why, sizeof(why), "got %s, not a documented error",
			 t_errname(rc));
	else if (agree == AGREE_EXACTLY ? rc != want : !rc && want)
		snprintf(why, sizeof(why), "got %s, the library says %s (offset 0x%llx: %s)",
			 t_errname(rc), t_errname(want),
			 (unsigned long long)err.off, err.msg);
	else if (p)
		snprintf(why, sizeof(why), "%s", p);
	else
		why[0] = '\0';
	if (why[0] && log && *log) {
		size_t n = strlen(why);

		snprintf(why + n, sizeof(why) - n, "; log \"%.200s\"", log);
	}
	free(log);
	return why[0] ? why : NULL;
}

static void test_single_bytes(void)
{
	static const struct { int xor; int set; } muts[] = {
		{ 0x01, -1 }, { 0x80, -1 }, { 0, 0x00 }, { 0, 0xff },
	};
	unsigned char *buf = malloc(base_len);
	const char *why, *first = NULL;
	char first_why[1100];
	size_t tail_off = base_im.off[base_im.nr - 1];
	size_t off, m, step = 1, n = 0, bad = 0;

	if (!buf)
		t_bail("malloc");
	for (off = 0; off < base_len; off += step) {
		enum agree agree = AGREE_ON_REJECTS;

		/* The header and the tail the library knows entirely. */
		if (off < base_im.off[1] || off >= tail_off)
			agree = AGREE_EXACTLY;
		/* Every byte of a small image, a sample of a large one. */
		step = base_len <= 4096 || agree == AGREE_EXACTLY ? 1 :
		       1 + rand() % 64;
		for (m = 0; m < sizeof(muts) / sizeof(muts[0]); m++) {
			memcpy(buf, base, base_len);
			buf[off] = muts[m].set >= 0 ? muts[m].set :
						      buf[off] ^ muts[m].xor;
			if (buf[off] == base[off])
				continue;
			n++;
			why = check_one(buf, base_len, agree);
			if (why && !bad++) {
				snprintf(first_why, sizeof(first_why),
					 "byte 0x%zx = 0x%02x: %s", off, buf[off], why);
				first = first_why;
			}
		}
	}
	t_check(!bad, "single-byte corruptions",
		"%zu of %zu wrong, first: %s", bad, n, first);
	free(buf);
}

static void test_random(void)
{
	size_t cap = base_len + 64, i, bad = 0;
	unsigned char *buf = malloc(cap);
	char first[1100] = "";
	const char *why;

	if (!buf)
		t_bail("malloc");
	for (i = 0; i < NR_RANDOM; i++) {
		size_t len = base_len, k, nr = 1 + rand() % 8;

		memcpy(buf, base, base_len);
		for (k = 0; k < nr; k++)
			buf[rand() % base_len] = rand();
		if (rand() % 4 == 0)
			len = rand() % (base_len + 1);
		why = check_one(buf, len, AGREE_ON_REJECTS);
		if (why && !bad++)
			snprintf(first, sizeof(first), "image %zu (%zu bytes): %s",
				 i, len, why);
	}
	t_check(!bad, "random corruptions", "%zu of %d wrong, first: %s", bad,
		NR_RANDOM, first);

	bad = 0;
	for (i = 0; i < NR_GARBAGE; i++) {
		size_t len = rand() % cap, k;

		for (k = 0; k < len; k++)
			buf[k] = rand();
		/* Half of them look like a record header of the image. */
		if (i % 2 && len >= 8) {
			((struct ckpt_hdr *)buf)->type = rand() % 4;
			((struct ckpt_hdr *)buf)->len = rand() % 512;
		}
		why = check_one(buf, len, AGREE_ON_REJECTS);
		if (why && !bad++)
			snprintf(first, sizeof(first), "stream %zu (%zu bytes): %s",
				 i, len, why);
	}
	t_check(!bad, "random streams", "%zu of %d wrong, first: %s", bad,
		NR_GARBAGE, first);
	free(buf);
}

int main(void)
{
	const char *s = getenv("T_SEED");
	unsigned int seed = s && *s ? strtoul(s, NULL, 0) : (unsigned int)time(NULL);
	char path[PATH_MAX];

	printf("# T_SEED=%u\n", seed);
	srand(seed);

	/* The header checkpoint(2) wrote, then a tail: no task to restore. */
	if (t_notask_image(path))
		t_bail("header-and-tail image of the counting child");
	base = (unsigned char *)t_read_path(path, &base_len);
	t_scan_path(path, &base_im);
	unlink(path);
	if (!base)
		t_bail("reading the image");
	if (!base_im.complete || base_im.nr < 2 || base_im.nr > T_MAX_RECORDS) {
		printf("not ok - image from checkpoint(2): offset 0x%llx: %s\n",
		       (unsigned long long)base_im.err.off, base_im.err.msg);
		return 1;
	}

	test_single_bytes();
	test_random();

	free(base);
	return t_done();
}
