// SPDX-License-Identifier: MIT
#include "caller.hpp"

#include <gfplab/linux/alloc_site.h>

__thread const char *gfplab::detail::t_site_file = nullptr;
__thread unsigned gfplab::detail::t_site_line = 0;

extern "C" void __gfplab_site_enter(const char *file, unsigned int line) {
    gfplab::detail::t_site_file = file;
    gfplab::detail::t_site_line = line;
}
