// SPDX-License-Identifier: MIT
//
// layout.cpp - kernel versions, kconfig, and the registry that builds a gfp_layout from
// the era data (eras.cpp) for one version and configuration.

#include "text.hpp"

#include "era_data.hpp"

#include <gfplab/gfp_layout.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace gfplab {

// ---------------------------------------------------------------------------------------
// kernel_version

namespace {

bool parse_number(std::string_view &text, int &out) {
    std::size_t n = 0;
    long value = 0;
    while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n])) != 0) {
        value = value * 10 + (text[n] - '0');
        if (value > 100000)
            return false;
        ++n;
    }
    if (n == 0)
        return false;
    out = static_cast<int>(value);
    text.remove_prefix(n);
    return true;
}

} // namespace

std::optional<kernel_version> kernel_version::parse(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0)
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0)
        text.remove_suffix(1);
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V'))
        text.remove_prefix(1);
    kernel_version v;
    if (!parse_number(text, v.major) || text.empty() || text.front() != '.')
        return std::nullopt;
    text.remove_prefix(1);
    if (!parse_number(text, v.minor))
        return std::nullopt;
    // An optional sublevel, then what distributions and local builds append
    // ("-18-amd64", "+", "-rc3", "_1", "~bpo").
    if (!text.empty() && text.front() == '.') {
        text.remove_prefix(1);
        int sublevel = 0;
        if (!parse_number(text, sublevel))
            return std::nullopt;
    }
    if (!text.empty() && std::string_view("-+_~").find(text.front()) == std::string_view::npos)
        return std::nullopt;
    return v;
}

bool kernel_version::released() const noexcept {
    switch (major) {
    case 3:
        return minor >= 0 && minor <= 19;
    case 4:
        return minor >= 0 && minor <= 20;
    case 5:
        return minor >= 0 && minor <= 19;
    default:
        // 6.0 and everything after it: gfplab cannot know which future releases exist.
        return major >= 6 && minor >= 0;
    }
}

std::string kernel_version::str() const {
    return std::to_string(major) + "." + std::to_string(minor);
}

// ---------------------------------------------------------------------------------------
// kconfig

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::optional<kconfig> kconfig::parse(std::string_view text, std::string *error) {
    kconfig cfg;
    text = trim(text);
    if (text.empty())
        return cfg;
    if (upper(text) == "NONE")
        return kconfig{false, false, false};
    while (!text.empty()) {
        std::size_t end = text.find_first_of(", ");
        std::string_view item = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (item.empty())
            continue;
        std::string name = upper(item);
        bool on = true;
        if (name.starts_with("NO-") || name.starts_with("NO_")) {
            on = false;
            name.erase(0, 3);
        } else if (name.starts_with("!")) {
            on = false;
            name.erase(0, 1);
        }
        if (name.starts_with("CONFIG_"))
            name.erase(0, 7);
        if (name == "KASAN_HW_TAGS") {
            cfg.kasan_hw_tags = on;
        } else if (name == "LOCKDEP") {
            cfg.lockdep = on;
        } else if (name == "SLAB_OBJ_EXT") {
            cfg.slab_obj_ext = on;
        } else {
            if (error != nullptr)
                *error = "unknown kernel option '" + std::string(item) +
                         "' (known: KASAN_HW_TAGS, LOCKDEP, SLAB_OBJ_EXT, none)";
            return std::nullopt;
        }
    }
    return cfg;
}

std::string kconfig::str() const {
    std::string out;
    auto add = [&out](std::string_view name) {
        if (!out.empty())
            out += ',';
        out += name;
    };
    if (kasan_hw_tags)
        add("KASAN_HW_TAGS");
    if (lockdep)
        add("LOCKDEP");
    if (slab_obj_ext)
        add("SLAB_OBJ_EXT");
    if (out.empty())
        return "none";
    // parse() starts from the defaults (SLAB_OBJ_EXT on): say so when it is off, so that
    // parse(str()) gives this configuration back.
    if (!slab_obj_ext)
        add("no-SLAB_OBJ_EXT");
    return out;
}

// ---------------------------------------------------------------------------------------
// gfp_layout

gfp_layout::gfp_layout(build_tag, std::string_view era, kernel_version v, kconfig cfg,
                       gfp_print_style s, std::vector<gfp_name> flags,
                       std::vector<gfp_name> composites, std::vector<gfp_name> print_table,
                       gfp_t bits_mask, std::vector<gfp_name> other_names,
                       std::string_view zero_print)
    : era_(era), version_(v), config_(cfg), style_(s), composites_(std::move(composites)),
      print_table_(std::move(print_table)), other_names_(std::move(other_names)),
      zero_print_(zero_print), bits_mask_(bits_mask) {
    for (const gfp_name &f : flags) {
        if (f.value == 0) {
            other_names_.push_back(f);
        } else {
            flags_.push_back(f);
            known_bits_ |= f.value;
        }
    }
    std::stable_sort(flags_.begin(), flags_.end(),
                     [](const gfp_name &a, const gfp_name &b) { return a.value < b.value; });
}

std::optional<gfp_t> gfp_layout::value_of(std::string_view name) const {
    for (const auto *list : {&flags_, &composites_, &other_names_})
        for (const gfp_name &n : *list)
            if (n.name == name)
                return n.value;
    if (name == "__GFP_BITS_MASK")
        return bits_mask_;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Building a layout from the era data

namespace {

using detail::era_def;
using detail::gfp_option;

// Evaluates a mask expression of the era data: names, hex numbers, ~ (tightest), &, |,
// parentheses - the subset of C that the kernel's gfp headers use for masks.
class mask_expr {
  public:
    mask_expr(std::string_view text, const std::map<std::string_view, gfp_t> &scope)
        : text_(text), scope_(scope) {}

    std::optional<gfp_t> eval() {
        auto v = parse_or();
        skip_space();
        if (!v || pos_ != text_.size())
            return std::nullopt;
        return v;
    }

  private:
    void skip_space() {
        while (pos_ < text_.size() && text_[pos_] == ' ')
            ++pos_;
    }
    bool accept(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    std::optional<gfp_t> parse_or() {
        auto v = parse_and();
        while (v && accept('|')) {
            auto r = parse_and();
            if (!r)
                return std::nullopt;
            *v |= *r;
        }
        return v;
    }
    std::optional<gfp_t> parse_and() {
        auto v = parse_unary();
        while (v && accept('&')) {
            auto r = parse_unary();
            if (!r)
                return std::nullopt;
            *v &= *r;
        }
        return v;
    }
    std::optional<gfp_t> parse_unary() {
        if (accept('~')) {
            auto v = parse_unary();
            return v ? std::optional<gfp_t>(~*v) : std::nullopt;
        }
        if (accept('(')) {
            auto v = parse_or();
            if (!v || !accept(')'))
                return std::nullopt;
            return v;
        }
        skip_space();
        std::size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_'))
            ++pos_;
        std::string_view word = text_.substr(start, pos_ - start);
        if (word.empty())
            return std::nullopt;
        if (word.starts_with("0x"))
            return static_cast<gfp_t>(std::stoul(std::string(word.substr(2)), nullptr, 16));
        auto it = scope_.find(word);
        if (it == scope_.end())
            return std::nullopt; // a name this kernel does not define
        return it->second;
    }

    std::string_view text_;
    const std::map<std::string_view, gfp_t> &scope_;
    std::size_t pos_ = 0;
};

bool option_on(gfp_option o, const kconfig &cfg) {
    switch (o) {
    case gfp_option::always:
        return true;
    case gfp_option::kasan_hw_tags:
        return cfg.kasan_hw_tags;
    case gfp_option::lockdep:
        return cfg.lockdep;
    case gfp_option::slab_obj_ext:
        return cfg.slab_obj_ext;
    }
    return false;
}

const era_def *era_of(kernel_version v) {
    const auto eras = detail::gfp_era_data();
    for (const era_def &e : eras)
        if (e.summary.first <= v && (v <= e.summary.last || &e == &eras.back()))
            return &e;
    return nullptr;
}

std::unique_ptr<gfp_layout> build_layout(const era_def &era, kernel_version v, const kconfig &cfg) {
    std::map<std::string_view, gfp_t> scope;
    std::vector<gfp_name> flags;
    int next_bit = 0; // enum eras: ___GFP_LAST_BIT so far
    for (const auto &f : era.flags) {
        if (!f.versions.contains(v))
            continue;
        const bool on = option_on(f.option, cfg);
        gfp_t value = 0;
        if (era.enumerated) {
            // An enumerator exists only when its #ifdef is on; holes keep their bit.
            if (f.name.empty() || on)
                value = gfp_t{1} << next_bit++;
            if (f.name.empty())
                continue;
        } else {
            value = on ? f.value : 0;
        }
        flags.push_back({f.name, value});
        scope[f.name] = value;
    }

    int shift = next_bit;
    if (!era.enumerated) {
        const auto it = std::find_if(era.shifts.begin(), era.shifts.end(),
                                     [v](const auto &s) { return s.versions.contains(v); });
        if (it == era.shifts.end())
            throw std::logic_error("gfplab: no __GFP_BITS_SHIFT for " + v.str());
        shift = it->shift + (it->plus_lockdep && cfg.lockdep ? 1 : 0);
    }
    const gfp_t bits_mask = shift >= 32 ? ~gfp_t{0} : (gfp_t{1} << shift) - 1;

    auto evaluate = [&](std::string_view name, std::string_view expr) {
        auto value = mask_expr(expr, scope).eval();
        if (!value)
            throw std::logic_error("gfplab: era " + std::string(era.summary.name) + ", " + v.str() +
                                   ": cannot evaluate " + std::string(name));
        return *value;
    };

    std::vector<gfp_name> composites;
    for (const auto &c : era.composites) {
        if (!c.versions.contains(v))
            continue;
        const gfp_t value = evaluate(c.name, c.expr);
        composites.push_back({c.name, value});
        scope[c.name] = value;
    }

    scope["__GFP_BITS_MASK"] = bits_mask;
    std::vector<gfp_name> helpers;
    for (const auto &h : era.helpers)
        if (h.versions.contains(v))
            helpers.push_back({h.name, evaluate(h.name, h.expr)});
    scope.erase("__GFP_BITS_MASK");

    std::vector<gfp_name> print_table;
    for (const auto &p : era.print_table) {
        if (!p.versions.contains(v))
            continue;
        auto value = mask_expr(p.expr.empty() ? p.name : p.expr, scope).eval();
        // Names this kernel lacks, and config-off flags (0 would match every mask).
        if (!value || *value == 0)
            continue;
        print_table.push_back({p.name, *value});
    }

    const auto style = v >= era.pgg_since ? gfp_print_style::pGg : gfp_print_style::hex_only;
    return std::make_unique<gfp_layout>(gfp_layout::build_tag{}, era.summary.name, v, cfg, style,
                                        std::move(flags), std::move(composites),
                                        std::move(print_table), bits_mask, std::move(helpers),
                                        era.zero_print);
}

} // namespace

std::span<const gfp_era> gfp_eras() noexcept {
    static const std::vector<gfp_era> eras = [] {
        std::vector<gfp_era> out;
        for (const era_def &e : detail::gfp_era_data())
            out.push_back(e.summary);
        return out;
    }();
    return eras;
}

const gfp_layout *find_gfp_layout(kernel_version v, const kconfig &cfg) {
    if (!v.released())
        return nullptr;
    const era_def *era = era_of(v);
    if (era == nullptr)
        return nullptr;
    using key = std::tuple<int, int, bool, bool, bool>;
    // Layouts are never freed, so the pointers handed out stay valid at exit as well.
    static std::mutex lock;
    static auto *cache = new std::map<key, std::unique_ptr<gfp_layout>>();
    const key k{v.major, v.minor, cfg.kasan_hw_tags, cfg.lockdep, cfg.slab_obj_ext};
    std::lock_guard guard(lock);
    auto &slot = (*cache)[k];
    if (!slot)
        slot = build_layout(*era, v, cfg);
    return slot.get();
}

const gfp_layout &model_gfp_layout() {
    // The model kernel of gfplab/linux/gfp_types.h: 6.12 with SLAB_OBJ_EXT only.
    static const gfp_layout *model = find_gfp_layout(
        {6, 12}, kconfig{.kasan_hw_tags = false, .lockdep = false, .slab_obj_ext = true});
    return *model;
}

} // namespace gfplab
