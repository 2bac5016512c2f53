// SPDX-License-Identifier: MIT
//
// current->flags of the calling thread. current_gfp_context() and the allocation fast path
// read it on every allocation, so it is a trivially constructed word in static TLS: one
// %fs-relative load, no init guard, no __tls_get_addr (the library is built with the
// initial-exec TLS model). Private to the library; users call current_task_flags().
#pragma once

namespace gfplab::detail {
extern __thread unsigned int t_task_flags;
} // namespace gfplab::detail
