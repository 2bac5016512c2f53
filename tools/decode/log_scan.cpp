// SPDX-License-Identifier: MIT
//
// The printk sites gfplab-decode --log recognises, and the lines that name a release.
#include "log_scan.hpp"

#include <charconv>
#include <limits>
#include <regex>

namespace decode {
namespace {

// The printk sites: "mode:%#x(%pGg)", "gfp_mask=%#x(%pGg)", page_owner's
// "gfp_mask %#x(%pGg)" (dump_page) and "via order %u, mask %#x(%pGg)" (debugfs), SLUB's
// "gfp=%#x(%pGg)" and SLAB's "(gfp=0x%x)", kmalloc_fix_flags' "gfp: %#x (%pGg)", and the
// 3.x forms with bare hex.
const std::regex &mask_pattern() {
    static const std::regex re{
        R"((?:mode:|gfp_mask[= ]|gfp=|gfp: |via order \d+, mask )(0x[0-9a-fA-F]+))"
        R"((?: ?\(([^()]*)\))?)"};
    return re;
}

// The mask a match found; nullopt for hex too wide to be a gfp_t (not a mask after all).
std::optional<mask_site> site_of(const std::smatch &m) {
    const std::string hex = m.str(1).substr(2);
    unsigned long long value = 0;
    const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ec != std::errc{} || value > std::numeric_limits<gfp_t>::max())
        return std::nullopt;
    mask_site site{static_cast<std::size_t>(m.position(1)),
                   static_cast<std::size_t>(m.position(0) + m.length(0)), static_cast<gfp_t>(value),
                   std::nullopt, m.str(1)};
    if (m[2].matched) {
        site.log_names = m.str(2);
        // The slab message puts a space before "(": parse the %#x(%pGg) form without it.
        site.as_printed += "(" + m.str(2) + ")";
    }
    return site;
}

} // namespace

std::vector<mask_site> find_mask_sites(const std::string &line) {
    std::vector<mask_site> sites;
    if (line.size() > max_scanned_line)
        return sites;
    // std::regex is slow; most lines of a long log cannot match.
    if (line.find("mode:") == std::string::npos && line.find("mask") == std::string::npos &&
        line.find("gfp") == std::string::npos)
        return sites;
    for (std::sregex_iterator it{line.begin(), line.end(), mask_pattern()}, end; it != end; ++it)
        if (auto site = site_of(*it))
            sites.push_back(std::move(*site));
    return sites;
}

std::optional<version_mention> version_in(const std::string &line) {
    if (line.size() > max_scanned_line)
        return std::nullopt;
    if (line.find("Linux version") == std::string::npos && line.find("ainted") == std::string::npos)
        return std::nullopt;
    static const std::regex banner{R"(Linux version (\d+\.\d+\S*))"};
    static const std::regex taint{R"((?:Not tainted|Tainted:[ A-Z]*?)\s+(\d+\.\d+\S*))"};
    std::smatch m;
    if (std::regex_search(line, m, banner) || std::regex_search(line, m, taint))
        if (const auto v = gfplab::kernel_version::parse(m.str(1)))
            return version_mention{*v, m.str(1)};
    return std::nullopt;
}

} // namespace decode
