/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/errno.h - error numbers (Linux 6.12 include/linux/errno.h): the ones user
 * space sees come from the kernel's UAPI header <asm/errno.h>, so they are the kernel's
 * values; the numbers from 512 up never leave the kernel and are added here.
 *
 * Not the C library's <errno.h>: that one includes <linux/errno.h>, which inside the kernel
 * include root is this header again, and would find it already guarded and empty.
 */
#ifndef GFPLAB_LINUX_ERRNO_H
#define GFPLAB_LINUX_ERRNO_H

#include <asm/errno.h>

/* A system call interrupted by a signal, and how (or whether) it is restarted. */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif
#ifndef ERESTARTNOINTR
#define ERESTARTNOINTR 513
#endif
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND 514 /* restarted only when no handler ran */
#endif
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD 515 /* a driver does not know this ioctl */
#endif
#ifndef ERESTART_RESTARTBLOCK
#define ERESTART_RESTARTBLOCK 516 /* restarted through restart_block */
#endif
#ifndef EPROBE_DEFER
#define EPROBE_DEFER 517 /* a driver asks to be probed again later */
#endif
#ifndef EOPENSTALE
#define EOPENSTALE 518 /* open found a stale dentry */
#endif
#ifndef ENOPARAM
#define ENOPARAM 519 /* no such mount parameter */
#endif

/* NFS's own codes, which other kernel code borrows. */
#ifndef EBADHANDLE
#define EBADHANDLE 521
#endif
#ifndef ENOTSYNC
#define ENOTSYNC 522
#endif
#ifndef EBADCOOKIE
#define EBADCOOKIE 523
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* not EOPNOTSUPP: this one must not reach user space */
#endif
#ifndef ETOOSMALL
#define ETOOSMALL 525
#endif
#ifndef ESERVERFAULT
#define ESERVERFAULT 526
#endif
#ifndef EBADTYPE
#define EBADTYPE 527
#endif
#ifndef EJUKEBOX
#define EJUKEBOX 528
#endif
#ifndef EIOCBQUEUED
#define EIOCBQUEUED 529 /* an asynchronous I/O was queued */
#endif
#ifndef ERECALLCONFLICT
#define ERECALLCONFLICT 530
#endif
#ifndef ENOGRACE
#define ENOGRACE 531
#endif

#endif /* GFPLAB_LINUX_ERRNO_H */
