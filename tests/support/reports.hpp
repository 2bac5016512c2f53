// SPDX-License-Identifier: MIT
//
// The reports a System makes during a test, collected instead of printed.
#pragma once

#include <gfplab/report.hpp>
#include <gfplab/system.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace gfplab::test {

struct collected {
    std::vector<violation> v;
    void attach(System &s) {
        s.set_report_sink([this](const violation &x) { v.push_back(x); });
    }
    bool has(invariant inv, const std::string &what) const {
        return std::any_of(v.begin(), v.end(),
                           [&](const violation &x) { return x.inv == inv && x.what == what; });
    }
};

} // namespace gfplab::test
