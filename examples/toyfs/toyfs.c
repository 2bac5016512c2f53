// SPDX-License-Identifier: MIT
/*
 * toyfs - a small in-memory filesystem written as kernel code, driven as a gfplab workload.
 *
 * One superblock, one flat directory. The locking is a real filesystem's in miniature:
 *
 *   s_umount (rwsem)     remount holds it for write; the shrinker only trylocks it for read
 *   s_lock (mutex)       the "superblock lock" (ext2's sbi->s_lock): inode bitmap, free
 *                        counts, commit sequence. Taken by transactions, and by inode
 *                        eviction, which runs from the shrinker, i.e. inside reclaim
 *   s_ns_lock (spin)     the name hash, s_inodes, i_count, i_nlink, d_inode, state flags
 *   lru locks (spin)     inside list_lru; taken under s_ns_lock, never the other way round
 *   s_blocks_lock (spin) the free block count
 *   i_lock (spin)        one inode's data pages
 *
 * Order: s_umount -> s_lock -> s_ns_lock -> lru lock. Since eviction takes s_lock inside
 * reclaim, every allocation made under s_lock must not enter fs reclaim: a transaction
 * opens memalloc_nofs_save() for as long as it holds s_lock, and GFP_KERNEL inside it is
 * GFP_NOFS. Remount may allocate with GFP_KERNEL under s_umount because reclaim never
 * waits for s_umount (super_cache_scan() style trylock).
 *
 * Built with -DTOYFS_BUGGY the same source is toyfs-buggy: args "bug=nofs", "bug=scope",
 * "bug=spinlock" switch on three classic mistakes (see the BUG markers).
 */
#define pr_fmt(fmt) "toyfs: " fmt

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/list_lru.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include <gfplab/workload.h>

#define TOYFS_MAX_PAGES    4 /* data extents per file (each one or two pages) */
#define TOYFS_HASH_SIZE    1024
#define TOYFS_NAME_LEN     12
#define TOYFS_XATTR_SIZE   192 /* the security label every inode carries */
#define TOYFS_COMMIT_SIZE  1024
#define TOYFS_OPTS_SIZE    256
#define TOYFS_DEF_FILES    4096
#define TOYFS_DEF_BLOCKS   2048 /* 8 MiB of file data at most */
#define TOYFS_DCACHE_REF   0x1  /* d_flags: looked up since the last lru walk */
#define TOYFS_I_REFERENCED 0x1  /* i_state: give it one more trip round the lru */
#define TOYFS_I_FREEING    0x2  /* i_state: isolated for eviction, unreachable */

struct toyfs_extent {
    struct page *page;
    unsigned int order;
};

struct toyfs_inode {
    unsigned long i_ino;
    unsigned int i_count;       /* s_ns_lock: the dentry's reference plus users' */
    unsigned int i_nlink;       /* s_ns_lock */
    unsigned int i_state;       /* s_ns_lock */
    struct list_head i_sb_list; /* s_inodes, s_ns_lock */
    struct list_head i_lru;     /* s_inode_lru: unlinked and unused, awaiting eviction */
    spinlock_t i_lock;          /* i_data, i_nr_pages */
    unsigned int i_nr_pages;
    struct toyfs_extent i_data[TOYFS_MAX_PAGES];
    void *i_xattr; /* set at creation, freed at eviction */
};

struct toyfs_dentry {
    struct hlist_node d_hash;    /* s_hash, s_ns_lock */
    struct list_head d_lru;      /* s_dentry_lru: negative dentries, the name cache */
    struct toyfs_inode *d_inode; /* s_ns_lock; NULL: negative */
    unsigned int d_flags;        /* s_ns_lock */
    u32 d_hashval;
    char d_iname[TOYFS_NAME_LEN];
};

struct toyfs_sb_info {
    struct rw_semaphore s_umount;
    struct mutex s_lock;
    unsigned long *s_inode_map; /* s_lock; bit n: inode n + 1 in use */
    unsigned int s_max_inodes;
    unsigned int s_free_inodes;      /* s_lock */
    unsigned long long s_commit_seq; /* s_lock */
    spinlock_t s_ns_lock;
    struct hlist_head s_hash[TOYFS_HASH_SIZE];
    struct list_head s_inodes;
    spinlock_t s_blocks_lock;
    unsigned long s_free_blocks; /* s_blocks_lock */
    unsigned int s_max_pages;    /* written under s_umount (remount), read racily */
    unsigned int s_nr_names;
    struct list_lru s_dentry_lru;
    struct list_lru s_inode_lru;
    struct shrinker *s_shrink;
};

/* A transaction: s_lock held, and a NOFS scope open for exactly as long. */
struct toyfs_trans {
    unsigned int nofs;
};

/* An open file, as lookup hands it out (struct file's stand-in). */
struct toyfs_file {
    struct toyfs_inode *f_inode;
    u32 f_csum;
};

static struct toyfs_sb_info *toyfs_sbi;
static struct kmem_cache *toyfs_inode_cachep;
static struct kmem_cache *toyfs_dentry_cachep;

#ifdef TOYFS_BUGGY
#define TOYFS_BUG_NOFS     0x1
#define TOYFS_BUG_SCOPE    0x2
#define TOYFS_BUG_SPINLOCK 0x4
static unsigned int toyfs_bugs;
/*
 * Set around the buggy allocations. The deadlocks they invite are real: a thread in reclaim
 * that already holds s_lock (or s_ns_lock) would wait for itself in toyfs_evict_inode(), and
 * gfplab's locks would then spin for ever. By the time reclaim runs the checker has already
 * seen the mistake, so the shrinker steps aside on that thread rather than hang the host.
 */
static __thread bool toyfs_reclaim_unsafe;

static bool toyfs_bug(unsigned int bug) {
    return toyfs_bugs & bug;
}
#endif

static void toyfs_trans_begin(struct toyfs_sb_info *sbi, struct toyfs_trans *t) {
    mutex_lock(&sbi->s_lock);
    t->nofs = memalloc_nofs_save();
}

static void toyfs_trans_end(struct toyfs_sb_info *sbi, struct toyfs_trans *t) {
    /* The scope closes while the lock is still held: nothing between may allocate. */
    memalloc_nofs_restore(t->nofs);
    mutex_unlock(&sbi->s_lock);
}

/* Inode numbers: s_lock held. 0 when the bitmap is full. */
static unsigned long toyfs_alloc_ino(struct toyfs_sb_info *sbi) {
    unsigned int i;

    for (i = 0; i < sbi->s_max_inodes; i++) {
        unsigned long *word = &sbi->s_inode_map[i / BITS_PER_LONG];
        unsigned long bit = 1UL << (i % BITS_PER_LONG);

        if (!(*word & bit)) {
            *word |= bit;
            sbi->s_free_inodes--;
            return i + 1;
        }
    }
    return 0;
}

static void toyfs_free_ino(struct toyfs_sb_info *sbi, unsigned long ino) {
    unsigned long i = ino - 1;

    WARN_ON(!(sbi->s_inode_map[i / BITS_PER_LONG] & (1UL << (i % BITS_PER_LONG))));
    sbi->s_inode_map[i / BITS_PER_LONG] &= ~(1UL << (i % BITS_PER_LONG));
    sbi->s_free_inodes++;
}

static bool toyfs_reserve_blocks(struct toyfs_sb_info *sbi, unsigned long n) {
    bool ok;

    spin_lock(&sbi->s_blocks_lock);
    ok = sbi->s_free_blocks >= n;
    if (ok)
        sbi->s_free_blocks -= n;
    spin_unlock(&sbi->s_blocks_lock);
    return ok;
}

static void toyfs_release_blocks(struct toyfs_sb_info *sbi, unsigned long n) {
    spin_lock(&sbi->s_blocks_lock);
    sbi->s_free_blocks += n;
    spin_unlock(&sbi->s_blocks_lock);
}

static u32 toyfs_hash(const char *name) {
    u32 h = 2166136261u;

    while (*name)
        h = (h ^ (unsigned char)*name++) * 16777619u;
    return h;
}

/* Names are "f<n>", n drawn from a quarter of the inode count. */
static u32 toyfs_pick_name(struct gfplab_workload_ctx *ctx, char *name) {
    unsigned long n = gfplab_workload_below(ctx, toyfs_sbi->s_nr_names);
    char digits[TOYFS_NAME_LEN];
    int len = 0, i = 0;

    do {
        digits[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    name[i++] = 'f';
    while (len)
        name[i++] = digits[--len];
    name[i] = '\0';
    return toyfs_hash(name);
}

/* s_ns_lock held. */
static struct toyfs_dentry *toyfs_d_lookup(struct toyfs_sb_info *sbi, const char *name, u32 hash) {
    struct toyfs_dentry *d;

    hlist_for_each_entry(d, &sbi->s_hash[hash % TOYFS_HASH_SIZE], d_hash) {
        if (d->d_hashval == hash && !strcmp(d->d_iname, name))
            return d;
    }
    return NULL;
}

/* The inode's memory and data; it is unreachable and its number already returned. */
static void toyfs_destroy_inode(struct toyfs_sb_info *sbi, struct toyfs_inode *inode) {
    unsigned long blocks = 0;
    unsigned int i;

    for (i = 0; i < inode->i_nr_pages; i++) {
        __free_pages(inode->i_data[i].page, inode->i_data[i].order);
        blocks += 1UL << inode->i_data[i].order;
    }
    if (blocks)
        toyfs_release_blocks(sbi, blocks);
    kfree(inode->i_xattr);
    kmem_cache_free(toyfs_inode_cachep, inode);
}

/*
 * Like a journalling fs's evict_inode(): freeing the inode number is a transaction, so it
 * takes s_lock with mutex_lock() even when called from the shrinker, inside reclaim. That
 * is safe only because nobody allocates with __GFP_FS while holding s_lock.
 */
static void toyfs_evict_inode(struct toyfs_sb_info *sbi, struct toyfs_inode *inode) {
    struct toyfs_trans t;

    toyfs_trans_begin(sbi, &t);
    toyfs_free_ino(sbi, inode->i_ino);
    toyfs_trans_end(sbi, &t);
    toyfs_destroy_inode(sbi, inode);
}

/* s_ns_lock held: the last reference to an unlinked inode went; park it for eviction. */
static void toyfs_inode_unused(struct toyfs_sb_info *sbi, struct toyfs_inode *inode) {
    /* As iput_final() does with __inode_add_lru(inode, true): one rotation before it goes. */
    inode->i_state |= TOYFS_I_REFERENCED;
    list_lru_add_obj(&sbi->s_inode_lru, &inode->i_lru);
}

static struct toyfs_inode *toyfs_iget(struct toyfs_sb_info *sbi, const char *name, u32 hash) {
    struct toyfs_inode *inode = NULL;
    struct toyfs_dentry *d;

    spin_lock(&sbi->s_ns_lock);
    d = toyfs_d_lookup(sbi, name, hash);
    if (d) {
        d->d_flags |= TOYFS_DCACHE_REF;
        inode = d->d_inode;
        if (inode)
            inode->i_count++;
    }
    spin_unlock(&sbi->s_ns_lock);
    return inode;
}

static void toyfs_iput(struct toyfs_sb_info *sbi, struct toyfs_inode *inode) {
    spin_lock(&sbi->s_ns_lock);
    if (!--inode->i_count && !inode->i_nlink)
        toyfs_inode_unused(sbi, inode);
    spin_unlock(&sbi->s_ns_lock);
}

/*
 * The lru walks hold the lru lock, which ranks below s_ns_lock: only a trylock here, as
 * dentry_lru_isolate() only trylocks d_lock.
 */
static enum lru_status toyfs_dentry_isolate(struct list_head *item, struct list_lru_one *lru,
                                            spinlock_t *lru_lock, void *arg) {
    struct toyfs_dentry *d = container_of(item, struct toyfs_dentry, d_lru);
    struct toyfs_sb_info *sbi = toyfs_sbi;
    enum lru_status ret = LRU_REMOVED;

    (void)lru_lock;
    if (!spin_trylock(&sbi->s_ns_lock))
        return LRU_SKIP;
    if (d->d_inode) {
        /* A create made it positive again: it leaves the lru lazily, here. */
        list_lru_isolate(lru, &d->d_lru);
    } else if (d->d_flags & TOYFS_DCACHE_REF) {
        d->d_flags &= ~TOYFS_DCACHE_REF;
        ret = LRU_ROTATE;
    } else {
        /* Unhashed under both locks: once on the dispose list, no lookup can find it. */
        hlist_del_init(&d->d_hash);
        list_lru_isolate_move(lru, &d->d_lru, arg);
    }
    spin_unlock(&sbi->s_ns_lock);
    return ret;
}

static enum lru_status toyfs_inode_isolate(struct list_head *item, struct list_lru_one *lru,
                                           spinlock_t *lru_lock, void *arg) {
    struct toyfs_inode *inode = container_of(item, struct toyfs_inode, i_lru);
    struct toyfs_sb_info *sbi = toyfs_sbi;
    enum lru_status ret = LRU_REMOVED;

    (void)lru_lock;
    if (!spin_trylock(&sbi->s_ns_lock))
        return LRU_SKIP;
    if (inode->i_count) {
        list_lru_isolate(lru, &inode->i_lru);
    } else if (inode->i_state & TOYFS_I_REFERENCED) {
        inode->i_state &= ~TOYFS_I_REFERENCED;
        ret = LRU_ROTATE;
    } else {
        inode->i_state |= TOYFS_I_FREEING;
        list_del_init(&inode->i_sb_list);
        list_lru_isolate_move(lru, &inode->i_lru, arg);
    }
    spin_unlock(&sbi->s_ns_lock);
    return ret;
}

static unsigned long toyfs_dispose_dentries(struct list_head *dispose) {
    struct toyfs_dentry *d, *next;
    unsigned long n = 0;

    list_for_each_entry_safe(d, next, dispose, d_lru) {
        list_del_init(&d->d_lru);
        kmem_cache_free(toyfs_dentry_cachep, d);
        n++;
    }
    return n;
}

static unsigned long toyfs_dispose_inodes(struct toyfs_sb_info *sbi, struct list_head *dispose) {
    struct toyfs_inode *inode, *next;
    unsigned long n = 0;

    list_for_each_entry_safe(inode, next, dispose, i_lru) {
        list_del_init(&inode->i_lru);
        toyfs_evict_inode(sbi, inode);
        n++;
    }
    return n;
}

static unsigned long toyfs_cache_count(struct shrinker *shrink, struct shrink_control *sc) {
    struct toyfs_sb_info *sbi = shrink->private_data;
    unsigned long total;

    /* A hint, read without locks, as super_cache_count() reads it. */
    total = list_lru_shrink_count(&sbi->s_dentry_lru, sc) +
            list_lru_shrink_count(&sbi->s_inode_lru, sc);
    return total ? total : SHRINK_EMPTY;
}

/* super_cache_scan(): dentries first (they pin nothing here, but that is the order), then
 * inodes, each in proportion to its share of the lrus. */
static unsigned long toyfs_cache_scan(struct shrinker *shrink, struct shrink_control *sc) {
    struct toyfs_sb_info *sbi = shrink->private_data;
    unsigned long dentries, inodes, total, nr = sc->nr_to_scan, freed;
    LIST_HEAD(dispose);

    /* Without __GFP_FS we may be inside a transaction, holding the s_lock eviction takes. */
    if (!(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
#ifdef TOYFS_BUGGY
    if (toyfs_reclaim_unsafe)
        return SHRINK_STOP;
#endif
    /* Remount holds s_umount for write across GFP_KERNEL allocations: never wait for it. */
    if (!down_read_trylock(&sbi->s_umount))
        return SHRINK_STOP;

    dentries = list_lru_shrink_count(&sbi->s_dentry_lru, sc);
    inodes = list_lru_shrink_count(&sbi->s_inode_lru, sc);
    total = dentries + inodes + 1;
    dentries = (unsigned long)((unsigned long long)nr * dentries / total);
    inodes = (unsigned long)((unsigned long long)nr * inodes / total);

    sc->nr_to_scan = dentries + 1;
    list_lru_shrink_walk(&sbi->s_dentry_lru, sc, toyfs_dentry_isolate, &dispose);
    freed = toyfs_dispose_dentries(&dispose);

    sc->nr_to_scan = inodes + 1;
    list_lru_shrink_walk(&sbi->s_inode_lru, sc, toyfs_inode_isolate, &dispose);
    freed += toyfs_dispose_inodes(sbi, &dispose);

    up_read(&sbi->s_umount);
    return freed;
}

/*
 * s_lock held, NOFS scope open: a new inode and its name, published together. The inode
 * takes xattr (the security label) on success.
 */
static int toyfs_create_locked(struct toyfs_sb_info *sbi, const char *name, u32 hash, void *xattr,
                               struct toyfs_inode **out) {
    struct toyfs_dentry *new_d, *d;
    struct toyfs_inode *inode;
    unsigned long ino;
    bool exists;

    spin_lock(&sbi->s_ns_lock);
    d = toyfs_d_lookup(sbi, name, hash);
    exists = d && d->d_inode;
    spin_unlock(&sbi->s_ns_lock);
    /* Creates and unlinks all hold s_lock: the answer cannot change before we publish. */
    if (exists)
        return -EEXIST;

    ino = toyfs_alloc_ino(sbi);
    if (!ino)
        return -ENOSPC;
    /* GFP_KERNEL is GFP_NOFS here: the transaction's scope says so. */
    inode = kmem_cache_zalloc(toyfs_inode_cachep, GFP_KERNEL);
    new_d = kmem_cache_zalloc(toyfs_dentry_cachep, GFP_KERNEL);
    if (!inode || !new_d) {
        if (inode)
            kmem_cache_free(toyfs_inode_cachep, inode);
        if (new_d)
            kmem_cache_free(toyfs_dentry_cachep, new_d);
        toyfs_free_ino(sbi, ino);
        return -ENOMEM;
    }
    inode->i_ino = ino;
    inode->i_count = 1; /* the dentry's */
    inode->i_nlink = 1;
    inode->i_xattr = xattr;
    INIT_LIST_HEAD(&inode->i_lru);
    spin_lock_init(&inode->i_lock);

    spin_lock(&sbi->s_ns_lock);
    list_add(&inode->i_sb_list, &sbi->s_inodes);
    /* Look again: the shrinker may have pruned the negative dentry meanwhile. */
    d = toyfs_d_lookup(sbi, name, hash);
    if (d) {
        d->d_inode = inode; /* still on the lru: the next walk drops it */
    } else {
        INIT_LIST_HEAD(&new_d->d_lru);
        new_d->d_hashval = hash;
        strscpy(new_d->d_iname, name);
        new_d->d_inode = inode;
        hlist_add_head(&new_d->d_hash, &sbi->s_hash[hash % TOYFS_HASH_SIZE]);
        new_d = NULL;
    }
    spin_unlock(&sbi->s_ns_lock);
    if (new_d)
        kmem_cache_free(toyfs_dentry_cachep, new_d);
    *out = inode;
    return 0;
}

static int toyfs_create(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_inode *inode = NULL;
    char name[TOYFS_NAME_LEN];
    struct toyfs_trans t;
    void *xattr = NULL;
    u32 hash;
    int err;

    hash = toyfs_pick_name(ctx, name);
    toyfs_trans_begin(sbi, &t);
#ifdef TOYFS_BUGGY
    if (toyfs_bug(TOYFS_BUG_NOFS)) {
        err = toyfs_create_locked(sbi, name, hash, NULL, &inode);
        /*
         * The label "is not part of the transaction", so its allocation was moved after
         * the scope closed, but s_lock is still held: GFP_KERNEL may now enter fs reclaim,
         * whose shrinker evicts inodes under s_lock. (Unlink needs s_lock, so the new
         * inode cannot go away meanwhile.)
         */
        memalloc_nofs_restore(t.nofs);
        toyfs_reclaim_unsafe = true;
        xattr = kmalloc(TOYFS_XATTR_SIZE, GFP_KERNEL); /* BUG nofs */
        toyfs_reclaim_unsafe = false;
        if (!err && xattr) {
            memset(xattr, 0, TOYFS_XATTR_SIZE);
            inode->i_xattr = xattr;
            xattr = NULL;
        } else if (!err) {
            err = -ENOMEM;
        }
        mutex_unlock(&sbi->s_lock);
        kfree(xattr);
        return err;
    }
#endif
    /* Allocated up front, inside the scope like everything allocated under s_lock. */
    xattr = kmalloc(TOYFS_XATTR_SIZE, GFP_KERNEL);
    if (xattr) {
        memset(xattr, 0, TOYFS_XATTR_SIZE);
        err = toyfs_create_locked(sbi, name, hash, xattr, &inode);
        if (!err)
            xattr = NULL;
    } else {
        err = -ENOMEM;
    }
    toyfs_trans_end(sbi, &t);
    kfree(xattr);
    return err;
}

static int toyfs_lookup(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_file *file = NULL;
    struct toyfs_dentry *d;
    char name[TOYFS_NAME_LEN];
    unsigned int i;
    u32 hash;

    hash = toyfs_pick_name(ctx, name);
    /* Nothing may sleep under s_ns_lock: the file is set up before the lookup. */
#ifdef TOYFS_BUGGY
    if (!toyfs_bug(TOYFS_BUG_SPINLOCK))
#endif
        file = kmalloc(sizeof(*file), GFP_KERNEL);
    spin_lock(&sbi->s_ns_lock);
#ifdef TOYFS_BUGGY
    if (toyfs_bug(TOYFS_BUG_SPINLOCK)) {
        /* "Allocate with the lock held, so the file is set up atomically." */
        toyfs_reclaim_unsafe = true;
        file = kmalloc(sizeof(*file), GFP_KERNEL); /* BUG spinlock */
        toyfs_reclaim_unsafe = false;
    }
#endif
    if (!file) {
        spin_unlock(&sbi->s_ns_lock);
        return -ENOMEM;
    }
    file->f_inode = NULL;
    d = toyfs_d_lookup(sbi, name, hash);
    if (d) {
        /* Referenced: the next lru walk rotates it instead of pruning it. */
        d->d_flags |= TOYFS_DCACHE_REF;
        file->f_inode = d->d_inode;
        if (file->f_inode)
            file->f_inode->i_count++;
    }
    spin_unlock(&sbi->s_ns_lock);
    if (!file->f_inode) {
        kfree(file);
        return -ENOENT;
    }

    /* A read: truncate may free pages at any time, so under i_lock. */
    file->f_csum = 0;
    spin_lock(&file->f_inode->i_lock);
    for (i = 0; i < file->f_inode->i_nr_pages; i++)
        file->f_csum += *(u8 *)page_address(file->f_inode->i_data[i].page);
    spin_unlock(&file->f_inode->i_lock);
    toyfs_iput(sbi, file->f_inode);
    kfree(file);
    return 0;
}

static int toyfs_write(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_extent old = {NULL, 0};
    struct toyfs_inode *inode;
    char name[TOYFS_NAME_LEN];
    unsigned int order, slot;
    struct page *page;
    gfp_t gfp;
    u32 hash;
    int err = 0;

    hash = toyfs_pick_name(ctx, name);
    order = (unsigned int)gfplab_workload_below(ctx, 2);
    /* The mapping's gfp mask, whatever the caller made it (GFP_NOFS, GFP_ATOMIC...). */
    gfp = gfplab_workload_gfp(ctx);
    slot = (unsigned int)gfplab_workload_below(ctx, TOYFS_MAX_PAGES);

    inode = toyfs_iget(sbi, name, hash);
    if (!inode)
        return -ENOENT;
    if (!toyfs_reserve_blocks(sbi, 1UL << order)) {
        err = -ENOSPC;
        goto out;
    }
    /* No lock held and no transaction open: reclaim may do anything it likes. */
    page = alloc_pages(gfp, order);
    if (!page) {
        toyfs_release_blocks(sbi, 1UL << order);
        err = -ENOMEM;
        goto out;
    }
    memset(page_address(page), (int)(ctx->worker & 0xff), PAGE_SIZE << order);

    spin_lock(&inode->i_lock);
    if (inode->i_nr_pages < min_t(unsigned int, READ_ONCE(sbi->s_max_pages), TOYFS_MAX_PAGES)) {
        slot = inode->i_nr_pages++;
    } else {
        /* The file is full: overwrite an extent. */
        slot %= inode->i_nr_pages;
        old = inode->i_data[slot];
    }
    inode->i_data[slot].page = page;
    inode->i_data[slot].order = order;
    spin_unlock(&inode->i_lock);
    if (old.page) {
        __free_pages(old.page, old.order);
        toyfs_release_blocks(sbi, 1UL << old.order);
    }
out:
    toyfs_iput(sbi, inode);
    return err;
}

static int toyfs_truncate(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_extent cut[TOYFS_MAX_PAGES];
    struct toyfs_inode *inode;
    char name[TOYFS_NAME_LEN];
    unsigned int keep, n = 0, i;
    unsigned long blocks = 0;
    u32 hash;

    hash = toyfs_pick_name(ctx, name);
    keep = (unsigned int)gfplab_workload_below(ctx, TOYFS_MAX_PAGES);
    inode = toyfs_iget(sbi, name, hash);
    if (!inode)
        return -ENOENT;
    spin_lock(&inode->i_lock);
    while (inode->i_nr_pages > keep)
        cut[n++] = inode->i_data[--inode->i_nr_pages];
    spin_unlock(&inode->i_lock);
    for (i = 0; i < n; i++) {
        __free_pages(cut[i].page, cut[i].order);
        blocks += 1UL << cut[i].order;
    }
    if (blocks)
        toyfs_release_blocks(sbi, blocks);
    toyfs_iput(sbi, inode);
    return 0;
}

static int toyfs_unlink(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_inode *inode = NULL;
    char name[TOYFS_NAME_LEN];
    struct toyfs_dentry *d;
    struct toyfs_trans t;
    bool evict_now;
    int err = 0;
    u32 hash;

    hash = toyfs_pick_name(ctx, name);
    evict_now = gfplab_workload_chance(ctx, 50);
    toyfs_trans_begin(sbi, &t);
    spin_lock(&sbi->s_ns_lock);
    d = toyfs_d_lookup(sbi, name, hash);
    if (!d || !d->d_inode) {
        err = -ENOENT;
    } else {
        /* d_delete(): the name stays cached as a negative dentry. */
        inode = d->d_inode;
        d->d_inode = NULL;
        list_lru_add_obj(&sbi->s_dentry_lru, &d->d_lru);
        inode->i_nlink = 0;
        if (--inode->i_count) {
            inode = NULL; /* in use: the last toyfs_iput() parks it */
        } else if (evict_now) {
            inode->i_state |= TOYFS_I_FREEING;
            list_del_init(&inode->i_sb_list);
        } else {
            /* An orphan: its blocks are reclaimed lazily, by the shrinker or at exit. */
            toyfs_inode_unused(sbi, inode);
            inode = NULL;
        }
    }
    spin_unlock(&sbi->s_ns_lock);
    if (inode)
        toyfs_free_ino(sbi, inode->i_ino); /* this transaction's s_lock */
    toyfs_trans_end(sbi, &t);
    if (inode)
        toyfs_destroy_inode(sbi, inode);
    return err;
}

/* A journal commit: the record is built in a transaction, then written as block I/O. */
static int toyfs_sync(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    unsigned long long *commit;
    struct toyfs_trans t;
    unsigned int noio;
    bool io_error;
    void *bio;
    int err = 0;

    io_error = gfplab_workload_chance(ctx, 25);
    down_read(&sbi->s_umount);
    toyfs_trans_begin(sbi, &t);
    commit = kmalloc(TOYFS_COMMIT_SIZE, GFP_KERNEL); /* NOFS: in the transaction */
    if (!commit) {
        err = -ENOMEM;
        goto out_trans;
    }
    memset(commit, 0, TOYFS_COMMIT_SIZE);
    commit[0] = ++sbi->s_commit_seq;
    commit[1] = sbi->s_free_inodes;

    /* Submitting the block: the block layer's allocations must not recurse into I/O. */
    noio = memalloc_noio_save();
    bio = kmalloc(128, GFP_KERNEL); /* NOIO: in the block I/O section */
    if (bio && io_error) {
        /* The device failed the write: abort the commit. */
        kfree(bio);
        kfree(commit);
#ifdef TOYFS_BUGGY
        if (toyfs_bug(TOYFS_BUG_SCOPE)) {
            /* The error path unwinds outer first. */
            memalloc_nofs_restore(t.nofs); /* BUG scope */
            memalloc_noio_restore(noio);
            mutex_unlock(&sbi->s_lock);
            up_read(&sbi->s_umount);
            return -EIO;
        }
#endif
        memalloc_noio_restore(noio);
        err = -EIO;
        goto out_trans;
    }
    if (bio)
        memcpy(bio, commit, 128);
    else
        err = -ENOMEM;
    kfree(bio);
    memalloc_noio_restore(noio);
    kfree(commit);
out_trans:
    toyfs_trans_end(sbi, &t);
    up_read(&sbi->s_umount);
    return err;
}

/* Remount: new options, then shrink_dcache_sb(), all under s_umount held for write. */
static int toyfs_remount(struct gfplab_workload_ctx *ctx) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    unsigned int max_pages;
    LIST_HEAD(dispose);
    char *opts;

    max_pages = 1 + (unsigned int)gfplab_workload_below(ctx, TOYFS_MAX_PAGES);
    down_write(&sbi->s_umount);
    /* Legal: the shrinker only trylocks s_umount, so reclaim never waits for us. */
    opts = kmalloc(TOYFS_OPTS_SIZE, GFP_KERNEL);
    if (!opts) {
        up_write(&sbi->s_umount);
        return -ENOMEM;
    }
    /* The mount data as userspace passes it, parsed as the fs parses it. */
    strscpy(opts, "max_pages=0", TOYFS_OPTS_SIZE);
    opts[strlen(opts) - 1] = (char)('0' + max_pages);
    WRITE_ONCE(sbi->s_max_pages, (unsigned int)(strchr(opts, '=')[1] - '0'));

    list_lru_walk(&sbi->s_dentry_lru, toyfs_dentry_isolate, &dispose,
                  2 * list_lru_count(&sbi->s_dentry_lru));
    toyfs_dispose_dentries(&dispose);
    kfree(opts);
    up_write(&sbi->s_umount);
    return 0;
}

/* "files=N,blocks=N" (and "bug=NAME" in toyfs-buggy). */
static int toyfs_parse_one(const char *arg, size_t len, unsigned int *files,
                           unsigned long *blocks) {
    unsigned long v = 0;
    const char *p;
    size_t i;

#ifdef TOYFS_BUGGY
    static const struct {
        const char *name;
        unsigned int bit;
    } bugs[] = {
        {"bug=nofs", TOYFS_BUG_NOFS},
        {"bug=scope", TOYFS_BUG_SCOPE},
        {"bug=spinlock", TOYFS_BUG_SPINLOCK},
    };

    for (i = 0; i < ARRAY_SIZE(bugs); i++) {
        if (len == strlen(bugs[i].name) && !strncmp(arg, bugs[i].name, len)) {
            toyfs_bugs |= bugs[i].bit;
            return 0;
        }
    }
#endif
    if (len > 6 && !strncmp(arg, "files=", 6))
        p = arg + 6;
    else if (len > 7 && !strncmp(arg, "blocks=", 7))
        p = arg + 7;
    else
        return -EINVAL;
    for (i = (size_t)(p - arg); i < len; i++) {
        if (arg[i] < '0' || arg[i] > '9' || v > 1000000)
            return -EINVAL;
        v = v * 10 + (unsigned long)(arg[i] - '0');
    }
    if (v < 16 || v > 1000000)
        return -EINVAL;
    if (arg[0] == 'f')
        *files = (unsigned int)v;
    else
        *blocks = v;
    return 0;
}

static void toyfs_exit(void);

static int toyfs_init(const struct gfplab_workload_env *env) {
    unsigned long blocks = TOYFS_DEF_BLOCKS;
    unsigned int files = TOYFS_DEF_FILES;
    const char *p = env->args ? env->args : "";
    struct toyfs_sb_info *sbi;

#ifdef TOYFS_BUGGY
    toyfs_bugs = 0;
#endif
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (len && toyfs_parse_one(p, len, &files, &blocks)) {
            pr_err("unknown or bad argument '%.*s'\n", (int)len, p);
            return -EINVAL;
        }
        p += len + (comma ? 1 : 0);
    }

    sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
    if (!sbi)
        return -ENOMEM;
    toyfs_sbi = sbi;
    init_rwsem(&sbi->s_umount);
    mutex_init(&sbi->s_lock);
    spin_lock_init(&sbi->s_ns_lock);
    spin_lock_init(&sbi->s_blocks_lock);
    INIT_LIST_HEAD(&sbi->s_inodes);
    sbi->s_max_inodes = files;
    sbi->s_free_inodes = files;
    /* Fewer names than inodes: names get reused, and unlinked inodes pile up as orphans. */
    sbi->s_nr_names = files / 4;
    sbi->s_free_blocks = blocks;
    sbi->s_max_pages = TOYFS_MAX_PAGES;
    sbi->s_inode_map = kcalloc(DIV_ROUND_UP(files, BITS_PER_LONG), sizeof(long), GFP_KERNEL);
    toyfs_inode_cachep =
        kmem_cache_create("toyfs_inode", sizeof(struct toyfs_inode), 0, SLAB_RECLAIM_ACCOUNT, NULL);
    toyfs_dentry_cachep = kmem_cache_create("toyfs_dentry", sizeof(struct toyfs_dentry), 0,
                                            SLAB_RECLAIM_ACCOUNT, NULL);
    if (!sbi->s_inode_map || !toyfs_inode_cachep || !toyfs_dentry_cachep ||
        list_lru_init(&sbi->s_dentry_lru) || list_lru_init(&sbi->s_inode_lru))
        goto fail;
    sbi->s_shrink = shrinker_alloc(SHRINKER_NUMA_AWARE, "sb-toyfs");
    if (!sbi->s_shrink)
        goto fail;
    sbi->s_shrink->count_objects = toyfs_cache_count;
    sbi->s_shrink->scan_objects = toyfs_cache_scan;
    sbi->s_shrink->seeks = DEFAULT_SEEKS;
    sbi->s_shrink->batch = 1024;
    sbi->s_shrink->private_data = sbi;
    shrinker_register(sbi->s_shrink);
    pr_info("%u inodes, %lu blocks, %u workers\n", files, blocks, env->nr_workers);
    return 0;
fail:
    toyfs_exit();
    return -ENOMEM;
}

/* After the last operation: nothing else runs, so no locks are needed but the shrinker's. */
static void toyfs_exit(void) {
    struct toyfs_sb_info *sbi = toyfs_sbi;
    struct toyfs_inode *inode, *next_inode;
    struct toyfs_dentry *d;
    struct hlist_node *next;
    unsigned int i;

    if (!sbi)
        return;
    /* First: once it returns, reclaim cannot be in the middle of an eviction. */
    if (sbi->s_shrink)
        shrinker_free(sbi->s_shrink);
    for (i = 0; i < TOYFS_HASH_SIZE; i++) {
        hlist_for_each_entry_safe(d, next, &sbi->s_hash[i], d_hash) {
            hlist_del_init(&d->d_hash);
            if (sbi->s_dentry_lru.node)
                list_lru_del_obj(&sbi->s_dentry_lru, &d->d_lru);
            kmem_cache_free(toyfs_dentry_cachep, d);
        }
    }
    list_for_each_entry_safe(inode, next_inode, &sbi->s_inodes, i_sb_list) {
        list_del_init(&inode->i_sb_list);
        if (sbi->s_inode_lru.node)
            list_lru_del_obj(&sbi->s_inode_lru, &inode->i_lru);
        toyfs_destroy_inode(sbi, inode);
    }
    list_lru_destroy(&sbi->s_dentry_lru);
    list_lru_destroy(&sbi->s_inode_lru);
    if (toyfs_dentry_cachep)
        kmem_cache_destroy(toyfs_dentry_cachep);
    if (toyfs_inode_cachep)
        kmem_cache_destroy(toyfs_inode_cachep);
    toyfs_dentry_cachep = NULL;
    toyfs_inode_cachep = NULL;
    kfree(sbi->s_inode_map);
    kfree(sbi);
    toyfs_sbi = NULL;
}

static const struct gfplab_workload_op toyfs_ops[] = {
    {.name = "create", .weight = 6, .run = toyfs_create},
    {.name = "lookup", .weight = 8, .run = toyfs_lookup},
    {.name = "write", .weight = 6, .run = toyfs_write},
    {.name = "truncate", .weight = 2, .run = toyfs_truncate},
    {.name = "unlink", .weight = 4, .run = toyfs_unlink},
    {.name = "sync", .weight = 2, .run = toyfs_sync},
    {.name = "remount", .weight = 1, .run = toyfs_remount},
};

#ifdef TOYFS_BUGGY
GFPLAB_WORKLOAD(.name = "toyfs-buggy",
                .description = "toyfs with switchable mistakes: bug=nofs, bug=scope, bug=spinlock",
                .init = toyfs_init, .exit = toyfs_exit, .ops = toyfs_ops,
                .nr_ops = ARRAY_SIZE(toyfs_ops));
#else
GFPLAB_WORKLOAD(.name = "toyfs",
                .description = "an in-memory filesystem: transactions in NOFS scopes, a "
                               "super_cache_scan()-style shrinker over inode and dentry lrus",
                .init = toyfs_init, .exit = toyfs_exit, .ops = toyfs_ops,
                .nr_ops = ARRAY_SIZE(toyfs_ops));
#endif
