// SPDX-License-Identifier: MIT
//
// gfplab-replay: runs operation streams (fuzz/ops/op_stream.hpp: fuzz_ops inputs, crash files,
// the regression corpus) through the same executor as the fuzzer and prints what each op did.
// Exit status: 0 every file ran clean, 1 a file violated a property, 2 bad usage or a file
// that cannot be read.
#include "executor.hpp"

#include <gfplab/version.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::fuzz;

std::optional<std::vector<std::uint8_t>> read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (in.bad())
        return std::nullopt;
    return bytes;
}

// A directory stands for the files under it (a corpus), in name order.
std::vector<std::string> expand(const std::vector<std::string> &args) {
    std::vector<std::string> out;
    for (const auto &a : args) {
        std::error_code ec;
        if (!std::filesystem::is_directory(a, ec)) {
            out.push_back(a);
            continue;
        }
        std::vector<std::string> found;
        for (const auto &e : std::filesystem::recursive_directory_iterator(a, ec))
            if (e.is_regular_file())
                found.push_back(e.path().string());
        std::sort(found.begin(), found.end());
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

nlohmann::json report_json(const violation &v) {
    return {{"invariant", id(v.inv)}, {"what", v.what}, {"message", v.message}};
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"gfplab-replay: runs operation streams (fuzz_ops inputs) through the fuzzer's "
                 "executor and reference model, printing each op and its outcome"};
    std::vector<std::string> files;
    bool quiet = false, json = false;
    app.add_option("FILE", files, "operation-stream files (a directory: every file under it)")
        ->required();
    app.add_flag("-q,--quiet", quiet, "print only violations and the verdict per file");
    app.add_flag("--json", json, "one JSON document on stdout instead of text");
    app.set_version_flag("--version", gfplab::version_string("gfplab-replay"));
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return 2;
    }

    int status = 0;
    nlohmann::json doc = nlohmann::json::array();
    for (const auto &path : expand(files)) {
        auto bytes = read_file(path);
        if (!bytes) {
            fmt::print(stderr, "gfplab-replay: cannot read {}\n", path);
            status = 2;
            continue;
        }
        nlohmann::json ops = nlohmann::json::array();
        std::size_t nr_ops = 0;
        if (!json && !quiet)
            fmt::print("== {}\n", path);
        auto observe = [&](const op_result &r) {
            nr_ops++;
            if (json) {
                nlohmann::json reports = nlohmann::json::array();
                for (const auto &v : r.reports)
                    reports.push_back(report_json(v));
                ops.push_back({{"index", r.index},
                               {"op", describe(r.o)},
                               {"outcome", r.outcome},
                               {"reports", reports}});
            } else if (!quiet) {
                fmt::print("op {}: {}{}\n", r.index, describe(r.o),
                           r.outcome.empty() ? "" : " -> " + r.outcome);
                for (const auto &v : r.reports)
                    fmt::print("  planted report: {}\n", format_violation(v));
            }
        };
        const auto f = execute_ops(bytes->data(), bytes->size(), observe);
        if (f && status == 0)
            status = 1;
        if (json) {
            nlohmann::json entry = {{"file", path}, {"ops", nr_ops}, {"ok", !f}};
            if (!quiet)
                entry["trace"] = ops;
            if (f)
                entry["violation"] = {{"invariant", f->invariant},
                                      {"at_end", f->at_end},
                                      {"index", f->index},
                                      {"op", f->op},
                                      {"what", f->what}};
            doc.push_back(entry);
        } else if (f) {
            fmt::print("{}: VIOLATION {}\n", path, format_failure(*f));
        } else {
            fmt::print("{}: ok, {} ops\n", path, nr_ops);
        }
    }
    if (json) {
        // 2: the files moved under "files", beside the versions.
        const nlohmann::json out{{"program", "gfplab-replay"},
                                 {"format_version", 2},
                                 {"gfplab_version", gfplab::version()},
                                 {"git_revision", gfplab::git_revision()},
                                 {"files", doc}};
        fmt::print("{}\n", out.dump(2));
    }
    return status;
}
