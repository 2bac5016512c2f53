/* SPDX-License-Identifier: MIT */
/*
 * CHECK() for the C face tests: a failed condition is printed with its place and counted
 * in `failures`, which the test's main() turns into its exit status.
 */
#ifndef GFPLAB_TESTS_SUPPORT_CHECK_H
#define GFPLAB_TESTS_SUPPORT_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
