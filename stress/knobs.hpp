// SPDX-License-Identifier: MIT
//
// stress/knobs.hpp - the text forms of a scenario's knobs, shared by the command line and
// the scenario file, so that both accept the same spellings and name the same errors.
#pragma once

#include "scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace gfplab::stress {

// "alloc=400,free=150": sets those operations' weights in every phase. Returns an error
// message naming the offending op or value, or "" on success.
std::string apply_weights(scenario &s, const std::string &text);
// "0=600,3=80,9=20": the order distribution, orders not named get weight 0. Returns an
// error message or "".
std::string apply_orders(scenario &s, const std::string &text);
// A share in [0, 1]; returns an error message naming `what`, or "".
std::string check_share(const std::string &what, double v);

} // namespace gfplab::stress
