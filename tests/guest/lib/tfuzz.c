// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the robustness tests: PRNG, verifiable subjects, restart(2)
 * in a child with a time limit, kernel reports, reproducers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tfuzz.h"

/* PRNG */

void tf_rng_seed(struct tf_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t tf_rand(struct tf_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t tf_below(struct tf_rng *r, uint64_t n)
{
	return n ? tf_rand(r) % n : 0;
}

uint64_t tf_run_seed(void)
{
	const char *s = getenv("T_SEED");
	uint64_t seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	printf("# T_SEED=%llu\n", (unsigned long long)seed);
	return seed;
}

long long tf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void tf_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int tf_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

int tf_read_file(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int tf_debug_kernel(void)
{
	return access("/proc/self/fail-nth", F_OK) == 0;
}

long tf_budget(const char *name, long dflt, long dflt_debug)
{
	char cmdline[4096], key[128], *p;
	const char *e = getenv(name);

	if (e && *e)
		return strtol(e, NULL, 0);
	snprintf(key, sizeof(key), "lcr.%s=", name);
	if (!tf_read_file("/proc/cmdline", cmdline, sizeof(cmdline))) {
		p = strstr(cmdline, key);
		if (p)
			return strtol(p + strlen(key), NULL, 0);
	}
	return tf_debug_kernel() ? dflt_debug : dflt;
}

/* An unlinked tmpfs file of len bytes */
static int shared_file(size_t len)
{
	char path[PATH_MAX];
	int fd = t_mkstemp(path, "tf-shm");

	if (fd < 0 || unlink(path) || ftruncate(fd, len))
		t_bail("shared memory file");
	return fd;
}

void *tf_shared_mem(size_t len)
{
	int fd = shared_file(len);
	void *p;

	/*
	 * Shared memory of an unlinked tmpfs file, not MAP_ANONYMOUS: that
	 * is what checkpoint(2) saves as shared memory (with its contents).
	 */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		t_bail("mmap");
	return p;
}

/* Subjects: the state lives in the subject's own memory */

static struct {
	pid_t pid, ppid;
	int kind;
	struct tf_shared *sh;
	unsigned char *mem;
	size_t mem_len;
	uint64_t sum, shared_sum;
	int fds[8];		/* kind-specific descriptors */
	off_t pos;
	void *map, *shared;	/* TF_MAPS; shared: TF_SHANON, TF_MEMFD too */
	char dir[4096];
	void (*fn)(int);	/* TF_SIGNALS: the handler */
	struct termios tio;	/* TF_TTY: the settings made */
	pid_t kids[2];		/* TF_TREE: the children */
	pid_t zombie;		/* TF_TREE: a child that exited (42) */
	int restored;
} st;

const char *tf_kind_name(int kind)
{
	static const char *const names[TF_NR_KINDS] = {
		"basic", "pipe", "signals", "sleep", "files", "maps",
		"unlinked", "fifo", "timers", "socket", "churn", "forker",
		"execer", "shanon", "memfd", "tty", "tree",
	};

	return kind >= 0 && kind < TF_NR_KINDS ? names[kind] : "?";
}

static uint64_t sum64(const void *p, size_t n)
{
	const uint64_t *w = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

static void fill(void *p, size_t n, uint64_t seed)
{
	struct tf_rng r;
	uint64_t *w = p;
	size_t i;

	tf_rng_seed(&r, seed);
	for (i = 0; i < n / 8; i++)
		w[i] = tf_rand(&r);
}

/* A failed check: remembered in the shared page, the first one kept. */
static int bad(const char *what)
{
	/* A restored copy has the page of the test no more, or shares it. */
	if (st.restored)
		return -1;
	if (!st.sh->bad)
		snprintf(st.sh->why, sizeof(st.sh->why), "%s (errno %d)", what, errno);
	st.sh->bad = 1;
	return -1;
}

static int pipe_bytes(int fd, int want)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) == 0 && n == want ? 0 : -1;
}

static void sig_handler(int sig)
{
	(void)sig;
}

static int verify_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	if (sigprocmask(SIG_BLOCK, NULL, &set) || !sigismember(&set, SIGUSR1) ||
	    !sigismember(&set, SIGRTMIN))
		return bad("blocked signals changed");
	if (sigpending(&set) || !sigismember(&set, SIGUSR1) ||
	    !sigismember(&set, SIGRTMIN))
		return bad("pending signals changed");
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN)
		return bad("SIGUSR2 no longer ignored");
	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_handler != st.fn)
		return bad("SIGUSR1 handler changed");
	return 0;
}

static int verify_files(void)
{
	struct stat sb;
	int fl;

	if (lseek(st.fds[0], 0, SEEK_CUR) != st.pos ||
	    lseek(st.fds[3], 0, SEEK_CUR) != st.pos)
		return bad("file position changed");
	fl = fcntl(st.fds[1], F_GETFL);
	if (fl < 0 || !(fl & O_APPEND))
		return bad("O_APPEND lost");
	if (fstat(st.fds[2], &sb) || !S_ISDIR(sb.st_mode))
		return bad("directory fd changed");
	if (!(fcntl(st.fds[4], F_GETFD) & FD_CLOEXEC))
		return bad("close-on-exec lost");
	return 0;
}

static int verify_maps(void)
{
	unsigned char *m = st.map;

	if (st.kind == TF_MAPS && (m[0] != 'P' || m[4096 * 3] != 'Q'))
		return bad("private file mapping changed");
	if (sum64(st.shared, 16384) != st.shared_sum)
		return bad("shared memory changed");
	return 0;
}

static int verify_timers(void)
{
	struct itimerval it;
	struct rlimit rl;
	char cwd[4096];
	mode_t m = umask(0);

	umask(m);
	if (getitimer(ITIMER_REAL, &it) || !it.it_value.tv_sec ||
	    it.it_interval.tv_sec != 1000)
		return bad("ITIMER_REAL changed");
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur != 512)
		return bad("RLIMIT_NOFILE changed");
	if (m != 027)
		return bad("umask changed");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, st.dir))
		return bad("cwd changed");
	return 0;
}

static int verify_tty(void)
{
	struct termios t;

	if (tcgetattr(st.fds[0], &t))
		return bad("terminal gone");
	if (t.c_iflag != st.tio.c_iflag || t.c_oflag != st.tio.c_oflag ||
	    t.c_cflag != st.tio.c_cflag || t.c_lflag != st.tio.c_lflag ||
	    memcmp(t.c_cc, st.tio.c_cc, sizeof(t.c_cc)) ||
	    cfgetispeed(&t) != cfgetispeed(&st.tio) ||
	    cfgetospeed(&t) != cfgetospeed(&st.tio))
		return bad("terminal settings changed");
	return 0;
}

/* TF_TREE: the zombie, with its status, not waited for */
static int zombie_there(void)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, st.zombie, &si, WEXITED | WNOHANG | WNOWAIT) &&
	       si.si_pid == st.zombie && si.si_code == CLD_EXITED && si.si_status == 42;
}

/* TF_TREE: both children still there (they check themselves once told) */
static int verify_tree(void)
{
	int i, status;

	for (i = 0; i < 2; i++)
		if (waitpid(st.kids[i], &status, WNOHANG) != 0)
			return bad("a child of the tree ended");
	return zombie_there() ? 0 : bad("the zombie child changed");
}

static int verify_kind(void)
{
	char buf[128];

	switch (st.kind) {
	case TF_PIPE:
		if (pipe_bytes(st.fds[0], 1000) || pipe_bytes(st.fds[2], 100))
			return bad("pipe contents changed");
		return 0;
	case TF_FIFO:
		return pipe_bytes(st.fds[0], 100) ? bad("fifo contents changed") : 0;
	case TF_SIGNALS:
		return verify_signals();
	case TF_FILES:
		return verify_files();
	case TF_MAPS:
	case TF_SHANON:
	case TF_MEMFD:
		return verify_maps();
	case TF_UNLINKED:
		if (pread(st.fds[0], buf, 5, 4000) != 5 || memcmp(buf, "hello", 5))
			return bad("unlinked file contents changed");
		return 0;
	case TF_TIMERS:
		return verify_timers();
	case TF_TTY:
		return verify_tty();
	case TF_TREE:
		return verify_tree();
	}
	return 0;
}

static int verify_all(void)
{
	if (sum64(st.mem, st.mem_len) != st.sum)
		return bad("memory checksum changed");
	return verify_kind();
}

/*
 * Whether a fail-nth the restarting child armed is still pending: then
 * restart(2) got past its last fault point.  (Opening the file is a fault
 * point too: when it fails, the fault fired.)
 */
static int nth_unfired(void)
{
	char v[32];

	return !tf_read_file("/proc/thread-self/fail-nth", v, sizeof(v)) && atoi(v) > 0;
}

/*
 * TF_TREE, restored: SIGUSR2 to the writing child (it writes one more
 * byte and exits), then to the reading one (it reads all, that byte
 * last, then end of file: nothing else holds the pipe); each must exit
 * with TF_RESTORED_OK, which only their restored parent can see.
 */
static int tree_kids_restored(void)
{
	int i, status;

	alarm(20);
	for (i = 0; i < 2; i++) {
		if (kill(st.kids[i], SIGUSR2) ||
		    waitpid(st.kids[i], &status, 0) != st.kids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != TF_RESTORED_OK)
			return 0;
	}
	alarm(0);
	/* and the zombie, restored as one: its status */
	return waitpid(st.zombie, &status, WNOHANG) == st.zombie && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 42;
}

static void restored(void)
{
	int ok;

	st.restored = 1;
	ok = !verify_all();

	/* A restored pipe still holds what was written into it. */
	if (ok && st.kind == TF_PIPE) {
		char buf[1000];

		ok = read(st.fds[0], buf, sizeof(buf)) == sizeof(buf) &&
		     buf[0] == 'p' && buf[999] == 'p';
	}
	/* The children check themselves when told, in turn, and exit. */
	if (ok && st.kind == TF_TREE)
		ok = tree_kids_restored();
	_exit(!ok ? TF_RESTORED_BAD : nth_unfired() ? TF_RESTORED_UNFIRED :
	      TF_RESTORED_OK);
}

static void churn(struct tf_rng *r)
{
	size_t n = 1 + tf_below(r, 16);
	char *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	p[0] = 1;
	p[(n - 1) * 4096] = 2;
	mprotect(p, 4096, PROT_READ);
	if (n > 2)
		munmap(p + 4096, 4096);
	munmap(p, n * 4096);
}

static void fork_one(void)
{
	pid_t c = fork();

	if (c == 0)
		_exit(0);
	if (c > 0)
		waitpid(c, NULL, 0);
}

static void __attribute__((noreturn)) subject_loop(void)
{
	struct timespec ts = { 0, 30000000 };
	struct tf_rng r;

	tf_rng_seed(&r, 1);
	st.sh->ready = 1;
	for (;;) {
		/*
		 * Restored: with another pid (RESTART_TASKSELF in a pid
		 * namespace), or with its own under another parent (the
		 * root of a tree restart, under the coordinator).
		 */
		if (syscall(SYS_getpid) != st.pid || syscall(SYS_getppid) != st.ppid)
			restored();
		st.sh->count++;
		if (st.sh->req != st.sh->ack) {
			int req = st.sh->req;

			verify_all();
			st.sh->ack = req;
		}
		if (st.kind == TF_SLEEP)
			nanosleep(&ts, NULL);
		else if (st.kind == TF_CHURN)
			churn(&r);
		else if (st.kind == TF_FORKER)
			fork_one();
		else
			sched_yield();
	}
}

static int dir_file_in(const char *dir, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDWR | O_CREAT, 0600);
}

static int dir_file(const char *name, int flags)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", st.dir, name);
	return open(path, flags | O_CREAT, 0600);
}

static int setup_pipe(void)
{
	int p[2], q[2];
	char buf[1000];

	memset(buf, 'p', sizeof(buf));
	if (pipe(p) || pipe(q) || write(p[1], buf, 1000) != 1000 ||
	    write(q[1], buf, 100) != 100)
		return -1;
	close(q[1]);
	st.fds[0] = p[0];
	st.fds[1] = p[1];
	st.fds[2] = q[0];
	return 0;
}

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = sig_handler };
	stack_t ss = { .ss_size = 65536 };
	union sigval v = { .sival_int = 42 };
	sigset_t set;

	st.fn = sig_handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		return -1;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	ss.ss_sp = malloc(ss.ss_size);
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	sigqueue(getpid(), SIGRTMIN, v);
	return sigqueue(getpid(), SIGRTMIN, v);
}

static int setup_files(void)
{
	static char buf[10000];

	memset(buf, 'f', sizeof(buf));
	st.fds[0] = dir_file("a", O_RDWR);
	st.fds[1] = dir_file("b", O_WRONLY | O_APPEND);
	st.fds[2] = open(st.dir, O_RDONLY | O_DIRECTORY);
	if (st.fds[0] < 0 || st.fds[1] < 0 || st.fds[2] < 0 ||
	    write(st.fds[0], buf, sizeof(buf)) != sizeof(buf))
		return -1;
	st.pos = lseek(st.fds[0], 1234, SEEK_SET);
	st.fds[3] = dup2(st.fds[0], 20);
	st.fds[4] = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	return st.fds[3] < 0 || st.fds[4] < 0 ? -1 : 0;
}

static int setup_maps(void)
{
	int fd = dir_file("m", O_RDWR), i;
	unsigned char *holes;

	if (fd < 0 || ftruncate(fd, 65536))
		return -1;
	st.map = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	st.shared = tf_shared_mem(16384);
	holes = mmap(NULL, 32 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	close(fd);
	if (st.map == MAP_FAILED || st.shared == MAP_FAILED || holes == MAP_FAILED)
		return -1;
	((char *)st.map)[0] = 'P';
	((char *)st.map)[4096 * 3] = 'Q';
	fill(st.shared, 16384, 7);
	st.shared_sum = sum64(st.shared, 16384);
	/* Every other page read-only, one of four touched: many vmas. */
	for (i = 0; i < 32; i++) {
		if (i % 4 == 0)
			holes[i * 4096] = i;
		if (i % 2)
			mprotect(holes + i * 4096, 4096, PROT_READ);
	}
	return 0;
}

/*
 * Shared memory no path leads back to: checkpoint(2) saves it with its
 * contents (once saved as a mapping of "/dev/zero (deleted)" or of
 * "/memfd:... (deleted)", which restart could not open).
 */
static int setup_shared(void)
{
	int fd = -1;

	if (st.kind == TF_MEMFD) {
		fd = memfd_create("tf-memfd", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 16384))
			return -1;
	}
	st.shared = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
			 MAP_SHARED | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (fd >= 0)
		close(fd);
	if (st.shared == MAP_FAILED)
		return -1;
	fill(st.shared, 16384, 8 + st.kind);
	st.shared_sum = sum64(st.shared, 16384);
	return 0;
}

static int setup_unlinked(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/u", st.dir);
	st.fds[0] = open(path, O_RDWR | O_CREAT, 0600);
	if (st.fds[0] < 0 || pwrite(st.fds[0], "hello", 5, 4000) != 5)
		return -1;
	return unlink(path);
}

static int setup_fifo(void)
{
	char path[4200] = "";

	snprintf(path, sizeof(path), "%s/fifo", st.dir);
	if (mkfifo(path, 0600))
		return -1;
	/* O_RDWR: both ends in one file, it does not block */
	st.fds[0] = open(path, O_RDWR);
	return st.fds[0] < 0 || write(st.fds[0], path, 100) != 100 ? -1 : 0;
}

static int setup_timers(void)
{
	struct itimerval it = { { 1000, 0 }, { 1000, 0 } };
	struct rlimit rl = { 512, 1024 };
	struct sigaction sa = { .sa_handler = sig_handler };

	sigaction(SIGALRM, &sa, NULL);
	umask(027);
	if (setitimer(ITIMER_REAL, &it, NULL) || setrlimit(RLIMIT_NOFILE, &rl) ||
	    chdir(st.dir) || !getcwd(st.dir, sizeof(st.dir)))
		return -1;
	return 0;
}

/* The terminal is fd 4 (see exec_subject): raw, odd control characters */
static int setup_tty(void)
{
	st.fds[0] = 4;
	if (tcgetattr(st.fds[0], &st.tio))
		return -1;
	cfmakeraw(&st.tio);
	st.tio.c_cc[VMIN] = 3;
	st.tio.c_cc[VTIME] = 7;
	st.tio.c_cc[VEOF] = 0x12;
	cfsetispeed(&st.tio, B9600);
	cfsetospeed(&st.tio, B9600);
	if (tcsetattr(st.fds[0], TCSANOW, &st.tio))
		return -1;
	return tcgetattr(st.fds[0], &st.tio);
}

static int setup_kind(void)
{
	int p[2];

	switch (st.kind) {
	case TF_PIPE:
		return setup_pipe();
	case TF_SIGNALS:
		return setup_signals();
	case TF_FILES:
		return setup_files();
	case TF_MAPS:
		return setup_maps();
	case TF_UNLINKED:
		return setup_unlinked();
	case TF_FIFO:
		return setup_fifo();
	case TF_TIMERS:
		return setup_timers();
	case TF_SHANON:
	case TF_MEMFD:
		return setup_shared();
	case TF_TTY:
		return setup_tty();
	case TF_SOCKET:
		return socketpair(AF_UNIX, SOCK_STREAM, 0, p);
	}
	return 0;
}

/* TF_TREE: a child, in pause() until told to check itself */
static volatile sig_atomic_t told;

static void on_told(int sig)
{
	(void)sig;
	told = 1;
}

static void __attribute__((noreturn)) tree_kid(int k, int q[2], int rp[2])
{
	struct sigaction sa = { .sa_handler = on_told };	/* no SA_RESTART */
	char buf[512];
	ssize_t n, got = 0;
	int ok = 1, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	/* The test's page: shared memory no two tasks of a tree may map */
	munmap((void *)st.sh, 4096);
	close(rp[0]);
	close(q[k ? 1 : 0]);
	memset(buf, 'q', 200);
	if (k ? setpgid(0, 0) != 0 : write(q[1], buf, 200) != 200)
		_exit(121);
	if (write(rp[1], "k", 1) != 1)
		_exit(121);
	close(rp[1]);
	while (!told)
		pause();
	if (sum64(st.mem, st.mem_len) != st.sum)
		ok = 0;
	if (!k)
		_exit(ok && write(q[1], "X", 1) == 1 ? TF_RESTORED_OK : TF_RESTORED_BAD);
	alarm(10);
	while ((n = read(q[0], buf + got, sizeof(buf) - got)) > 0)
		got += n;
	for (i = 0; i < 200 && got == 201; i++)
		ok &= buf[i] == 'q';
	_exit(ok && !n && got == 201 && buf[200] == 'X' && getpgid(0) == getpid() ?
	      TF_RESTORED_OK : TF_RESTORED_BAD);
}

static int setup_tree(void)
{
	int q[2], rp[2], i;
	char c[2];

	if (pipe(q) || pipe(rp))
		return -1;
	for (i = 0; i < 2; i++) {
		st.kids[i] = fork();
		if (st.kids[i] < 0)
			return -1;
		if (st.kids[i] == 0)
			tree_kid(i, q, rp);
	}
	close(q[0]);
	close(q[1]);
	close(rp[1]);
	/* A third child, a zombie not waited for */
	st.zombie = fork();
	if (st.zombie < 0)
		return -1;
	if (st.zombie == 0)
		_exit(42);
	for (i = 0; i < 1000 && !zombie_there(); i++)
		usleep(1000);
	/* Both children set up (each wrote a byte), or one failed (EOF) */
	i = read(rp[0], c, 2);
	if (i == 1)
		i += read(rp[0], c + 1, 1);
	close(rp[0]);
	return i == 2 ? 0 : -1;
}

static void __attribute__((noreturn)) subject_main(int kind, size_t mem,
						     const char *dir, struct tf_shared *sh)
{
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "tf-subject");
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(120);
	/* The shared page stays mapped; a TF_TTY subject keeps fd 4. */
	close(3);
	close_range(kind == TF_TTY ? 5 : 4, ~0U, 0);
	memset(&st, 0, sizeof(st));
	st.pid = getpid();
	st.kind = kind;
	st.sh = sh;
	snprintf(st.dir, sizeof(st.dir), "%s", dir);
	st.mem_len = mem;
	/* Large memory gets its own mapping, small comes from the heap. */
	st.mem = mem > (1 << 20) ? mmap(NULL, mem, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
				   malloc(mem);
	if (!st.mem || st.mem == MAP_FAILED || setup_kind())
		_exit(121);
	fill(st.mem, st.mem_len, 1000 + st.kind);
	st.sum = sum64(st.mem, st.mem_len);
	st.ppid = getppid();
	if (st.kind == TF_TREE && setup_tree())
		_exit(121);
	subject_loop();
}

/* TF_EXECER: count generations in a file, exec again. */
static int __attribute__((noreturn)) exec_again(char **argv)
{
	char path[4200];
	uint64_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/execs", argv[3]);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(123);
	pread(fd, &n, sizeof(n), 0);
	n++;
	pwrite(fd, &n, sizeof(n), 0);
	close(fd);
	execv("/proc/self/exe", argv);
	_exit(124);
}

/*
 * Subjects are exec'ed, so that they do not carry the test program's
 * memory: argv is "tf-subject KIND MEM DIR", the shared page is fd 3.
 */
int tf_child_main(int argc, char **argv)
{
	struct tf_shared *sh;
	int kind;

	if (argc != 4 || strcmp(argv[0], "tf-subject"))
		return -1;
	kind = atoi(argv[1]);
	if (kind == TF_EXECER)
		exec_again(argv);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
	if (sh == MAP_FAILED)
		_exit(125);
	subject_main(kind, strtoull(argv[2], NULL, 0), argv[3], sh);
}

/*
 * The pseudo-terminal of TF_TTY subjects: its master is opened once and
 * stays open, so that its slave exists for every restart of their images.
 */
static char tty_slave[64];

static int tty_open_slave(void)
{
	static int master = -1;

	if (master < 0) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) || unlockpt(master) ||
		    ptsname_r(master, tty_slave, sizeof(tty_slave))) {
			if (master >= 0)
				close(master);
			master = -1;
			return -1;
		}
	}
	return open(tty_slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void __attribute__((noreturn)) exec_subject(struct tf_subject *s,
						   int shfd, int ttyfd)
{
	char kind[16], mem[32];
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (s->kind == TF_EXECER) {
		fd = dir_file_in(s->dir, "execs");
		close(fd);
	}
	snprintf(kind, sizeof(kind), "%d", s->kind);
	snprintf(mem, sizeof(mem), "%zu", s->mem);
	/* The exec loop counts in a file; it holds nothing else. */
	if (s->kind == TF_EXECER)
		close_range(3, ~0U, 0);
	else if (dup2(shfd, 3) < 0 || (ttyfd >= 0 && dup2(ttyfd, 4) < 0))
		_exit(126);
	close_range(ttyfd >= 0 ? 5 : 4, ~0U, 0);
	execl("/proc/self/exe", "tf-subject", kind, mem, s->dir, (char *)NULL);
	_exit(127);
}

static uint64_t execs(struct tf_subject *s)
{
	char path[4200];
	uint64_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/execs", s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pread(fd, &n, sizeof(n), 0);
		close(fd);
	}
	return n;
}

int tf_subj_start(struct tf_subject *s, int kind, size_t mem)
{
	int i, fd, ttyfd = -1;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->mem = mem ? mem : 65536;
	if (kind == TF_TTY) {
		ttyfd = tty_open_slave();
		if (ttyfd < 0)
			return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/tf-%s.XXXXXX", t_tmpdir(), tf_kind_name(kind));
	if (!mkdtemp(s->dir))
		return -1;
	fd = shared_file(4096);
	s->sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->sh == MAP_FAILED)
		t_bail("mmap");
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0)
		exec_subject(s, fd, ttyfd);
	close(fd);
	if (ttyfd >= 0)
		close(ttyfd);
	for (i = 0; i < 1000; i++) {
		if (kind == TF_EXECER ? execs(s) > 0 : s->sh->ready)
			return 0;
		if (tf_wait_ms(s->pid, 10) != -1) {
			s->pid = 0;
			return -1;
		}
	}
	tf_subj_stop(s);
	return -1;
}

const char *tf_subj_verify(struct tf_subject *s, int ms)
{
	static char why[400];
	int req = s->sh->req + 1, status;
	long long end = tf_now_ms() + ms;

	if (s->kind == TF_EXECER)
		return tf_subj_runs(s, ms) ? NULL : "the exec loop stopped";
	s->sh->req = req;
	while (s->sh->ack != req && tf_now_ms() < end) {
		status = tf_wait_ms(s->pid, 2);
		if (status != -1) {
			snprintf(why, sizeof(why), "the subject ended (status 0x%x)", status);
			s->pid = 0;
			return why;
		}
	}
	if (s->sh->ack != req) {
		snprintf(why, sizeof(why), "no answer within %d ms", ms);
		return why;
	}
	if (s->sh->bad) {
		snprintf(why, sizeof(why), "the subject says: %.300s", s->sh->why);
		return why;
	}
	return NULL;
}

int tf_subj_runs(struct tf_subject *s, int ms)
{
	uint64_t from = s->kind == TF_EXECER ? execs(s) : s->sh->count;
	long long end = tf_now_ms() + ms;

	do {
		if (s->kind == TF_EXECER ? execs(s) > from : s->sh->count > from)
			return 1;
		if (!s->pid || tf_wait_ms(s->pid, 1) != -1) {
			s->pid = 0;
			return 0;
		}
	} while (tf_now_ms() < end);
	return 0;
}

static void rm_tree(const char *dir)
{
	char path[4400];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void tf_subj_stop(struct tf_subject *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, __WALL);
	}
	s->pid = 0;
	if (s->dir[0])
		rm_tree(s->dir);
	s->dir[0] = '\0';
	if (s->sh)
		munmap((void *)s->sh, 4096);
	s->sh = NULL;
}

/* Images */

int tf_memfd(const void *buf, size_t len)
{
	int fd = memfd_create("tf-image", MFD_CLOEXEC);

	if (fd < 0)
		t_bail("memfd_create");
	if (ckpt_write_full(fd, buf, len))
		t_bail("writing a memfd");
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char *read_all(int fd, size_t *len)
{
	lseek(fd, 0, SEEK_SET);
	return t_read_fd(fd, len);
}

int tf_checkpoint_mem(pid_t pid, struct tf_image *im, char **log)
{
	int fd = memfd_create("tf-ckpt", MFD_CLOEXEC);
	int logfd = memfd_create("tf-log", MFD_CLOEXEC), err = 0;

	if (fd < 0 || logfd < 0)
		t_bail("memfd_create");
	if (sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, logfd) < 0)
		err = errno;
	im->buf = (unsigned char *)read_all(fd, &im->len);
	if (log)
		*log = read_all(logfd, NULL);
	close(fd);
	close(logfd);
	return err;
}

pid_t tf_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_bail("fork");
	return pid;
}

/* Running restart(2) in a child */

struct tf_slot {
	volatile int returned;		/* restart(2) returned ... */
	volatile int err;		/* ... this errno (0: success) */
	/* With a pid namespace, from its init: */
	volatile int ended;		/* the restarting child ended ... */
	volatile int status;		/* ... with this wait status, */
	volatile int leftovers;		/* ... leaving these children to init */
	/* Tree restarts (tf_run.tree), from the coordinator: */
	volatile int tree_restored;	/* restart(2) returned 0, and then */
	volatile int tree_status;	/* the root ended with this status */
	volatile int tree_bad;		/* see tf_result.tree_bad */
	volatile int tree_called;	/* restart(2) is being called */
	char tree_why[256];
};

static struct tf_slot *slot;
static int kmsg_fd = -1;
static char exception_trace[16];

static void restore_exception_trace(void)
{
	tf_write_file("/proc/sys/debug/exception-trace", exception_trace);
}

/* Who sent a SIGABRT: a task running a restored garbage image may. */
static void on_abrt(int sig, siginfo_t *si, void *uc)
{
	char msg[128];
	int n;

	(void)uc;
	n = snprintf(msg, sizeof(msg), "# signal %d from pid %d\n", sig, si->si_pid);
	write(STDOUT_FILENO, msg, n);
	if (si->si_pid == getpid() || si->si_code != SI_USER) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

void tf_runner_init(void)
{
	struct sigaction sa = { .sa_sigaction = on_abrt, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/*
	 * Restored mutants crash on purpose: their "traps: ... general
	 * protection fault" lines are no kernel problem, keep them off the
	 * console (they look like one to scripts/guest.sh).
	 */
	if (!tf_read_file("/proc/sys/debug/exception-trace", exception_trace,
			  sizeof(exception_trace)) &&
	    !tf_write_file("/proc/sys/debug/exception-trace", "0"))
		atexit(restore_exception_trace);
	slot = tf_shared_mem(4096);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

int tf_wait_ms(pid_t pid, int ms)
{
	int status, fd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = tf_now_ms() + ms;

	if (fd >= 0) {
		while (poll(&p, 1, ms) < 0 && errno == EINTR)
			ms = end > tf_now_ms() ? end - tf_now_ms() : 0;
		close(fd);
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG | __WALL);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -2;	/* not our child (any more) */
		if (fd >= 0 || tf_now_ms() >= end)
			return -1;
		tf_sleep_ms(1);
	}
}

/* The children of the calling thread, from /proc (PROC_CHILDREN) */
static size_t children(pid_t *pids, size_t max)
{
	char buf[8192], *p, *end;
	size_t n = 0;

	/* thread-self: our tid here, also in a pid namespace of our own */
	if (tf_read_file("/proc/thread-self/children", buf, sizeof(buf)))
		return 0;
	for (p = buf; *p && n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[n++] = v;
	}
	return n;
}

static int known(pid_t pid, const pid_t *pids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* Append to the slot's tree_why (no stdio: see coordinate()) */
static void tree_why(const char *a, const char *b)
{
	size_t n = strlen(slot->tree_why), m;

	for (m = 0; a && a[m] && n + 1 < sizeof(slot->tree_why); m++)
		slot->tree_why[n++] = a[m];
	for (m = 0; b && b[m] && n + 1 < sizeof(slot->tree_why); m++)
		slot->tree_why[n++] = b[m];
	slot->tree_why[n] = '\0';
}

/*
 * The restarting child of a tree restart: the coordinator (ttree.h).  It
 * runs in a copy of the test's memory made while the test may hold
 * malloc's or stdio's locks: system calls only.
 */
static void __attribute__((noreturn)) coordinate(int imgfd, int logfd,
						  const struct tf_run *o)
{
	struct tt_opts to = { .exit_before_join = -1, .called = &slot->tree_called };
	struct tt_state *ts = tt_state_new();
	char why[200];
	int i, status, err;

	if (!ts)
		_exit(1);
	if (!tt_restart_tree(o->tree, &to, imgfd, logfd, ts)) {
		slot->tree_restored = 1;
		while (waitpid(ts->pid[0], &status, __WALL) < 0 && errno == EINTR)
			;
		slot->tree_status = status;
	} else {
		err = errno;
		/* Adopted tasks were killed; the others still wait to join. */
		slot->tree_bad = tt_settle(ts, tf_debug_kernel() ? 10000 : 3000,
					   why, sizeof(why));
		if (slot->tree_bad)
			tree_why("alive after the failed restart: ", why);
		tt_kill_all(ts);
		slot->err = err;
		slot->returned = 1;
	}
	for (i = 0; i < ts->n; i++) {
		if (!ts->joiner_err[i])
			continue;
		slot->tree_bad++;
		tree_why("a joining task's restart(2) returned ",
			 t_errname(ts->joiner_err[i] - 1));
		tree_why("; ", NULL);
	}
	_exit(0);
}

static void __attribute__((noreturn)) restart_child(int imgfd, int logfd,
						     const struct tf_run *o)
{
	char v[32];
	long ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "tf-restarting");
	/* What it turns into signals no group of ours */
	setpgid(0, 0);
	if (o->make_it_fail)
		tf_write_file("/proc/thread-self/make-it-fail", "1");
	if (o->fail_nth) {
		snprintf(v, sizeof(v), "%d", o->fail_nth);
		tf_write_file("/proc/thread-self/fail-nth", v);
	}
	if (o->before)
		o->before();
	if (o->tree)
		coordinate(imgfd, logfd, o);
	ret = sys_restart(0, imgfd, RESTART_TASKSELF, logfd);
	slot->err = ret < 0 ? errno : 0;
	slot->returned = 1;
	_exit(0);
}

/*
 * The init of a new pid namespace (pid 1 there) for one restart: it forks
 * the restarting child, which becomes pid 2.  What that child turns into
 * sees no task outside the namespace and can signal none: kill(-1, ...)
 * reaches the namespace only, its exit signal (the image's) comes to this
 * init, and signals without a handler are not delivered to an init from
 * inside its namespace.  The init waits for the child, tells the test how
 * it ended and how many children it left behind (orphans are reparented
 * to the init, not to the test), and exits: that kills whatever is still
 * in the namespace.  The test kills the child when it overstays, and the
 * init too when the child does not end even then.
 *
 * The init shares the test's memory (CLONE_VM): a copy of it would cost
 * another fork per restart, 30% of the fuzzer's rate under TCG.  So it
 * keeps to system calls that do not fail (errno is the test's), never
 * calls fork() (its handlers take the test's locks) and lives on a stack
 * of its own.
 */
struct ns_args {
	int imgfd, logfd, wr;
	const struct tf_run *o;
};

static char ns_stack[64 * 1024] __attribute__((aligned(16)));

static int ns_init(void *arg)
{
	const struct ns_args *a = arg;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	pid_t child, pids[256];
	long long end;
	sigset_t all;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "tf-pidns-init");
	if (a->wr >= 0)
		close(a->wr);
	/* A copy of the memory, with a stack in it: returns 0 there. */
	child = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (child < 0)
		_exit(1);
	if (child == 0)
		restart_child(a->imgfd, a->logfd, a->o);
	close(a->imgfd);
	close(a->logfd);
	/*
	 * No signal from inside: those without a handler are not delivered
	 * to an init, those with one (the test's) stay blocked.  SIGCHLD is
	 * not ignored, so that orphans that end stay as zombies to count.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sigaction(SIGCHLD, &dfl, NULL);
	while (waitpid(child, &status, __WALL) != child)
		;
	/*
	 * Orphans that were killed (a failed tree restart's tasks) get a
	 * moment to end; the zombies are reaped (only when there are some:
	 * a failed waitpid() would set the test's errno).
	 */
	end = tf_now_ms() + 1000;
	while (children(pids, 256) && tf_now_ms() < end) {
		while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
			;
		if (children(pids, 256))
			tf_sleep_ms(5);
	}
	slot->leftovers = children(pids, 256);
	slot->status = status;
	slot->ended = 1;
	_exit(0);
}

/* The init of a new pid namespace (see ns_init) */
static pid_t start_ns_init(struct ns_args *a)
{
	pid_t pid;

	fflush(NULL);
	pid = clone(ns_init, ns_stack + sizeof(ns_stack),
		    CLONE_VM | CLONE_NEWPID | SIGCHLD, a);
	if (pid < 0)
		t_bail("clone(CLONE_NEWPID)");
	return pid;
}

static int image_source(const void *buf, size_t len, enum tf_src src, int *wr)
{
	char path[PATH_MAX];
	int p[2], fd;

	*wr = -1;
	if (src == TF_SRC_MEMFD)
		return tf_memfd(buf, len);
	if (src == TF_SRC_FILE) {
		fd = t_file_with(buf, len, O_RDONLY, path);
		if (fd < 0)
			t_bail("image file");
		unlink(path);
		return fd;
	}
	if (pipe2(p, O_CLOEXEC))
		t_bail("pipe");
	*wr = p[1];
	return p[0];
}

/* In restart(2) now: /proc/PID/syscall names it while it blocks. */
static int in_restart(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (tf_read_file(path, buf, sizeof(buf)))
		return 0;
	return atoi(buf) == __NR_restart || !strncmp(buf, "running", 7);
}

static void classify(struct tf_result *r, int status)
{
	/* A tree restored: how its root ended */
	if (slot->tree_restored)
		status = slot->tree_status;
	r->status = status;
	if (slot->returned) {
		r->outcome = TF_ERRNO;
		r->err = slot->err;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		r->outcome = TF_KILLED;
	} else if (WIFEXITED(status) && (WEXITSTATUS(status) == TF_RESTORED_OK ||
					 WEXITSTATUS(status) == TF_RESTORED_UNFIRED)) {
		r->outcome = TF_RESTORED;
		r->nth_unfired = WEXITSTATUS(status) == TF_RESTORED_UNFIRED;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == TF_RESTORED_BAD) {
		r->outcome = TF_RESTORED_WRONG;
	} else {
		r->outcome = TF_RESTORED_OTHER;
	}
}

/*
 * The restarting child's pid (as we see it): the first child of the init,
 * until the init reaped it.  0 if there is none.
 */
static pid_t ns_child(pid_t init)
{
	char path[64], buf[32];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", init, init);
	if (slot->ended || tf_read_file(path, buf, sizeof(buf)))
		return 0;
	return atoi(buf);
}

/* The tasks below pid, parents first (as /proc sees them); how many */
static size_t tree_tasks(pid_t pid, pid_t *pids, size_t max)
{
	char path[64], buf[1024], *p, *end;
	size_t n = 0, i;

	pids[n++] = pid;
	for (i = 0; i < n && n < max; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pids[i], pids[i]);
		if (tf_read_file(path, buf, sizeof(buf)))
			continue;
		for (p = buf; *p && n < max; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			pids[n++] = v;
		}
	}
	return n;
}

/* SIGKILL the k-th task of the tree under the coordinator of init */
static void kill_tree_task(pid_t init, int k)
{
	pid_t coord = ns_child(init), pids[64];
	size_t n;

	if (coord <= 0)
		return;
	n = tree_tasks(coord, pids, 64);
	if (n > 1)
		kill(pids[1 + k % (n - 1)], SIGKILL);
}

/*
 * Wait for the restarting child within the limits; r->outcome set when it
 * hung.  Its wait status, or -1.  With a pid namespace, init is its init,
 * to wait for instead, and the child's status comes from the slot.
 */
static int wait_child(pid_t child, pid_t init, const struct tf_run *o,
		      struct tf_result *r)
{
	int limit = o->limit_ms ? o->limit_ms : 10000;
	int grace = o->grace_ms ? o->grace_ms : 10000;
	pid_t waitee = init ? init : child;
	int status = -1;

	if (o->kill_after_us && o->tree) {
		long long end = tf_now_ms() + 10000;

		while (!slot->tree_called && !slot->ended && tf_now_ms() < end)
			tf_sleep_ms(1);
		usleep(o->kill_after_us);
		kill_tree_task(init, o->kill_task);
	} else if (o->kill_after_us) {
		long long end;

		usleep(o->kill_after_us);
		/* The init may not have forked it yet */
		end = tf_now_ms() + 1000;
		while (init && !slot->ended && !(child = ns_child(init)) &&
		       tf_now_ms() < end)
			sched_yield();
		if (child > 0)
			kill(child, SIGKILL);
	}
	status = tf_wait_ms(waitee, limit);
	if (status == -1) {
		if (init)
			child = ns_child(init);
		r->outcome = child > 0 && in_restart(child) ? TF_SLOW : TF_RUNNING;
		/* Not when the init just reaped it: the pid may be reused. */
		if (child > 0 && !slot->ended)
			kill(child, SIGKILL);
		status = tf_wait_ms(waitee, grace);
		if (status == -1) {
			r->outcome = TF_HANG;
			if (init)
				kill(init, SIGKILL);
			return -1;
		}
	}
	if (!init)
		return status;
	/*
	 * What a restored tree leaves to the init when its root ends is
	 * the image's doing (the init kills it); not what a failure left.
	 */
	if (!slot->tree_restored)
		r->leftovers += slot->leftovers;
	if (slot->ended)
		return slot->status;
	/* The init died first (killed): everything in it was killed too. */
	printf("# the pid namespace's init ended first (status 0x%x)\n", status);
	return W_EXITCODE(0, SIGKILL);
}

static void collect_leftovers(const pid_t *before, size_t nbefore,
			      struct tf_result *r)
{
	pid_t now[256];
	size_t n = children(now, 256), i;

	for (i = 0; i < n; i++) {
		if (known(now[i], before, nbefore))
			continue;
		r->leftovers++;
		kill(now[i], SIGKILL);
		tf_wait_ms(now[i], 5000);
	}
}

void tf_restart(const void *buf, size_t len, const struct tf_run *o,
		struct tf_result *r)
{
	pid_t before[256], child, init = 0, feeder = 0;
	size_t nbefore = children(before, 256);
	int imgfd, wr, logfd, status;
	struct ns_args ns;		/* the init reads it while it runs */
	long long t0 = tf_now_ms();
	char *log;

	memset(r, 0, sizeof(*r));
	tf_kmsg_scan(NULL, 0, 0);
	imgfd = image_source(buf, len, o->src, &wr);
	logfd = memfd_create("tf-log", MFD_CLOEXEC);
	if (logfd < 0)
		t_bail("memfd_create");
	ns = (struct ns_args){ imgfd, logfd, wr, o };
	memset((void *)slot, 0, sizeof(*slot));
	if (o->pidns) {
		/*
		 * The feeder first: the init copies the memory for the
		 * restarting child while this goes on, and fork() would
		 * hold malloc's and stdio's locks meanwhile.
		 */
		if (wr >= 0)
			feeder = t_feed(wr, buf, len);
		child = 0;
		init = start_ns_init(&ns);
	} else {
		child = tf_fork();
		if (child == 0) {
			if (wr >= 0)
				close(wr);
			restart_child(imgfd, logfd, o);
		}
		if (wr >= 0)
			feeder = t_feed(wr, buf, len);
	}
	if (wr >= 0)
		close(wr);
	close(imgfd);
	status = wait_child(child, init, o, r);
	r->ms = tf_now_ms() - t0;
	if (r->outcome != TF_HANG && r->outcome != TF_SLOW && r->outcome != TF_RUNNING)
		classify(r, status);
	if (feeder > 0) {
		kill(feeder, SIGKILL);
		waitpid(feeder, NULL, 0);
	}
	if (r->outcome != TF_HANG)
		collect_leftovers(before, nbefore, r);
	r->tree_bad = slot->tree_bad;
	snprintf(r->tree_why, sizeof(r->tree_why), "%s", slot->tree_why);
	log = read_all(logfd, NULL);
	close(logfd);
	snprintf(r->log, sizeof(r->log), "%s", log ? log : "");
	r->log_ok = r->outcome != TF_ERRNO || !r->err ||
		    !t_log_problem(log, r->err, NULL);
	free(log);
	r->reports = tf_kmsg_scan(r->report, sizeof(r->report), 0);
}

const char *tf_outcome_name(enum tf_outcome o)
{
	static const char *const names[TF_NR_OUTCOMES] = {
		"errno", "killed", "restored", "restored-wrong", "restored-other",
		"running", "slow", "HANG",
	};

	return o < TF_NR_OUTCOMES ? names[o] : "?";
}

const char *tf_result_str(const struct tf_result *r, char *buf, size_t sz)
{
	if (r->outcome == TF_ERRNO)
		snprintf(buf, sz, "%s", t_errname(r->err));
	else if (r->outcome == TF_RESTORED_OTHER && WIFSIGNALED(r->status))
		snprintf(buf, sz, "restored-other (signal %d)", WTERMSIG(r->status));
	else if (r->outcome == TF_RESTORED_OTHER)
		snprintf(buf, sz, "restored-other (exit %d)", WEXITSTATUS(r->status));
	else
		snprintf(buf, sz, "%s", tf_outcome_name(r->outcome));
	return buf;
}

int tf_result_ok(const struct tf_result *r, char *why, size_t sz)
{
	char o[64];

	tf_result_str(r, o, sizeof(o));
	if (r->reports)
		snprintf(why, sz, "kernel report \"%s\" (outcome %s)", r->report, o);
	else if (r->outcome == TF_HANG)
		snprintf(why, sz, "the restarting child did not end after SIGKILL");
	else if (r->outcome == TF_SLOW)
		snprintf(why, sz, "still in restart(2) after %ld ms", r->ms);
	else if (r->leftovers)
		snprintf(why, sz, "%d task(s) left behind (outcome %s)", r->leftovers, o);
	else if (r->tree_bad)
		snprintf(why, sz, "tree: %d task(s) wrong (outcome %s): %.200s",
			 r->tree_bad, o, r->tree_why);
	else if (!r->log_ok)
		snprintf(why, sz, "%s without a log line ending in \"(error -%d)\": \"%.150s\"",
			 o, r->err, r->log);
	else
		return 1;
	return 0;
}

void tf_hist_add(struct tf_hist *h, const struct tf_result *r)
{
	h->total++;
	h->outcome[r->outcome]++;
	if (r->outcome == TF_ERRNO)
		h->err[r->err & 255]++;
}

void tf_hist_print(const struct tf_hist *h, const char *prefix)
{
	char line[2048];
	size_t n = 0;
	int i;

	n += snprintf(line + n, sizeof(line) - n, "# %s: %lu runs:", prefix, h->total);
	for (i = 0; i < 256; i++)
		if (h->err[i] && n < sizeof(line) - 64)
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
				      t_errname(i), h->err[i]);
	for (i = 1; i < TF_NR_OUTCOMES; i++)
		if (h->outcome[i] && n < sizeof(line) - 64)
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
				      tf_outcome_name(i), h->outcome[i]);
	printf("%s\n", line);
}

/* Kernel reports */

static int is_report(const char *msg)
{
	static const char *const pats[] = {
		"BUG:", "WARNING:", "Oops", "general protection fault",
		"kernel BUG at", "Kernel panic", "KASAN:", "UBSAN:",
		"possible recursive locking", "possible circular locking",
		"inconsistent lock state", "suspicious RCU usage",
		"blocked for more than", "detected stalls on CPU",
		"self-detected stall", "unreferenced object",
	};
	size_t i;

	/* A user space crash (show_unhandled_signals) */
	if (!strncmp(msg, "traps: ", 7) || strstr(msg, " segfault at "))
		return 0;
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (strstr(msg, pats[i]))
			return 1;
	return 0;
}

int tf_kmsg_scan(char *first, size_t sz, int echo)
{
	char rec[2048];
	int n = 0;

	if (first && sz)
		first[0] = '\0';
	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t len = read(kmsg_fd, rec, sizeof(rec) - 1);
		unsigned long long usec = 0;
		char *msg;

		if (len < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* overwritten records: go on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		*msg++ = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		if (!is_report(msg))
			continue;
		sscanf(rec, "%*u,%*u,%llu", &usec);
		if (echo)
			printf("[%5llu.%06llu] %s\n", usec / 1000000, usec % 1000000, msg);
		if (!n++ && first)
			snprintf(first, sz, "%s", msg);
	}
	return n;
}

/* Reproducers */

/* POSIX cksum(1): CRC-32 (polynomial 0x04c11db7) of the bytes and length */
static uint32_t cksum(const unsigned char *p, size_t len)
{
	uint32_t crc = 0;
	size_t i, n;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (b = 0; b < 8; b++)
			crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
	}
	for (n = len; n; n >>= 8) {
		crc ^= (uint32_t)(n & 0xff) << 24;
		for (b = 0; b < 8; b++)
			crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
	}
	return ~crc;
}

void tf_repro_emit(const char *name, const char *why, const void *buf,
		   size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = buf;
	char line[80];
	size_t i, n = 0;

	printf("LINUXCR-REPRO-BEGIN %s %zu\n# why: %.300s\n", name, len, why);
	for (i = 0; i < len; i += 3) {
		uint32_t v = p[i] << 16;

		v |= i + 1 < len ? p[i + 1] << 8 : 0;
		v |= i + 2 < len ? p[i + 2] : 0;
		line[n++] = b64[v >> 18];
		line[n++] = b64[(v >> 12) & 63];
		line[n++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		line[n++] = i + 2 < len ? b64[v & 63] : '=';
		if (n == 76 || i + 3 >= len) {
			line[n] = '\0';
			printf("LINUXCR-REPRO: %s %s\n", name, line);
			n = 0;
		}
	}
	printf("LINUXCR-REPRO-END %s %u %zu\n", name, cksum(p, len), len);
	fflush(stdout);
}

/* System counters */

static long proc_field(const char *path, const char *key)
{
	char buf[8192], *p;

	if (tf_read_file(path, buf, sizeof(buf)))
		return -1;
	p = key ? strstr(buf, key) : buf;
	return p ? strtol(p + (key ? strlen(key) : 0), NULL, 10) : -1;
}

/*
 * Free pages cached on the per-cpu lists (the "count:" of every pageset in
 * /proc/zoneinfo), KiB.  MemFree and MemAvailable leave them out, and the
 * kernel tunes the lists' size up while a CPU frees a lot (up to an eighth
 * of the zone between the CPUs: tens of MiB in the guest) and back down
 * over seconds.
 */
static long pcp_free_kb(void)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256];
	long n, pages = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

long tf_mem_available(void)
{
	long avail = proc_field("/proc/meminfo", "MemAvailable:");

	return avail < 0 ? -1 : avail + pcp_free_kb();
}

long tf_files_allocated(void)
{
	return proc_field("/proc/sys/fs/file-nr", NULL);
}
