// SPDX-License-Identifier: GPL-2.0
/*
 * A single task survives checkpoint, SIGKILL and restart(2): a counter keeps
 * counting, comm, umask and (as root) the pid are the same, general, x87,
 * SSE and AVX registers hold their values across the restart, and so do
 * TLS descriptors (set_thread_area) and a gs selector of one.  Each
 * subject verifies itself after the restart and reports through its
 * report file.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tlib.h"

/* The counter: checkpointed while counting, then counts on. */
static volatile uint64_t counter;

static void counter_subject(void *arg)
{
	uint64_t at_go;
	char c;

	(void)arg;
	t_subj_ready();
	/* Count until told to go; the checkpoint lands in here. */
	while (pread(T_SUBJ_CTL, &c, 1, T_SUBJ_GO_OFF) != 1)
		counter++;
	at_go = counter;
	t_subj_check(at_go > 1000, "counter kept its value", "counter %llu",
		     (unsigned long long)at_go);
	for (int i = 0; i < 1000; i++)
		counter++;
	t_subj_check(counter == at_go + 1000, "counter keeps counting",
		     "%llu, expected %llu", (unsigned long long)counter,
		     (unsigned long long)at_go + 1000);
}

static void test_counter(void)
{
	struct t_subject s;
	uint64_t before = 0, after = 0;
	char path[64];
	int fd;

	if (t_subj_start(&s, counter_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, "counter"))
		goto out;
	usleep(200000);
	if (!t_check(!t_subj_checkpoint(&s), "counter: checkpoint", "log %.300s",
		     s.log ? s.log : ""))
		goto out;
	t_subj_kill(&s);
	t_subj_restart(&s, 1);
	if (!t_check(!s.restart_err, "counter: restart", "%s; log %.300s",
		     t_errname(s.restart_err), s.log ? s.log : ""))
		goto out;
	/* The restored counter advances before the go. */
	snprintf(path, sizeof(path), "/proc/%d/mem", s.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pread(fd, &before, sizeof(before), (off_t)(uintptr_t)&counter);
		usleep(200000);
		pread(fd, &after, sizeof(after), (off_t)(uintptr_t)&counter);
		close(fd);
	}
	t_check(after > before && before > 0, "counter: counts on after restart, before go",
		"%llu then %llu", (unsigned long long)before,
		(unsigned long long)after);
	t_subj_finish(&s, "counter");
out:
	t_subj_cleanup(&s);
}

/* comm, umask, pid */

static pid_t orig_pid;

static void ident_subject(void *arg)
{
	char comm[32] = "";
	pid_t want = *(pid_t *)arg;
	mode_t m;

	prctl(PR_SET_NAME, "subj-ident");
	umask(0027);
	orig_pid = getpid();
	t_subj_ready();
	t_subj_wait_go();
	prctl(PR_GET_NAME, comm);
	t_subj_check(!strcmp(comm, "subj-ident"), "comm", "\"%s\"", comm);
	m = umask(0);
	t_subj_check(m == 0027, "umask", "0%o, expected 0027", m);
	if (want)
		t_subj_check(getpid() == orig_pid, "same pid", "%d, was %d",
			     getpid(), orig_pid);
	{
		char buf[64] = "";
		int fd = open("/proc/self/comm", O_RDONLY);

		if (fd >= 0) {
			read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		t_subj_check(!strcmp(buf, "subj-ident\n"), "/proc/self/comm",
			     "\"%s\"", buf);
	}
}

/* Registers: set in asm right before a wait loop in asm, read back after. */

struct regs_out {
	uint64_t gpr[5];	/* rbx, r12-r15 */
	uint8_t xmm[16][16];
	uint8_t ymm_hi[16][16];
	long double st[3];
	uint32_t mxcsr;
	uint16_t fcw;
};

static const uint64_t gpr_in[5] = {
	0x1111222233334444ULL, 0xdeadbeefcafef00dULL, 0x0123456789abcdefULL,
	0xfedcba9876543210ULL, 0x5a5a5a5aa5a5a5a5ULL,
};
static uint8_t xmm_in[16][16], ymm_in[16][32];
static const long double st_in[3] = { 3.14159265358979323846L, -2.5e300L, 1e-4000L };

static int has_avx(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_AVX) || !(c & bit_OSXSAVE))
		return 0;
	/* XCR0: the OS saves the YMM state. */
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return (a & 6) == 6;
}

/*
 * The wait loop of the register subjects: pread(T_SUBJ_CTL, buf, 1, T_SUBJ_GO_OFF)
 * and sched_yield() as raw system calls, which keep every register but
 * rax, rcx and r11.
 */
#define WAIT_LOOP							\
	"1:\n\t"							\
	"mov $24, %%eax\n\t"	/* sched_yield */			\
	"syscall\n\t"							\
	"mov $17, %%eax\n\t"	/* pread64 */				\
	"mov $3, %%edi\n\t"						\
	"lea 8(%%rsp), %%rsi\n\t"					\
	"mov $1, %%edx\n\t"						\
	"mov $4096, %%r10d\n\t"						\
	"syscall\n\t"							\
	"cmp $1, %%rax\n\t"						\
	"jne 1b\n\t"

static void sse_subject(void *arg)
{
	struct regs_out *o = calloc(1, sizeof(*o));
	uint16_t fcw_in = 0x037f ^ 0x0c00;	/* round toward zero */
	uint32_t mxcsr_in = 0x1f80 | 0x6000;	/* round toward zero */
	int avx = *(int *)arg, i;
	const char *reason = NULL;

	t_subj_ready();
	if (avx) {
		__asm__ volatile(
			"vmovdqu 0*32(%[y]), %%ymm0\n\t"
			"vmovdqu 1*32(%[y]), %%ymm1\n\t"
			"vmovdqu 2*32(%[y]), %%ymm2\n\t"
			"vmovdqu 3*32(%[y]), %%ymm3\n\t"
			"vmovdqu 4*32(%[y]), %%ymm4\n\t"
			"vmovdqu 5*32(%[y]), %%ymm5\n\t"
			"vmovdqu 6*32(%[y]), %%ymm6\n\t"
			"vmovdqu 7*32(%[y]), %%ymm7\n\t"
			"vmovdqu 8*32(%[y]), %%ymm8\n\t"
			"vmovdqu 9*32(%[y]), %%ymm9\n\t"
			"vmovdqu 10*32(%[y]), %%ymm10\n\t"
			"vmovdqu 11*32(%[y]), %%ymm11\n\t"
			"vmovdqu 12*32(%[y]), %%ymm12\n\t"
			"vmovdqu 13*32(%[y]), %%ymm13\n\t"
			"vmovdqu 14*32(%[y]), %%ymm14\n\t"
			"vmovdqu 15*32(%[y]), %%ymm15\n\t"
			"mov 0(%[g]), %%rbx\n\t"
			"mov 8(%[g]), %%r12\n\t"
			"mov 16(%[g]), %%r13\n\t"
			"mov 24(%[g]), %%r14\n\t"
			"mov 32(%[g]), %%r15\n\t"
			"push %[o]\n\t"
			"sub $128, %%rsp\n\t"
			WAIT_LOOP
			"add $128, %%rsp\n\t"
			"pop %[o]\n\t"
			"mov %%rbx, 0(%[o])\n\t"
			"mov %%r12, 8(%[o])\n\t"
			"mov %%r13, 16(%[o])\n\t"
			"mov %%r14, 24(%[o])\n\t"
			"mov %%r15, 32(%[o])\n\t"
			"vmovdqu %%xmm0, 40+0*16(%[o])\n\t"
			"vextracti128 $1, %%ymm0, 296+0*16(%[o])\n\t"
			"vmovdqu %%xmm1, 40+1*16(%[o])\n\t"
			"vextracti128 $1, %%ymm1, 296+1*16(%[o])\n\t"
			"vmovdqu %%xmm2, 40+2*16(%[o])\n\t"
			"vextracti128 $1, %%ymm2, 296+2*16(%[o])\n\t"
			"vmovdqu %%xmm3, 40+3*16(%[o])\n\t"
			"vextracti128 $1, %%ymm3, 296+3*16(%[o])\n\t"
			"vmovdqu %%xmm4, 40+4*16(%[o])\n\t"
			"vextracti128 $1, %%ymm4, 296+4*16(%[o])\n\t"
			"vmovdqu %%xmm5, 40+5*16(%[o])\n\t"
			"vextracti128 $1, %%ymm5, 296+5*16(%[o])\n\t"
			"vmovdqu %%xmm6, 40+6*16(%[o])\n\t"
			"vextracti128 $1, %%ymm6, 296+6*16(%[o])\n\t"
			"vmovdqu %%xmm7, 40+7*16(%[o])\n\t"
			"vextracti128 $1, %%ymm7, 296+7*16(%[o])\n\t"
			"vmovdqu %%xmm8, 40+8*16(%[o])\n\t"
			"vextracti128 $1, %%ymm8, 296+8*16(%[o])\n\t"
			"vmovdqu %%xmm9, 40+9*16(%[o])\n\t"
			"vextracti128 $1, %%ymm9, 296+9*16(%[o])\n\t"
			"vmovdqu %%xmm10, 40+10*16(%[o])\n\t"
			"vextracti128 $1, %%ymm10, 296+10*16(%[o])\n\t"
			"vmovdqu %%xmm11, 40+11*16(%[o])\n\t"
			"vextracti128 $1, %%ymm11, 296+11*16(%[o])\n\t"
			"vmovdqu %%xmm12, 40+12*16(%[o])\n\t"
			"vextracti128 $1, %%ymm12, 296+12*16(%[o])\n\t"
			"vmovdqu %%xmm13, 40+13*16(%[o])\n\t"
			"vextracti128 $1, %%ymm13, 296+13*16(%[o])\n\t"
			"vmovdqu %%xmm14, 40+14*16(%[o])\n\t"
			"vextracti128 $1, %%ymm14, 296+14*16(%[o])\n\t"
			"vmovdqu %%xmm15, 40+15*16(%[o])\n\t"
			"vextracti128 $1, %%ymm15, 296+15*16(%[o])\n\t"
			"vzeroupper\n\t"
			: [o] "+r"(o)
			: [y] "r"(ymm_in), [g] "r"(gpr_in)
			: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r10", "r11",
			  "r12", "r13", "r14", "r15", "memory", "cc",
			  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
			  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
			  "xmm13", "xmm14", "xmm15");
	} else {
		__asm__ volatile(
			"movdqu 0*16(%[x]), %%xmm0\n\t"
			"movdqu 1*16(%[x]), %%xmm1\n\t"
			"movdqu 2*16(%[x]), %%xmm2\n\t"
			"movdqu 3*16(%[x]), %%xmm3\n\t"
			"movdqu 4*16(%[x]), %%xmm4\n\t"
			"movdqu 5*16(%[x]), %%xmm5\n\t"
			"movdqu 6*16(%[x]), %%xmm6\n\t"
			"movdqu 7*16(%[x]), %%xmm7\n\t"
			"movdqu 8*16(%[x]), %%xmm8\n\t"
			"movdqu 9*16(%[x]), %%xmm9\n\t"
			"movdqu 10*16(%[x]), %%xmm10\n\t"
			"movdqu 11*16(%[x]), %%xmm11\n\t"
			"movdqu 12*16(%[x]), %%xmm12\n\t"
			"movdqu 13*16(%[x]), %%xmm13\n\t"
			"movdqu 14*16(%[x]), %%xmm14\n\t"
			"movdqu 15*16(%[x]), %%xmm15\n\t"
			"mov 0(%[g]), %%rbx\n\t"
			"mov 8(%[g]), %%r12\n\t"
			"mov 16(%[g]), %%r13\n\t"
			"mov 24(%[g]), %%r14\n\t"
			"mov 32(%[g]), %%r15\n\t"
			"push %[o]\n\t"
			"sub $128, %%rsp\n\t"
			WAIT_LOOP
			"add $128, %%rsp\n\t"
			"pop %[o]\n\t"
			"mov %%rbx, 0(%[o])\n\t"
			"mov %%r12, 8(%[o])\n\t"
			"mov %%r13, 16(%[o])\n\t"
			"mov %%r14, 24(%[o])\n\t"
			"mov %%r15, 32(%[o])\n\t"
			"movdqu %%xmm0, 40+0*16(%[o])\n\t"
			"movdqu %%xmm1, 40+1*16(%[o])\n\t"
			"movdqu %%xmm2, 40+2*16(%[o])\n\t"
			"movdqu %%xmm3, 40+3*16(%[o])\n\t"
			"movdqu %%xmm4, 40+4*16(%[o])\n\t"
			"movdqu %%xmm5, 40+5*16(%[o])\n\t"
			"movdqu %%xmm6, 40+6*16(%[o])\n\t"
			"movdqu %%xmm7, 40+7*16(%[o])\n\t"
			"movdqu %%xmm8, 40+8*16(%[o])\n\t"
			"movdqu %%xmm9, 40+9*16(%[o])\n\t"
			"movdqu %%xmm10, 40+10*16(%[o])\n\t"
			"movdqu %%xmm11, 40+11*16(%[o])\n\t"
			"movdqu %%xmm12, 40+12*16(%[o])\n\t"
			"movdqu %%xmm13, 40+13*16(%[o])\n\t"
			"movdqu %%xmm14, 40+14*16(%[o])\n\t"
			"movdqu %%xmm15, 40+15*16(%[o])\n\t"
			: [o] "+r"(o)
			: [x] "r"(xmm_in), [g] "r"(gpr_in)
			: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r10", "r11",
			  "r12", "r13", "r14", "r15", "memory", "cc",
			  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
			  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
			  "xmm13", "xmm14", "xmm15");
	}

	for (i = 0; i < 5; i++)
		if (o->gpr[i] != gpr_in[i] && !reason)
			reason = "a general register changed";
	t_subj_check(!reason, "rbx, r12-r15 kept", "%s: rbx %#llx r12 %#llx r15 %#llx",
		     reason ? reason : "", (unsigned long long)o->gpr[0],
		     (unsigned long long)o->gpr[1], (unsigned long long)o->gpr[4]);
	for (i = 0; i < 16; i++)
		if (memcmp(o->xmm[i], avx ? ymm_in[i] : xmm_in[i], 16))
			break;
	t_subj_check(i == 16, "xmm0-15 kept", "xmm%d differs (%02x%02x.. expected %02x%02x..)",
		     i, i < 16 ? o->xmm[i][0] : 0, i < 16 ? o->xmm[i][1] : 0,
		     i < 16 ? (avx ? ymm_in[i][0] : xmm_in[i][0]) : 0,
		     i < 16 ? (avx ? ymm_in[i][1] : xmm_in[i][1]) : 0);
	if (avx) {
		for (i = 0; i < 16; i++)
			if (memcmp(o->ymm_hi[i], ymm_in[i] + 16, 16))
				break;
		t_subj_check(i == 16, "ymm0-15 upper halves kept", "ymm%d differs", i);
	}
	(void)fcw_in;
	(void)mxcsr_in;
}

/* The 80 bits of an x87 value in hex, sign and exponent first. */
static const char *x87_hex(const long double *v, char *buf)
{
	const uint8_t *b = (const uint8_t *)v;
	int i;

	for (i = 0; i < 10; i++)
		sprintf(buf + 2 * i, "%02x", b[9 - i]);
	return buf;
}

/* x87 stack and control words, MXCSR: kept across the same kind of loop. */
static void x87_subject(void *arg)
{
	struct regs_out *o = calloc(1, sizeof(*o));
	uint16_t fcw_in = 0x037f | 0x0c00;	/* round toward zero */
	uint32_t mxcsr_in = 0x1f80 | 0x6000;	/* round toward zero */
	const uint32_t mxcsr_default = 0x1f80;
	char got[24], want[24];
	int i;

	(void)arg;
	t_subj_ready();
	__asm__ volatile(
		"fninit\n\t"
		"fldcw %[fcw]\n\t"
		"ldmxcsr %[mx]\n\t"
		"fldt 32(%[s])\n\t"
		"fldt 16(%[s])\n\t"
		"fldt 0(%[s])\n\t"
		"push %[o]\n\t"
		"sub $128, %%rsp\n\t"
		WAIT_LOOP
		"add $128, %%rsp\n\t"
		"pop %[o]\n\t"
		"fnstcw 612(%[o])\n\t"
		"stmxcsr 608(%[o])\n\t"
		"fstpt 560(%[o])\n\t"
		"fstpt 576(%[o])\n\t"
		"fstpt 592(%[o])\n\t"
		: [o] "+r"(o)
		: [s] "r"(st_in), [fcw] "m"(fcw_in), [mx] "m"(mxcsr_in)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "memory",
		  "cc", "st", "st(1)", "st(2)");
	/*
	 * Back to the default rounding before any C code: the checks below
	 * must not run with round-toward-zero.  The compiler turns the
	 * constant st_in[0] (pi) into fldpi, whose result follows the
	 * rounding control (...c234 instead of ...c235 toward zero, on
	 * hardware and in QEMU alike), and printf rounds its digits that way
	 * too (-2.5e300 printed as -2.49999e+300).  Compare the raw 80-bit
	 * values instead of with ==, and show their bits.
	 */
	__asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(mxcsr_default) : "memory");
	for (i = 0; i < 3; i++)
		if (memcmp(&o->st[i], &st_in[i], 10))
			break;
	t_subj_check(i == 3, "x87 stack kept", "st%d %s, expected %s", i,
		     i < 3 ? x87_hex(&o->st[i], got) : "",
		     i < 3 ? x87_hex(&st_in[i], want) : "");
	t_subj_check(o->fcw == fcw_in, "x87 control word kept", "%#x, expected %#x",
		     o->fcw, fcw_in);
	t_subj_check(o->mxcsr == mxcsr_in, "MXCSR kept", "%#x, expected %#x",
		     o->mxcsr, mxcsr_in);
}

/*
 * Two TLS descriptors: one loaded into gs over a page below 4 GiB (read
 * through %gs after the restart), one only in the table.
 */
static int tls_same(const struct user_desc *a, const struct user_desc *b)
{
	return a->entry_number == b->entry_number &&
	       a->base_addr == b->base_addr && a->limit == b->limit &&
	       a->seg_32bit == b->seg_32bit && a->contents == b->contents &&
	       a->read_exec_only == b->read_exec_only &&
	       a->limit_in_pages == b->limit_in_pages &&
	       a->seg_not_present == b->seg_not_present &&
	       a->useable == b->useable;
}

/*
 * set_thread_area(2) and get_thread_area(2) of the i386 ABI, which a 64-bit
 * task reaches through int $0x80 (its own table has no entry for them):
 * @u must be below 4 GiB.
 */
static long int80_thread_area(int set, struct user_desc *u)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(set ? 243L : 244L), "b"(u)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void tls_subject(void *arg)
{
	static const struct user_desc init[2] = {
		{ .entry_number = -1, .limit = 0xfff, .seg_32bit = 1,
		  .useable = 1 },
		{ .entry_number = -1, .base_addr = 0x12345000, .limit = 0xff,
		  .seg_32bit = 1, .limit_in_pages = 1, .read_exec_only = 1 },
	};
	uint32_t *area, v0 = 0, v1 = 0;
	struct user_desc *d, *got;
	unsigned long base = 0;
	uint16_t sel, now = 0;
	long ret;
	int i;

	(void)arg;
	area = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (area == MAP_FAILED) {
		t_subj_check(0, "mmap below 4 GiB", "%s", strerror(errno));
		return;
	}
	area[0] = 0x7e57c0de;
	area[1] = 42;
	d = (struct user_desc *)(area + 256);
	got = d + 2;
	memcpy(d, init, sizeof(init));
	d[0].base_addr = (uint32_t)(uintptr_t)area;
	for (i = 0; i < 2; i++) {
		ret = int80_thread_area(1, &d[i]);
		if (ret) {
			t_subj_check(0, "set_thread_area", "%s", strerror(-ret));
			return;
		}
	}
	sel = (d[0].entry_number << 3) | 3;
	__asm__ volatile("mov %0, %%gs" : : "r"(sel));
	t_subj_ready();
	t_subj_wait_go();
	__asm__ volatile("mov %%gs, %0\n\t"
			 "movl %%gs:0, %1\n\t"
			 "movl %%gs:4, %2"
			 : "=r"(now), "=r"(v0), "=r"(v1));
	t_subj_check(now == sel, "gs selector kept", "%#x, expected %#x", now, sel);
	t_subj_check(v0 == 0x7e57c0de && v1 == 42, "memory read through gs",
		     "%#x %u", v0, v1);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
	t_subj_check(base == (uintptr_t)area, "gs base is the descriptor's",
		     "%#lx, expected %p", base, (void *)area);
	for (i = 0; i < 2; i++) {
		memset(got, 0, sizeof(*got));
		got->entry_number = d[i].entry_number;
		t_subj_check(!int80_thread_area(0, got) && tls_same(got, &d[i]),
			     i ? "unused descriptor kept" : "gs descriptor kept",
			     "entry %u base %#x limit %#x", got->entry_number,
			     got->base_addr, got->limit);
	}
}

/*
 * An image whose task record asks for SIGUSR1 as exit signal: the parent
 * chose SIGCHLD when it made the restarting child, and gets SIGCHLD.
 */
static volatile sig_atomic_t got_usr1, got_chld;

static void note_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_chld = 1;
}

static void exit_signal_subject(void *arg)
{
	(void)arg;
	t_subj_ready();
	t_subj_wait_go();
	t_subj_check(getppid() > 1, "restored under the restarting test",
		     "parent %d", (int)getppid());
}

static void test_exit_signal(void)
{
	struct sigaction sa = { .sa_handler = note_signal }, old_usr1, old_chld;
	struct ckpt_hdr_task *t;
	struct t_subject s;
	struct t_edit e;
	char path[4200];
	int ok;

	if (t_subj_start(&s, exit_signal_subject, NULL))
		t_bail("subject");
	if (t_subj_wait_ready(&s, "exit signal"))
		goto out;
	if (!t_check(!t_subj_checkpoint(&s), "exit signal: checkpoint",
		     "log %.300s", s.log ? s.log : ""))
		goto out;
	t_subj_kill(&s);
	snprintf(path, sizeof(path), "%s.usr1", s.img_path);
	ok = !t_edit_load(&e, s.img_path) &&
	     (t = t_edit_find(&e, CKPT_HDR_TASK, NULL)) &&
	     (t->exit_signal = SIGUSR1) && !t_edit_save(&e, path) &&
	     !rename(path, s.img_path);
	t_edit_free(&e);
	if (!t_check(ok, "exit signal: image asking for SIGUSR1", "%s",
		     strerror(errno)))
		goto out;
	sigaction(SIGUSR1, &sa, &old_usr1);
	sigaction(SIGCHLD, &sa, &old_chld);
	t_subj_restart(&s, 0);
	if (t_check(!s.restart_err, "exit signal: restart", "%s; log %.300s",
		    t_errname(s.restart_err), s.log ? s.log : "")) {
		t_subj_finish(&s, "exit signal");
		t_check(!got_usr1 && got_chld,
			"exit signal: the parent gets SIGCHLD, not the image's SIGUSR1",
			"SIGUSR1 %d SIGCHLD %d", got_usr1, got_chld);
	}
	sigaction(SIGUSR1, &old_usr1, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
out:
	t_subj_cleanup(&s);
}

int main(void)
{
	pid_t same = getuid() == 0;
	int avx = has_avx(), zero = 0, i, j;

	_Static_assert(__builtin_offsetof(struct regs_out, xmm) == 40, "layout");
	_Static_assert(__builtin_offsetof(struct regs_out, ymm_hi) == 296, "layout");
	_Static_assert(__builtin_offsetof(struct regs_out, st) == 560, "layout");
	_Static_assert(__builtin_offsetof(struct regs_out, mxcsr) == 608, "layout");
	_Static_assert(__builtin_offsetof(struct regs_out, fcw) == 612, "layout");
	for (i = 0; i < 16; i++)
		for (j = 0; j < 32; j++) {
			if (j < 16)
				xmm_in[i][j] = 0x10 * i + j + 1;
			ymm_in[i][j] = 0xa0 ^ (7 * i + 3 * j + 1);
		}

	test_counter();
	t_subj_run("identity", ident_subject, &same, same);
	t_subj_run("sse", sse_subject, &zero, 0);
	if (avx)
		t_subj_run("avx", sse_subject, &avx, 0);
	else
		t_skip("avx", "the CPU or kernel has no AVX");
	t_subj_run("x87", x87_subject, NULL, 0);
	t_subj_run("tls", tls_subject, NULL, 0);
	test_exit_signal();
	return t_done();
}
