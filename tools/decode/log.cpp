// SPDX-License-Identifier: MIT
//
// --log: copy a kernel log through, annotating every GFP mask with our decoding for the
// kernel that wrote the log, and saying which layout was used and why. A failure or OOM
// report prints the mask first and the "CPU: ... Not tainted <release>" line after it, so
// the whole log is read before the first line is written and each mask takes the nearest
// version mention, before or after. Finding masks and versions in a line is log_scan.cpp's.
#include "decode.hpp"

#include <gfplab/version.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>

namespace decode {
namespace {

using gfplab::gfp_layout;

struct mention {
    std::size_t line;
    const gfp_layout *layout;
    std::string text;
};

std::vector<std::string> split_lines(std::string_view all) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < all.size()) {
        const std::size_t end = std::min(all.find('\n', start), all.size());
        lines.emplace_back(all.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::vector<mention> find_mentions(const std::vector<std::string> &lines,
                                   const gfplab::kconfig &cfg, std::vector<std::string> &warnings) {
    std::vector<mention> found;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto v = version_in(lines[i]);
        if (!v)
            continue;
        if (const gfp_layout *layout = gfplab::find_gfp_layout(v->version, cfg))
            found.push_back({i, layout, v->text});
        else
            warnings.push_back(fmt::format("line {}: no GFP layout for {}", i + 1, v->text));
    }
    return found;
}

// The mention closest to line; on a tie the later one, since reports name the kernel after
// the mask.
const mention *nearest(const std::vector<mention> &mentions, std::size_t line) {
    const auto next = std::lower_bound(mentions.begin(), mentions.end(), line,
                                       [](const mention &m, std::size_t l) { return m.line < l; });
    if (next == mentions.begin())
        return next == mentions.end() ? nullptr : &*next;
    const auto prev = std::prev(next);
    if (next == mentions.end() || line - prev->line < next->line - line)
        return &*prev;
    return &*next;
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

// Why this layout: the text after "layout: " in the annotation.
std::string why_of(const log_mask &m) {
    switch (m.source) {
    case layout_source::log:
        return m.mention_line == m.line
                   ? fmt::format("{} named on this line", m.mention_text)
                   : fmt::format("{} named on line {}", m.mention_text, m.mention_line + 1);
    case layout_source::option:
        return fmt::format("--kernel {} (the log names no release)", m.layout->version().str());
    case layout_source::automatic:
        break;
    }
    std::string why = m.read_with_log_names ? "read with the log's names; " : "";
    return why + m.reason->summary(*m.layout);
}

void fill_annotation(log_mask &m) {
    const gfp_layout &layout = *m.layout;
    const std::string ours = layout.format(m.site.mask);
    const std::string v = layout.version().str();
    std::string note =
        fmt::format(" [{}: {}", m.source == layout_source::automatic ? "auto " + v : v,
                    ours.empty() ? "no flags" : ours);
    if (const gfp_t unknown = unknown_bits(layout, m.site.mask); unknown != 0)
        note += fmt::format("; {:#x} not a GFP bit there", unknown);
    if (m.site.log_names && *m.site.log_names != ours) {
        note += fmt::format("; differs from the log's ({})", *m.site.log_names);
        m.config_matching = config_matching(layout, m.site.mask, *m.site.log_names);
        if (m.config_matching)
            note += fmt::format(", which config {} prints", m.config_matching->str());
    }
    m.why = why_of(m);
    m.annotation = note + "; layout: " + m.why + "]";
}

// The layout for one mask: the log's kernel, else --kernel, else the era that explains it
// (agreeing with the log's own names when it printed some).
void choose_layout(log_mask &m, const mention *from_log, const target &t) {
    if (from_log != nullptr) {
        m.layout = from_log->layout;
        m.source = layout_source::log;
        m.mention_line = from_log->line;
        m.mention_text = from_log->text;
        return;
    }
    if (t.layout != nullptr) {
        m.layout = t.layout;
        m.source = layout_source::option;
        return;
    }
    m.source = layout_source::automatic;
    std::optional<auto_choice> choice;
    if (m.site.log_names) {
        choice = pick_layout(m.site.as_printed, t.config);
        m.read_with_log_names = choice.has_value();
    }
    if (!choice)
        choice = pick_layout_for(m.site.mask, t.config);
    if (choice) {
        m.layout = choice->layout;
        m.reason = choice->reason;
    }
}

const char *source_name(layout_source s) {
    switch (s) {
    case layout_source::log:
        return "log";
    case layout_source::option:
        return "option";
    case layout_source::automatic:
        break;
    }
    return "auto";
}

nlohmann::json mask_json(const log_mask &m) {
    nlohmann::json j{{"line", m.line + 1},
                     {"column", m.site.begin + 1},
                     {"value", fmt::format("{:#x}", m.site.mask)},
                     {"log_names", m.site.log_names ? nlohmann::json(*m.site.log_names)
                                                    : nlohmann::json(nullptr)},
                     {"layout_source", source_name(m.source)}};
    if (m.layout == nullptr)
        return j;
    const std::string ours = m.layout->format(m.site.mask);
    j["kernel"] = kernel_label(*m.layout);
    j["era"] = era_label(*m.layout);
    j["names"] = ours;
    j["unknown_bits"] = fmt::format("{:#x}", unknown_bits(*m.layout, m.site.mask));
    j["differs_from_log"] = m.site.log_names.has_value() && *m.site.log_names != ours;
    j["config_matching"] =
        m.config_matching ? nlohmann::json(m.config_matching->str()) : nlohmann::json(nullptr);
    j["reason"] = m.why;
    if (m.source == layout_source::log)
        j["log_mention"] = {{"line", m.mention_line + 1}, {"text", m.mention_text}};
    if (m.reason)
        j["auto"] = {{"every_bit_named", m.reason->every_bit_named},
                     {"names", m.reason->names},
                     {"lts", m.reason->lts},
                     {"read_with_log_names", m.read_with_log_names},
                     {"runner_up_era", m.reason->runner_up_era.empty()
                                           ? nlohmann::json(nullptr)
                                           : nlohmann::json(m.reason->runner_up_era)},
                     {"runner_up_every_bit_named", m.reason->runner_up_every_bit_named},
                     {"runner_up_names", m.reason->runner_up_names},
                     {"decided_by", m.reason->decided_by}};
    return j;
}

} // namespace

annotated_log annotate(std::string_view log, const target &fallback) {
    annotated_log out;
    const std::vector<std::string> lines = split_lines(log);
    const std::vector<mention> mentions = find_mentions(lines, fallback.config, out.warnings);
    // Echo the input byte for byte, a missing last newline included.
    const bool final_newline = log.empty() || log.back() == '\n';
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string &line = lines[i];
        std::size_t copied = 0;
        for (mask_site &site : find_mask_sites(line)) {
            log_mask m;
            m.line = i;
            m.site = std::move(site);
            choose_layout(m, nearest(mentions, i), fallback);
            out.text.append(line, copied, m.site.end - copied);
            copied = m.site.end;
            if (m.layout != nullptr) {
                fill_annotation(m);
                out.text += m.annotation;
            }
            out.masks.push_back(std::move(m));
        }
        out.text.append(line, copied);
        if (i + 1 < lines.size() || final_newline)
            out.text += '\n';
    }
    return out;
}

int annotate_log(std::FILE *in, const target &fallback, bool json) {
    std::string all;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;)
        all.append(buf, n);
    const annotated_log a = annotate(all, fallback);
    for (const auto &w : a.warnings)
        fmt::print(stderr, "gfplab-decode: warning: {}\n", w);
    if (!json) {
        fmt::print("{}", a.text);
        return 0;
    }
    nlohmann::json masks = nlohmann::json::array();
    for (const auto &m : a.masks)
        masks.push_back(mask_json(m));
    fmt::print("{}\n", nlohmann::json{{"program", "gfplab-decode"},
                                      {"format_version", 1},
                                      {"gfplab_version", gfplab::version()},
                                      {"git_revision", gfplab::git_revision()},
                                      {"mode", "log"},
                                      {"masks", masks},
                                      {"warnings", a.warnings}}
                           .dump(2));
    return 0;
}

} // namespace decode
