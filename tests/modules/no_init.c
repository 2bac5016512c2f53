// SPDX-License-Identifier: MIT
/* Forgets module_init(): gfplab-run refuses it (exit 3). */
#include <linux/module.h>

int no_init_helper(void);
int no_init_helper(void) {
    return 0;
}

MODULE_LICENSE("GPL");
