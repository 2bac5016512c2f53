// SPDX-License-Identifier: MIT
//
// memparse(): the kernel's size syntax (lib/cmdline.c), as a table.
#include <gfplab/memparse.hpp>

#include <gtest/gtest.h>

namespace {

using gfplab::memparse;

TEST(Memparse, TheKernelsSyntax) {
    struct row {
        const char *text;
        std::uint64_t want;
    };
    const row rows[] = {
        {"0", 0},
        {"4096", 4096},
        {"256", 256}, // bytes: no suffix is no unit, as on the kernel's command line
        {"1k", 1024},
        {"1K", 1024},
        {"64M", 64ull << 20},
        {"64m", 64ull << 20},
        {"4G", 4ull << 30},
        {"2T", 2ull << 40},
        {"1P", 1ull << 50},
        {"3E", 3ull << 60},
        {"0x10000000", 0x10000000},
        {"0x10M", 16ull << 20},
        {"0X1f", 0x1f},
        {"0x1e", 0x1e}, // e is a hex digit here, not exa
        {"010", 8},     // a leading 0 is octal, as simple_strtoull(s, &end, 0) reads it
        {"18446744073709551615", UINT64_MAX},
    };
    for (const auto &r : rows) {
        const auto v = memparse(r.text);
        ASSERT_TRUE(v.has_value()) << r.text;
        EXPECT_EQ(*v, r.want) << r.text;
    }
}

TEST(Memparse, AnythingElseIsRefused) {
    for (const char *bad : {"", "M", "64MB", "64 M", "64MiB", "-1", " 64M", "64M ", "1.5G", "0x",
                            "08", "0xg", "16E", "18446744073709551616", "abc", "64Q"})
        EXPECT_FALSE(memparse(bad).has_value()) << '"' << bad << '"';
}

} // namespace
