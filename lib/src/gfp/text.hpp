// SPDX-License-Identifier: MIT
//
// Small text helpers shared by the layout parsers.
#pragma once

#include <cctype>
#include <string_view>

namespace gfplab {

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0)
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0)
        s.remove_suffix(1);
    return s;
}

} // namespace gfplab
