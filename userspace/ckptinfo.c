// SPDX-License-Identifier: GPL-2.0
/*
 * ckptinfo - describe a checkpoint image record by record
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptimg.h"

#define PROG "ckptinfo"

/* How much of an unparsable stretch -v dumps. */
#define DUMP_MAX 256

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-v] FILE\n"
		"\n"
		"Print every record of the checkpoint image FILE (\"-\" reads standard\n"
		"input; pipes work): its offset, type, length and decoded fields.  The\n"
		"image is checked as restart(2) checks it: record types, lengths and\n"
		"padding, fields, order, and the counts of the tail.  An image is the\n"
		"header, the pids of the task tree (their numbers by tag), the tree\n"
		"(each task's pid, tgid, parent, process group and session, as numbers\n"
		"and tags, and its exit signal), the section of every task in the\n"
		"order of the tree, and the tail.\n"
		"\n"
		"Options:\n"
		"  -v, --verbose  also hexdump every record and, on a parse error, the\n"
		"                 bytes that could not be parsed\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Exit status: 0 for a complete image ending with a valid tail whose\n"
		"counts match; 1 when the image cannot be read or parsed (the first\n"
		"offset that cannot be parsed is reported); 2 for usage errors.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ckpt_reader r;
	struct ckpt_record rec;
	const char *path;
	int verbose = 0, fd, c, ret;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": %s\n",
			optind == argc ? "missing FILE" : "too many arguments");
		usage(stderr);
		return 2;
	}
	path = argv[optind];

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
		path = "<stdin>";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
			return 1;
		}
	}

	ckpt_reader_init(&r, fd);
	while ((ret = ckpt_next(&r, &rec)) > 0) {
		ckpt_print_record(stdout, &rec);
		if (verbose)
			ckpt_hexdump(stdout, rec.data, rec.datalen, rec.off);
	}
	if (ret == 0) {
		printf("complete image: %llu records, %llu bytes\n",
		       (unsigned long long)r.nr_records,
		       (unsigned long long)r.off);
		ckpt_reader_release(&r);
		return fflush(stdout) ? 1 : 0;
	}

	fflush(stdout);
	fprintf(stderr, PROG ": %s: offset 0x%llx: %s\n", path,
		(unsigned long long)r.err.off, r.err.msg);
	if (verbose && r.err.err != ENODATA && r.err.err != ECANCELED) {
		unsigned char buf[DUMP_MAX];
		uint64_t from = r.off;
		size_t n = ckpt_read_raw(&r, buf, sizeof(buf));

		if (n) {
			printf("next %zu bytes of the stream:\n", n);
			ckpt_hexdump(stdout, buf, n, from);
		}
	}
	ckpt_reader_release(&r);
	return 1;
}
