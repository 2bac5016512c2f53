// SPDX-License-Identifier: MIT
#include "knobs.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <string_view>
#include <vector>

namespace gfplab::stress {
namespace {

struct pair_item {
    std::string key;
    std::string value;
};

// "a=1,b=2" into its pairs; on a piece without '=' `error` names it.
std::vector<pair_item> split_pairs(const std::string &text, std::string &error) {
    std::vector<pair_item> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string::npos)
            comma = text.size();
        const std::string piece = text.substr(pos, comma - pos);
        pos = comma + 1;
        if (piece.empty())
            continue;
        const std::size_t eq = piece.find('=');
        if (eq == std::string::npos || eq == 0) {
            error = fmt::format("'{}' is not NAME=WEIGHT", piece);
            return {};
        }
        out.push_back({piece.substr(0, eq), piece.substr(eq + 1)});
    }
    if (out.empty())
        error = fmt::format("'{}' names no weight", text);
    return out;
}

std::optional<unsigned> parse_unsigned(std::string_view text) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty())
        return std::nullopt;
    return v;
}

} // namespace

std::string apply_weights(scenario &s, const std::string &text) {
    std::string error;
    const auto pairs = split_pairs(text, error);
    if (!error.empty())
        return error;
    scenario t = s; // all or nothing
    for (const auto &[key, value] : pairs) {
        const auto k = find_op(key);
        if (!k) {
            std::string names;
            for (unsigned i = 0; i < nr_op_kinds; i++)
                names += fmt::format("{}{}", i ? ", " : "", op_name(op_kind(i)));
            return fmt::format("unknown op '{}' (one of: {})", key, names);
        }
        const auto w = parse_unsigned(value);
        if (!w || *w > 1000000)
            return fmt::format("weight of '{}': '{}' is not a whole number 0..1000000", key, value);
        for (auto &phase_weights : t.weights)
            phase_weights[unsigned(*k)] = *w;
    }
    for (const auto &phase_weights : t.weights) {
        unsigned total = 0;
        for (unsigned w : phase_weights)
            total += w;
        if (total == 0)
            return "every op weight is 0: a worker would have nothing to draw";
    }
    s = t;
    return "";
}

std::string apply_orders(scenario &s, const std::string &text) {
    std::string error;
    const auto pairs = split_pairs(text, error);
    if (!error.empty())
        return error;
    std::array<unsigned, 11> orders{};
    unsigned total = 0;
    for (const auto &[key, value] : pairs) {
        const auto o = parse_unsigned(key);
        if (!o || *o >= orders.size())
            return fmt::format("order '{}' is not 0..{}", key, orders.size() - 1);
        const auto w = parse_unsigned(value);
        if (!w || *w > 1000000)
            return fmt::format("weight of order {}: '{}' is not a whole number 0..1000000", key,
                               value);
        orders[*o] = *w;
        total += *w;
    }
    if (total == 0)
        return "every order weight is 0";
    s.orders = orders;
    return "";
}

std::string check_share(const std::string &what, double v) {
    if (!(v >= 0 && v <= 1))
        return fmt::format("{} {} is not a share between 0 and 1", what, v);
    return "";
}

} // namespace gfplab::stress
