// SPDX-License-Identifier: MIT
//
// format.cpp - printing a mask as a given kernel prints it (%pGg, or bare hex), and reading
// masks back from names, hex, or the kernel's own "%#x(%pGg)" text.

#include "text.hpp"

#include <gfplab/gfp_layout.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>
#include <vector>

namespace gfplab {

std::string gfp_layout::format(gfp_t gfp) const {
    // lib/vsprintf.c format_flags(): walk the table in order while bits remain; an entry
    // matches when all of its bits are still set; emit it, clear them, and put '|' only when
    // something is left. Leftover bits go out through number() with base 16, SPECIAL|SMALL.
    if (gfp == 0)
        return std::string(zero_print_);
    std::string out;
    for (const gfp_name &entry : print_table_) {
        if (gfp == 0)
            break;
        if ((gfp & entry.value) != entry.value)
            continue;
        out += entry.name;
        gfp &= ~entry.value;
        if (gfp != 0)
            out += '|';
    }
    if (gfp != 0)
        out += fmt::format("{:#x}", gfp);
    return out;
}

std::string gfp_layout::format_mask(gfp_t gfp) const {
    // The kernel's number() writes the 0x prefix for base 16 even when the value is 0
    // (unlike C's %#x), so a zero mask reads "0x0()".
    if (style_ == gfp_print_style::hex_only)
        return fmt::format("{:#x}", gfp);
    return fmt::format("{:#x}({})", gfp, format(gfp));
}

namespace {

// Hex with or without 0x; nullopt if the token is not hex or does not fit in a gfp_t.
std::optional<gfp_t> parse_hex(std::string_view token) {
    if (token.starts_with("0x") || token.starts_with("0X"))
        token.remove_prefix(2);
    if (token.empty() || token.size() > 8)
        return std::nullopt;
    gfp_t value = 0;
    for (char c : token) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0)
            return std::nullopt;
        const int digit = std::isdigit(static_cast<unsigned char>(c)) != 0
                              ? c - '0'
                              : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
        value = value << 4 | static_cast<gfp_t>(digit);
    }
    return value;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const bool same = std::toupper(static_cast<unsigned char>(a[i - 1])) ==
                              std::toupper(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

} // namespace

gfp_parse_result gfp_layout::parse(std::string_view text) const {
    text = trim(text);
    if (text.empty() || text == "none")
        return {};

    const auto lookup = [this](std::string_view name) -> std::optional<gfp_t> {
        // What format() writes comes first, so that parse(format(m)) == m also where the
        // 3.x tracepoint spells a single bit like a composite (GFP_THISNODE).
        for (const gfp_name &n : print_table_)
            if (n.name == name)
                return n.value;
        if (auto v = value_of(name))
            return v;
        // The other spelling: GFP_X for __GFP_X (3.x tracepoints) and back.
        if (name.starts_with("__GFP_"))
            return value_of(name.substr(2));
        if (name.starts_with("GFP_"))
            return value_of("__" + std::string(name));
        return std::nullopt;
    };

    const auto unknown = [this](std::string_view token) {
        std::string msg =
            fmt::format("unknown GFP name or number '{}' for kernel {}", token, version_.str());
        std::string_view best;
        std::size_t best_distance = std::numeric_limits<std::size_t>::max();
        for (const auto *list : {&print_table_, &flags_, &composites_, &other_names_}) {
            for (const gfp_name &n : *list) {
                const std::size_t d = edit_distance(token, n.name);
                if (d < best_distance) {
                    best_distance = d;
                    best = n.name;
                }
            }
        }
        // Suggest only what looks like a misspelling, not any name at all.
        if (!best.empty() && best_distance <= std::max<std::size_t>(2, token.size() / 3))
            msg += fmt::format("; did you mean {}?", best);
        return msg;
    };

    const auto parse_names = [&](std::string_view names) -> gfp_parse_result {
        gfp_parse_result result;
        if (trim(names).empty())
            return result;
        while (true) {
            const std::size_t bar = names.find('|');
            const std::string_view token = trim(names.substr(0, bar));
            if (token.empty()) {
                result.error = "empty name between '|' separators";
                return result;
            }
            if (auto v = lookup(token)) {
                result.mask |= *v;
            } else if (auto h = parse_hex(token)) {
                result.mask |= *h;
            } else {
                result.error = unknown(token);
                return result;
            }
            if (bar == std::string_view::npos)
                return result;
            names.remove_prefix(bar + 1);
        }
    };

    // The kernel's "%#x(%pGg)" form: the hex must say what the names say.
    if (const std::size_t open = text.find('('); open != std::string_view::npos) {
        const std::string_view hex = trim(text.substr(0, open));
        if (text.back() != ')')
            return {0, fmt::format("'{}': missing ')' after the names", text)};
        const auto value = parse_hex(hex);
        if (!value)
            return {0, fmt::format("'{}': expected a hex mask before '('", text)};
        const std::string_view names = text.substr(open + 1, text.size() - open - 2);
        gfp_parse_result inner = parse_names(names);
        if (!inner)
            return inner;
        if (inner.mask != *value)
            return {0, fmt::format("'{}': the names mean {:#x} but the hex says {:#x}", text,
                                   inner.mask, *value)};
        return inner;
    }
    return parse_names(text);
}

} // namespace gfplab
