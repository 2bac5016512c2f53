// SPDX-License-Identifier: MIT
#include <gfplab/memparse.hpp>

namespace gfplab {

std::optional<std::uint64_t> memparse(std::string_view text) noexcept {
    std::size_t i = 0;
    unsigned base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (text.size() > 1 && text[0] == '0') {
        base = 8;
        i = 1;
    }
    const std::size_t digits_from = i;
    std::uint64_t v = 0;
    for (; i < text.size(); i++) {
        const char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = unsigned(c - 'A' + 10);
        else
            break;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return std::nullopt;
        v = v * base + d;
    }
    // "0" alone is octal with no digits after the prefix: still zero.
    if (i == digits_from && !(base == 8 && i == 1))
        return std::nullopt;
    if (i == text.size())
        return v;
    if (i + 1 != text.size())
        return std::nullopt;
    unsigned shift;
    switch (text[i]) {
    case 'K':
    case 'k':
        shift = 10;
        break;
    case 'M':
    case 'm':
        shift = 20;
        break;
    case 'G':
    case 'g':
        shift = 30;
        break;
    case 'T':
    case 't':
        shift = 40;
        break;
    case 'P':
    case 'p':
        shift = 50;
        break;
    case 'E':
    case 'e':
        shift = 60;
        break;
    default:
        return std::nullopt;
    }
    if (v > (UINT64_MAX >> shift))
        return std::nullopt;
    return v << shift;
}

} // namespace gfplab
