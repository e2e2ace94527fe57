// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's subject: counts once a second into a file, rewriting it in
 * place, so that one can watch it stop when killed and go on after restart.
 * Usage: counter FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long n = 0;
	char buf[32];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: counter FILE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		struct timespec ts = { .tv_sec = 1 };
		int len = snprintf(buf, sizeof(buf), "%lu\n", ++n);

		if (pwrite(fd, buf, len, 0) != len || ftruncate(fd, len))
			return 1;
		nanosleep(&ts, NULL);
	}
}
