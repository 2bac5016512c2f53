// SPDX-License-Identifier: MIT
//
// --kernel auto: which kernel most plausibly printed a mask. A mask from a real log is
// fully named by the %pGg table of the kernel that printed it, so the layout that names
// every bit, with the fewest names, wins.
#include "decode.hpp"

#include <fmt/format.h>

#include <array>
#include <tuple>

namespace decode {
namespace {

using gfplab::gfp_layout;
using gfplab::kernel_version;

// Long-term releases: most logs in the wild come from them, so within an era they are the
// likelier source of a mask.
constexpr std::array<kernel_version, 18> lts_releases{{
    {3, 2},
    {3, 4},
    {3, 10},
    {3, 12},
    {3, 14},
    {3, 16},
    {3, 18},
    {4, 1},
    {4, 4},
    {4, 9},
    {4, 14},
    {4, 19},
    {5, 4},
    {5, 10},
    {5, 15},
    {6, 1},
    {6, 6},
    {6, 12},
}};

bool is_lts(kernel_version v) {
    for (const auto &lts : lts_releases)
        if (lts == v)
            return true;
    return false;
}

// Lower is better: (bits left unnamed, number of names, older era, not LTS, older release).
using score = std::tuple<bool, int, int, bool, int>;

score score_of(const gfp_layout &layout, gfp_t mask, int era_index) {
    const std::string names = layout.format(mask);
    bool leftover = unknown_bits(layout, mask) != 0;
    int count = 0;
    std::string_view rest = names;
    while (!rest.empty()) {
        const auto bar = rest.find('|');
        const std::string_view token = rest.substr(0, bar);
        if (token.starts_with("0x"))
            leftover = true;
        else
            ++count;
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
    }
    const kernel_version v = layout.version();
    return {leftover, count, -era_index, !is_lts(v), -(v.major * 100 + v.minor)};
}

// Walks every release's layout; read(layout) yields the mask to score or nullopt to skip.
template <typename Read>
std::optional<auto_choice> best_layout(const gfplab::kconfig &cfg, Read &&read) {
    std::optional<auto_choice> best;
    score best_score{};
    int era_index = 0;
    for (const auto &era : gfplab::gfp_eras()) {
        for_each_release(era, [&](kernel_version v) {
            const gfp_layout *layout = gfplab::find_gfp_layout(v, cfg);
            if (layout == nullptr)
                return;
            const std::optional<gfp_t> mask = read(*layout);
            if (!mask)
                return;
            const score s = score_of(*layout, *mask, era_index);
            if (!best || s < best_score) {
                best = auto_choice{layout, *mask};
                best_score = s;
            }
        });
        ++era_index;
    }
    return best;
}

} // namespace

std::optional<auto_choice> pick_layout(std::string_view text, const gfplab::kconfig &cfg) {
    return best_layout(cfg, [text](const gfp_layout &layout) -> std::optional<gfp_t> {
        const gfplab::gfp_parse_result r = layout.parse(text);
        if (!r)
            return std::nullopt;
        return r.mask;
    });
}

const gfp_layout *pick_layout_for(gfp_t mask, const gfplab::kconfig &cfg) {
    const auto best =
        best_layout(cfg, [mask](const gfp_layout &) -> std::optional<gfp_t> { return mask; });
    return best ? best->layout : nullptr;
}

std::string era_label(const gfp_layout &layout) {
    return fmt::format("{} ({})", layout.era(), layout.version().str());
}

} // namespace decode
