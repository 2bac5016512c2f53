// SPDX-License-Identifier: MIT
//
// fuzz_target.hpp - the libFuzzer entry point. Each fuzz_*.cpp defines it once; libFuzzer
// calls it, and so does replay_main.cpp in the plain replay programs.
#pragma once

#include <cstddef>
#include <cstdint>

// Runs one input and returns 0; a failure aborts, so that libFuzzer keeps the input.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);
