// SPDX-License-Identifier: MIT
//
// gfplab/version.hpp - which gfplab this is: what `--version` prints and what the JSON
// reports carry, so that a report can be matched with the code that wrote it.
#pragma once

#include <string>

namespace gfplab {

// The release (meson's project version), e.g. "0.1.0".
const char *version() noexcept;
// `git describe --always --dirty` of the tree it was built from, "unknown" outside a
// checkout.
const char *git_revision() noexcept;
// "PROGRAM 0.1.0 (git 7739b03)", for --version.
std::string version_string(const char *program);

} // namespace gfplab
