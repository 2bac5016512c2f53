// SPDX-License-Identifier: MIT
//
// --log: copy a kernel log through, annotating every GFP mask with our decoding for the
// kernel that wrote the log. A failure or OOM report prints the mask first and the
// "CPU: ... Not tainted <release>" line after it, so the whole log is read before the first
// line is written and each mask takes the nearest version mention, before or after.
#include "decode.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <limits>
#include <regex>

namespace decode {
namespace {

using gfplab::gfp_layout;
using gfplab::kernel_version;

struct mention {
    std::size_t line;
    const gfp_layout *layout;
};

struct log_text {
    std::vector<std::string> lines;
    bool final_newline = true; // echo the input byte for byte, including a missing last \n
};

log_text read_log(std::FILE *in) {
    std::string all;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;)
        all.append(buf, n);
    log_text log;
    log.final_newline = all.empty() || all.back() == '\n';
    std::size_t start = 0;
    while (start < all.size()) {
        const std::size_t end = std::min(all.find('\n', start), all.size());
        log.lines.push_back(all.substr(start, end - start));
        start = end + 1;
    }
    return log;
}

// "Linux version 5.10.0-28-amd64 ...", "... Not tainted 6.1.0-18-amd64 #1",
// "... Tainted: G        W  O      4.19.0 #1": the release the log came from.
std::optional<kernel_version> version_in(const std::string &line) {
    // std::regex is slow; most lines of a long log cannot match.
    if (line.find("Linux version") == std::string::npos && line.find("ainted") == std::string::npos)
        return std::nullopt;
    static const std::regex banner{R"(Linux version (\d+\.\d+\S*))"};
    static const std::regex taint{R"((?:Not tainted|Tainted:[ A-Z]*?)\s+(\d+\.\d+\S*))"};
    std::smatch m;
    if (std::regex_search(line, m, banner) || std::regex_search(line, m, taint))
        return kernel_version::parse(m.str(1));
    return std::nullopt;
}

std::vector<mention> find_mentions(const log_text &log, const gfplab::kconfig &cfg) {
    std::vector<mention> found;
    for (std::size_t i = 0; i < log.lines.size(); ++i) {
        const auto v = version_in(log.lines[i]);
        if (!v)
            continue;
        if (const gfp_layout *layout = gfplab::find_gfp_layout(*v, cfg))
            found.push_back({i, layout});
        else
            fmt::print(stderr, "gfplab-decode: warning: line {}: no GFP layout for {}\n", i + 1,
                       v->str());
    }
    return found;
}

// The mention closest to line; on a tie the later one, since reports name the kernel after
// the mask.
const gfp_layout *nearest(const std::vector<mention> &mentions, std::size_t line) {
    const auto next = std::lower_bound(mentions.begin(), mentions.end(), line,
                                       [](const mention &m, std::size_t l) { return m.line < l; });
    if (next == mentions.begin())
        return next == mentions.end() ? nullptr : next->layout;
    const auto prev = std::prev(next);
    if (next == mentions.end() || line - prev->line < next->line - line)
        return prev->layout;
    return next->layout;
}

// A mask in the text: where it ends (after any "(names)") and what the log called it.
struct mask_site {
    std::size_t end;
    gfp_t mask;
    std::optional<std::string> log_names;
    std::string as_printed; // "0x6000c0(GFP_KERNEL)": the %#x(%pGg) form, for parsing
};

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

std::string label_for(const gfp_layout &layout, bool chosen_automatically) {
    const std::string v = layout.version().str();
    return chosen_automatically ? "auto " + v : v;
}

// A config under which this release prints the mask as the log did, when ours differs;
// the configs closest to the one asked for are tried first.
std::optional<gfplab::kconfig> config_matching(const gfp_layout &layout, gfp_t mask,
                                               const std::string &names) {
    const gfplab::kconfig &asked = layout.config();
    for (int changes = 1; changes <= 3; ++changes) {
        for (int flip = 1; flip < 8; ++flip) {
            if (std::popcount(static_cast<unsigned>(flip)) != changes)
                continue;
            const gfplab::kconfig cfg{asked.kasan_hw_tags != ((flip & 1) != 0),
                                      asked.lockdep != ((flip & 2) != 0),
                                      asked.slab_obj_ext != ((flip & 4) != 0)};
            const gfp_layout *other = gfplab::find_gfp_layout(layout.version(), cfg);
            if (other != nullptr && other->format(mask) == names)
                return cfg;
        }
    }
    return std::nullopt;
}

std::string annotation(const gfp_layout &layout, const mask_site &site, bool chosen) {
    const std::string ours = layout.format(site.mask);
    std::string note =
        fmt::format(" [{}: {}", label_for(layout, chosen), ours.empty() ? "no flags" : ours);
    if (const gfp_t unknown = unknown_bits(layout, site.mask); unknown != 0)
        note += fmt::format("; {:#x} not a GFP bit there", unknown);
    if (site.log_names && *site.log_names != ours) {
        note += fmt::format("; differs from the log's ({})", *site.log_names);
        if (const auto cfg = config_matching(layout, site.mask, *site.log_names))
            note += fmt::format(", which config {} prints", cfg->str());
    }
    return note + "]";
}

// The layout for one mask: the log's kernel, else --kernel, else the era that explains it
// (agreeing with the log's own names when it printed some).
std::pair<const gfp_layout *, bool> layout_for(const gfp_layout *from_log, const target &t,
                                               const mask_site &site) {
    if (from_log != nullptr)
        return {from_log, false};
    if (t.layout != nullptr)
        return {t.layout, false};
    if (site.log_names)
        if (const auto choice = pick_layout(site.as_printed, t.config))
            return {choice->layout, true};
    return {pick_layout_for(site.mask, t.config), true};
}

// The mask a match found; nullopt for hex too wide to be a gfp_t (not a mask after all).
std::optional<mask_site> site_of(const std::smatch &m) {
    const std::string hex = m.str(1).substr(2);
    unsigned long long value = 0;
    const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ec != std::errc{} || value > std::numeric_limits<gfp_t>::max())
        return std::nullopt;
    mask_site site{static_cast<std::size_t>(m.position(0) + m.length(0)), static_cast<gfp_t>(value),
                   std::nullopt, m.str(1)};
    if (m[2].matched) {
        site.log_names = m.str(2);
        // The slab message puts a space before "(": parse the %#x(%pGg) form without it.
        site.as_printed += "(" + m.str(2) + ")";
    }
    return site;
}

std::string annotate_line(const std::string &line, const gfp_layout *from_log, const target &t) {
    if (line.find("mode:") == std::string::npos && line.find("mask") == std::string::npos &&
        line.find("gfp") == std::string::npos)
        return line;
    std::string out;
    std::size_t copied = 0;
    for (std::sregex_iterator it{line.begin(), line.end(), mask_pattern()}, end; it != end; ++it) {
        const auto site = site_of(*it);
        if (!site)
            continue;
        const auto [layout, chosen] = layout_for(from_log, t, *site);
        out.append(line, copied, site->end - copied);
        copied = site->end;
        if (layout != nullptr)
            out += annotation(*layout, *site, chosen);
    }
    out.append(line, copied);
    return out;
}

} // namespace

int annotate_log(std::FILE *in, const target &fallback) {
    const log_text log = read_log(in);
    const std::vector<mention> mentions = find_mentions(log, fallback.config);
    for (std::size_t i = 0; i < log.lines.size(); ++i) {
        const bool last = i + 1 == log.lines.size();
        fmt::print("{}{}", annotate_line(log.lines[i], nearest(mentions, i), fallback),
                   last && !log.final_newline ? "" : "\n");
    }
    return 0;
}

} // namespace decode
