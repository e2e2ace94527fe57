/* SPDX-License-Identifier: GPL-2.0 */
/*
 * checkpoint(2) and restart(2) wrappers.
 *
 * libc has no wrappers for these system calls; the numbers come from the
 * installed uapi <asm/unistd.h> once the syscall tables carry them, and from
 * here until then.
 */
#ifndef CKPTSYS_H
#define CKPTSYS_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#ifndef __NR_checkpoint
# if defined(__x86_64__)
#  define __NR_checkpoint	463
#  define __NR_restart		464
# else
#  error "checkpoint(2)/restart(2) numbers unknown on this architecture"
# endif
#endif

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags,
				  int logfd)
{
	return syscall(__NR_checkpoint, pid, fd, flags, logfd);
}

static inline long sys_restart(pid_t pid, int fd, unsigned long flags,
			       int logfd)
{
	return syscall(__NR_restart, pid, fd, flags, logfd);
}

#endif /* CKPTSYS_H */
