// SPDX-License-Identifier: MIT
//
// fuzz_gfp_format: masks and strings through format, parse and decode for every layout.
// Input: byte 0 picks a kernel version, byte 1 a kconfig, bytes 2..5 a mask, the rest is a
// string to parse. Properties: format -> parse gives the mask back in every layout;
// anything parse accepts formats and parses back to the same mask; nothing crashes.
#include "fuzz_target.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/gfp_layout.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

using namespace gfplab;

[[noreturn]] void fail(const char *what, const gfp_layout &l, gfp_t a, gfp_t b) {
    std::fprintf(stderr, "fuzz_gfp_format: %s on %s (%s): %#x vs %#x\n", what,
                 l.version().str().c_str(), l.config().str().c_str(), a, b);
    std::abort();
}

// Versions spread over every era, each era's edges included.
const kernel_version versions[] = {{3, 0},  {3, 10}, {3, 19}, {4, 3},  {4, 4},  {4, 5},  {4, 9},
                                   {4, 10}, {4, 12}, {4, 13}, {4, 15}, {4, 17}, {4, 18}, {4, 19},
                                   {5, 0},  {5, 1},  {5, 10}, {5, 13}, {5, 14}, {5, 15}, {5, 16},
                                   {5, 18}, {5, 19}, {6, 1},  {6, 2},  {6, 3},  {6, 6},  {6, 9},
                                   {6, 10}, {6, 12}, {6, 14}, {6, 15}, {6, 18}};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 6)
        return 0;
    kernel_version v = versions[data[0] % std::size(versions)];
    kconfig cfg{bool(data[1] & 1), bool(data[1] & 2), bool(data[1] & 4)};
    const gfp_layout *l = find_gfp_layout(v, cfg);
    if (!l) {
        std::fprintf(stderr, "fuzz_gfp_format: no layout for %s\n", v.str().c_str());
        std::abort();
    }
    gfp_t mask;
    std::memcpy(&mask, data + 2, sizeof mask);

    auto back = l->parse(l->format(mask));
    if (!back || back.mask != mask)
        fail("format/parse round trip", *l, mask, back.mask);
    auto back2 = l->parse(l->format_mask(mask));
    if (!back2 || back2.mask != mask)
        fail("format_mask/parse round trip", *l, mask, back2.mask);

    std::string_view text(reinterpret_cast<const char *>(data + 6), size - 6);
    auto parsed = l->parse(text);
    if (parsed) {
        auto again = l->parse(l->format(parsed.mask));
        if (!again || again.mask != parsed.mask)
            fail("parse/format/parse", *l, parsed.mask, again.mask);
    }
    (void)gfp_validate(mask, int(data[1] >> 4) - 1);
    return 0;
}
