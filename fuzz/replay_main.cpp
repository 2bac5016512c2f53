// SPDX-License-Identifier: MIT
//
// Runs a libFuzzer target on given files (or every file in given directories) without
// libFuzzer, so that a crash reproduces with gcc and the checked-in corpora replay as tests.
#include "fuzz_target.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

int run_file(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
        return 1;
    }
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    int failures = 0, inputs = 0;
    for (int i = 1; i < argc; i++) {
        std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (const auto &e : std::filesystem::recursive_directory_iterator(p))
                if (e.is_regular_file()) {
                    failures += run_file(e.path());
                    inputs++;
                }
        } else {
            failures += run_file(p);
            inputs++;
        }
    }
    std::printf("replayed %d inputs\n", inputs);
    return failures ? 1 : 0;
}
