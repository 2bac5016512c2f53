// SPDX-License-Identifier: MIT
//
// fuzz_ops: operation sequences against one small System, checked after every op against a
// reference model of who holds which pages. The input format is op_stream.hpp's; what is
// checked is listed in executor.hpp. A failure aborts, so that libFuzzer keeps the input.
// Set GFPLAB_FUZZ_VERBOSE=1 to print every decoded op and its outcome (gfplab-replay prints
// the same without a rebuild).
#include "executor.hpp"
#include "fuzz_target.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool verbose() {
    static const bool v = [] {
        const char *e = std::getenv("GFPLAB_FUZZ_VERBOSE");
        return e && *e && std::strcmp(e, "0") != 0;
    }();
    return v;
}

void print_op(const gfplab::fuzz::op_result &r) {
    std::fprintf(stderr, "op %zu: %s\n", r.index, gfplab::fuzz::describe(r.o).c_str());
    if (!r.outcome.empty())
        std::fprintf(stderr, "  -> %s\n", r.outcome.c_str());
    for (const auto &v : r.reports)
        std::fprintf(stderr, "  report: %s\n", gfplab::format_violation(v).c_str());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    static const gfplab::fuzz::op_observer observe =
        verbose() ? gfplab::fuzz::op_observer(print_op) : gfplab::fuzz::op_observer();
    if (auto f = gfplab::fuzz::execute_ops(data, size, observe)) {
        std::fprintf(stderr, "fuzz_ops: %s\n", gfplab::fuzz::format_failure(*f).c_str());
        for (const auto &v : f->reports)
            std::fprintf(stderr, "  report: %s\n", gfplab::format_violation(v).c_str());
        std::abort();
    }
    return 0;
}
