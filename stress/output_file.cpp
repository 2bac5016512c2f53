// SPDX-License-Identifier: MIT
#include "output_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace gfplab::stress {

int take_stdout() {
    static const int saved = [] {
        std::fflush(stdout);
        const int fd = dup(STDOUT_FILENO);
        if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            throw output_error(std::string("cannot redirect standard output: ") +
                               std::strerror(errno));
        return fd;
    }();
    return saved;
}

output_file::output_file(std::string path) : path_(std::move(path)) {
    if (path_ == "-") {
        take_stdout();
        return;
    }
    file_ = std::make_unique<std::ofstream>(path_, std::ios::binary | std::ios::trunc);
    if (!*file_)
        throw output_error("cannot write " + path_ + ": " + std::strerror(errno));
}

void output_file::close() {
    if (file_) {
        file_->close();
        if (!*file_)
            throw output_error("cannot write " + path_);
        return;
    }
    const std::string text = buf_.str();
    const int fd = take_stdout();
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw output_error(std::string("cannot write standard output: ") +
                               std::strerror(errno));
        done += std::size_t(n);
    }
}

stream_output::stream_output(std::string path) : path_(std::move(path)) {
    if (path_ == "-") {
        fd_ = take_stdout();
        return;
    }
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0)
        throw output_error("cannot write " + path_ + ": " + std::strerror(errno));
    owned_ = true;
}

stream_output::~stream_output() {
    if (owned_ && fd_ >= 0)
        ::close(fd_);
}

void stream_output::close(int write_errno) {
    const std::string name = path_ == "-" ? std::string("standard output") : path_;
    int err = write_errno;
    if (owned_) {
        if (::close(fd_) != 0 && !err)
            err = errno;
        owned_ = false;
        fd_ = -1;
    }
    if (err)
        throw output_error("cannot write " + name + ": " + std::strerror(err));
}

} // namespace gfplab::stress
