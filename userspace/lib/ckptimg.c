// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and describing checkpoint images.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckptimg.h"

#include <linux/capability.h>
#include <linux/securebits.h>

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

#ifdef CKPT_COMM_LEN	/* the task records of <linux/checkpoint_hdr.h> */

static int reserved_zero(struct ckpt_err *err, size_t off, uint32_t v,
			 const char *rec)
{
	if (v)
		return fail(err, off, EBADMSG, "%s: reserved field is 0x%x, not 0",
			    rec, v);
	return 0;
}

static void print_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "  %-12s %llu\n", name, (unsigned long long)v);
}

static void print_x64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "  %-12s 0x%llx\n", name, (unsigned long long)v);
}

static const char *const sig_names[] = {
	[1] = "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
	"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
	"SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
	"SIGSYS",
};

const char *ckpt_signal_name(int sig)
{
	if (sig > 0 && (size_t)sig < sizeof(sig_names) / sizeof(sig_names[0]))
		return sig_names[sig];
	return NULL;
}

/* A signal set, bit n-1 for signal n: "0x... (SIGUSR1 SIGRTMIN+2)". */
static void print_sigset(FILE *f, const char *name, uint64_t set)
{
	int sig;

	fprintf(f, "  %-12s 0x%016llx", name, (unsigned long long)set);
	if (set) {
		const char *sep = " (";

		for (sig = 1; sig <= 64; sig++) {
			if (!(set & (1ULL << (sig - 1))))
				continue;
			if (ckpt_signal_name(sig))
				fprintf(f, "%s%s", sep, ckpt_signal_name(sig));
			else
				fprintf(f, "%s%d", sep, sig);
			sep = " ";
		}
		fputc(')', f);
	}
	fputc('\n', f);
}

/* CKPT_HDR_TASK */

static int task_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_task *t = rec->data;

	if (!has_nul(t->comm, sizeof(t->comm)))
		return fail(err, offsetof(struct ckpt_hdr_task, comm), EBADMSG,
			    "task: comm is not NUL terminated");
	if (t->pid <= 0)
		return fail(err, offsetof(struct ckpt_hdr_task, pid), EBADMSG,
			    "task: pid %d", t->pid);
	if (t->tgid <= 0)
		return fail(err, offsetof(struct ckpt_hdr_task, tgid), EBADMSG,
			    "task: tgid %d", t->tgid);
	if (reserved_zero(err, offsetof(struct ckpt_hdr_task, reserved),
			  t->reserved, "task"))
		return -1;
	return 0;
}

static void task_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_task *t = rec->data;

	print_str(f, "comm", t->comm, sizeof(t->comm));
	fprintf(f, "  %-12s %d\n", "pid", t->pid);
	fprintf(f, "  %-12s %d\n", "tgid", t->tgid);
	fprintf(f, "  %-12s 0x%x\n", "personality", t->personality);
	fprintf(f, "  %-12s %u\n", "exit_signal", t->exit_signal);
	fprintf(f, "  %-12s %u\n", "pdeath_signal", t->pdeath_signal);
	print_x64(f, "set_child_tid", t->set_child_tid);
	print_x64(f, "clear_child_tid", t->clear_child_tid);
	print_x64(f, "robust_list", t->robust_list);
	print_u64(f, "robust_list_len", t->robust_list_len);
	print_x64(f, "rseq", t->rseq);
	fprintf(f, "  %-12s %u\n", "rseq_len", t->rseq_len);
	fprintf(f, "  %-12s 0x%08x\n", "rseq_sig", t->rseq_sig);
}

/* CKPT_HDR_CPU */

/* GDT index of the first TLS descriptor of x86-64 */
#define CKPT_X86_TLS_MIN 12

static int cpu_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_cpu *c = rec->data;
	unsigned int i;

	if (reserved_zero(err, offsetof(struct ckpt_hdr_cpu, reserved),
			  c->reserved, "cpu"))
		return -1;
	if (c->xstate_size != rec->len - sizeof(*c))
		return fail(err, offsetof(struct ckpt_hdr_cpu, xstate_size),
			    EBADMSG, "cpu: xstate_size %u, the record holds %zu",
			    c->xstate_size, (size_t)(rec->len - sizeof(*c)));
	for (i = 0; i < CKPT_X86_TLS_ENTRIES; i++)
		if (c->tls[i].entry_number != CKPT_X86_TLS_MIN + i)
			return fail(err, offsetof(struct ckpt_hdr_cpu, tls[i]),
				    EBADMSG, "cpu: TLS descriptor %d has entry number %u",
				    i, c->tls[i].entry_number);
	return 0;
}

static void cpu_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_cpu *c = rec->data;
	const struct ckpt_x86_regs *r = &c->regs;
	const struct { const char *name; uint64_t v; } regs[] = {
		{ "ip", r->ip }, { "sp", r->sp }, { "flags", r->flags },
		{ "ax", r->ax }, { "orig_ax", r->orig_ax }, { "bx", r->bx },
		{ "cx", r->cx }, { "dx", r->dx }, { "si", r->si },
		{ "di", r->di }, { "bp", r->bp }, { "r8", r->r8 },
		{ "r9", r->r9 }, { "r10", r->r10 }, { "r11", r->r11 },
		{ "r12", r->r12 }, { "r13", r->r13 }, { "r14", r->r14 },
		{ "r15", r->r15 }, { "cs", r->cs }, { "ss", r->ss },
		{ "ds", r->ds }, { "es", r->es }, { "fs", r->fs },
		{ "gs", r->gs }, { "fs_base", r->fs_base },
		{ "gs_base", r->gs_base },
	};
	size_t i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		fprintf(f, "  %-12s 0x%016llx\n", regs[i].name,
			(unsigned long long)regs[i].v);
	for (i = 0; i < CKPT_X86_TLS_ENTRIES; i++) {
		const struct user_desc *d = &c->tls[i];

		/* an empty descriptor, as get_thread_area(2) shows it */
		if (!d->base_addr && !d->limit && !d->contents &&
		    d->read_exec_only && !d->seg_32bit &&
		    !d->limit_in_pages && d->seg_not_present && !d->useable)
			continue;
		fprintf(f, "  tls %-8u base 0x%08x limit 0x%05x%s%s%s%s%s type %u\n",
			d->entry_number, d->base_addr, d->limit,
			d->seg_32bit ? " 32bit" : "",
			d->limit_in_pages ? " pages" : "",
			d->read_exec_only ? " ro" : "",
			d->seg_not_present ? " not-present" : "",
			d->useable ? " avl" : "", d->contents);
	}
	print_x64(f, "xfeatures", c->xfeatures);
	fprintf(f, "  %-12s %u\n", "xstate_size", c->xstate_size);
}

/* CKPT_HDR_MM */

static int mm_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_mm *m = rec->data;

	if (reserved_zero(err, offsetof(struct ckpt_hdr_mm, reserved),
			  m->reserved, "mm"))
		return -1;
	if (!has_nul(m->exe_path, rec->len - sizeof(*m)))
		return fail(err, sizeof(*m), EBADMSG,
			    "mm: exe_path is not NUL terminated");
	return 0;
}

static void mm_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_mm *m = rec->data;
	int n;

	print_x64(f, "start_code", m->start_code);
	print_x64(f, "end_code", m->end_code);
	print_x64(f, "start_data", m->start_data);
	print_x64(f, "end_data", m->end_data);
	print_x64(f, "start_brk", m->start_brk);
	print_x64(f, "brk", m->brk);
	print_x64(f, "start_stack", m->start_stack);
	print_x64(f, "arg_start", m->arg_start);
	print_x64(f, "arg_end", m->arg_end);
	print_x64(f, "env_start", m->env_start);
	print_x64(f, "env_end", m->env_end);
	print_x64(f, "vdso", m->vdso);
	fprintf(f, "  %-12s %u\n", "nr_vmas", m->nr_vmas);
	for (n = 0; n + 1 < CKPT_AUXV_WORDS && m->saved_auxv[n]; n += 2)
		;
	fprintf(f, "  %-12s %d entries\n", "saved_auxv", n / 2);
	print_str(f, "exe_path", m->exe_path, rec->len - sizeof(*m));
}

/* CKPT_HDR_VMA */

#define CKPT_VMA_FLAGS	(CKPT_VMA_SHARED | CKPT_VMA_GROWSDOWN | \
			 CKPT_VMA_DONTFORK | CKPT_VMA_DONTDUMP | \
			 CKPT_VMA_WIPEONFORK | CKPT_VMA_MAYWRITE)
#define CKPT_PROT_MASK	0x7	/* PROT_READ | PROT_WRITE | PROT_EXEC */

static const char *const vma_kinds[] = {
	[CKPT_VMA_ANON] = "anon", [CKPT_VMA_FILE] = "file",
	[CKPT_VMA_VDSO] = "vdso", [CKPT_VMA_SHMEM] = "shmem",
};

static const char *kind_name(const char *const *names, size_t n, uint32_t k)
{
	return k < n && names[k] ? names[k] : "unknown";
}

static int vma_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_vma *v = rec->data;
	uint64_t page = rec->page_shift ? 1ULL << rec->page_shift : 4096;
	size_t pathlen = rec->len - sizeof(*v);

	if ((v->start & (page - 1)) || (v->end & (page - 1)) ||
	    v->start >= v->end)
		return fail(err, offsetof(struct ckpt_hdr_vma, start), EBADMSG,
			    "vma: bad range 0x%llx-0x%llx",
			    (unsigned long long)v->start,
			    (unsigned long long)v->end);
	if (v->prot & ~CKPT_PROT_MASK)
		return fail(err, offsetof(struct ckpt_hdr_vma, prot), EBADMSG,
			    "vma: unknown prot 0x%x", v->prot);
	if (v->flags & ~CKPT_VMA_FLAGS)
		return fail(err, offsetof(struct ckpt_hdr_vma, flags), EBADMSG,
			    "vma: unknown flags 0x%x", v->flags);
	if (v->kind < CKPT_VMA_ANON || v->kind > CKPT_VMA_SHMEM)
		return fail(err, offsetof(struct ckpt_hdr_vma, kind), EBADMSG,
			    "vma: unknown kind %u", v->kind);
	if ((v->kind == CKPT_VMA_ANON && (v->flags & CKPT_VMA_SHARED)) ||
	    (v->kind == CKPT_VMA_SHMEM && !(v->flags & CKPT_VMA_SHARED)))
		return fail(err, offsetof(struct ckpt_hdr_vma, flags), EBADMSG,
			    "vma: flags 0x%x for a mapping of kind %u",
			    v->flags, v->kind);
	if ((v->kind == CKPT_VMA_ANON || v->kind == CKPT_VMA_VDSO) && v->pgoff)
		return fail(err, offsetof(struct ckpt_hdr_vma, pgoff), EBADMSG,
			    "vma: file offset %llu for a mapping of kind %u",
			    (unsigned long long)v->pgoff, v->kind);
	if (v->kind == CKPT_VMA_SHMEM ? v->obj <= 0 : v->obj != 0)
		return fail(err, offsetof(struct ckpt_hdr_vma, obj), EBADMSG,
			    "vma: object tag %d for a mapping of kind %u",
			    v->obj, v->kind);
	if (v->kind == CKPT_VMA_FILE && (!pathlen || !v->path[0] ||
					 !has_nul(v->path, pathlen)))
		return fail(err, sizeof(*v), EBADMSG,
			    "vma: file mapping without a NUL-terminated path");
	if (v->kind != CKPT_VMA_FILE && pathlen && !has_nul(v->path, pathlen))
		return fail(err, sizeof(*v), EBADMSG,
			    "vma: path is not NUL terminated");
	return 0;
}

static void print_prot(FILE *f, uint32_t prot)
{
	fprintf(f, "  %-12s 0x%x (%c%c%c)\n", "prot", prot,
		prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-');
}

static void print_flags(FILE *f, const char *name, uint32_t flags,
			const char *const *names, size_t n)
{
	const char *sep = " (";
	size_t i;

	fprintf(f, "  %-12s 0x%x", name, flags);
	for (i = 0; i < n; i++) {
		if (!(flags & (1U << i)) || !names[i])
			continue;
		fprintf(f, "%s%s", sep, names[i]);
		sep = " ";
	}
	if (!sep[1])	/* a name was printed */
		fputc(')', f);
	fputc('\n', f);
}

static void vma_print(FILE *f, const struct ckpt_record *rec)
{
	static const char *const flag_names[] = {
		"SHARED", "GROWSDOWN", "DONTFORK", "DONTDUMP", "WIPEONFORK",
		"MAYWRITE",
	};
	const struct ckpt_hdr_vma *v = rec->data;

	fprintf(f, "  %-12s 0x%llx-0x%llx (%llu KiB)\n", "range",
		(unsigned long long)v->start, (unsigned long long)v->end,
		(unsigned long long)(v->end - v->start) >> 10);
	fprintf(f, "  %-12s %u (%s)\n", "kind", v->kind,
		kind_name(vma_kinds, sizeof(vma_kinds) / sizeof(vma_kinds[0]),
			  v->kind));
	print_prot(f, v->prot);
	print_flags(f, "flags", v->flags, flag_names,
		    sizeof(flag_names) / sizeof(flag_names[0]));
	print_u64(f, "pgoff", v->pgoff);
	if (v->obj)
		fprintf(f, "  %-12s %d\n", "object", v->obj);
	if (rec->len > sizeof(*v))
		print_str(f, "path", v->path, rec->len - sizeof(*v));
}

/* CKPT_HDR_PAGES: the record is read whole but only its header kept */

static int pages_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_pages *p = rec->data;
	unsigned int shift = rec->page_shift ? rec->page_shift : 12;
	uint64_t page = 1ULL << shift;

	if (p->addr & (page - 1))
		return fail(err, offsetof(struct ckpt_hdr_pages, addr), EBADMSG,
			    "pages: address 0x%llx not page aligned",
			    (unsigned long long)p->addr);
	if (!p->nr_pages || p->nr_pages > (UINT32_MAX >> shift) ||
	    rec->len != sizeof(*p) + (p->nr_pages << shift))
		return fail(err, offsetof(struct ckpt_hdr_pages, nr_pages),
			    EBADMSG, "pages: %llu pages in a record of %u bytes",
			    (unsigned long long)p->nr_pages, rec->len);
	return 0;
}

static void pages_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_pages *p = rec->data;

	print_x64(f, "addr", p->addr);
	print_u64(f, "nr_pages", p->nr_pages);
}

/* CKPT_HDR_FILES */

static int files_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_files *fl = rec->data;

	return reserved_zero(err, offsetof(struct ckpt_hdr_files, reserved),
			     fl->reserved, "files");
}

static void files_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_files *fl = rec->data;

	fprintf(f, "  %-12s %u\n", "nr_fds", fl->nr_fds);
}

/* CKPT_HDR_FILE */

static const char *const file_kinds[] = {
	[CKPT_FILE_REG] = "reg", [CKPT_FILE_DIR] = "dir",
	[CKPT_FILE_CHR] = "chr", [CKPT_FILE_PIPE] = "pipe",
	[CKPT_FILE_FIFO] = "fifo", [CKPT_FILE_UNLINKED] = "unlinked",
	[CKPT_FILE_TTY] = "tty",
};

#define CKPT_FILE_LAST	CKPT_FILE_TTY
/* Kinds of file whose record names another by its object tag. */
#define HAS_OBJECT(kind) ((kind) == CKPT_FILE_PIPE || \
			  (kind) == CKPT_FILE_FIFO || \
			  (kind) == CKPT_FILE_UNLINKED)

/* The open flags a file record may carry (x86-64 values). */
#define CKPT_O_ACCMODE	00000003
#define CKPT_O_APPEND	00002000
#define CKPT_O_NONBLOCK	00004000
#define CKPT_O_DSYNC	00010000
#define CKPT_O_DIRECT	00040000
#define CKPT_O_NOATIME	01000000
#define CKPT_O_SYNC	04010000	/* __O_SYNC | O_DSYNC */
#define CKPT_O_LARGEFILE 00100000
#define CKPT_FILE_FLAGS	(CKPT_O_ACCMODE | CKPT_O_APPEND | CKPT_O_NONBLOCK | \
			 CKPT_O_DSYNC | CKPT_O_DIRECT | CKPT_O_NOATIME | \
			 CKPT_O_SYNC | CKPT_O_LARGEFILE)

static int file_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_file *fi = rec->data;
	size_t pathlen = rec->len - sizeof(*fi);

	if (fi->tag <= 0)
		return fail(err, offsetof(struct ckpt_hdr_file, tag), EBADMSG,
			    "file: tag %d", fi->tag);
	if (fi->kind < CKPT_FILE_REG || fi->kind > CKPT_FILE_LAST)
		return fail(err, offsetof(struct ckpt_hdr_file, kind), EBADMSG,
			    "file: unknown kind %u", fi->kind);
	if ((fi->flags & ~CKPT_FILE_FLAGS) ||
	    (fi->flags & CKPT_O_ACCMODE) == CKPT_O_ACCMODE)
		return fail(err, offsetof(struct ckpt_hdr_file, flags), EBADMSG,
			    "file: bad flags 0%o", fi->flags);
	if (HAS_OBJECT(fi->kind) != (fi->object != 0))
		return fail(err, offsetof(struct ckpt_hdr_file, object), EBADMSG,
			    "file: object %d for a file of kind %u", fi->object,
			    fi->kind);
	if (fi->pos < 0)
		return fail(err, offsetof(struct ckpt_hdr_file, pos), EBADMSG,
			    "file: negative position %lld", (long long)fi->pos);
	if (fi->kind == CKPT_FILE_PIPE ? !has_nul(fi->path, pathlen) :
	    (!pathlen || fi->path[0] != '/' || !has_nul(fi->path, pathlen)))
		return fail(err, sizeof(*fi), EBADMSG,
			    "file: path is not absolute and NUL terminated");
	return 0;
}

static void file_print(FILE *f, const struct ckpt_record *rec)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "?" };
	const struct ckpt_hdr_file *fi = rec->data;
	uint32_t fl = fi->flags;

	fprintf(f, "  %-12s %d\n", "tag", fi->tag);
	fprintf(f, "  %-12s %u (%s)\n", "kind", fi->kind,
		kind_name(file_kinds, sizeof(file_kinds) / sizeof(file_kinds[0]),
			  fi->kind));
	fprintf(f, "  %-12s 0%o (%s", "flags", fl, acc[fl & CKPT_O_ACCMODE]);
	if (fl & CKPT_O_APPEND)
		fputs("|O_APPEND", f);
	if (fl & CKPT_O_NONBLOCK)
		fputs("|O_NONBLOCK", f);
	if ((fl & CKPT_O_SYNC) == CKPT_O_SYNC)
		fputs("|O_SYNC", f);
	else if (fl & CKPT_O_DSYNC)
		fputs("|O_DSYNC", f);
	if (fl & CKPT_O_DIRECT)
		fputs("|O_DIRECT", f);
	if (fl & CKPT_O_NOATIME)
		fputs("|O_NOATIME", f);
	if (fl & CKPT_O_LARGEFILE)
		fputs("|O_LARGEFILE", f);
	fputs(")\n", f);
	if (fi->object)
		fprintf(f, "  %-12s %d\n", "object", fi->object);
	fprintf(f, "  %-12s %lld\n", "pos", (long long)fi->pos);
	print_str(f, "path", fi->path, rec->len - sizeof(*fi));
}

/* CKPT_HDR_FD */

static int fd_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_fd *d = rec->data;

	if (d->fd < 0)
		return fail(err, offsetof(struct ckpt_hdr_fd, fd), EBADMSG,
			    "fd: descriptor %d", d->fd);
	if (d->flags & ~CKPT_FD_CLOEXEC)
		return fail(err, offsetof(struct ckpt_hdr_fd, flags), EBADMSG,
			    "fd: unknown flags 0x%x", d->flags);
	if (d->file <= 0)
		return fail(err, offsetof(struct ckpt_hdr_fd, file), EBADMSG,
			    "fd: file tag %d", d->file);
	return reserved_zero(err, offsetof(struct ckpt_hdr_fd, reserved),
			     d->reserved, "fd");
}

static void fd_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_fd *d = rec->data;

	fprintf(f, "  %-12s %d\n", "fd", d->fd);
	fprintf(f, "  %-12s 0x%x%s\n", "flags", d->flags,
		d->flags & CKPT_FD_CLOEXEC ? " (CLOEXEC)" : "");
	fprintf(f, "  %-12s %d\n", "file", d->file);
}

/* CKPT_HDR_SIGNALS */

static int signals_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_signals *s = rec->data;

	if (s->blocked & ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1))))
		return fail(err, offsetof(struct ckpt_hdr_signals, blocked),
			    EBADMSG, "signals: SIGKILL or SIGSTOP blocked");
	return 0;
}

static void signals_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_signals *s = rec->data;
	int i;

	print_sigset(f, "blocked", s->blocked);
	print_x64(f, "altstack_sp", s->altstack_sp);
	print_u64(f, "altstack_size", s->altstack_size);
	fprintf(f, "  %-12s 0x%x\n", "altstack_flags", s->altstack_flags);
	fprintf(f, "  %-12s %u\n", "nr_pending", s->nr_pending);
	for (i = 0; i < CKPT_NSIG; i++) {
		const struct ckpt_sigaction *a = &s->action[i];
		char name[16];

		if (!a->handler && !a->flags && !a->restorer && !a->mask)
			continue;	/* SIG_DFL, nothing set */
		if (ckpt_signal_name(i + 1))
			snprintf(name, sizeof(name), "%s", ckpt_signal_name(i + 1));
		else
			snprintf(name, sizeof(name), "signal %d", i + 1);
		fprintf(f, "  %-12s handler ", name);
		if (a->handler <= 1)
			fputs(a->handler ? "SIG_IGN" : "SIG_DFL", f);
		else
			fprintf(f, "0x%llx", (unsigned long long)a->handler);
		fprintf(f, " flags 0x%llx restorer 0x%llx mask 0x%llx\n",
			(unsigned long long)a->flags,
			(unsigned long long)a->restorer,
			(unsigned long long)a->mask);
	}
}

/* CKPT_HDR_SIGINFO */

static int siginfo_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_siginfo *si = rec->data;
	int32_t signo;

	if (si->shared > 1)
		return fail(err, offsetof(struct ckpt_hdr_siginfo, shared),
			    EBADMSG, "siginfo: shared is %u", si->shared);
	if (reserved_zero(err, offsetof(struct ckpt_hdr_siginfo, reserved),
			  si->reserved, "siginfo"))
		return -1;
	memcpy(&signo, si->info, sizeof(signo));
	if (signo < 1 || signo > CKPT_NSIG)
		return fail(err, offsetof(struct ckpt_hdr_siginfo, info),
			    EBADMSG, "siginfo: signal %d", signo);
	return 0;
}

static void siginfo_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_siginfo *si = rec->data;
	int32_t v[3];

	memcpy(v, si->info, sizeof(v));	/* si_signo, si_errno, si_code */
	fprintf(f, "  %-12s %d", "signo", v[0]);
	if (ckpt_signal_name(v[0]))
		fprintf(f, " (%s)", ckpt_signal_name(v[0]));
	fputc('\n', f);
	fprintf(f, "  %-12s %d\n", "errno", v[1]);
	fprintf(f, "  %-12s %d\n", "code", v[2]);
	fprintf(f, "  %-12s %u (%s)\n", "shared", si->shared,
		si->shared ? "process" : "task");
}

/* CKPT_HDR_PIPE */

static int pipe_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_pipe *p = rec->data;

	if (p->tag <= 0)
		return fail(err, offsetof(struct ckpt_hdr_pipe, tag), EBADMSG,
			    "pipe: tag %d", p->tag);
	if (p->flags & ~CKPT_PIPE_FIFO)
		return fail(err, offsetof(struct ckpt_hdr_pipe, flags), EBADMSG,
			    "pipe: unknown flags 0x%x", p->flags);
	if (reserved_zero(err, offsetof(struct ckpt_hdr_pipe, reserved),
			  p->reserved, "pipe"))
		return -1;
	if (rec->len - sizeof(*p) > p->size)
		return fail(err, offsetof(struct ckpt_hdr_pipe, size), EBADMSG,
			    "pipe: %zu bytes in a pipe of %u",
			    (size_t)(rec->len - sizeof(*p)), p->size);
	return 0;
}

static void pipe_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_pipe *p = rec->data;

	fprintf(f, "  %-12s %d\n", "tag", p->tag);
	fprintf(f, "  %-12s %u\n", "size", p->size);
	fprintf(f, "  %-12s 0x%x%s\n", "flags", p->flags,
		p->flags & CKPT_PIPE_FIFO ? " (FIFO)" : "");
	fprintf(f, "  %-12s %zu bytes\n", "data", (size_t)(rec->len - sizeof(*p)));
}

/* CKPT_HDR_RESTART_BLOCK */

static int restart_block_check(const struct ckpt_record *rec,
			       struct ckpt_err *err)
{
	const struct ckpt_hdr_restart_block *b = rec->data;

	if (b->kind != CKPT_RESTART_NANOSLEEP)
		return fail(err, offsetof(struct ckpt_hdr_restart_block, kind),
			    EBADMSG, "restart_block: unknown kind %u", b->kind);
	if (b->remaining < 0)
		return fail(err, offsetof(struct ckpt_hdr_restart_block, remaining),
			    EBADMSG, "restart_block: negative remaining time %lld",
			    (long long)b->remaining);
	return 0;
}

static void restart_block_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_restart_block *b = rec->data;

	fprintf(f, "  %-12s %u%s\n", "kind", b->kind,
		b->kind == CKPT_RESTART_NANOSLEEP ? " (nanosleep)" : "");
	fprintf(f, "  %-12s %d\n", "clockid", b->clockid);
	fprintf(f, "  %-12s %lld ns\n", "remaining", (long long)b->remaining);
	print_x64(f, "rmtp", b->rmtp);
}


/* CKPT_HDR_CREDS */

/* The capabilities the kernel knows, CAP_CHOWN to CAP_LAST_CAP */
#define CKPT_CAP_MASK	((2ULL << CAP_LAST_CAP) - 1)
#define CKPT_SECUREBITS	(SECURE_ALL_BITS | SECURE_ALL_LOCKS)
#define CKPT_NGROUPS_MAX 65536	/* NGROUPS_MAX of <linux/limits.h> */
#define CKPT_ID_INVALID	0xffffffffU

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

const char *ckpt_cap_name(unsigned int cap)
{
	if (cap < sizeof(cap_names) / sizeof(cap_names[0]))
		return cap_names[cap];
	return NULL;
}

static int creds_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_creds *c = rec->data;
	const uint32_t ids[] = { c->uid, c->euid, c->suid, c->fsuid,
				 c->gid, c->egid, c->sgid, c->fsgid };
	const uint64_t caps[] = { c->cap_inheritable, c->cap_permitted,
				  c->cap_effective, c->cap_bset,
				  c->cap_ambient };
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == CKPT_ID_INVALID)	/* as setresuid(2) says */
			return fail(err, offsetof(struct ckpt_hdr_creds, uid) +
				    4 * i, EINVAL, "creds: invalid id -1");
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (caps[i] & ~CKPT_CAP_MASK)
			return fail(err, offsetof(struct ckpt_hdr_creds,
						  cap_inheritable) + 8 * i,
				    EBADMSG, "creds: unknown capabilities 0x%llx",
				    (unsigned long long)(caps[i] & ~CKPT_CAP_MASK));
	if (c->securebits & ~CKPT_SECUREBITS)
		return fail(err, offsetof(struct ckpt_hdr_creds, securebits),
			    EBADMSG, "creds: unknown securebits 0x%x",
			    c->securebits);
	if (c->flags & ~CKPT_CREDS_NO_NEW_PRIVS)
		return fail(err, offsetof(struct ckpt_hdr_creds, flags),
			    EBADMSG, "creds: unknown flags 0x%x", c->flags);
	if (c->ngroups > CKPT_NGROUPS_MAX ||
	    rec->len != sizeof(*c) + (uint64_t)c->ngroups * sizeof(c->groups[0]))
		return fail(err, offsetof(struct ckpt_hdr_creds, ngroups),
			    EBADMSG, "creds: %u groups in a record of %u bytes",
			    c->ngroups, rec->len);
	if (reserved_zero(err, offsetof(struct ckpt_hdr_creds, reserved),
			  c->reserved, "creds"))
		return -1;
	for (i = 0; i < c->ngroups; i++) {
		size_t off = sizeof(*c) + i * sizeof(c->groups[0]);

		if (c->groups[i] == CKPT_ID_INVALID)
			return fail(err, off, EINVAL,
				    "creds: invalid group -1");
		if (i && c->groups[i] < c->groups[i - 1])
			return fail(err, off, EINVAL,
				    "creds: groups not in increasing order (%u after %u)",
				    c->groups[i], c->groups[i - 1]);
	}
	return 0;
}

/* A capability set: "0x... (CAP_SETUID CAP_SETGID)", "(all)" or nothing. */
static void print_caps(FILE *f, const char *name, uint64_t set)
{
	const char *sep = " (";
	unsigned int cap;

	fprintf(f, "  %-12s 0x%016llx", name, (unsigned long long)set);
	if (set == CKPT_CAP_MASK) {
		fputs(" (all)\n", f);
		return;
	}
	for (cap = 0; cap < 64; cap++) {
		if (!(set & (1ULL << cap)))
			continue;
		if (ckpt_cap_name(cap))
			fprintf(f, "%s%s", sep, ckpt_cap_name(cap));
		else
			fprintf(f, "%s%u", sep, cap);
		sep = " ";
	}
	if (!sep[1])	/* a name was printed */
		fputc(')', f);
	fputc('\n', f);
}

static void creds_print(FILE *f, const struct ckpt_record *rec)
{
	static const char *const secbit_names[] = {
		"NOROOT", "NOROOT_LOCKED", "NO_SETUID_FIXUP",
		"NO_SETUID_FIXUP_LOCKED", "KEEP_CAPS", "KEEP_CAPS_LOCKED",
		"NO_CAP_AMBIENT_RAISE", "NO_CAP_AMBIENT_RAISE_LOCKED",
	};
	static const char *const flag_names[] = { "NO_NEW_PRIVS" };
	const struct ckpt_hdr_creds *c = rec->data;
	uint32_t i, n = c->ngroups;

	fprintf(f, "  %-12s %u\n", "uid", c->uid);
	fprintf(f, "  %-12s %u\n", "euid", c->euid);
	fprintf(f, "  %-12s %u\n", "suid", c->suid);
	fprintf(f, "  %-12s %u\n", "fsuid", c->fsuid);
	fprintf(f, "  %-12s %u\n", "gid", c->gid);
	fprintf(f, "  %-12s %u\n", "egid", c->egid);
	fprintf(f, "  %-12s %u\n", "sgid", c->sgid);
	fprintf(f, "  %-12s %u\n", "fsgid", c->fsgid);
	fprintf(f, "  %-12s %u", "groups", n);
	/* The record may be shorter than ngroups says when it is printed. */
	if (n > (rec->len - sizeof(*c)) / sizeof(c->groups[0]))
		n = (rec->len - sizeof(*c)) / sizeof(c->groups[0]);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? " " : " (", c->groups[i]);
	fputs(n ? ")\n" : "\n", f);
	print_caps(f, "cap_inheritable", c->cap_inheritable);
	print_caps(f, "cap_permitted", c->cap_permitted);
	print_caps(f, "cap_effective", c->cap_effective);
	print_caps(f, "cap_bset", c->cap_bset);
	print_caps(f, "cap_ambient", c->cap_ambient);
	print_flags(f, "securebits", c->securebits, secbit_names,
		    sizeof(secbit_names) / sizeof(secbit_names[0]));
	print_flags(f, "flags", c->flags, flag_names,
		    sizeof(flag_names) / sizeof(flag_names[0]));
}

/* CKPT_HDR_RLIMITS */

static const char *const rlimit_names[CKPT_RLIM_NLIMITS] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio",
	"rttime",
};

static int rlimits_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_rlimits *r = rec->data;
	int i;

	for (i = 0; i < CKPT_RLIM_NLIMITS; i++)
		if (r->rlim[i].cur > r->rlim[i].max)	/* as setrlimit(2) */
			return fail(err, offsetof(struct ckpt_hdr_rlimits, rlim) +
				    i * sizeof(r->rlim[0]), EINVAL,
				    "rlimits: %s soft limit %llu above the hard limit %llu",
				    rlimit_names[i],
				    (unsigned long long)r->rlim[i].cur,
				    (unsigned long long)r->rlim[i].max);
	return 0;
}

static void print_limit(FILE *f, uint64_t v)
{
	if (v == ~0ULL)
		fputs("unlimited", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void rlimits_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_rlimits *r = rec->data;
	int i;

	for (i = 0; i < CKPT_RLIM_NLIMITS; i++) {
		fprintf(f, "  %-12s soft ", rlimit_names[i]);
		print_limit(f, r->rlim[i].cur);
		fputs(" hard ", f);
		print_limit(f, r->rlim[i].max);
		fputc('\n', f);
	}
}

/* CKPT_HDR_TTY */

static int tty_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_tty *t = rec->data;

	return reserved_zero(err, offsetof(struct ckpt_hdr_tty, reserved),
			     t->reserved, "tty");
}

static void tty_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tty *t = rec->data;
	int i;

	fprintf(f, "  %-12s 0%o\n", "iflag", t->iflag);
	fprintf(f, "  %-12s 0%o\n", "oflag", t->oflag);
	fprintf(f, "  %-12s 0%o\n", "cflag", t->cflag);
	fprintf(f, "  %-12s 0%o\n", "lflag", t->lflag);
	fprintf(f, "  %-12s %u in, %u out\n", "speed", t->ispeed, t->ospeed);
	fprintf(f, "  %-12s %u\n", "line", t->line);
	fprintf(f, "  %-12s", "cc");
	for (i = 0; i < CKPT_TTY_NCCS; i++)
		fprintf(f, " %02x", t->cc[i]);
	fputc('\n', f);
}

/* CKPT_HDR_FS */

static int fs_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_fs *fs = rec->data;
	size_t n = rec->len - sizeof(*fs);
	const char *cwd;

	if (fs->umask & ~0777U)
		return fail(err, offsetof(struct ckpt_hdr_fs, umask), EBADMSG,
			    "fs: umask 0%o", fs->umask);
	if (fs->root_len < 2 || fs->root_len >= n || fs->paths[0] != '/' ||
	    strnlen(fs->paths, fs->root_len) != fs->root_len - 1)
		return fail(err, offsetof(struct ckpt_hdr_fs, root_len), EBADMSG,
			    "fs: root path of length %u is not absolute and NUL terminated in %zu bytes",
			    fs->root_len, n);
	cwd = fs->paths + fs->root_len;
	if (cwd[0] != '/' || !has_nul(cwd, n - fs->root_len))
		return fail(err, sizeof(*fs) + fs->root_len, EBADMSG,
			    "fs: working directory path is not absolute and NUL terminated");
	return 0;
}

static void fs_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_fs *fs = rec->data;
	size_t n = rec->len - sizeof(*fs);
	size_t root = fs->root_len < n ? fs->root_len : n;

	fprintf(f, "  %-12s 0%03o\n", "umask", fs->umask);
	print_str(f, "root", fs->paths, root);
	print_str(f, "cwd", fs->paths + root, n - root);
}

/*
 * CKPT_HDR_TMPFILE: the path the file had follows the fixed part (struct
 * ckpt_hdr_tmpfile.path in the headers that name it).
 */

static const char *tmpfile_path(const struct ckpt_record *rec, size_t *len)
{
	*len = rec->len - sizeof(struct ckpt_hdr_tmpfile);
	return (const char *)rec->data + sizeof(struct ckpt_hdr_tmpfile);
}

static int tmpfile_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_tmpfile *t = rec->data;
	size_t len;
	const char *path = tmpfile_path(rec, &len);

	if (t->tag <= 0)
		return fail(err, offsetof(struct ckpt_hdr_tmpfile, tag), EBADMSG,
			    "tmpfile: tag %d", t->tag);
	if (t->mode & ~0777U)
		return fail(err, offsetof(struct ckpt_hdr_tmpfile, mode), EBADMSG,
			    "tmpfile: mode 0%o", t->mode);
	if (t->size < 0)
		return fail(err, offsetof(struct ckpt_hdr_tmpfile, size), EBADMSG,
			    "tmpfile: negative size %lld", (long long)t->size);
	if (path[0] != '/' || !has_nul(path, len))
		return fail(err, sizeof(*t), EBADMSG,
			    "tmpfile: path is not absolute and NUL terminated");
	return 0;
}

static void tmpfile_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tmpfile *t = rec->data;
	size_t len;
	const char *path = tmpfile_path(rec, &len);

	fprintf(f, "  %-12s %d\n", "tag", t->tag);
	fprintf(f, "  %-12s 0%03o\n", "mode", t->mode);
	fprintf(f, "  %-12s %lld\n", "size", (long long)t->size);
	print_str(f, "path", path, len);
}

/* CKPT_HDR_FILE_DATA: the record is read whole but only its header kept */

static int file_data_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_file_data *d = rec->data;

	if (d->pos < 0)
		return fail(err, offsetof(struct ckpt_hdr_file_data, pos), EBADMSG,
			    "file_data: negative position %lld",
			    (long long)d->pos);
	if (rec->len == sizeof(*d))
		return fail(err, offsetof(struct ckpt_hdr, len), EBADMSG,
			    "file_data: no data");
	return 0;
}

static void file_data_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_file_data *d = rec->data;

	fprintf(f, "  %-12s %lld\n", "pos", (long long)d->pos);
	fprintf(f, "  %-12s %zu bytes\n", "data", (size_t)(rec->len - sizeof(*d)));
}

/* CKPT_HDR_ITIMERS */

static int itimers_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_itimers *t = rec->data;
	int i;

	for (i = 0; i < CKPT_NR_ITIMERS; i++)
		if (t->it[i].value < 0 || t->it[i].interval < 0)
			return fail(err, offsetof(struct ckpt_hdr_itimers, it) +
				    i * sizeof(t->it[0]) +
				    (t->it[i].value < 0 ? 0 : 8), EBADMSG,
				    "itimers: timer %d: negative time", i);
	return 0;
}

static void print_ns(FILE *f, int64_t ns)
{
	fprintf(f, "%lld.%09lld s", (long long)(ns / 1000000000),
		(long long)(ns % 1000000000));
}

static void itimers_print(FILE *f, const struct ckpt_record *rec)
{
	static const char *const names[CKPT_NR_ITIMERS] = {
		"real", "virtual", "prof",
	};
	const struct ckpt_hdr_itimers *t = rec->data;
	int i;

	for (i = 0; i < CKPT_NR_ITIMERS; i++) {
		fprintf(f, "  %-12s ", names[i]);
		if (!t->it[i].value && !t->it[i].interval) {
			fputs("disarmed\n", f);
			continue;
		}
		fputs(t->it[i].value ? "value " : "disarmed, ", f);
		if (t->it[i].value)
			print_ns(f, t->it[i].value);
		fputs(t->it[i].value ? " interval " : "interval ", f);
		print_ns(f, t->it[i].interval);
		fputc('\n', f);
	}
}

/* CKPT_HDR_PIDS */

/* The largest pid number (PID_MAX_LIMIT on 64-bit) */
#define CKPT_PID_MAX	(4 * 1024 * 1024)

static int pids_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_pids *p = rec->data;
	uint32_t i, w = 0;

	if (rec->len != sizeof(*p) + (uint64_t)p->nr_words * sizeof(p->words[0]))
		return fail(err, offsetof(struct ckpt_hdr_pids, nr_words),
			    EBADMSG, "pids: %u words in a record of %u bytes",
			    p->nr_words, rec->len);
	if (!p->nr_pids || p->nr_pids > p->nr_words / 2)
		return fail(err, offsetof(struct ckpt_hdr_pids, nr_pids),
			    EBADMSG, "pids: %u pids in %u words",
			    p->nr_pids, p->nr_words);
	for (i = 0; i < p->nr_pids; i++) {
		size_t off = sizeof(*p) + w * sizeof(p->words[0]);
		int32_t d, k;

		if (w >= p->nr_words)
			return fail(err, offsetof(struct ckpt_hdr_pids, nr_pids),
				    EBADMSG, "pids: the words end at pid %u of %u",
				    i + 1, p->nr_pids);
		d = p->words[w];
		if (d < 0 || (uint64_t)w + d + 2 > p->nr_words)
			return fail(err, off, EBADMSG,
				    "pids: pid %u: depth %d", i + 1, d);
		if (d > 0)
			return fail(err, off, EOPNOTSUPP,
				    "pids: pid %u: depth %d: nested pid namespaces are not supported",
				    i + 1, d);
		for (k = 1; k <= d + 1; k++) {
			int32_t nr = p->words[w + k];

			if (nr <= 0 || nr >= CKPT_PID_MAX)
				return fail(err, off + k * sizeof(p->words[0]),
					    EBADMSG, "pids: pid %u: number %d",
					    i + 1, nr);
		}
		w += d + 2;
	}
	if (w != p->nr_words)
		return fail(err, sizeof(*p) + w * sizeof(p->words[0]), EBADMSG,
			    "pids: %u words after the last pid", p->nr_words - w);
	return 0;
}

static void pids_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_pids *p = rec->data;
	uint32_t i, w = 0;

	fprintf(f, "  %-12s %u\n", "nr_pids", p->nr_pids);
	fprintf(f, "  %-12s %u\n", "nr_words", p->nr_words);
	for (i = 0; i < p->nr_pids && w < p->nr_words; i++) {
		int32_t d = p->words[w], k;
		char name[24];

		snprintf(name, sizeof(name), "pid %u", i + 1);
		fprintf(f, "  %-12s", name);
		for (k = 1; k <= d + 1 && w + k < p->nr_words; k++)
			fprintf(f, " %d", p->words[w + k]);
		if (d)
			fprintf(f, " (depth %d)", d);
		fputc('\n', f);
		w += d + 2;
	}
}

/* CKPT_HDR_TREE */

/* A status as wait(2) gives it: an exit status, or a signal and core flag */
static int ckpt_valid_exit_code(uint32_t code)
{
	uint32_t sig = code & 0x7f;

	if (!sig)
		return !(code & ~0xff00U);
	return sig <= CKPT_NSIG && !(code & ~0xffU);
}

static int tree_check(const struct ckpt_record *rec, struct ckpt_err *err)
{
	const struct ckpt_hdr_tree *t = rec->data;
	uint32_t i;

	if (!t->nr_tasks || t->nr_tasks > CKPT_TREE_MAX_TASKS)
		return fail(err, offsetof(struct ckpt_hdr_tree, nr_tasks),
			    EBADMSG, "tree: %u tasks (1 to %d)", t->nr_tasks,
			    CKPT_TREE_MAX_TASKS);
	if (rec->len != sizeof(*t) + (uint64_t)t->nr_tasks * sizeof(t->tasks[0]))
		return fail(err, offsetof(struct ckpt_hdr_tree, nr_tasks),
			    EBADMSG, "tree: %u tasks in a record of %u bytes",
			    t->nr_tasks, rec->len);
	if (reserved_zero(err, offsetof(struct ckpt_hdr_tree, reserved),
			  t->reserved, "tree"))
		return -1;
	for (i = 0; i < t->nr_tasks; i++) {
		const struct ckpt_task_pids *e = &t->tasks[i];
		size_t off = offsetof(struct ckpt_hdr_tree, tasks) +
			     i * sizeof(*e);

		if (e->exit_signal > CKPT_NSIG)
			return fail(err, off + offsetof(struct ckpt_task_pids,
							exit_signal),
				    EBADMSG, "tree: task %u: exit signal %u",
				    i, e->exit_signal);
		if ((e->flags & ~CKPT_TASK_ZOMBIE) ||
		    (i == 0 && (e->flags & CKPT_TASK_ZOMBIE)))
			return fail(err, off + offsetof(struct ckpt_task_pids,
							flags),
				    EBADMSG, "tree: task %u: flags 0x%x%s",
				    i, e->flags, i ? "" : " (a zombie root)");
		if ((e->flags & CKPT_TASK_ZOMBIE) ?
		    !ckpt_valid_exit_code(e->exit_code) : e->exit_code != 0)
			return fail(err, off + offsetof(struct ckpt_task_pids,
							exit_code),
				    EBADMSG, "tree: task %u: exit code 0x%x%s",
				    i, e->exit_code,
				    (e->flags & CKPT_TASK_ZOMBIE) ? "" : " of a live task");
	}
	return 0;
}

/* A pid of a tree entry: "4242 (tag 1)", "outside (tag -1)", "none (tag 0)" */
static void print_tag(FILE *f, const char *name, int32_t tag,
		      const struct ckpt_tree *tree)
{
	fprintf(f, " %s ", name);
	if (tag == CKPT_PID_NONE)
		fputs("none", f);
	else if (tag == CKPT_PID_ROOT)
		fputs("outside", f);
	else if (tree && tag > 0 && (uint32_t)tag <= tree->nr_pids)
		fprintf(f, "%d", tree->pid_nr[tag - 1]);
	else
		fputs("?", f);
	fprintf(f, " (tag %d)", tag);
}

static void tree_print(FILE *f, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tree *t = rec->data;
	uint32_t i, n = t->nr_tasks;

	fprintf(f, "  %-12s %u\n", "nr_tasks", t->nr_tasks);
	if (n > (rec->len - sizeof(*t)) / sizeof(t->tasks[0]))
		n = (rec->len - sizeof(*t)) / sizeof(t->tasks[0]);
	for (i = 0; i < n; i++) {
		const struct ckpt_task_pids *e = &t->tasks[i];
		const char *sig = ckpt_signal_name(e->exit_signal);
		char name[24];

		snprintf(name, sizeof(name), "task %u", i);
		fprintf(f, "  %-12s", name);
		print_tag(f, "pid", e->pid, rec->tree);
		print_tag(f, "tgid", e->tgid, rec->tree);
		print_tag(f, "ppid", e->ppid, rec->tree);
		print_tag(f, "pgid", e->pgid, rec->tree);
		print_tag(f, "sid", e->sid, rec->tree);
		fprintf(f, " exit_signal %u", e->exit_signal);
		if (e->flags & CKPT_TASK_ZOMBIE)
			fprintf(f, " zombie, exit code 0x%x", e->exit_code);
		if (sig)
			fprintf(f, " (%s)", sig);
		fputc('\n', f);
	}
}

#endif /* CKPT_COMM_LEN */

/*
 * Every record type the library knows.  ERROR must hold at least the
 * message's NUL; so must MM (exe_path) and FILE (path); FS holds at least
 * "/" and "/", each with its NUL; TMPFILE a path, "/" at least.
 */
static const struct ckpt_rec_type rec_types[] = {
	{ CKPT_HDR_HEADER, "header", sizeof(struct ckpt_hdr_header), 0, 0,
	  header_check, header_print },
	{ CKPT_HDR_TAIL, "tail", sizeof(struct ckpt_hdr_tail), 0, 0,
	  tail_check, tail_print },
	{ CKPT_HDR_ERROR, "error", sizeof(struct ckpt_hdr_error) + 1, 1, 0,
	  error_check, error_print },
#ifdef CKPT_COMM_LEN
	{ CKPT_HDR_TASK, "task", sizeof(struct ckpt_hdr_task), 0, 0,
	  task_check, task_print },
	{ CKPT_HDR_CPU, "cpu", sizeof(struct ckpt_hdr_cpu), 1, 0,
	  cpu_check, cpu_print },
	{ CKPT_HDR_MM, "mm", sizeof(struct ckpt_hdr_mm) + 1, 1, 0,
	  mm_check, mm_print },
	{ CKPT_HDR_VMA, "vma", sizeof(struct ckpt_hdr_vma), 1, 0,
	  vma_check, vma_print },
	{ CKPT_HDR_PAGES, "pages", sizeof(struct ckpt_hdr_pages), 1, 1,
	  pages_check, pages_print },
	{ CKPT_HDR_FILES, "files", sizeof(struct ckpt_hdr_files), 0, 0,
	  files_check, files_print },
	{ CKPT_HDR_FILE, "file", sizeof(struct ckpt_hdr_file) + 1, 1, 0,
	  file_check, file_print },
	{ CKPT_HDR_FD, "fd", sizeof(struct ckpt_hdr_fd), 0, 0,
	  fd_check, fd_print },
	{ CKPT_HDR_SIGNALS, "signals", sizeof(struct ckpt_hdr_signals), 0, 0,
	  signals_check, signals_print },
	{ CKPT_HDR_SIGINFO, "siginfo", sizeof(struct ckpt_hdr_siginfo), 0, 0,
	  siginfo_check, siginfo_print },
	{ CKPT_HDR_RESTART_BLOCK, "restart_block",
	  sizeof(struct ckpt_hdr_restart_block), 0, 0,
	  restart_block_check, restart_block_print },
	{ CKPT_HDR_PIPE, "pipe", sizeof(struct ckpt_hdr_pipe), 1, 0,
	  pipe_check, pipe_print },
#endif
	{ CKPT_HDR_CREDS, "creds", sizeof(struct ckpt_hdr_creds), 1, 0,
	  creds_check, creds_print },
	{ CKPT_HDR_RLIMITS, "rlimits", sizeof(struct ckpt_hdr_rlimits), 0, 0,
	  rlimits_check, rlimits_print },
	{ CKPT_HDR_FS, "fs", sizeof(struct ckpt_hdr_fs) + 4, 1, 0,
	  fs_check, fs_print },
	{ CKPT_HDR_TMPFILE, "tmpfile", sizeof(struct ckpt_hdr_tmpfile) + 2, 1, 0,
	  tmpfile_check, tmpfile_print },
	{ CKPT_HDR_FILE_DATA, "file_data", sizeof(struct ckpt_hdr_file_data), 1, 1,
	  file_data_check, file_data_print },
	{ CKPT_HDR_ITIMERS, "itimers", sizeof(struct ckpt_hdr_itimers), 0, 0,
	  itimers_check, itimers_print },
	{ CKPT_HDR_TTY, "tty", sizeof(struct ckpt_hdr_tty), 0, 0,
	  tty_check, tty_print },
	{ CKPT_HDR_PIDS, "pids", sizeof(struct ckpt_hdr_pids), 1, 0,
	  pids_check, pids_print },
	{ CKPT_HDR_TREE, "tree", sizeof(struct ckpt_hdr_tree), 1, 0,
	  tree_check, tree_print },
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
	free(r->cap);
	r->cap = NULL;
	r->cap_len = r->cap_size = 0;
	free(r->task.tags);
	r->task.tags = NULL;
	free(r->task.tag_kinds);
	r->task.tag_kinds = NULL;
	r->task.nr_tags = r->task.max_tags = 0;
	ckpt_tree_release(&r->tree);
}

/* Read from the stream; what was read is kept in r->capture when asked. */
static ssize_t rd(struct ckpt_reader *r, void *buf, size_t n)
{
	ssize_t got = ckpt_read_full(r->fd, buf, n);
	unsigned char *p;

	if (got <= 0 || !r->capture)
		return got;
	if (r->cap_len + got > r->cap_size) {
		size_t sz = 2 * (r->cap_len + got);

		p = realloc(r->cap, sz);
		if (!p) {
			errno = ENOMEM;
			return -1;
		}
		r->cap = p;
		r->cap_size = sz;
	}
	memcpy(r->cap + r->cap_len, buf, got);
	r->cap_len += got;
	return got;
}

size_t ckpt_read_raw(struct ckpt_reader *r, void *buf, size_t n)
{
	ssize_t got = rd(r, buf, n);

	if (got < 0)
		return 0;
	r->off += got;
	return got;
}

/* Read n bytes that the image must contain; ENODATA when it ends first. */
static int need(struct ckpt_reader *r, void *buf, size_t n, const char *what,
		uint64_t rec_off)
{
	ssize_t got = rd(r, buf, n);

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
	if (len > CKPT_REC_MAX && !rt->skip_payload)
		return fail(&r->err, len_off, EBADMSG,
			    "%s: record length %u too large", rt->name, len);
	/* As restart(2): at most two words (depth 0, number) per pid */
	if ((rt->type == CKPT_HDR_PIDS &&
	     len > sizeof(struct ckpt_hdr_pids) + 8 * CKPT_TREE_MAX_PIDS) ||
	    (rt->type == CKPT_HDR_TREE &&
	     len > sizeof(struct ckpt_hdr_tree) +
		   CKPT_TREE_MAX_TASKS * sizeof(struct ckpt_task_pids)))
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
	/* An error record may end the image anywhere after the header. */
	if (r->state == CKPT_RD_PIDS && type != CKPT_HDR_PIDS &&
	    type != CKPT_HDR_ERROR)
		return fail(&r->err, off, EBADMSG,
			    "expected pids record after the header, found %s record",
			    rt->name);
	if (r->state == CKPT_RD_TREE && type != CKPT_HDR_TREE &&
	    type != CKPT_HDR_ERROR)
		return fail(&r->err, off, EBADMSG,
			    "expected tree record after the pids, found %s record",
			    rt->name);
	if (r->state == CKPT_RD_BODY &&
	    (type == CKPT_HDR_PIDS || type == CKPT_HDR_TREE))
		return fail(&r->err, off, EBADMSG, "second %s record", rt->name);
	return 0;
}

#ifdef CKPT_COMM_LEN
static int place_fail(struct ckpt_reader *r, uint64_t off, const char *found,
		      const char *expected)
{
	return fail(&r->err, off, EBADMSG, "%s record out of place: expected %s",
		    found, expected);
}

/* Record the tag a file, pipe or tmpfile record at off introduces. */
static int add_tag(struct ckpt_reader *r, int32_t tag,
		   enum ckpt_tag_kind kind, uint64_t off)
{
	struct ckpt_task_state *ts = &r->task;
	size_t i;

	for (i = 0; i < ts->nr_tags; i++)
		if (ts->tags[i] == tag)
			return fail(&r->err, off + offsetof(struct ckpt_hdr_file, tag),
				    EBADMSG, "tag %d used twice", tag);
	if (ts->nr_tags == ts->max_tags) {
		size_t n = ts->max_tags ? 2 * ts->max_tags : 64;
		int32_t *p = realloc(ts->tags, n * sizeof(*p));
		unsigned char *k;

		if (!p)
			return fail(&r->err, off, ENOMEM, "%s", strerror(ENOMEM));
		ts->tags = p;
		k = realloc(ts->tag_kinds, n);
		if (!k)
			return fail(&r->err, off, ENOMEM, "%s", strerror(ENOMEM));
		ts->tag_kinds = k;
		ts->max_tags = n;
	}
	ts->tag_kinds[ts->nr_tags] = kind;
	ts->tags[ts->nr_tags++] = tag;
	return 0;
}

/* What tag names: an enum ckpt_tag_kind, 0 when no record before. */
static int tag_kind(const struct ckpt_reader *r, int32_t tag)
{
	size_t i;

	for (i = 0; i < r->task.nr_tags; i++)
		if (r->task.tags[i] == tag)
			return r->task.tag_kinds[i];
	return 0;
}

/* What may come next, for the message. */
static const char *expected(const struct ckpt_task_state *ts)
{
	switch (ts->pos) {
	case CKPT_TP_NONE:
		return "task or tail";
	case CKPT_TP_TASK:
		return "creds";
	case CKPT_TP_CREDS:
		return "rlimits";
	case CKPT_TP_RLIMITS:
		return "fs";
	case CKPT_TP_FS:
		return "files";
	case CKPT_TP_FDS:
		if (!ts->fds_left)
			return "mm";
		return ts->in_tmpfile ? "file_data, pipe, tmpfile, file or fd" :
					"pipe, tmpfile, file or fd";
	case CKPT_TP_FILE:
		return "fd of the file";
	case CKPT_TP_TTY:
		return "tty of the file";
	case CKPT_TP_VMAS:
		if (ts->vmas_left)
			return ts->in_vma ? "vma or pages" : "vma";
		return ts->in_vma ? "pages or signals" : "signals";
	case CKPT_TP_SIGNALS:
		return ts->sigs_left ? "siginfo" : "itimers";
	case CKPT_TP_ITIMERS:
		return "restart_block or cpu";
	case CKPT_TP_RESTART:
		return "cpu";
	}
	return "?";
}

/* A file record's object: the record of the kind its file kind needs. */
static int check_object(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_file *fi = rec->data;
	int want, have;

	switch (fi->kind) {
	case CKPT_FILE_PIPE:
		want = CKPT_TAG_PIPE;
		break;
	case CKPT_FILE_FIFO:
		want = CKPT_TAG_FIFO;
		break;
	case CKPT_FILE_UNLINKED:
		want = CKPT_TAG_TMPFILE;
		break;
	default:
		return 0;
	}
	have = tag_kind(r, fi->object);
	if (have == want)
		return 0;
	return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_file, object),
		    EBADMSG, "file: object tag %d names no %s record before it",
		    fi->object, want == CKPT_TAG_PIPE ? "pipe" :
		    want == CKPT_TAG_FIFO ? "named pipe" : "tmpfile");
}

/* The index of the n-th task of the tree that has a section (not a zombie) */
static int64_t live_task(const struct ckpt_tree *tree, uint64_t n)
{
	uint32_t i;

	for (i = 0; i < tree->nr_tasks; i++)
		if (!(tree->tasks[i].ent.flags & CKPT_TASK_ZOMBIE) && !n--)
			return i;
	return -1;
}

/* The task record of the next task of the tree: the pids the tree gives it. */
static int check_task_pids(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_task *t = rec->data;
	const struct ckpt_tree_task *tt;
	int64_t i = live_task(&r->tree, r->task.nr_tasks);

	if (i < 0)
		return fail(&r->err, rec->off, EBADMSG,
			    "task record beyond the %llu live tasks of the tree",
			    (unsigned long long)r->task.nr_tasks);
	tt = &r->tree.tasks[i];
	if (t->pid != tt->pid)
		return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_task, pid),
			    EBADMSG, "task: pid %d, the tree's task %llu has pid %d",
			    t->pid, (unsigned long long)i, tt->pid);
	if (t->tgid != tt->tgid)
		return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_task, tgid),
			    EBADMSG, "task: tgid %d, the tree's task %llu has tgid %d",
			    t->tgid, (unsigned long long)i, tt->tgid);
	return 0;
}

/*
 * The record's place in a task's section (see enum ckpt_task_pos), with
 * the counts the mm, files and signals records announce.
 */
static int check_place(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	struct ckpt_task_state *ts = &r->task;
	const char *name = rec->rt->name;
	uint64_t page = 1ULL << r->header.page_shift;
	/* Where the mm and the files come: after the fs, before the mm. */
	const enum ckpt_task_pos before_files = CKPT_TP_FS;
	const int files_done = ts->pos == CKPT_TP_FDS && !ts->fds_left;
	const int in_tmpfile = ts->in_tmpfile;

	ts->in_tmpfile = 0;	/* unless this is one of its file_data */

	switch (rec->type) {
	case CKPT_HDR_HEADER:
	case CKPT_HDR_ERROR:
		return 0;
	case CKPT_HDR_PIDS:
	case CKPT_HDR_TREE:
		return 0;	/* placed by check_order() */
	case CKPT_HDR_TAIL:
	case CKPT_HDR_TASK:
		if (ts->pos != CKPT_TP_NONE)
			return place_fail(r, rec->off, name, expected(ts));
		if (rec->type == CKPT_HDR_TAIL) {
			if (live_task(&r->tree, ts->nr_tasks) >= 0)
				return fail(&r->err, rec->off, EBADMSG,
					    "tail after %llu of the live tasks of the tree",
					    (unsigned long long)ts->nr_tasks);
			return 0;
		}
		if (check_task_pids(r, rec))
			return -1;
		ts->pos = CKPT_TP_TASK;
		if (!ts->nr_tasks++)
			memcpy(&r->first_task, rec->data,
			       sizeof(r->first_task));
		return 0;
	case CKPT_HDR_CREDS:
	case CKPT_HDR_RLIMITS:
	case CKPT_HDR_FS: {
		/* task, creds, rlimits, fs: each needs the one before */
		static const enum ckpt_task_pos after[] = {
			CKPT_TP_TASK, CKPT_TP_CREDS, CKPT_TP_RLIMITS, CKPT_TP_FS,
		};
		int i = rec->type == CKPT_HDR_CREDS ? 0 :
			rec->type == CKPT_HDR_RLIMITS ? 1 : 2;

		if (ts->pos != after[i])
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = after[i + 1];
		return 0;
	}
	case CKPT_HDR_MM: {
		const struct ckpt_hdr_mm *m = rec->data;

		if (!files_done)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_VMAS;
		ts->vmas_left = m->nr_vmas;
		ts->in_vma = 0;
		ts->vma_end = 0;
		return 0;
	}
	case CKPT_HDR_VMA: {
		const struct ckpt_hdr_vma *v = rec->data;

		if (ts->pos != CKPT_TP_VMAS || !ts->vmas_left)
			return place_fail(r, rec->off, name, expected(ts));
		if (v->start < ts->vma_end)
			return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_vma, start),
				    EBADMSG, "vma: 0x%llx-0x%llx overlaps or precedes the previous mapping",
				    (unsigned long long)v->start,
				    (unsigned long long)v->end);
		ts->vmas_left--;
		ts->in_vma = 1;
		ts->vma_start = v->start;
		ts->vma_end = v->end;
		ts->next_page = v->start;
		return 0;
	}
	case CKPT_HDR_PAGES: {
		const struct ckpt_hdr_pages *p = rec->data;

		if (ts->pos != CKPT_TP_VMAS || !ts->in_vma)
			return place_fail(r, rec->off, name, expected(ts));
		if (p->addr < ts->next_page || p->addr >= ts->vma_end ||
		    p->nr_pages > (ts->vma_end - p->addr) / page)
			return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_pages, addr),
				    EBADMSG, "pages: 0x%llx + %llu pages outside the mapping 0x%llx-0x%llx or out of order",
				    (unsigned long long)p->addr,
				    (unsigned long long)p->nr_pages,
				    (unsigned long long)ts->vma_start,
				    (unsigned long long)ts->vma_end);
		ts->next_page = p->addr + p->nr_pages * page;
		return 0;
	}
	case CKPT_HDR_FILES: {
		const struct ckpt_hdr_files *fl = rec->data;

		if (ts->pos != before_files ||
		    (before_files == CKPT_TP_VMAS && ts->vmas_left))
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_FDS;
		ts->fds_left = fl->nr_fds;
		return 0;
	}
	case CKPT_HDR_FILE: {
		const struct ckpt_hdr_file *fi = rec->data;

		if (ts->pos != CKPT_TP_FDS || !ts->fds_left)
			return place_fail(r, rec->off, name, expected(ts));
		if (check_object(r, rec) ||
		    add_tag(r, fi->tag, CKPT_TAG_FILE, rec->off))
			return -1;
		ts->pos = fi->kind == CKPT_FILE_TTY ? CKPT_TP_TTY : CKPT_TP_FILE;
		ts->file_tag = fi->tag;
		return 0;
	}
	case CKPT_HDR_TTY:
		if (ts->pos != CKPT_TP_TTY)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_FILE;
		return 0;
	case CKPT_HDR_FD: {
		const struct ckpt_hdr_fd *d = rec->data;

		if ((ts->pos != CKPT_TP_FDS && ts->pos != CKPT_TP_FILE) ||
		    !ts->fds_left)
			return place_fail(r, rec->off, name, expected(ts));
		if (ts->pos == CKPT_TP_FILE ? d->file != ts->file_tag :
					      tag_kind(r, d->file) != CKPT_TAG_FILE)
			return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_fd, file),
				    EBADMSG, "fd %d: file tag %d %s", d->fd,
				    d->file, ts->pos == CKPT_TP_FILE ?
				    "is not that of the file record before it" :
				    "names no file record");
		ts->pos = CKPT_TP_FDS;
		ts->fds_left--;
		return 0;
	}
	case CKPT_HDR_SIGNALS: {
		const struct ckpt_hdr_signals *sg = rec->data;

		if (ts->pos != CKPT_TP_VMAS || ts->vmas_left)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_SIGNALS;
		ts->sigs_left = sg->nr_pending;
		return 0;
	}
	case CKPT_HDR_SIGINFO:
		if (ts->pos != CKPT_TP_SIGNALS || !ts->sigs_left)
			return place_fail(r, rec->off, name, expected(ts));
		ts->sigs_left--;
		return 0;
	case CKPT_HDR_ITIMERS:
		if (ts->pos != CKPT_TP_SIGNALS || ts->sigs_left)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_ITIMERS;
		return 0;
	case CKPT_HDR_RESTART_BLOCK:
		if (ts->pos != CKPT_TP_ITIMERS)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_RESTART;
		return 0;
	case CKPT_HDR_CPU:
		if (ts->pos != CKPT_TP_ITIMERS && ts->pos != CKPT_TP_RESTART)
			return place_fail(r, rec->off, name, expected(ts));
		ts->pos = CKPT_TP_NONE;
		return 0;
	case CKPT_HDR_PIPE: {
		const struct ckpt_hdr_pipe *pp = rec->data;
		enum ckpt_tag_kind kind = CKPT_TAG_PIPE;

		if (ts->pos != CKPT_TP_FDS || !ts->fds_left)
			return place_fail(r, rec->off, name, expected(ts));
		if (pp->flags & CKPT_PIPE_FIFO)
			kind = CKPT_TAG_FIFO;
		return add_tag(r, pp->tag, kind, rec->off);
	}
	case CKPT_HDR_TMPFILE: {
		const struct ckpt_hdr_tmpfile *t = rec->data;

		if (ts->pos != CKPT_TP_FDS || !ts->fds_left)
			return place_fail(r, rec->off, name, expected(ts));
		if (add_tag(r, t->tag, CKPT_TAG_TMPFILE, rec->off))
			return -1;
		ts->in_tmpfile = 1;
		ts->tmpfile_size = t->size;
		ts->next_data = 0;
		return 0;
	}
	case CKPT_HDR_FILE_DATA: {
		const struct ckpt_hdr_file_data *d = rec->data;
		uint64_t n = rec->len - sizeof(*d);

		if (!in_tmpfile)
			return place_fail(r, rec->off, name, expected(ts));
		if (d->pos < ts->next_data ||
		    (uint64_t)d->pos + n > (uint64_t)ts->tmpfile_size)
			return fail(&r->err, rec->off + offsetof(struct ckpt_hdr_file_data, pos),
				    EBADMSG, "file_data: %llu bytes at %lld overlap the data before or lie past the size %lld of the file",
				    (unsigned long long)n, (long long)d->pos,
				    (long long)ts->tmpfile_size);
		ts->in_tmpfile = 1;
		ts->next_data = d->pos + n;
		return 0;
	}
	}
	return 0;
}
#else
static int check_place(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	(void)r;
	(void)rec;
	return 0;
}
#endif

/* Read and drop n bytes of a record's payload. */
static int skip(struct ckpt_reader *r, uint64_t n, const char *what,
		uint64_t rec_off)
{
	unsigned char buf[65536];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		if (need(r, buf, k, what, rec_off))
			return -1;
		n -= k;
	}
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

/* The pids record: the number of every pid object, each number once. */
static int cmp_pid(const void *a, const void *b)
{
	const pid_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

static int read_pids(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_pids *p = rec->data;
	pid_t *nr, *sorted;
	uint32_t i, w = 0;

	nr = calloc(p->nr_pids, sizeof(*nr));
	sorted = calloc(p->nr_pids, sizeof(*sorted));
	if (!nr || !sorted) {
		free(nr);
		free(sorted);
		return fail(&r->err, rec->off, ENOMEM, "%s", strerror(ENOMEM));
	}
	for (i = 0; i < p->nr_pids; i++) {	/* pids_check() walked them */
		nr[i] = sorted[i] = p->words[w + 1];
		w += p->words[w] + 2;
	}
	qsort(sorted, p->nr_pids, sizeof(*sorted), cmp_pid);
	for (i = 1; i < p->nr_pids; i++) {
		uint32_t a, b;

		if (sorted[i] != sorted[i - 1])
			continue;
		for (a = 0; nr[a] != sorted[i]; a++)
			;
		for (b = a + 1; nr[b] != sorted[i]; b++)
			;
		free(nr);
		free(sorted);
		return fail(&r->err, rec->off, EBADMSG,
			    "pids: pid %u and pid %u both have number %d",
			    a + 1, b + 1, sorted[i]);
	}
	free(sorted);
	r->tree.pid_nr = nr;
	r->tree.nr_pids = p->nr_pids;
	return 0;
}

/* A pgid or sid tag: its number (0 for CKPT_PID_ROOT), -1 when out of range. */
static pid_t tag_nr(const struct ckpt_tree *t, int32_t tag)
{
	if (tag == CKPT_PID_ROOT)
		return 0;
	if (tag <= 0 || (uint32_t)tag > t->nr_pids)
		return -1;
	return t->pid_nr[tag - 1];
}

/*
 * The tree record against the pids: every task has a pid of its own, its
 * parent comes before it, its group and session are pids of the image.
 */
static int read_tree(struct ckpt_reader *r, const struct ckpt_record *rec)
{
	const struct ckpt_hdr_tree *t = rec->data;
	struct ckpt_tree *tree = &r->tree;
	struct ckpt_tree_task *tasks;
	int *task_of;	/* [tag - 1]: index of the task with that pid, or -1 */
	uint32_t i;
	int ret = -1;

	tasks = calloc(t->nr_tasks, sizeof(*tasks));
	task_of = malloc(tree->nr_pids * sizeof(*task_of));
	if (!tasks || !task_of) {
		fail(&r->err, rec->off, ENOMEM, "%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < tree->nr_pids; i++)
		task_of[i] = -1;
	for (i = 0; i < t->nr_tasks; i++) {
		const struct ckpt_task_pids *e = &t->tasks[i];
		struct ckpt_tree_task *tt = &tasks[i];
		uint64_t off = rec->off + offsetof(struct ckpt_hdr_tree, tasks) +
			       i * sizeof(*e);

		if (e->pid <= 0 || (uint32_t)e->pid > tree->nr_pids) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, pid),
			     EBADMSG, "tree: task %u: pid tag %d, the image has %u pids",
			     i, e->pid, tree->nr_pids);
			goto out;
		}
		if (task_of[e->pid - 1] >= 0) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, pid),
			     EBADMSG, "tree: task %u: pid tag %d is that of task %d",
			     i, e->pid, task_of[e->pid - 1]);
			goto out;
		}
		if (e->tgid != e->pid) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, tgid),
			     EOPNOTSUPP, "tree: task %u: tgid tag %d, pid tag %d: threads are not supported",
			     i, e->tgid, e->pid);
			goto out;
		}
		if (i == 0 ? e->ppid != CKPT_PID_NONE :
		    e->ppid <= 0 || (uint32_t)e->ppid > tree->nr_pids ||
		    task_of[e->ppid - 1] < 0) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, ppid),
			     EBADMSG, i == 0 ?
			     "tree: task %u: ppid tag %d: the root task has no parent in the tree" :
			     "tree: task %u: ppid tag %d is no task before it",
			     i, e->ppid);
			goto out;
		}
		if (i && (t->tasks[task_of[e->ppid - 1]].flags & CKPT_TASK_ZOMBIE)) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, ppid),
			     EBADMSG, "tree: task %u: its parent is a zombie", i);
			goto out;
		}
		if (tag_nr(tree, e->pgid) < 0) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, pgid),
			     EBADMSG, "tree: task %u: pgid tag %d, the image has %u pids",
			     i, e->pgid, tree->nr_pids);
			goto out;
		}
		if (tag_nr(tree, e->sid) < 0) {
			fail(&r->err, off + offsetof(struct ckpt_task_pids, sid),
			     EBADMSG, "tree: task %u: sid tag %d, the image has %u pids",
			     i, e->sid, tree->nr_pids);
			goto out;
		}
		task_of[e->pid - 1] = i;
		tt->ent = *e;
		tt->pid = tt->tgid = tree->pid_nr[e->pid - 1];
		tt->parent = i ? task_of[e->ppid - 1] : -1;
		tt->ppid = i ? tree->pid_nr[e->ppid - 1] : 0;
		tt->pgid = tag_nr(tree, e->pgid);
		tt->sid = tag_nr(tree, e->sid);
		tt->exit_signal = e->exit_signal;
	}
	/* The leaders, once every task's pid is known */
	for (i = 0; i < t->nr_tasks; i++) {
		const struct ckpt_task_pids *e = &t->tasks[i];

		tasks[i].pgid_task = e->pgid == CKPT_PID_ROOT ? -1 :
			task_of[e->pgid - 1] >= 0 ? task_of[e->pgid - 1] : -2;
		tasks[i].sid_task = e->sid == CKPT_PID_ROOT ? -1 :
			task_of[e->sid - 1] >= 0 ? task_of[e->sid - 1] : -2;
	}
	tree->tasks = tasks;
	tree->nr_tasks = t->nr_tasks;
	tasks = NULL;
	ret = 0;
out:
	free(tasks);
	free(task_of);
	return ret;
}

void ckpt_tree_release(struct ckpt_tree *tree)
{
	free(tree->pid_nr);
	free(tree->tasks);
	memset(tree, 0, sizeof(*tree));
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
	got = rd(r, &c, 1);
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
	uint32_t keep;
	ssize_t got;

	got = rd(r, &h, sizeof(h));
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
	keep = rt->skip_payload ? rt->size : h.len;
	if (grow(r, keep))
		return -1;
	memcpy(r->buf, &h, sizeof(h));
	snprintf(what, sizeof(what), "%s record", rt->name);
	if (need(r, r->buf + sizeof(h), keep - sizeof(h), what, off))
		return -1;

	rec->off = off;
	rec->type = h.type;
	rec->len = h.len;
	rec->rt = rt;
	rec->data = r->buf;
	rec->datalen = keep;
	rec->page_shift = r->state == CKPT_RD_HEADER ? 0 : r->header.page_shift;
	rec->tree = &r->tree;

	/* A record whose payload is skipped is checked before it is read. */
	if (rt->skip_payload && rt->check && rt->check(rec, &r->err)) {
		r->err.off += off;
		return -1;
	}
	if (skip(r, h.len - keep, what, off) ||
	    read_padding(r, rt, off, h.len))
		return -1;
	if (!rt->skip_payload && rt->check && rt->check(rec, &r->err)) {
		r->err.off += off;
		return -1;
	}
	if (check_place(r, rec))
		return -1;

	switch (h.type) {
	case CKPT_HDR_HEADER:
		memcpy(&r->header, r->buf, sizeof(r->header));
		r->state = CKPT_RD_PIDS;
		break;
	case CKPT_HDR_PIDS:
		if (read_pids(r, rec))
			return -1;
		r->state = CKPT_RD_TREE;
		break;
	case CKPT_HDR_TREE:
		if (read_tree(r, rec))
			return -1;
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

int ckpt_first_task(int fd, struct ckpt_hdr_task *task, struct ckpt_err *err)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	int ret;

	ckpt_reader_init(&r, fd);
	while ((ret = ckpt_next(&r, &rec)) > 0) {
		if (rec.type == CKPT_HDR_HEADER &&
		    ckpt_header_runnable(&r.header, rec.off, &r.err)) {
			ret = -1;
			break;
		}
#ifdef CKPT_COMM_LEN
		if (rec.type == CKPT_HDR_TASK) {
			memcpy(task, rec.data, sizeof(*task));
			break;
		}
#endif
	}
	*err = r.err;
	ckpt_reader_release(&r);
	(void)task;
	return ret;
}

int ckpt_read_head(int fd, struct ckpt_head *head, struct ckpt_err *err)
{
	struct ckpt_reader r;
	struct ckpt_record rec;
	int ret;

	memset(head, 0, sizeof(*head));
	ckpt_reader_init(&r, fd);
	r.capture = 1;
	while ((ret = ckpt_next(&r, &rec)) > 0) {
		if (rec.type == CKPT_HDR_HEADER &&
		    ckpt_header_runnable(&r.header, rec.off, &r.err)) {
			ret = -1;
			break;
		}
		if (rec.type == CKPT_HDR_TREE)
			break;
	}
	if (ret == 0) {	/* a complete image cannot end before its tree */
		fail(&r.err, r.off, EBADMSG, "image without a tree");
		ret = -1;
	}
	head->bytes = r.cap;
	head->len = r.cap_len;
	r.cap = NULL;
	if (ret > 0) {
		head->header = r.header;
		head->tree = r.tree;
		memset(&r.tree, 0, sizeof(r.tree));
		ret = 0;
	} else {
		*err = r.err;
	}
	ckpt_reader_release(&r);
	return ret;
}

void ckpt_head_release(struct ckpt_head *head)
{
	ckpt_tree_release(&head->tree);
	free(head->bytes);
	memset(head, 0, sizeof(*head));
}

static int layout_fail(struct ckpt_err *err, const struct ckpt_tree *tree,
		       uint32_t i, const char *why)
{
	return fail(err, 0, EOPNOTSUPP,
		    "session layout not supported yet: task %u (pid %d) %s",
		    i, tree->tasks[i].pid, why);
}

int ckpt_tree_layout(const struct ckpt_tree *tree, struct ckpt_err *err)
{
	uint32_t i;

	for (i = 0; i < tree->nr_tasks; i++) {
		const struct ckpt_tree_task *t = &tree->tasks[i];
		const struct ckpt_tree_task *p = i ? &tree->tasks[t->parent] : NULL;
		int own_sid = t->sid_task == (int)i;
		int own_pgrp = t->pgid_task == (int)i;

		/* fork() keeps the session; setsid() makes one: nothing else */
		if (!own_sid && (p ? t->ent.sid != p->ent.sid :
				 t->ent.sid != CKPT_PID_ROOT))
			return layout_fail(err, tree, i, p ?
					   "is in another session than its parent and does not lead it" :
					   "is the root and in a session of the tree it does not lead");
		if (own_sid && !own_pgrp)
			return layout_fail(err, tree, i,
					   "leads a session but not its process group");
		if (t->ent.pgid == CKPT_PID_ROOT) {
			/* the group from outside has no number here to join */
			if (t->ent.sid != CKPT_PID_ROOT ||
			    (p && p->ent.pgid != CKPT_PID_ROOT))
				return layout_fail(err, tree, i,
						   "is in the root's process group from outside, its parent is not");
			continue;
		}
		if (own_pgrp)
			continue;
		if (t->pgid_task < 0)
			return layout_fail(err, tree, i,
					   "is in a process group whose leader is not in the tree");
		if (tree->tasks[t->pgid_task].pgid_task != t->pgid_task)
			return layout_fail(err, tree, i,
					   "is in a process group whose leader left it");
		if (tree->tasks[t->pgid_task].ent.sid != t->ent.sid)
			return layout_fail(err, tree, i,
					   "is in a process group of another session");
	}
	return 0;
}
