// SPDX-License-Identifier: MIT
/* A shared object that defines no workload descriptor: a host must say so and exit 2. */
int not_a_plugin(void);

int not_a_plugin(void) {
    return 0;
}
