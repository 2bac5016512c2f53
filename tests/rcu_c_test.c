/* SPDX-License-Identifier: MIT */
/*
 * RCU's C face as kernel C code uses it on the default System: a list head published with
 * rcu_assign_pointer() and read under rcu_read_lock(), replaced and freed with kfree_rcu()
 * (two arguments) and kvfree_rcu_mightsleep() (one), call_rcu() with rcu_barrier(), polled
 * grace periods, and kvfree_rcu_barrier().
 */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/rcupdate.h>
#include <gfplab/linux/slab.h>

#include <stdio.h>

#include "support/check.h"

struct conf {
    int version;
    struct rcu_head rcu;
};

static struct conf *current_conf;
static int callbacks_run;

static void conf_free_cb(struct rcu_head *head) {
    struct conf *c = (struct conf *)((char *)head - offsetof(struct conf, rcu));
    callbacks_run++;
    kfree(c);
}

static int read_version(void) {
    int v;
    rcu_read_lock();
    CHECK(rcu_read_lock_held());
    v = rcu_dereference(current_conf)->version;
    rcu_read_unlock();
    return v;
}

int main(void) {
    struct conf *c = kmalloc(sizeof(*c), GFP_KERNEL);
    struct conf *old;
    unsigned long cookie;
    void *buf;

    CHECK(c != NULL);
    c->version = 1;
    rcu_assign_pointer(current_conf, c);
    CHECK(read_version() == 1);

    /* Replace, then free the old one after readers are done: two-argument kfree_rcu(). */
    c = kmalloc(sizeof(*c), GFP_KERNEL);
    c->version = 2;
    old = rcu_replace_pointer(current_conf, c, 1);
    CHECK(old && old->version == 1);
    kfree_rcu(old, rcu);
    CHECK(read_version() == 2);

    /* The same with call_rcu() and a callback of our own. */
    c = kmalloc(sizeof(*c), GFP_KERNEL);
    c->version = 3;
    old = rcu_replace_pointer(current_conf, c, 1);
    call_rcu(&old->rcu, conf_free_cb);
    rcu_barrier();
    CHECK(callbacks_run == 1);

    /* Head-less: may wait for a grace period itself. */
    buf = kmalloc(200, GFP_KERNEL);
    kvfree_rcu_mightsleep(buf);
    kfree_rcu_mightsleep((void *)NULL); /* NULL is a no-op */

    cookie = get_state_synchronize_rcu();
    CHECK(!poll_state_synchronize_rcu(cookie));
    synchronize_rcu();
    CHECK(poll_state_synchronize_rcu(cookie));
    cond_synchronize_rcu(cookie);

    kvfree_rcu_barrier();
    old = rcu_replace_pointer(current_conf, NULL, 1);
    kfree(old);
    if (failures)
        fprintf(stderr, "rcu_c_test: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
