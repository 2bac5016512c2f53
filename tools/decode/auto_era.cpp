// SPDX-License-Identifier: MIT
//
// --kernel auto: which kernel most plausibly printed a mask. A mask from a real log is
// fully named by the %pGg table of the kernel that printed it, so the layout that names
// every bit, with the fewest names, wins. The choice carries its reason (auto_reason), which
// --log and --json print.
#include "decode.hpp"

#include <fmt/format.h>

#include <algorithm>
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

struct candidate {
    auto_choice choice;
    score s;
};

// The winner's reason, from its score and the best score of another era.
auto_reason reason_for(const candidate &winner, const std::optional<candidate> &runner_up) {
    auto_reason r;
    r.every_bit_named = !std::get<0>(winner.s);
    r.names = std::get<1>(winner.s);
    r.lts = !std::get<3>(winner.s);
    if (!runner_up)
        return r;
    r.runner_up_era = std::string(runner_up->choice.layout->era());
    r.runner_up_every_bit_named = !std::get<0>(runner_up->s);
    r.runner_up_names = std::get<1>(runner_up->s);
    r.decided_by = std::get<0>(winner.s) != std::get<0>(runner_up->s)   ? "unnamed bits"
                   : std::get<1>(winner.s) != std::get<1>(runner_up->s) ? "names"
                                                                        : "newer era";
    return r;
}

// Walks every release's layout; read(layout) yields the mask to score or nullopt to skip.
// Keeps the best layout of each era, so that the winner can say what it beat.
template <typename Read>
std::optional<auto_choice> best_layout(const gfplab::kconfig &cfg, Read &&read) {
    std::vector<candidate> era_best;
    int era_index = 0;
    for (const auto &era : gfplab::gfp_eras()) {
        std::optional<candidate> best;
        for_each_release(era, [&](kernel_version v) {
            const gfp_layout *layout = gfplab::find_gfp_layout(v, cfg);
            if (layout == nullptr)
                return;
            const std::optional<gfp_t> mask = read(*layout);
            if (!mask)
                return;
            const score s = score_of(*layout, *mask, era_index);
            if (!best || s < best->s)
                best = candidate{auto_choice{layout, *mask, {}}, s};
        });
        if (best)
            era_best.push_back(*best);
        ++era_index;
    }
    if (era_best.empty())
        return std::nullopt;
    std::sort(era_best.begin(), era_best.end(),
              [](const candidate &a, const candidate &b) { return a.s < b.s; });
    auto_choice choice = era_best.front().choice;
    choice.reason =
        reason_for(era_best.front(),
                   era_best.size() > 1 ? std::optional<candidate>{era_best[1]} : std::nullopt);
    return choice;
}

std::string plural(int n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

} // namespace

std::string auto_reason::summary(const gfp_layout &winner) const {
    std::string s =
        every_bit_named
            ? fmt::format("era {} names every bit with {}", winner.era(), plural(names, "name"))
            : fmt::format("no era names every bit, era {} comes closest with {}", winner.era(),
                          plural(names, "name"));
    if (runner_up_era.empty())
        s += "; no other era reads it";
    else if (decided_by == "unnamed bits")
        s += fmt::format("; {} leaves bits unnamed", runner_up_era);
    else if (decided_by == "names")
        s += fmt::format("; {} needs {}", runner_up_era, runner_up_names);
    else
        s += fmt::format("; {} ties and is older", runner_up_era);
    s += fmt::format("; {}: the era's newest {}release", winner.version().str(),
                     lts ? "long-term " : "");
    return s;
}

std::optional<auto_choice> pick_layout(std::string_view text, const gfplab::kconfig &cfg) {
    return best_layout(cfg, [text](const gfp_layout &layout) -> std::optional<gfp_t> {
        const gfplab::gfp_parse_result r = layout.parse(text);
        if (!r)
            return std::nullopt;
        return r.mask;
    });
}

std::optional<auto_choice> pick_layout_for(gfp_t mask, const gfplab::kconfig &cfg) {
    return best_layout(cfg, [mask](const gfp_layout &) -> std::optional<gfp_t> { return mask; });
}

std::string era_label(const gfp_layout &layout) {
    return fmt::format("{} ({})", layout.era(), layout.version().str());
}

} // namespace decode
