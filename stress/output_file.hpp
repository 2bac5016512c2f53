// SPDX-License-Identifier: MIT
//
// stress/output_file.hpp - a report named on the command line (--json, --trace-events,
// --plot, --trace): a file, or "-" for standard output. Created before the campaign starts, so that
// a path that cannot be written stops the run at once, not after an hour of stress; a write that
// fails at the end is an I/O error too (gfplab-stress exits 3 for both).
#pragma once

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gfplab::stress {

struct output_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class output_file {
  public:
    // "-": standard output as it was when the first "-" output was made (the program's
    // human output then goes to standard error: see take_stdout()).
    explicit output_file(std::string path);
    output_file(const output_file &) = delete;
    output_file &operator=(const output_file &) = delete;

    std::ostream &stream() noexcept { return file_ ? static_cast<std::ostream &>(*file_) : buf_; }
    // Flushes and checks: throws output_error naming the path when anything failed.
    void close();
    const std::string &path() const noexcept { return path_; }
    bool is_stdout() const noexcept { return !file_; }

  private:
    std::string path_;
    std::unique_ptr<std::ofstream> file_;
    std::ostringstream buf_; // "-": written to the saved standard output on close
};

// A report written while the campaign runs (--trace: the tracepoints' lines), too long to
// hold until the end: a file descriptor the writer writes to as it goes. Opened before the
// campaign starts like output_file; "-" is the standard output output_file saves.
class stream_output {
  public:
    explicit stream_output(std::string path);
    ~stream_output();
    stream_output(const stream_output &) = delete;
    stream_output &operator=(const stream_output &) = delete;

    int fd() const noexcept { return fd_; }
    const std::string &path() const noexcept { return path_; }
    // After the writer flushed: write_errno is its first failure (0: none). Throws
    // output_error naming the path when there was one, or when closing the file fails.
    void close(int write_errno);

  private:
    std::string path_;
    int fd_ = -1;
    bool owned_ = false;
};

// Moves standard output aside for "-" outputs and sends what the program prints to standard
// error instead; idempotent. Returns the saved descriptor.
int take_stdout();

} // namespace gfplab::stress
