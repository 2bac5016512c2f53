/* SPDX-License-Identifier: MIT */
/* gfplab/linux/compiler.h - what lets one header serve C and C++ callers. */
#ifndef GFPLAB_LINUX_COMPILER_H
#define GFPLAB_LINUX_COMPILER_H

#ifdef __cplusplus
/* In C++ the kernel's small helpers are constexpr, so tables and tests can use them at
 * compile time; in C they are the usual static inline functions. */
#define GFPLAB_INLINE         constexpr inline
#define GFPLAB_EXTERN_C_BEGIN extern "C" {
#define GFPLAB_EXTERN_C_END   }
#else
#define GFPLAB_INLINE static inline
#define GFPLAB_EXTERN_C_BEGIN
#define GFPLAB_EXTERN_C_END
#endif

#endif /* GFPLAB_LINUX_COMPILER_H */
