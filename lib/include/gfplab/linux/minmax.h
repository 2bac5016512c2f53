/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/minmax.h - min(), max(), clamp() and swap() (Linux 6.12
 * include/linux/minmax.h), as GNU C statement expressions that evaluate each argument once.
 *
 * C++ callers: these are function-like macros named min, max and swap, so include this
 * (or kernel.h) after every standard C++ header: those declare std::min, std::max and
 * std::swap, and libstdc++'s configuration header #undefs min and max.
 */
#ifndef GFPLAB_LINUX_MINMAX_H
#define GFPLAB_LINUX_MINMAX_H

#ifdef __cplusplus
#define __GFPLAB_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#else
#define __GFPLAB_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#endif

/* A fresh identifier per use, so that min(min(a, b), c) declares no local twice and
 * -Wshadow has nothing to say. */
#define __GFPLAB_PASTE_(a, b)   a##b
#define __GFPLAB_PASTE(a, b)    __GFPLAB_PASTE_(a, b)
#define __GFPLAB_UNIQUE(prefix) __GFPLAB_PASTE(prefix, __COUNTER__)

/* Whether a type, after the integer promotions, is signed. */
#define __gfplab_signed_type(type) ((type)-1 < 1)
#define __gfplab_signed(expr)      __gfplab_signed_type(__typeof__((expr) + 0))

/*
 * Whether expr is a non-negative integer constant. Only the sign bit is tested (no
 * comparison with 0), so an unsigned expr draws no -Wtype-limits warning. In C++,
 * __builtin_constant_p is a constant expression and the && keeps expr itself from being
 * evaluated when it is not constant. C asks whether expr is an integer constant
 * expression: (void *)(expr * 0) is a null pointer constant exactly then, and a null
 * pointer constant lets ?: keep the other arm's type, int *, while any other void * makes
 * the result a void * (whose target GNU C sizes as 1); __builtin_choose_expr then looks at
 * expr's value only when it is one.
 */
#define __gfplab_sign_bit_clear(expr)                                                              \
    (!((unsigned long long)(long long)(expr) >> (sizeof(long long) * 8 - 1)))
#ifdef __cplusplus
#define __gfplab_nonneg_const(expr) (__builtin_constant_p(expr) && __gfplab_sign_bit_clear(expr))
#else
#define __gfplab_is_ice(expr) (sizeof(int) == sizeof(*(1 ? (int *)0 : (void *)((long)(expr)*0L))))
#define __gfplab_nonneg_const(expr)                                                                \
    __builtin_choose_expr(__gfplab_is_ice(expr), __gfplab_sign_bit_clear(expr), 0)
#endif

/*
 * min() and max() compare in the type that x + y has. When that type is unsigned, a
 * negative signed operand would turn into a huge value; as in 6.12 a signed operand may
 * meet an unsigned one only when it is a non-negative constant: min(len, 16) builds for an
 * unsigned len, min(len, ret) with an int ret does not (say min_t(type, ...) instead).
 */
#define __gfplab_minmax_ok(x, y, ux, uy)                                                           \
    (__gfplab_signed((ux) + (uy)) || ((!__gfplab_signed(ux) || __gfplab_nonneg_const(x)) &&        \
                                      (!__gfplab_signed(uy) || __gfplab_nonneg_const(y))))

#define __gfplab_pick(op, a, b) ((a)op(b) ? (a) : (b))

#define __gfplab_minmax(op, x, y, ux, uy)                                                          \
    ({                                                                                             \
        __typeof__(x) ux = (x);                                                                    \
        __typeof__(y) uy = (y);                                                                    \
        __GFPLAB_STATIC_ASSERT(__gfplab_minmax_ok(x, y, ux, uy),                                   \
                               "min()/max(): a signed operand would compare as unsigned; "         \
                               "use min_t()/max_t()");                                             \
        __gfplab_pick(op, (__typeof__(ux + uy))ux, (__typeof__(ux + uy))uy);                       \
    })

#define min(x, y)                                                                                  \
    __gfplab_minmax(<, x, y, __GFPLAB_UNIQUE(__gfplab_min_x), __GFPLAB_UNIQUE(__gfplab_min_y))
#define max(x, y)                                                                                  \
    __gfplab_minmax(>, x, y, __GFPLAB_UNIQUE(__gfplab_max_x), __GFPLAB_UNIQUE(__gfplab_max_y))

/* Both operands converted to type first: no signedness question left to ask. */
#define min_t(type, x, y) min((type)(x), (type)(y))
#define max_t(type, x, y) max((type)(x), (type)(y))

/* val limited to [lo, hi]; lo <= hi is the caller's to keep. */
#define clamp(val, lo, hi)         min(max(val, lo), hi)
#define clamp_t(type, val, lo, hi) clamp((type)(val), (type)(lo), (type)(hi))
#define clamp_val(val, lo, hi)     clamp_t(__typeof__(val), val, lo, hi)

/* Exchanges two lvalues of the same type; each is evaluated twice. */
#define swap(a, b)                                                                                 \
    do {                                                                                           \
        __typeof__(a) __gfplab_swap_tmp = (a);                                                     \
        (a) = (b);                                                                                 \
        (b) = __gfplab_swap_tmp;                                                                   \
    } while (0)

#endif /* GFPLAB_LINUX_MINMAX_H */
