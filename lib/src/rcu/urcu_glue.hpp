// SPDX-License-Identifier: MIT
//
// liburcu-bp's calls, reached without its headers (lib/src/rcu/urcu_glue.cpp).
#pragma once

namespace gfplab::rcu::detail {
void urcu_read_lock() noexcept;
void urcu_read_unlock() noexcept;
bool urcu_read_ongoing() noexcept;
void urcu_synchronize() noexcept;
} // namespace gfplab::rcu::detail
