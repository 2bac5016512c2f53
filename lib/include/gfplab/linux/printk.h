/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/printk.h - printk() and the pr_*() family (Linux 6.12 include/linux/printk.h).
 *
 * A message's level travels in front of it as in the kernel (KERN_SOH and a digit). The
 * text goes to the process's kernel log: stderr with the level's name, or what the host
 * program chose (gfplab-run prints it as the module's log and counts errors). pr_debug()
 * prints only where DEBUG is defined, as without dynamic debug.
 */
#ifndef GFPLAB_LINUX_PRINTK_H
#define GFPLAB_LINUX_PRINTK_H

#include <gfplab/linux/compiler.h>

#define KERN_SOH     "\001"
#define KERN_EMERG   KERN_SOH "0"
#define KERN_ALERT   KERN_SOH "1"
#define KERN_CRIT    KERN_SOH "2"
#define KERN_ERR     KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE  KERN_SOH "5"
#define KERN_INFO    KERN_SOH "6"
#define KERN_DEBUG   KERN_SOH "7"
#define KERN_DEFAULT ""
#define KERN_CONT    KERN_SOH "c"

#define LOGLEVEL_EMERG   0
#define LOGLEVEL_ALERT   1
#define LOGLEVEL_CRIT    2
#define LOGLEVEL_ERR     3
#define LOGLEVEL_WARNING 4
#define LOGLEVEL_NOTICE  5
#define LOGLEVEL_INFO    6
#define LOGLEVEL_DEBUG   7

GFPLAB_EXTERN_C_BEGIN
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
GFPLAB_EXTERN_C_END

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

#define pr_emerg(fmt, ...)   printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...)   printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...)    printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...)     printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)    printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warning(fmt, ...) pr_warn(fmt, ##__VA_ARGS__)
#define pr_notice(fmt, ...)  printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)    printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...)    printk(KERN_CONT fmt, ##__VA_ARGS__)
#ifdef DEBUG
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#else
/* Type-checked, never printed. */
#define pr_debug(fmt, ...)                                                                         \
    do {                                                                                           \
        if (0)                                                                                     \
            printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__);                                         \
    } while (0)
#endif

#endif /* GFPLAB_LINUX_PRINTK_H */
