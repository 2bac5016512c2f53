/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/module.h - what a self-contained test module declares about itself (Linux
 * 6.12 include/linux/module.h).
 *
 * A module builds into a shared object; gfplab-run loads it, calls the function named by
 * module_init() and, if that returned 0, the one named by module_exit(). They are found by
 * the symbols below, which a module defines once each. MODULE_LICENSE() and
 * MODULE_DESCRIPTION() are printed by gfplab-run; the other tags are accepted.
 */
#ifndef GFPLAB_LINUX_MODULE_H
#define GFPLAB_LINUX_MODULE_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/init.h>

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#define GFPLAB_MODULE_EXPORT __attribute__((used, visibility("default")))

/* The extern declarations make the definitions below external in C and C++ alike, and a
 * wrong function type a compile error, as the kernel's __inittest does. */
#define module_init(initfn)                                                                        \
    GFPLAB_EXTERN_C_BEGIN extern const initcall_t gfplab_module_init;                              \
    GFPLAB_EXTERN_C_END GFPLAB_MODULE_EXPORT const initcall_t gfplab_module_init = initfn
#define module_exit(exitfn)                                                                        \
    GFPLAB_EXTERN_C_BEGIN extern const exitcall_t gfplab_module_exit;                              \
    GFPLAB_EXTERN_C_END GFPLAB_MODULE_EXPORT const exitcall_t gfplab_module_exit = exitfn

#define GFPLAB_MODULE_TAG(symbol, value)                                                           \
    GFPLAB_EXTERN_C_BEGIN extern const char symbol[];                                              \
    GFPLAB_EXTERN_C_END GFPLAB_MODULE_EXPORT const char symbol[] = value

#define MODULE_LICENSE(license)  GFPLAB_MODULE_TAG(gfplab_module_license, license)
#define MODULE_DESCRIPTION(text) GFPLAB_MODULE_TAG(gfplab_module_description, text)
#define GFPLAB_TAG_CONCAT2(a, b) a##b
#define GFPLAB_TAG_CONCAT(a, b)  GFPLAB_TAG_CONCAT2(a, b)
#define GFPLAB_MODULE_UNUSED(value)                                                                \
    static const char GFPLAB_TAG_CONCAT(__gfplab_modinfo_, __LINE__)[] __attribute__((unused)) =   \
        value
#define MODULE_AUTHOR(author) GFPLAB_MODULE_UNUSED(author)
#define MODULE_VERSION(v)     GFPLAB_MODULE_UNUSED(v)
#define MODULE_ALIAS(alias)   GFPLAB_MODULE_UNUSED(alias)
#define MODULE_SOFTDEP(dep)   GFPLAB_MODULE_UNUSED(dep)

#define THIS_MODULE            ((struct module *)0)
#define EXPORT_SYMBOL(sym)     extern int __gfplab_export_unused
#define EXPORT_SYMBOL_GPL(sym) extern int __gfplab_export_unused

struct module;

#endif /* GFPLAB_LINUX_MODULE_H */
