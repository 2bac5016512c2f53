/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/init.h - the init and exit section markers (Linux 6.12 include/linux/init.h).
 * A module's code is never discarded here, so they mark nothing; module_init() and
 * module_exit() are in module.h.
 */
#ifndef GFPLAB_LINUX_INIT_H
#define GFPLAB_LINUX_INIT_H

#define __init
#define __exit
#define __initdata
#define __exitdata
#define __initconst
#define __ref

#endif /* GFPLAB_LINUX_INIT_H */
