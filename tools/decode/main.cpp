// SPDX-License-Identifier: MIT
//
// gfplab-decode: print a GFP mask the way a given kernel prints it, explain it, or annotate
// every mask in a kernel log. The command line lives here; the work is in mask.cpp,
// explain.cpp, auto_era.cpp and log.cpp.
#include "decode.hpp"

#include <gfplab/version.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using gfplab::gfp_layout;
using gfplab::kernel_version;

constexpr const char *description = R"txt(Decode Linux GFP masks as a given kernel prints them.

Each MASK is hex (0xcc0, cc0), flag names (GFP_NOFS|__GFP_ZERO) or the kernel's own
"%#x(%pGg)" form (0xcc0(GFP_KERNEL)), read with the layout of the chosen kernel. The first
line printed per mask is exactly what that kernel's printk shows: "%#x(%pGg)" from 4.5 on,
bare hex on 3.x and 4.4 (then a second line gives the tracepoint's names). Bits that the
kernel does not define are printed as it would (hex leftovers) with a warning on stderr.)txt";

constexpr const char *footer = R"txt(
Examples:
  gfplab-decode 0xcc0                        0xcc0(GFP_KERNEL)
  gfplab-decode 'GFP_NOFS|__GFP_ZERO'        0xd40(GFP_NOFS|__GFP_ZERO)
  gfplab-decode --kernel 4.19 0x6000c0       0x6000c0(GFP_KERNEL)
  gfplab-decode --kernel 3.10 0xd0           0xd0, then "  tracepoint: GFP_KERNEL"
  gfplab-decode --kernel auto 0x6000c0       also prints "  kernel: auto -> 4.18-5.0 (4.19)"
  gfplab-decode --config LOCKDEP 0x2000cc0   6.12 with lockdep: GFP_KERNEL plus hex 0x2000000
  gfplab-decode --explain 0x140cca           one line per flag, then zone and migratetype
  dmesg | gfplab-decode --log                echo the log, each mask annotated in place
  gfplab-decode --list-eras

--log reads a kernel log on stdin and copies it to stdout (without MASK arguments, a
piped standard input is read as a log too), inserting after every mask
(mode:, gfp_mask=, gfp_mask, gfp=, gfp:, page_owner's "mask") an annotation such as
" [6.12: GFP_KERNEL; layout: 6.12.0-1-amd64 named on line 3]", noting where the log's
own names disagree with ours (and which --config would explain it). --explain applies to
MASK arguments only. The kernel version comes from the log ("Linux version ...",
"CPU: ... Not tainted 6.1.0-18-amd64 #1"): each mask uses the nearest mention. Without
one, --kernel is used if given, else auto per mask. After "layout:" each annotation says
which of the three it was: the release and the line that named it, "--kernel X", or auto
with its reasons (auto prefers the era whose %pGg leaves no bit unnamed, then the one
printing the fewest names, then the newest era; within the era a long-term release, then
the newest; the annotation names the runner-up era and the rule that beat it).
With --json, --log prints one JSON document instead of the log: every mask with its line,
column, value, the log's names, ours, and layout_source (log, option, auto) with the
reason, the mentioning line or the auto scores.

Exit status: 0 on success (also when bits were unknown), 2 on bad input: an unknown kernel
version, config or flag name, or a mask that cannot be parsed.)txt";

struct options {
    std::string kernel = "6.12";
    std::string config;
    bool explain = false;
    bool log = false;
    bool list_eras = false;
    bool json = false;
    std::vector<std::string> masks;
};

void add_options(CLI::App &app, options &o) {
    app.add_option("--kernel,-k", o.kernel,
                   "kernel whose layout to use: 3.0 ... 6.x, \"v6.1\", \"6.1.0-18-amd64\", or "
                   "auto (the era that names the mask best)")
        ->default_val("6.12");
    app.add_option("--config,-c", o.config,
                   "kernel options that move GFP bits (6.x): comma-separated LOCKDEP, "
                   "KASAN_HW_TAGS, SLAB_OBJ_EXT, no-NAME to turn one off, or none; "
                   "default: SLAB_OBJ_EXT only (the model's)");
    app.add_flag("--explain,-e", o.explain,
                 "one line per flag (name, value, meaning), then the zone and migratetype");
    app.add_flag("--log,-l", o.log, "annotate the GFP masks in a kernel log read on stdin");
    app.add_flag("--list-eras", o.list_eras, "list the layout eras gfplab knows and exit");
    app.add_flag("--json", o.json,
                 "one JSON document instead of text: MASK arguments (value, printk form, names, "
                 "kernel, era, unknown bits, why auto chose it, and with --explain the "
                 "explanation), or with --log every mask of the log and the layout used for "
                 "it and why");
    app.add_option("MASK", o.masks, "masks to decode");
    app.footer(footer);
}

int bad_input(const std::string &message) {
    fmt::print(stderr, "gfplab-decode: {}\n", message);
    return decode::exit_bad_input;
}

// The first and last hex-only releases of an era, as "4.4" or "3.0-4.3", or empty.
std::string hex_only_span(const gfplab::gfp_era &era) {
    std::string first, last;
    decode::for_each_release(era, [&](kernel_version v) {
        const gfp_layout *layout = gfplab::find_gfp_layout(v);
        if (layout == nullptr || layout->print_style() != gfplab::gfp_print_style::hex_only)
            return;
        if (first.empty())
            first = v.str();
        last = v.str();
    });
    return first == last ? first : first + "-" + last;
}

void list_eras() {
    fmt::print("{:<10} {:<14} {:<18} {}\n", "era", "releases", "bits move with", "printk");
    for (const auto &era : gfplab::gfp_eras()) {
        const bool open = era.first == era.last && &era == &gfplab::gfp_eras().back();
        const std::string releases =
            open ? era.first.str() + " on" : era.first.str() + " to " + era.last.str();
        const std::string hex = hex_only_span(era);
        const std::string printk = hex.empty() ? "%#x(%pGg)"
                                   : hex == era.first.str() + "-" + era.last.str()
                                       ? "bare hex"
                                       : fmt::format("bare hex in {}, else %#x(%pGg)", hex);
        fmt::print("{:<10} {:<14} {:<18} {}\n", era.name, releases,
                   era.config_dependent ? "config" : "-", printk);
    }
}

// Resolves --kernel and --config; returns an exit status on bad input.
std::optional<int> make_target(const options &o, decode::target &t) {
    std::string error;
    const auto cfg = gfplab::kconfig::parse(o.config, &error);
    if (!cfg)
        return bad_input(fmt::format("unknown --config '{}': {}", o.config, error));
    t.config = *cfg;
    if (o.kernel == "auto")
        return std::nullopt;
    const auto v = kernel_version::parse(o.kernel);
    t.layout = v ? gfplab::find_gfp_layout(*v, t.config) : nullptr;
    if (t.layout == nullptr)
        return bad_input(fmt::format("unknown kernel version '{}' (gfplab knows the releases "
                                     "3.0-3.19, 4.0-4.20, 5.0-5.19 and 6.0 on, or auto)",
                                     o.kernel));
    // The newest era stays open: a later kernel is decoded with its bits, which nobody has
    // checked against that kernel's headers.
    const auto &newest = gfplab::gfp_eras().back();
    if (*v > newest.first)
        fmt::print(stderr,
                   "gfplab-decode: warning: kernel {} is newer than {}, the newest release whose "
                   "GFP bits gfplab knows; decoding with the {} era's\n",
                   v->str(), newest.first.str(), newest.name);
    return std::nullopt;
}

int run(const options &o, bool kernel_given) {
    if (o.list_eras) {
        list_eras();
        return 0;
    }
    decode::target t;
    if (const auto status = make_target(o, t))
        return *status;
    if (o.log) {
        if (!o.masks.empty())
            return bad_input("--log reads the log on stdin and takes no MASK arguments");
        // A log names its own kernel; --kernel only fills in where it does not.
        if (!kernel_given)
            t.layout = nullptr;
        return decode::annotate_log(stdin, t, o.json);
    }
    if (o.masks.empty()) {
        // `dmesg | gfplab-decode`: without MASK arguments a piped input is a log.
        if (isatty(STDIN_FILENO))
            return bad_input("no MASK given (try --help)");
        const int c = std::getc(stdin);
        if (c == EOF)
            return bad_input("no MASK given and nothing on standard input (try --help)");
        std::ungetc(c, stdin);
        if (!kernel_given)
            t.layout = nullptr;
        return decode::annotate_log(stdin, t, o.json);
    }
    return decode::decode_masks(o.masks, t, o.explain, o.json);
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{description, "gfplab-decode"};
    options o;
    add_options(app, o);
    app.set_version_flag("--version", gfplab::version_string("gfplab-decode"));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        // CLI11 has its own codes; a bad command line is bad input like any other.
        return app.exit(e) == 0 ? 0 : decode::exit_bad_input;
    }
    return run(o, app.count("--kernel") > 0);
}
