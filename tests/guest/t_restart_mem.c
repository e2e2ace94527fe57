// SPDX-License-Identifier: GPL-2.0
/*
 * Memory survives checkpoint, SIGKILL and restart(2): patterns in the heap
 * (small and large malloc), the stack, an anonymous mapping, a private
 * file mapping written to, a read-only and a PROT_NONE region.  The
 * restored subject verifies every byte and the protections itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tlib.h"

#define SMALL	100
#define LARGE	(8 << 20)	/* mmap'ed by malloc */
#define ANON	(1 << 20)
#define FILESZ	(64 << 10)

static char file_path[4096];

static unsigned char pat(uintptr_t seed, size_t i)
{
	return (unsigned char)((seed * 131 + i * 7 + (i >> 8)) ^ 0x5c);
}

static void fill(void *p, size_t n, uintptr_t seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = pat(seed, i);
}

static long bad_at(const void *p, size_t n, uintptr_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != pat(seed, i))
			return i;
	return -1;
}

static sigjmp_buf fault_jmp;
static volatile int faults;

static void on_segv(int sig)
{
	(void)sig;
	faults++;
	siglongjmp(fault_jmp, 1);
}

/* Whether a write (or read) of p faults. */
static int faults_on(volatile unsigned char *p, int write)
{
	int before = faults;

	if (!sigsetjmp(fault_jmp, 1)) {
		if (write)
			*p = *p;
		else
			(void)*p;
	}
	return faults != before;
}

static void check_region(const char *name, const void *p, size_t n,
			 uintptr_t seed)
{
	long at = bad_at(p, n, seed);

	t_subj_check(at < 0, name, "byte %ld of %zu differs", at, n);
}

static void mem_subject(void *arg)
{
	unsigned char stack_buf[16384];
	unsigned char *small, *large, *anon, *fmap, *ro, *none, *sparse;
	struct sigaction sa = { .sa_handler = on_segv };
	int fd;

	(void)arg;
	small = malloc(SMALL);
	large = malloc(LARGE);
	anon = mmap(NULL, ANON, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sparse = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open(file_path, O_RDONLY);
	fmap = fd < 0 ? MAP_FAILED : mmap(NULL, FILESZ, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (!small || !large || anon == MAP_FAILED || ro == MAP_FAILED ||
	    none == MAP_FAILED || fmap == MAP_FAILED || sparse == MAP_FAILED) {
		t_subj_check(0, "setup", "allocation failed: %s", strerror(errno));
		t_subj_exit();
	}
	fill(small, SMALL, 1);
	fill(large, LARGE, 2);
	fill(stack_buf, sizeof(stack_buf), 3);
	fill(anon, ANON, 4);
	fill(ro, 3 * 4096, 5);
	fill(none, 2 * 4096, 6);
	/* Change every other page of the file mapping: the rest is the file's. */
	for (size_t pg = 0; pg < FILESZ / 4096; pg += 2)
		fill(fmap + pg * 4096, 4096, 100 + pg);
	sparse[5 * 4096] = 0x77;
	sparse[40 * 4096 + 1] = 0x88;
	mprotect(ro, 3 * 4096, PROT_READ);
	mprotect(none, 2 * 4096, PROT_NONE);

	t_subj_ready();
	t_subj_wait_go();

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	check_region("small malloc", small, SMALL, 1);
	check_region("large malloc", large, LARGE, 2);
	check_region("stack", stack_buf, sizeof(stack_buf), 3);
	check_region("anonymous mmap", anon, ANON, 4);
	check_region("read-only region contents", ro, 3 * 4096, 5);
	{
		size_t pg;
		long at = -1;

		for (pg = 0; pg < FILESZ / 4096 && at < 0; pg++) {
			/* odd pages hold the file's bytes: pattern 7 */
			at = bad_at(fmap + pg * 4096, 4096,
				    pg % 2 ? 7 : 100 + pg);
			if (pg % 2) {
				/* the file's bytes continue the file pattern */
				at = -1;
				for (size_t i = 0; i < 4096; i++)
					if (fmap[pg * 4096 + i] !=
					    pat(7, pg * 4096 + i)) {
						at = i;
						break;
					}
			}
		}
		t_subj_check(at < 0, "private file mapping: written and unwritten pages",
			     "page %zu byte %ld differs", pg - 1, at);
	}
	{
		int zero = 1;

		for (size_t i = 0; i < 64 * 4096; i++) {
			unsigned char want = i == 5 * 4096 ? 0x77 :
					     i == 40 * 4096 + 1 ? 0x88 : 0;

			if (sparse[i] != want) {
				zero = 0;
				break;
			}
		}
		t_subj_check(zero, "sparse mapping: touched bytes kept, the rest zero",
			     "differs");
	}
	t_subj_check(faults_on(ro, 1) && !faults_on(ro, 0),
		     "read-only region: readable, writes fault", "faults %d", faults);
	t_subj_check(faults_on(none, 0) && faults_on(none + 4096, 1),
		     "PROT_NONE region: reads and writes fault", "faults %d", faults);
	mprotect(none, 2 * 4096, PROT_READ);
	check_region("PROT_NONE region contents", none, 2 * 4096, 6);
	fill(large, LARGE, 9);
	check_region("large malloc writable after restart", large, LARGE, 9);
	{
		void *p = malloc(3 << 20);

		t_subj_check(p != NULL, "malloc after restart", "NULL");
		if (p)
			fill(p, 3 << 20, 10);
		free(p);
		free(small);
		small = malloc(SMALL);
		t_subj_check(small != NULL, "heap usable after restart", "NULL");
	}
}

int main(void)
{
	unsigned char *buf = malloc(FILESZ);
	int fd;

	fd = t_mkstemp(file_path, "mapped");
	if (fd < 0 || !buf)
		t_bail("file");
	for (size_t i = 0; i < FILESZ; i++)
		buf[i] = pat(7, i);
	if (ckpt_write_full(fd, buf, FILESZ))
		t_bail("write");
	close(fd);
	free(buf);
	t_subj_run("memory", mem_subject, NULL, 0);
	unlink(file_path);
	return t_done();
}
