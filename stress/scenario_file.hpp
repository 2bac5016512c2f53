// SPDX-License-Identifier: MIT
//
// stress/scenario_file.hpp - scenarios as TOML: every knob of struct scenario plus the run's
// own settings (threads, duration, ...), read strictly (an unknown key or a wrong type is an
// error naming the file, line and key) and printed back so a user can start from a preset.
#pragma once

#include "scenario.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace gfplab::stress {

// The settings of a run that are not the scenario's: a file may fix them, the command line
// overrides them.
struct run_settings {
    std::optional<unsigned> threads;
    std::optional<double> duration;
    std::optional<std::uint64_t> ops;
    std::optional<std::uint64_t> seed;
    std::optional<std::uint64_t> memory;
    std::optional<double> checkpoint;
    std::optional<std::uint64_t> checkpoint_ops; // epochs by operations, not seconds
};

struct scenario_file_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads FILE: `base = "NAME"` picks the preset it starts from (default: "default"), every
// other key overrides one knob. Throws scenario_file_error ("FILE:LINE: ...").
scenario load_scenario_file(const std::string &path, run_settings &run);

// The scenario as a file load_scenario_file() reads back to the same scenario.
std::string scenario_toml(const scenario &s, const run_settings &run);

} // namespace gfplab::stress
