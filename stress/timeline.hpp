// SPDX-License-Identifier: MIT
//
// stress/timeline.hpp - the campaign over time: a CSV the status sampler appends to a few
// times a second (free pages and the three watermarks per zone, kswapd, reclaim, shrinker
// and OOM counts), and a gnuplot rendering of it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace gfplab::stress {

struct shared_state;

class timeline {
  public:
    // Throws std::runtime_error when the file cannot be created.
    explicit timeline(std::string path);
    ~timeline();
    timeline(const timeline &) = delete;
    timeline &operator=(const timeline &) = delete;

    // One row; the first call writes the header (the zones are known once the System is).
    void sample(shared_state &st, double elapsed);
    void close();
    const std::string &path() const noexcept { return path_; }
    std::uint64_t samples() const noexcept { return rows_; }

  private:
    std::string path_;
    std::FILE *f_ = nullptr;
    std::uint64_t rows_ = 0;
};

// Why --plot OUT cannot work ("" when it can): the extension (.svg or .png), or no gnuplot.
std::string plot_problem(const std::string &out);
// Draws the timeline CSV into out with gnuplot: per zone, free pages against min/low/high
// on a log axis with direct reclaim and OOM kill marks, one legend above all panels.
// Throws std::runtime_error when gnuplot fails.
void plot_timeline(const std::string &csv, const std::string &out, const std::string &title);

} // namespace gfplab::stress
