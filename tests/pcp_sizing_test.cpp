// SPDX-License-Identifier: MIT
//
// Per-CPU list sizing and vmstat thresholds against Linux 6.12, expected values worked out by
// hand from mm/page_alloc.c and mm/vmstat.c for the inputs shown.
#include <gfplab/pcp_sizing.hpp>

#include <gtest/gtest.h>

namespace {

using namespace gfplab;

TEST(ZoneBatchsize, Sizes) {
    struct row {
        unsigned long pages;
        int want;
    } rows[] = {
        {1024, 0},     // 4 MiB: 1 -> 0 -> 1 -> rounddown(1) - 1 = 0
        {3977, 0},     // ZONE_DMA: 3 -> 0 -> 1 -> 0
        {4096, 0},     // 16 MiB: 4 -> 1 -> rounddown(1) - 1 = 0
        {65536, 15},   // 256 MiB: 64 -> 16 -> 24 -> 16 - 1
        {131072, 31},  // 512 MiB: 128 -> 32 -> 48 -> 32 - 1
        {262144, 63},  // 1 GiB: 256 -> 64 -> 96 -> 64 - 1
        {750000, 63},  // capped at 1 MiB / 4 KiB = 256
        {16777216, 63} // 64 GiB
    };
    for (const auto &r : rows)
        EXPECT_EQ(zone_batchsize(r.pages), r.want) << r.pages << " pages";
}

TEST(ZoneHighsize, MinAndMax) {
    // NORMAL: 3000000 pages, low 6096, batch 63 (floor 4 * 63 = 252).
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 8, 8, 0), 762);    // 6096 / 8
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 8, 8, 8), 46875);  // 375000 / 8
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 64, 64, 0), 252);  // 95 < 252
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 64, 64, 8), 5859); // 375000 / 64
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 9, 9, 0), 677);    // a CPU coming online
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 0, 4, 0), 1524);   // memory-only node
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 0, 4, 8), 93750);
    EXPECT_EQ(zone_highsize(3000000, 63, 6096, 8, 8, 100), 3750); // 30000 / 8
    // DMA32: 750000 pages, low 1524.
    EXPECT_EQ(zone_highsize(750000, 63, 1524, 8, 8, 0), 252); // 190 < 252
    EXPECT_EQ(zone_highsize(750000, 63, 1524, 8, 8, 8), 11718);
}

TEST(ZoneHighsize, HighAndBatch) {
    EXPECT_EQ(zone_pcp_high_and_batch(3000000, 6096, 8, 8), (pcp_high_and_batch{63, 762, 46875}));
    // Tuned by hand: high_min == high_max.
    EXPECT_EQ(zone_pcp_high_and_batch(3000000, 6096, 8, 8, 100),
              (pcp_high_and_batch{63, 3750, 3750}));
    // ZONE_DMA: batch 0 becomes 1; low 7; floors at 4; 3977 / 8 / 2 = 248.
    EXPECT_EQ(zone_pcp_high_and_batch(3977, 7, 2, 2), (pcp_high_and_batch{1, 4, 248}));
}

TEST(Vmstat, NormalThreshold) {
    struct row {
        int cpus;
        unsigned long pages;
        int want;
    } rows[] = {
        // 2 * fls(cpus) * (1 + fls(pages >> 15)); fls(1,2,8,64) = 1,2,4,7.
        {1, 3977, 2},       {2, 3977, 4},         {8, 3977, 8},     {64, 3977, 14},
        {1, 32768, 4},      {1, 32767, 2}, // 128 MiB is the first unit
        {1, 262144, 10},    {2, 262144, 20},      {8, 262144, 40},  {64, 262144, 70},
        {1, 750000, 12},    {8, 750000, 48},      {64, 750000, 84}, // fls(22) = 5
        {1, 3000000, 16},   {2, 3000000, 32},     {8, 3000000, 64}, {64, 3000000, 112},
        {8, 16777216, 88},  {64, 16777216, 125}, // 154 capped
        {1, 268435456, 30}, {64, 268435456, 125},
    };
    for (const auto &r : rows)
        EXPECT_EQ(calculate_normal_threshold(r.cpus, r.pages), r.want)
            << r.cpus << " cpus, " << r.pages << " pages";
}

TEST(Vmstat, PressureThreshold) {
    EXPECT_EQ(calculate_pressure_threshold(6096, 3096, 1), 125); // 3000 capped
    EXPECT_EQ(calculate_pressure_threshold(6096, 3096, 8), 125); // 375 capped
    EXPECT_EQ(calculate_pressure_threshold(6096, 3096, 64), 46); // 46.875
    EXPECT_EQ(calculate_pressure_threshold(1524, 774, 8), 93);   // 750 / 8
    EXPECT_EQ(calculate_pressure_threshold(7, 4, 1), 3);
    EXPECT_EQ(calculate_pressure_threshold(7, 4, 8), 1); // 0 raised to 1
}

TEST(Vmstat, DriftMark) {
    // NORMAL, 8 CPUs: threshold 64, drift 512 <= low - min = 3000: no mark.
    EXPECT_EQ(percpu_drift_mark(9096, 8, 64, 6096, 3096), 0ul);
    // 64 CPUs: threshold 112, drift 7168 > 3000: mark = 9096 + 7168.
    EXPECT_EQ(percpu_drift_mark(9096, 64, 112, 6096, 3096), 16264ul);
    // Exactly equal drift is tolerated.
    EXPECT_EQ(percpu_drift_mark(9096, 30, 100, 6096, 3096), 0ul);
    // DMA, 8 CPUs: threshold 8, drift 64 > 3: 10 + 64.
    EXPECT_EQ(percpu_drift_mark(10, 8, 8, 7, 4), 74ul);
    EXPECT_EQ(vmstat_drift_bound(64, 112), 7168);
    EXPECT_EQ(vmstat_drift_bound(1, 2), 2);
}

} // namespace
