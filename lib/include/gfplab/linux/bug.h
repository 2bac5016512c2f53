/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/bug.h - WARN_ON(), BUG_ON() and friends (Linux 6.12 include/linux/bug.h and
 * asm-generic/bug.h).
 *
 * A warning is printed with its place to the kernel log and counted (gfplab-run exits 1 when
 * a module warned); the condition's value is returned, as the kernel's is. BUG() prints and
 * aborts, as an oops would end the task. The *_ONCE forms warn once per call site.
 */
#ifndef GFPLAB_LINUX_BUG_H
#define GFPLAB_LINUX_BUG_H

#include <gfplab/linux/compiler.h>

#include <stdbool.h>

GFPLAB_EXTERN_C_BEGIN
void __gfplab_warn(const char *file, unsigned int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
__attribute__((noreturn)) void __gfplab_bug(const char *file, unsigned int line, const char *cond);
GFPLAB_EXTERN_C_END

#define WARN_ON(condition)                                                                         \
    ({                                                                                             \
        int __ret_warn_on = !!(condition);                                                         \
        if (__builtin_expect(__ret_warn_on, 0))                                                    \
            __gfplab_warn(__FILE__, __LINE__, #condition, 0);                                      \
        __builtin_expect(__ret_warn_on, 0);                                                        \
    })
#define WARN(condition, format...)                                                                 \
    ({                                                                                             \
        int __ret_warn_on = !!(condition);                                                         \
        if (__builtin_expect(__ret_warn_on, 0))                                                    \
            __gfplab_warn(__FILE__, __LINE__, #condition, format);                                 \
        __builtin_expect(__ret_warn_on, 0);                                                        \
    })
#define WARN_ON_ONCE(condition)                                                                    \
    ({                                                                                             \
        static bool __warned;                                                                      \
        int __ret_warn_once = !!(condition);                                                       \
        if (__builtin_expect(__ret_warn_once && !__warned, 0)) {                                   \
            __warned = true;                                                                       \
            __gfplab_warn(__FILE__, __LINE__, #condition, 0);                                      \
        }                                                                                          \
        __builtin_expect(__ret_warn_once, 0);                                                      \
    })
#define WARN_ONCE(condition, format...)                                                            \
    ({                                                                                             \
        static bool __warned;                                                                      \
        int __ret_warn_once = !!(condition);                                                       \
        if (__builtin_expect(__ret_warn_once && !__warned, 0)) {                                   \
            __warned = true;                                                                       \
            __gfplab_warn(__FILE__, __LINE__, #condition, format);                                 \
        }                                                                                          \
        __builtin_expect(__ret_warn_once, 0);                                                      \
    })
#define BUG()                                                                                      \
    do {                                                                                           \
        __gfplab_bug(__FILE__, __LINE__, 0);                                                       \
    } while (0)
#define BUG_ON(condition)                                                                          \
    do {                                                                                           \
        if (__builtin_expect(!!(condition), 0))                                                    \
            __gfplab_bug(__FILE__, __LINE__, #condition);                                          \
    } while (0)

#ifdef __cplusplus
#define BUILD_BUG_ON(condition) static_assert(!(condition), "BUILD_BUG_ON(" #condition ")")
#else
#define BUILD_BUG_ON(condition) _Static_assert(!(condition), "BUILD_BUG_ON(" #condition ")")
#endif
#define BUILD_BUG_ON_MSG(condition, msg) BUILD_BUG_ON(condition)

#endif /* GFPLAB_LINUX_BUG_H */
