// SPDX-License-Identifier: MIT
//
// The declared-lock reclaim-recursion check (I9): its state, owned by the System, and the
// check itself (declared in internal.hpp). Private to the library.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gfplab {

// The (lock class, shrinker) pairs already reported: a hazard is reported once per pair and
// counted every time.
struct recursion_hazards {
    std::mutex lock;
    std::vector<std::pair<unsigned, std::string>> reported;
};

} // namespace gfplab
