// SPDX-License-Identifier: GPL-2.0
/*
 * Signal state survives checkpoint, SIGKILL and restart(2): handlers and
 * their flags and masks, the blocked mask, a blocked pending signal (with
 * its siginfo) delivered after the restart when unblocked, an ignored
 * signal, sigaltstack and a handler that runs on it.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlib.h"

static volatile int usr1_count, usr2_count, rt_count, rt_value;
static volatile int usr1_code, usr1_pid, rt_code, rt_pid, order;
static volatile uintptr_t usr2_sp;
static char altstack[65536] __attribute__((aligned(16)));

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr1_count++;
	usr1_code = si->si_code;
	usr1_pid = si->si_pid;
	order = order * 10 + 1;
}

static void on_usr2(int sig)
{
	int local;

	(void)sig;
	usr2_count++;
	usr2_sp = (uintptr_t)&local;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	rt_count++;
	rt_code = si->si_code;
	rt_pid = si->si_pid;
	rt_value = si->si_value.sival_int;
	order = order * 10 + 2;
}

static void sig_subject(void *arg)
{
	struct sigaction sa = { 0 }, old;
	sigset_t set, pend, cur;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, oss;
	pid_t me = getpid();

	(void)arg;
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	sigaction(SIGUSR1, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_DFL);	/* a background job starts with it ignored */
	sigaltstack(&ss, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(me, SIGUSR1);	/* pending, si_pid = me */
	sigqueue(me, SIGRTMIN + 2, (union sigval){ .sival_int = 4242 });

	t_subj_ready();
	t_subj_wait_go();

	sigprocmask(SIG_SETMASK, NULL, &cur);
	t_subj_check(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGTERM) &&
		     sigismember(&cur, SIGRTMIN + 2) && !sigismember(&cur, SIGUSR2),
		     "blocked mask", "USR1 %d TERM %d RT+2 %d USR2 %d",
		     sigismember(&cur, SIGUSR1), sigismember(&cur, SIGTERM),
		     sigismember(&cur, SIGRTMIN + 2), sigismember(&cur, SIGUSR2));
	sigpending(&pend);
	t_subj_check(sigismember(&pend, SIGUSR1) && sigismember(&pend, SIGRTMIN + 2) &&
		     !sigismember(&pend, SIGTERM), "pending signals",
		     "USR1 %d RT+2 %d TERM %d", sigismember(&pend, SIGUSR1),
		     sigismember(&pend, SIGRTMIN + 2), sigismember(&pend, SIGTERM));
	sigaction(SIGUSR1, NULL, &old);
	t_subj_check(old.sa_sigaction == on_usr1 &&
		     (old.sa_flags & (SA_SIGINFO | SA_RESTART)) == (SA_SIGINFO | SA_RESTART) &&
		     sigismember(&old.sa_mask, SIGWINCH) &&
		     !sigismember(&old.sa_mask, SIGINT), "SIGUSR1 action",
		     "handler %p flags %#x", (void *)old.sa_sigaction, old.sa_flags);
	sigaction(SIGHUP, NULL, &old);
	t_subj_check(old.sa_handler == SIG_IGN, "SIGHUP ignored", "handler %p",
		     (void *)old.sa_handler);
	sigaction(SIGINT, NULL, &old);
	t_subj_check(old.sa_handler == SIG_DFL, "SIGINT default", "handler %p",
		     (void *)old.sa_handler);
	sigaltstack(NULL, &oss);
	t_subj_check(oss.ss_sp == altstack && oss.ss_size == sizeof(altstack) &&
		     !(oss.ss_flags & SS_DISABLE), "sigaltstack",
		     "sp %p size %zu flags %#x", oss.ss_sp, oss.ss_size, oss.ss_flags);

	t_subj_check(usr1_count == 0 && rt_count == 0, "nothing delivered while blocked",
		     "usr1 %d rt %d", usr1_count, rt_count);
	/*
	 * Both are delivered on the way out of sigprocmask(): SIGUSR1 is
	 * dequeued first (lowest number), the real-time signal's frame goes
	 * on top of it, so its handler runs first; the order is not checked.
	 * Each handler keeps its own siginfo: the sender is the subject as it
	 * was checkpointed (me, its pid then).
	 */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	t_subj_check(usr1_count == 1 && rt_count == 1,
		     "pending signals delivered once unblocked",
		     "usr1 %d rt %d (handler order %d)", usr1_count, rt_count, order);
	t_subj_check(usr1_code == SI_USER && usr1_pid == me,
		     "SIGUSR1 keeps its siginfo (SI_USER, the sender's pid)",
		     "si_code %d si_pid %d, expected %d %d", usr1_code, usr1_pid,
		     SI_USER, me);
	t_subj_check(rt_code == SI_QUEUE && rt_pid == me && rt_value == 4242,
		     "SIGRTMIN+2 keeps its siginfo (SI_QUEUE, the sender's pid, value)",
		     "si_code %d si_pid %d value %d, expected %d %d 4242", rt_code,
		     rt_pid, rt_value, SI_QUEUE, me);
	kill(getpid(), SIGUSR2);
	t_subj_check(usr2_count == 1 && usr2_sp >= (uintptr_t)altstack &&
		     usr2_sp < (uintptr_t)altstack + sizeof(altstack),
		     "SA_ONSTACK handler runs on the alternate stack",
		     "count %d sp %#lx", usr2_count, (unsigned long)usr2_sp);
	kill(getpid(), SIGHUP);
	t_subj_check(1, "ignored SIGHUP stays ignored", " ");
}

int main(void)
{
	t_subj_run("signals", sig_subject, NULL, 0);
	return t_done();
}
