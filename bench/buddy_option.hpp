// SPDX-License-Identifier: MIT
//
// The page-frame backend (docs/backends.md) of every System a gfplab bench binary builds:
//   --buddy kernel|lockfree   read from the command line before Google Benchmark sees it
//                             (it would refuse a flag it does not know)
// Without the option, GFPLAB_BUDDY decides as it does for system_config::buddy's
// `automatic`, else kernel. The choice is resolved here, not left to each System, so that
// the binary can name it in the benchmark context (the "buddy" and "backend" entries of the
// JSON) before any System exists: bench/run runs a binary once per backend and the tables
// tell the runs apart by that name.
#pragma once

#include <gfplab/system.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

// The backend the binary's Systems use; set by parse_buddy_option() before any run.
inline gfplab::buddy_backend buddy_choice = gfplab::buddy_backend::kernel;

// "kernel" or "lockfree", the choice's name.
inline const char *buddy_choice_name() {
    return gfplab::buddy_backend_name(buddy_choice);
}

// The name the tables know a gfplab run by: "gfplab-kernel", "gfplab-lockfree".
inline std::string gfplab_run_name() {
    return std::string("gfplab-") + buddy_choice_name();
}

namespace detail {

// "automatic" is not a backend a table can name: only the two real ones are accepted.
inline std::optional<gfplab::buddy_backend> concrete_backend(std::string_view text) {
    const auto b = gfplab::parse_buddy_backend(text);
    if (!b || *b == gfplab::buddy_backend::automatic)
        return std::nullopt;
    return b;
}

} // namespace detail

// Reads and removes --buddy NAME / --buddy=NAME from argv and sets buddy_choice; false and
// error on a bad or missing value (and on a bad GFPLAB_BUDDY when the option is absent).
inline bool parse_buddy_option(int &argc, char **argv, std::string &error) {
    std::optional<std::string> given;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--buddy") {
            if (i + 1 >= argc) {
                error = "--buddy needs a value: kernel or lockfree";
                return false;
            }
            given = argv[++i];
            continue;
        }
        if (arg.starts_with("--buddy=")) {
            given = std::string(arg.substr(8));
            continue;
        }
        argv[kept++] = argv[i];
    }
    argc = kept;
    argv[argc] = nullptr;
    if (given) {
        const auto b = detail::concrete_backend(*given);
        if (!b) {
            error = "--buddy wants kernel or lockfree: '" + *given + "'";
            return false;
        }
        buddy_choice = *b;
        return true;
    }
    // system_config::buddy's `automatic`, resolved the way the library resolves it.
    const char *env = std::getenv("GFPLAB_BUDDY");
    if (!env || !*env || std::string_view(env) == "automatic") {
        buddy_choice = gfplab::buddy_backend::kernel;
        return true;
    }
    const auto b = detail::concrete_backend(env);
    if (!b) {
        error = std::string("GFPLAB_BUDDY=") + env + " is neither kernel nor lockfree";
        return false;
    }
    buddy_choice = *b;
    return true;
}

// The CLI help for the option, for a binary's --help.
inline constexpr const char *buddy_option_help =
    "  --buddy NAME        the page-frame backend of every System: kernel (6.12's buddy under\n"
    "                      zone->lock) or lockfree (docs/backends.md); default GFPLAB_BUDDY,\n"
    "                      else kernel. Named in the context as \"buddy\" and \"backend\"\n";

} // namespace bench
